// The benchmark's yardsticks for any schedule of energy per session and slot on a Problem.
import type { Problem } from '../../src/planner/problem.ts';

export interface Metrics {
  readonly readyPercent: number;
  readonly energyPercent: number;
  readonly peakKw: number;
  readonly energyCost: number;
  readonly demandCharge: number;
  readonly total: number;
}

export function metricsOf(p: Problem, e: Float64Array): Metrics {
  const { T } = p;
  let ready = 0, delivered = 0, need = 0, energyCost = 0, peakKw = 0;
  for (let i = 0; i < p.n; i++) {
    let got = 0;
    for (let t = 0; t < T; t++) got += e[i * T + t];
    if (got >= p.needKwh[i] - 1e-3) ready++;
    delivered += Math.min(got, p.needKwh[i]);
    need += p.needKwh[i];
  }
  for (let t = 0; t < T; t++) {
    let load = 0;
    for (let i = 0; i < p.n; i++) load += e[i * T + t];
    energyCost += load * p.price[t];
    peakKw = Math.max(peakKw, load / p.slotHours[t] + p.otherLoadKw[t]);
  }
  const demandCharge = p.demandChargePerKw * Math.max(0, peakKw - p.peakSoFarKw);
  return {
    readyPercent: 100 * ready / Math.max(1, p.n), energyPercent: need > 0 ? 100 * delivered / need : 100,
    peakKw, energyCost, demandCharge, total: energyCost + demandCharge,
  };
}

export const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
