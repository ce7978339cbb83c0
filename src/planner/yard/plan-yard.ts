// planYard(snapshot, now): which bay each vehicle uses and when, the yard crew's task list, and one joint energy plan
// over all stints. Pure and deterministic: same input, same output.
import { plan } from '../plan.ts';
import { clockIn } from '../trace.ts';
import type { DepotSnapshot, Plan, SessionSpec } from '../types.ts';
import { buildYardModel, type YardModel } from './model.ts';
import { preferredKind, simulate, type SimResult, type SimStint, type SimStrategy } from './simulate.ts';
import type { BayAnswer, Stint, VehicleOutcome, YardPlan, YardSnapshot, YardTask } from './types.ts';

export interface PlanYardOptions {
  /** The previous yard plan for the same depot: its bay choices are kept when still as good, its energy plan seeds the cap search. */
  readonly previous?: YardPlan;
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;
const fmt = (v: number) => v.toFixed(1);

/** Session id of a stint in the energy plan. */
export const stintSessionId = (vehicleId: string, bayId: string) => `${vehicleId}@${bayId}`;

/** The energy planner's snapshot for a set of stints: one session per stint, its window the stint. */
export function energySnapshot(m: YardModel, stints: readonly SimStint[]): { snapshot: DepotSnapshot; sessionOf: Map<SimStint, string> } {
  const s = m.snapshot;
  const lastOf = new Map<number, SimStint>();
  const before = new Map<SimStint, number>();
  const delivered = new Map<number, number>();
  const live = stints.filter((st) => st.toMs > st.fromMs).sort((a, b) => a.fromMs - b.fromMs || a.b - b.b);
  for (const st of live) {
    before.set(st, delivered.get(st.v) ?? 0);
    delivered.set(st.v, (delivered.get(st.v) ?? 0) + st.kwh);
    lastOf.set(st.v, st);
  }
  const count = new Map<number, number>();
  for (const st of live) count.set(st.v, (count.get(st.v) ?? 0) + 1);
  const sessionOf = new Map<SimStint, string>();
  const used = new Set<string>();
  const sessions: SessionSpec[] = live.map((st) => {
    const v = m.vehicles[st.v];
    const bay = m.bays[st.b];
    const last = lastOf.get(st.v) === st;
    // A vehicle with several stints: each earlier one must deliver what the simulation gave it, the last the rest.
    const need = last ? Math.max(0, v.needKwh - (before.get(st) ?? 0)) : st.kwh;
    let id = stintSessionId(v.id, bay.id);
    for (let k = 2; used.has(id); k++) id = `${stintSessionId(v.id, bay.id)}#${k}`;
    used.add(id);
    sessionOf.set(st, id);
    const single = count.get(st.v) === 1;
    return {
      id, kind: st.fromMs <= m.nowMs ? 'plugged' : 'expected', chargerId: bay.id, vehicleId: v.id, known: true,
      ...(st.fromMs > m.nowMs ? { arrivalMs: st.fromMs } : {}),
      departureMs: st.toMs, energyNeededKwh: round(need, 6),
      vehicleMaxPowerKw: bay.kind === 'AC' ? v.spec.acMaxPowerKw : v.spec.dcMaxPowerKw,
      ...(single && v.spec.battery ? { battery: v.spec.battery } : {}),
      ...(single && v.spec.taper ? { taper: v.spec.taper } : {}),
      ...(v.spec.priority !== undefined ? { priority: v.spec.priority } : {}),
      ...(v.spec.departureEstimated && st.toMs >= v.departureMs ? { departureEstimated: true } : {}),
    };
  });
  const snapshot: DepotSnapshot = {
    depotId: s.depotId, timeZone: s.timeZone, ...(s.slotMinutes !== undefined ? { slotMinutes: s.slotMinutes } : {}),
    gridLimitKw: s.gridLimitKw, circuits: m.circuits, chargers: m.chargerSpecs, sessions,
    ...(s.otherLoadKw ? { otherLoadKw: s.otherLoadKw } : {}), tariff: s.tariff,
    ...(s.peakSoFarKw !== undefined ? { peakSoFarKw: s.peakSoFarKw } : {}), ...(s.policy ? { policy: s.policy } : {}),
  };
  return { snapshot, sessionOf };
}

/** Turns a simulated night into the public yard plan: stints, tasks in words, the joint energy plan, outcomes. */
export function assemble(m: YardModel, sim: SimResult, energyOptions: { previous?: Plan } = {}): YardPlan {
  const { snapshot: energyIn, sessionOf } = energySnapshot(m, sim.stints);
  const energy = plan(energyIn, m.nowMs, energyOptions);
  const clock = clockIn(m.snapshot.timeZone);
  const planned = new Map(energy.sessions.map((s) => [s.sessionId, s]));
  const live = [...sessionOf.keys()];

  const stints: Stint[] = live.map((st) => ({ vehicleId: m.vehicles[st.v].id, bayId: m.bays[st.b].id, fromMs: st.fromMs, toMs: st.toMs }));
  const tasks: YardTask[] = [];
  for (const st of live) {
    if (st.origin.kind === 'present') continue;
    const v = m.vehicles[st.v].id, bay = m.bays[st.b].id;
    const at = clock(st.fromMs);
    if (st.origin.kind === 'arrival') {
      tasks.push({ id: `plug:${v}@${bay}`, kind: 'plug', atMs: st.fromMs, vehicleId: v, bayId: bay, from: 'arrival', isMove: false, text: `${at} ${v} arrives: plug into ${bay}` });
      continue;
    }
    const fromBay = st.origin.kind === 'bay' ? m.bays[st.origin.bay].id : null;
    const out = st.out && { vehicleId: m.vehicles[st.out.v].id, readyAtMs: st.out.readyAtMs };
    const where = fromBay === null ? 'the lot' : fromBay;
    tasks.push({
      id: `move:${v}@${bay}`, kind: out ? 'swap' : 'plug', atMs: st.fromMs, vehicleId: v, bayId: bay,
      from: fromBay === null ? 'lot' : { bayId: fromBay }, ...(out ? { out } : {}), isMove: true,
      text: `${at} move ${v} from ${where} to ${bay}${out ? ` (${out.vehicleId} done at ${clock(out.readyAtMs)})` : ''}`,
    });
  }
  tasks.sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id));

  const byVehicle = new Map<number, SimStint[]>();
  for (const st of live) byVehicle.set(st.v, [...(byVehicle.get(st.v) ?? []), st]);
  const vehicles: VehicleOutcome[] = m.vehicles.map((v, k) => {
    const own = byVehicle.get(k) ?? [];
    let plannedKwh = 0;
    const trace: string[] = [];
    for (const st of own) {
      const sp = planned.get(sessionOf.get(st) ?? '');
      plannedKwh += sp?.plannedKwh ?? 0;
    }
    const shortfallKwh = Math.max(0, v.needKwh - plannedKwh);
    const first = own[0];
    const bayId = v.onBay >= 0 ? m.bays[v.onBay].id : first && first.fromMs <= v.availableMs ? m.bays[first.b].id : null;
    if (v.departureMs <= m.nowMs) trace.push('already departed');
    if (v.onBay >= 0) trace.push(`on ${m.bays[v.onBay].id} now`);
    if (!Number.isNaN(sim.waitingFromMs[k])) {
      const from = sim.waitingFromMs[k];
      if (!first || first.origin.kind === 'present') trace.push(`waits in the lot from ${clock(from)}: ${sim.waitReason[k] ?? 'no compatible bay planned'}`);
      else if (first.fromMs > from) trace.push(`waits in the lot from ${clock(from)} until ${clock(first.fromMs)}`);
      else trace.push(`no bay free for it at ${clock(from)}: the crew moves it in at once`);
    }
    for (const st of own) {
      const bay = m.bays[st.b];
      const kind = preferredKind(m, v, st.fromMs);
      const kinds = new Set(m.bays.filter((_, j) => v.compatible[j]).map((b) => b.kind));
      const why = st.origin.kind === 'present' ? '' : kinds.size === 1 ? ` (the only kind of bay it can use)` : bay.kind === kind
        ? (kind === 'DC' ? ` (DC: ${fmt(v.needKwh)} kWh by ${clock(v.departureMs)} is more than AC can bring)` : ' (AC is enough)')
        : ` (no ${kind} bay free)`;
      const until = st.toMs < v.departureMs ? `, unplugged at ${clock(st.toMs)} to make room` : '';
      trace.push(`${bay.id} ${clock(st.fromMs)}–${clock(st.toMs)}${why}${until}`);
      const sp = planned.get(sessionOf.get(st) ?? '');
      if (sp) trace.push(...sp.trace);
    }
    if (own.length === 0 && v.needKwh > 1e-3 && v.departureMs > m.nowMs) trace.push(`short by ${fmt(v.needKwh)} kWh: no bay planned`);
    return {
      vehicleId: v.id, bayId, ready: shortfallKwh <= 1e-3, plannedKwh: round(plannedKwh), shortfallKwh: round(shortfallKwh),
      departureMs: v.departureMs, trace,
    };
  });
  const moves = tasks.filter((t) => t.isMove).length;
  return {
    depotId: m.snapshot.depotId, nowMs: m.nowMs, stints, tasks, vehicles, energy, moves,
    readyCount: vehicles.filter((v) => v.ready).length, timeZone: m.snapshot.timeZone,
  };
}

/** The bays each vehicle had in a previous plan, for stability: its first stint not yet over. */
function previousBays(previous: YardPlan | undefined, nowMs: number): Map<string, string> {
  const out = new Map<string, string>();
  if (!previous) return out;
  for (const st of [...previous.stints].sort((a, b) => a.fromMs - b.fromMs)) {
    if (st.toMs > nowMs && !out.has(st.vehicleId)) out.set(st.vehicleId, st.bayId);
  }
  return out;
}

/** Plans bays, yard moves and energy for every vehicle of the depot from `nowMs`. */
export function planYard(snapshot: YardSnapshot, nowMs: number, options: PlanYardOptions = {}): YardPlan {
  const m = buildYardModel(snapshot, nowMs);
  const strategy: SimStrategy = { choose: 'fit', moves: 'smart', previousBay: previousBays(options.previous, nowMs) };
  return assemble(m, simulate(m, strategy), options.previous ? { previous: options.previous.energy } : {});
}

/** The kiosk's answer: which bay a vehicle should use now or at arrival, or that it parks in the lot. */
export function bayFor(p: YardPlan, vehicleId: string): BayAnswer {
  const outcome = p.vehicles.find((v) => v.vehicleId === vehicleId);
  if (!outcome) return { vehicleId, action: 'unknown', bayId: null, atMs: null, text: `${vehicleId} is not in the plan` };
  const clock = clockIn(p.timeZone ?? 'UTC');
  const stint = p.stints.filter((s) => s.vehicleId === vehicleId && s.toMs > p.nowMs).sort((a, b) => a.fromMs - b.fromMs)[0];
  if (!stint) return { vehicleId, action: 'wait', bayId: null, atMs: null, text: `Park in the lot: no compatible bay is free for ${vehicleId} before its departure` };
  const task = p.tasks.find((t) => t.vehicleId === vehicleId && t.bayId === stint.bayId);
  if (!task) return { vehicleId, action: 'stay', bayId: stint.bayId, atMs: null, text: `Stay on ${stint.bayId}` };
  if (!task.isMove) return { vehicleId, action: 'plug', bayId: stint.bayId, atMs: task.atMs, text: `Plug into ${stint.bayId}` };
  if (task.atMs <= p.nowMs + 5 * 60_000 && task.from === 'lot' && !task.out) return { vehicleId, action: 'plug', bayId: stint.bayId, atMs: task.atMs, text: `Plug into ${stint.bayId}` };
  return {
    vehicleId, action: 'wait', bayId: stint.bayId, atMs: task.atMs,
    text: `Park in the lot: the crew moves ${vehicleId} to ${stint.bayId} at ${clock(task.atMs)}`,
  };
}
