// AC chargers cannot charge below a minimum current: a session is off or at least minPowerKw. That makes the
// problem non-convex, so the flow solution is repaired afterwards: each session's below-minimum slots are emptied and
// their energy re-placed, cheapest first, onto slots already running at or above the minimum, then onto new slots
// at the minimum (rounding up when the vehicle can take it). What cannot be placed becomes reported shortfall.
import type { Caps, Flow } from './flow.ts';
import type { Problem } from './problem.ts';

const eps = 1e-9;

export interface MinPowerAdjustment {
  readonly session: number;
  /** Energy moved off below-minimum slots, kWh. */
  readonly movedKwh: number;
  /** Energy that found no slot and is now shortfall, kWh. */
  readonly lostKwh: number;
}

function headroom(p: Problem, caps: Caps, flow: Flow, leaf: number, t: number): number {
  let room = Number.POSITIVE_INFINITY;
  for (let c = leaf; c >= 0; c = p.parent[c]) room = Math.min(room, caps.circuitKwh[c * p.T + t] - flow.load[c * p.T + t]);
  return room;
}

function add(p: Problem, flow: Flow, i: number, t: number, kwh: number): void {
  flow.e[i * p.T + t] += kwh;
  flow.got[i] += kwh;
  for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) flow.load[c * p.T + t] += kwh;
}

/** Puts `pool` kWh of session i back, cheapest slots first; returns what is left. */
function place(p: Problem, caps: Caps, flow: Flow, i: number, pool: number, slots: readonly number[], minKwh: (t: number) => number): number {
  const { T } = p;
  // Slots already running at or above the minimum take energy in any amount.
  for (const t of slots) {
    if (pool <= eps) return 0;
    if (flow.e[i * T + t] <= eps) continue;
    const a = Math.min(pool, caps.sessionKwh[i * T + t] - flow.e[i * T + t], headroom(p, caps, flow, p.leaf[i], t));
    if (a > eps) { add(p, flow, i, t, a); pool -= a; }
  }
  // New slots open at the minimum at least.
  for (const t of slots) {
    if (pool <= eps) return 0;
    if (flow.e[i * T + t] > eps) continue;
    const least = minKwh(t);
    const room = Math.min(caps.sessionKwh[i * T + t], headroom(p, caps, flow, p.leaf[i], t));
    if (room + eps < least) continue;
    const a = Math.max(least, Math.min(pool, room));
    const excess = a - pool;
    if (excess > eps && !trim(p, flow, i, t, excess, slots, minKwh)) continue;
    add(p, flow, i, t, a);
    pool = Math.max(0, pool - a);
  }
  return pool;
}

/** Takes `kwh` off session i's dearest running slots (other than `keep`) without dropping any below the minimum. */
function trim(p: Problem, flow: Flow, i: number, keep: number, kwh: number, slots: readonly number[], minKwh: (t: number) => number): boolean {
  const { T } = p;
  let spare = 0;
  for (const t of slots) if (t !== keep && flow.e[i * T + t] > eps) spare += Math.max(0, flow.e[i * T + t] - minKwh(t));
  if (spare + eps < kwh) return false;
  for (let k = slots.length - 1; k >= 0 && kwh > eps; k--) {
    const t = slots[k];
    if (t === keep || flow.e[i * T + t] <= eps) continue;
    const a = Math.min(kwh, flow.e[i * T + t] - minKwh(t));
    if (a > eps) { add(p, flow, i, t, -a); kwh -= a; }
  }
  return true;
}

/**
 * Rounds session i's small piece in slot t up to its minimum without touching any circuit load: a neighbour j on the
 * same circuit gives up δ in slot t and takes δ from i in another slot u where i has more than its minimum to spare.
 * Loads stay equal in both slots, so this works even when the site cap leaves no headroom at all.
 */
function exchange(p: Problem, caps: Caps, flow: Flow, i: number, t: number, least: (j: number, t: number) => number): boolean {
  const { T } = p;
  const d = least(i, t) - flow.e[i * T + t];
  for (const j of p.sessionsOn[p.leaf[i]]) {
    if (j === i || t < p.start[j] || t >= p.end[j]) continue;
    const jt = flow.e[j * T + t];
    if (!(jt - d >= least(j, t) - 1e-9 || Math.abs(jt - d) <= 1e-9)) continue;
    for (let u = Math.max(p.start[i], p.start[j]); u < Math.min(p.end[i], p.end[j]); u++) {
      if (u === t) continue;
      const iu = flow.e[i * T + u];
      const ju = flow.e[j * T + u];
      if (iu - d < least(i, u) - 1e-9 && Math.abs(iu - d) > 1e-9) continue;
      if (caps.sessionKwh[j * T + u] - ju < d - 1e-9) continue;
      if (ju + d < least(j, u) - 1e-9) continue;
      flow.e[i * T + t] += d;
      flow.e[j * T + t] -= d;
      flow.e[i * T + u] -= d;
      flow.e[j * T + u] += d;
      return true;
    }
  }
  return false;
}

/**
 * `caps` are the limits the plan was solved under (including the chosen site cap); when they leave energy unplaced,
 * the physical limits (`hardCaps`) are tried too: a slightly higher peak is better than a vehicle not ready.
 */
export function enforceMinPower(p: Problem, caps: Caps, flow: Flow, hardCaps: Caps = caps): MinPowerAdjustment[] {
  const { T } = p;
  const adjustments: MinPowerAdjustment[] = [];
  const byRank = Array.from({ length: p.n }, (_, i) => i).sort((a, b) => p.rank[a] - p.rank[b]);
  for (const i of byRank) {
    if (p.minPowerKw[i] <= 0) continue;
    const minKwh = (t: number) => p.minPowerKw[i] * caps.sessionKwh[i * T + t] / p.maxPowerKw[i];
    const least = (j: number, t: number) => p.minPowerKw[j] * caps.sessionKwh[j * T + t] / p.maxPowerKw[j];
    let pool = 0;
    for (let t = p.start[i]; t < p.end[i]; t++) {
      const v = flow.e[i * T + t];
      if (v > eps && v < minKwh(t) - 1e-7 && !exchange(p, caps, flow, i, t, least)) { pool += v; add(p, flow, i, t, -v); }
    }
    if (pool <= eps) continue;
    const moved = pool;
    const slots: number[] = [];
    for (let t = p.start[i]; t < p.end[i]; t++) slots.push(t);
    slots.sort((a, b) => p.price[a] - p.price[b] || a - b);
    pool = place(p, caps, flow, i, pool, slots, minKwh);
    if (pool > eps && hardCaps !== caps) pool = place(p, hardCaps, flow, i, pool, slots, minKwh);
    adjustments.push({ session: i, movedKwh: moved, lostKwh: Math.max(0, pool) });
  }
  return adjustments;
}
