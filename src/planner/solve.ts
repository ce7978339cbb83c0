// Chooses the site power cap P that balances energy price against the demand charge, and solves the capped
// flow problem at each candidate P. Cost(P) = min energy cost under cap P + rate × max(0, peak − peak so far) is
// convex in P (the LP's value is convex in its right-hand side), so secant lower bounds steer and stop the search.
import { emptyFlow, fillSlots, improve, indexSlots, repair, Residual, type Caps, type Flow, type SlotIndex } from './flow.ts';
import type { Problem } from './problem.ts';
import { cappedCaps } from './warm.ts';

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
  /** When short: hours of the full site-cap slots the short sessions can reach, i.e. kWh gained per kW of cap. */
  readonly cutHours: number;
}

export interface SearchHint {
  /** Site cap of a previous plan of the same depot: the search starts from there. */
  readonly capKw?: number;
}

function shortfallOf(p: Problem, needKwh: Float64Array, flow: Flow): number {
  let s = 0;
  for (let i = 0; i < p.n; i++) s += Math.max(0, needKwh[i] - flow.got[i]);
  return s;
}

const shortfall = (p: Problem, flow: Flow) => shortfallOf(p, p.needKwh, flow);

function solveCostFirst(p: Problem, caps: Caps, slots: SlotIndex, needKwh: Float64Array, byPriority: boolean): Flow {
  const flow = emptyFlow(p);
  const res = new Residual(p, caps, flow);
  fillSlots(p, res, needKwh, slots, slots.byPrice, p.price);
  // The greedy already delivers the most energy at least cost; taking energy by priority may move some, so polish then.
  if (repair(p, res, needKwh, slots, byPriority)) improve(p, res, slots, 4 * p.T + 16);
  return flow;
}

/** Earliest slots first: the same greedy with time as the price. */
function solveEarliest(p: Problem, caps: Caps, slots: SlotIndex, needKwh: Float64Array, byPriority: boolean): Flow {
  const flow = emptyFlow(p);
  const res = new Residual(p, caps, flow);
  fillSlots(p, res, needKwh, slots, slots.byTime, slots.byTime);
  repair(p, res, needKwh, slots, byPriority);
  return flow;
}

/**
 * Earliest slots first, each shared out least laxity first and not re-routed (see estimatedFirst for why); then
 * augmenting paths add what else can be delivered, which never takes a slot's load down.
 */
function leastLaxityFirst(p: Problem, caps: Caps, slots: SlotIndex, needKwh: Float64Array): Flow {
  const flow = emptyFlow(p);
  const res = new Residual(p, caps, flow);
  fillSlots(p, res, needKwh, slots, slots.byTime, slots.byTime, false);
  // Then the most energy without taking any slot's load down (augmenting paths only ever add at a slot root).
  repair(p, res, needKwh, slots, false);
  return flow;
}

/** What `caps` leave after `used`. */
function remaining(caps: Caps, used: Flow): Caps {
  return {
    sessionKwh: caps.sessionKwh.map((v, k) => Math.max(0, v - used.e[k])),
    circuitKwh: caps.circuitKwh.map((v, k) => Math.max(0, v - used.load[k])),
  };
}

function sum(p: Problem, a: Flow, b: Flow): Flow {
  const flow = emptyFlow(p);
  for (let k = 0; k < flow.e.length; k++) flow.e[k] = a.e[k] + b.e[k];
  for (let k = 0; k < flow.load.length; k++) flow.load[k] = a.load[k] + b.load[k];
  for (let i = 0; i < p.n; i++) flow.got[i] = a.got[i] + b.got[i];
  return flow;
}

const less = (need: Float64Array, got: Float64Array) => need.map((v, i) => Math.max(0, v - got[i]));

/**
 * What is delivered as early as the limits allow: the needs of sessions whose departure is only estimated, and every
 * need once the billing month's peak is at the connection limit, or its history says it will be (expectedPeakKw), on
 * a site with unannounced arrivals (no demand charge is left to save, and capacity deferred to cheaper slots is
 * capacity the unannounced vehicles will compete for).
 */
export function nowFirstNeed(p: Problem): Float64Array {
  // Metered peaks of plans rounded to 0.1 W per session land a few watts under the limit they reached.
  const atLimit = Math.max(p.peakSoFarKw, p.expectedPeakKw) >= p.circuitLimitKw[0] - Math.max(0.01, 1e-4 * p.circuitLimitKw[0]);
  return p.policy.unannouncedArrivals && atLimit ? p.needKwh : p.estimatedNeedKwh;
}

/**
 * Needs whose departure is only estimated (`departureEstimated`), as early as the physical limits allow: energy not
 * delivered now is energy at risk, so neither price nor the demand-charge cap holds it back. Each slot is shared out
 * least laxity first and not re-routed: re-routing would trade who charges now for a believed later slot, and the
 * belief is what is uncertain; anything this leaves deliverable is placed by the firm tiers. It does not depend on
 * the cap, so the search computes it once; undefined when there is none or when it would cost a firm departure.
 */
export function estimatedFirst(p: Problem, slots: SlotIndex): Flow | undefined {
  const needKwh = nowFirstNeed(p);
  if (!needKwh.some((v) => v > 0)) return undefined;
  const hard: Caps = { sessionKwh: p.capKwh, circuitKwh: p.circuitCapKwh };
  const base = leastLaxityFirst(p, hard, slots, needKwh);
  // Only a firm departure (one outside this tier) is protected: among estimated ones, who is served now is the
  // hedge itself, so it is not second-guessed by what a plan trusting the estimates would deliver.
  const firm = needKwh.map((v, i) => (v > 0 ? 0 : p.needKwh[i]));
  if (!firm.some((v) => v > 0)) return base;
  const rest = solveCostFirst(p, remaining(hard, base), slots, less(p.needKwh, base.got), false);
  const plain = solveCostFirst(p, hard, slots, p.needKwh, false);
  return shortfallOf(p, firm, sum(p, base, rest)) <= shortfallOf(p, firm, plain) + 1e-6 ? base : undefined;
}

/** `caps` less the site power kept free for vehicles not yet known (Problem.reserveKwh); `caps` itself when none. */
function reserved(p: Problem, caps: Caps): Caps {
  const reserve = p.reserveKwh;
  if (!reserve) return caps;
  const circuitKwh = caps.circuitKwh.slice();
  for (let t = 0; t < p.T; t++) circuitKwh[t] = Math.max(0, circuitKwh[t] - reserve[t]);
  return { sessionKwh: caps.sessionKwh, circuitKwh };
}

/**
 * What the tiers left short under the reserve, now within the whole cap: the reserve is spent only on energy that
 * fits nowhere else. Fills on the same flow (re-routing it, cheapest slots first), then augmenting paths to the max
 * flow; no cost polish, which would move energy from dearer slots into the reserve it was kept out of.
 */
function intoReserve(p: Problem, caps: Caps, slots: SlotIndex, needKwh: Float64Array, flow: Flow, byPriority: boolean): Flow {
  const res = new Residual(p, caps, flow);
  fillSlots(p, res, needKwh, slots, slots.byPrice, p.price);
  repair(p, res, needKwh, slots, byPriority);
  return flow;
}

/**
 * Solves for one site cap on top of `base` (the estimated-departure tier, already placed). `byPriority` re-ranks
 * shortfall by priority; the cap search leaves it out (the total delivered, which is all the search compares, does
 * not change) and the chosen cap is solved once more with it.
 */
export function solveAtCap(p: Problem, slots: SlotIndex, capKw: number, byPriority = true, base?: Flow, firstSlotKw = capKw): Omit<Solution, 'evaluations'> {
  const capped = cappedCaps(p, capKw);
  // Wait and see (solve): the first slot held lower than the cap.
  if (firstSlotKw < capKw && p.T > 0) capped.circuitKwh[0] = Math.min(capped.circuitKwh[0], Math.max(0, firstSlotKw - p.otherLoadKw[0]) * p.slotHours[0]);
  const caps = base ? remaining(capped, base) : capped;
  const tierCaps = reserved(p, caps);
  const needKwh = base ? less(p.needKwh, base.got) : p.needKwh;
  const minNeedKwh = base ? less(p.minNeedKwh, base.got) : p.minNeedKwh;
  let flow: Flow;
  if (minNeedKwh.some((v) => v > 0)) {
    // Policy minimum SoC first, earliest slots first, then the rest of each need at least cost on what is left.
    const first = solveEarliest(p, tierCaps, slots, minNeedKwh, byPriority);
    flow = sum(p, first, solveCostFirst(p, remaining(tierCaps, first), slots, less(needKwh, first.got), byPriority));
    // Readiness for the minimum must never cost a departure: fall back to pure cost order if it would.
    if (shortfallOf(p, needKwh, flow) > 1e-6) {
      const plain = solveCostFirst(p, tierCaps, slots, needKwh, byPriority);
      if (shortfallOf(p, needKwh, plain) < shortfallOf(p, needKwh, flow) - 1e-6) flow = plain;
    }
  } else {
    flow = solveCostFirst(p, tierCaps, slots, needKwh, byPriority);
  }
  if (tierCaps !== caps && shortfallOf(p, needKwh, flow) > 1e-9) flow = intoReserve(p, caps, slots, needKwh, flow, byPriority);
  const cutHours = shortfallOf(p, needKwh, flow) > 1e-9 ? new Residual(p, caps, flow).shortCutHours(needKwh) : 0;
  return summary(p, base ? sum(p, base, flow) : flow, capped, capKw, cutHours);
}

function summary(p: Problem, flow: Flow, caps: Caps, capKw: number, cutHours: number): Omit<Solution, 'evaluations'> {
  let energyCost = 0;
  let peakKw = 0;
  for (let t = 0; t < p.T; t++) {
    energyCost += flow.load[t] * p.price[t];
    peakKw = Math.max(peakKw, flow.load[t] / p.slotHours[t] + p.otherLoadKw[t]);
  }
  // Power kept free for arrivals (Problem.reserveKwh) is power they are expected to draw: a cap that leaves room for
  // it above the peak already paid is a raise the month will pay when they come, whatever the charging alone peaks at.
  let chargedKw = peakKw;
  const reserve = p.reserveKwh;
  if (reserve) for (let t = 0; t < p.T; t++) chargedKw = Math.max(chargedKw, Math.min(capKw, (flow.load[t] + reserve[t]) / p.slotHours[t] + p.otherLoadKw[t]));
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, chargedKw - p.peakSoFarKw);
  return {
    flow, caps, capKw, shortfallKwh: shortfall(p, flow), energyCost, peakKw, demandChargeIncrement,
    total: energyCost + demandChargeIncrement, cutHours,
  };
}


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

type Probe = Omit<Solution, 'evaluations'>;

/**
 * Whether a cap has nothing to gain above it. E's right slope is minus the site-cap duals, and a kWh of cap in a slot
 * held at the cap is worth at most the price gap to the dearest loaded slot; when even that sum does not pay the
 * demand charge, the total can only rise to the right (convexity).
 */
export function nothingAbove(p: Problem, flow: Flow, caps: Caps, peakKw: number): boolean {
  if (peakKw < p.peakSoFarKw - 1e-9) return false;
  let dearest = Number.NEGATIVE_INFINITY;
  for (let t = 0; t < p.T; t++) if (flow.load[t] > 1e-9 && p.price[t] > dearest) dearest = p.price[t];
  let worth = 0;
  for (let t = 0; t < p.T; t++) {
    // With a reserve, a slot filled to the cap less the reserve is held by the cap too: a higher cap frees it.
    const capped = caps.circuitKwh[t] < p.circuitCapKwh[t] - 1e-9 && flow.load[t] >= caps.circuitKwh[t] - (p.reserveKwh?.[t] ?? 0) - 1e-7;
    if (capped) worth += p.slotHours[t] * Math.max(0, dearest - p.price[t]);
  }
  return p.demandChargePerKw >= worth;
}

/** Relative gap between the best total found and the proven lower bound at which the cap search stops. */
const relativeTolerance = 5e-4;

/**
 * A lower bound of a convex function on [x[k], x[k+1]] from its samples: the secant through the two samples left of
 * the interval and the one through the two samples right of it both stay below the function there, so their upper
 * envelope does. Infinite samples (caps that deliver less) only ever lie to the left.
 */
function intervalBound(x: readonly number[], f: readonly number[], k: number): { bound: number; at: number } {
  const line = (a: number, b: number) => ({ slope: (f[b] - f[a]) / (x[b] - x[a]), at: a });
  const left = k >= 1 && Number.isFinite(f[k - 1]) && Number.isFinite(f[k]) ? line(k - 1, k) : undefined;
  const right = k + 2 < x.length && Number.isFinite(f[k + 1]) ? line(k + 1, k + 2) : undefined;
  const valueOf = (l: { slope: number; at: number }, y: number) => f[l.at] + l.slope * (y - x[l.at]);
  const envelope = (y: number) => Math.max(left ? valueOf(left, y) : Number.NEGATIVE_INFINITY, right ? valueOf(right, y) : Number.NEGATIVE_INFINITY);
  if (!left && !right) return { bound: Number.NEGATIVE_INFINITY, at: (x[k] + x[k + 1]) / 2 };
  if (left && right && left.slope < right.slope) {
    // The envelope's lowest point is where the two secants cross.
    const y = (f[right.at] - f[left.at] + left.slope * x[left.at] - right.slope * x[right.at]) / (left.slope - right.slope);
    if (y > x[k] && y < x[k + 1]) return { bound: envelope(y), at: y };
  }
  const a = envelope(x[k]), b = envelope(x[k + 1]);
  return a <= b ? { bound: a, at: x[k] } : { bound: b, at: x[k + 1] };
}

/**
 * Best plan over site caps: least shortfall first, then least energy cost plus demand-charge increment. The total is
 * convex in the cap where the cap delivers everything the full limit does, and +∞ below, so samples bound it from
 * below (secants); the search probes where the bound is lowest (the secants' crossing, which lands on the kink of a
 * piecewise-linear total in a step or two) and stops once the best sample is within 0.05 % of that bound.
 */
export function solve(p: Problem, hint: SearchHint = {}): Solution {
  const slots = indexSlots(p);
  const base = estimatedFirst(p, slots);
  let evaluations = base ? 2 : 0;
  const probes: Probe[] = [];
  const at = (capKw: number) => { evaluations++; return solveAtCap(p, slots, capKw, false, base); };
  const maxCap = p.circuitLimitKw[0];
  // Re-ranking by priority only changes anything when someone is short; a raise that can wait is held (every return).
  const done = (chosen: Probe): Solution => {
    const s = held(p, slots, chosen, base, () => evaluations++) ?? chosen;
    if (s.shortfallKwh <= 1e-9) return { ...s, evaluations };
    if (!base && !p.minNeedKwh.some((v) => v > 0)) {
      // The plain order's probe is the greedy plus augmenting paths; re-ranking by priority continues from it exactly
      // as a solve with priority would, so no need to fill again.
      const flow: Flow = { e: s.flow.e.slice(), load: s.flow.load.slice(), got: s.flow.got.slice() };
      const res = new Residual(p, s.caps, flow);
      // The cost polish would spend the reserve (Problem.reserveKwh) on energy that fits elsewhere.
      if (repair(p, res, p.needKwh, slots, true) && !p.reserveKwh) improve(p, res, slots, 4 * p.T + 16);
      return { ...summary(p, flow, s.caps, s.capKw, s.cutHours), evaluations };
    }
    evaluations++;
    return { ...solveAtCap(p, slots, s.capKw, true, base), evaluations };
  };
  if (p.demandChargePerKw <= 0) return done(at(maxCap));
  const full = at(maxCap);
  if (full.peakKw <= p.peakSoFarKw + 1e-9) return done(full);

  let totalNeed = 0;
  for (let i = 0; i < p.n; i++) totalNeed += p.needKwh[i];
  const allowedShortfall = full.shortfallKwh + 1e-6 * (1 + totalNeed);
  const val = (s: Probe) => (s.shortfallKwh <= allowedShortfall ? s.total : Number.POSITIVE_INFINITY);
  const lo = Math.max(0, Math.min(p.peakSoFarKw, full.peakKw), energyBound(p, full.flow.got));
  // The resolution of the search, 0.2 % of a peak no plan can go below: a share of the full-power peak instead lets
  // the chosen cap sit several per cent above the best one where charging flat out would peak far higher.
  const tolKw = Math.max(0.01, 0.002 * lo);
  const hi = full.peakKw;
  if (hi - lo <= tolKw) return done(full);

  probes.push({ ...full, capKw: hi });
  const newtonFrom = (s: Probe) => (val(s) === Number.POSITIVE_INFINITY && s.cutHours > 0 ? s.capKw + (s.shortfallKwh - full.shortfallKwh) / s.cutHours : undefined);
  const flatRight = (s: Probe) => Number.isFinite(val(s)) && nothingAbove(p, s.flow, s.caps, s.peakKw);
  const add = (capKw: number) => {
    const s = at(capKw);
    let k = 0;
    while (k < probes.length && probes[k].capKw < capKw) k++;
    probes.splice(k, 0, s);
  };
  const warm = hint.capKw !== undefined && hint.capKw > lo + tolKw && hint.capKw < hi - tolKw;
  // A re-plan probes the previous cap and one step below it: one event rarely moves the best cap far, and a cap
  // that delivers too little rules out everything below it (delivery only grows with the cap).
  if (warm && hint.capKw !== undefined) { add(hint.capKw); add(hint.capKw - tolKw); } else add(lo);
  const steppedRight = new Set<number>();
  for (let guard = 0; guard < 40; guard++) {
    const x = probes.map((s) => s.capKw);
    const f = probes.map(val);
    let b = 0;
    for (let k = 1; k < f.length; k++) if (f[k] < f[b]) b = k;
    const best = f[b];
    if (Number.isFinite(f[0]) && x[0] > lo + tolKw) { add(lo); continue; }
    let flat = x.length;
    for (let k = x.length - 1; k >= 0; k--) if (flatRight(probes[k])) flat = k;
    // One step right of the best settles "the smallest sufficient cap is the best" (the usual case) by convexity.
    if (Number.isFinite(best) && b < flat && b + 1 < x.length && x[b + 1] - x[b] > 1.5 * tolKw && !steppedRight.has(b)) {
      steppedRight.add(b);
      add(x[b] + tolKw);
      continue;
    }
    // Where can anything below the best still hide? Only next to it (convexity), or left of the first finite sample.
    let next = -1, nextBound = best, nextAt = 0;
    for (let k = 0; k + 1 < x.length && k < flat; k++) {
      if (x[k + 1] - x[k] <= tolKw) continue;
      if (!Number.isFinite(f[k]) && !Number.isFinite(f[k + 1])) continue;
      // Nothing below a Newton bound delivers enough: if that leaves no room, the smallest sufficient cap is x[k + 1].
      if (!Number.isFinite(f[k]) && x[k + 1] - Math.max(x[k], newtonFrom(probes[k]) ?? x[k]) <= tolKw) continue;
      const { bound, at: y } = intervalBound(x, f, k);
      if (bound < nextBound) { next = k; nextBound = bound; nextAt = y; }
    }
    if (next < 0 || best - nextBound <= relativeTolerance * Math.abs(best)) break;
    const a = x[next], c = x[next + 1], w = c - a;
    // Safeguard: stay inside, away from the ends, so every probe shrinks the interval.
    // Left of every cap that delivers enough, a Newton step on the missing energy: the cut's slope never
    // overstates what a higher cap adds, so the step lands at or below the smallest sufficient cap.
    const newton = newtonFrom(probes[next]) ?? a + w / 2;
    const y = Number.isFinite(f[next]) && Number.isFinite(nextAt) ? Math.min(c - 0.1 * w, Math.max(a + 0.1 * w, nextAt))
      : Math.min(c - 0.02 * w, Math.max(a + Math.min(tolKw, 0.02 * w), newton));
    add(y);
  }
  let best = probes[0];
  for (const s of probes) if (val(s) < val(best)) best = s;
  return done(best);
}

/**
 * Wait and see (policy.holdRaiseKw): when `best` raises the peak already paid and delivers everything, the first slot
 * held at that peak, under the smallest cap (bisected to 1/256 of the allowance) that still delivers everything, if
 * one within the allowance does. Undefined when there is nothing to hold or holding would cost more.
 */
function held(p: Problem, slots: SlotIndex, best: Probe, base: Flow | undefined, count: () => void): Probe | undefined {
  const allowKw = p.policy.holdRaiseKw;
  if (!(allowKw > 0) || p.demandChargePerKw <= 0 || best.shortfallKwh > 1e-9 || best.peakKw <= p.peakSoFarKw + 1e-6) return undefined;
  const at = (capKw: number) => {
    count();
    const s = solveAtCap(p, slots, capKw, false, base, p.peakSoFarKw);
    return s.shortfallKwh <= 1e-9 ? s : undefined;
  };
  let found = at(best.capKw + allowKw);
  if (!found) return undefined;
  let lo = best.capKw, hi = best.capKw + allowKw;
  for (let k = 0; k < 8; k++) {
    const mid = (lo + hi) / 2;
    const s = at(mid);
    if (s) { hi = mid; found = s; } else lo = mid;
  }
  return found;
}
