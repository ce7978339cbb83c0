import type { Logger } from '../log.ts';
import type { DepotCharger, DepotFleet } from '../fleet/depots.ts';
import { connectorTypes, defaultConnectorType, type ConnectorType } from '../fleet/yard.ts';
import { PlannerInputError, type Plan } from '../planner/index.ts';
import { defaultPolicy } from '../planner/problem.ts';
import { bayFor, defaultMovePolicy, planYard, type Bay, type YardCharger, type YardPlan, type YardSnapshot, type YardVehicle } from '../planner/yard/index.ts';
import { buildSnapshot, chargeCurve, defaultEfficiency, nextDeparture, type LiveSession, type LiveView, type UncontrolledLoad } from './snapshot.ts';
import type { TaskSync, YardTaskRow, YardTaskStore } from './yard-tasks.ts';

/**
 * The control loop's yard (issue 9): for a depot with a move policy, which vehicle goes on which bay and when the crew
 * swaps one for the next. Each re-plan builds a YardSnapshot from what is true now (vehicles on bays from the live
 * sessions, vehicles in the lot, expected arrivals from the departures), runs the yard planner, hands its energy plan
 * to the controller exactly like an ordinary plan, and keeps the stored task list in step: a task is done when its
 * vehicle shows up on its bay; a late or skipped one stays open or closes, and the next plan starts from where the
 * vehicles really are (a driver on another bay than planned is simply on that bay).
 */

/** An unidentified vehicle on a bay still takes the bay; it gets a name the tasks can show. */
export const unknownVehicleId = (chargerId: string) => `unknown-on-${chargerId}`;

export interface YardInputs {
  /** Moves done in the current shift (they count against its budget). */
  readonly movesDoneThisShift: number;
  /** kWh delivered to a vehicle in earlier stints before the departure it is charging for (a swap moved it off). */
  readonly deliveredKwh: ReadonlyMap<string, { departureId: string; kwh: number }>;
  /** The bay each vehicle was told to use (open tasks, the last plan). */
  readonly plannedBay: ReadonlyMap<string, string>;
}

export interface YardSnapshotResult {
  readonly snapshot: YardSnapshot;
  /** Yard vehicle id -> its live session, for vehicles on a usable bay now. */
  readonly onBay: ReadonlyMap<string, LiveSession>;
  /** Yard vehicle id -> the departure it charges for. */
  readonly departureOf: ReadonlyMap<string, string>;
}

/** The bays as the yard planner sees them: usable EVSEs, grouped into their stations (one shared budget each). */
export function yardChargers(fleet: DepotFleet, usable: ReadonlySet<string>): YardCharger[] {
  const groups = new Map<string, DepotCharger[]>();
  for (const c of fleet.chargers) {
    if (!usable.has(c.id)) continue;
    // A station with AC and DC outlets is two yard chargers; each keeps the station's budget as its own cap.
    const key = `${c.stationId}\u0000${c.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const kinds = new Map<string, Set<string>>();
  for (const c of fleet.chargers) kinds.set(c.stationId, (kinds.get(c.stationId) ?? new Set()).add(c.kind));
  return [...groups.values()].map((evses) => {
    const first = evses[0];
    const ratedKw = evses.reduce((a, c) => a + c.maxPowerKw, 0);
    const bays: Bay[] = evses.map((c) => ({ id: c.id, type: c.connectorType ?? defaultConnectorType(c.kind), maxPowerKw: c.maxPowerKw, ...(c.minPowerKw !== undefined ? { minPowerKw: c.minPowerKw } : {}) }));
    return {
      id: (kinds.get(first.stationId)?.size ?? 1) > 1 ? `${first.stationId}:${first.kind}` : first.stationId,
      circuitId: first.circuitId, kind: first.kind, maxPowerKw: Math.min(ratedKw, first.stationMaxPowerKw ?? Infinity),
      ...(first.phases ? { phases: first.phases } : {}), bays,
    };
  });
}

/** Live state + configuration -> the yard planner's snapshot. Pure: `nowMs` comes in, nothing is read. */
export function buildYardSnapshot(fleet: DepotFleet, view: LiveView, nowMs: number, uncontrolled: UncontrolledLoad, inputs: YardInputs): YardSnapshotResult {
  // The ordinary snapshot already knows each plugged vehicle's need (SoC, learned efficiency, ISO 15118 needs,
  // overrides) and the load of chargers we cannot reach: the yard snapshot starts from it.
  const base = buildSnapshot(fleet, view, nowMs, uncontrolled);
  const { depot } = fleet;
  const chargerById = new Map(fleet.chargers.map((c) => [c.id, c]));
  const vehicleById = new Map(fleet.vehicles.map((v) => [v.vehicleId, v]));
  const chargers = yardChargers(fleet, view.usableChargers);
  const bayType = new Map(chargers.flatMap((c) => c.bays.map((b) => [b.id, b.type] as const)));
  const policy = { ...defaultPolicy, ...depot.policy };
  const vehicles: YardVehicle[] = [];
  const onBay = new Map<string, LiveSession>();
  const departureOf = new Map<string, string>();
  const plugged = new Set(view.sessions.map((s) => s.vehicleId).filter((v): v is string => v !== null));
  const earlier = (vehicleId: string, departureId: string | undefined) => {
    const d = inputs.deliveredKwh.get(vehicleId);
    return d && departureId !== undefined && d.departureId === departureId ? d.kwh : 0;
  };

  for (const spec of base.snapshot.sessions) {
    const s = base.live.get(spec.id);
    const charger = s ? chargerById.get(s.chargerId) : undefined;
    if (!s || !charger) continue;
    const vehicle = s.vehicleId ? vehicleById.get(s.vehicleId) : undefined;
    const id = s.vehicleId ?? unknownVehicleId(charger.id);
    const departure = s.vehicleId ? nextDeparture(fleet.departures, s.vehicleId, nowMs) : null;
    const before = s.vehicleId ? earlier(s.vehicleId, departure?.id) : 0;
    const soc = s.vehicleId ? view.soc.get(s.vehicleId) : undefined;
    const socFresh = soc !== undefined && soc.atMs >= s.startedAtMs - 600_000;
    let need: Pick<YardVehicle, 'energyNeededKwh' | 'battery'>;
    if (spec.energyNeededKwh !== undefined) need = { energyNeededKwh: Math.max(0, spec.energyNeededKwh - before) };
    else if (spec.battery) {
      // Without a fresh SoC the snapshot estimated it from this stint's meter only: add what earlier stints gave.
      const socPercent = socFresh ? spec.battery.socPercent : Math.min(100, spec.battery.socPercent + 100 * before / spec.battery.capacityKwh);
      need = { battery: { ...spec.battery, socPercent } };
    } else need = { energyNeededKwh: policy.unknownVehicleEnergyKwh };
    const bay = bayType.get(charger.id) ?? defaultConnectorType(charger.kind);
    // It is plugged into this connector, so it takes it, whatever the configuration says.
    const types = vehicle?.connectorTypes ?? connectorTypes;
    vehicles.push({
      id, location: { kind: 'bay', bayId: charger.id, sinceMs: s.startedAtMs }, departureMs: spec.departureMs, ...need,
      connectorTypes: types.includes(bay) ? [...types] : [...types, bay],
      acMaxPowerKw: vehicle?.acMaxPowerKw ?? spec.vehicleMaxPowerKw ?? charger.maxPowerKw,
      dcMaxPowerKw: vehicle?.dcMaxPowerKw ?? spec.vehicleMaxPowerKw ?? charger.maxPowerKw,
      ...(spec.taper ? { taper: spec.taper } : {}), ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      ...(spec.departureEstimated !== undefined ? { departureEstimated: spec.departureEstimated } : {}), plannedBayId: charger.id,
    });
    onBay.set(id, s);
    if (departure) departureOf.set(id, departure.id);
  }

  // Everyone else with a departure ahead is in the lot (back, not plugged in) or expected back.
  for (const v of fleet.vehicles) {
    if (plugged.has(v.vehicleId)) continue;
    const d = nextDeparture(fleet.departures, v.vehicleId, nowMs);
    if (!d || d.departureMs <= nowMs + 60_000) continue;
    const override = view.overrides.get(v.vehicleId);
    const eff = view.efficiency?.get(v.vehicleId) ?? defaultEfficiency;
    const inLot = d.arrivalMs === null || d.arrivalMs <= nowMs;
    const before = earlier(v.vehicleId, d.id);
    const soc = view.soc.get(v.vehicleId);
    const socPercent = soc && (d.arrivalMs === null || soc.atMs >= d.arrivalMs - 600_000)
      ? soc.socPercent
      : Math.min(100, (d.arrivalSocPercent ?? 20) + 100 * before * eff / v.batteryKwh);
    let need: Pick<YardVehicle, 'energyNeededKwh' | 'battery'> = d.energyNeededKwh !== null
      ? { energyNeededKwh: Math.max(0, d.energyNeededKwh / eff - before) }
      : { battery: { capacityKwh: v.batteryKwh / eff, socPercent, targetSocPercent: d.targetSocPercent } };
    if (override?.paused) need = { energyNeededKwh: 0 };
    const planned = inputs.plannedBay.get(v.vehicleId) ?? d.chargerId ?? undefined;
    departureOf.set(v.vehicleId, d.id);
    vehicles.push({
      id: v.vehicleId, location: inLot ? { kind: 'lot' } : { kind: 'expected', arrivalMs: d.arrivalMs! },
      departureMs: override?.departureMs ?? d.departureMs, ...need,
      connectorTypes: [...(v.connectorTypes ?? connectorTypes)], acMaxPowerKw: v.acMaxPowerKw, dcMaxPowerKw: v.dcMaxPowerKw,
      taper: chargeCurve(v), priority: d.priority + (override?.priorityBoost ?? 0),
      departureEstimated: d.estimated || override?.departureMs !== undefined,
      ...(planned && bayType.has(planned) ? { plannedBayId: planned } : {}),
    });
  }

  return {
    snapshot: {
      depotId: depot.id, timeZone: depot.timeZone, slotMinutes: depot.slotMinutes, gridLimitKw: depot.gridLimitKw, circuits: fleet.circuits,
      chargers, vehicles, otherLoadKw: base.snapshot.otherLoadKw ?? [], tariff: depot.tariff, peakSoFarKw: depot.peakSoFarKw, policy: depot.policy,
      movePolicy: fleet.movePolicy ?? {}, movesDoneThisShift: inputs.movesDoneThisShift,
    },
    onBay, departureOf,
  };
}

/**
 * The yard's energy plan as the controller runs it, in the session ids the rest of the loop knows: the stint of a
 * vehicle on its bay now becomes the live session's (`tx-<transaction>`), the next stint of any other vehicle its
 * departure's (`exp-<departure>`), so profiles, readiness, "why", alerts and the overview work as for any plan. Null
 * when a live session on a usable bay got no stint: the controller then plans without the yard rather than leave a
 * charger out of the plan.
 */
export function controlPlan(yard: YardPlan, onBay: ReadonlyMap<string, LiveSession>, departureOf: ReadonlyMap<string, string>): { plan: Plan; live: Map<string, LiveSession> } | null {
  const live = new Map<string, LiveSession>();
  const used = new Set<string>();
  const ordered = [...yard.energy.sessions].sort((a, b) => (a.kind === 'plugged' ? 0 : 1) - (b.kind === 'plugged' ? 0 : 1));
  const renamed = new Map<string, string>();
  for (const sp of ordered) {
    const vehicleId = sp.sessionId.slice(0, sp.sessionId.lastIndexOf('@'));
    const s = onBay.get(vehicleId);
    if (s && s.chargerId === sp.chargerId && sp.kind === 'plugged' && !live.has(`tx-${s.transactionId}`)) {
      live.set(`tx-${s.transactionId}`, s);
      renamed.set(sp.sessionId, `tx-${s.transactionId}`);
      continue;
    }
    const d = departureOf.get(vehicleId);
    if (d !== undefined && !used.has(d)) {
      used.add(d);
      renamed.set(sp.sessionId, `exp-${d}`);
    }
  }
  // A vehicle whose stint ends before it leaves (it makes room) stays plugged until someone moves it, maybe late: its
  // profile runs on at the plan's zero to its departure instead of ending and leaving it at the charger's default.
  const leaves = new Map(yard.vehicles.map((v) => [v.vehicleId, v.departureMs]));
  const sessions = yard.energy.sessions.map((sp) => {
    const id = renamed.get(sp.sessionId);
    if (!id) return sp;
    if (!id.startsWith('tx-')) return { ...sp, sessionId: id };
    const vehicleId = sp.sessionId.slice(0, sp.sessionId.lastIndexOf('@'));
    return { ...sp, sessionId: id, departureMs: Math.max(sp.departureMs, leaves.get(vehicleId) ?? sp.departureMs) };
  });
  if (live.size !== onBay.size) return null;
  return { plan: { ...yard.energy, sessions }, live };
}

/** Open tasks whose vehicle is now where the task wanted it. */
export function tasksDone(open: readonly YardTaskRow[], sessions: readonly LiveSession[]): number[] {
  // An unidentified vehicle goes by the name the yard plan gave it (a task may ask to unplug it).
  const on = new Set(sessions.map((s) => `${s.vehicleId ?? unknownVehicleId(s.chargerId)}\u0000${s.chargerId}`));
  return open.filter((t) => t.kind === 'unplug' ? !on.has(`${t.vehicle_id}\u0000${t.bay_id}`) : on.has(`${t.vehicle_id}\u0000${t.bay_id}`)).map((t) => t.id);
}

/** When the current shift started: the latest of the policy's "HH:MM" starts (depot clock) at or before now. */
export function shiftStartMs(nowMs: number, timeZone: string, shiftStarts: readonly string[]): number {
  const parts = (ms: number) => Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(ms).filter((p) => p.type !== 'literal').map((p) => [p.type, Number(p.value)]));
  const offsetAt = (ms: number) => { const p = parts(ms); return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000; };
  const today = parts(nowMs);
  let best = -Infinity;
  for (const day of [0, -1]) {
    for (const hhmm of shiftStarts) {
      const [h, m] = hhmm.split(':').map(Number);
      const wall = Date.UTC(today.year, today.month - 1, today.day + day, h, m);
      const ms = wall - offsetAt(wall - offsetAt(wall));
      if (ms <= nowMs && ms > best) best = ms;
    }
  }
  return Number.isFinite(best) ? best : nowMs - 24 * 3_600_000;
}


export interface YardAdvice {
  readonly vehicleId: string;
  /** `plug`: go to the bay now; `plugged`/`stay`: it is on it; `wait`: park in the lot (the crew moves it, at `at` if planned); `unknown`: not expected here. */
  readonly action: 'plug' | 'plugged' | 'stay' | 'wait' | 'unknown';
  readonly bayId: string | null;
  readonly chargerId: string | null;
  readonly connectorType: ConnectorType | null;
  /** When the vehicle should be on it (now or a planned move), ISO. */
  readonly at: string | null;
  readonly message: string;
}

/** The yard of one depot's control loop: plans, the task list, and the answer to "which bay?". */
export class YardLoop {
  readonly depotId: string;
  readonly #tasks: YardTaskStore;
  readonly #log: Logger;
  plan: YardPlan | null = null;
  /** Bumped whenever the stored task list changes (live updates watch it). */
  version = 0;
  /** Sessions seen at the last re-plan: when one ends, what it delivered counts for the vehicle's next stint. */
  #seen = new Map<string, { s: LiveSession; departureId: string | undefined }>();
  readonly #delivered = new Map<string, { departureId: string; kwh: number }>();
  #closedLeftovers = false;

  constructor(deps: { depotId: string; tasks: YardTaskStore; logger: Logger }) {
    this.depotId = deps.depotId;
    this.#tasks = deps.tasks;
    this.#log = deps.logger.child({ module: 'yard', depotId: deps.depotId });
  }

  get tasks(): YardTaskStore { return this.#tasks; }

  /** The yard plans a depot that has a move policy; the others keep first-come bays. */
  enabled(fleet: DepotFleet): boolean {
    return fleet.movePolicy !== undefined;
  }

  /** Runs the yard planner; null when this depot is not planned as a yard (or cannot be now: see the log). */
  async replan(fleet: DepotFleet, view: LiveView, nowMs: number, uncontrolled: UncontrolledLoad): Promise<{ plan: Plan; live: Map<string, LiveSession>; snapshot: YardSnapshot } | null> {
    if (!this.enabled(fleet)) {
      // Turned off (or left over from before a restart): nobody should still act on its tasks.
      if (this.plan || !this.#closedLeftovers) {
        this.plan = null;
        this.#closedLeftovers = true;
        const sync = await this.#tasks.sync(this.depotId, null, [], [], new Date(nowMs).toISOString());
        if (sync.superseded) this.version++;
      }
      return null;
    }
    this.#foldEnded(fleet, view.sessions, nowMs);
    const since = shiftStartMs(nowMs, fleet.depot.timeZone, fleet.movePolicy?.shiftStarts ?? defaultMovePolicy.shiftStarts);
    const open = await this.#tasks.open(this.depotId);
    const plannedBay = new Map<string, string>();
    for (const o of this.plan?.vehicles ?? []) if (o.bayId) plannedBay.set(o.vehicleId, o.bayId);
    for (const t of open) if (t.kind !== 'unplug') plannedBay.set(t.vehicle_id, t.bay_id);
    const inputs: YardInputs = { movesDoneThisShift: await this.#tasks.movesDoneSince(this.depotId, new Date(since).toISOString()), deliveredKwh: this.#delivered, plannedBay };
    const { snapshot, onBay, departureOf } = buildYardSnapshot(fleet, view, nowMs, uncontrolled, inputs);
    let yard: YardPlan;
    try {
      yard = planYard(snapshot, nowMs, this.plan ? { previous: this.plan } : {});
    } catch (err) {
      // Whatever went wrong with the yard, the chargers still need a plan: the bays as they are is always one.
      if (err instanceof PlannerInputError) this.#log.error({ err: err.message }, 'the yard cannot be planned; planning the bays as they are');
      else this.#log.error({ err }, 'yard planning failed; planning the bays as they are');
      return null;
    }
    const result = controlPlan(yard, onBay, departureOf);
    if (!result) {
      this.#log.error({ onBay: [...onBay.keys()] }, 'the yard plan left a plugged vehicle without a stint; planning the bays as they are');
      return null;
    }
    this.plan = yard;
    return { ...result, snapshot };
  }

  /** After a yard plan is stored: close the tasks reality fulfilled, then make the open list the plan's. */
  async afterPlan(planId: number | null, sessions: readonly LiveSession[], nowMs: number): Promise<TaskSync | null> {
    const yard = this.plan;
    if (!yard) return null;
    let sync: TaskSync;
    try {
      const open = await this.#tasks.open(this.depotId);
      sync = await this.#tasks.sync(this.depotId, planId, yard.tasks, tasksDone(open, sessions), new Date(nowMs).toISOString());
    } catch (err) {
      // The profiles are out already; the task list catches up at the next plan.
      this.#log.error({ err, planId }, 'storing the yard tasks failed');
      return null;
    }
    if (sync.inserted + sync.updated + sync.superseded + sync.done > 0) {
      this.version++;
      this.#log.info({ planId, ...sync, moves: yard.moves, ready: yard.readyCount, vehicles: yard.vehicles.length }, 'yard tasks updated');
    }
    return sync;
  }

  /** A person changed a task (acknowledged, done, skipped). */
  touched(): void { this.version++; }

  /** The vehicle planned onto this bay about now (±2 h), so a plug-in without a known token is still identified. */
  async plannedVehicleAt(chargerId: string, atMs: number): Promise<string | null> {
    const open = (await this.#tasks.open(this.depotId)).filter((t) => t.bay_id === chargerId && t.kind !== 'unplug' && Math.abs(Date.parse(t.at) - atMs) <= 2 * 3_600_000);
    open.sort((a, b) => Math.abs(Date.parse(a.at) - atMs) - Math.abs(Date.parse(b.at) - atMs));
    return open[0]?.vehicle_id ?? null;
  }

  /** "Which bay?" for a driver at the gate (or a kiosk). */
  advice(fleet: DepotFleet, vehicleId: string, sessions: readonly LiveSession[], nowMs: number): YardAdvice {
    const clock = new Intl.DateTimeFormat('en-GB', { timeZone: fleet.depot.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const charger = (id: string | null) => id ? fleet.chargers.find((c) => c.id === id) ?? null : null;
    const answer = (action: YardAdvice['action'], bayId: string | null, at: number | null, message: string): YardAdvice => {
      const c = charger(bayId);
      return { vehicleId, action, bayId, chargerId: c?.stationId ?? null, connectorType: c ? c.connectorType ?? defaultConnectorType(c.kind) : null, at: at === null ? null : new Date(at).toISOString(), message };
    };
    const on = sessions.find((s) => s.vehicleId === vehicleId);
    if (on) return answer('plugged', on.chargerId, on.startedAtMs, `${vehicleId} is plugged in at ${on.chargerId}.`);
    const yard = this.plan;
    if (!yard) {
      // Not a yard depot: the bay its departure names, if any.
      const d = nextDeparture(fleet.departures, vehicleId, nowMs);
      return d?.chargerId ? answer('plug', d.chargerId, nowMs, `Use bay ${d.chargerId}.`) : answer('plug', null, null, `No bay is planned for ${vehicleId}: use any free charger that fits.`);
    }
    const bay = bayFor(yard, vehicleId);
    const c = charger(bay.bayId);
    const plug = c ? ` (${c.connectorType ?? defaultConnectorType(c.kind)})` : '';
    switch (bay.action) {
      case 'plug': return answer('plug', bay.bayId, bay.atMs ?? nowMs, `Go to bay ${bay.bayId}${plug} and plug in.`);
      case 'stay': return answer('stay', bay.bayId, nowMs, `Stay on bay ${bay.bayId}${plug}.`);
      case 'wait': return answer('wait', bay.bayId, bay.atMs, bay.bayId && bay.atMs !== null
        ? `Park ${vehicleId} in the lot: the yard crew plugs it into ${bay.bayId}${plug} at ${clock.format(bay.atMs)}.`
        : `Park ${vehicleId} in the lot: no bay that fits it is free before its departure.`);
      default: return answer('unknown', null, null, `${vehicleId} is not expected at this depot now.`);
    }
  }

  /** Sessions that ended since the last re-plan: what they delivered counts toward the vehicle's current departure. */
  #foldEnded(fleet: DepotFleet, sessions: readonly LiveSession[], nowMs: number): void {
    const now = new Set(sessions.map((s) => s.transactionId));
    for (const [tx, { s, departureId }] of this.#seen) {
      if (now.has(tx)) continue;
      this.#seen.delete(tx);
      if (!s.vehicleId || departureId === undefined || s.energyKwh === null) continue;
      const kwh = Math.max(0, s.energyKwh - s.meterStartKwh);
      const before = this.#delivered.get(s.vehicleId);
      this.#delivered.set(s.vehicleId, { departureId, kwh: (before?.departureId === departureId ? before.kwh : 0) + kwh });
    }
    for (const s of sessions) {
      const seen = this.#seen.get(s.transactionId);
      // Identified later (telematics): the departure it charges for is known from then on.
      if (!seen || (seen.departureId === undefined && s.vehicleId)) {
        this.#seen.set(s.transactionId, { s, departureId: s.vehicleId ? nextDeparture(fleet.departures, s.vehicleId, nowMs)?.id : undefined });
      }
    }
  }
}
