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
  check(action: string, direction: Direction, payload: unknown): Verdict;
}

// ajv-formats is CommonJS with a default export; under Node's ESM interop that default sits one level down.
export const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

function load(protocol: ProtocolVersion): MessageSchemas {
  const schemas = require(files[protocol]) as { $id: string }[];
  const ajv = new Ajv({ strictSchema: false, allErrors: false });
  addFormats(ajv);
  // Every station message carries timestamps: ajv-formats' check splits the text and runs two regular expressions
  // on it (a sixth of all validation time in bench:ocpp); this one reads it in place, with the same verdicts.
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
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
    check(action, direction, payload) {
      const fn = validator(action, direction);
      if (!fn) return 'unknown';
      return fn(payload) ? null : (fn.errors ?? []);
    },
  };
}

const daysInMonth = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at `i`, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * An RFC 3339 date-time with a time zone, as ajv-formats' full mode has it: real calendar days (leap years), hours
 * to 23, minutes to 59, second 60 only where it is 23:59:60 UTC, 'T', 't' or a space between date and time, an
 * optional fraction, and 'Z', 'z', ±hh, ±hhmm or ±hh:mm. Read character by character, without allocating.
 */
export function isDateTime(s: string): boolean {
  if (s.length < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const century = twoDigits(s, 0);
  const yy = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (century < 0 || yy < 0 || month < 1 || month > 12 || day < 1) return false;
  const year = century * 100 + yy;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : daysInMonth[month]!)) return false;
  const separator = s.charCodeAt(10);
  if (separator !== 84 && separator !== 116 && separator !== 32) return false;
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (hour < 0 || minute < 0 || second < 0) return false;
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    const from = ++i;
    for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48);
    if (i === from) return false;
  }
  const zone = s.charCodeAt(i);
  let sign = 1;
  let zoneHours = 0;
  let zoneMinutes = 0;
  if (zone === 90 || zone === 122) {
    if (i + 1 !== s.length) return false;
  } else if (zone === 43 || zone === 45) {
    sign = zone === 45 ? -1 : 1;
    zoneHours = twoDigits(s, i + 1);
    if (zoneHours < 0) return false;
    let j = i + 3;
    const colon = s.charCodeAt(j) === 58;
    if (colon) j++;
    if (j < s.length) {
      zoneMinutes = twoDigits(s, j);
      if (zoneMinutes < 0) return false;
      j += 2;
    } else if (colon) {
      return false;
    }
    if (j !== s.length) return false;
  } else {
    return false;
  }
  if (zoneHours > 23 || zoneMinutes > 59) return false;
  if (hour <= 23 && minute <= 59 && second < 60) return true;
  // A leap second: 23:59:60 in UTC, wherever the offset puts it locally.
  const utcMinute = minute - zoneMinutes * sign;
  const utcHour = hour - zoneHours * sign - (utcMinute < 0 ? 1 : 0);
  return (utcHour === 23 || utcHour === -1) && (utcMinute === 59 || utcMinute === -1) && second < 61;
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
