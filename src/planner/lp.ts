// The exact linear program of the planner's problem, solved with HiGHS: the oracle for the tests and the yardstick
// for the benchmark. Same Problem as the flow solver; continuous (no AC minimum power); the demand charge through a
// peak variable z ≥ every slot's site power; shortfall s_i priced far above any energy cost so readiness comes first.
//
//   min  Σ price_t·x_it + rate·z + Σ W_i·s_i
//   s.t. Σ_t x_it + s_i = need_i                       (every session)
//        Σ_{i below c} x_it ≤ cap_ct                    (every circuit, every slot; the root net of other load)
//        Σ_i x_it / h_t − z ≤ peakSoFar − other_t       (every slot, when there is a demand charge)
//        0 ≤ x_it ≤ cap_it,  s_i ≥ 0,  z ≥ 0
// With `deliveredKwh` (LpOptions) shortfall is free and Σ s_i ≤ Σ need_i − deliveredKwh instead: the least cost of
// delivering a given amount, for comparing a plan that delivers less than the optimum "at equal energy".
import type { Problem } from './problem.ts';

/** The part of a HiGHS instance we use (the npm `highs` module's legacy solve). */
export interface LpSolver {
  solve(problem: string, options?: Readonly<Record<string, string | number | boolean>>): {
    Status: string;
    Columns: Record<string, { Primal: number }>;
  };
}

export interface LpResult {
  readonly status: string;
  /** Energy per session and slot, kWh (n × T). */
  readonly e: Float64Array;
  readonly shortfallKwh: number;
  readonly energyCost: number;
  readonly peakKw: number;
  readonly demandChargeIncrement: number;
  readonly total: number;
}

export interface LpOptions {
  /** Deliver at least this much in total, at least cost, instead of as much as possible first. */
  readonly deliveredKwh?: number;
}

/** Weight of a kWh of shortfall: far above any price, a little more for higher-ranked sessions. */
function shortfallWeight(p: Problem, i: number): number {
  let maxPrice = 0;
  for (let t = 0; t < p.T; t++) maxPrice = Math.max(maxPrice, p.price[t]);
  return (1 + maxPrice + p.demandChargePerKw) * 1000 * (1 + 0.001 * (p.n - p.rank[i]) / Math.max(1, p.n));
}

export function buildLp(p: Problem, options: LpOptions = {}): string {
  const { n, T } = p;
  const C = p.circuitIds.length;
  const out: string[] = ['Minimize', ' obj:'];
  const terms: string[] = [];
  const x = (i: number, t: number) => `x${i}_${t}`;
  const has = (i: number, t: number) => p.capKwh[i * T + t] > 0;
  for (let i = 0; i < n; i++) {
    for (let t = p.start[i]; t < p.end[i]; t++) if (has(i, t)) terms.push(`+ ${p.price[t]} ${x(i, t)}`);
    terms.push(`+ ${options.deliveredKwh === undefined ? shortfallWeight(p, i) : 0} s${i}`);
  }
  const withPeak = p.demandChargePerKw > 0;
  if (withPeak) terms.push(`+ ${p.demandChargePerKw} z`);
  for (let k = 0; k < terms.length; k += 8) out.push('  ' + terms.slice(k, k + 8).join(' '));
  out.push('Subject To');
  for (let i = 0; i < n; i++) {
    const row = [`+ s${i}`];
    for (let t = p.start[i]; t < p.end[i]; t++) if (has(i, t)) row.push(`+ ${x(i, t)}`);
    out.push(` need${i}: ${row.join(' ')} = ${p.needKwh[i]}`);
  }
  if (options.deliveredKwh !== undefined) {
    const totalNeed = p.needKwh.reduce((a, b) => a + b, 0);
    out.push(` short: ${Array.from({ length: n }, (_, i) => `+ s${i}`).join(' ')} <= ${Math.max(0, totalNeed - options.deliveredKwh)}`);
  }
  // Sessions below each circuit, found by walking up from every session's own circuit.
  const below: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < n; i++) for (let c = p.leaf[i]; c >= 0; c = p.parent[c]) below[c].push(i);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < T; t++) {
      const row = below[c].filter((i) => t >= p.start[i] && t < p.end[i] && has(i, t)).map((i) => `+ ${x(i, t)}`);
      if (row.length === 0) continue;
      out.push(` c${c}_${t}: ${row.join(' ')} <= ${p.circuitCapKwh[c * T + t]}`);
    }
  }
  if (withPeak) {
    for (let t = 0; t < T; t++) {
      const row = below[0].filter((i) => t >= p.start[i] && t < p.end[i] && has(i, t)).map((i) => `+ ${1 / p.slotHours[t]} ${x(i, t)}`);
      if (row.length === 0) continue;
      out.push(` peak${t}: ${row.join(' ')} - z <= ${p.peakSoFarKw - p.otherLoadKw[t]}`);
    }
  }
  out.push('Bounds');
  for (let i = 0; i < n; i++) for (let t = p.start[i]; t < p.end[i]; t++) if (has(i, t)) out.push(` 0 <= ${x(i, t)} <= ${p.capKwh[i * T + t]}`);
  out.push('End');
  return out.join('\n');
}

export function solveLp(p: Problem, solver: LpSolver, options: LpOptions = {}): LpResult {
  const { n, T } = p;
  const result = solver.solve(buildLp(p, options));
  const e = new Float64Array(n * T);
  if (result.Status !== 'Optimal') {
    return { status: result.Status, e, shortfallKwh: Number.NaN, energyCost: Number.NaN, peakKw: Number.NaN, demandChargeIncrement: Number.NaN, total: Number.NaN };
  }
  let shortfallKwh = 0;
  const load = new Float64Array(T);
  for (let i = 0; i < n; i++) {
    let got = 0;
    for (let t = p.start[i]; t < p.end[i]; t++) {
      const v = Math.max(0, result.Columns[`x${i}_${t}`]?.Primal ?? 0);
      e[i * T + t] = v;
      load[t] += v;
      got += v;
    }
    shortfallKwh += Math.max(0, p.needKwh[i] - got);
  }
  let energyCost = 0, peakKw = 0;
  for (let t = 0; t < T; t++) {
    energyCost += load[t] * p.price[t];
    peakKw = Math.max(peakKw, load[t] / p.slotHours[t] + p.otherLoadKw[t]);
  }
  const demandChargeIncrement = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  return { status: result.Status, e, shortfallKwh, energyCost, peakKw, demandChargeIncrement, total: energyCost + demandChargeIncrement };
}
