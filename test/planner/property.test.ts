// Property tests over generated depots (seeded): the planner against the exact LP solved by HiGHS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { buildProblem } from '../../src/planner/problem.ts';
import { solve } from '../../src/planner/solve.ts';
import { solveLp } from '../../src/planner/lp.ts';
import { plan } from '../../src/planner/plan.ts';
import { warmSolve } from '../../src/planner/warm.ts';
import { verifyPlan } from '../../src/planner/verify.ts';
import { loadHighs } from '../../bench/planner/highs.ts';
import { randomDepot } from '../../bench/planner/scenarios.ts';

const highs = await loadHighs();
const seeds = Array.from({ length: 30 }, (_, k) => k + 1);
const depotOf = (seed: number) => parseScenario(randomDepot(seed, {
  sessions: 6 + (seed % 5) * 4, levels: 1 + (seed % 3), fanout: 3, tightness: [0.3, 0.5, 0.8][seed % 3],
}));

test('never exceeds a limit: grid, every circuit, every charger, every vehicle, every slot', () => {
  for (const seed of seeds) {
    const sc = depotOf(seed);
    assert.deepEqual(verifyPlan(sc.snapshot, plan(sc.snapshot, sc.nowMs)), [], `seed ${seed}`);
  }
});

test('every departure met whenever the LP says it is feasible, and never more shortfall than the LP', () => {
  let feasible = 0;
  for (const seed of seeds) {
    const sc = depotOf(seed);
    const p = buildProblem(sc.snapshot, sc.nowMs);
    const lp = solveLp(p, highs);
    assert.equal(lp.status, 'Optimal', `seed ${seed}`);
    const ours = solve(p);
    const tol = 1e-6 * (1 + p.needKwh.reduce((a, b) => a + b, 0));
    if (lp.shortfallKwh <= tol) {
      feasible++;
      assert.ok(ours.shortfallKwh <= 1e-5, `seed ${seed}: LP feasible, planner short ${ours.shortfallKwh}`);
    }
    assert.ok(ours.shortfallKwh <= lp.shortfallKwh + 1e-4, `seed ${seed}: ${ours.shortfallKwh} vs LP ${lp.shortfallKwh}`);
  }
  assert.ok(feasible >= 5 && feasible < seeds.length, `a mix of feasible and starved depots (${feasible} feasible)`);
});

test('cost (energy + demand charge) within 1% of the LP optimum at equal energy', () => {
  for (const seed of seeds) {
    const sc = depotOf(seed);
    const p = buildProblem(sc.snapshot, sc.nowMs);
    const lp = solveLp(p, highs);
    const ours = solve(p);
    if (Math.abs(ours.shortfallKwh - lp.shortfallKwh) > 1e-4) continue;
    assert.ok(ours.total <= lp.total * 1.01 + 1e-6, `seed ${seed}: ${ours.total} vs LP ${lp.total}`);
  }
});

test('determinism: the same generated depot gives the same plan', () => {
  for (const seed of seeds.slice(0, 8)) {
    const a = depotOf(seed);
    const b = depotOf(seed);
    assert.deepEqual(plan(a.snapshot, a.nowMs), plan(b.snapshot, b.nowMs), `seed ${seed}`);
  }
});

test('warm start: re-planning with the previous plan gives the same readiness and a cost within 1%', () => {
  for (const seed of seeds.slice(0, 10)) {
    const sc = depotOf(seed);
    const first = plan(sc.snapshot, sc.nowMs);
    const again = plan(sc.snapshot, sc.nowMs, { previous: first });
    assert.ok(Math.abs(again.shortfallKwh - first.shortfallKwh) < 1e-3, `seed ${seed}`);
    assert.ok(again.totalCost <= first.totalCost * 1.01 + 1e-6, `seed ${seed}: ${again.totalCost} vs ${first.totalCost}`);
  }
});

test('warm re-plan after an event: same readiness and cost within 1% of planning from scratch; a departed vehicle forces the full search', () => {
  for (const seed of seeds.slice(0, 12)) {
    const sc = depotOf(seed);
    const first = plan(sc.snapshot, sc.nowMs);
    // One event: the first session's departure moves 30 minutes earlier (never before now).
    const moved = { ...sc.snapshot, sessions: sc.snapshot.sessions.map((s, i) => (i === 0 ? { ...s, departureMs: Math.max(sc.nowMs + 900_000, s.departureMs - 1_800_000) } : s)) };
    const cold = plan(moved, sc.nowMs);
    const warm = plan(moved, sc.nowMs, { previous: first });
    assert.deepEqual(verifyPlan(moved, warm), [], `seed ${seed}`);
    assert.ok(warm.shortfallKwh <= cold.shortfallKwh + 1e-3, `seed ${seed}: warm short ${warm.shortfallKwh} vs ${cold.shortfallKwh}`);
    assert.ok(warm.totalCost <= cold.totalCost * 1.01 + 1e-6, `seed ${seed}: warm ${warm.totalCost} vs cold ${cold.totalCost}`);
    // A vehicle that left may lower the best cap: the warm path must not keep the old one.
    const left = { ...sc.snapshot, sessions: sc.snapshot.sessions.slice(1) };
    const p = buildProblem(left, sc.nowMs);
    if (first.sessions[0].plannedKwh > 1e-2) assert.equal(warmSolve(p, first), undefined, `seed ${seed}`);
  }
});

test('warm re-plan a minute later, after limits are raised or lowered, a vehicle slowed, more other load: cost within 1% of planning from scratch, limits kept', () => {
  let warmed = 0;
  for (const seed of seeds.slice(0, 20)) {
    const sc = depotOf(seed);
    const first = plan(sc.snapshot, sc.nowMs);
    const later = sc.nowMs + 60_000;
    const moved = { ...sc.snapshot, sessions: sc.snapshot.sessions.map((s, i) => (i === 0 ? { ...s, departureMs: Math.max(later + 900_000, s.departureMs - 1_800_000) } : s)) };
    const raised = { ...sc.snapshot, circuits: sc.snapshot.circuits.map((c) => ({ ...c, maxPowerKw: c.maxPowerKw * 1.3 })), gridLimitKw: sc.snapshot.gridLimitKw * 1.3 };
    // Tightening events that lower what can be delivered at all, and with it the cap needed to deliver it.
    const slowed = { ...sc.snapshot, sessions: sc.snapshot.sessions.map((s, i) => (i === seed % sc.snapshot.sessions.length ? { ...s, vehicleMaxPowerKw: 3 } : s)) };
    const lowered = { ...sc.snapshot, circuits: sc.snapshot.circuits.map((c, i) => (i === seed % sc.snapshot.circuits.length ? { ...c, maxPowerKw: c.maxPowerKw * 0.7 } : c)) };
    const busier = { ...sc.snapshot, otherLoadKw: [{ fromMs: sc.nowMs, loadKw: 0.1 * sc.snapshot.gridLimitKw }] };
    for (const [what, snap] of [['moved', moved], ['raised', raised], ['slowed', slowed], ['lowered', lowered], ['busier', busier]] as const) {
      const cold = plan(snap, later);
      const warm = plan(snap, later, { previous: first });
      if (what === 'moved' && warmSolve(buildProblem(snap, later), first)) warmed++;
      assert.deepEqual(verifyPlan(snap, warm), [], `seed ${seed} ${what}`);
      assert.ok(warm.shortfallKwh <= cold.shortfallKwh + 1e-3, `seed ${seed} ${what}: warm short ${warm.shortfallKwh} vs ${cold.shortfallKwh}`);
      assert.ok(warm.totalCost <= cold.totalCost * 1.01 + 1e-6, `seed ${seed} ${what}: warm ${warm.totalCost} vs cold ${cold.totalCost}`);
    }
    // Raised limits may lower the best cap: no warm start keeps the old one.
    assert.equal(warmSolve(buildProblem(raised, later), first), undefined, `seed ${seed}`);
  }
  assert.ok(warmed >= 3, `the warm path ran (${warmed} of 20)`);
});
