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
  /** Arcs with no more room than this count as full: a warm start's rounded flow leaves crumbs of room everywhere. */
  minArc = eps;

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
    this.searchMore(from, ++this.stamp, visit);
  }

  /** search() that keeps what an earlier search with the same stamp marked (a multi-source search), over arcs with more than `minKwh` room. */
  searchMore(from: number, stamp: number, visit: (node: number) => void, minKwh = eps): void {
    const { p, caps, flow, prev, seen, queue } = this;
    const { n, T, leaf, start, end, parent, children, presentOffsets, presentSessions } = p;
    const capS = caps.sessionKwh, capC = caps.circuitKwh, e = flow.e, load = flow.load;
    let head = 0, tail = 0;
    seen[from] = stamp;
    prev[from] = -1;
    queue[tail++] = from;
    // Arcs in a fixed order (the order is the BFS tree, hence the augmenting path); reads typed arrays directly.
    while (head < tail) {
      const u = queue[head++];
      visit(u);
      if (u < n) {
        const base = n + leaf[u] * T;
        for (let t = start[u]; t < end[u]; t++) {
          const v = base + t;
          if (capS[u * T + t] - e[u * T + t] > minKwh && seen[v] !== stamp) { seen[v] = stamp; prev[v] = u; queue[tail++] = v; }
        }
        continue;
      }
      const c = ((u - n) / T) | 0;
      const t = u - n - c * T;
      const up = parent[c];
      if (up >= 0 && capC[c * T + t] - load[c * T + t] > minKwh) {
        const v = n + up * T + t;
        if (seen[v] !== stamp) { seen[v] = stamp; prev[v] = u; queue[tail++] = v; }
      }
      for (const ch of children[c]) {
        const v = n + ch * T + t;
        if (load[ch * T + t] > minKwh && seen[v] !== stamp) { seen[v] = stamp; prev[v] = u; queue[tail++] = v; }
      }
      for (let k = presentOffsets[c * T + t], last = presentOffsets[c * T + t + 1]; k < last; k++) {
        const j = presentSessions[k];
        if (e[j * T + t] > minKwh && seen[j] !== stamp) { seen[j] = stamp; prev[j] = u; queue[tail++] = j; }
      }
    }
  }

  /**
   * Hours of the slots whose site root is reachable from a session still short of `needKwh`: in a max flow those
   * roots are all full, so raising the site cap by 1 kW delivers at most this many kWh more (the cut's slope).
   */
  shortCutHours(needKwh: Float64Array): number {
    const { p, flow } = this;
    const stamp = ++this.stamp;
    let hours = 0;
    for (let i = 0; i < p.n; i++) {
      if (needKwh[i] - flow.got[i] <= 1e-7 || this.seen[i] === stamp) continue;
      this.searchMore(i, stamp, (u) => { if (u >= p.n && u < p.n + p.T) hours += p.slotHours[u - p.n]; });
    }
    return hours;
  }

  /**
   * Whether a session still short of `needKwh` can reach, in the residual network, a slot whose site capacity is held
   * below `physicalKwh` (the chosen site cap, not the connection): then a higher cap would deliver more.
   */
  reachesCappedRoot(needKwh: Float64Array, physicalKwh: Float64Array, minKwh = eps): boolean {
    const { p, caps, flow } = this;
    const stamp = ++this.stamp;
    let capped = false;
    for (let i = 0; i < p.n && !capped; i++) {
      if (needKwh[i] - flow.got[i] <= minKwh || this.seen[i] === stamp) continue;
      this.searchMore(i, stamp, (u) => {
        if (u >= p.n && u < p.n + p.T && caps.circuitKwh[u - p.n] < physicalKwh[u - p.n] - 1e-9) capped = true;
      }, minKwh);
    }
    return capped;
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
    const m = this.minArc;
    const { p, caps, flow, seen, queue } = this;
    const { n, T, leaf, start, end, parent, children, presentOffsets, presentSessions } = p;
    const capS = caps.sessionKwh, capC = caps.circuitKwh, e = flow.e, load = flow.load;
    const stamp = ++this.stamp;
    label.fill(Number.POSITIVE_INFINITY);
    for (const s of byPrice) {
      const root = n + s;
      if (seen[root] === stamp || this.siteRoom(s) <= m) continue;
      const price = p.price[s];
      let head = 0, tail = 0;
      seen[root] = stamp; next[root] = -1; label[root] = price; queue[tail++] = root;
      while (head < tail) {
        const v = queue[head++];
        if (v < n) {
          // Arcs into session v: from its circuit node in slots where it charges (taking its energy back).
          const base = n + leaf[v] * T;
          for (let t = start[v]; t < end[v]; t++) {
            const w = base + t;
            if (e[v * T + t] > m && seen[w] !== stamp) { seen[w] = stamp; next[w] = v; label[w] = price; queue[tail++] = w; }
          }
          continue;
        }
        const c = ((v - n) / T) | 0;
        const t = v - n - c * T;
        for (let k = presentOffsets[c * T + t], last = presentOffsets[c * T + t + 1]; k < last; k++) {
          const i = presentSessions[k];
          if (seen[i] !== stamp && capS[i * T + t] - e[i * T + t] > m) { seen[i] = stamp; next[i] = v; label[i] = price; queue[tail++] = i; }
        }
        for (const ch of children[c]) {
          const w = n + ch * T + t;
          if (seen[w] !== stamp && capC[ch * T + t] - load[ch * T + t] > m) { seen[w] = stamp; next[w] = v; label[w] = price; queue[tail++] = w; }
        }
        const up = parent[c];
        if (up >= 0) {
          const w = n + up * T + t;
          if (seen[w] !== stamp && load[c * T + t] > m) { seen[w] = stamp; next[w] = v; label[w] = price; queue[tail++] = w; }
        }
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
    const m = this.minArc;
    const { p, caps, flow, seen, queue } = this;
    const { n, T, leaf, start, end, parent, children, presentOffsets, presentSessions } = p;
    const capS = caps.sessionKwh, capC = caps.circuitKwh, e = flow.e, load = flow.load;
    const dist = this.dist;
    const arc = this.arc;
    const sources: number[] = [];
    const stamp = ++this.stamp;
    let head = 0, tail = 0;
    for (const t of targets) {
      if (this.siteRoom(t) <= m) continue;
      seen[n + t] = stamp; dist[n + t] = 0; arc[n + t] = 0; queue[tail++] = n + t;
    }
    // Reverse BFS: w is levelled when it has a residual arc into an already levelled node.
    // Levels stop at the nearest sources (Dinic's level graph): farther ones are served by later phases, and the
    // rest of the network is not searched.
    let lastLevel = Number.POSITIVE_INFINITY;
    while (head < tail) {
      const v = queue[head++];
      if (dist[v] > lastLevel) break;
      const d = dist[v] + 1;
      if (v < n) {
        if (wantKwh(v) > 1e-7) { sources.push(v); lastLevel = dist[v]; continue; }
        // Past the level of the nearest sources, nothing levelled here can be on a shortest path.
        if (dist[v] === lastLevel) continue;
        const base = n + leaf[v] * T;
        for (let u = start[v]; u < end[v]; u++) {
          const w = base + u;
          if (e[v * T + u] > m && seen[w] !== stamp) { seen[w] = stamp; dist[w] = d; arc[w] = 0; queue[tail++] = w; }
        }
        continue;
      }
      if (dist[v] === lastLevel) continue;
      const c = ((v - n) / T) | 0;
      const u = v - n - c * T;
      for (let k = presentOffsets[c * T + u], last = presentOffsets[c * T + u + 1]; k < last; k++) {
        const i = presentSessions[k];
        if (seen[i] !== stamp && capS[i * T + u] - e[i * T + u] > m) { seen[i] = stamp; dist[i] = d; arc[i] = 0; queue[tail++] = i; }
      }
      for (const ch of children[c]) {
        const w = n + ch * T + u;
        if (seen[w] !== stamp && capC[ch * T + u] - load[ch * T + u] > m) { seen[w] = stamp; dist[w] = d; arc[w] = 0; queue[tail++] = w; }
      }
      const up = parent[c];
      if (up >= 0) {
        const w = n + up * T + u;
        if (seen[w] !== stamp && load[c * T + u] > m) { seen[w] = stamp; dist[w] = d; arc[w] = 0; queue[tail++] = w; }
      }
    }
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
          // Forward arcs in a fixed order, so the current-arc pointer arc[v] can resume where it stopped.
          const dv = dist[v] - 1;
          let w = -1;
          if (v < n) {
            const len = end[v] - start[v];
            const base = n + leaf[v] * T + start[v];
            const row = v * T + start[v];
            for (; arc[v] < len; arc[v]++) {
              const x = base + arc[v];
              if (seen[x] === stamp && dist[x] === dv && capS[row + arc[v]] - e[row + arc[v]] > m) { w = x; break; }
            }
          } else {
            const c = ((v - n) / T) | 0;
            const u = v - n - c * T;
            const kids = children[c];
            const nk = kids.length;
            const o0 = presentOffsets[c * T + u];
            const total = 1 + nk + presentOffsets[c * T + u + 1] - o0;
            for (; arc[v] < total; arc[v]++) {
              const k = arc[v];
              let x: number, r: number;
              if (k === 0) {
                const up = parent[c];
                if (up < 0) continue;
                x = n + up * T + u;
                r = capC[c * T + u] - load[c * T + u];
              } else if (k <= nk) {
                const ch = kids[k - 1];
                x = n + ch * T + u;
                r = load[ch * T + u];
              } else {
                x = presentSessions[o0 + k - 1 - nk];
                r = e[x * T + u];
              }
              if (seen[x] === stamp && dist[x] === dv && r > m) { w = x; break; }
            }
          }
          if (w >= 0) path[++depth] = w;
          else { dist[v] = -1; depth--; }
        }
        if (reached < 0) break;
        const t = reached - n;
        let d = Math.min(wantKwh(i), this.siteRoom(t));
        for (let k = 0; k < depth; k++) d = Math.min(d, this.residual(path[k], path[k + 1]));
        if (d <= m) break;
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
export function fillSlots(p: Problem, res: Residual, needKwh: Float64Array, slots: SlotIndex, order: Int32Array, price: ArrayLike<number>, reroute = true): void {
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
    for (let phase = 0; reroute && wanting > 0 && phase < 4 * n + 16; phase++) {
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
 * Among equal priorities the slot filling already serves the earliest departure first. A labelling round that moves
 * no more than `minKwh` along any path ends the first part.
 */
export function repair(p: Problem, res: Residual, needKwh: Float64Array, slots: SlotIndex, allowSteal: boolean, minKwh = eps): boolean {
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
        if (d > minKwh) progress = true;
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
  // Sessions a search without a victim reached. A short session there, served later (so of no higher priority), can
  // reach only what that search reached, and its victims would have been victims there too: it needs no search of
  // its own until energy moves again.
  const hopeless = new Uint8Array(n);
  const reached: number[] = [];
  for (const i of short) {
    if (priority(i) <= lowest || hopeless[i]) continue;
    for (let guard = 0; needKwh[i] - flow.got[i] > 1e-7 && guard < 4 * p.T + 16; guard++) {
      let victim = -1;
      reached.length = 0;
      res.search(i, (u) => {
        if (u >= n) return;
        reached.push(u);
        if (u !== i && priority(u) < priority(i) && flow.got[u] > eps && (victim < 0 || p.rank[u] > p.rank[victim])) victim = u;
      });
      if (victim < 0) { for (const u of reached) hopeless[u] = 1; break; }
      const d = Math.min(needKwh[i] - flow.got[i], res.bottleneck(victim), flow.got[victim]);
      if (d <= eps) break;
      res.augment(victim, d);
      flow.got[i] += d;
      flow.got[victim] -= d;
      stolen = true;
      hopeless.fill(0);
    }
  }
  return stolen;
}

/**
 * Cancels the cost-reducing cycles the greedy left: moves energy out of a slot to a cheaper slot it can reach
 * through the residual network. Stops when a fresh labelling shows no slot with load can reach a cheaper one with
 * headroom, which is the optimality condition of the min-cost flow, or after `maxRounds` labellings, or when a round
 * moves no more than `minKwh` along any path (crumbs, e.g. from a plan's rounded powers).
 */
export function improve(p: Problem, res: Residual, slots: SlotIndex, maxRounds: number, minKwh = eps): number {
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
      if (!(label[from] < p.price[t] - 1e-12)) continue;
      // The path starts below the slot's own root: its first step takes energy out of slot t. It stays valid while
      // every arc on it has room, so push along it until one fills.
      for (let guard = 0; guard < 64 && flow.load[t] > eps; guard++) {
        const [b, root] = res.pathBottleneck(from, next);
        const s = root - n;
        if (s === t || p.price[s] >= p.price[t]) break;
        const d = Math.min(flow.load[t], b, res.siteRoom(s));
        if (d <= eps) break;
        res.pushPath(from, next, d);
        flow.load[t] -= d;
        flow.load[s] += d;
        augments++;
        if (d > minKwh) progress = true;
      }
    }
    if (!progress) break;
  }
  return augments;
}
