// Issue 5 end to end: the simulated reference depot (60 vans, 48 chargers, 300 kW) against the real server with the
// control loop in charge, on one virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { runScenario } from '../../src/sim/run.ts';
import { importInto } from './helpers.ts';

const raw = JSON.parse(readFileSync(new URL('../../scenarios/reference-depot.json', import.meta.url), 'utf8'));
// The fleet declares no charge curves: the control loop plans its default knee (chargeCurve), and the simulated
// batteries taper from 80 % too.
// The 12 vans of the 05:30 run (priority 1) take turns on the DC bays.
const early = new Set(raw.sessions.filter((s: { priority?: number }) => s.priority === 1).map((s: { id: string }) => s.id));

// Whole simulated nights: bounded by their own timeout (a loaded CI machine can take minutes), not the suite's default.
test('a night of the reference depot under Voltyard: never above 300 kW, the 05:30 vans ready, against uncontrolled', { timeout: 900_000 }, async (t) => {
  const scenario = parseScenario(raw);
  const dataDir = await importInto(null, raw, 'automatic');
  const wall = performance.now();
  const controlled = await runScenario(scenario, { central: { kind: 'voltyard', config: { dataDir } }, meterIntervalS: 300, responseDelayMs: 2000 });
  const wallMs = performance.now() - wall;
  const uncontrolled = await runScenario(scenario, { central: { kind: 'uncontrolled' }, meterIntervalS: 300 });
  const site = controlled.site;
  t.diagnostic(`controlled: ready ${site.ready}/${site.sessions}, peak ${site.peakKw} kW (limit ${site.gridLimitKw}), cost ${site.totalCost} ${site.currency}, ${(wallMs / 1000).toFixed(1)} s wall`);
  t.diagnostic(`uncontrolled: ready ${uncontrolled.site.ready}/${uncontrolled.site.sessions}, peak ${uncontrolled.site.peakKw} kW, cost ${uncontrolled.site.totalCost}`);
  assert.equal(site.slotsOverLimit, 0, `slots over 300 kW: ${site.slots.filter((s) => s.siteKw > site.gridLimitKw).map((s) => `${s.start} ${s.siteKw}`).join(', ')}`);
  const earlyVans = controlled.vehicles.filter((v) => early.has(v.sessionId));
  assert.equal(earlyVans.length, 12);
  assert.deepEqual(earlyVans.filter((v) => !v.ready).map((v) => `${v.vehicleId} ${v.departureSocPercent}%`), [], 'the 12 vans leaving at 05:30 are ready');
  assert.ok(uncontrolled.site.peakKw > site.peakKw, 'uncontrolled charging peaks higher');
  assert.ok(site.ready >= 57, `ready ${site.ready}/60`);
});

test('the reference evening with real chargers\' quirks: amperes only, one period, one ignoring profiles, one dropping off', { timeout: 900_000 }, async (t) => {
  const scenario = parseScenario(raw);
  const dataDir = await importInto(null, raw, 'automatic');
  const quirks = {
    'AC-01': { acceptsOnlyAmps: true },
    'AC-02': { maxSchedulePeriods: 1 },
    'DC-2': { ignoresProfiles: true },
    'DC-5': { dropsConnection: { meanIntervalS: 3 * 3600, offlineS: 600 } },
  };
  // The evening peak (17:00–23:00) is where the quirks matter; the night after adds time, not cases.
  const report = await runScenario(scenario, { central: { kind: 'voltyard', config: { dataDir } }, meterIntervalS: 300, responseDelayMs: 2000, quirks, endMs: scenario.nowMs + 6 * 3_600_000 });
  const site = report.site;
  t.diagnostic(`with quirks, 17:00–23:00: peak ${site.peakKw} kW, slots over ${site.slotsOverLimit}`);
  assert.equal(site.slotsOverLimit, 0);
  const byCharger = new Map(report.chargers.map((c) => [c.chargerId, c]));
  assert.ok(byCharger.get('AC-01')!.profilesAccepted > 0, 'the amperes-only charger took profiles once they came in A');
  assert.ok(byCharger.get('AC-02')!.profilesAccepted > 0, 'the one-period charger took single-period profiles');
  const { openStore } = await import('../../src/store/store.ts');
  const { captureLogs } = await import('../helpers/logger.ts');
  const store = await openStore({ databaseUrl: null, dataDir, logger: captureLogs().logger });
  try {
    const alerts = await store.db.withTables<{ control_alert: { kind: string; charger_id: string | null } }>().selectFrom('control_alert').select(['kind', 'charger_id']).execute();
    assert.ok(alerts.some((a) => a.kind === 'profile-not-applied' && a.charger_id === 'DC-2'), `alerts: ${JSON.stringify(alerts.map((a) => [a.kind, a.charger_id]))}`);
  } finally {
    await store.close();
  }
});
