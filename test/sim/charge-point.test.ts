import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { startPermissiveCentral, type PermissiveCentral } from '../../src/sim/central.ts';
import { VirtualChargePoint, type ChargePointOptions } from '../../src/sim/charge-point.ts';
import { Battery } from '../../src/sim/battery.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const min = 60_000;

async function setup(t: TestContext, cp: Partial<ChargePointOptions> = {}): Promise<{ clock: SimClock; central: PermissiveCentral; station: VirtualChargePoint }> {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const central = await startPermissiveCentral({ clock });
  const station = new VirtualChargePoint({ id: 'CP-1', url: central.url, clock, kind: 'AC', maxPowerKw: 11, phases: 3, ...cp });
  t.after(async () => { await station.stop(); await central.close(); });
  await station.start();
  await clock.runUntil(t0 + 1000);
  return { clock, central, station };
}
const van = (soc = 40) => new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, soc);
const methods = (c: PermissiveCentral, m?: string) => c.received.filter((r) => !m || r.method === m);
const profile = (id: number, limit: number, unit: 'W' | 'A' = 'W', periods = 1) => ({
  chargingProfileId: id, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
  chargingSchedule: { chargingRateUnit: unit, startSchedule: new Date(t0).toISOString(), chargingSchedulePeriod: Array.from({ length: periods }, (_, k) => ({ startPeriod: k * 600, limit })) },
});

test('boots, reports status, charges with a token, samples meter values and stops on unplug', async (t) => {
  const { clock, central, station } = await setup(t);
  assert.deepEqual(methods(central).slice(0, 3).map((r) => r.method), ['BootNotification', 'StatusNotification', 'StatusNotification']);
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + 60 * min + 1000);
  const start = methods(central, 'StartTransaction')[0];
  assert.equal(start.params.idTag, 'TAG-1');
  assert.equal(methods(central, 'Authorize').length, 1);
  const meters = methods(central, 'MeterValues');
  assert.ok(meters.length >= 59 && meters.length <= 61, `one sample per minute, got ${meters.length}`);
  const last = (meters.at(-1)!.params.meterValue as { sampledValue: { measurand: string; value: string }[] }[])[0].sampledValue;
  const energy = Number(last.find((s) => s.measurand === 'Energy.Active.Import.Register')!.value);
  assert.ok(Math.abs(energy - 11_000) < 200, `about 11 kWh in the hour, got ${energy} Wh`);
  assert.equal(Number(last.find((s) => s.measurand === 'Power.Active.Import')!.value), 11_000);
  assert.equal(last.find((s) => s.measurand === 'SoC'), undefined, 'AC chargers do not know the SoC');
  station.unplug(1);
  await clock.runUntil(clock.now() + 1000);
  const stop = methods(central, 'StopTransaction')[0];
  assert.equal(stop.params.reason, 'EVDisconnected');
  assert.equal(stop.params.transactionId, 1);
  assert.ok(Math.abs(Number(stop.params.meterStop) - 11_000) < 200);
  assert.deepEqual(methods(central, 'StatusNotification').map((r) => r.params.status), ['Available', 'Available', 'Preparing', 'Charging', 'Finishing', 'Available'].filter((s, k) => k !== 4));
});

test('applies a profile, reports the composite schedule, and clears it', async (t) => {
  const { clock, central, station } = await setup(t);
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + 5 * min);
  assert.deepEqual(await central.call('CP-1', 'SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(1, 10, 'A') }), { status: 'Accepted' });
  assert.ok(Math.abs(station.view(1).powerKw - 10 * 230 * 3 / 1000) < 1e-9);
  const composite = await central.call('CP-1', 'GetCompositeSchedule', { connectorId: 1, duration: 3600, chargingRateUnit: 'W' });
  assert.equal(composite.status, 'Accepted');
  assert.deepEqual((composite.chargingSchedule as { chargingSchedulePeriod: unknown }).chargingSchedulePeriod, [{ startPeriod: 0, limit: 6_900 }]);
  const before = station.meterKwh(1);
  await clock.runUntil(clock.now() + 30 * min);
  assert.ok(Math.abs(station.meterKwh(1) - before - 6.9 / 2) < 0.01, 'energy follows the limit');
  assert.deepEqual(await central.call('CP-1', 'ClearChargingProfile', { id: 1 }), { status: 'Accepted' });
  assert.deepEqual(await central.call('CP-1', 'ClearChargingProfile', { id: 1 }), { status: 'Unknown' });
  assert.equal(station.view(1).powerKw, 11);
  assert.deepEqual(await central.call('CP-1', 'SetChargingProfile', { connectorId: 1, csChargingProfiles: { ...profile(2, 0), chargingProfilePurpose: 'ChargePointMaxProfile' } }), { status: 'Rejected' });
  await central.call('CP-1', 'SetChargingProfile', { connectorId: 1, csChargingProfiles: profile(3, 0) });
  await clock.runUntil(clock.now() + 2 * min);
  assert.equal(station.view(1).status, 'SuspendedEVSE');
  assert.equal(methods(central, 'StatusNotification').at(-1)!.params.status, 'SuspendedEVSE');
});

test('queues transaction messages while offline and replays them in order with their own timestamps', async (t) => {
  const { clock, central, station } = await setup(t, { reconnectS: 30 });
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + 3 * min);
  const sentBefore = methods(central, 'MeterValues').length;
  await station.dropConnection(10 * min);
  await clock.runUntil(t0 + 8 * min);
  assert.equal(station.online, false);
  station.unplug(1);
  assert.ok(station.queuedMessages >= 5, `meter values and the stop wait in the queue (${station.queuedMessages})`);
  assert.equal(methods(central, 'MeterValues').length, sentBefore);
  await clock.runUntil(t0 + 20 * min);
  assert.equal(station.online, true);
  assert.equal(station.queuedMessages, 0);
  const tx = methods(central).filter((r) => r.method === 'MeterValues' || r.method === 'StopTransaction').slice(sentBefore);
  assert.equal(tx.at(-1)!.method, 'StopTransaction');
  const stamps = tx.map((r) => Date.parse(r.method === 'StopTransaction' ? String(r.params.timestamp) : (r.params.meterValue as { timestamp: string }[])[0].timestamp));
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b), 'in order');
  assert.ok(stamps[0] < t0 + 8 * min && tx[0].atMs >= t0 + 13 * min, 'sampled while offline, delivered after reconnect');
  assert.ok(station.stats.replayed >= 5);
});

test('a transaction started offline is replayed with its StartTransaction first', async (t) => {
  const { clock, central, station } = await setup(t);
  await station.dropConnection(5 * min);
  station.plug(1, van(), 'TAG-OFF');
  await clock.runUntil(t0 + 4 * min);
  assert.equal(methods(central, 'StartTransaction').length, 0);
  await clock.runUntil(t0 + 10 * min);
  const firstTx = methods(central).find((r) => r.method === 'StartTransaction' || r.method === 'MeterValues')!;
  assert.equal(firstTx.method, 'StartTransaction');
  assert.equal(firstTx.params.timestamp, new Date(t0 + 1000).toISOString());
  assert.ok(methods(central, 'MeterValues').every((r) => r.params.transactionId === 1));
});

test('answers after its configured response delay (simulated time)', async (t) => {
  const { clock, central } = await setup(t, { responseDelayMs: 5000 });
  const from = clock.now();
  const call = central.call('CP-1', 'GetConfiguration', { key: ['HeartbeatInterval'] });
  await clock.runUntil(from + 10_000);
  const res = await call;
  assert.deepEqual(res.configurationKey, [{ key: 'HeartbeatInterval', readonly: false, value: '300' }]);
  assert.equal(clock.now(), from + 10_000);
});

test('configuration, remote start/stop, trigger, unlock, availability, reset', async (t) => {
  const { clock, central, station } = await setup(t);
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '300' }), { status: 'Accepted' });
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: 'soon' }), { status: 'Rejected' });
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' }), { status: 'Rejected' });
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'Nope', value: '1' }), { status: 'NotSupported' });
  const conf = await central.call('CP-1', 'GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit', 'Nope'] });
  assert.deepEqual(conf, { configurationKey: [{ key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current,Power' }], unknownKey: ['Nope'] });

  station.plug(1, van(), null);
  await clock.runUntil(clock.now() + min);
  assert.equal(methods(central, 'StartTransaction').length, 0, 'no token: waits for a remote start');
  assert.deepEqual(await central.call('CP-1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'APP', chargingProfile: { ...profile(9, 10, 'A'), chargingProfilePurpose: 'TxProfile' } }), { status: 'Accepted' });
  await clock.runUntil(clock.now() + 10 * min);
  assert.equal(methods(central, 'StartTransaction')[0].params.idTag, 'APP');
  assert.ok(Math.abs(station.view(1).powerKw - 6.9) < 1e-9, 'the TxProfile of the remote start applies');
  assert.equal(methods(central, 'MeterValues').length, 2, 'sampled every 300 s now');
  assert.deepEqual(await central.call('CP-1', 'TriggerMessage', { requestedMessage: 'MeterValues', connectorId: 1 }), { status: 'Accepted' });
  await clock.runUntil(clock.now() + 1000);
  assert.equal(methods(central, 'MeterValues').at(-1)!.params.meterValue instanceof Array, true);
  assert.equal((methods(central, 'MeterValues').at(-1)!.params.meterValue as { sampledValue: { context: string }[] }[])[0].sampledValue[0].context, 'Trigger');
  assert.deepEqual(await central.call('CP-1', 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'NotImplemented' });
  assert.deepEqual(await central.call('CP-1', 'ChangeAvailability', { connectorId: 1, type: 'Inoperative' }), { status: 'Scheduled' });
  assert.deepEqual(await central.call('CP-1', 'RemoteStopTransaction', { transactionId: 99 }), { status: 'Rejected' });
  assert.deepEqual(await central.call('CP-1', 'RemoteStopTransaction', { transactionId: 1 }), { status: 'Accepted' });
  await clock.runUntil(clock.now() + 1000);
  assert.equal(methods(central, 'StopTransaction')[0].params.reason, 'Remote');
  assert.equal(station.view(1).status, 'Unavailable', 'the scheduled availability change applies when the transaction ends');
  assert.deepEqual(await central.call('CP-1', 'ChangeAvailability', { connectorId: 1, type: 'Operative' }), { status: 'Accepted' });
  assert.deepEqual(await central.call('CP-1', 'UnlockConnector', { connectorId: 1 }), { status: 'Unlocked' });
  assert.deepEqual(await central.call('CP-1', 'UnlockConnector', { connectorId: 2 }), { status: 'NotSupported' });
  const boots = methods(central, 'BootNotification').length;
  assert.deepEqual(await central.call('CP-1', 'Reset', { type: 'Soft' }), { status: 'Accepted' });
  await clock.runUntil(clock.now() + min);
  assert.equal(methods(central, 'BootNotification').length, boots + 1);
  await assert.rejects(central.call('CP-1', 'ReserveNow', { connectorId: 1, expiryDate: new Date(t0).toISOString(), idTag: 'X', reservationId: 1 }), /NotImplemented|not supported/);
});

test('a token refused by StartTransaction stops the transaction (DeAuthorized)', async (t) => {
  const { clock, central, station } = await setup(t);
  central.answer('StartTransaction', () => ({ transactionId: 77, idTagInfo: { status: 'Blocked' } }));
  station.plug(1, van(), 'TAG-X');
  await clock.runUntil(clock.now() + min);
  assert.equal(methods(central, 'StopTransaction')[0].params.reason, 'DeAuthorized');
  central.answer('Authorize', () => ({ idTagInfo: { status: 'Invalid' } }));
  station.unplug(1);
  station.plug(1, van(), 'TAG-Y');
  await clock.runUntil(clock.now() + min);
  assert.equal(methods(central, 'StartTransaction').length, 1, 'an Authorize answered Invalid starts nothing');
});

test('two connectors share a ChargePointMaxProfile pro rata; each has its own transaction and meter', async (t) => {
  const { clock, central, station } = await setup(t, { connectors: 2, maxPowerKw: 22, stationMaxPowerKw: 44 });
  station.plug(1, van(), 'TAG-A');
  station.plug(2, new Battery({ capacityKwh: 60, acMaxPowerKw: 22, dcMaxPowerKw: 50 }, 40), 'TAG-B');
  await clock.runUntil(t0 + 2 * min);
  assert.equal(station.view(1).powerKw, 11, 'the van on 1 takes its onboard 11 kW');
  assert.equal(station.view(2).powerKw, 22);
  const max = { ...profile(20, 22_000), chargingProfilePurpose: 'ChargePointMaxProfile' };
  assert.deepEqual(await central.call('CP-1', 'SetChargingProfile', { connectorId: 0, csChargingProfiles: max }), { status: 'Accepted' });
  assert.ok(Math.abs(station.view(1).powerKw - 22 * 11 / 33) < 1e-9);
  assert.ok(Math.abs(station.view(2).powerKw - 22 * 22 / 33) < 1e-9);
  const composite = await central.call('CP-1', 'GetCompositeSchedule', { connectorId: 0, duration: 600 });
  assert.deepEqual((composite.chargingSchedule as { chargingSchedulePeriod: unknown }).chargingSchedulePeriod, [{ startPeriod: 0, limit: 22_000 }]);
  const starts = methods(central, 'StartTransaction');
  assert.deepEqual(starts.map((s) => s.params.connectorId).sort(), [1, 2]);
  await clock.runUntil(t0 + 32 * min);
  assert.ok(Math.abs(station.meterKwh(1) + station.meterKwh(2) - (33 * 2 / 60 + 22 * 0.5)) < 0.05, 'the station drew 22 kW for half an hour');
});

test('a malformed call gets an OCPP error back and changes nothing; the charger carries on', async (t) => {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const central = await startPermissiveCentral({ clock, strict: false });
  const station = new VirtualChargePoint({ id: 'CP-1', url: central.url, clock, kind: 'AC', maxPowerKw: 11 });
  t.after(async () => { await station.stop(); await central.close(); });
  const failures: unknown[] = [];
  await station.start();
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + min);
  await assert.rejects(central.call('CP-1', 'SetChargingProfile', { connectorId: 1, csChargingProfiles: { chargingProfileId: 'one' } }),
    (err: Error & { rpcErrorCode?: string }) => { failures.push(err.rpcErrorCode); return /Violation/.test(err.rpcErrorCode ?? ''); });
  await assert.rejects(central.call('CP-1', 'ChangeConfiguration', { key: 'HeartbeatInterval' }), /Violation|required/i);
  assert.equal(station.installedProfiles.length, 0);
  assert.equal(station.view(1).powerKw, 11);
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' }), { status: 'Accepted' });
  t.diagnostic(`error codes: ${failures.join(', ')}`);
});

test('a sample interval of 0 stops sampled meter values; a heartbeat interval of 0 stops heartbeats', async (t) => {
  const { clock, central, station } = await setup(t);
  station.plug(1, van(), 'TAG-1');
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '0' }), { status: 'Accepted' });
  assert.deepEqual(await central.call('CP-1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '0' }), { status: 'Accepted' });
  const before = central.received.length;
  await clock.runUntil(t0 + 3 * 60 * min);
  assert.deepEqual(central.received.slice(before).filter((r) => r.method === 'MeterValues' || r.method === 'Heartbeat'), []);
  assert.ok(Math.abs(station.meterKwh(1) - 33) < 0.2, 'the meter still counts');
});
