import { KM_PER_MILE, type ValueField } from './reading.ts';

/**
 * Units a declarative mapping (generic webhook, MQTT) may name for an incoming value, and the factor that turns it
 * into the domain unit of the field it feeds. Keeping the list closed lets a mapping be checked when it is saved.
 */
const factors = {
  percent: 1, fraction: 100, milliPercent: 0.001,
  km: 1, m: 0.001, miles: KM_PER_MILE,
  kmh: 1, mph: KM_PER_MILE, mps: 3.6,
  kWh: 1, Wh: 0.001, microWh: 1e-9,
  degrees: 1,
} as const;
export type SourceUnit = keyof typeof factors;
export const sourceUnits = Object.keys(factors) as SourceUnit[];

/** Which source units make sense for each numeric field (a fraction of an odometer is a mapping mistake). */
const allowed: Partial<Record<ValueField, readonly SourceUnit[]>> = {
  socPercent: ['percent', 'fraction', 'milliPercent'],
  rangeKm: ['km', 'm', 'miles'],
  odometerKm: ['km', 'm', 'miles'],
  speedKmh: ['kmh', 'mph', 'mps'],
  lat: ['degrees'],
  lon: ['degrees'],
  chargeEnergyAddedKwh: ['kWh', 'Wh', 'microWh'],
};

export function defaultUnit(field: ValueField): SourceUnit | null {
  return allowed[field]?.[0] ?? null;
}

/** Null when fine, else why the unit cannot feed the field. */
export function unitProblem(field: ValueField, unit: string): string | null {
  const ok = allowed[field];
  if (!ok) return `${field} is a boolean and takes no unit`;
  return (ok as readonly string[]).includes(unit) ? null : `${field} takes ${ok.join(', ')}, not ${unit}`;
}

export function toDomainUnit(value: number, unit: SourceUnit): number {
  return value * factors[unit];
}
