// A 2.0.1 virtual charge point against the permissive central system (real ocpp-rpc server, strict 2.0.1 schemas on
// both ends): what it does on its own, its quirks, and the answers it gives to calls the server tests cannot make.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { startPermissiveCentral, type PermissiveCentral } from '../../src/sim/central.ts';
import { VirtualChargePoint, type ChargePointOptions } from '../../src/sim/charge-point.ts';
import { Battery } from '../../src/sim/battery.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const min = 60_000;

async function setup(t: TestContext, cp: Partial<ChargePointOptions> = {}, strict = true): Promise<{ clock: SimClock; central: PermissiveCentral; station: VirtualChargePoint }> {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  // strict false: the central may send frames that break the schemas, to see the charger refuse them.
  const central = await startPermissiveCentral({ clock, strict });
  const station = new VirtualChargePoint({ id: 'CP-201', url: central.url, clock, kind: 'AC', maxPowerKw: 11, phases: 3, protocol: 'ocpp2.0.1', ...cp });
  t.after(async () => { await station.stop(); await central.close(); });
  await station.start();
  await clock.runUntil(t0 + 1000);
  return { clock, central, station };
}
const van = (soc = 40) => new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, soc);
type TxEvent = { eventType: string; seqNo: number; triggerReason: string; offline?: boolean; transactionInfo: { transactionId: string; stoppedReason?: string; chargingState?: string } };
const txEvents = (c: PermissiveCentral) => c.received.filter((r) => r.method === 'TransactionEvent').map((r) => r.params as unknown as TxEvent);
const wProfile = (id: number, limitW: number, unit: 'W' | 'A' = 'W') => ({
  id, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
  chargingSchedule: [{ id: 1, chargingRateUnit: unit, startSchedule: new Date(t0).toISOString(), chargingSchedulePeriod: [{ startPeriod: 0, limit: limitW }] }],
});

test('2.0.1: a transaction started offline is queued with offline set and Started first, then replayed in order', async (t) => {
  const { clock, central, station } = await setup(t);
  await station.dropConnection(10 * min);
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + 5 * min);
  assert.equal(txEvents(central).length, 0);
  await clock.runUntil(t0 + 15 * min);
  const events = txEvents(central);
  assert.equal(events[0].eventType, 'Started');
  assert.ok(events.filter((e) => e.offline).length >= 5, 'everything from the offline minutes says so');
  assert.deepEqual(events.map((e) => e.seqNo), events.map((_, k) => k));
  assert.equal(events.at(-1)!.offline, undefined, 'events after the reconnect are online ones');
  assert.equal(station.stats.replayed > 0, true);
});

test('2.0.1: quirks: only A, a reboot mid-session ends the transaction with PowerLoss', async (t) => {
  const { clock, central, station } = await setup(t, { quirks: { acceptsOnlyAmps: true, rebootsMidSession: { afterS: 600, bootS: 60 } } });
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + min);
  const w = await central.call('CP-201', 'SetChargingProfile', { evseId: 1, chargingProfile: wProfile(1, 4000) });
  assert.equal(w.status, 'Rejected');
  const a = await central.call('CP-201', 'SetChargingProfile', { evseId: 1, chargingProfile: wProfile(1, 10, 'A') });
  assert.equal(a.status, 'Accepted');
  assert.ok(Math.abs(station.view(1).powerKw - 6.9) < 1e-9);
  await clock.runUntil(t0 + 20 * min);
  const ends = txEvents(central).filter((e) => e.eventType === 'Ended');
  assert.equal(ends.length, 1);
  assert.equal(ends[0].transactionInfo.stoppedReason, 'PowerLoss');
  assert.equal(ends[0].triggerReason, 'AbnormalCondition');
  assert.equal(txEvents(central).filter((e) => e.eventType === 'Started').length, 2, 'the plugged van starts again after the boot');
  const boots = central.received.filter((r) => r.method === 'BootNotification').map((r) => (r.params as { reason: string }).reason);
  assert.deepEqual(boots, ['PowerUp', 'PowerUp']);
});

test('2.0.1: a limit that suspends charging is a ChargingStateChanged event; Reset OnIdle waits for the transaction', async (t) => {
  const { clock, central, station } = await setup(t);
  station.plug(1, van(), 'TAG-1');
  await clock.runUntil(t0 + min);
  assert.equal((await central.call('CP-201', 'SetChargingProfile', { evseId: 0, chargingProfile: { ...wProfile(5, 0), chargingProfilePurpose: 'ChargingStationMaxProfile' } })).status, 'Accepted');
  await clock.runUntil(t0 + 2 * min);
  const change = txEvents(central).find((e) => e.triggerReason === 'ChargingStateChanged');
  assert.equal(change?.transactionInfo.chargingState, 'SuspendedEVSE');
  assert.equal((await central.call('CP-201', 'Reset', { type: 'OnIdle' })).status, 'Scheduled');
  await clock.runUntil(t0 + 5 * min);
  assert.equal(station.stats.reboots, 0, 'not while the transaction runs');
  station.unplug(1);
  await clock.runUntil(t0 + 7 * min);
  assert.equal(station.stats.reboots, 1);
  assert.equal((central.received.filter((r) => r.method === 'BootNotification').at(-1)!.params as { reason: string }).reason, 'RemoteReset');
});

test('2.0.1: calls it cannot honour get their 2.0.1 answer; a malformed call gets an OCPP error and changes nothing', async (t) => {
  const { central, station } = await setup(t, {}, false);
  const external = { ...wProfile(6, 1000), chargingProfilePurpose: 'ChargingStationExternalConstraints' };
  const r = await central.call('CP-201', 'SetChargingProfile', { evseId: 1, chargingProfile: external });
  assert.equal(r.status, 'Rejected');
  assert.equal((r.statusInfo as { reasonCode: string }).reasonCode, 'InvalidProfile');
  assert.equal((await central.call('CP-201', 'SetChargingProfile', { evseId: 3, chargingProfile: wProfile(7, 1000) })).status, 'Rejected');
  assert.equal((await central.call('CP-201', 'GetChargingProfiles', { requestId: 1, chargingProfile: {} })).status, 'NoProfiles');
  assert.equal((await central.call('CP-201', 'UnlockConnector', { evseId: 1, connectorId: 2 })).status, 'UnknownConnector');
  assert.equal((await central.call('CP-201', 'RequestStopTransaction', { transactionId: 'nope' })).status, 'Rejected');
  assert.equal((await central.call('CP-201', 'TriggerMessage', { requestedMessage: 'SignChargingStationCertificate' })).status, 'NotImplemented');
  await assert.rejects(central.call('CP-201', 'SetChargingProfile', { evseId: 1, chargingProfile: { id: 'x' } }), (err: Error & { rpcErrorCode?: string }) => /Violation|Format|Type/.test(String(err.rpcErrorCode)));
  assert.equal(station.installedProfiles.length, 0);
  await assert.rejects(central.call('CP-201', 'CertificateSigned', { certificateChain: 'x' }), /not supported|NotImplemented/);
});
