// plan(snapshot, now): the planner's entry point. Pure and deterministic: same input, same output.
import { enforceMinPower } from './min-power.ts';
import { buildProblem, type Problem } from './problem.ts';
import { solve, type Solution } from './solve.ts';
import { remember, warmSolve } from './warm.ts';
import { clockIn, presentBelow, traceSession } from './trace.ts';
import type { DepotSnapshot, Plan, PlanOptions, SessionPlan } from './types.ts';

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;
/** round(v) for the per-slot series (1,000 sessions × 200 slots): a constant scale, no default argument. */
const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Row `row` of a (rows × T) kWh table as kW per slot, rounded, plus `extraKw` (per slot) when given. */
function kwSeries(p: Problem, kwh: Float64Array, row: number, extraKw?: Float64Array): number[] {
  const { T } = p;
  const out = new Array<number>(T);
  if (extraKw) for (let t = 0; t < T; t++) out[t] = round4(kwh[row * T + t] / p.slotHours[t] + extraKw[t]);
  else for (let t = 0; t < T; t++) out[t] = round4(kwh[row * T + t] / p.slotHours[t]);
  return out;
}

/** Plans every session of the depot jointly from `nowMs` to the last departure (at most 48 h). */
export function plan(snapshot: DepotSnapshot, nowMs: number, options: PlanOptions = {}): Plan {
  const p = buildProblem(snapshot, nowMs);
  const warm = options.previous && warmSolve(p, options.previous);
  const solution = warm || solve(p, { capKw: options.previous?.siteCapKw });
  const result = toPlan(snapshot, p, solution);
  remember(result, p, solution.flow);
  return result;
}

/** Assembles the public plan from a solution; exported for the benchmark, which times solve() on its own. */
export function toPlan(snapshot: DepotSnapshot, p: Problem, solution: Solution): Plan {
  const { T } = p;
  const { flow, caps } = solution;
  const hardCaps = { sessionKwh: p.capKwh, circuitKwh: p.circuitCapKwh };
  const adjustments = new Map(enforceMinPower(p, caps, flow, hardCaps).map((a) => [a.session, a]));
  const clock = clockIn(snapshot.timeZone);
  const present = presentBelow(p);
  const sessions: SessionPlan[] = p.sessions.map((s, i) => {
    const powerKw = kwSeries(p, flow.e, i);
    const planned = flow.got[i];
    const shortfall = Math.max(0, p.needKwh[i] - planned);
    const b = s.battery;
    return {
      sessionId: s.id, chargerId: s.chargerId, kind: s.kind, powerKw,
      neededKwh: round(p.needKwh[i]), plannedKwh: round(planned), shortfallKwh: round(shortfall),
      departureMs: s.departureMs,
      ...(b ? { socAtDeparturePercent: round(Math.min(100, b.socPercent + 100 * planned / b.capacityKwh), 2) } : {}),
      ready: shortfall <= 1e-3,
      trace: traceSession(p, caps, flow, solution.capKw, i, clock, adjustments.get(i), present),
    };
  });
  const circuits = p.circuitIds.map((circuitId, c) => ({
    circuitId, limitKw: p.circuitLimitKw[c],
    loadKw: kwSeries(p, flow.load, c),
  }));
  const siteLoadKw = kwSeries(p, flow.load, 0, p.otherLoadKw);
  let energyCost = 0;
  let peakKw = 0;
  for (let t = 0; t < T; t++) {
    energyCost += flow.load[t] * p.price[t];
    peakKw = Math.max(peakKw, flow.load[t] / p.slotHours[t] + p.otherLoadKw[t]);
  }
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  const shortfallKwh = sessions.reduce((a, s) => a + s.shortfallKwh, 0);
  return {
    depotId: snapshot.depotId, nowMs: p.nowMs, slotStartsMs: Array.from(p.slotStartsMs), pricePerKwh: Array.from(p.price),
    sessions, circuits, siteLoadKw, siteCapKw: round(solution.capKw), energyCost: round(energyCost),
    demandChargeIncrement: round(demandChargeIncrement), totalCost: round(energyCost + demandChargeIncrement),
    peakKw: round(peakKw), currency: p.currency, allReady: sessions.every((s) => s.ready), shortfallKwh: round(shortfallKwh),
  };
}
