// The simulator against the real Voltyard server (startTestServer) on one virtual clock: the server stamps, times
// out and schedules on the same simulated time as the chargers and vehicles.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent, VehicleReading } from '../../src/bus/events.ts';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { VirtualChargePoint } from '../../src/sim/charge-point.ts';
import { Battery } from '../../src/sim/battery.ts';
import { runSimulation } from '../../src/sim/simulation.ts';
import { runScenario, tokenRegistrar } from '../../src/sim/run.ts';
import { startTestServer, testAdminKey, type TestServer } from '../helpers/server.ts';
import { referenceNight, smallDepot } from './fixtures.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const min = 60_000;

async function serverOn(t: TestContext, clock: SimClock): Promise<{ server: TestServer; events: DomainEvent[]; ocppUrl: string }> {
  const server = await startTestServer({ logLevel: 'info' }, { clock });
  const events: DomainEvent[] = [];
  server.services.bus.subscribeAll((e) => { events.push(e); });
  t.after(() => server.stop());
  return { server, events, ocppUrl: `${server.url.replace(/^http/, 'ws')}/ocpp` };
}
const of = <T extends DomainEvent['type']>(events: DomainEvent[], type: T) => events.filter((e) => e.type === type) as Extract<DomainEvent, { type: T }>[];

async function oneCharger(t: TestContext, quirks = {}) {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const { server, events, ocppUrl } = await serverOn(t, clock);
  await tokenRegistrar(server.url, testAdminKey)!('T-van', null);
  const station = new VirtualChargePoint({ id: 'E2E-AC', url: ocppUrl, clock, kind: 'AC', maxPowerKw: 11, reconnectS: 20, quirks });
  t.after(() => station.stop());
  await station.start();
  station.plug(1, new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 30), 'T-van');
  await clock.runUntil(t0 + 2 * min);
  return { clock, server, events, station, central: server.services.provided.centralSystem! };
}

test('e2e: a charge point boots, authorizes against the token registry, and the server sees the session', async (t) => {
  const { clock, events, station } = await oneCharger(t);
  assert.equal(of(events, 'StationBooted')[0].stationId, 'E2E-AC');
  const started = of(events, 'SessionStarted');
  assert.equal(started.length, 1);
  assert.equal(started[0].idToken, 'T-van');
  assert.equal(started[0].at, new Date(t0).toISOString(), 'stamped on the simulation clock');
  station.unplug(1);
  await clock.runUntil(clock.now() + min);
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 1);
  assert.equal(ended[0].reason, 'EVDisconnected');
  assert.ok(Math.abs(ended[0].energyKwh! - 11 * 2 / 60) < 0.01, `2 minutes at 11 kW, got ${ended[0].energyKwh}`);
});

test('e2e: an unknown token is refused by the server and nothing charges', async (t) => {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const { events, ocppUrl } = await serverOn(t, clock);
  const station = new VirtualChargePoint({ id: 'E2E-X', url: ocppUrl, clock, kind: 'AC', maxPowerKw: 11 });
  t.after(() => station.stop());
  const refused: unknown[] = [];
  station.on('authorizeRejected', (e) => refused.push(e));
  await station.start();
  station.plug(1, new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 30), 'NOBODY');
  await clock.runUntil(t0 + 5 * min);
  assert.equal(refused.length, 1);
  assert.equal(of(events, 'SessionStarted').length, 0);
  assert.equal(station.view(1).powerKw, 0);
});

test('e2e: profiles sent through the server limit the charger; composite schedule and clear round-trip', async (t) => {
  const { clock, station, central } = await oneCharger(t);
  const res = await central.send('E2E-AC', {
    type: 'SetChargingProfile', evseId: 1,
    profile: { id: 11, stackLevel: 2, purpose: 'TxDefault', kind: 'Absolute', schedule: { unit: 'kW', startAt: new Date(t0).toISOString(), periods: [{ startOffsetS: 0, limit: 4.6 }] } },
  });
  assert.equal(res.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 4.6) < 1e-9);
  const composite = await central.send('E2E-AC', { type: 'GetCompositeSchedule', evseId: 1, durationS: 3600 });
  assert.equal(composite.status, 'Accepted');
  assert.equal(composite.schedule?.periods?.[0]?.limit, 4.6);
  await clock.runUntil(clock.now() + 10 * min);
  assert.equal((await central.send('E2E-AC', { type: 'ClearChargingProfile', profileId: 11 })).status, 'Accepted');
  assert.equal(station.view(1).powerKw, 11);
});

test('e2e: a charger that accepts only A rejects the server\'s kW profile', async (t) => {
  const { station, central } = await oneCharger(t, { acceptsOnlyAmps: true });
  const kw = await central.send('E2E-AC', {
    type: 'SetChargingProfile', evseId: 1,
    profile: { id: 12, stackLevel: 1, purpose: 'TxDefault', kind: 'Absolute', schedule: { unit: 'kW', startAt: new Date(t0).toISOString(), periods: [{ startOffsetS: 0, limit: 4.6 }] } },
  });
  assert.equal(kw.status, 'Rejected');
  const amps = await central.send('E2E-AC', {
    type: 'SetChargingProfile', evseId: 1,
    profile: { id: 12, stackLevel: 1, purpose: 'TxDefault', kind: 'Absolute', schedule: { unit: 'A', startAt: new Date(t0).toISOString(), periods: [{ startOffsetS: 0, limit: 10 }] } },
  });
  assert.equal(amps.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 6.9) < 1e-9);
});

test('e2e: offline replay reaches the server in order and the session closes with the right meter', async (t) => {
  const { clock, events, station } = await oneCharger(t);
  await station.dropConnection(15 * min);
  await clock.runUntil(clock.now() + 5 * min);
  station.unplug(1);
  const meterAtUnplug = station.meterKwh(1);
  await clock.runUntil(clock.now() + 20 * min);
  assert.equal(station.queuedMessages, 0);
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 1);
  assert.ok(Math.abs(ended[0].meterStopKwh! - meterAtUnplug) < 0.001);
  assert.equal(ended[0].at, new Date(t0 + 7 * min).toISOString(), 'the stop keeps the instant it happened');
  const samples = of(events, 'MeterSampled').filter((e) => e.context === 'Sample.Periodic');
  const stamps = samples.map((e) => Date.parse(e.at));
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b));
  assert.equal(new Set(stamps).size, stamps.length);
  assert.ok(stamps.some((s) => s > t0 + 2 * min && s < t0 + 7 * min), 'samples taken offline arrived');
});

test('e2e: a reboot mid-session ends the transaction with PowerLoss and the van starts a new one', async (t) => {
  const { clock, events, station } = await oneCharger(t, { rebootsMidSession: { afterS: 600, bootS: 60 } });
  await clock.runUntil(t0 + 30 * min);
  assert.equal(station.stats.reboots, 1);
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 1);
  assert.equal(ended[0].reason, 'PowerLoss');
  assert.equal(of(events, 'StationBooted').length, 2);
  assert.equal(of(events, 'SessionStarted').length, 2);
});

test('e2e: the small depot against the server; the server\'s sessions match the simulator\'s meters', async (t) => {
  const scenario = parseScenario(smallDepot);
  const clock = createSimClock({ mode: 'virtual', startMs: scenario.nowMs });
  const { server, events, ocppUrl } = await serverOn(t, clock);
  const report = await runSimulation({ scenario, url: ocppUrl, clock, control: 'voltyard', meterIntervalS: 120, registerToken: tokenRegistrar(server.url, testAdminKey) });
  await server.services.bus.drain();
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 5);
  const serverKwh = ended.reduce((a, e) => a + (e.energyKwh ?? 0), 0);
  const simKwh = report.vehicles.reduce((a, v) => a + v.energyKwh, 0);
  assert.ok(Math.abs(serverKwh - simKwh) < 0.05, `server ${serverKwh} kWh vs simulator ${simKwh} kWh`);
});

test('e2e: a night of the reference depot (60 vans) with Voltyard in control, against the real server', async (t) => {
  const { scenario, clock, server, events, ocppUrl } = await referenceNight(t, 'voltyard-sim-night-');
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const report = await runSimulation({
    scenario, url: ocppUrl, clock, control: 'voltyard', meterIntervalS: 300,
    registerToken: tokenRegistrar(server.url, testAdminKey),
  });
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  await server.services.bus.drain();
  t.diagnostic(`reference depot night with Voltyard in control: ${((performance.now() - wall) / 1000).toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU; ` +
    `ready ${report.site.ready}/60, peak ${report.site.peakKw} kW of ${report.site.gridLimitKw}, ${report.chargers.reduce((a, c) => a + c.profilesAccepted, 0)} profiles applied`);
  // Wall time depends on what else the machine runs; CPU time is this process's own work (figures: npm run bench:sim).
  assert.ok(cpuS < 60, `a night took ${cpuS.toFixed(1)} s of CPU`);
  assert.equal(of(events, 'StationBooted').length, 48);
  assert.equal(of(events, 'SessionStarted').length, 60);
  assert.equal(of(events, 'SessionEnded').length, 60);
  assert.ok(report.vehicles.every((v) => v.chargerId !== null), 'every van found its bay');
  assert.ok(report.chargers.every((c) => c.profilesAccepted > 0), 'Voltyard set limits on every charger');
  assert.equal(report.site.slotsOverLimit, 0, 'in control, the site stays within its 300 kW limit');
});

test('e2e: the telematics feed reaches the server\'s ingestion through a signed webhook', async (t) => {
  const scenario = parseScenario(smallDepot);
  const readings: VehicleReading[] = [];
  const events: DomainEvent[] = [];
  const report = await runScenario(scenario, {
    central: { kind: 'voltyard', mode: 'shadow' }, meterIntervalS: 600,
    telematics: { intervalS: 300, duplicateProbability: 0.2, gapProbability: 0.02 }, onReading: (r) => readings.push(r),
    onServer: (server) => server.services.bus.subscribeAll((e) => { if (e.type === 'VehicleReading') events.push(e); }),
  });
  const w = report.telematicsWebhook!;
  t.diagnostic(`webhook: ${JSON.stringify(w)}; bus readings ${events.length}`);
  const vans = readings.filter((r) => r.vehicleId.startsWith('van-'));
  assert.equal(w.sent, vans.length, 'every van reading was posted; the guest has no telematics identity');
  assert.equal(w.refused, 0);
  assert.ok(w.duplicates > 0, 'the ingestion recognised re-deliveries');
  assert.equal(w.accepted + w.duplicates, w.sent);
  assert.equal(events.length, w.accepted, 'each ingested reading became one VehicleReading event');
  assert.deepEqual(new Set(events.map((e) => (e as VehicleReading).vehicleId)), new Set(['van-1', 'van-2', 'van-3', 'van-4']));
});
