// The planner's core: the depot as a flow network, in kWh per slot.
//
//   source ─need─▶ session i ─cap(i,t)─▶ circuit leaf(i) @t ─▶ … parent circuits @t … ─▶ root @t ─▶ sink (price t)
//
// Because every slot's circuits form a tree and all sessions pay the same price in a slot, the energy per slot
// that can be delivered forms a polymatroid, so filling the cheapest slot as full as possible first (greedyFill)
// is optimal as long as earlier fills can be re-routed. Re-routing is what repair and improve do with augmenting
// paths in the residual network; improve stops only when no path moves energy from a dearer slot to a cheaper one,
// which is the optimality condition of the min-cost flow.
import type { Problem } from './problem.ts';

const eps = 1e-9;

/** Capacities in force for one solve: per-session and per-circuit kWh per slot (both n×T / C×T, row-major). */
export interface Caps {
  readonly sessionKwh: Float64Array;
  readonly circuitKwh: Float64Array;
}

export interface Flow {
  /** Energy per session and slot, kWh (n × T). */
  readonly e: Float64Array;
  /** Energy through each circuit per slot, kWh (C × T); row 0 is the site. */
  readonly load: Float64Array;
  /** Energy delivered per session, kWh. */
  readonly got: Float64Array;
}

export function emptyFlow(p: Problem): Flow {
  return { e: new Float64Array(p.n * p.T), load: new Float64Array(p.circuitIds.length * p.T), got: new Float64Array(p.n) };
}

/** Sessions present in each slot, least laxity first: the order in which a slot is shared out. */
export interface SlotIndex {
  readonly offsets: Int32Array;
  readonly sessions: Int32Array;
  /** Slots cheapest first, earlier first among equal prices. */
  readonly byPrice: Int32Array;
  readonly byTime: Int32Array;
}

export function indexSlots(p: Problem): SlotIndex {
  const { T, n } = p;
  // Least laxity first: the slack (hours present minus hours needed at full power) is what a slot given elsewhere costs.
  const laxity = Float64Array.from({ length: n }, (_, i) => {
    let hours = 0;
    for (let t = p.start[i]; t < p.end[i]; t++) hours += p.capKwh[i * T + t] / p.maxPowerKw[i];
    return hours - p.needKwh[i] / p.maxPowerKw[i];
  });
  const edf = Array.from({ length: n }, (_, i) => i).sort((a, b) => laxity[a] - laxity[b] || p.end[a] - p.end[b] || p.rank[a] - p.rank[b]);
  const counts = new Int32Array(T + 1);
  for (let i = 0; i < n; i++) for (let t = p.start[i]; t < p.end[i]; t++) counts[t + 1]++;
  for (let t = 0; t < T; t++) counts[t + 1] += counts[t];
  const fill = counts.slice(0, T);
  const sessions = new Int32Array(counts[T]);
  for (const i of edf) for (let t = p.start[i]; t < p.end[i]; t++) sessions[fill[t]++] = i;
  const byPrice = Int32Array.from({ length: T }, (_, t) => t).sort((a, b) => p.price[a] - p.price[b] || a - b);
  const byTime = Int32Array.from({ length: T }, (_, t) => t);
  return { offsets: counts, sessions, byPrice, byTime };
}

/** Room left on the path from a session's circuit up to the site in slot t, kWh. */
function headroom(p: Problem, caps: Caps, flow: Flow, leaf: number, t: number): number {
  let room = Number.POSITIVE_INFINITY;
  for (let c = leaf; c >= 0; c = p.parent[c]) {
    const k = c * p.T + t;
    const r = caps.circuitKwh[k] - flow.load[k];
    if (r < room) room = r;
  }
  return room;
}

function addUp(p: Problem, flow: Flow, leaf: number, t: number, kwh: number): void {
  for (let c = leaf; c >= 0; c = p.parent[c]) flow.load[c * p.T + t] += kwh;
}

/** Breadth-first search over the residual network; nodes are sessions [0, n) then circuit-slots n + c·T + t. */
export class Residual {
  readonly p: Problem;
  readonly caps: Caps;
  readonly flow: Flow;
  readonly prev: Int32Array;
  readonly seen: Int32Array;
  readonly queue: Int32Array;
  readonly dist: Int32Array;
  readonly arc: Int32Array;
  stamp = 0;

  constructor(p: Problem, caps: Caps, flow: Flow) {
    this.p = p;
    this.caps = caps;
    this.flow = flow;
    const nodes = p.n + p.circuitIds.length * p.T;
    this.prev = new Int32Array(nodes);
    this.seen = new Int32Array(nodes);
    this.queue = new Int32Array(nodes);
    this.dist = new Int32Array(nodes);
    this.arc = new Int32Array(nodes);
  }

  /** Residual capacity of the arc u → v (both adjacent), kWh. */
  residual(u: number, v: number): number {
    const { p, caps, flow } = this;
    const { n, T } = p;
    if (u < n) {
      const t = (v - n) % T;
      return caps.sessionKwh[u * T + t] - flow.e[u * T + t];
    }
    const cu = Math.floor((u - n) / T);
    const t = (u - n) % T;
    if (v < n) return flow.e[v * T + t];
    const cv = Math.floor((v - n) / T);
    return p.parent[cu] === cv ? caps.circuitKwh[cu * T + t] - flow.load[cu * T + t] : flow.load[cv * T + t];
  }

  push(u: number, v: number, kwh: number): void {
    const { p, flow } = this;
    const { n, T } = p;
    if (u < n) {
      flow.e[u * T + (v - n) % T] += kwh;
      return;
    }
    const cu = Math.floor((u - n) / T);
    const t = (u - n) % T;
    if (v < n) { flow.e[v * T + t] -= kwh; return; }
    const cv = Math.floor((v - n) / T);
    if (p.parent[cu] === cv) flow.load[cu * T + t] += kwh;
    else flow.load[cv * T + t] -= kwh;
  }

  /** Marks every node reachable from `from`; calls `visit` on each, in BFS order. */
  search(from: number, visit: (node: number) => void): void {
    const { p, caps, flow, prev, seen, queue } = this;
    const { n, T } = p;
    const stamp = ++this.stamp;
    let head = 0, tail = 0;
    seen[from] = stamp;
    prev[from] = -1;
    queue[tail++] = from;
    const reach = (u: number, v: number) => {
      if (seen[v] === stamp) return;
      seen[v] = stamp;
      prev[v] = u;
      queue[tail++] = v;
    };
    while (head < tail) {
      const u = queue[head++];
      visit(u);
      if (u < n) {
        const base = n + p.leaf[u] * T;
        for (let t = p.start[u]; t < p.end[u]; t++) {
          if (caps.sessionKwh[u * T + t] - flow.e[u * T + t] > eps) reach(u, base + t);
        }
        continue;
      }
      const c = Math.floor((u - n) / T);
      const t = (u - n) % T;
      const up = p.parent[c];
      if (up >= 0 && caps.circuitKwh[c * T + t] - flow.load[c * T + t] > eps) reach(u, n + up * T + t);
      for (const ch of p.children[c]) if (flow.load[ch * T + t] > eps) reach(u, n + ch * T + t);
      for (let k = p.presentOffsets[c * T + t], e = p.presentOffsets[c * T + t + 1]; k < e; k++) {
        const j = p.presentSessions[k];
        if (flow.e[j * T + t] > eps) reach(u, j);
      }
    }
  }

  bottleneck(to: number): number {
    let b = Number.POSITIVE_INFINITY;
    for (let v = to; this.prev[v] >= 0; v = this.prev[v]) b = Math.min(b, this.residual(this.prev[v], v));
    return b;
  }

  augment(to: number, kwh: number): void {
    for (let v = to; this.prev[v] >= 0; v = this.prev[v]) this.push(this.prev[v], v, kwh);
  }

  /**
   * For every node, the cheapest slot with site headroom it can push energy to (`label`, a price; Infinity if none)
   * and the next node on that path (`next`). Reverse BFS from the sinks' slots in ascending price order, so the
   * first label a node gets is its cheapest: one pass over the network answers every session and every slot.
   */
  labelAll(label: Float64Array, next: Int32Array, byPrice: Int32Array): void {
    const { p, caps, flow, seen, queue } = this;
    const { n, T } = p;
    const stamp = ++this.stamp;
    label.fill(Number.POSITIVE_INFINITY);
    const mark = (v: number, from: number, price: number, tail: number): number => {
      if (seen[v] === stamp) return tail;
      seen[v] = stamp;
      next[v] = from;
      label[v] = price;
      queue[tail] = v;
      return tail + 1;
    };
    for (const s of byPrice) {
      const root = n + s;
      if (seen[root] === stamp || this.siteRoom(s) <= eps) continue;
      const price = p.price[s];
      let head = 0;
      let tail = mark(root, -1, price, 0);
      while (head < tail) {
        const v = queue[head++];
        if (v < n) {
          // Arcs into session v: from its circuit node in slots where it charges (taking its energy back).
          const base = n + p.leaf[v] * T;
          for (let t = p.start[v]; t < p.end[v]; t++) if (flow.e[v * T + t] > eps) tail = mark(base + t, v, price, tail);
          continue;
        }
        const c = Math.floor((v - n) / T);
        const t = (v - n) % T;
        for (let k = p.presentOffsets[c * T + t], e = p.presentOffsets[c * T + t + 1]; k < e; k++) {
          const i = p.presentSessions[k];
          if (caps.sessionKwh[i * T + t] - flow.e[i * T + t] > eps) tail = mark(i, v, price, tail);
        }
        for (const ch of p.children[c]) {
          if (caps.circuitKwh[ch * T + t] - flow.load[ch * T + t] > eps) tail = mark(n + ch * T + t, v, price, tail);
        }
        const up = p.parent[c];
        if (up >= 0 && flow.load[c * T + t] > eps) tail = mark(n + up * T + t, v, price, tail);
      }
    }
  }

  /** Bottleneck of the path that follows `next` from `from` to a slot root, kWh; also returns that root. */
  pathBottleneck(from: number, next: Int32Array): [number, number] {
    let b = Number.POSITIVE_INFINITY;
    let v = from;
    for (; next[v] >= 0; v = next[v]) b = Math.min(b, this.residual(v, next[v]));
    return [b, v];
  }

  pushPath(from: number, next: Int32Array, kwh: number): void {
    for (let v = from; next[v] >= 0; v = next[v]) this.push(v, next[v], kwh);
  }

  /**
   * Dinic's blocking flow towards the roots of `targets`: one reverse BFS levels the network (distance to a target
   * root with site room), then depth-first searches with current-arc pointers push as many level paths as exist from
   * sessions that still want energy. Returns the energy pushed; `onPush(i, t, kwh)` books session i's gain in slot t.
   */
  blockingFlow(targets: readonly number[], wantKwh: (i: number) => number, onPush: (i: number, t: number, kwh: number) => void): number {
    const { p, caps, flow, seen, queue } = this;
    const { n, T } = p;
    const dist = this.dist;
    const arc = this.arc;
    const sources: number[] = [];
    const stamp = ++this.stamp;
    let head = 0, tail = 0;
    const reach = (w: number, d: number) => { seen[w] = stamp; dist[w] = d; arc[w] = 0; queue[tail++] = w; };
    for (const t of targets) if (this.siteRoom(t) > eps) reach(n + t, 0);
    while (head < tail) {
      const v = queue[head++];
      const d = dist[v] + 1;
      if (v < n) {
        if (wantKwh(v) > 1e-7) { sources.push(v); continue; }
        const base = n + p.leaf[v] * T;
        for (let u = p.start[v]; u < p.end[v]; u++) if (flow.e[v * T + u] > eps && seen[base + u] !== stamp) reach(base + u, d);
        continue;
      }
      const c = Math.floor((v - n) / T);
      const u = (v - n) % T;
      for (let k = p.presentOffsets[c * T + u], e = p.presentOffsets[c * T + u + 1]; k < e; k++) {
        const i = p.presentSessions[k];
        if (seen[i] !== stamp && caps.sessionKwh[i * T + u] - flow.e[i * T + u] > eps) reach(i, d);
      }
      for (const ch of p.children[c]) {
        const w = n + ch * T + u;
        if (seen[w] !== stamp && caps.circuitKwh[ch * T + u] - flow.load[ch * T + u] > eps) reach(w, d);
      }
      const up = p.parent[c];
      if (up >= 0 && seen[n + up * T + u] !== stamp && flow.load[c * T + u] > eps) reach(n + up * T + u, d);
    }
    // Forward arcs of a node in a fixed order, so a current-arc pointer can resume: k-th arc or -1 past the end.
    const arcTo = (v: number, k: number): number => {
      if (v < n) return k < p.end[v] - p.start[v] ? n + p.leaf[v] * T + p.start[v] + k : -1;
      const c = Math.floor((v - n) / T);
      const u = (v - n) % T;
      if (k === 0) return p.parent[c] >= 0 ? n + p.parent[c] * T + u : -2;
      const kids = p.children[c];
      if (k - 1 < kids.length) return n + kids[k - 1] * T + u;
      const at = p.presentOffsets[c * T + u] + k - 1 - kids.length;
      return at < p.presentOffsets[c * T + u + 1] ? p.presentSessions[at] : -1;
    };
    let total = 0;
    const path = queue; // reuse: the BFS queue is no longer needed
    for (const i of sources) {
      while (wantKwh(i) > 1e-7) {
        let depth = 0;
        path[0] = i;
        let reached = -1;
        while (depth >= 0) {
          const v = path[depth];
          if (v >= n && v < n + T && dist[v] === 0) { reached = v; break; }
          let advanced = false;
          for (;;) {
            const w = arcTo(v, arc[v]);
            if (w === -1) break;
            if (w >= 0 && seen[w] === stamp && dist[w] === dist[v] - 1 && this.residual(v, w) > eps) {
              path[++depth] = w;
              advanced = true;
              break;
            }
            arc[v]++;
          }
          if (!advanced) { dist[v] = -1; depth--; }
        }
        if (reached < 0) break;
        const t = reached - n;
        let d = Math.min(wantKwh(i), this.siteRoom(t));
        for (let k = 0; k < depth; k++) d = Math.min(d, this.residual(path[k], path[k + 1]));
        if (d <= eps) break;
        for (let k = 0; k < depth; k++) this.push(path[k], path[k + 1], d);
        onPush(i, t, d);
        total += d;
      }
    }
    return total;
  }

  /** Site headroom of slot t, kWh. */
  siteRoom(t: number): number {
    return this.caps.circuitKwh[t] - this.flow.load[t];
  }
}

/**
 * The polymatroid greedy: visits slots in `order` (cheapest first for cost, earliest first for readiness) and fills
 * each as far as any session still wanting energy can reach it. Most energy goes straight in, earliest departure first;
 * when a slot still has room, augmenting paths shift sessions already charging there into other slots to make way
 * for one that cannot reach it directly. Each slot ends full in the max-flow sense, which makes the order optimal.
 */
export function fillSlots(p: Problem, res: Residual, needKwh: Float64Array, slots: SlotIndex, order: Int32Array, price: ArrayLike<number>): void {
  const { n, T } = p;
  const { caps, flow } = res;
  const want = (i: number) => needKwh[i] - flow.got[i];
  let wanting = 0;
  for (let i = 0; i < n; i++) if (want(i) > 1e-7) wanting++;
  // Slots of equal price are one element of the polymatroid: fill them together, re-route once for the group.
  for (let g = 0; g < order.length && wanting > 0;) {
    let h = g + 1;
    while (h < order.length && price[order[h]] === price[order[g]]) h++;
    const group = Array.from(order.subarray(g, h));
    g = h;
    for (const t of group) {
      for (let k = slots.offsets[t]; k < slots.offsets[t + 1]; k++) {
        const i = slots.sessions[k];
        const w = want(i);
        if (w <= eps) continue;
        const room = caps.sessionKwh[i * T + t] - flow.e[i * T + t];
        if (room <= eps) continue;
        const a = Math.min(w, room, headroom(p, caps, flow, p.leaf[i], t));
        if (a <= eps) continue;
        flow.e[i * T + t] += a;
        flow.got[i] += a;
        addUp(p, flow, p.leaf[i], t, a);
        if (want(i) <= 1e-7) wanting--;
      }
    }
    // Dinic phases: each levels the network once and pushes every shortest re-routing path it can.
    for (let phase = 0; wanting > 0 && phase < 4 * n + 16; phase++) {
      const pushed = res.blockingFlow(group, want, (i, t, d) => {
        flow.load[t] += d;
        flow.got[i] += d;
        if (want(i) <= 1e-7) wanting--;
      });
      if (pushed <= eps) break;
    }
  }
}

/**
 * Raises delivery towards `needKwh`. First, without lowering anyone, along the cheapest augmenting paths until a fresh
 * labelling finds none (the max flow). Then, for sessions still short in rank order, by taking energy from the
 * lowest-ranked session of strictly lower priority it can reach, so readiness is lexicographically best by priority.
 * Among equal priorities the slot filling already serves the earliest departure first.
 */
export function repair(p: Problem, res: Residual, needKwh: Float64Array, slots: SlotIndex, allowSteal: boolean): boolean {
  const { n } = p;
  const { flow } = res;
  const byRank = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => p.rank[a] - p.rank[b]);
  let short = byRank.filter((i) => needKwh[i] - flow.got[i] > 1e-7);
  if (short.length === 0) return false;
  const nodes = res.prev.length;
  const label = new Float64Array(nodes);
  const next = new Int32Array(nodes);
  for (let round = 0; short.length > 0 && round < 8 * p.T + n; round++) {
    res.labelAll(label, next, slots.byPrice);
    let progress = false;
    for (const i of short) {
      for (let guard = 0; guard < 64 && label[i] < Number.POSITIVE_INFINITY; guard++) {
        const want = needKwh[i] - flow.got[i];
        if (want <= 1e-7) break;
        const [b, root] = res.pathBottleneck(i, next);
        const t = root - n;
        const d = Math.min(want, b, res.siteRoom(t));
        if (d <= eps) break;
        res.pushPath(i, next, d);
        flow.load[t] += d;
        flow.got[i] += d;
        progress = true;
      }
    }
    short = short.filter((i) => needKwh[i] - flow.got[i] > 1e-7);
    if (!progress) break;
  }
  const priority = (i: number) => p.sessions[i].priority ?? 0;
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) lowest = Math.min(lowest, priority(i));
  if (!allowSteal) return false;
  let stolen = false;
  for (const i of short) {
    if (priority(i) <= lowest) continue;
    for (let guard = 0; needKwh[i] - flow.got[i] > 1e-7 && guard < 4 * p.T + 16; guard++) {
      let victim = -1;
      res.search(i, (u) => {
        if (u < n && u !== i && priority(u) < priority(i) && flow.got[u] > eps && (victim < 0 || p.rank[u] > p.rank[victim])) victim = u;
      });
      if (victim < 0) break;
      const d = Math.min(needKwh[i] - flow.got[i], res.bottleneck(victim), flow.got[victim]);
      if (d <= eps) break;
      res.augment(victim, d);
      flow.got[i] += d;
      flow.got[victim] -= d;
      stolen = true;
    }
  }
  return stolen;
}

/**
 * Cancels the cost-reducing cycles the greedy left: moves energy out of a slot to a cheaper slot it can reach
 * through the residual network. Stops when a fresh labelling shows no slot with load can reach a cheaper one with
 * headroom, which is the optimality condition of the min-cost flow, or after `maxRounds` labellings.
 */
export function improve(p: Problem, res: Residual, slots: SlotIndex, maxRounds: number): number {
  const { n, T } = p;
  const { flow } = res;
  const nodes = res.prev.length;
  const label = new Float64Array(nodes);
  const next = new Int32Array(nodes);
  let augments = 0;
  for (let round = 0; round < maxRounds; round++) {
    res.labelAll(label, next, slots.byPrice);
    let progress = false;
    for (let k = T - 1; k >= 0; k--) {
      const t = slots.byPrice[k];
      const from = n + t;
      if (flow.load[t] <= eps || !(label[from] < p.price[t] - 1e-12)) continue;
      // The path starts below the slot's own root: its first step takes energy out of slot t.
      const [b, root] = res.pathBottleneck(from, next);
      const s = root - n;
      if (s === t || p.price[s] >= p.price[t]) continue;
      const d = Math.min(flow.load[t], b, res.siteRoom(s));
      if (d <= eps) continue;
      res.pushPath(from, next, d);
      flow.load[t] -= d;
      flow.load[s] += d;
      augments++;
      progress = true;
    }
    if (!progress) break;
  }
  return augments;
}
