/**
 * The one shape every provider's payload is turned into. Units are the domain's (percent, km, km/h, kWh); instants
 * are ISO-8601 UTC. A provider fills what it knows and leaves the rest null.
 */

import type { VehicleReadingValues } from '../bus/events.ts';

/** How a provider names the vehicle: its own id, the VIN, or both. Matching happens within the provider's tenant. */
export interface VehicleRef {
  readonly providerVehicleId: string | null;
  readonly vin: string | null;
}

/** The values themselves are the domain event's: what a provider says ends up on the bus field for field. */
export type ReadingValues = VehicleReadingValues;

/** What an adapter produces from a payload: values and the vehicle's own timestamp, before matching. */
export interface ReadingDraft extends ReadingValues {
  readonly vehicle: VehicleRef;
  /** ISO-8601 UTC instant the vehicle measured the values. */
  readonly measuredAt: string;
}

/** A reading matched to a vehicle and stamped on arrival. */
export interface NormalisedReading extends ReadingValues {
  readonly tenantId: string;
  readonly vehicleId: string;
  readonly provider: string;
  readonly measuredAt: string;
  readonly receivedAt: string;
}

export const valueFields = [
  'socPercent', 'rangeKm', 'odometerKm', 'lat', 'lon', 'speedKmh', 'pluggedIn', 'charging', 'chargeEnergyAddedKwh',
] as const satisfies readonly (keyof ReadingValues)[];
export type ValueField = typeof valueFields[number];

export const emptyValues: ReadingValues = {
  socPercent: null, rangeKm: null, odometerKm: null, lat: null, lon: null, speedKmh: null, pluggedIn: null, charging: null, chargeEnergyAddedKwh: null,
};

/** A payload the adapter cannot map; the reason is shown in the quarantine. */
export class DecodeError extends Error {}

export const KM_PER_MILE = 1.609344;
export const milesToKm = (miles: number): number => miles * KM_PER_MILE;

/** Range checks that catch unit mistakes (a fraction sent as percent, miles as metres...) before they reach the planner. */
const limits: Partial<Record<ValueField, [number, number]>> = {
  socPercent: [0, 100],
  rangeKm: [0, 3000],
  odometerKm: [0, 10_000_000],
  lat: [-90, 90],
  lon: [-180, 180],
  speedKmh: [0, 400],
  chargeEnergyAddedKwh: [0, 2000],
};

/**
 * Checks a draft: a valid instant not far in the future, at least one value, every number finite and in range.
 * Returns the problems (empty = fine) so the quarantine can say exactly what was wrong.
 */
export function checkDraft(draft: ReadingDraft, nowMs: number, maxFutureSkewMs = 5 * 60_000): string[] {
  const problems: string[] = [];
  if (!draft.vehicle.providerVehicleId && !draft.vehicle.vin) problems.push('no vehicle id or VIN');
  for (const id of [draft.vehicle.providerVehicleId, draft.vehicle.vin]) {
    // eslint-disable-next-line no-control-regex
    if (id !== null && (id.length > 200 || /[\u0000-\u001f]/.test(id))) problems.push(`vehicle id ${JSON.stringify(id.slice(0, 40))} is too long or has control characters`);
  }
  const t = Date.parse(draft.measuredAt);
  if (!Number.isFinite(t)) problems.push(`measuredAt "${draft.measuredAt}" is not an instant`);
  else if (t > nowMs + maxFutureSkewMs) problems.push(`measuredAt ${draft.measuredAt} is in the future`);
  let present = 0;
  for (const field of valueFields) {
    const v = draft[field];
    if (v === null || v === undefined) continue;
    present++;
    if (typeof v === 'boolean') continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) { problems.push(`${field} is not a number`); continue; }
    const range = limits[field];
    if (range && (v < range[0] || v > range[1])) problems.push(`${field} ${v} is outside ${range[0]}..${range[1]}`);
  }
  if (present === 0) problems.push('no values');
  return problems;
}

const canonicalIso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** ISO-8601 UTC from an instant in any of the shapes vendors use (ISO text, epoch s or ms). */
export function toIso(value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch seconds are below 1e11 until the year 5138; milliseconds are above from 1973 on.
    return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  }
  if (typeof value === 'string' && value.length > 0) {
    const t = Date.parse(value);
    // Already in the stored form (most vendors send it): keep the text and skip the round trip through Date, except
    // for the days and hours Date.parse rolls over ("02-30", "24:00"), which must be normalised.
    if (Number.isFinite(t)) return canonicalIso.test(value) && value.slice(8, 10) <= '28' && value.slice(11, 13) <= '23' ? value : new Date(t).toISOString();
  }
  throw new DecodeError(`${what} is not a timestamp: ${JSON.stringify(value)}`);
}

/** A number from a number or a numeric string (MQTT and some vendors send "81.5"); null when absent. */
export function num(value: unknown, what: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DecodeError(`${what} is not a finite number`);
    return value;
  }
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new DecodeError(`${what} is not a number: ${JSON.stringify(value)}`);
}

export function bool(value: unknown, what: string): boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === '1' || value === 'true' || value === 'on') return true;
  if (value === 0 || value === '0' || value === 'false' || value === 'off') return false;
  throw new DecodeError(`${what} is not a boolean: ${JSON.stringify(value)}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new DecodeError(`${what} is not an object`);
  return value;
}

export function text(value: unknown, what: string): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new DecodeError(`${what} is missing`);
}

