import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Provider } from '../provider.ts';
import { bool, DecodeError, isRecord, num, text, toIso, valueFields, type ReadingDraft, type ValueField } from '../reading.ts';
import { defaultUnit, sourceUnits, toDomainUnit, unitProblem, type SourceUnit } from '../units.ts';

/**
 * Any other provider that can POST JSON: a declarative mapping says where each value sits (dotted paths, array
 * indices as numbers: "data.0.soc") and in which unit, so a new vendor needs configuration, not code. Requests must
 * be signed: header = hex HMAC-SHA256(secret, body), or of "<timestamp>.<body>" when a timestamp header is configured
 * (then requests older than the tolerance are refused as replays).
 */
export interface FieldMapping {
  readonly path: string;
  readonly unit?: SourceUnit;
  /** For booleans: true when the value equals this (e.g. "CHARGING"), false otherwise. */
  readonly equals?: string | number;
}

export interface WebhookMapping {
  /** Path to a list of records; absent = the body is one record. */
  readonly records?: string;
  readonly vehicleId?: string;
  readonly vin?: string;
  readonly measuredAt: string;
  readonly fields: Readonly<Partial<Record<ValueField, string | FieldMapping>>>;
}

export interface WebhookSettings {
  readonly mapping: WebhookMapping;
  readonly signatureHeader?: string;
  readonly timestampHeader?: string;
  readonly deliveryIdHeader?: string;
  readonly toleranceS?: number;
}

export interface WebhookCredentials {
  readonly signingSecret: string;
}

/** Problems with a mapping, checked when it is saved so a typo is refused instead of quarantining every payload. */
export function mappingProblems(mapping: unknown): string[] {
  if (!isRecord(mapping)) return ['mapping must be an object'];
  const problems: string[] = [];
  const isPath = (p: unknown) => typeof p === 'string' && /^[^.\s]+(\.[^.\s]+)*$/.test(p);
  for (const key of ['records', 'vehicleId', 'vin'] as const) if (mapping[key] !== undefined && !isPath(mapping[key])) problems.push(`${key} must be a dotted path`);
  if (!isPath(mapping.measuredAt)) problems.push('measuredAt must be a dotted path');
  if (mapping.vehicleId === undefined && mapping.vin === undefined) problems.push('map vehicleId or vin (or both)');
  if (!isRecord(mapping.fields) || Object.keys(mapping.fields).length === 0) return [...problems, 'fields must map at least one value'];
  for (const [field, spec] of Object.entries(mapping.fields)) {
    if (!(valueFields as readonly string[]).includes(field)) { problems.push(`fields.${field} is not a reading field (${valueFields.join(', ')})`); continue; }
    const f = typeof spec === 'string' ? { path: spec } : spec;
    if (!isRecord(f) || !isPath(f.path)) { problems.push(`fields.${field} needs a dotted path`); continue; }
    if (f.unit !== undefined) {
      if (!(sourceUnits as unknown[]).includes(f.unit)) problems.push(`fields.${field}.unit must be one of ${sourceUnits.join(', ')}`);
      else { const p = unitProblem(field as ValueField, String(f.unit)); if (p) problems.push(`fields.${field}.unit: ${p}`); }
    }
    if (f.equals !== undefined && typeof f.equals !== 'string' && typeof f.equals !== 'number') problems.push(`fields.${field}.equals must be a string or number`);
  }
  return problems;
}

const splitCache = new Map<string, string[]>();

function getPath(value: unknown, path: string): unknown {
  let keys = splitCache.get(path);
  if (!keys) {
    if (splitCache.size > 10_000) splitCache.clear();
    splitCache.set(path, keys = path.split('.'));
  }
  let at = value;
  for (const key of keys) {
    if (Array.isArray(at) && /^\d+$/.test(key)) at = at[Number(key)];
    else if (isRecord(at)) at = at[key];
    else return undefined;
  }
  return at;
}

/** A mapping's fields resolved once per mapping: boolean or numeric, and the source unit to convert from. */
interface CompiledField {
  readonly field: ValueField;
  readonly path: string;
  readonly flag: boolean;
  readonly equals: string | number | undefined;
  readonly unit: SourceUnit | null;
}

const compiled = new WeakMap<WebhookMapping, readonly CompiledField[]>();

function compileFields(mapping: WebhookMapping): readonly CompiledField[] {
  let fields = compiled.get(mapping);
  if (!fields) {
    fields = (Object.entries(mapping.fields) as [ValueField, string | FieldMapping][]).map(([field, spec]) => {
      const f = typeof spec === 'string' ? { path: spec } as FieldMapping : spec;
      const flag = field === 'pluggedIn' || field === 'charging';
      return { field, path: f.path, flag, equals: f.equals, unit: flag ? null : f.unit ?? defaultUnit(field) };
    });
    compiled.set(mapping, fields);
  }
  return fields;
}

export function decodeWithMapping(body: unknown, mapping: WebhookMapping): ReadingDraft[] {
  let records: unknown[];
  if (mapping.records) {
    const list = getPath(body, mapping.records);
    if (!Array.isArray(list)) throw new DecodeError(`${mapping.records} is not a list`);
    records = list;
  } else {
    records = Array.isArray(body) ? body : [body];
  }
  const fields = compileFields(mapping);
  const numbered = records.length > 1 || mapping.records !== undefined;
  const drafts: ReadingDraft[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const where = (p: string) => numbered ? `record ${i}: ${p}` : p;
    if (!isRecord(r)) throw new DecodeError(where('not an object'));
    const providerVehicleId = mapping.vehicleId ? optionalText(getPath(r, mapping.vehicleId), where(mapping.vehicleId)) : null;
    const vin = mapping.vin ? optionalText(getPath(r, mapping.vin), where(mapping.vin)) : null;
    // Every field present from the start, so each draft has one shape.
    const draft: { -readonly [K in keyof ReadingDraft]: ReadingDraft[K] } = {
      socPercent: null, rangeKm: null, odometerKm: null, lat: null, lon: null, speedKmh: null, pluggedIn: null, charging: null, chargeEnergyAddedKwh: null,
      vehicle: { providerVehicleId, vin }, measuredAt: toIso(getPath(r, mapping.measuredAt), where(mapping.measuredAt)),
    };
    for (const f of fields) {
      const raw = getPath(r, f.path);
      if (raw === undefined || raw === null) continue;
      if (f.flag) {
        (draft[f.field] as boolean | null) = f.equals !== undefined ? raw === f.equals : bool(raw, where(f.path));
        continue;
      }
      // A finite number is the common case; anything else goes through the checks that name the path.
      const n = typeof raw === 'number' && Number.isFinite(raw) ? raw : num(raw, where(f.path))!;
      (draft[f.field] as number | null) = f.unit === null ? n : toDomainUnit(n, f.unit);
    }
    drafts.push(draft);
  }
  return drafts;
}

function optionalText(value: unknown, what: string): string | null {
  return value === undefined || value === null ? null : text(value, what);
}

export function createWebhookProvider(id: string, tenantId: string, settings: WebhookSettings, credentials: WebhookCredentials): Provider {
  const problems = mappingProblems(settings.mapping);
  if (problems.length > 0) throw new Error(`provider ${id}: ${problems.join('; ')}`);
  const signatureHeader = (settings.signatureHeader ?? 'x-signature').toLowerCase();
  const timestampHeader = settings.timestampHeader?.toLowerCase();
  const deliveryIdHeader = settings.deliveryIdHeader?.toLowerCase();
  const toleranceMs = (settings.toleranceS ?? 300) * 1000;
  return {
    id, kind: 'webhook', tenantId,
    decoder: { decode: (unit) => decodeWithMapping(unit, settings.mapping) },
    webhook: {
      receive({ headers, rawBody, nowMs }) {
        if (!credentials.signingSecret) return { kind: 'rejected', reason: 'no signing secret configured for this provider' };
        const presented = headers[signatureHeader];
        if (typeof presented !== 'string' || presented === '') return { kind: 'rejected', reason: `missing ${signatureHeader} header` };
        let signed = rawBody;
        if (timestampHeader) {
          const ts = headers[timestampHeader];
          const t = typeof ts === 'string' ? Number(ts) * 1000 : NaN;
          if (!Number.isFinite(t)) return { kind: 'rejected', reason: `missing or unreadable ${timestampHeader} header (epoch seconds)` };
          if (Math.abs(nowMs - t) > toleranceMs) return { kind: 'rejected', reason: `${timestampHeader} is ${Math.round((nowMs - t) / 1000)} s off: outside the ${toleranceMs / 1000} s window` };
          signed = `${ts}.${rawBody}`;
        }
        const expected = Buffer.from(createHmac('sha256', credentials.signingSecret).update(signed).digest('hex'));
        const got = Buffer.from(presented.replace(/^sha256=/, '').trim().toLowerCase());
        if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { kind: 'rejected', reason: `${signatureHeader} does not match the body` };
        let body: unknown;
        try { body = JSON.parse(rawBody); } catch { body = rawBody; }
        const deliveryId = deliveryIdHeader && typeof headers[deliveryIdHeader] === 'string' ? headers[deliveryIdHeader] as string : null;
        return { kind: 'units', units: [body], deliveryId };
      },
    },
  };
}
