import ocppRpc from 'ocpp-rpc';
import type { ProtocolVersion } from '../bus/events.ts';

const { createRPCError } = ocppRpc;

/**
 * The fixes ocpp-rpc needs before a charger sees its frames. Each OCPP version has its own error-code spellings
 * (1.6: FormationViolation, OccurenceConstraintViolation; 2.0.1: FormatViolation, OccurrenceConstraintViolation,
 * RpcFrameworkError), while ocpp-rpc uses one table for both and picks codes by the first JSON-schema keyword in a way
 * that calls a too-long string a format error. We choose the code from the schema keyword ourselves, per version.
 */

type Kind = 'format' | 'occurrence' | 'property' | 'type' | 'framework' | 'messageType';

const byKeyword: Record<string, Kind> = {
  required: 'occurrence', minItems: 'occurrence', maxItems: 'occurrence', dependencies: 'occurrence', dependentRequired: 'occurrence',
  type: 'type',
  enum: 'property', const: 'property', maxLength: 'property', minLength: 'property', pattern: 'property', format: 'property',
  maximum: 'property', minimum: 'property', exclusiveMaximum: 'property', exclusiveMinimum: 'property', multipleOf: 'property',
  additionalProperties: 'format',
};

const spelling: Record<ProtocolVersion, Record<Kind, string>> = {
  'ocpp1.6': {
    format: 'FormationViolation', occurrence: 'OccurenceConstraintViolation', property: 'PropertyConstraintViolation',
    type: 'TypeConstraintViolation', framework: 'FormationViolation', messageType: 'NotSupported',
  },
  'ocpp2.0.1': {
    format: 'FormatViolation', occurrence: 'OccurrenceConstraintViolation', property: 'PropertyConstraintViolation',
    type: 'TypeConstraintViolation', framework: 'RpcFrameworkError', messageType: 'MessageTypeNotSupported',
  },
};

const kindOfCode: Record<string, Kind> = {
  FormatViolation: 'format', FormationViolation: 'format',
  OccurrenceConstraintViolation: 'occurrence', OccurenceConstraintViolation: 'occurrence',
  PropertyConstraintViolation: 'property', TypeConstraintViolation: 'type',
  RpcFrameworkError: 'framework', MessageTypeNotSupported: 'messageType',
};

interface AjvError { keyword?: string; instancePath?: string; message?: string; params?: Record<string, unknown> }

/**
 * Rewrites one outbound CALLERROR frame for `protocol`. Validation details shrink to path + message: echoing the
 * station's whole payload back helps nobody.
 */
export function respellCallError(frame: string, protocol: ProtocolVersion): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return frame;
  }
  if (!Array.isArray(parsed) || parsed[0] !== 4) return frame;
  const [, id, code, description, details] = parsed as [number, string, string, string, { errors?: AjvError[] } | undefined];
  const errors = Array.isArray(details?.errors) ? details.errors : null;
  const keywordKind = errors?.[0]?.keyword ? byKeyword[errors[0].keyword] : undefined;
  const kind = keywordKind ?? (errors ? 'format' : kindOfCode[code]);
  const newCode = kind ? spelling[protocol][kind] : code;
  const newDetails = errors
    ? { errors: errors.slice(0, 10).map((e) => ({ path: e.instancePath || '/', message: describe(e) })) }
    : (details ?? {});
  return JSON.stringify([4, id, newCode, description, newDetails]);
}

function describe(e: AjvError): string {
  if (e.keyword === 'required') return `missing required property '${String(e.params?.missingProperty)}'`;
  if (e.keyword === 'additionalProperties') return `unknown property '${String(e.params?.additionalProperty)}'`;
  if (e.keyword === 'enum') return `${e.message ?? 'not allowed'}: ${JSON.stringify(e.params?.allowedValues)}`;
  return e.message ?? 'invalid';
}

/** Frames whose message id could not be read: there is nobody to answer, so they are logged and dropped. */
export function isUnaddressable(error: Error): boolean {
  return /^(Message must be a JSON structure|Message must be an array|Message type must be a number|Message ID must be a string)/.test(error.message);
}

export const internalError = () => createRPCError('InternalError', 'internal error; the central system logged it');
export const securityError = (message: string) => createRPCError('SecurityError', message);
export const notSupported = (message: string) => createRPCError('NotSupported', message);
export const isRpcError = (err: unknown): boolean => typeof (err as { rpcErrorCode?: unknown })?.rpcErrorCode === 'string';

/**
 * Registers station-message handlers the same way for every version: a station not yet accepted may only boot and
 * heartbeat; our own failures become an InternalError CALLERROR with the details in our log, never in the frame.
 */
export function handlerInstaller(
  client: { handle(method: string, handler: (call: { params: unknown }) => unknown): void },
  conn: { readonly stationId: string; readonly accepted: boolean },
  log: { error(obj: object, msg: string): void },
) {
  const beforeAcceptance = new Set(['BootNotification', 'Heartbeat']);
  return function on<P, R>(action: string, handler: (params: P) => Promise<R> | R): void {
    const fail = (err: unknown): never => {
      if (isRpcError(err)) throw err;
      log.error({ err, action }, 'handling a station message failed');
      throw internalError();
    };
    // Not an async function: every station call passes here, and ocpp-rpc awaits what it returns anyway.
    client.handle(action, ({ params }) => {
      if (!conn.accepted && !beforeAcceptance.has(action)) {
        throw securityError(`${action} refused: station ${conn.stationId} is not accepted by the central system (send BootNotification)`);
      }
      let result: Promise<R> | R;
      try {
        result = handler(params as P);
      } catch (err) {
        return fail(err);
      }
      return result instanceof Promise ? result.catch(fail) : result;
    });
  };
}
