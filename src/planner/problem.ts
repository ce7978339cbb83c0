// Turns a DepotSnapshot and `now` into the dense arrays the solver works on: a slot grid, per-slot prices,
// a topologically ordered circuit tree and per-session, per-slot energy caps. Everything here is in kWh per slot,
// so flows stay conserved across slots of different lengths (the first slot starts at `now` and may be short).
import { demandChargeAtLocal, localTimeIn, priceAtLocal } from '../energy/tariff.ts';
import type { DepotSnapshot, LoadForecastStep, PlannerPolicy, SessionSpec, TaperPoint } from './types.ts';

const hourMs = 3_600_000;
export const maxHorizonMs = 48 * hourMs;

/** A snapshot the planner cannot work with; `path` names the offending field. */
export class PlannerInputError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

export interface Problem {
  readonly nowMs: number;
  /** Slot count. */
  readonly T: number;
  /** T + 1 boundaries. */
  readonly slotStartsMs: Float64Array;
  readonly slotHours: Float64Array;
  readonly price: Float64Array;
  readonly otherLoadKw: Float64Array;
  readonly demandChargePerKw: number;
  readonly peakSoFarKw: number;
  /** DepotSnapshot.expectedPeakKw, or 0. */
  readonly expectedPeakKw: number;
  readonly currency: string;
  /** Circuits in topological order: index 0 is the root, parents come before children. */
  readonly circuitIds: readonly string[];
  readonly circuitLimitKw: Float64Array;
  readonly parent: Int32Array;
  readonly children: readonly (readonly number[])[];
  /** Circuit capacity per slot, kWh (C × T, row per circuit); the root's already net of other site load. */
  readonly circuitCapKwh: Float64Array;
  /** Sessions directly on each circuit. */
  readonly sessionsOn: readonly (readonly number[])[];
  /** Sessions directly on circuit c and present in slot t: presentSessions[presentOffsets[c·T+t] .. presentOffsets[c·T+t+1]). */
  readonly presentOffsets: Int32Array;
  readonly presentSessions: Int32Array;
  readonly n: number;
  readonly sessions: readonly SessionSpec[];
  readonly leaf: Int32Array;
  /** First usable slot and one past the last. */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Per-session, per-slot energy cap, kWh (n × T). */
  readonly capKwh: Float64Array;
  readonly maxPowerKw: Float64Array;
  /** What bounds maxPowerKw, for the trace. */
  readonly powerBound: readonly ('charger' | 'vehicle')[];
  /** AC minimum power; 0 when none. */
  readonly minPowerKw: Float64Array;
  readonly needKwh: Float64Array;
  /** Part of the need that brings the vehicle to the policy minimum SoC. */
  readonly minNeedKwh: Float64Array;
  /** The whole need of sessions whose departure is only estimated (SessionSpec.departureEstimated), else 0. */
  readonly estimatedNeedKwh: Float64Array;
  /** Site energy per slot kept free for vehicles not in the snapshot (DepotSnapshot.reserveKw), kWh; null when none. */
  readonly reserveKwh: Float64Array | null;
  /** Service order when not all can be ready: 0 first (highest priority, then earliest departure). */
  readonly rank: Int32Array;
  readonly policy: PlannerPolicy;
}

export const defaultPolicy: PlannerPolicy = { minSocPercent: 0, unknownVehicleEnergyKwh: 40, earlyShare: 0, unannouncedArrivals: false, holdRaiseKw: 0 };

/** Per slot, the index of the step (sorted by `fromMs`) in force at the slot's start; -1 before the first. */
function stepInForce(steps: readonly LoadForecastStep[], slotStartsMs: Float64Array): Int32Array {
  const T = slotStartsMs.length - 1;
  const at = new Int32Array(T);
  for (let t = 0, k = -1; t < T; t++) {
    while (k + 1 < steps.length && steps[k + 1].fromMs <= slotStartsMs[t]) k++;
    at[t] = k;
  }
  return at;
}

function slotGrid(nowMs: number, endMs: number, slotMs: number): Float64Array {
  const bounds = [nowMs];
  let next = Math.ceil(nowMs / slotMs) * slotMs;
  if (next === nowMs) next += slotMs;
  while (bounds[bounds.length - 1] < endMs) {
    bounds.push(next);
    next += slotMs;
  }
  return Float64Array.from(bounds);
}

/** Max power at a SoC from taper points, linearly interpolated and flat beyond the ends. */
export function taperAt(points: readonly TaperPoint[], socPercent: number): number {
  const sorted = [...points].sort((a, b) => a.socPercent - b.socPercent);
  if (sorted.length === 0) return Number.POSITIVE_INFINITY;
  if (socPercent <= sorted[0].socPercent) return sorted[0].maxPowerKw;
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1], c = sorted[k];
    if (socPercent <= c.socPercent) return a.maxPowerKw + (c.maxPowerKw - a.maxPowerKw) * (socPercent - a.socPercent) / (c.socPercent - a.socPercent);
  }
  return sorted[sorted.length - 1].maxPowerKw;
}

function positive(value: number, path: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new PlannerInputError(path, 'must be a positive number');
  return value;
}

function needOf(s: SessionSpec, path: string, policy: PlannerPolicy): number {
  if (s.energyNeededKwh !== undefined) {
    if (!(Number.isFinite(s.energyNeededKwh) && s.energyNeededKwh >= 0)) throw new PlannerInputError(`${path}.energyNeededKwh`, 'must be a number ≥ 0');
    return s.energyNeededKwh;
  }
  if (s.battery) return s.battery.capacityKwh * Math.max(0, s.battery.targetSocPercent - s.battery.socPercent) / 100;
  if (!s.known) return policy.unknownVehicleEnergyKwh;
  throw new PlannerInputError(path, 'needs energyNeededKwh or battery');
}

/**
 * Sessions on each circuit present in each slot, as offsets into one list (see Problem.presentOffsets). Kept out of
 * buildProblem: small loops in their own function are compiled on their own, and this one runs over n × T.
 */
function presentIndex(C: number, T: number, leaf: Int32Array, start: Int32Array, end: Int32Array, capKwh: Float64Array): { presentOffsets: Int32Array; presentSessions: Int32Array } {
  const n = leaf.length;
  const presentOffsets = new Int32Array(C * T + 1);
  for (let i = 0; i < n; i++) for (let t = start[i]; t < end[i]; t++) if (capKwh[i * T + t] > 0) presentOffsets[leaf[i] * T + t + 1]++;
  for (let k = 0; k < C * T; k++) presentOffsets[k + 1] += presentOffsets[k];
  const presentSessions = new Int32Array(presentOffsets[C * T]);
  const fill = presentOffsets.slice(0, C * T);
  for (let i = 0; i < n; i++) for (let t = start[i]; t < end[i]; t++) if (capKwh[i * T + t] > 0) presentSessions[fill[leaf[i] * T + t]++] = i;
  return { presentOffsets, presentSessions };
}

/** Service order: higher priority first, then earlier departure, then input order (keys read once, not per comparison). */
function rankOf(sessions: readonly SessionSpec[]): Int32Array {
  const n = sessions.length;
  const priority = new Float64Array(n);
  const departure = new Float64Array(n);
  for (let i = 0; i < n; i++) { priority[i] = sessions[i].priority ?? 0; departure[i] = sessions[i].departureMs; }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => priority[b] - priority[a] || departure[a] - departure[b] || a - b);
  const rank = new Int32Array(n);
  for (let r = 0; r < n; r++) rank[order[r]] = r;
  return rank;
}

/** `horizonLimitMs` exists for offline studies (the benchmark's month-long LP); the control loop keeps the 48 h default. */
export function buildProblem(snapshot: DepotSnapshot, nowMs: number, horizonLimitMs = maxHorizonMs): Problem {
  const policy: PlannerPolicy = { ...defaultPolicy, ...snapshot.policy, holdRaiseKw: snapshot.policy?.holdRaiseKw ?? 0 };
  if (!(Number.isFinite(policy.holdRaiseKw) && policy.holdRaiseKw >= 0)) throw new PlannerInputError('policy.holdRaiseKw', 'must be a number ≥ 0 (kW; 0: off)');
  const slotMinutes = snapshot.slotMinutes ?? 15;
  if (!(Number.isInteger(slotMinutes) && slotMinutes >= 1 && slotMinutes <= 60)) throw new PlannerInputError('slotMinutes', 'must be an integer from 1 to 60');
  positive(snapshot.gridLimitKw, 'gridLimitKw');
  const expectedPeakKw = snapshot.expectedPeakKw ?? 0;
  if (!(Number.isFinite(expectedPeakKw) && expectedPeakKw >= 0)) throw new PlannerInputError('expectedPeakKw', 'must be a number ≥ 0');

  // Circuits, parents first.
  const byId = new Map(snapshot.circuits.map((c, k) => [c.id, k]));
  const roots = snapshot.circuits.filter((c) => c.parentId === null);
  if (roots.length !== 1) throw new PlannerInputError('circuits', `needs exactly one root circuit (parentId null), found ${roots.length}`);
  snapshot.circuits.forEach((c, k) => {
    positive(c.maxPowerKw, `circuits[${k}].maxPowerKw`);
    if (c.parentId !== null && !byId.has(c.parentId)) throw new PlannerInputError(`circuits[${k}].parentId`, `unknown circuit "${c.parentId}"`);
  });
  const order: number[] = [snapshot.circuits.indexOf(roots[0])];
  for (let q = 0; q < order.length; q++) {
    const id = snapshot.circuits[order[q]].id;
    snapshot.circuits.forEach((c, k) => { if (c.parentId === id) order.push(k); });
  }
  if (order.length !== snapshot.circuits.length) throw new PlannerInputError('circuits', 'parentId links must form one tree under the root');
  const C = order.length;
  const circuitIds = order.map((k) => snapshot.circuits[k].id);
  const circuitIndex = new Map(circuitIds.map((id, c) => [id, c]));
  const parent = new Int32Array(C).fill(-1);
  const children: number[][] = circuitIds.map(() => []);
  const circuitLimitKw = new Float64Array(C);
  order.forEach((k, c) => {
    const spec = snapshot.circuits[k];
    circuitLimitKw[c] = spec.maxPowerKw;
    if (spec.parentId !== null) {
      parent[c] = circuitIndex.get(spec.parentId) ?? -1;
      children[parent[c]].push(c);
    }
  });
  circuitLimitKw[0] = Math.min(circuitLimitKw[0], snapshot.gridLimitKw);

  // Time grid up to the last departure, at most 48 h.
  const sessions = snapshot.sessions;
  let lastDeparture = nowMs;
  sessions.forEach((s, i) => {
    if (!Number.isFinite(s.departureMs)) throw new PlannerInputError(`sessions[${i}].departureMs`, 'must be an instant');
    lastDeparture = Math.max(lastDeparture, s.departureMs);
  });
  const slotMs = slotMinutes * 60_000;
  const horizonEnd = Math.min(Math.max(lastDeparture, nowMs + slotMs), nowMs + horizonLimitMs);
  const slotStartsMs = slotGrid(nowMs, horizonEnd, slotMs);
  const T = slotStartsMs.length - 1;
  const slotHours = new Float64Array(T);
  for (let t = 0; t < T; t++) slotHours[t] = (slotStartsMs[t + 1] - slotStartsMs[t]) / hourMs;

  const toLocal = localTimeIn(snapshot.timeZone);
  const price = new Float64Array(T);
  for (let t = 0; t < T; t++) price[t] = priceAtLocal(snapshot.tariff, toLocal(slotStartsMs[t]));
  const demandChargePerKw = demandChargeAtLocal(snapshot.tariff, toLocal(nowMs));

  const otherLoadKw = new Float64Array(T);
  const steps = snapshot.otherLoadKw ?? [];
  const loadStep = stepInForce(steps, slotStartsMs);
  for (let t = 0; t < T; t++) otherLoadKw[t] = loadStep[t] >= 0 ? Math.max(0, steps[loadStep[t]].loadKw) : 0;

  const reserveSteps = snapshot.reserveKw ?? [];
  const reserveStep = stepInForce(reserveSteps, slotStartsMs);
  let reserveKwh: Float64Array | null = null;
  for (let t = 0; t < T; t++) {
    const k = reserveStep[t];
    const kw = k >= 0 ? reserveSteps[k].loadKw : 0;
    if (!(Number.isFinite(kw) && kw >= 0)) throw new PlannerInputError(`reserveKw[${k}].loadKw`, 'must be a number ≥ 0');
    if (kw <= 0) continue;
    reserveKwh ??= new Float64Array(T);
    reserveKwh[t] = kw * slotHours[t];
  }

  const circuitCapKwh = new Float64Array(C * T);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < T; t++) {
      const kw = c === 0 ? Math.max(0, circuitLimitKw[0] - otherLoadKw[t]) : circuitLimitKw[c];
      circuitCapKwh[c * T + t] = kw * slotHours[t];
    }
  }

  // Sessions.
  const chargers = new Map(snapshot.chargers.map((ch) => [ch.id, ch]));
  snapshot.chargers.forEach((ch, k) => {
    if (!circuitIndex.has(ch.circuitId)) throw new PlannerInputError(`chargers[${k}].circuitId`, `unknown circuit "${ch.circuitId}"`);
    positive(ch.maxPowerKw, `chargers[${k}].maxPowerKw`);
  });
  const n = sessions.length;
  const leaf = new Int32Array(n);
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  const capKwh = new Float64Array(n * T);
  const maxPowerKw = new Float64Array(n);
  const powerBound: ('charger' | 'vehicle')[] = [];
  const minPowerKw = new Float64Array(n);
  const needKwh = new Float64Array(n);
  const minNeedKwh = new Float64Array(n);
  const estimatedNeedKwh = new Float64Array(n);
  const sessionsOn: number[][] = circuitIds.map(() => []);
  const busy = new Map<string, [number, number, number][]>();
  sessions.forEach((s, i) => {
    const path = `sessions[${i}]`;
    const charger = chargers.get(s.chargerId);
    if (!charger) throw new PlannerInputError(`${path}.chargerId`, `unknown charger "${s.chargerId}"`);
    const availableMs = Math.max(nowMs, s.kind === 'expected' ? (s.arrivalMs ?? nowMs) : nowMs);
    const windows = busy.get(s.chargerId) ?? [];
    for (const [a, d, j] of windows) {
      if (availableMs < d && a < s.departureMs) throw new PlannerInputError(`${path}.chargerId`, `charger "${s.chargerId}" is also used by sessions[${j}] at the same time`);
    }
    windows.push([availableMs, s.departureMs, i]);
    busy.set(s.chargerId, windows);
    const vehicleKw = s.vehicleMaxPowerKw ?? Number.POSITIVE_INFINITY;
    if (s.vehicleMaxPowerKw !== undefined) positive(s.vehicleMaxPowerKw, `${path}.vehicleMaxPowerKw`);
    maxPowerKw[i] = Math.min(charger.maxPowerKw, vehicleKw);
    powerBound.push(vehicleKw < charger.maxPowerKw ? 'vehicle' : 'charger');
    minPowerKw[i] = charger.kind === 'AC' ? Math.min(charger.minPowerKw ?? 0, maxPowerKw[i]) : 0;
    needKwh[i] = needOf(s, path, policy);
    const b = s.battery;
    if (b && policy.minSocPercent > 0) {
      minNeedKwh[i] = Math.min(needKwh[i], b.capacityKwh * Math.max(0, Math.min(policy.minSocPercent, b.targetSocPercent) - b.socPercent) / 100);
    }
    minNeedKwh[i] = Math.max(minNeedKwh[i], Math.min(1, Math.max(0, policy.earlyShare)) * needKwh[i]);
    if (s.departureEstimated === true) estimatedNeedKwh[i] = needKwh[i];
    const c = circuitIndex.get(charger.circuitId) ?? 0;
    leaf[i] = c;
    sessionsOn[c].push(i);
    let first = T, last = 0;
    // Taper: the SoC a slot starts at is at most what charging flat out from now would give, and the taper's power
    // falls with SoC, so the taper at that upper SoC is a limit every plan can keep.
    let socBound = b ? b.socPercent : 0;
    // Only the slots the session overlaps: the first ending after it is available, up to the one its departure is in.
    let lo = 0, hi = T;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (slotStartsMs[mid + 1] <= availableMs) lo = mid + 1; else hi = mid; }
    for (let t = lo; t < T && slotStartsMs[t] < s.departureMs; t++) {
      const overlapMs = Math.min(slotStartsMs[t + 1], s.departureMs) - Math.max(slotStartsMs[t], availableMs);
      if (overlapMs <= 0) continue;
      const kw = s.taper && b ? Math.min(maxPowerKw[i], taperAt(s.taper, socBound)) : maxPowerKw[i];
      capKwh[i * T + t] = kw * overlapMs / hourMs;
      if (b) socBound += 100 * capKwh[i * T + t] / b.capacityKwh;
      if (first === T) first = t;
      last = t + 1;
    }
    start[i] = first;
    end[i] = Math.max(first, last);
  });
  const { presentOffsets, presentSessions } = presentIndex(C, T, leaf, start, end, capKwh);
  const rank = rankOf(sessions);

  return {
    nowMs, T, slotStartsMs, slotHours, price, otherLoadKw, demandChargePerKw,
    peakSoFarKw: Math.max(0, snapshot.peakSoFarKw ?? 0), expectedPeakKw, currency: snapshot.tariff.currency,
    circuitIds, circuitLimitKw, parent, children, circuitCapKwh, sessionsOn, presentOffsets, presentSessions,
    n, sessions, leaf, start, end, capKwh, maxPowerKw, powerBound, minPowerKw, needKwh, minNeedKwh, estimatedNeedKwh, reserveKwh, rank, policy,
  };
}
