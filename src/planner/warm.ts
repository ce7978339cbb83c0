// A re-plan after an event starts from the previous plan instead of from nothing: its energy per session and slot is
// mapped onto the new slot grid and clipped to the new snapshot (a departure moved, a session gone, a new need), at
// the previous site cap. Only what the event changed is then repaired: augmenting paths restore the max flow (and the
// priority order), and cycle cancelling restores least cost. Most of the flow never moves, so this costs a few
// residual labellings instead of a full cap search.
import { emptyFlow, improve, indexSlots, repair, Residual, type Caps, type Flow, type SlotIndex } from './flow.ts';
import type { Problem } from './problem.ts';
import { nothingAbove, nowFirstNeed, type Solution } from './solve.ts';
import type { Plan } from './types.ts';

const eps = 1e-9;
/** The previous plan's powers are rounded (0.1 W), so crumbs of room are everywhere: a phase or round that moves no
 * more than this is not worth another. */
const crumbKwh = 1e-3;

/** Removes `kwh` of session i in slot t, from the session and every circuit above it. */
function take(p: Problem, flow: Flow, i: number, t: number, kwh: number): void {
  flow.e[i * p.T + t] -= kwh;
  flow.got[i] -= kwh;
  for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) flow.load[c * p.T + t] -= kwh;
}

/** The previous plan's energy, on the new grid and within the new per-session limits and needs. */
function seed(p: Problem, previous: Plan): Flow {
  const { T } = p;
  const flow = emptyFlow(p);
  const byId = new Map(previous.sessions.map((s) => [s.sessionId, s.powerKw]));
  // The previous slot containing each new slot's start (grids share boundaries except a short first slot).
  const from = new Int32Array(T).fill(-1);
  const starts = previous.slotStartsMs;
  for (let t = 0, u = 0; t < T; t++) {
    const at = p.slotStartsMs[t];
    while (u + 1 < starts.length && starts[u + 1] <= at) u++;
    if (u + 1 < starts.length && starts[u] <= at) from[t] = u;
  }
  const { e, load, got: gotOf } = flow;
  const { capKwh, slotHours, needKwh, leaf, parent, start, end } = p;
  for (let i = 0; i < p.n; i++) {
    const kw = byId.get(p.sessions[i].id);
    if (!kw) continue;
    let got = 0;
    for (let t = start[i]; t < end[i]; t++) {
      if (from[t] < 0) continue;
      const v = Math.min((kw[from[t]] ?? 0) * slotHours[t], capKwh[i * T + t]);
      if (v > eps) { e[i * T + t] = v; got += v; }
    }
    // The plan's powers are rounded to 0.1 W: a session that was planned ready gets its exact need back, so the
    // repair below does not chase crumbs.
    const scale = got > 0 && Math.abs(got - needKwh[i]) <= 1e-3 ? needKwh[i] / got : 1;
    for (let t = start[i]; t < end[i]; t++) {
      const v = Math.min(e[i * T + t] * scale, capKwh[i * T + t]);
      if (v <= eps) continue;
      e[i * T + t] = v;
      gotOf[i] += v;
      for (let c = leaf[i]; c >= 0; c = parent[c]) load[c * T + t] += v;
    }
    // A smaller need than planned for: give back the dearest, latest energy first.
    for (let t = p.end[i] - 1; flow.got[i] > p.needKwh[i] + eps && t >= p.start[i]; t--) {
      let dearest = -1;
      for (let u = p.start[i]; u < p.end[i]; u++) {
        if (flow.e[i * T + u] > eps && (dearest < 0 || p.price[u] >= p.price[dearest])) dearest = u;
      }
      if (dearest < 0) break;
      take(p, flow, i, dearest, Math.min(flow.e[i * T + dearest], flow.got[i] - p.needKwh[i]));
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
 * Whether an event within the current slot only tightened the problem: every session the previous plan still had energy for is there, needs
 * at least that energy, and leaves no later. Then the smallest sufficient cap can only have risen, so the previous
 * peak is not too high a cap (a vehicle that left or a need that shrank would let the search find a lower one).
 */
function tightened(p: Problem, previous: Plan): boolean {
  // An event within the previous plan's first slot; at a slot boundary the full search runs again, which also lowers
  // the cap when the slots that set it are past.
  if (!(previous.slotStartsMs.length > 1 && p.nowMs >= previous.slotStartsMs[0] && p.nowMs < previous.slotStartsMs[1])) return false;
  const index = new Map(p.sessions.map((s, i) => [s.id, i]));
  for (const s of previous.sessions) {
    let rest = 0;
    for (let u = 0; u + 1 < previous.slotStartsMs.length; u++) {
      if (previous.slotStartsMs[u] >= p.nowMs) rest += s.powerKw[u] * (previous.slotStartsMs[u + 1] - previous.slotStartsMs[u]) / 3_600_000;
    }
    const i = index.get(s.sessionId);
    if (i === undefined) { if (rest > crumbKwh) return false; continue; }
    if (p.needKwh[i] < rest - crumbKwh || p.sessions[i].departureMs > s.departureMs) return false;
  }
  return true;
}

/**
 * The warm re-plan at the previous plan's peak (or the month's, if higher), or undefined when it does not apply and the full search must run:
 * a readiness tier (policy minimum, estimated departures) is in play, or a session is short and could get more under
 * a higher cap (a site-capped slot is reachable from it in the residual network).
 */
export function warmSolve(p: Problem, previous: Plan): Solution | undefined {
  if (p.minNeedKwh.some((v) => v > 0) || nowFirstNeed(p).some((v) => v > 0) || !tightened(p, previous)) return undefined;
  // The previous plan's own peak, not its cap: a cap it did not use would let the repair spend demand charge.
  const capKw = Math.min(p.circuitLimitKw[0], Math.max(previous.peakKw, p.peakSoFarKw));
  const caps = cappedCaps(p, capKw);
  const flow = seed(p, previous);
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
  // Kept only while nothing above it pays (as in the search); that it is not too high is what `tightened` checked.
  if (p.demandChargePerKw > 0 && capKw > p.peakSoFarKw + 1e-9 && !nothingAbove(p, flow, caps, peakKw)) return undefined;
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  return {
    flow, caps, capKw, shortfallKwh, energyCost, peakKw, demandChargeIncrement, total: energyCost + demandChargeIncrement,
    evaluations: 0, cutHours: 0,
  };
}
