// OCPP 2.0.1 virtual charge points against the real Voltyard server (startTestServer) on one virtual clock.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DomainEvent } from '../../src/bus/events.ts';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { VirtualChargePoint } from '../../src/sim/charge-point.ts';
import { Battery } from '../../src/sim/battery.ts';
import { runSimulation } from '../../src/sim/simulation.ts';
import { tokenRegistrar } from '../../src/sim/run.ts';
import { startTestServer, testAdminKey, type TestServer } from '../helpers/server.ts';
import { referenceNight } from './fixtures.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const min = 60_000;
const departureMs = Date.parse('2026-03-11T05:00:00Z');

async function serverOn(t: TestContext, clock: SimClock): Promise<{ server: TestServer; events: DomainEvent[]; ocppUrl: string }> {
  const server = await startTestServer({ logLevel: 'warn' }, { clock });
  const events: DomainEvent[] = [];
  server.services.bus.subscribeAll((e) => { events.push(e); });
  t.after(() => server.stop());
  return { server, events, ocppUrl: `${server.url.replace(/^http/, 'ws')}/ocpp` };
}
const of = <T extends DomainEvent['type']>(events: DomainEvent[], type: T) => events.filter((e) => e.type === type) as Extract<DomainEvent, { type: T }>[];

interface Sent { method: string; params: Record<string, unknown> }

async function oneStation(t: TestContext, kind: 'AC' | 'DC' = 'AC') {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const { server, events, ocppUrl } = await serverOn(t, clock);
  await tokenRegistrar(server.url, testAdminKey)!('T-van', null);
  const station = new VirtualChargePoint({
    id: `V201-${kind}`, url: ocppUrl, clock, kind, maxPowerKw: kind === 'AC' ? 11 : 50, reconnectS: 20, protocol: 'ocpp2.0.1',
  });
  const sent: Sent[] = [];
  station.on('sent', (m: Sent) => sent.push(m));
  t.after(() => station.stop());
  await station.start();
  station.plug(1, new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 30), 'T-van', { energyKwh: 36, departureMs, batteryCapacityKwh: 60 });
  await clock.runUntil(t0 + 2 * min);
  return { clock, server, events, station, sent, id: `V201-${kind}`, central: server.services.provided.centralSystem! };
}

test('e2e 2.0.1: boot, Authorize with an idToken, TransactionEvent Started/Updated/Ended and the vehicle\'s charging needs', async (t) => {
  const { clock, events, station, sent, server, id } = await oneStation(t);
  assert.equal(of(events, 'StationBooted')[0].stationId, id);
  const authorize = sent.find((m) => m.method === 'Authorize')!;
  assert.deepEqual(authorize.params, { idToken: { idToken: 'T-van', type: 'ISO14443' } });
  const started = of(events, 'SessionStarted');
  assert.equal(started.length, 1);
  assert.equal(started[0].idToken, 'T-van');
  assert.equal(started[0].evseId, 1);
  assert.equal(started[0].at, new Date(t0).toISOString(), 'stamped on the simulation clock');
  const needs = of(events, 'EvChargingNeedsReported');
  assert.equal(needs.length, 1);
  assert.equal(needs[0].transactionId, started[0].transactionId, 'sent after Started, so the server ties it to the transaction');
  assert.equal(needs[0].energyRequestKwh, 36);
  assert.equal(needs[0].departureAt, new Date(departureMs).toISOString());
  assert.equal(needs[0].currentType, 'AC');
  assert.equal(needs[0].phases, 3);
  assert.equal(needs[0].maxCurrentA, 16, '11 kW on three phases of 230 V');
  const statuses = sent.filter((m) => m.method === 'StatusNotification').map((m) => m.params.connectorStatus);
  assert.deepEqual(statuses, ['Available', 'Occupied'], 'one StatusNotification per change of the EVSE\'s connector');

  await clock.runUntil(t0 + 10 * min);
  station.unplug(1);
  await clock.runUntil(clock.now() + min);
  const events201 = sent.filter((m) => m.method === 'TransactionEvent').map((m) => m.params as { eventType: string; seqNo: number; triggerReason: string; transactionInfo: { transactionId: string } });
  assert.deepEqual(events201.map((e) => e.seqNo), events201.map((_, k) => k), 'seqNo counts up from 0 within the transaction');
  assert.equal(events201[0].eventType, 'Started');
  assert.equal(events201.at(-1)!.eventType, 'Ended');
  assert.ok(events201.some((e) => e.eventType === 'Updated' && e.triggerReason === 'MeterValuePeriodic'));
  assert.equal(new Set(events201.map((e) => e.transactionInfo.transactionId)).size, 1);
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 1);
  assert.equal(ended[0].reason, 'EVDisconnected');
  assert.ok(Math.abs(ended[0].energyKwh! - 11 * 10 / 60) < 0.01, `10 minutes at 11 kW, got ${ended[0].energyKwh}`);
  assert.equal(of(events, 'MeterSampled').filter((e) => e.transactionId === started[0].transactionId && e.powerKw !== null && e.powerKw > 10.9).length >= 8, true);
  await server.services.bus.drain();
});

test('e2e 2.0.1: profiles from the central system take effect; composite schedule, GetChargingProfiles and clear round-trip', async (t) => {
  const { clock, events, station, central, id } = await oneStation(t);
  const txId = of(events, 'SessionStarted')[0].transactionId;
  const startAt = new Date(t0).toISOString();
  const def = await central.send(id, { type: 'SetChargingProfile', evseId: 1, profile: { id: 21, stackLevel: 1, purpose: 'TxDefault', kind: 'Absolute', schedule: { unit: 'kW', startAt, periods: [{ startOffsetS: 0, limit: 7.4 }] } } });
  assert.equal(def.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 7.4) < 1e-9);
  // A TxProfile names Voltyard's transaction id; the server sends the station's id, the charger matches it to its own.
  const tx = await central.send(id, {
    type: 'SetChargingProfile', evseId: 1,
    profile: { id: 22, stackLevel: 1, purpose: 'Tx', kind: 'Relative', transactionId: txId, schedule: { unit: 'A', periods: [{ startOffsetS: 0, limit: 8 }, { startOffsetS: 1800, limit: 16 }] } },
  });
  assert.equal(tx.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 8 * 230 * 3 / 1000) < 1e-9, 'the TxProfile overrules the TxDefault');
  const max = await central.send(id, { type: 'SetChargingProfile', evseId: 0, profile: { id: 23, stackLevel: 0, purpose: 'StationMax', kind: 'Absolute', schedule: { unit: 'kW', startAt, periods: [{ startOffsetS: 0, limit: 4.2 }] } } });
  assert.equal(max.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 4.2) < 1e-9, 'the ChargingStationMaxProfile caps it');
  const wrongTx = await central.send(id, { type: 'SetChargingProfile', evseId: 1, profile: { id: 24, stackLevel: 2, purpose: 'Tx', kind: 'Relative', transactionId: 'not-running-here', schedule: { unit: 'kW', periods: [{ startOffsetS: 0, limit: 1 }] } } });
  assert.equal(wrongTx.status, 'Rejected');

  const composite = await central.send(id, { type: 'GetCompositeSchedule', evseId: 1, durationS: 3600 });
  assert.equal(composite.status, 'Accepted');
  assert.deepEqual(composite.schedule?.periods?.map((p) => p.limit), [4.2]);

  const listed = await central.send(id, { type: 'GetChargingProfiles' });
  assert.equal(listed.status, 'Accepted');
  assert.equal(listed.complete, true, 'the last ReportChargingProfiles ended the report');
  const byId = new Map((listed.profiles ?? []).map((p) => [p.profile.id, p]));
  assert.deepEqual([...byId.keys()].sort(), [21, 22, 23]);
  assert.equal(byId.get(22)!.profile.transactionId, txId, 'the TxProfile is reported under Voltyard\'s transaction id');
  assert.equal(byId.get(23)!.evseId, 0);

  assert.equal((await central.send(id, { type: 'ClearChargingProfile', profileId: 23 })).status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 8 * 230 * 3 / 1000) < 1e-9);
  await clock.runUntil(t0 + 35 * min);
  assert.ok(Math.abs(station.view(1).powerKw - 11) < 1e-9, 'the Relative TxProfile\'s second period (16 A) started 30 min into the transaction');
  assert.equal((await central.send(id, { type: 'ClearChargingProfile', evseId: 1, purpose: 'Tx' })).status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 7.4) < 1e-9);
});

test('e2e 2.0.1: events queued offline are replayed in order with offline set, and the session closes with the right meter', async (t) => {
  const { clock, events, station, sent } = await oneStation(t);
  await station.dropConnection(15 * min);
  await clock.runUntil(clock.now() + 5 * min);
  station.unplug(1);
  const meterAtUnplug = station.meterKwh(1);
  await clock.runUntil(clock.now() + 20 * min);
  assert.equal(station.queuedMessages, 0);
  const txEvents = sent.filter((m) => m.method === 'TransactionEvent').map((m) => m.params as { eventType: string; seqNo: number; offline?: boolean; timestamp: string });
  const offline = txEvents.filter((e) => e.offline === true);
  assert.ok(offline.length >= 5, `meter values and the end were queued offline, got ${offline.length}`);
  assert.equal(offline.at(-1)!.eventType, 'Ended');
  assert.deepEqual(txEvents.map((e) => e.seqNo), txEvents.map((_, k) => k), 'replayed in order, none lost or repeated');
  const ended = of(events, 'SessionEnded');
  assert.equal(ended.length, 1);
  assert.ok(Math.abs(ended[0].meterStopKwh! - meterAtUnplug) < 0.001);
  assert.equal(ended[0].at, new Date(t0 + 7 * min).toISOString(), 'the end keeps the instant it happened');
  const stamps = of(events, 'MeterSampled').map((e) => Date.parse(e.at));
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b));
  assert.ok(stamps.some((s) => s > t0 + 2 * min && s < t0 + 7 * min), 'samples taken offline arrived');
});

test('e2e 2.0.1: device model, base report, trigger, availability, remote stop and start, unlock and reset', async (t) => {
  const { clock, events, station, central, id, sent } = await oneStation(t, 'DC');
  const needs = of(events, 'EvChargingNeedsReported')[0];
  assert.equal(needs.currentType, 'DC');
  assert.equal(needs.maxPowerKw, 50);
  assert.equal(needs.socPercent, 30);
  assert.equal(needs.batteryCapacityKwh, 60);

  const got = await central.send(id, { type: 'GetVariables', variables: [
    { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval' }, { component: 'SmartChargingCtrlr', variable: 'RateUnit' }, { component: 'Nope', variable: 'X' },
  ] });
  assert.deepEqual(got.variables?.map((v) => v.status), ['Accepted', 'Accepted', 'UnknownComponent']);
  assert.match(String(got.variables?.[0]?.value), /^\d+$/, 'the heartbeat interval the boot answer set');
  assert.equal(got.variables?.[1]?.value, 'A,W');
  const set = await central.send(id, { type: 'SetVariables', variables: [
    { component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval', value: '300' }, { component: 'SmartChargingCtrlr', variable: 'RateUnit', value: 'W' },
    { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: 'often' },
  ] });
  assert.deepEqual(set.variables?.map((v) => v.status), ['Accepted', 'Rejected', 'Rejected']);
  const report = await central.send(id, { type: 'GetBaseReport', report: 'FullInventory' });
  assert.equal(report.status, 'Accepted');
  assert.equal(report.complete, true);
  assert.ok((report.report ?? []).length > 8, 'sent in more than one NotifyReport');
  assert.equal(report.report?.find((v) => v.variable === 'TxUpdatedInterval')?.value, '300', 'the report shows the value just set');

  const before = sent.filter((m) => m.method === 'TransactionEvent').length;
  await clock.runUntil(clock.now() + 10 * min);
  const periodic = sent.filter((m) => m.method === 'TransactionEvent').length - before;
  assert.ok(periodic <= 3, `a 300 s interval sends about 2 meter events in 10 min, got ${periodic}`);

  assert.equal((await central.send(id, { type: 'TriggerMessage', message: 'StatusNotification', evseId: 1 })).status, 'Accepted');
  assert.equal((await central.send(id, { type: 'TriggerMessage', message: 'BootNotification' })).status, 'Rejected', 'already accepted');
  assert.equal((await central.send(id, { type: 'UnlockConnector', evseId: 1 })).status, 'OngoingAuthorizedTransaction');
  assert.equal((await central.send(id, { type: 'ChangeAvailability', evseId: 1, operative: false })).status, 'Scheduled');

  const txId = of(events, 'SessionStarted')[0].transactionId;
  assert.equal((await central.send(id, { type: 'RemoteStop', transactionId: txId })).status, 'Accepted');
  await clock.runUntil(clock.now() + min);
  assert.equal(of(events, 'SessionEnded')[0].reason, 'Remote');
  assert.equal(station.view(1).status, 'Unavailable', 'the scheduled availability change took effect when the transaction ended');
  assert.equal((await central.send(id, { type: 'ChangeAvailability', evseId: 1, operative: true })).status, 'Accepted');
  assert.equal((await central.send(id, { type: 'UnlockConnector', evseId: 1 })).status, 'Unlocked');

  const remote = await central.send(id, { type: 'RemoteStart', evseId: 1, idToken: 'T-van' });
  assert.equal(remote.status, 'Accepted');
  await clock.runUntil(clock.now() + min);
  assert.equal(of(events, 'SessionStarted').length, 2, 'the plugged vehicle started a second transaction on the remote start');
  const remoteStarted = sent.filter((m) => m.method === 'TransactionEvent' && (m.params as { eventType: string }).eventType === 'Started').at(-1)!.params as { triggerReason: string; transactionInfo: { remoteStartId?: number } };
  assert.equal(remoteStarted.triggerReason, 'RemoteStart');
  assert.equal(typeof remoteStarted.transactionInfo.remoteStartId, 'number');

  assert.equal((await central.send(id, { type: 'Reset', kind: 'Hard' })).status, 'Accepted');
  await clock.runUntil(clock.now() + min);
  assert.equal(station.stats.reboots, 1);
  const boots = sent.filter((m) => m.method === 'BootNotification').map((m) => (m.params as { reason: string }).reason);
  assert.deepEqual(boots, ['PowerUp', 'RemoteReset']);
  assert.equal(of(events, 'SessionEnded')[1].reason, 'ImmediateReset');
});

test('e2e 2.0.1: a reference-depot night with half the chargers on 2.0.1 under Voltyard control stays within the site limit', async (t) => {
  const { scenario, clock, server, events, ocppUrl } = await referenceNight(t, 'voltyard-sim-night201-');
  const protocols = new Map<string, string>();
  const cpu = process.cpuUsage();
  const report = await runSimulation({
    scenario, url: ocppUrl, clock, control: 'voltyard', meterIntervalS: 300, ocpp201Share: 0.5,
    registerToken: tokenRegistrar(server.url, testAdminKey), onStation: (s) => protocols.set(s.id, s.protocol),
  });
  const used = process.cpuUsage(cpu);
  await server.services.bus.drain();
  const on201 = [...protocols.values()].filter((p) => p === 'ocpp2.0.1').length;
  t.diagnostic(`half-2.0.1 night: ${((used.user + used.system) / 1e6).toFixed(1)} s CPU; ${on201}/${protocols.size} chargers on 2.0.1; ` +
    `ready ${report.site.ready}/60, peak ${report.site.peakKw} kW of ${report.site.gridLimitKw}, ${report.chargers.reduce((a, c) => a + c.profilesAccepted, 0)} profiles applied`);
  assert.equal(on201, protocols.size / 2);
  assert.equal(of(events, 'StationBooted').length, protocols.size);
  assert.equal(of(events, 'SessionStarted').length, 60);
  assert.equal(of(events, 'SessionEnded').length, 60);
  assert.equal(of(events, 'EvChargingNeedsReported').length, scenario.snapshot.sessions.filter((s) => protocols.get(report.vehicles.find((v) => v.sessionId === s.id)!.chargerId!) === 'ocpp2.0.1').length);
  const by201 = report.chargers.filter((c) => protocols.get(c.chargerId) === 'ocpp2.0.1');
  assert.ok(by201.every((c) => c.profilesAccepted > 0), 'Voltyard set limits on every 2.0.1 charger');
  assert.equal(report.site.slotsOverLimit, 0, 'in control, the site stays within its limit');
});
