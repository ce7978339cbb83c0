// Explains each session's plan in words and numbers: what it needs, what bound it, why it charges when it does.
import { localTimeIn } from '../energy/tariff.ts';
import type { Flow, Caps } from './flow.ts';
import type { MinPowerAdjustment } from './min-power.ts';
import type { Problem } from './problem.ts';

const eps = 1e-7;
const fmt = (v: number, digits = 1) => v.toFixed(digits);

/** 'HH:MM' in the depot time zone. Memoised per instant: a plan's traces name the same slot boundaries and departures over and over. */
export function clockIn(timeZone: string): (ms: number) => string {
  const local = localTimeIn(timeZone);
  const two = (v: number) => String(v).padStart(2, '0');
  const memo = new Map<number, string>();
  return (ms) => {
    let text = memo.get(ms);
    if (text === undefined) {
      const m = local(ms).minuteOfDay;
      text = `${two(Math.floor(m / 60))}:${two(m % 60)}`;
      memo.set(ms, text);
    }
    return text;
  };
}

/** The circuit (or site cap) that was full in slot t on session i's path, or -1; -2 means the chosen site cap. */
function bindingCircuit(p: Problem, caps: Caps, flow: Flow, i: number, t: number): number {
  for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) {
    const k = c * p.T + t;
    if (caps.circuitKwh[k] - flow.load[k] <= eps * (1 + caps.circuitKwh[k])) {
      return c === 0 && caps.circuitKwh[k] < p.circuitCapKwh[k] - eps ? -2 : c;
    }
  }
  return -1;
}

/** Sessions present below each circuit (its whole subtree) per slot, C × T: computed once per plan for the traces. */
export function presentBelow(p: Problem): Int32Array {
  const { T } = p;
  const counts = new Int32Array(p.circuitIds.length * T);
  for (let c = p.circuitIds.length - 1; c >= 0; c--) {
    for (let t = 0; t < T; t++) counts[c * T + t] += p.presentOffsets[c * T + t + 1] - p.presentOffsets[c * T + t];
    const up = p.parent[c];
    if (up >= 0) for (let t = 0; t < T; t++) counts[up * T + t] += counts[c * T + t];
  }
  return counts;
}

export function traceSession(
  p: Problem, caps: Caps, flow: Flow, capKw: number, i: number, clock: (ms: number) => string,
  adjustment: MinPowerAdjustment | undefined, present: Int32Array,
): string[] {
  const { T } = p;
  const s = p.sessions[i];
  const lines: string[] = [];
  const need = p.needKwh[i];
  const got = flow.got[i];
  const dep = clock(s.departureMs);
  if (need <= eps) return ['nothing to deliver: already at target'];
  let alone = 0;
  for (let t = p.start[i]; t < p.end[i]; t++) alone += caps.sessionKwh[i * T + t];
  const short = need - got;
  if (short > 1e-3) {
    const why = alone + eps < need
      ? `at most ${fmt(alone)} possible at ${fmt(p.maxPowerKw[i])} kW before departure`
      : `${fmt(alone)} kWh fit its own window, but shared limits and higher-ranked sessions leave ${fmt(got)}`;
    lines.push(`short by ${fmt(short)} kWh: departure ${dep}, needs ${fmt(need)} kWh, ${why}`);
  } else {
    lines.push(`ready: ${fmt(got)} of ${fmt(need)} kWh by departure ${dep}`);
  }
  // What held the power down in the slots where it charged below its own maximum.
  // Only a session short of its need was held down by a shared limit (a ready one charged below its maximum by choice).
  const counts = got >= need - eps ? undefined : new Map<number, number>();
  let atMax = 0, charging = 0;
  for (let t = p.start[i]; t < p.end[i]; t++) {
    const v = flow.e[i * T + t];
    const cap = caps.sessionKwh[i * T + t];
    if (v > eps) charging++;
    if (cap > eps && v >= cap - eps) { atMax++; continue; }
    if (!counts) continue;
    const c = bindingCircuit(p, caps, flow, i, t);
    if (c !== -1) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  if (atMax > 0) lines.push(`${p.powerBound[i] === 'vehicle' ? 'vehicle' : 'charger'} max ${fmt(p.maxPowerKw[i])} kW in ${atMax} slot(s)`);
  const binding = counts && counts.size > 0 ? [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] : undefined;
  if (binding) {
    const [c, slots] = binding;
    if (c === -2) {
      lines.push(`capped by the site cap ${fmt(capKw)} kW in ${slots} slot(s): a higher peak would cost more in demand charge than it saves`);
    } else {
      // The most vehicles below the circuit at once during this session's stay.
      let sharing = 0;
      for (let t = p.start[i]; t < p.end[i]; t++) sharing = Math.max(sharing, present[c * T + t]);
      const name = c === 0 ? 'the site connection' : `circuit ${p.circuitIds[c]}`;
      lines.push(`capped by ${name}, ${fmt(p.circuitLimitKw[c], 0)} kW shared by ${sharing}, in ${slots} slot(s)`);
    }
  }
  // Deferral: charging happened in cheaper slots while dearer ones in the window stayed idle.
  if (charging > 0) {
    let first = -1, last = -1, paid = 0, idleMax = -1;
    for (let t = p.start[i]; t < p.end[i]; t++) {
      const v = flow.e[i * T + t];
      if (v > eps) { if (first < 0) first = t; last = t; paid += v * p.price[t]; }
      else if (caps.sessionKwh[i * T + t] > eps) idleMax = Math.max(idleMax, p.price[t]);
    }
    const avg = paid / Math.max(got, eps);
    if (idleMax > avg + 1e-9) {
      lines.push(`deferred to ${clock(p.slotStartsMs[first])}–${clock(p.slotStartsMs[last + 1])}: price ${avg.toFixed(3)} vs ${idleMax.toFixed(3)}`);
    } else {
      lines.push(`charges ${clock(p.slotStartsMs[first])}–${clock(p.slotStartsMs[last + 1])}`);
    }
  }
  if (p.minNeedKwh[i] > eps) {
    let acc = 0;
    for (let t = p.start[i]; t < p.end[i]; t++) {
      acc += flow.e[i * T + t];
      if (acc >= p.minNeedKwh[i] - 1e-6) { lines.push(`policy minimum ${p.policy.minSocPercent}% SoC reached by ${clock(p.slotStartsMs[t + 1])}`); break; }
    }
  }
  if (adjustment) {
    lines.push(`AC minimum ${fmt(p.minPowerKw[i])} kW: moved ${fmt(adjustment.movedKwh, 2)} kWh off below-minimum slots` +
      (adjustment.lostKwh > 1e-6 ? `, ${fmt(adjustment.lostKwh, 2)} kWh could not be placed` : ''));
  }
  return lines;
}
