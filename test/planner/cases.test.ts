// The planner's cases, as src/planner/README.md names them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../src/planner/plan.ts';
import { verifyPlan } from '../../src/planner/verify.ts';
import { PlannerInputError } from '../../src/planner/problem.ts';
import { ac, at, dc, depot, energyOf, now, session, slotOf, touTariff } from './helpers.ts';

test('case 1, cheap hours: charging is deferred to the cheapest slots and the trace says why', () => {
  const snap = depot({ chargers: [dc('D1')], sessions: [session('v1', 'D1', 60, at(6))] });
  const p = plan(snap, now);
  const cheap = energyOf(p.sessions[0].powerKw, p.slotStartsMs, slotOf(p, at(1)), slotOf(p, at(4)));
  assert.ok(Math.abs(cheap - 60) < 1e-6, `all 60 kWh in 01:00–04:00, got ${cheap}`);
  assert.ok(p.sessions[0].trace.some((l) => l.startsWith('deferred to 01:00–') && l.includes('0.080 vs 0.310')), p.sessions[0].trace.join(' | '));
  assert.deepEqual(verifyPlan(snap, p), []);
});

test('case 2, joint planning: two vehicles that want the same cheap hours are both ready', () => {
  // Each alone would take 01:00–04:00 at full power; the site only allows one at a time then.
  const snap = depot({ gridLimitKw: 50, chargers: [dc('D1'), dc('D2')], sessions: [session('a', 'D1', 150, at(4)), session('b', 'D2', 150, at(4))] });
  const p = plan(snap, now);
  assert.ok(p.allReady, p.sessions.map((s) => s.trace.join(' | ')).join('\n'));
  assert.deepEqual(verifyPlan(snap, p), []);
  assert.ok(Math.max(...p.siteLoadKw) <= 50 + 1e-9);
});

test('case 3, circuit limit: a panel is shared and the trace names it', () => {
  const snap = depot({
    circuits: [{ id: 'site', parentId: null, maxPowerKw: 1000 }, { id: 'B', parentId: 'site', maxPowerKw: 30 }],
    chargers: [ac('A1', 'B', 22, 0), ac('A2', 'B', 22, 0), ac('A3', 'B', 22, 0)],
    sessions: [session('v1', 'A1', 60, at(21)), session('v2', 'A2', 60, at(21)), session('v3', 'A3', 0.5, at(21))],
  });
  const p = plan(snap, now);
  assert.deepEqual(verifyPlan(snap, p), []);
  // 4 h × 30 kW = 120 kWh for 120.5 needed: short, and the shortfall is named.
  assert.ok(!p.allReady);
  assert.ok(Math.abs(p.shortfallKwh - 0.5) < 1e-3, `shortfall ${p.shortfallKwh}`);
  const traces = p.sessions.flatMap((s) => s.trace);
  assert.ok(traces.some((l) => l.startsWith('capped by circuit B, 30 kW shared by 3')), traces.join(' | '));
  assert.ok(traces.some((l) => l.startsWith('short by 0.5 kWh: departure 21:00')), traces.join(' | '));
});

test('case 4, priority: when not all can be ready the shortfall falls on the lower priority', () => {
  const snap = depot({ gridLimitKw: 50, chargers: [dc('D1'), dc('D2')], sessions: [
    session('low', 'D1', 100, at(19), { priority: 0 }),
    session('high', 'D2', 100, at(20), { priority: 1 }),
  ] });
  const p = plan(snap, now);
  const [low, high] = p.sessions;
  assert.ok(high.ready, high.trace.join(' | '));
  assert.ok(Math.abs(low.shortfallKwh - 50) < 1e-3, `low short ${low.shortfallKwh}`);
});

test('case 5, equal priority: the earliest departure is served first in each slot', () => {
  const snap = depot({ gridLimitKw: 50, chargers: [dc('D1'), dc('D2')], sessions: [
    session('second', 'D1', 100, at(19, 15)), session('first', 'D2', 100, at(19)),
  ] });
  const p = plan(snap, now);
  const [second, first] = p.sessions;
  assert.ok(first.ready, first.trace.join(' | '));
  assert.ok(Math.abs(second.plannedKwh - 12.5) < 1e-6, `second got ${second.plannedKwh}`);
  assert.deepEqual(verifyPlan(snap, p), []);
});

test('case 6, demand charge: the peak is flattened, and a peak already paid for is reused for free', () => {
  const tariff = { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [{ from: '01:00', to: '02:00', pricePerKwh: 0.1 }], demandCharges: [{ pricePerKw: 10 }] };
  const sessions = [session('a', 'D1', 50, at(5))];
  const flat = plan(depot({ chargers: [dc('D1')], sessions, tariff }), now);
  // 50 kWh in 12 h: a flat 50/12 kW beats 50 kW at 0.1 (saving 5 €, costing ~458 € of demand charge).
  assert.ok(flat.peakKw < 5, `peak ${flat.peakKw}`);
  const paid = plan(depot({ chargers: [dc('D1')], sessions, tariff, peakSoFarKw: 60 }), now);
  assert.ok(Math.abs(paid.peakKw - 50) < 1e-6, `peak ${paid.peakKw}`);
  assert.equal(paid.demandChargeIncrement, 0);
  assert.ok(Math.abs(paid.energyCost - 5) < 1e-6);
});

test('case 7, expected arrival: capacity is kept for a vehicle due back later', () => {
  const snap = depot({ gridLimitKw: 50, chargers: [dc('D1'), dc('D2')], sessions: [
    session('here', 'D1', 150, at(5)),
    { ...session('due', 'D2', 150, at(4, 30)), kind: 'expected', arrivalMs: at(1) },
  ] });
  const p = plan(snap, now);
  assert.ok(p.allReady, p.sessions.map((s) => s.trace.join(' | ')).join('\n'));
  const due = p.sessions[1];
  assert.ok(due.powerKw.slice(0, slotOf(p, at(1))).every((kw) => kw === 0), 'nothing before it arrives');
});

test('case 8, AC minimum: a session is off or at least its minimum', () => {
  const snap = depot({ chargers: [ac('A1', 'site', 11, 4.1)], sessions: [session('v', 'A1', 3, at(21))] });
  const p = plan(snap, now);
  assert.ok(p.sessions[0].powerKw.every((kw) => kw === 0 || kw >= 4.1 - 1e-9), p.sessions[0].powerKw.join(','));
  assert.ok(p.sessions[0].ready);
  assert.deepEqual(verifyPlan(snap, p), []);
});

test('case 9, readiness first: the policy minimum SoC is reached as early as possible', () => {
  const battery = { capacityKwh: 100, socPercent: 10, targetSocPercent: 80 };
  const snap = depot({ chargers: [dc('D1')], minSocPercent: 30, sessions: [{ id: 'v', kind: 'plugged', chargerId: 'D1', known: true, departureMs: at(6), battery }] });
  const p = plan(snap, now);
  // 20 kWh at 50 kW is done in the first 30 minutes, in the dear evening; the other 50 kWh waits for 01:00.
  assert.ok(Math.abs(energyOf(p.sessions[0].powerKw, p.slotStartsMs, 0, 2) - 20) < 1e-6);
  assert.ok(p.sessions[0].trace.some((l) => l.startsWith('policy minimum 30% SoC reached by 17:30')), p.sessions[0].trace.join(' | '));
  assert.equal(p.sessions[0].socAtDeparturePercent, 80);
});

test('case 10, vehicle limit: the vehicle\'s own maximum binds and is named', () => {
  const snap = depot({ chargers: [dc('D1')], sessions: [session('v', 'D1', 40, at(20), { vehicleMaxPowerKw: 11 })] });
  const p = plan(snap, now);
  assert.ok(Math.max(...p.sessions[0].powerKw) <= 11);
  assert.ok(p.sessions[0].trace.some((l) => l.startsWith('vehicle max 11.0 kW')), p.sessions[0].trace.join(' | '));
  // 3 h × 11 kW = 33 kWh of the 40 needed.
  assert.ok(p.sessions[0].trace.some((l) => l.startsWith('short by 7.0 kWh: departure 20:00, needs 40.0 kWh, at most 33.0 possible')), p.sessions[0].trace.join(' | '));
});

test('determinism: the same input gives the same plan', () => {
  const snap = depot({ gridLimitKw: 60, chargers: [dc('D1'), dc('D2'), ac('A1')], sessions: [
    session('a', 'D1', 80, at(5)), session('b', 'D2', 70, at(6)), session('c', 'A1', 20, at(7)),
  ] });
  assert.deepEqual(plan(snap, now), plan(structuredClone(snap), now));
});

test('bad snapshots are refused with the field named', () => {
  const snap = depot({ chargers: [dc('D1')], sessions: [session('a', 'nope', 10, at(5))] });
  assert.throws(() => plan(snap, now), (e: unknown) => e instanceof PlannerInputError && e.path === 'sessions[0].chargerId');
  const twice = depot({ chargers: [dc('D1')], sessions: [session('a', 'D1', 10, at(5)), session('b', 'D1', 10, at(6))] });
  assert.throws(() => plan(twice, now), /sessions\[1\]\.chargerId: charger "D1" is also used/);
});

test('case 11, taper: power falls with SoC, and the plan never exceeds the taper at any SoC it can reach', () => {
  const battery = { capacityKwh: 60, socPercent: 70, targetSocPercent: 100 };
  const taper = [{ socPercent: 70, maxPowerKw: 50 }, { socPercent: 80, maxPowerKw: 20 }, { socPercent: 100, maxPowerKw: 5 }];
  const snap = depot({ chargers: [dc('D1')], sessions: [{ id: 'v', kind: 'plugged', chargerId: 'D1', known: true, departureMs: at(23), battery, taper }] });
  const p = plan(snap, now);
  let soc = 70;
  p.sessions[0].powerKw.forEach((kw, t) => {
    const limit = soc <= 80 ? 50 - 3 * (soc - 70) : 20 - 0.75 * (soc - 80);
    assert.ok(kw <= limit + 1e-6, `slot ${t}: ${kw} kW at ${soc.toFixed(1)}% over the taper's ${limit.toFixed(1)} kW`);
    soc += 100 * kw * (p.slotStartsMs[t + 1] - p.slotStartsMs[t]) / 3_600_000 / 60;
  });
  assert.ok(p.sessions[0].ready, p.sessions[0].trace.join(' | '));
});

test('case 12, estimated departure: a driver-declared departure is charged as early as the limits allow, a firm one is not', () => {
  // A demand charge and a cheap night make holding back pay for a firm departure; an estimated one may leave any time.
  const tariff = { ...touTariff, demandCharges: [{ pricePerKw: 10 }] };
  const sessions = (estimated: boolean) => [session('v', 'D1', 40, at(6), { departureEstimated: estimated })];
  const firm = plan(depot({ chargers: [dc('D1')], sessions: sessions(false), tariff }), now);
  const guess = plan(depot({ chargers: [dc('D1')], sessions: sessions(true), tariff }), now);
  assert.ok(firm.sessions[0].powerKw[0] < 50, `firm: not at full power now (${firm.sessions[0].powerKw[0]} kW)`);
  assert.equal(guess.sessions[0].powerKw[0], 50, 'estimated: full power from the first slot');
  assert.ok(guess.sessions[0].ready && firm.sessions[0].ready);
  // It never costs a firm departure: with room for only one at a time, the firm van due first still makes it.
  const both = depot({
    gridLimitKw: 50, chargers: [dc('D1'), dc('D2')], tariff,
    sessions: [session('guest', 'D1', 100, at(6), { departureEstimated: true }), session('van', 'D2', 100, at(20, 30))],
  });
  const p = plan(both, now);
  assert.ok(p.sessions[1].ready, p.sessions[1].trace.join(' | '));
  assert.deepEqual(verifyPlan(both, p), []);
});

test('case 13, unannounced arrivals: once the month\'s peak is at the connection limit, nothing waits for cheap hours', () => {
  const snap = (unannouncedArrivals: boolean) => ({
    ...depot({ gridLimitKw: 50, chargers: [dc('D1')], sessions: [session('v', 'D1', 40, at(6))], peakSoFarKw: 50 }),
    policy: { unannouncedArrivals },
  });
  const fleet = plan(snap(false), now);
  const site = plan(snap(true), now);
  assert.ok(fleet.sessions[0].powerKw[0] === 0, 'a fleet depot defers to 01:00–04:00');
  assert.equal(site.sessions[0].powerKw[0], 50, 'a site with unannounced arrivals charges now');
  assert.ok(site.sessions[0].ready && fleet.sessions[0].ready);
  assert.ok(site.energyCost > fleet.energyCost, 'and pays the dearer hours for it');
});

test('warm re-plan after a limit is raised: the lower peak the looser limit allows is found, not the old one kept', () => {
  // Panel B (5 kW) forces A to 5 kW for all 4 h while C needs 10 kWh in the first 2 h: peak 10 kW. With B raised (or
  // with less other site load), A can wait for C to finish and the flat plan peaks at 7.5 kW.
  const flat = { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [], demandCharges: [{ pricePerKw: 10 }] };
  const make = (panelKw: number, otherKw: number) => ({
    ...depot({
      gridLimitKw: 100, tariff: flat,
      circuits: [{ id: 'site', parentId: null, maxPowerKw: 100 }, { id: 'B', parentId: 'site', maxPowerKw: panelKw }],
      chargers: [dc('DA', 'B'), dc('DC')],
      sessions: [session('A', 'DA', 20, now + 4 * 3_600_000), session('C', 'DC', 10, now + 2 * 3_600_000)],
    }),
    otherLoadKw: [{ fromMs: now, loadKw: otherKw }],
  });
  const before = plan(make(5, 0), now);
  assert.ok(Math.abs(before.peakKw - 10) < 1e-3, `peak ${before.peakKw}`);
  const raised = make(50, 0);
  const warm = plan(raised, now + 60_000, { previous: before });
  const cold = plan(raised, now + 60_000);
  assert.deepEqual(verifyPlan(raised, warm), []);
  assert.ok(Math.abs(cold.peakKw - 7.5) < 0.05, `cold peak ${cold.peakKw}`);
  assert.ok(warm.totalCost <= cold.totalCost * 1.001 + 1e-6, `warm ${warm.totalCost} (peak ${warm.peakKw}) vs cold ${cold.totalCost} (peak ${cold.peakKw})`);
  // Other site load that falls: the root loosens the same way.
  const loaded = make(50, 95);
  const first = plan(loaded, now);
  const lighter = make(50, 0);
  const warm2 = plan(lighter, now + 60_000, { previous: first });
  const cold2 = plan(lighter, now + 60_000);
  assert.deepEqual(verifyPlan(lighter, warm2), []);
  assert.ok(warm2.totalCost <= cold2.totalCost * 1.001 + 1e-6, `warm ${warm2.totalCost} (peak ${warm2.peakKw}) vs cold ${cold2.totalCost} (peak ${cold2.peakKw})`);
});

test('case 13b, expected peak: a site whose history says it runs at its limit does not defer for a demand charge it will pay anyway', () => {
  const withDemand = { ...touTariff, demandCharges: [{ pricePerKw: 10 }] };
  const snap = (unannouncedArrivals: boolean, expectedPeakKw?: number) => ({
    ...depot({ gridLimitKw: 50, tariff: withDemand, chargers: [dc('D1')], sessions: [session('v', 'D1', 40, at(6))] }),
    policy: { unannouncedArrivals }, ...(expectedPeakKw === undefined ? {} : { expectedPeakKw }),
  });
  const quiet = plan(snap(true), now);
  const busy = plan(snap(true, 50), now);
  const fleet = plan(snap(false, 50), now);
  assert.ok(quiet.peakKw < 10, `no history: flattened against the demand charge (peak ${quiet.peakKw})`);
  assert.equal(busy.sessions[0].powerKw[0], 50, 'history at the limit: charges now');
  assert.ok(fleet.peakKw < 10, `a fleet depot (no unannounced arrivals) ignores it (peak ${fleet.peakKw})`);
  assert.ok(quiet.sessions[0].ready && busy.sessions[0].ready && fleet.sessions[0].ready);
  assert.throws(() => plan(snap(true, -1), now), (e: unknown) => e instanceof PlannerInputError && e.path === 'expectedPeakKw');
});
