// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and says where the time went in given stretches of the run:
// self time per function, per source file or package, inclusive time of Voltyard's own functions (src/), and the
// long tasks (stretches the event loop never went idle) that make tail latency.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface Window { from: number; to: number }

export interface Profile {
  readonly byId: Map<number, ProfileNode>;
  readonly parent: Map<number, number>;
  /**
   * Per sample: node id, time (ms since epoch), the time it stands for (µs) and the gap before it beyond twice the
   * sampling interval (µs). Such gaps mean the whole process, sampler thread included, was off the CPU (other work
   * on the machine); counting them as time in whatever frame came next would blame that frame for the wait.
   */
  readonly samples: { id: number; at: number; us: number; starvedUs: number }[];
  readonly root: string;
}

const idle = new Set(['(idle)', '(program)']);

/**
 * Profile times are on V8's monotonic clock; the profile ends when the process exits, so a sample's wall time is the
 * exit time (seen by the parent, within milliseconds) minus its distance to the profile's end.
 */
export function loadProfile(file: string, exitedAtMs: number, root: string): Profile {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sorted = [...p.timeDeltas].sort((a, b) => a - b);
  const cap = 2 * Math.max(1, sorted[sorted.length >> 1] ?? 1000);
  let t = p.startTime;
  const samples = p.samples.map((id, i) => {
    const delta = Math.max(0, p.timeDeltas[i] ?? 0);
    t += delta;
    const us = Math.min(delta, cap);
    return { id, at: exitedAtMs - (p.endTime - t) / 1000, us, starvedUs: delta - us };
  });
  return { byId, parent, samples, root };
}

function where(url: string, root: string): string {
  if (url === '') return '(native)';
  const file = url.replace(/^file:\/\//, '').replace(root, '');
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return `node_modules/${pkg[1]}`;
  if (file.startsWith('node:')) return 'node: internals';
  return file.replace(/^\/+/, '');
}

function labelOf(n: ProfileNode, root: string): string {
  const f = n.callFrame;
  return f.url === '' ? (f.functionName || '(anonymous)') : `${f.functionName || '(anonymous)'} ${where(f.url, root)}:${f.lineNumber + 1}`;
}

const inside = (at: number, windows: Window[]) => windows.some((w) => at >= w.from && at < w.to);
const isIdle = (p: Profile, id: number) => idle.has(p.byId.get(id)!.callFrame.functionName);

/** Adds a sample's time to every distinct Voltyard (src/) function on its stack. */
function addInclusive(p: Profile, id: number, us: number, into: Map<string, number>): void {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = p.parent.get(cur)) {
    const n = p.byId.get(cur)!;
    if (!n.callFrame.url.includes('/src/')) continue;
    const k = labelOf(n, p.root);
    if (!seen.has(k)) { seen.add(k); into.set(k, (into.get(k) ?? 0) + us); }
  }
}

const top = (m: Map<string, number>, total: number, count: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, count).map(([k, us]) => `    ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`);

/** Where the busy time inside `windows` went. */
export function summarise(p: Profile, windows: Window[], count = 15): string[] {
  const self = new Map<string, number>();
  const perPlace = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let total = 0;
  let starved = 0;
  for (const s of p.samples) {
    if (!inside(s.at, windows)) continue;
    total += s.us;
    starved += s.starvedUs;
    if (isIdle(p, s.id)) continue;
    busy += s.us;
    const node = p.byId.get(s.id)!;
    const key = labelOf(node, p.root);
    self.set(key, (self.get(key) ?? 0) + s.us);
    const place = node.callFrame.url === '' ? node.callFrame.functionName : where(node.callFrame.url, p.root);
    perPlace.set(place, (perPlace.get(place) ?? 0) + s.us);
    addInclusive(p, s.id, s.us, inclusive);
  }
  if (total === 0) return ['    no samples in these windows'];
  return [
    `    ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (shares below are of busy time); ` +
      `${(starved / 1e6).toFixed(1)} s more the process was off the CPU (sampler gaps, not counted)`,
    '    self time by function:', ...top(self, busy, count),
    '    self time by file / package:', ...top(perPlace, busy, count),
    '    inclusive time of Voltyard functions (src/):', ...top(inclusive, busy, count),
  ];
}

/** Stretches longer than `thresholdMs` in which the event loop never went idle, and what ran in them. */
export function longTasks(p: Profile, windows: Window[], thresholdMs: number, count = 10): string[] {
  const tasks: { from: number; us: number; ids: { id: number; us: number }[] }[] = [];
  let cur: (typeof tasks)[number] | null = null;
  for (const s of p.samples) {
    if (!inside(s.at, windows) || isIdle(p, s.id)) { cur = null; continue; }
    if (!cur) tasks.push(cur = { from: s.at, us: 0, ids: [] });
    cur.us += s.us;
    cur.ids.push({ id: s.id, us: s.us });
  }
  const long = tasks.filter((t) => t.us / 1000 > thresholdMs);
  if (long.length === 0) return [`    none longer than ${thresholdMs} ms`];
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  for (const t of long) {
    for (const { id, us } of t.ids) {
      total += us;
      addInclusive(p, id, us, inclusive);
      const key = labelOf(p.byId.get(id)!, p.root);
      self.set(key, (self.get(key) ?? 0) + us);
    }
  }
  const durations = long.map((t) => t.us / 1000).sort((a, b) => b - a);
  return [
    `    ${long.length} tasks over ${thresholdMs} ms (longest ${durations.slice(0, 5).map((d) => d.toFixed(0)).join(', ')} ms); inside them:`,
    '    self time by function:', ...top(self, total, count),
    '    inclusive time of Voltyard functions (src/):', ...top(inclusive, total, count),
  ];
}
