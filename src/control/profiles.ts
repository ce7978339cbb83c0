import type { ChargingLimitProfile } from '../ocpp/commands.ts';
import type { DepotFleet, DepotCharger } from '../fleet/depots.ts';
import type { Plan, SessionPlan } from '../planner/types.ts';

/**
 * Plans and limits become charging profiles here. Pure: the control loop decides when to send them.
 * Profile ids are fixed per purpose so a new profile replaces the old one instead of stacking up on the charger.
 */

export const profileIds = { stationMax: 1, txDefault: 2, tx: 3, lease: 4 } as const;
/**
 * A charger replaces a profile with the same id whatever connector it is on (OCPP 1.6 and 2.0.1 alike), so each EVSE
 * of a multi-EVSE station needs a TxProfile id of its own: 3 for EVSE 1 (as always), 13, 23, … for the next ones.
 */
export const txProfileId = (evseId: number) => profileIds.tx + 10 * Math.max(0, evseId - 1);
/**
 * While Voltyard runs, a station may draw more than its fail-safe share (the joint plan moves power between stations).
 * That room is a lease: a station maximum above the share that expires on its own. If Voltyard stops renewing it, the
 * station is back at its share within one lease.
 */
export const leaseMs = 30 * 60_000;
/** Nominal phase voltage for chargers that only take amperes. */
export const nominalVoltageV = 230;

export interface ChargerCapabilities {
  unit: 'kW' | 'A';
  /** ChargingScheduleMaxPeriods; 1 for chargers that take a single period. */
  maxPeriods: number;
}

export const defaultCapabilities: ChargerCapabilities = { unit: 'kW', maxPeriods: 24 };

/**
 * The fail-safe limit per station: its share of every circuit above it (and of the grid connection net of the highest
 * forecast building load), in proportion to its chargers' ratings. If every station drew its share at once, no circuit
 * and not the site would be exceeded — which is what holds when Voltyard is down.
 */
export function failSafeShares(fleet: DepotFleet): Map<string, number> {
  const { circuits, chargers, depot } = fleet;
  const parent = new Map(circuits.map((c) => [c.id, c.parentId]));
  const root = circuits.find((c) => c.parentId === null);
  const maxOtherKw = Math.max(0, ...depot.otherLoadKw.map((s) => s.loadKw));
  const limit = new Map(circuits.map((c) => [c.id, c.id === root?.id ? Math.max(0, Math.min(c.maxPowerKw, depot.gridLimitKw) - maxOtherKw) : c.maxPowerKw]));
  const rated = new Map<string, number>();
  const pathOf = (circuitId: string): string[] => {
    const path: string[] = [];
    for (let c: string | null | undefined = circuitId; c; c = parent.get(c)) path.push(c);
    return path;
  };
  for (const ch of chargers) for (const c of pathOf(ch.circuitId)) rated.set(c, (rated.get(c) ?? 0) + ch.maxPowerKw);
  const shares = new Map<string, number>();
  for (const ch of chargers) {
    const fraction = Math.min(1, ...pathOf(ch.circuitId).map((c) => (limit.get(c) ?? 0) / (rated.get(c) ?? 1)));
    shares.set(ch.stationId, (shares.get(ch.stationId) ?? 0) + ch.maxPowerKw * fraction);
  }
  // A station whose EVSEs share a budget never gets more than the budget, whatever their ratings add up to.
  const budget = new Map(chargers.filter((ch) => ch.stationMaxPowerKw !== undefined).map((ch) => [ch.stationId, ch.stationMaxPowerKw!]));
  for (const [id, kw] of shares) shares.set(id, Math.floor(Math.min(kw, budget.get(id) ?? Infinity) * 10 + 1e-6) / 10);
  return shares;
}

function toUnit(kw: number, charger: DepotCharger, caps: ChargerCapabilities): number {
  if (caps.unit === 'kW') return Math.floor(kw * 10 + 1e-6) / 10;
  const phases = charger.phases ?? (charger.kind === 'AC' ? 3 : 3);
  return Math.floor(kw * 1000 / (nominalVoltageV * phases) * 10 + 1e-6) / 10;
}

function single(kind: 'StationMax' | 'TxDefault', kw: number, charger: DepotCharger, caps: ChargerCapabilities, nowIso: string): ChargingLimitProfile {
  return {
    id: kind === 'StationMax' ? profileIds.stationMax : profileIds.txDefault, stackLevel: 0, purpose: kind, kind: 'Absolute',
    schedule: { startAt: nowIso, unit: caps.unit, periods: [{ startOffsetS: 0, limit: toUnit(kw, charger, caps), ...(caps.unit === 'A' ? { numberPhases: charger.phases ?? 3 } : {}) }] },
  };
}

/** The station-wide maximum and the default for new sessions: a session starts at its safe share, never at full power. */
export function failSafeProfiles(stationShareKw: number, stationChargers: readonly DepotCharger[], caps: ChargerCapabilities, nowIso: string): { stationMax: ChargingLimitProfile; txDefault: ChargingLimitProfile } {
  const first = stationChargers[0];
  const perEvseKw = stationShareKw / Math.max(1, stationChargers.length);
  return { stationMax: single('StationMax', stationShareKw, first, caps, nowIso), txDefault: single('TxDefault', perEvseKw, first, caps, nowIso) };
}

export function leaseProfile(kw: number, stationChargers: readonly DepotCharger[], caps: ChargerCapabilities, nowIso: string): ChargingLimitProfile {
  const first = stationChargers[0];
  return {
    id: profileIds.lease, stackLevel: 1, purpose: 'StationMax', kind: 'Absolute',
    schedule: { startAt: nowIso, durationS: leaseMs / 1000, unit: caps.unit, periods: [{ startOffsetS: 0, limit: toUnit(kw, first, caps), ...(caps.unit === 'A' ? { numberPhases: first.phases ?? 3 } : {}) }] },
  };
}

/** The most a set of schedules asks for together in [fromMs, toMs). */
export function peakOf(schedules: readonly LimitSteps[], fromMs: number, toMs: number): number {
  const points = new Set<number>([fromMs]);
  for (const s of schedules) for (const t of s.startMs) if (t > fromMs && t < toMs) points.add(t);
  let peak = 0;
  for (const p of points) peak = Math.max(peak, schedules.reduce((a, s) => a + (limitAt(s, p) ?? 0), 0));
  return peak;
}

/** A limit schedule as absolute instants, for comparing what we sent with what we would send now. */
export interface LimitSteps {
  readonly startMs: readonly number[];
  readonly limitKw: readonly number[];
  readonly endMs: number;
}

/** The plan's slot powers for one session as merged steps, at most `maxPeriods` of them (the charger falls back after). */
export function limitSteps(plan: Plan, session: SessionPlan, maxPeriods: number): LimitSteps {
  const startMs: number[] = [];
  const limitKw: number[] = [];
  let endMs = plan.slotStartsMs[plan.slotStartsMs.length - 1];
  for (let t = 0; t < session.powerKw.length; t++) {
    const kw = Math.floor(session.powerKw[t] * 10) / 10;
    if (limitKw.length > 0 && limitKw[limitKw.length - 1] === kw) continue;
    if (limitKw.length === maxPeriods) { endMs = plan.slotStartsMs[t]; break; }
    startMs.push(plan.slotStartsMs[t]);
    limitKw.push(kw);
  }
  endMs = Math.min(endMs, session.departureMs > plan.nowMs ? Math.max(session.departureMs, startMs[startMs.length - 1] + 60_000) : endMs);
  return { startMs, limitKw, endMs };
}

/** The limit in force at `ms`, or null past the end. */
export function limitAt(steps: LimitSteps, ms: number): number | null {
  if (ms >= steps.endMs || steps.startMs.length === 0 || ms < steps.startMs[0]) return null;
  let k = 0;
  while (k + 1 < steps.startMs.length && steps.startMs[k + 1] <= ms) k++;
  return steps.limitKw[k];
}

/** Whether two schedules differ by more than 0.1 kW anywhere in [fromMs, fromMs + windowMs). */
export function stepsDiffer(a: LimitSteps | null, b: LimitSteps, fromMs: number, windowMs = 3_600_000): boolean {
  if (!a) return true;
  const points = new Set<number>([fromMs]);
  for (const s of [...a.startMs, ...b.startMs, a.endMs, b.endMs]) if (s > fromMs && s < fromMs + windowMs) points.add(s);
  for (const p of points) {
    const x = limitAt(a, p);
    const y = limitAt(b, p);
    if (x === null || y === null ? x !== y : Math.abs(x - y) > 0.1 + 1e-9) return true;
  }
  return false;
}

export function txProfile(steps: LimitSteps, transactionId: string, charger: DepotCharger, caps: ChargerCapabilities): ChargingLimitProfile {
  const start = steps.startMs[0];
  return {
    id: txProfileId(charger.evseId), stackLevel: 1, purpose: 'Tx', kind: 'Absolute', transactionId,
    schedule: {
      startAt: new Date(start).toISOString(),
      durationS: Math.max(60, Math.round((steps.endMs - start) / 1000)),
      unit: caps.unit,
      periods: steps.startMs.map((s, k) => ({
        startOffsetS: Math.round((s - start) / 1000), limit: toUnit(steps.limitKw[k], charger, caps),
        ...(caps.unit === 'A' ? { numberPhases: charger.phases ?? 3 } : {}),
      })),
    },
  };
}

/** A composite-schedule limit back in kW, for verification. */
export function limitToKw(limit: number, unit: 'kW' | 'A', charger: DepotCharger, numberPhases?: number): number {
  return unit === 'kW' ? limit : limit * nominalVoltageV * (numberPhases ?? charger.phases ?? 3) / 1000;
}
