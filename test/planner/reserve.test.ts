// The arrival reserve (DepotSnapshot.reserveKw): site power kept free for vehicles the snapshot does not list yet,
// spent only on energy the chosen cap could not deliver anywhere else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { plan } from '../../src/planner/plan.ts';
import { buildProblem, PlannerInputError } from '../../src/planner/problem.ts';
import { solve } from '../../src/planner/solve.ts';
import { solveLp } from '../../src/planner/lp.ts';
import { verifyPlan } from '../../src/planner/verify.ts';
import { loadHighs } from '../../bench/planner/highs.ts';
import { randomDepot } from '../../bench/planner/scenarios.ts';
import { at, dc, depot, energyOf, now, session, slotOf, touTariff } from './helpers.ts';

const highs = await loadHighs();

test('reserve: energy that fits elsewhere stays out of it, at the cost the LP finds with the reserve as other load', () => {
  // 40 kWh due at 04:00 on a 50 kW site; without a reserve all of it goes to the cheap 01:00–04:00.
  const base = depot({ gridLimitKw: 50, chargers: [dc('D1')], sessions: [session('v1', 'D1', 40, at(4))] });
  const reserveKw = [{ fromMs: at(1), loadKw: 40 }, { fromMs: at(4), loadKw: 0 }];
  const snap = { ...base, reserveKw };
  const p = plan(snap, now);
  assert.ok(p.allReady, p.sessions[0].trace.join(' | '));
  assert.deepEqual(verifyPlan(snap, p), []);
  for (let t = slotOf(p, at(1)); t < slotOf(p, at(4)); t++) assert.ok(p.siteLoadKw[t] <= 10 + 1e-6, `slot ${t}: ${p.siteLoadKw[t]} kW in the reserve`);
  // 30 kWh at 10 kW in the cheap hours, the other 10 kWh at the next price, none at the dearest.
  const cheap = energyOf(p.sessions[0].powerKw, p.slotStartsMs, slotOf(p, at(1)), slotOf(p, at(4)));
  assert.ok(Math.abs(cheap - 30) < 1e-6, `cheap hours carry ${cheap} kWh`);
  // The reserve is other load for the tiers: the same optimum as the LP of that problem (no demand charge here).
  const lp = solveLp(buildProblem({ ...base, otherLoadKw: reserveKw }, now), highs);
  assert.ok(Math.abs(p.energyCost - lp.energyCost) <= 1e-6 * (1 + lp.energyCost), `energy cost ${p.energyCost} vs LP ${lp.energyCost}`);
  assert.ok(p.energyCost > plan(base, now).energyCost, 'the reserve is paid for with dearer energy');
});

test('reserve: spent when nothing else can deliver the energy, so it never costs a departure', () => {
  // 140 kWh by 20:00 at 50 kW: 150 kWh possible, so the reserve over 18:00–20:00 must give 70 kWh of its 80.
  const base = depot({ gridLimitKw: 50, chargers: [dc('D1')], sessions: [session('v1', 'D1', 140, at(20))] });
  const snap = { ...base, reserveKw: [{ fromMs: at(18), loadKw: 40 }] };
  const p = plan(snap, now);
  assert.ok(p.allReady, p.sessions[0].trace.join(' | '));
  assert.deepEqual(verifyPlan(snap, p), []);
  assert.ok(Math.max(...p.siteLoadKw) <= 50 + 1e-6);
});

test('reserve: never more shortfall than without it, limits kept, same output for the same input (generated depots)', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const sc = parseScenario(randomDepot(seed, { sessions: 6 + (seed % 5) * 4, levels: 1 + (seed % 3), fanout: 3, tightness: [0.3, 0.5, 0.8][seed % 3] }));
    const snap = { ...sc.snapshot, reserveKw: [{ fromMs: sc.nowMs + 3_600_000, loadKw: 0.3 * sc.snapshot.gridLimitKw }] };
    const without = solve(buildProblem(sc.snapshot, sc.nowMs));
    const withReserve = solve(buildProblem(snap, sc.nowMs));
    assert.ok(withReserve.shortfallKwh <= without.shortfallKwh + 1e-5, `seed ${seed}: short ${withReserve.shortfallKwh} vs ${without.shortfallKwh}`);
    const p = plan(snap, sc.nowMs);
    assert.deepEqual(verifyPlan(snap, p), [], `seed ${seed}`);
    assert.deepEqual(plan(snap, sc.nowMs), p, `seed ${seed}`);
  }
});

test('reserve: a negative reserve is refused with the field named', () => {
  const snap = { ...depot({ chargers: [dc('D1')], sessions: [session('v1', 'D1', 10, at(20))] }), reserveKw: [{ fromMs: at(18), loadKw: -1 }] };
  assert.throws(() => plan(snap, now), (e: unknown) => e instanceof PlannerInputError && e.path === 'reserveKw[0].loadKw');
});

test('reserve: counted in the demand charge of a cap, so the plan does not fill it up to a peak the arrivals then raise', () => {
  // 40 kWh due at 04:00, 20 kW paid, 10 kW kept free for arrivals all night. In the cheap 01:00–04:00 alone it would
  // take 13.3 kW: under the peak paid, but 23.3 with the arrivals the reserve is there for. Charged for that, the plan
  // stays at 10 kW and buys the last 10 kWh dearer (cents) instead of 3.3 kW of demand charge (33 EUR).
  const base = depot({
    gridLimitKw: 50, chargers: [dc('D1')], sessions: [session('v1', 'D1', 40, at(4))], peakSoFarKw: 20,
    tariff: { ...touTariff, demandCharges: [{ pricePerKw: 10 }] },
  });
  const reserveKw = [{ fromMs: now, loadKw: 10 }, { fromMs: at(4), loadKw: 0 }];
  const p = plan({ ...base, reserveKw }, now);
  assert.ok(p.allReady, p.sessions[0].trace.join(' | '));
  for (const [t, kw] of p.siteLoadKw.entries()) assert.ok(kw + 10 <= 20 + 1e-3, `slot ${t}: ${kw} kW of charging under 10 kW of reserve`);
  const without = plan(base, now);
  assert.ok(Math.max(...without.siteLoadKw) > 13, 'without a reserve the cheap hours take it all');
});
