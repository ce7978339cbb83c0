// The yard section of `npm run bench:planner` (issue 9; alone: `npm run bench:planner -- --only yard`): on the
// reference yard depot, Voltyard's bays and moves against "first come, first plugged, no moves" and "moves by a fixed
// rule", all through the same energy planner; then the gap to the exact optimum (HiGHS MIP) on small generated yards.
import { readFileSync } from 'node:fs';
import { parseScenario } from '../../src/fleet/scenario.ts';
import type { LpSolver } from '../../src/planner/lp.ts';
import { planYard } from '../../src/planner/yard/index.ts';
import { yardBaselines, type YardStrategy } from '../../src/planner/yard/baselines.ts';
import type { YardPlan, YardSnapshot } from '../../src/planner/yard/types.ts';
import { median } from './metrics.ts';
import { solveYardMip } from './yard-mip.ts';
import { referenceYard, smallYard } from './yard-scenarios.ts';

interface Row { readyPercent: number; moves: number; energyPercent: number; peakKw: number; cost: number; ms: number }

function measure(strategy: YardStrategy, snapshot: YardSnapshot, nowMs: number, runs: number): Row {
  let result: YardPlan = strategy(snapshot, nowMs);
  strategy(snapshot, nowMs);
  const times: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    result = strategy(snapshot, nowMs);
    times.push(performance.now() - t0);
  }
  let need = 0, delivered = 0;
  // A plan never delivers more than the need, so need = planned + shortfall.
  for (const v of result.vehicles) { need += v.plannedKwh + v.shortfallKwh; delivered += v.plannedKwh; }
  return {
    readyPercent: 100 * result.readyCount / Math.max(1, result.vehicles.length), moves: result.moves,
    energyPercent: need > 0 ? 100 * delivered / need : 100, peakKw: result.energy.peakKw, cost: result.energy.totalCost, ms: median(times),
  };
}

/** Vehicles present at once beyond the bays (those with a need): each of them needs at least one move. */
function moveLowerBound(snapshot: YardSnapshot, nowMs: number): number {
  const bays = snapshot.chargers.reduce((a, c) => a + c.bays.length, 0);
  const events: [number, number][] = [];
  for (const v of snapshot.vehicles) {
    if ((v.energyNeededKwh ?? 1) <= 0 || v.departureMs <= nowMs) continue;
    const from = v.location.kind === 'expected' ? Math.max(nowMs, v.location.arrivalMs) : nowMs;
    events.push([from, 1], [v.departureMs, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let present = 0, most = 0;
  for (const [, d] of events) { present += d; most = Math.max(most, present); }
  return Math.max(0, most - bays);
}

function referenceTable(label: string, json: unknown, runs: number, targets: [string, boolean][]): void {
  const sc = parseScenario(json);
  if (!sc.yard) throw new Error(`${label}: not a yard scenario`);
  const bays = sc.yard.chargers.reduce((a, c) => a + c.bays.length, 0);
  const bound = moveLowerBound(sc.yard, sc.nowMs);
  console.log(`\n${label}: ${sc.yard.vehicles.length} vehicles, ${bays} bays; at least ${bound} moves for everyone to charge (vehicles present at once beyond the bays)`);
  console.log(`  ${'strategy'.padEnd(32)} ${'ready%'.padStart(6)} ${'moves'.padStart(5)} ${'energy%'.padStart(7)} ${'peak kW'.padStart(8)} ${'cost'.padStart(9)} ${'plan ms'.padStart(8)}`);
  const strategies: [string, YardStrategy][] = [['Voltyard (planYard)', planYard], ...yardBaselines];
  for (const [name, strategy] of strategies) {
    const r = measure(strategy, sc.yard, sc.nowMs, runs);
    console.log(`  ${name.padEnd(32)} ${r.readyPercent.toFixed(1).padStart(6)} ${String(r.moves).padStart(5)} ${r.energyPercent.toFixed(1).padStart(7)} ${r.peakKw.toFixed(1).padStart(8)} ${r.cost.toFixed(2).padStart(9)} ${r.ms.toFixed(1).padStart(8)}`);
    if (strategy === planYard) {
      targets.push([`${label}: Voltyard 100 % ready (${r.readyPercent.toFixed(1)} %) with the fewest moves possible (${r.moves}, bound ${bound})`, r.readyPercent >= 100 - 1e-9 && r.moves === bound]);
      targets.push([`${label}: planYard well under a second (${r.ms.toFixed(1)} ms median)`, r.ms < 1000]);
    }
  }
}

export function runYardBench(highs: LpSolver, runs = 7, mipSeconds = 20): void {
  const targets: [string, boolean][] = [];
  console.log(`\nYard planner (issue 9): bays and moves, each strategy through the same energy planner; median of ${runs} runs`);
  referenceTable('reference-depot-yard (300 kW)', JSON.parse(readFileSync(new URL('../../scenarios/reference-depot-yard.json', import.meta.url), 'utf8')), runs, targets);
  referenceTable('reference-depot-yard at 160 kW (generated)', referenceYard({ gridLimitKw: 160 }), runs, targets);

  console.log('\nGap to the exact optimum (HiGHS MIP, 30-minute slots; least shortfall, then fewest moves) on small generated yards:');
  console.log(`  ${'instance'.padEnd(16)} ${'veh'.padStart(3)} ${'bays'.padStart(4)} ${'slots'.padStart(5)}  ${'ready ours/opt'.padStart(14)} ${'short kWh ours/opt'.padStart(18)} ${'moves ours/opt'.padStart(14)} ${'MIP'.padStart(18)} ${'MIP s'.padStart(6)}`);
  let worstShort = 0, worstMoves = 0, worstReady = 0, solved = 0, limited = 0;
  const sizes: [number, number, number][] = [[4, 2, 16], [4, 3, 16], [5, 2, 16], [5, 3, 18], [6, 2, 16], [6, 3, 16], [6, 4, 18], [7, 3, 16], [8, 3, 16], [8, 4, 16]];
  sizes.forEach(([vehicles, bays, slots], k) => {
    const seed = 300 + k;
    const sc = parseScenario(smallYard(seed, { vehicles, bays, slots }));
    if (!sc.yard) return;
    const ours = planYard(sc.yard, sc.nowMs);
    const mip = solveYardMip(sc.yard, sc.nowMs, highs, mipSeconds);
    const short = ours.vehicles.reduce((a, v) => a + v.shortfallKwh, 0);
    // Proven optimal, or (time limit) the best found so far: an upper bound on the optimum, so a gap to it is a lower
    // bound on the gap.
    if (mip.status === 'Optimal') solved++;
    else limited++;
    worstShort = Math.max(worstShort, short - mip.shortfallKwh);
    worstMoves = Math.max(worstMoves, ours.moves - mip.moves);
    worstReady = Math.max(worstReady, mip.readyCount - ours.readyCount);
    const bayCount = sc.yard.chargers.reduce((a, c) => a + c.bays.length, 0);
    console.log(`  ${`small-yard-${seed}`.padEnd(16)} ${String(vehicles).padStart(3)} ${String(bayCount).padStart(4)} ${String(slots).padStart(5)}  ${`${ours.readyCount}/${mip.readyCount}`.padStart(14)} ` +
      `${`${short.toFixed(1)}/${mip.shortfallKwh.toFixed(1)}`.padStart(18)} ${`${ours.moves}/${mip.moves}`.padStart(14)} ${mip.status.padStart(18)} ${(mip.ms / 1000).toFixed(1).padStart(6)}`);
  });
  console.log(`  ${solved} proven optimal, ${limited} stopped at the ${mipSeconds} s limit (compared with the best solution found)`);
  console.log(`  worst: ready −${worstReady}, shortfall +${worstShort.toFixed(2)} kWh, moves +${worstMoves}`);
  targets.push([`small yards: as many vehicles ready as the optimum (worst −${worstReady}), at most one move more (worst +${worstMoves}); shortfall +${worstShort.toFixed(2)} kWh at worst`, worstReady === 0 && worstMoves <= 1]);
  console.log('\nYard targets:');
  for (const [what, met] of targets) console.log(`  ${met ? 'met    ' : 'NOT met'}  ${what}`);
}
