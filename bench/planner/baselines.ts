// Baseline strategies run on the same Problem as the planner, slot by slot in time order, each within the hard
// limits (a strategy that ignored them would not be a fair comparison, it would be a fuse trip).
import type { Problem } from '../../src/planner/problem.ts';

export type Strategy = (p: Problem) => Float64Array;

/** Scales requests down, circuit by circuit from the leaves up, until every circuit is within its limit. */
function clampProportional(p: Problem, t: number, request: Float64Array, sessions: number[]): void {
  const { T } = p;
  const C = p.circuitIds.length;
  for (let c = C - 1; c >= 0; c--) {
    const cap = p.circuitCapKwh[c * T + t];
    const below = sessions.filter((i) => { for (let d = p.leaf[i]; d >= 0; d = p.parent[d]) if (d === c) return true; return false; });
    const sum = below.reduce((a, i) => a + request[i], 0);
    if (sum > cap) for (const i of below) request[i] *= cap / sum;
  }
}

function present(p: Problem, t: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.n; i++) if (t >= p.start[i] && t < p.end[i] && p.capKwh[i * p.T + t] > 0) out.push(i);
  return out;
}

/** Every vehicle at full power from arrival; the load balancer scales everyone down proportionally. */
export const fullPowerOnArrival: Strategy = (p) => {
  const { T } = p;
  const e = new Float64Array(p.n * T);
  const left = Float64Array.from(p.needKwh);
  const request = new Float64Array(p.n);
  for (let t = 0; t < T; t++) {
    const here = present(p, t);
    for (const i of here) request[i] = Math.min(left[i], p.capKwh[i * T + t]);
    clampProportional(p, t, request, here);
    for (const i of here) { e[i * T + t] = request[i]; left[i] -= request[i]; }
  }
  return e;
};

/** Max-min fair share of every limit among the vehicles that still need energy (progressive filling). */
export const equalShare: Strategy = (p) => {
  const { T } = p;
  const C = p.circuitIds.length;
  const e = new Float64Array(p.n * T);
  const left = Float64Array.from(p.needKwh);
  for (let t = 0; t < T; t++) {
    const want = new Map<number, number>();
    for (const i of present(p, t)) if (left[i] > 1e-9) want.set(i, Math.min(left[i], p.capKwh[i * T + t]));
    const give = new Map<number, number>([...want.keys()].map((i) => [i, 0]));
    let open = [...want.keys()];
    const loadOf = (c: number) => {
      let s = 0;
      for (const [i, v] of give) for (let d = p.leaf[i]; d >= 0; d = p.parent[d]) if (d === c) { s += v; break; }
      return s;
    };
    while (open.length > 0) {
      // Largest equal increment every open vehicle can take without breaking a limit.
      let step = Math.min(...open.map((i) => (want.get(i) ?? 0) - (give.get(i) ?? 0)));
      for (let c = 0; c < C; c++) {
        const users = open.filter((i) => { for (let d = p.leaf[i]; d >= 0; d = p.parent[d]) if (d === c) return true; return false; }).length;
        if (users > 0) step = Math.min(step, (p.circuitCapKwh[c * T + t] - loadOf(c)) / users);
      }
      step = Math.max(0, step);
      for (const i of open) give.set(i, (give.get(i) ?? 0) + step);
      const tight = new Set<number>();
      for (let c = 0; c < C; c++) if (p.circuitCapKwh[c * T + t] - loadOf(c) <= 1e-9) tight.add(c);
      open = open.filter((i) => {
        if ((want.get(i) ?? 0) - (give.get(i) ?? 0) <= 1e-9) return false;
        for (let d = p.leaf[i]; d >= 0; d = p.parent[d]) if (tight.has(d)) return false;
        return true;
      });
    }
    for (const [i, v] of give) { e[i * T + t] = v; left[i] -= v; }
  }
  return e;
};

/** Earliest departure first: each slot goes to the vehicles leaving soonest, as far as limits allow. */
export const earliestDeadlineFirst: Strategy = (p) => {
  const { T } = p;
  const C = p.circuitIds.length;
  const e = new Float64Array(p.n * T);
  const left = Float64Array.from(p.needKwh);
  const order = Array.from({ length: p.n }, (_, i) => i).sort((a, b) => p.sessions[a].departureMs - p.sessions[b].departureMs || a - b);
  for (let t = 0; t < T; t++) {
    const load = new Float64Array(C);
    for (const i of order) {
      if (t < p.start[i] || t >= p.end[i] || left[i] <= 1e-9) continue;
      let room = Math.min(left[i], p.capKwh[i * T + t]);
      for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) room = Math.min(room, p.circuitCapKwh[c * T + t] - load[c]);
      if (room <= 0) continue;
      for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) load[c] += room;
      e[i * T + t] = room;
      left[i] -= room;
    }
  }
  return e;
};

/** Each vehicle books its own cheapest slots (what single-vehicle planners do); the site then clamps proportionally. */
export const cheapestThenClamp: Strategy = (p) => {
  const { T } = p;
  const e = new Float64Array(p.n * T);
  for (let i = 0; i < p.n; i++) {
    const slots: number[] = [];
    for (let t = p.start[i]; t < p.end[i]; t++) slots.push(t);
    slots.sort((a, b) => p.price[a] - p.price[b] || a - b);
    let left = p.needKwh[i];
    for (const t of slots) {
      const a = Math.min(left, p.capKwh[i * T + t]);
      e[i * T + t] = a;
      left -= a;
      if (left <= 1e-9) break;
    }
  }
  const request = new Float64Array(p.n);
  for (let t = 0; t < T; t++) {
    const here = present(p, t);
    for (const i of here) request[i] = e[i * T + t];
    clampProportional(p, t, request, here);
    for (const i of here) e[i * T + t] = request[i];
  }
  return e;
};

export const baselines: readonly [string, Strategy][] = [
  ['full power on arrival', fullPowerOnArrival],
  ['equal share', equalShare],
  ['earliest deadline first', earliestDeadlineFirst],
  ['own cheapest, site clamps', cheapestThenClamp],
];
