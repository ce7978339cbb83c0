import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInProcessBus } from '../../src/bus/bus.ts';
import type { Clock } from '../../src/clock.ts';
import { blockStore } from '../../src/fleet/blocks.ts';
import { fleetConfig } from '../../src/fleet/config.ts';
import { saveVehicle } from '../../src/fleet/vehicles.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { plannedTripsFromBlocks, scheduledTripsKm, type TripBlock } from '../../src/telematics/schedule-trips.ts';
import { createSecretBox } from '../../src/telematics/secrets.ts';
import { Telematics } from '../../src/telematics/service.ts';
import { captureLogs } from '../helpers/logger.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import { needService } from '../helpers/services.ts';

const zone = 'Europe/Berlin';
const dayShift: TripBlock = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], departureTime: '07:00', arrivalTime: '15:00', distanceKm: 120 };
const ms = (iso: string) => Date.parse(iso);
const km = (blocks: TripBlock[], since: string, until: string) => scheduledTripsKm(blocks, { timeZone: zone, sinceMs: ms(since), untilMs: ms(until) });

test('a finished trip counts in full, one under way by the share of its time elapsed', () => {
  // Mon 2026-11-30, 07:00-15:00 Berlin = 06:00-14:00 UTC.
  assert.equal(km([dayShift], '2026-11-30T05:00:00Z', '2026-11-30T15:00:00Z'), 120);
  assert.equal(km([dayShift], '2026-11-30T05:00:00Z', '2026-11-30T10:00:00Z'), 60, 'half of the 8 h trip is done');
  assert.equal(km([dayShift], '2026-11-30T05:00:00Z', '2026-11-30T05:59:00Z'), 0, 'not left yet');
  assert.equal(km([dayShift], '2026-11-30T06:01:00Z', '2026-11-30T15:00:00Z'), 0, 'left before the SoC was measured: already in it');
  assert.equal(km([dayShift], '2026-11-28T00:00:00Z', '2026-11-29T23:00:00Z'), 0, 'no trips at the weekend');
  assert.equal(km([dayShift], '2026-11-29T00:00:00Z', '2026-12-03T00:00:00Z'), 360, 'Mon, Tue, Wed');
  assert.equal(km([dayShift, { ...dayShift, distanceKm: null }], '2026-11-30T05:00:00Z', '2026-11-30T15:00:00Z'), 120, 'a block without a distance adds nothing');
});

test('a night shift returns the next day; a block without a return time counts in full from departure', () => {
  const night: TripBlock = { days: ['sat'], departureTime: '22:00', arrivalTime: '06:00', distanceKm: 80 };
  // Sat 2026-11-28 22:00 Berlin = 21:00 UTC, back Sun 06:00 = 05:00 UTC.
  assert.equal(km([night], '2026-11-28T20:00:00Z', '2026-11-29T01:00:00Z'), 40);
  assert.equal(km([night], '2026-11-28T20:00:00Z', '2026-11-29T06:00:00Z'), 80);
  assert.equal(km([{ ...night, arrivalTime: null }], '2026-11-28T20:00:00Z', '2026-11-28T21:30:00Z'), 80);
});

test('departures keep their local time across a DST change, and a long silence is bounded', () => {
  // Sun 2026-03-29: Berlin moves to UTC+2, so 06:30 local is 04:30 UTC (05:30 UTC the day before).
  const sunday: TripBlock = { days: ['sun'], departureTime: '06:30', arrivalTime: null, distanceKm: 50 };
  assert.equal(km([sunday], '2026-03-29T04:29:00Z', '2026-03-29T12:00:00Z'), 50);
  assert.equal(km([sunday], '2026-03-29T04:31:00Z', '2026-03-29T12:00:00Z'), 0);
  const daily: TripBlock = { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], departureTime: '08:00', arrivalTime: '09:00', distanceKm: 1 };
  assert.equal(km([daily], '2025-01-01T00:00:00Z', '2026-11-30T23:00:00Z'), 62, 'at most the last 62 days are counted');
});

const T0 = Date.parse('2026-11-30T10:00:00.000Z'); // Monday, 11:00 in Berlin

/** Through the real service and store: a stale telematics SoC becomes an estimate from the weekly block's distance. */
async function staleSocFromSchedule(store: Store): Promise<void> {
  const logs = captureLogs('warn');
  const bus = createInProcessBus(logs.logger);
  let now = T0;
  const clock: Clock = { now: () => now, setTimeout: (fn, delay) => setTimeout(fn, delay), clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>) };
  const telematics = new Telematics({ store, bus, clock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 3)) }, { plannedTripsKm: plannedTripsFromBlocks(store) });
  await telematics.start();
  try {
    const at = new Date(T0).toISOString();
    await fleetConfig(store).putDepot({ id: 'berlin', name: 'Berlin', timeZone: zone, slotMinutes: 15, gridLimitKw: 400 }, at);
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-7', batteryKwh: 75, consumptionKwhPerKm: 0.25, providerIds: { hook: 'ext-7' } }, at);
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-8', batteryKwh: 75, consumptionKwhPerKm: 0.25, providerIds: { hook: 'ext-8' } }, at);
    await blockStore(store).put({
      id: 'van-7-weekdays', depotId: 'berlin', vehicleId: 'van-7', days: ['mon', 'tue', 'wed', 'thu', 'fri'], departureTime: '07:00', arrivalTime: '15:00',
      targetSocPercent: null, energyNeededKwh: null, distanceKm: 120, chargerId: null, priority: 1,
    }, at);
    await telematics.saveProvider({
      id: 'hook', tenantId: 't1', kind: 'webhook', credentials: { signingSecret: 's' },
      settings: { mapping: { vehicleId: 'id', measuredAt: 'ts', fields: { socPercent: 'soc' } } },
    });
    // Last heard from at 05:30 UTC, before the 06:00 UTC departure; nothing since.
    const result = await telematics.ingestor.ingest(telematics.provider('hook')!, [{ id: 'ext-7', ts: '2026-11-30T05:30:00.000Z', soc: 80 }, { id: 'ext-8', ts: '2026-11-30T05:30:00.000Z', soc: 80 }]);
    assert.equal(result.accepted, 2);

    const soc = (await telematics.vehicleState('t1', 'van-7'))!.soc;
    // 4 h of the 8 h trip = 60 km x 0.25 kWh/km = 15 kWh = 20 % of 75 kWh.
    assert.deepEqual([soc.socPercent, soc.source, soc.estimate, soc.stale], [60, 'estimate', true, true]);
    assert.match(soc.basis, /60 km driven \(schedule\)/);
    assert.ok(soc.confidence < 0.5);

    now = Date.parse('2026-11-30T16:00:00.000Z'); // back at the depot: the whole trip
    assert.equal((await telematics.vehicleState('t1', 'van-7'))!.soc.socPercent, 40);

    // No block: the schedule does not know, and the estimate says so instead of assuming it stood still.
    const unknown = (await telematics.vehicleState('t1', 'van-8'))!.soc;
    assert.deepEqual([unknown.socPercent, unknown.estimate], [80, true]);
    assert.match(unknown.basis, /no distance driven since is known/);
  } finally {
    await telematics.stop();
  }
}

test('stale SoC minus the weekly block trips since (sqlite)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-telematics-trips-'));
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: captureLogs().logger });
  try { await staleSocFromSchedule(store); } finally { await store.close(); rmSync(dir, { recursive: true, force: true }); }
});

test('stale SoC minus the weekly block trips since (postgres)', async (t: TestContext) => {
  if (!await needService(t, 'postgres')) return;
  const temp = await createTempDatabase();
  const store = await openStore({ databaseUrl: temp.url, dataDir: '/nonexistent', logger: captureLogs().logger });
  try { await staleSocFromSchedule(store); } finally { await store.close(); await temp.drop(); }
});
