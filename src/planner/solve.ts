// Chooses the site power cap P that balances energy price against the demand charge, and solves the capped
// flow problem at each candidate P. Cost(P) = min energy cost under cap P + rate × max(0, peak − peak so far) is
// convex in P (the LP's value is convex in its right-hand side), so a golden-section search finds it.
import { emptyFlow, fillSlots, improve, indexSlots, repair, Residual, type Caps, type Flow, type SlotIndex } from './flow.ts';
import type { Problem } from './problem.ts';

export interface Solution {
  readonly flow: Flow;
  readonly caps: Caps;
  readonly capKw: number;
  readonly shortfallKwh: number;
  readonly energyCost: number;
  readonly peakKw: number;
  readonly demandChargeIncrement: number;
  readonly total: number;
  /** Solves run during the search, for the benchmark and the trace. */
  readonly evaluations: number;
}

export interface SearchHint {
  /** Site cap of a previous plan of the same depot: the search starts from there. */
  readonly capKw?: number;
}

function cappedCaps(p: Problem, capKw: number): Caps {
  const circuitKwh = p.circuitCapKwh.slice();
  for (let t = 0; t < p.T; t++) {
    circuitKwh[t] = Math.min(circuitKwh[t], Math.max(0, capKw - p.otherLoadKw[t]) * p.slotHours[t]);
  }
  return { sessionKwh: p.capKwh, circuitKwh };
}

function shortfall(p: Problem, flow: Flow): number {
  let s = 0;
  for (let i = 0; i < p.n; i++) s += Math.max(0, p.needKwh[i] - flow.got[i]);
  return s;
}

function solveCostFirst(p: Problem, caps: Caps, slots: SlotIndex, needKwh: Float64Array, byPriority: boolean): Flow {
  const flow = emptyFlow(p);
  const res = new Residual(p, caps, flow);
  fillSlots(p, res, needKwh, slots, slots.byPrice, p.price);
  // The greedy already delivers the most energy at least cost; taking energy by priority may move some, so polish then.
  if (repair(p, res, needKwh, slots, byPriority)) improve(p, res, slots, 4 * p.T + 16);
  return flow;
}

/** Policy minimum SoC first, earliest slots first, then the rest of each need at least cost on what is left. */
function solveReadinessFirst(p: Problem, caps: Caps, slots: SlotIndex, byPriority: boolean): Flow {
  const first = emptyFlow(p);
  const res = new Residual(p, caps, first);
  fillSlots(p, res, p.minNeedKwh, slots, slots.byTime, slots.byTime);
  repair(p, res, p.minNeedKwh, slots, byPriority);
  const left: Caps = {
    sessionKwh: caps.sessionKwh.map((v, k) => Math.max(0, v - first.e[k])),
    circuitKwh: caps.circuitKwh.map((v, k) => Math.max(0, v - first.load[k])),
  };
  const restNeed = p.needKwh.map((v, i) => Math.max(0, v - first.got[i]));
  const rest = solveCostFirst(p, left, slots, restNeed, byPriority);
  const flow = emptyFlow(p);
  for (let k = 0; k < flow.e.length; k++) flow.e[k] = first.e[k] + rest.e[k];
  for (let k = 0; k < flow.load.length; k++) flow.load[k] = first.load[k] + rest.load[k];
  for (let i = 0; i < p.n; i++) flow.got[i] = first.got[i] + rest.got[i];
  return flow;
}

/**
 * Solves for one site cap. `byPriority` re-ranks shortfall by priority; the cap search leaves it out (the total
 * delivered, which is all the search compares, does not change) and the chosen cap is solved once more with it.
 */
export function solveAtCap(p: Problem, slots: SlotIndex, capKw: number, byPriority = true): Omit<Solution, 'evaluations'> {
  const caps = cappedCaps(p, capKw);
  let flow: Flow;
  if (p.minNeedKwh.some((v) => v > 0)) {
    flow = solveReadinessFirst(p, caps, slots, byPriority);
    // Readiness for the minimum must never cost a departure: fall back to pure cost order if it would.
    if (shortfall(p, flow) > 1e-6) {
      const plain = solveCostFirst(p, caps, slots, p.needKwh, byPriority);
      if (shortfall(p, plain) < shortfall(p, flow) - 1e-6) flow = plain;
    }
  } else {
    flow = solveCostFirst(p, caps, slots, p.needKwh, byPriority);
  }
  let energyCost = 0;
  let peakKw = 0;
  for (let t = 0; t < p.T; t++) {
    energyCost += flow.load[t] * p.price[t];
    peakKw = Math.max(peakKw, flow.load[t] / p.slotHours[t] + p.otherLoadKw[t]);
  }
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  return {
    flow, caps, capKw, shortfallKwh: shortfall(p, flow), energyCost, peakKw, demandChargeIncrement,
    total: energyCost + demandChargeIncrement,
  };
}

const golden = (Math.sqrt(5) - 1) / 2;

/**
 * The smallest cap under which the site could even carry what `got` delivers, deadline by deadline: the energy of
 * the sessions gone by slot k must fit under the cap in slots before k. No need to search below it.
 */
function energyBound(p: Problem, got: Float64Array): number {
  const dueBy = new Float64Array(p.T + 1);
  for (let i = 0; i < p.n; i++) dueBy[p.end[i]] += got[i];
  const carried = (capKw: number) => {
    let sum = 0, due = 0;
    for (let t = 0; t < p.T; t++) {
      sum += Math.min(p.circuitCapKwh[t], Math.max(0, capKw - p.otherLoadKw[t]) * p.slotHours[t]);
      due += dueBy[t + 1];
      if (sum < due - 1e-9) return false;
    }
    return true;
  };
  let lo = 0, hi = p.circuitLimitKw[0];
  for (let k = 0; k < 50 && hi - lo > 1e-3; k++) {
    const mid = (lo + hi) / 2;
    if (carried(mid)) hi = mid; else lo = mid;
  }
  return lo;
}

/** Best plan over site caps: least shortfall first, then least energy cost plus demand-charge increment. */
export function solve(p: Problem, hint: SearchHint = {}): Solution {
  const slots = indexSlots(p);
  let evaluations = 0;
  const at = (capKw: number) => { evaluations++; return solveAtCap(p, slots, capKw, false); };
  const maxCap = p.circuitLimitKw[0];
  const done = (s: Omit<Solution, 'evaluations'>): Solution => {
    evaluations++;
    return { ...solveAtCap(p, slots, s.capKw, true), evaluations };
  };
  if (p.demandChargePerKw <= 0) return { ...solveAtCap(p, slots, maxCap, true), evaluations: 1 };
  const full = at(maxCap);
  if (full.peakKw <= p.peakSoFarKw + 1e-9) return done(full);

  let totalNeed = 0;
  for (let i = 0; i < p.n; i++) totalNeed += p.needKwh[i];
  const allowedShortfall = full.shortfallKwh + 1e-6 * (1 + totalNeed);
  const ok = (s: Omit<Solution, 'evaluations'>) => s.shortfallKwh <= allowedShortfall;
  const tolKw = Math.max(0.05, 0.002 * full.peakKw);
  let best = full;
  // The total is convex in the cap where the cap delivers everything the full limit does and +∞ below: unimodal,
  // so a golden-section search over [peak so far or energy bound, unconstrained peak] finds the best cap.
  const val = (s: Omit<Solution, 'evaluations'>) => (ok(s) ? s.total : Number.POSITIVE_INFINITY);
  const goldenSearch = (lo: number, hi: number): Omit<Solution, 'evaluations'> => {
    let a = lo, b = hi;
    let x1 = b - golden * (b - a), x2 = a + golden * (b - a);
    let s1 = at(x1), s2 = at(x2);
    while (b - a > tolKw) {
      const v1 = val(s1), v2 = val(s2);
      // Both infeasible: the feasible region, and the optimum, lie to the right.
      if (v1 <= v2 && v1 < Number.POSITIVE_INFINITY) { b = x2; x2 = x1; s2 = s1; x1 = b - golden * (b - a); s1 = at(x1); }
      else { a = x1; x1 = x2; s1 = s2; x2 = a + golden * (b - a); s2 = at(x2); }
    }
    return val(s1) <= val(s2) ? s1 : s2;
  };
  const lo = Math.max(0, Math.min(p.peakSoFarKw, full.peakKw), energyBound(p, full.flow.got));
  const hi = full.peakKw;
  let found: Omit<Solution, 'evaluations'> | undefined;
  if (hi - lo <= tolKw) return done(best);
  const width = Math.max(3 * tolKw, 0.01 * hi);
  const warm = hint.capKw !== undefined && hint.capKw >= lo && hint.capKw <= hi;
  // Convexity makes the ends cheap to rule in: if a step in from an end does not pay, that end is the optimum.
  // A warm start far from the top skips this probe.
  const belowHi = warm && (hint.capKw ?? hi) < hi - width ? undefined : at(Math.max(lo, hi - 2 * tolKw));
  if (belowHi && val(belowHi) >= full.total) return done(full);
  if (warm && hint.capKw !== undefined) {
    // Warm start: one event rarely moves the best cap far. Search a narrow bracket around the previous cap and
    // widen to the whole range only if the best lands on the bracket's edge.
    const a = Math.max(lo, hint.capKw - width), b = Math.min(hi, hint.capKw + width);
    const local = goldenSearch(a, b);
    const onEdge = (a > lo && local.capKw - a < 2 * tolKw) || (b < hi && b - local.capKw < 2 * tolKw) || !ok(local);
    if (!onEdge) found = local;
  }
  if (!found) {
    const atLo = at(lo);
    const aboveLo = ok(atLo) ? at(Math.min(hi, lo + 2 * tolKw)) : atLo;
    found = ok(atLo) && val(aboveLo) >= atLo.total ? atLo : goldenSearch(lo, hi);
  }
  if (belowHi && val(belowHi) < val(found)) found = belowHi;
  if (found && ok(found) && found.total < best.total) best = found;
  return done(best);
}
