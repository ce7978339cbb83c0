// Small hand-made depots for the planner's case tests: one root, optional panels, chargers with one session each.
import type { Tariff } from '../../src/energy/tariff.ts';
import type { ChargerSpec, CircuitSpec, DepotSnapshot, SessionSpec } from '../../src/planner/types.ts';

/** 2026-03-10 17:00 in UTC, which is the depot zone here so the clock reads plainly. */
export const now = Date.parse('2026-03-10T17:00:00Z');
export const at = (hh: number, mm = 0) => now + ((hh < 17 ? hh + 24 : hh) - 17) * 3_600_000 + mm * 60_000;

export const touTariff: Tariff = {
  currency: 'EUR', defaultPricePerKwh: 0.2,
  rules: [
    { from: '17:00', to: '21:00', pricePerKwh: 0.31 },
    { from: '01:00', to: '04:00', pricePerKwh: 0.08 },
  ],
  demandCharges: [],
};

export function depot(parts: {
  gridLimitKw?: number;
  circuits?: CircuitSpec[];
  chargers: ChargerSpec[];
  sessions: SessionSpec[];
  tariff?: Tariff;
  peakSoFarKw?: number;
  minSocPercent?: number;
}): DepotSnapshot {
  return {
    depotId: 'test', timeZone: 'UTC', slotMinutes: 15, gridLimitKw: parts.gridLimitKw ?? 1000,
    circuits: parts.circuits ?? [{ id: 'site', parentId: null, maxPowerKw: parts.gridLimitKw ?? 1000 }],
    chargers: parts.chargers, sessions: parts.sessions, tariff: parts.tariff ?? touTariff,
    peakSoFarKw: parts.peakSoFarKw ?? 0, policy: { minSocPercent: parts.minSocPercent ?? 0 },
  };
}

export const dc = (id: string, circuitId = 'site', maxPowerKw = 50): ChargerSpec => ({ id, circuitId, kind: 'DC', maxPowerKw });
export const ac = (id: string, circuitId = 'site', maxPowerKw = 11, minPowerKw = 4.1): ChargerSpec => ({ id, circuitId, kind: 'AC', maxPowerKw, minPowerKw, phases: 3 });

export function session(id: string, chargerId: string, energyNeededKwh: number, departureMs: number, extra: Partial<SessionSpec> = {}): SessionSpec {
  return { id, kind: 'plugged', chargerId, known: true, energyNeededKwh, departureMs, ...extra };
}

/** Energy of a plan row, kWh. */
export function energyOf(powerKw: readonly number[], slotStartsMs: readonly number[], from = 0, to = powerKw.length): number {
  let kwh = 0;
  for (let t = from; t < to; t++) kwh += powerKw[t] * (slotStartsMs[t + 1] - slotStartsMs[t]) / 3_600_000;
  return kwh;
}

export const slotOf = (plan: { slotStartsMs: readonly number[] }, ms: number) => plan.slotStartsMs.findIndex((s) => s >= ms);
