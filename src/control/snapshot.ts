import type { DepotFleet, Departure } from '../fleet/depots.ts';
import type { DepotSnapshot, SessionSpec, LoadForecastStep, TaperPoint } from '../planner/types.ts';

/**
 * Live state + configuration -> the planner's snapshot. Pure: `nowMs` comes in, nothing is read.
 */

/**
 * The charge curve planned for a vehicle: its fleet record's, or, where none is declared, full DC power to 80 % SoC
 * falling to a tenth of it at 100 %, as traction batteries do. Planning a flat curve to full plans DC power a nearly
 * full battery refuses, and the control loop sees it too late to recover (bench:sim: 4 of 60 vans left short). A curve
 * slower than the vehicle's real one only makes the plan start it earlier.
 */
export function chargeCurve(vehicle: { readonly taper: readonly TaperPoint[] | null; readonly dcMaxPowerKw: number }): readonly TaperPoint[] {
  return vehicle.taper ?? [{ socPercent: 80, maxPowerKw: vehicle.dcMaxPowerKw }, { socPercent: 100, maxPowerKw: vehicle.dcMaxPowerKw * 0.1 }];
}

export interface LiveSession {
  readonly chargerId: string;
  readonly stationId: string;
  readonly evseId: number;
  readonly transactionId: string;
  readonly idToken: string | null;
  vehicleId: string | null;
  identifiedBy: 'token' | 'bay' | 'telematics' | 'unknown';
  readonly startedAtMs: number;
  readonly meterStartKwh: number;
  energyKwh: number | null;
  powerKw: number | null;
  powerAtMs: number | null;
  /** Last instant any power flowed (> 0.1 kW). */
  lastFlowAtMs: number | null;
  /** What the vehicle itself asked for (ISO 15118 via OCPP 2.0.1 NotifyEVChargingNeeds), with the meter then. */
  needs?: { energyKwh: number | null; departureMs: number | null; maxPowerKw: number | null; meterKwh: number | null };
}

export interface VehicleSoc {
  readonly socPercent: number;
  readonly atMs: number;
  readonly source: 'charger' | 'telematics';
}

export interface Override {
  /** Added to the departure's priority (boost / charge now). */
  readonly priorityBoost?: number;
  /** Replaces the departure time. */
  readonly departureMs?: number;
  /** Paused: planned at zero. */
  readonly paused?: boolean;
}

export interface LiveView {
  readonly sessions: readonly LiveSession[];
  /** Battery energy per kWh metered at the charger, per vehicle, where learned; else `defaultEfficiency`. */
  readonly efficiency?: ReadonlyMap<string, number>;
  /** Chargers (planner ids) that can take commands: online and not faulted/unavailable. */
  readonly usableChargers: ReadonlySet<string>;
  readonly soc: ReadonlyMap<string, VehicleSoc>;
  readonly overrides: ReadonlyMap<string, Override>;
}

export interface SnapshotResult {
  readonly snapshot: DepotSnapshot;
  /** Planner session id -> the live session it stands for (absent for expected arrivals). */
  readonly live: ReadonlyMap<string, LiveSession>;
}

/**
 * Charging losses: the planner plans metered (grid-side) energy, a battery needs more than its SoC gap. Giving the
 * planner the battery as `capacity / efficiency` makes every need, and every predicted SoC, grid-side and consistent.
 */
export const defaultEfficiency = 0.9;

/** How long an unknown vehicle is assumed to stay, and a departure that has passed is given to finish. */
const unknownDwellMs = 8 * 3_600_000;
const overdueGraceMs = 30 * 60_000;

/** The vehicle's departure that the current stay is for: the first one not yet past (with a little grace). */
export function nextDeparture(departures: readonly Departure[], vehicleId: string, nowMs: number): Departure | null {
  let best: Departure | null = null;
  for (const d of departures) {
    if (d.vehicleId !== vehicleId || d.departureMs <= nowMs - overdueGraceMs) continue;
    if (!best || d.departureMs < best.departureMs) best = d;
  }
  return best;
}

/**
 * What a charger we cannot reach will draw: it keeps running the schedule we last gave it (profiles live on the
 * charger), and after that its fail-safe default.
 */
export type UncontrolledLoad = (chargerId: string, atMs: number) => number;

export function buildSnapshot(fleet: DepotFleet, view: LiveView, nowMs: number, uncontrolled: UncontrolledLoad): SnapshotResult {
  const { depot } = fleet;
  const chargerById = new Map(fleet.chargers.map((c) => [c.id, c]));
  const vehicleById = new Map(fleet.vehicles.map((v) => [v.vehicleId, v]));
  const slotMs = depot.slotMinutes * 60_000;
  const sessions: SessionSpec[] = [];
  const live = new Map<string, LiveSession>();
  const busyUntil = new Map<string, number>();
  const plugged = new Set<string>();
  const unreachable: string[] = [];

  for (const s of view.sessions) {
    const charger = chargerById.get(s.chargerId);
    if (!charger) continue;
    if (!view.usableChargers.has(s.chargerId)) {
      // Offline or faulted with a vehicle on it: keep room for what it may still draw.
      unreachable.push(charger.id);
      continue;
    }
    const vehicle = s.vehicleId ? vehicleById.get(s.vehicleId) : undefined;
    const departure = s.vehicleId ? nextDeparture(fleet.departures, s.vehicleId, nowMs) : null;
    const eff = (s.vehicleId ? view.efficiency?.get(s.vehicleId) : undefined) ?? defaultEfficiency;
    const override = s.vehicleId ? view.overrides.get(s.vehicleId) : undefined;
    const id = `tx-${s.transactionId}`;
    let departureMs = override?.departureMs ?? departure?.departureMs ?? s.startedAtMs + unknownDwellMs;
    const overdue = departureMs <= nowMs + slotMs;
    if (overdue) departureMs = nowMs + slotMs;
    const delivered = s.energyKwh !== null ? Math.max(0, s.energyKwh - s.meterStartKwh) : 0;
    let spec: SessionSpec;
    if (vehicle && departure) {
      const soc = view.soc.get(vehicle.vehicleId);
      // The freshest SoC we have; else the SoC it was expected back with plus what went in since plug-in.
      const socPercent = soc && soc.atMs >= s.startedAtMs - 600_000
        ? soc.socPercent
        : Math.min(100, (departure.arrivalSocPercent ?? 50) + 100 * delivered * eff / vehicle.batteryKwh);
      spec = {
        id, kind: 'plugged', chargerId: charger.id, vehicleId: vehicle.vehicleId, known: true, departureMs,
        ...(departure.energyNeededKwh !== null
          ? { energyNeededKwh: Math.max(0, departure.energyNeededKwh / eff - delivered) }
          : { battery: { capacityKwh: vehicle.batteryKwh / eff, socPercent, targetSocPercent: departure.targetSocPercent } }),
        vehicleMaxPowerKw: charger.kind === 'AC' ? vehicle.acMaxPowerKw : vehicle.dcMaxPowerKw,
        taper: chargeCurve(vehicle),
        priority: departure.priority + (override?.priorityBoost ?? 0),
        departureEstimated: departure.estimated || overdue || override?.departureMs !== undefined,
      };
      plugged.add(vehicle.vehicleId);
    } else if (s.needs && (s.needs.energyKwh !== null || s.needs.departureMs !== null)) {
      // No schedule for it, but the vehicle told the charger what it needs and when it leaves: the best input there is.
      const sinceNeeds = s.needs.meterKwh !== null && s.energyKwh !== null ? Math.max(0, s.energyKwh - s.needs.meterKwh) : 0;
      const leaves = s.needs.departureMs !== null && s.needs.departureMs > nowMs + slotMs ? s.needs.departureMs : departureMs;
      spec = {
        id, kind: 'plugged', chargerId: charger.id, known: s.needs.energyKwh !== null, departureMs: leaves, departureEstimated: true,
        ...(s.needs.energyKwh !== null ? { energyNeededKwh: Math.max(0, s.needs.energyKwh / defaultEfficiency - sinceNeeds) } : {}),
        ...(s.needs.maxPowerKw !== null ? { vehicleMaxPowerKw: s.needs.maxPowerKw } : {}),
        ...(s.vehicleId ? { vehicleId: s.vehicleId } : {}),
      };
      departureMs = leaves;
      if (s.vehicleId) plugged.add(s.vehicleId);
    } else {
      // Unknown (or unscheduled) vehicle: conservative defaults, delivered early since we do not know when it leaves.
      spec = { id, kind: 'plugged', chargerId: charger.id, known: false, departureMs, departureEstimated: true, ...(s.vehicleId ? { vehicleId: s.vehicleId } : {}) };
      if (s.vehicleId) plugged.add(s.vehicleId);
    }
    if (override?.paused) spec = { ...spec, energyNeededKwh: 0, battery: undefined };
    sessions.push(spec);
    live.set(id, s);
    busyUntil.set(charger.id, departureMs);
  }

  // Expected arrivals keep capacity for vehicles due back; a bay still taken waits until it frees up.
  const expected = fleet.departures
    .filter((d) => d.arrivalMs !== null && d.chargerId !== null && d.departureMs > nowMs && !plugged.has(d.vehicleId))
    .filter((d) => d.arrivalMs! > nowMs - slotMs && view.usableChargers.has(d.chargerId!))
    .sort((a, b) => a.arrivalMs! - b.arrivalMs!);
  const seenVehicles = new Set<string>();
  for (const d of expected) {
    const vehicle = vehicleById.get(d.vehicleId);
    const charger = chargerById.get(d.chargerId!);
    if (!vehicle || !charger || seenVehicles.has(d.vehicleId)) continue;
    const arrivalMs = Math.max(d.arrivalMs!, nowMs + 60_000, busyUntil.get(charger.id) ?? 0);
    if (arrivalMs >= d.departureMs) continue;
    seenVehicles.add(d.vehicleId);
    sessions.push({
      id: `exp-${d.id}`, kind: 'expected', chargerId: charger.id, vehicleId: vehicle.vehicleId, known: true, arrivalMs, departureMs: d.departureMs,
      ...(d.energyNeededKwh !== null
        ? { energyNeededKwh: d.energyNeededKwh / ((view.efficiency?.get(d.vehicleId)) ?? defaultEfficiency) }
        : { battery: { capacityKwh: vehicle.batteryKwh / ((view.efficiency?.get(d.vehicleId)) ?? defaultEfficiency), socPercent: d.arrivalSocPercent ?? 20, targetSocPercent: d.targetSocPercent } }),
      vehicleMaxPowerKw: charger.kind === 'AC' ? vehicle.acMaxPowerKw : vehicle.dcMaxPowerKw,
      taper: chargeCurve(vehicle),
      priority: d.priority, departureEstimated: d.estimated,
    });
    busyUntil.set(charger.id, d.departureMs);
  }

  const otherLoadKw = unreachable.length > 0
    ? withUncontrolled(depot.otherLoadKw, unreachable, uncontrolled, nowMs, slotMs)
    : [...depot.otherLoadKw];
  return {
    snapshot: {
      depotId: depot.id, timeZone: depot.timeZone, slotMinutes: depot.slotMinutes, gridLimitKw: depot.gridLimitKw,
      ...withStationBudgets(fleet),
      sessions, otherLoadKw, tariff: depot.tariff, peakSoFarKw: depot.peakSoFarKw, policy: depot.policy,
    },
    live,
  };
}

/**
 * A station whose EVSEs share a budget below their ratings' sum is a circuit of its own (under the one it hangs on),
 * so the plan never gives its EVSEs together more than the budget.
 */
function withStationBudgets(fleet: DepotFleet): Pick<DepotSnapshot, 'circuits' | 'chargers'> {
  const circuits = [...fleet.circuits];
  const own = new Map<string, string>();
  const byStation = new Map<string, DepotFleet['chargers'][number][]>();
  for (const c of fleet.chargers) byStation.set(c.stationId, [...(byStation.get(c.stationId) ?? []), c]);
  for (const [stationId, evses] of byStation) {
    const budget = evses[0].stationMaxPowerKw;
    if (budget === undefined || evses.length < 2 || budget >= evses.reduce((a, c) => a + c.maxPowerKw, 0)) continue;
    const id = `station:${stationId}`;
    circuits.push({ id, parentId: evses[0].circuitId, maxPowerKw: budget });
    for (const c of evses) own.set(c.id, id);
  }
  const chargers = fleet.chargers.map(({ stationId: _s, evseId: _e, connectorType: _t, stationMaxPowerKw: _b, ...spec }) => own.has(spec.id) ? { ...spec, circuitId: own.get(spec.id)! } : spec);
  return { circuits, chargers };
}

/** Other site load plus the unreachable chargers' draw, sampled at every slot boundary of the next 48 h. */
function withUncontrolled(steps: readonly LoadForecastStep[], chargers: readonly string[], draw: UncontrolledLoad, nowMs: number, slotMs: number): LoadForecastStep[] {
  const out: LoadForecastStep[] = [];
  const base = (ms: number) => {
    let kw = 0;
    for (const s of steps) if (s.fromMs <= ms) kw = s.loadKw;
    return kw;
  };
  for (let ms = Math.floor(nowMs / slotMs) * slotMs, end = nowMs + 48 * 3_600_000; ms <= end; ms += slotMs) {
    const at = Math.max(ms, nowMs);
    out.push({ fromMs: ms, loadKw: base(at) + chargers.reduce((a, c) => a + draw(c, at), 0) });
  }
  return out;
}
