import type { ProtocolVersion } from '../bus/events.ts';
import type { SchemaErrors } from './schemas.ts';

/**
 * OCPP-J error codes, named once (2.0.1 spellings) and spelled per version on the wire: 1.6 has FormationViolation and
 * OccurenceConstraintViolation (sic, kept by the 1.6J errata) and no RpcFrameworkError or MessageTypeNotSupported.
 */
export type RpcErrorCode =
  | 'FormatViolation' | 'OccurrenceConstraintViolation' | 'PropertyConstraintViolation' | 'TypeConstraintViolation'
  | 'RpcFrameworkError' | 'MessageTypeNotSupported' | 'NotImplemented' | 'NotSupported' | 'InternalError'
  | 'ProtocolError' | 'SecurityError' | 'GenericError';

const v16Spelling: Partial<Record<RpcErrorCode, string>> = {
  FormatViolation: 'FormationViolation', OccurrenceConstraintViolation: 'OccurenceConstraintViolation',
  RpcFrameworkError: 'FormationViolation', MessageTypeNotSupported: 'NotSupported',
};

/** Every code each version knows, as spelled on its wire. */
const v16Codes = new Set(['FormationViolation', 'OccurenceConstraintViolation', 'PropertyConstraintViolation', 'TypeConstraintViolation',
  'ProtocolError', 'NotImplemented', 'NotSupported', 'InternalError', 'SecurityError', 'GenericError']);
const v201Codes = new Set(['FormatViolation', 'OccurrenceConstraintViolation', 'PropertyConstraintViolation', 'TypeConstraintViolation',
  'RpcFrameworkError', 'MessageTypeNotSupported', 'ProtocolError', 'NotImplemented', 'NotSupported', 'InternalError', 'SecurityError',
  'GenericError']);
/** 1.6 spellings met on a 2.0.1 connection (a station's CALLERROR passed on, say). */
const v201Spelling: Record<string, string> = { FormationViolation: 'FormatViolation', OccurenceConstraintViolation: 'OccurrenceConstraintViolation' };

/**
 * The code as the version spells it on the wire. Total: a code the version does not have (another version's
 * spelling, a station's own code passed on by a handler, a typo) goes out as GenericError, never as itself.
 */
export function spell(code: string, protocol: ProtocolVersion): string {
  if (protocol === 'ocpp1.6') {
    const spelled = Object.hasOwn(v16Spelling, code) ? v16Spelling[code as RpcErrorCode]! : code;
    return v16Codes.has(spelled) ? spelled : 'GenericError';
  }
  const spelled = Object.hasOwn(v201Spelling, code) ? v201Spelling[code]! : code;
  return v201Codes.has(spelled) ? spelled : 'GenericError';
}

/** A CALLERROR, ours or the station's. `code` is as sent: the station's own spelling when it came from the station. */
export class RpcError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: string, description: string, details: Record<string, unknown> = {}) {
    super(description);
    this.name = 'RpcError';
    this.code = code;
    this.details = details;
  }
}

/** The error code a schema violation gets, from the JSON-schema keyword that failed first. */
const byKeyword: Record<string, RpcErrorCode> = {
  required: 'OccurrenceConstraintViolation', minItems: 'OccurrenceConstraintViolation', maxItems: 'OccurrenceConstraintViolation',
  dependencies: 'OccurrenceConstraintViolation', dependentRequired: 'OccurrenceConstraintViolation',
  type: 'TypeConstraintViolation',
  enum: 'PropertyConstraintViolation', const: 'PropertyConstraintViolation', maxLength: 'PropertyConstraintViolation',
  minLength: 'PropertyConstraintViolation', pattern: 'PropertyConstraintViolation', format: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation', minimum: 'PropertyConstraintViolation', exclusiveMaximum: 'PropertyConstraintViolation',
  exclusiveMinimum: 'PropertyConstraintViolation', multipleOf: 'PropertyConstraintViolation',
  additionalProperties: 'FormatViolation',
};

/**
 * A payload that fails its schema, as the CALLERROR it earns. The details shrink to path + message: echoing the
 * station's payload back helps nobody.
 */
export function schemaError(action: string, errors: SchemaErrors): RpcError {
  const code = byKeyword[errors[0]?.keyword ?? ''] ?? 'FormatViolation';
  const described = errors.slice(0, 10).map((e) => ({ path: e.instancePath || '/', message: describe(e) }));
  const text = described.map((e) => `${e.path} ${e.message}`).join('; ');
  return new RpcError(code, `${action}: ${text}`.slice(0, 500), { errors: described });
}

function describe(e: SchemaErrors[number]): string {
  if (e.keyword === 'required') return `missing required property '${String(e.params?.missingProperty)}'`;
  if (e.keyword === 'additionalProperties') return `unknown property '${String(e.params?.additionalProperty)}'`;
  if (e.keyword === 'enum') return `${e.message ?? 'not allowed'}: ${JSON.stringify(e.params?.allowedValues)}`;
  return e.message ?? 'invalid';
}

export const internalError = () => new RpcError('InternalError', 'internal error; the central system logged it');
export const securityError = (message: string) => new RpcError('SecurityError', message);
export const notSupported = (message: string) => new RpcError('NotSupported', message);

/** One station-message handler: gets the validated payload, returns the response payload (or its promise). */
export type CallHandler = (payload: unknown) => unknown;

/**
 * Registers station-message handlers the same way for every version: a station not yet accepted may only boot and
 * heartbeat.
 */
export function handlerInstaller(
  socket: { handle(action: string, handler: CallHandler): void },
  conn: { readonly stationId: string; readonly accepted: boolean },
) {
  const beforeAcceptance = new Set(['BootNotification', 'Heartbeat']);
  return function on<P, R>(action: string, handler: (params: P) => Promise<R> | R): void {
    // The socket answers InternalError (and logs) for anything a handler throws or rejects with that is not an
    // RpcError; handlers need no wrapper of their own, and every station call passes here.
    socket.handle(action, (payload) => {
      if (!conn.accepted && !beforeAcceptance.has(action)) {
        throw securityError(`${action} refused: station ${conn.stationId} is not accepted by the central system (send BootNotification)`);
      }
      return handler(payload as P);
    });
  };
}

/** The empty response payload most station messages get. */
export const empty = (): Record<string, never> => ({});
