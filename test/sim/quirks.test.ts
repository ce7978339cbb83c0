import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { startPermissiveCentral, type PermissiveCentral } from '../../src/sim/central.ts';
import { VirtualChargePoint } from '../../src/sim/charge-point.ts';
import { Battery } from '../../src/sim/battery.ts';
import { parseQuirks, seededRandom, type Quirks } from '../../src/sim/quirks.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const min = 60_000;

async function setup(t: TestContext, quirks: Quirks): Promise<{ clock: SimClock; central: PermissiveCentral; station: VirtualChargePoint }> {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const central = await startPermissiveCentral({ clock });
  const station = new VirtualChargePoint({ id: 'Q-1', url: central.url, clock, kind: 'AC', maxPowerKw: 11, quirks, reconnectS: 20 });
  t.after(async () => { await station.stop(); await central.close(); });
  await station.start();
  station.plug(1, new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 30), 'TAG');
  await clock.runUntil(t0 + min);
  return { clock, central, station };
}
const txDefault = (unit: 'W' | 'A', limits: number[]) => ({
  connectorId: 1,
  csChargingProfiles: {
    chargingProfileId: 5, stackLevel: 1, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: { chargingRateUnit: unit, startSchedule: new Date(t0).toISOString(), chargingSchedulePeriod: limits.map((limit, k) => ({ startPeriod: k * 900, limit })) },
  },
});

test('accepts only A: a W schedule is Rejected, the same in A applies', async (t) => {
  const { central, station } = await setup(t, { acceptsOnlyAmps: true });
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('W', [6000])), { status: 'Rejected' });
  assert.equal(station.view(1).powerKw, 11);
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('A', [8])), { status: 'Accepted' });
  assert.ok(Math.abs(station.view(1).powerKw - 8 * 230 * 3 / 1000) < 1e-9);
  const conf = await central.call('Q-1', 'GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit'] });
  assert.equal((conf.configurationKey as { value: string }[])[0].value, 'Current');
});

test('at most one schedule period: a two-period schedule is Rejected', async (t) => {
  const { central, station } = await setup(t, { maxSchedulePeriods: 1 });
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('W', [6000, 9000])), { status: 'Rejected' });
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('W', [6000])), { status: 'Accepted' });
  assert.equal(station.view(1).powerKw, 6);
});

test('ignores profiles while answering Accepted', async (t) => {
  const { clock, central, station } = await setup(t, { ignoresProfiles: true });
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('W', [4200])), { status: 'Accepted' });
  await clock.runUntil(clock.now() + 10 * min);
  assert.equal(station.view(1).powerKw, 11, 'keeps charging flat out');
  assert.equal(station.installedProfiles.length, 0);
  assert.equal(station.stats.profilesIgnored, 1);
});

test('drops its connection now and then, reconnects, and loses no transaction message', async (t) => {
  const { clock, central, station } = await setup(t, { dropsConnection: { meanIntervalS: 600, offlineS: 120 } });
  await clock.runUntil(t0 + 4 * 60 * min);
  assert.ok(station.stats.drops >= 10 && station.stats.drops <= 45, `about one drop per 12 min in 4 h, got ${station.stats.drops}`);
  assert.equal(station.stats.connects, station.stats.drops + 1);
  station.unplug(1);
  await clock.runUntil(clock.now() + 10 * min);
  const samples = central.received.filter((r) => r.method === 'MeterValues');
  assert.ok(samples.length >= 235 && samples.length <= 240, `every minute's sample arrives (${samples.length})`);
  const stamps = samples.map((r) => Date.parse((r.params.meterValue as { timestamp: string }[])[0].timestamp));
  assert.equal(new Set(stamps).size, stamps.length, 'no duplicates');
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b), 'in order');
  assert.equal(central.received.filter((r) => r.method === 'StopTransaction').length, 1);
});

test('the same seed drops at the same instants', async (t) => {
  const times = async (): Promise<number[]> => {
    const clock = createSimClock({ mode: 'virtual', startMs: t0 });
    const central = await startPermissiveCentral({ clock });
    const station = new VirtualChargePoint({ id: 'Q-1', url: central.url, clock, kind: 'AC', maxPowerKw: 11, quirks: { dropsConnection: { meanIntervalS: 900, offlineS: 60 } } });
    const at: number[] = [];
    station.on('disconnected', () => at.push(clock.now()));
    await station.start();
    await clock.runUntil(t0 + 3 * 60 * min);
    await station.stop();
    await central.close();
    return at;
  };
  const a = await times();
  assert.ok(a.length > 3);
  assert.deepEqual(await times(), a);
  t.diagnostic(`drops at minutes ${a.map((x) => (x - t0) / min).map((m) => m.toFixed(1)).join(', ')}`);
});

test('reboots mid-session: the transaction ends with PowerLoss, a new one starts after the boot, TxProfiles are gone', async (t) => {
  const { clock, central, station } = await setup(t, { rebootsMidSession: { afterS: 1800, bootS: 45 } });
  const tx = { ...txDefault('W', [5000]), csChargingProfiles: { ...txDefault('W', [5000]).csChargingProfiles, chargingProfileId: 8, chargingProfilePurpose: 'TxProfile', transactionId: 1 } };
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', tx), { status: 'Accepted' });
  assert.deepEqual(await central.call('Q-1', 'SetChargingProfile', txDefault('W', [7000])), { status: 'Accepted' });
  await clock.runUntil(t0 + 40 * min);
  assert.equal(station.stats.reboots, 1);
  const stop = central.received.find((r) => r.method === 'StopTransaction')!;
  assert.equal(stop.params.reason, 'PowerLoss');
  assert.equal(stop.params.transactionId, 1);
  assert.ok(stop.atMs >= t0 + 30 * min + 45_000, 'sent after the boot');
  const boots = central.received.filter((r) => r.method === 'BootNotification');
  assert.equal(boots.length, 2);
  const starts = central.received.filter((r) => r.method === 'StartTransaction');
  assert.equal(starts.length, 2, 'the plugged van starts again');
  assert.equal(station.view(1).transactionId, 2);
  assert.equal(station.view(1).powerKw, 7, 'TxDefaultProfile survived the reboot, the TxProfile did not');
  await clock.runUntil(t0 + 120 * min);
  assert.equal(station.stats.reboots, 1, 'times defaults to one');
});

test('quirks from a file are validated', () => {
  assert.deepEqual(parseQuirks({ acceptsOnlyAmps: true, maxSchedulePeriods: 1 }), { acceptsOnlyAmps: true, maxSchedulePeriods: 1 });
  assert.throws(() => parseQuirks({ acceptsOnlyWatts: true }), /quirks.acceptsOnlyWatts: unknown quirk/);
  assert.throws(() => parseQuirks({ maxSchedulePeriods: 0 }), /positive integer/);
  assert.throws(() => parseQuirks({ dropsConnection: { meanIntervalS: -1 } }), /meanIntervalS/);
  assert.throws(() => parseQuirks({ rebootsMidSession: { afterS: 10, times: 1.5 } }), /times/);
  const r = seededRandom(7);
  const xs = Array.from({ length: 1000 }, r);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((a, b) => a + b) / 1000 - 0.5) < 0.05);
});
