// A re-plan after an event starts from the previous plan instead of from nothing: its exact energy per session and
// slot (kept, with the problem it solved, for the Plan object plan() returned) is mapped onto the new slot grid and
// clipped to the new snapshot (a departure moved earlier, a new vehicle, a new need, a lower limit), at the previous
// peak. Only what the event changed is then repaired: augmenting paths restore the max flow (and the priority order),
// and cycle cancelling restores least cost. Most of the flow never moves, so this costs a few residual labellings
// instead of a full cap search.
import { emptyFlow, improve, indexSlots, repair, Residual, type Caps, type Flow, type SlotIndex } from './flow.ts';
import type { Problem } from './problem.ts';
import { nothingAbove, nowFirstNeed, type Solution } from './solve.ts';
import type { Plan } from './types.ts';

const eps = 1e-9;
/** A phase or round of the repair that moves no more than this (1 Wh) is not worth another; also the slack in the
 * need checks, so a re-plan does not chase crumbs. */
const crumbKwh = 1e-3;

/** Removes `kwh` of session i in slot t, from the session and every circuit above it. */
function take(p: Problem, flow: Flow, i: number, t: number, kwh: number): void {
  flow.e[i * p.T + t] -= kwh;
  flow.got[i] -= kwh;
  for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) flow.load[c * p.T + t] -= kwh;
}

/**
 * The previous plan's energy (exact, as its solve left it), on the new grid and within the new per-session limits and
 * needs. `before[i]` is session i's row in the previous problem, or -1. Grids share boundaries from slot 1 on
 * (tightened checked it); the new first slot is the tail of the old one, so it keeps the old first slot's power.
 */
function seed(p: Problem, made: Made, before: Int32Array): Flow {
  const { T } = p;
  const q = made.problem, qe = made.flow.e, qT = q.T;
  const flow = emptyFlow(p);
  const { e, load, got: gotOf } = flow;
  const { capKwh, leaf, parent, start, end } = p;
  const firstShare = p.slotHours[0] / q.slotHours[0];
  for (let i = 0; i < p.n; i++) {
    const j = before[i];
    if (j < 0) continue;
    for (let t = start[i]; t < end[i]; t++) {
      const v = Math.min(qe[j * qT + t] * (t === 0 ? firstShare : 1), capKwh[i * T + t]);
      if (v <= eps) continue;
      e[i * T + t] = v;
      gotOf[i] += v;
      for (let c = leaf[i]; c >= 0; c = parent[c]) load[c * T + t] += v;
    }
    // A smaller need than planned for: give back the dearest, latest energy first.
    for (let t = end[i] - 1; gotOf[i] > p.needKwh[i] + eps && t >= start[i]; t--) {
      let dearest = -1;
      for (let u = start[i]; u < end[i]; u++) {
        if (e[i * T + u] > eps && (dearest < 0 || p.price[u] >= p.price[dearest])) dearest = u;
      }
      if (dearest < 0) break;
      take(p, flow, i, dearest, Math.min(e[i * T + dearest], gotOf[i] - p.needKwh[i]));
    }
  }
  return flow;
}

/** Brings every circuit back under its limit, leaves first, taking from the lowest-ranked sessions below it. */
function clip(p: Problem, caps: Caps, flow: Flow): void {
  const { T, n } = p;
  const C = p.circuitIds.length;
  // The previous plan's rounded powers leave crumbs of excess in many slots: per circuit, its sessions are sorted
  // lowest rank first once, and each slot's excess walks them only until it is gone (not a gather and sort per slot).
  let lowestFirst: Int32Array | undefined;
  for (let c = C - 1; c >= 0; c--) {
    let mine: number[] | undefined;
    for (let t = 0; t < T; t++) {
      let excess = flow.load[c * T + t] - caps.circuitKwh[c * T + t];
      if (excess <= eps) continue;
      lowestFirst ??= Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => p.rank[b] - p.rank[a]);
      mine ??= Array.from(lowestFirst).filter((i) => below(p, p.leaf[i], c));
      for (let k = 0; k < mine.length && excess > eps; k++) {
        const i = mine[k];
        // Present in slot t (what Problem.presentSessions lists).
        if (t < p.start[i] || t >= p.end[i] || !(p.capKwh[i * T + t] > 0)) continue;
        const a = Math.min(excess, flow.e[i * T + t]);
        if (a > 0) { take(p, flow, i, t, a); excess -= a; }
      }
    }
  }
}

/** Whether circuit d is c or lies below it. */
function below(p: Problem, d: number, c: number): boolean {
  for (; d >= 0; d = p.parent[d]) if (d === c) return true;
  return false;
}

/**
 * Restores, from a flow that fits `caps` (clipped), the max flow at least cost: Dinic phases towards the cheapest price
 * group first (so what is added lands where it costs least), then the priority order (repair) and cycle cancelling
 * (improve). Phases and rounds that move no more than `minKwh` end early.
 */
export function refill(p: Problem, slots: SlotIndex, caps: Caps, flow: Flow, byPriority: boolean, minKwh: number): Residual {
  const res = new Residual(p, caps, flow);
  res.minArc = minKwh;
  const want = (i: number) => p.needKwh[i] - flow.got[i];
  for (let g = 0; g < p.T;) {
    let h = g + 1;
    while (h < p.T && p.price[slots.byPrice[h]] === p.price[slots.byPrice[g]]) h++;
    const group = Array.from(slots.byPrice.subarray(g, h));
    g = h;
    for (let phase = 0; phase < 4 * p.n + 16; phase++) {
      const pushed = res.blockingFlow(group, want, (i, t, d) => { flow.load[t] += d; flow.got[i] += d; });
      if (pushed <= minKwh) break;
    }
  }
  repair(p, res, p.needKwh, slots, byPriority, minKwh);
  improve(p, res, slots, 4 * p.T + 16, minKwh);
  return res;
}

/** The site cap as per-slot root capacities, kWh. */
export function cappedCaps(p: Problem, capKw: number): Caps {
  const circuitKwh = p.circuitCapKwh.slice();
  for (let t = 0; t < p.T; t++) circuitKwh[t] = Math.min(circuitKwh[t], Math.max(0, capKw - p.otherLoadKw[t]) * p.slotHours[t]);
  return { sessionKwh: p.capKwh, circuitKwh };
}


/**
 * The problem each plan was made from, keyed by the Plan object plan() returned: what the previous snapshot allowed
 * (per-slot circuit and session limits, prices) is not in the Plan, and a warm start is only sound when the new
 * snapshot allows no more. Opaque to the caller and never changes an answer for a given (snapshot, now, previous
 * object); a Plan that did not come from plan() in this process (a copy, a plan read back from storage) has no entry
 * and is re-planned by the full search, seeded with its cap.
 */
interface Made {
  readonly problem: Problem;
  /** The plan's energy before rounding to the Plan's powers (after the AC minimum pass), kWh. */
  readonly flow: Flow;
}
const madeFrom = new WeakMap<Plan, Made>();

/** Called by plan() with the flow the Plan's powers were rounded from; neither is changed afterwards. */
export function remember(plan: Plan, p: Problem, flow: Flow): void {
  madeFrom.set(plan, { problem: p, flow });
}

/**
 * Whether an event within the current slot only tightened the problem: every limit (each circuit, net of other site
 * load, and each session's per-slot energy: charger, vehicle, taper, arrival, departure) is at most what it was, the
 * prices and the demand charge are the same, every session the previous plan still had energy for is there and needs
 * at least that energy. Then, when everyone can still be ready, the smallest sufficient cap can only have risen (a
 * raised limit, less other load, a vehicle that left or a need that shrank would let the search find a lower one);
 * with shortfall it may fall, which nothingBelow catches. Returns each session's row in the previous problem (-1 for
 * a new one), or undefined when the event did more than tighten.
 */
function tightened(p: Problem, made: Made): Int32Array | undefined {
  const q = made.problem;
  // An event within the previous plan's first slot, on the same slot grid; at a slot boundary the full search runs
  // again, which also lowers the cap when the slots that set it are past.
  if (!(q.T >= 1 && p.nowMs >= q.slotStartsMs[0] && p.nowMs < q.slotStartsMs[1])) return undefined;
  const shared = Math.min(p.T, q.T);
  for (let t = 1; t <= shared; t++) if (p.slotStartsMs[t] !== q.slotStartsMs[t]) return undefined;
  if (p.demandChargePerKw !== q.demandChargePerKw || p.peakSoFarKw < q.peakSoFarKw || p.expectedPeakKw !== q.expectedPeakKw) return undefined;
  for (let t = 0; t < shared; t++) if (p.price[t] !== q.price[t]) return undefined;
  const C = p.circuitIds.length;
  if (C !== q.circuitIds.length) return undefined;
  for (let c = 0; c < C; c++) {
    if (p.circuitIds[c] !== q.circuitIds[c] || p.parent[c] !== q.parent[c]) return undefined;
    // In kWh per slot: the new first slot is the tail of the old one, so what fits in it fitted before.
    for (let t = 0; t < shared; t++) if (p.circuitCapKwh[c * p.T + t] > q.circuitCapKwh[c * q.T + t] + eps) return undefined;
  }
  const rowOf = new Map<string, number>();
  for (let j = 0; j < q.n; j++) rowOf.set(q.sessions[j].id, j);
  const before = new Int32Array(p.n).fill(-1);
  const qe = made.flow.e, firstShare = p.slotHours[0] / q.slotHours[0];
  /** Energy the previous plan still had for its session j from now on (the new first slot is the old one's tail). */
  const rest = (j: number) => {
    let kwh = qe[j * q.T] * firstShare;
    for (let u = 1; u < q.T; u++) kwh += qe[j * q.T + u];
    return kwh;
  };
  for (let i = 0; i < p.n; i++) {
    const j = rowOf.get(p.sessions[i].id);
    // A new session only adds need.
    if (j === undefined) continue;
    if (p.leaf[i] !== q.leaf[j] || p.end[i] > q.T) return undefined;
    for (let t = p.start[i]; t < p.end[i]; t++) if (p.capKwh[i * p.T + t] > q.capKwh[j * q.T + t] + eps) return undefined;
    // Less need than the energy still planned for it: a lower cap may do.
    if (p.needKwh[i] < rest(j) - crumbKwh) return undefined;
    before[i] = j;
    rowOf.delete(p.sessions[i].id);
  }
  // A vehicle gone that still had energy planned.
  for (const j of rowOf.values()) if (rest(j) > crumbKwh) return undefined;
  return before;
}

/**
 * Whether a lower cap cannot pay, from a least-cost flow at `capKw`: lowering the cap takes energy out of every slot
 * held at it. If one of them cannot shed any (no residual path to a slot with room), a lower cap delivers less: with
 * shortfall, "tightened" alone does not rule that out, since the event may lower what can be delivered at all (a
 * slower vehicle, a lower circuit) and with it the cap needed to deliver it. Otherwise a kWh shed from slot t costs at
 * least the price gap to the cheapest slot with room it reaches, so if those gaps, over the slots' hours, add up to at
 * least the demand-charge rate, lowering the cap does not pay (the joint cost of shedding is never below the sum of
 * each slot's cheapest way).
 */
function nothingBelow(p: Problem, res: Residual, slots: SlotIndex, capKw: number): boolean {
  const { n, T } = p;
  const nodes = res.prev.length;
  const label = new Float64Array(nodes);
  const next = new Int32Array(nodes);
  res.labelAll(label, next, slots.byPrice);
  let worth = 0, held = 0;
  for (let t = 0; t < T; t++) {
    const capped = Math.max(0, capKw - p.otherLoadKw[t]) * p.slotHours[t] <= p.circuitCapKwh[t] + 1e-9;
    if (!capped || res.siteRoom(t) > res.minArc) continue;
    held++;
    if (!(label[n + t] < Number.POSITIVE_INFINITY)) return true;
    worth += p.slotHours[t] * Math.max(0, label[n + t] - p.price[t]);
  }
  return held > 0 && worth >= p.demandChargePerKw;
}

/**
 * The warm re-plan at the previous plan's peak (or the month's, if higher), or undefined when it does not apply and the
 * full search must run: a readiness tier (policy minimum, estimated departures) is in play, the event did more than
 * tighten, a session is short and could get more under a higher cap (a site-capped slot is reachable from it in the
 * residual network), or a higher or a lower cap could cost less.
 */
export function warmSolve(p: Problem, previous: Plan): Solution | undefined {
  const made = madeFrom.get(previous);
  // A reserve for vehicles not yet known is kept out of the tiers, which the repair here does not know about; nor does
  // it know how to hold a raise (policy.holdRaiseKw).
  if (!made || p.reserveKwh || p.policy.holdRaiseKw > 0 || p.minNeedKwh.some((v) => v > 0) || nowFirstNeed(p).some((v) => v > 0)) return undefined;
  const before = tightened(p, made);
  if (!before) return undefined;
  // The previous plan's own peak, not its cap: a cap it did not use would let the repair spend demand charge. Without
  // a demand charge nothing is capped (a peak kept for nothing would only raise the energy cost).
  const charged = p.demandChargePerKw > 0;
  const capKw = charged ? Math.min(p.circuitLimitKw[0], Math.max(previous.peakKw, p.peakSoFarKw)) : p.circuitLimitKw[0];
  const caps = cappedCaps(p, capKw);
  const flow = seed(p, made, before);
  clip(p, caps, flow);
  const slots = indexSlots(p);
  const res = refill(p, slots, caps, flow, true, crumbKwh);
  let shortfallKwh = 0;
  for (let i = 0; i < p.n; i++) shortfallKwh += Math.max(0, p.needKwh[i] - flow.got[i]);
  if (shortfallKwh > 1e-6 && res.reachesCappedRoot(p.needKwh, p.circuitCapKwh, crumbKwh)) return undefined;
  let energyCost = 0, peakKw = 0;
  for (let t = 0; t < p.T; t++) {
    energyCost += flow.load[t] * p.price[t];
    peakKw = Math.max(peakKw, flow.load[t] / p.slotHours[t] + p.otherLoadKw[t]);
  }
  // Kept only while nothing above the cap pays (as in the search) and, when the plan raises the month's peak, nothing
  // below it does: total(P) is convex where P delivers this much, so the cap is then the best one. A plan that stays
  // under the peak already paid for and never touches the cap owes no demand charge and is capped by nothing.
  if (charged) {
    const raises = peakKw > p.peakSoFarKw + 1e-9;
    if ((raises || peakKw >= capKw - 1e-6) && !nothingAbove(p, flow, caps, peakKw)) return undefined;
    if (raises && !nothingBelow(p, res, slots, capKw)) return undefined;
  }
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  return {
    flow, caps, capKw, shortfallKwh, energyCost, peakKw, demandChargeIncrement, total: energyCost + demandChargeIncrement,
    evaluations: 0, cutHours: 0,
  };
}
