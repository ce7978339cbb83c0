import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ProtocolVersion } from '../bus/events.ts';

/**
 * The official OCPP JSON schemas (1.6 from the OCA's JSON distribution, 2.0.1 from part 3 of the specification), as
 * ocpp-rpc ships them: one schema per message and direction, `urn:<Action>.req` and `urn:<Action>.conf`. Each is
 * compiled on first use and kept, so a frame costs one map lookup and one compiled validator.
 */
const require = createRequire(import.meta.url);
const files: Record<ProtocolVersion, string> = { 'ocpp1.6': 'ocpp-rpc/lib/schemas/ocpp1_6.json', 'ocpp2.0.1': 'ocpp-rpc/lib/schemas/ocpp2_0_1.json' };

export type SchemaErrors = readonly ErrorObject[];
export type Direction = 'req' | 'conf';
/** null: valid; an array: why not; 'unknown': the version has no such message. */
export type Verdict = null | SchemaErrors | 'unknown';

export interface MessageSchemas {
  readonly protocol: ProtocolVersion;
  has(action: string): boolean;
  check(action: string, direction: Direction, payload: unknown): Verdict;
}

// ajv-formats is CommonJS with a default export; under Node's ESM interop that default sits one level down.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function load(protocol: ProtocolVersion): MessageSchemas {
  const schemas = require(files[protocol]) as { $id: string }[];
  const ajv = new Ajv({ strictSchema: false, allErrors: false });
  addFormats(ajv);
  // The schemas say multipleOf 0.1 for limits in A or kW; 1.7 / 0.1 is not an integer in floating point, so exact
  // division would reject values every charger sends. A tolerance of 1e-6 of a step accepts them.
  ajv.removeKeyword('multipleOf');
  ajv.addKeyword({
    keyword: 'multipleOf', type: 'number', errors: false, metaSchema: { type: 'number' },
    compile: (step: number) => (data: number) => Math.abs(Math.round(data / step) - data / step) < 1e-6,
  });
  const byId = new Map<string, { $id: string }>();
  for (const schema of schemas) byId.set(schema.$id, schema);
  // Keyed by action, one map per direction: no string is built per frame.
  const compiled: Record<Direction, Map<string, ValidateFunction>> = { req: new Map(), conf: new Map() };
  const validator = (action: string, direction: Direction): ValidateFunction | null => {
    let fn = compiled[direction].get(action);
    if (!fn) {
      const schema = byId.get(`urn:${action}.${direction}`);
      if (!schema) return null;
      // Compiled without its $id: we look schemas up ourselves, and Ajv's URI resolver rejects "urn:Action.req"
      // (a URN without a namespace id). The schemas have no references across files.
      const { $id: _id, ...body } = schema;
      fn = ajv.compile(body);
      compiled[direction].set(action, fn);
    }
    return fn;
  };
  return {
    protocol,
    has: (action) => byId.has(`urn:${action}.req`),
    check(action, direction, payload) {
      const fn = validator(action, direction);
      if (!fn) return 'unknown';
      return fn(payload) ? null : (fn.errors ?? []);
    },
  };
}

const loaded = new Map<ProtocolVersion, MessageSchemas>();

/** The schemas of one OCPP version, loaded once per process. */
export function messageSchemas(protocol: ProtocolVersion): MessageSchemas {
  let s = loaded.get(protocol);
  if (!s) {
    s = load(protocol);
    loaded.set(protocol, s);
  }
  return s;
}
