// The yard snapshot normalised into indexed arrays the yard simulation works on: bays with their circuit path,
// vehicles with their need, availability and compatible bays, the slot grid and per-slot circuit limits, and the
// move policy with its defaults. Pure: validation errors name the offending field, like the energy planner's.
import { localTimeIn, parseClock } from '../../energy/tariff.ts';
import { PlannerInputError } from '../problem.ts';
import type { ChargerSpec, CircuitSpec } from '../types.ts';
import { connectorTypes, type MovePolicy, type YardCharger, type YardSnapshot, type YardVehicle } from './types.ts';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const maxHorizonMs = 48 * hourMs;

export const defaultMovePolicy: MovePolicy = {
  movesPerShift: 20,
  shiftStarts: ['06:00', '14:00', '22:00'],
  people: 1,
  minMinutesBetweenMoves: 10,
  noMoveBeforeDepartureMinutes: 30,
  minGainKwhPerMove: 5,
};

/** The id of the virtual circuit that carries a multi-bay charger's shared budget. */
export const sharedCircuitId = (chargerId: string) => `${chargerId}#shared`;

export interface BayInfo {
  readonly id: string;
  readonly chargerId: string;
  readonly kind: 'AC' | 'DC';
  readonly type: string;
  /** min(bay limit, charger budget), kW. */
  readonly maxKw: number;
  readonly minKw: number;
  /** Index into YardModel.circuit* (the virtual shared circuit for a multi-bay charger). */
  readonly circuit: number;
  /** What one bay can count on from its own circuit when every bay there draws: a planning estimate, kW. */
  readonly shareKw: number;
}

export interface VehicleInfo {
  readonly id: string;
  readonly spec: YardVehicle;
  readonly needKwh: number;
  /** When it can first be plugged: now, or its arrival. */
  readonly availableMs: number;
  readonly departureMs: number;
  readonly priority: number;
  /** Bay index where it is plugged now, else -1. */
  readonly onBay: number;
  /** Compatible bays (connector type), by index. */
  readonly compatible: readonly boolean[];
}

export interface YardModel {
  readonly snapshot: YardSnapshot;
  readonly nowMs: number;
  readonly slotStartsMs: Float64Array;
  readonly T: number;
  readonly bays: readonly BayInfo[];
  readonly bayIndex: ReadonlyMap<string, number>;
  readonly vehicles: readonly VehicleInfo[];
  /** Circuits (snapshot ones, then virtual ones); parent index or -1. */
  readonly circuitIds: readonly string[];
  readonly circuitParent: Int32Array;
  /** Limit per circuit and slot, kW (C × T); the root net of other site load. */
  readonly circuitLimitKw: Float64Array;
  readonly policy: MovePolicy;
  /** The energy planner's view of the bays: one ChargerSpec per bay, virtual circuits for shared budgets. */
  readonly chargerSpecs: readonly ChargerSpec[];
  readonly circuits: readonly CircuitSpec[];
}

/** The energy planner's circuits and chargers for a yard: a multi-bay charger becomes a circuit, each bay a charger. */
export function yardChargerSpecs(circuits: readonly CircuitSpec[], chargers: readonly YardCharger[]): { circuits: CircuitSpec[]; chargers: ChargerSpec[] } {
  const outCircuits = [...circuits];
  const outChargers: ChargerSpec[] = [];
  for (const ch of chargers) {
    const shared = ch.bays.length > 1;
    if (shared) outCircuits.push({ id: sharedCircuitId(ch.id), parentId: ch.circuitId, maxPowerKw: ch.maxPowerKw });
    for (const bay of ch.bays) {
      const maxPowerKw = Math.min(bay.maxPowerKw, ch.maxPowerKw);
      outChargers.push({
        id: bay.id, circuitId: shared ? sharedCircuitId(ch.id) : ch.circuitId, kind: ch.kind, maxPowerKw,
        ...(ch.kind === 'AC' && bay.minPowerKw !== undefined ? { minPowerKw: Math.min(bay.minPowerKw, maxPowerKw) } : {}),
        ...(ch.phases ? { phases: ch.phases } : {}),
      });
    }
  }
  return { circuits: outCircuits, chargers: outChargers };
}

function positive(v: number, path: string): number {
  if (!(Number.isFinite(v) && v > 0)) throw new PlannerInputError(path, 'must be a positive number');
  return v;
}

function nonNegative(v: number, path: string): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new PlannerInputError(path, 'must be a number ≥ 0');
  return v;
}

export function resolveMovePolicy(partial: Partial<MovePolicy> | undefined): MovePolicy {
  const p: MovePolicy = { ...defaultMovePolicy, ...partial };
  nonNegative(p.movesPerShift, 'movePolicy.movesPerShift');
  positive(p.people, 'movePolicy.people');
  nonNegative(p.minMinutesBetweenMoves, 'movePolicy.minMinutesBetweenMoves');
  nonNegative(p.noMoveBeforeDepartureMinutes, 'movePolicy.noMoveBeforeDepartureMinutes');
  nonNegative(p.minGainKwhPerMove, 'movePolicy.minGainKwhPerMove');
  if (p.shiftStarts.length === 0) throw new PlannerInputError('movePolicy.shiftStarts', 'needs at least one "HH:MM"');
  p.shiftStarts.forEach((s, k) => {
    const m = parseClock(s);
    if (Number.isNaN(m) || m >= 24 * 60) throw new PlannerInputError(`movePolicy.shiftStarts[${k}]`, 'must be "HH:MM" before 24:00');
  });
  return p;
}

/**
 * The shift an instant falls in, as a key ("2026-03-10#2": local date of the shift's start and the index of its start
 * among the sorted `shiftStarts`): shifts run from one start to the next on the depot's clock.
 */
export function shiftKeyFn(timeZone: string, shiftStarts: readonly string[]): (ms: number) => string {
  const starts = shiftStarts.map(parseClock).sort((a, b) => a - b);
  const local = localTimeIn(timeZone);
  return (ms) => {
    const lt = local(ms);
    let k = -1;
    for (let j = 0; j < starts.length; j++) if (starts[j] <= lt.minuteOfDay) k = j;
    const day = k >= 0 ? lt : local(ms - dayMs);
    return `${day.year}-${day.month}-${day.day}#${k >= 0 ? k : starts.length - 1}`;
  };
}

export function needOfVehicle(v: YardVehicle, path: string): number {
  if (v.energyNeededKwh !== undefined) return nonNegative(v.energyNeededKwh, `${path}.energyNeededKwh`);
  const b = v.battery;
  if (b) {
    positive(b.capacityKwh, `${path}.battery.capacityKwh`);
    return b.capacityKwh * Math.max(0, b.targetSocPercent - b.socPercent) / 100;
  }
  throw new PlannerInputError(path, 'needs energyNeededKwh or battery');
}

/** The power a vehicle draws on a bay: the bay's limit and the vehicle's own AC or DC limit, kW. */
export const vehicleKwOn = (v: YardVehicle, bay: BayInfo) => Math.min(bay.maxKw, bay.kind === 'AC' ? v.acMaxPowerKw : v.dcMaxPowerKw);

export function buildYardModel(snapshot: YardSnapshot, nowMs: number): YardModel {
  if (!Number.isFinite(nowMs)) throw new PlannerInputError('now', 'must be an instant');
  const slotMinutes = snapshot.slotMinutes ?? 15;
  if (!(Number.isInteger(slotMinutes) && slotMinutes >= 1 && slotMinutes <= 60)) throw new PlannerInputError('slotMinutes', 'must be an integer from 1 to 60');
  positive(snapshot.gridLimitKw, 'gridLimitKw');
  const policy = resolveMovePolicy(snapshot.movePolicy);

  const { circuits, chargers: chargerSpecs } = yardChargerSpecs(snapshot.circuits, snapshot.chargers);
  const circuitIds = circuits.map((c) => c.id);
  const circuitPos = new Map(circuitIds.map((id, k) => [id, k]));
  if (circuitPos.size !== circuitIds.length) throw new PlannerInputError('circuits', 'ids must be unique (a charger id may clash with a circuit id)');
  const circuitParent = Int32Array.from(circuits, (c, k) => {
    if (c.parentId === null) return -1;
    const p = circuitPos.get(c.parentId);
    if (p === undefined) throw new PlannerInputError(`circuits[${k}].parentId`, `unknown circuit "${c.parentId}"`);
    return p;
  });
  const roots = circuits.filter((c) => c.parentId === null);
  if (roots.length !== 1) throw new PlannerInputError('circuits', `needs exactly one root circuit (parentId null), found ${roots.length}`);

  const bays: BayInfo[] = [];
  const bayIndex = new Map<string, number>();
  const chargerIds = new Set<string>();
  snapshot.chargers.forEach((ch, k) => {
    const path = `chargers[${k}]`;
    if (chargerIds.has(ch.id)) throw new PlannerInputError(`${path}.id`, `duplicate charger "${ch.id}"`);
    chargerIds.add(ch.id);
    positive(ch.maxPowerKw, `${path}.maxPowerKw`);
    if (!circuitPos.has(ch.circuitId)) throw new PlannerInputError(`${path}.circuitId`, `unknown circuit "${ch.circuitId}"`);
    if (ch.bays.length === 0) throw new PlannerInputError(`${path}.bays`, 'needs at least one bay');
    const circuit = circuitPos.get(ch.bays.length > 1 ? sharedCircuitId(ch.id) : ch.circuitId) ?? 0;
    ch.bays.forEach((bay, j) => {
      const bp = `${path}.bays[${j}]`;
      if (bayIndex.has(bay.id)) throw new PlannerInputError(`${bp}.id`, `duplicate bay "${bay.id}"`);
      if (!(connectorTypes as readonly string[]).includes(bay.type)) throw new PlannerInputError(`${bp}.type`, `must be one of ${connectorTypes.join(', ')}`);
      positive(bay.maxPowerKw, `${bp}.maxPowerKw`);
      bayIndex.set(bay.id, bays.length);
      const maxKw = Math.min(bay.maxPowerKw, ch.maxPowerKw);
      bays.push({ id: bay.id, chargerId: ch.id, kind: ch.kind, type: bay.type, maxKw, minKw: ch.kind === 'AC' ? Math.min(bay.minPowerKw ?? 0, maxKw) : 0, circuit, shareKw: maxKw });
    });
  });
  // A bay's share of its own circuit (and of its charger's budget) when all bays there draw.
  const bayKwBelow = new Float64Array(circuits.length);
  for (const b of bays) for (let c = b.circuit; c >= 0; c = circuitParent[c]) bayKwBelow[c] += b.maxKw;
  const limitOf = circuits.map((c) => c.maxPowerKw);
  for (let k = 0; k < bays.length; k++) {
    const b = bays[k];
    let share = b.maxKw;
    // The bay's own circuit (for a shared charger: its budget and the circuit above) only: further up, not every bay
    // draws at once.
    const c0 = b.circuit;
    share = Math.min(share, b.maxKw * Math.min(1, limitOf[c0] / bayKwBelow[c0]));
    const up = circuitParent[c0];
    if (circuitIds[c0].endsWith('#shared') && up >= 0) share = Math.min(share, b.maxKw * Math.min(1, limitOf[up] / bayKwBelow[up]));
    bays[k] = { ...b, shareKw: share };
  }

  const vehicles: VehicleInfo[] = [];
  const vehicleIds = new Set<string>();
  const occupied = new Map<number, string>();
  snapshot.vehicles.forEach((v, k) => {
    const path = `vehicles[${k}]`;
    if (vehicleIds.has(v.id)) throw new PlannerInputError(`${path}.id`, `duplicate vehicle "${v.id}"`);
    vehicleIds.add(v.id);
    if (!Number.isFinite(v.departureMs)) throw new PlannerInputError(`${path}.departureMs`, 'must be an instant');
    positive(v.acMaxPowerKw, `${path}.acMaxPowerKw`);
    positive(v.dcMaxPowerKw, `${path}.dcMaxPowerKw`);
    v.connectorTypes.forEach((t, j) => {
      if (!(connectorTypes as readonly string[]).includes(t)) throw new PlannerInputError(`${path}.connectorTypes[${j}]`, `must be one of ${connectorTypes.join(', ')}`);
    });
    const needKwh = needOfVehicle(v, path);
    let onBay = -1;
    let availableMs = nowMs;
    const loc = v.location;
    if (loc.kind === 'bay') {
      const b = bayIndex.get(loc.bayId);
      if (b === undefined) throw new PlannerInputError(`${path}.location.bayId`, `unknown bay "${loc.bayId}"`);
      const other = occupied.get(b);
      if (other !== undefined) throw new PlannerInputError(`${path}.location.bayId`, `bay "${loc.bayId}" is already taken by vehicle "${other}"`);
      occupied.set(b, v.id);
      onBay = b;
    } else if (loc.kind === 'expected') {
      if (!Number.isFinite(loc.arrivalMs)) throw new PlannerInputError(`${path}.location.arrivalMs`, 'must be an instant');
      availableMs = Math.max(nowMs, loc.arrivalMs);
    }
    const types = new Set<string>(v.connectorTypes);
    // A vehicle found on a bay is plugged into it, whatever its listed inlets say: reality wins.
    const compatible = bays.map((b, j) => types.has(b.type) || j === onBay);
    vehicles.push({ id: v.id, spec: v, needKwh, availableMs, departureMs: v.departureMs, priority: v.priority ?? 0, onBay, compatible });
  });

  let lastDeparture = nowMs;
  for (const v of vehicles) lastDeparture = Math.max(lastDeparture, v.departureMs);
  const slotMs = slotMinutes * 60_000;
  const end = Math.min(Math.max(lastDeparture, nowMs + slotMs), nowMs + maxHorizonMs);
  const starts = [nowMs];
  let next = Math.ceil(nowMs / slotMs) * slotMs;
  if (next === nowMs) next += slotMs;
  while (starts[starts.length - 1] < end) { starts.push(next); next += slotMs; }
  const slotStartsMs = Float64Array.from(starts);
  const T = slotStartsMs.length - 1;

  const steps = snapshot.otherLoadKw ?? [];
  const C = circuits.length;
  const circuitLimitKw = new Float64Array(C * T);
  const root = circuitParent.indexOf(-1);
  for (let c = 0; c < C; c++) {
    for (let t = 0, k = -1; t < T; t++) {
      if (c === root) {
        while (k + 1 < steps.length && steps[k + 1].fromMs <= slotStartsMs[t]) k++;
        const other = k >= 0 ? Math.max(0, steps[k].loadKw) : 0;
        circuitLimitKw[c * T + t] = Math.max(0, Math.min(limitOf[c], snapshot.gridLimitKw) - other);
      } else circuitLimitKw[c * T + t] = limitOf[c];
    }
  }
  return { snapshot, nowMs, slotStartsMs, T, bays, bayIndex, vehicles, circuitIds, circuitParent, circuitLimitKw, policy, chargerSpecs, circuits };
}
