import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/store.ts';
import { createInProcessBus } from '../../src/bus/bus.ts';
import type { VehicleReading } from '../../src/bus/events.ts';
import type { Clock } from '../../src/clock.ts';
import { saveVehicle } from '../../src/fleet/vehicles.ts';
import { Telematics } from '../../src/telematics/service.ts';
import { createSecretBox } from '../../src/telematics/secrets.ts';
import { needService } from '../helpers/services.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import { captureLogs } from '../helpers/logger.ts';

const T0 = Date.parse('2026-11-28T10:00:00.000Z');

function manualClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => { now = ms; },
    setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 2 ** 31 - 1)),
    clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  };
}

interface Ctx { store: Store; telematics: Telematics; events: VehicleReading[]; clock: ReturnType<typeof manualClock>; bus: ReturnType<typeof createInProcessBus> }

/** The same assertions against a fresh SQLite file and a fresh PostgreSQL database. */
function bothStores(name: string, body: (ctx: Ctx) => Promise<void>) {
  const run = async (store: Store) => {
    const logs = captureLogs('info');
    const bus = createInProcessBus(logs.logger);
    const clock = manualClock(T0);
    const events: VehicleReading[] = [];
    bus.subscribe('VehicleReading', (e) => { events.push(e); });
    const telematics = new Telematics({ store, bus, clock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 7)) });
    await telematics.start();
    try {
      await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', vin: '5YJ3E1EA7KF000014', batteryKwh: 75, consumptionKwhPerKm: 0.25, providerIds: { hook: 'ext-14' } }, new Date(T0).toISOString());
      await saveVehicle(store, { tenantId: 't2', vehicleId: 'other', vin: '5YJ3E1EA7KF000099', providerIds: { hook: 'ext-14-elsewhere' } }, new Date(T0).toISOString());
      await telematics.saveProvider({
        id: 'hook', tenantId: 't1', kind: 'webhook', credentials: { signingSecret: 's3cret' },
        settings: { mapping: { vehicleId: 'id', vin: 'vin', measuredAt: 'ts', fields: { socPercent: 'soc', odometerKm: { path: 'odo', unit: 'm' } } } },
      });
      await body({ store, telematics, events, clock, bus });
    } finally {
      await telematics.stop();
    }
  };
  test(`${name} (sqlite)`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-telematics-'));
    const store = await openStore({ databaseUrl: null, dataDir: dir, logger: captureLogs().logger });
    try { await run(store); } finally { await store.close(); rmSync(dir, { recursive: true, force: true }); }
  });
  test(`${name} (postgres)`, async (t: TestContext) => {
    if (!await needService(t, 'postgres')) return;
    const temp = await createTempDatabase();
    const store = await openStore({ databaseUrl: temp.url, dataDir: '/nonexistent', logger: captureLogs().logger });
    try { await run(store); } finally { await store.close(); await temp.drop(); }
  });
}

const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const ingest = async (ctx: Ctx, units: unknown[]) => {
  const provider = ctx.telematics.provider('hook')!;
  return ctx.telematics.ingestor.ingest(provider, units);
};
const count = async (store: Store, table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(store.db)).rows[0].n);

bothStores('the same reading twice is stored once and published once', async (ctx) => {
  const unit = { id: 'ext-14', ts: at(-5), soc: 61.5, odo: 120_500 };
  const first = await ingest(ctx, [unit]);
  const second = await ingest(ctx, [unit, { ...unit }]);
  const twiceInOne = await ingest(ctx, [{ ...unit, soc: 62 }, { ...unit, soc: 62 }]);
  assert.deepEqual([twiceInOne.accepted, twiceInOne.duplicates], [1, 1]);
  assert.deepEqual([first.accepted, first.duplicates], [1, 0]);
  assert.deepEqual([second.accepted, second.duplicates], [0, 2]);
  assert.equal(await count(ctx.store, 'telematics_reading'), 2);
  assert.equal(await count(ctx.store, 'telematics_raw'), 3, 'one raw row per delivery; an identical delivery at the same instant is kept once');
  await ctx.bus.drain();
  assert.equal(ctx.events.length, 2);
  assert.equal(ctx.events[0].vehicleId, 'van-14');
  assert.equal(ctx.events[0].odometerKm, 120.5);
  assert.equal(ctx.events[0].at, at(-5));
  assert.equal(ctx.events[0].receivedAt, new Date(T0).toISOString());
});

bothStores('concurrent deliveries of one reading race to a single row', async (ctx) => {
  const unit = { id: 'ext-14', ts: at(-1), soc: 70 };
  const results = await Promise.all(Array.from({ length: 20 }, () => ingest(ctx, [unit])));
  assert.equal(results.reduce((n, r) => n + r.accepted, 0), 1);
  assert.equal(await count(ctx.store, 'telematics_reading'), 1);
});

bothStores('a delivery mixing stored and new readings stores and publishes only the new ones', async (ctx) => {
  const units = [0, 1, 2, 3, 4, 5].map((m) => ({ id: 'ext-14', ts: at(-10 + m), soc: 50 + m }));
  const first = await ingest(ctx, [units[3], units[1]]);
  const mixed = await ingest(ctx, units);
  assert.deepEqual([first.accepted, first.duplicates], [2, 0]);
  assert.deepEqual([mixed.accepted, mixed.duplicates], [4, 2]);
  assert.equal(await count(ctx.store, 'telematics_reading'), 6);
  await ctx.bus.drain();
  // Published in measurement order within a delivery; 0 and 2 were measured before 3, so they are history only.
  assert.deepEqual(ctx.events.map((e) => e.socPercent), [51, 53, 54, 55]);
  const state = await ctx.telematics.vehicleState('t1', 'van-14');
  assert.deepEqual([state?.fields.socPercent?.value, state?.fields.socPercent?.at], [55, at(-5)]);
});

bothStores('a late reading never overwrites a newer one, field by field', async (ctx) => {
  await ingest(ctx, [{ id: 'ext-14', ts: at(-2), soc: 80 }]);
  // Arrives later but was measured earlier: stored as history, SoC state unchanged; its odometer is still the newest known.
  const late = await ingest(ctx, [{ id: 'ext-14', ts: at(-30), soc: 40, odo: 99_000 }]);
  assert.equal(late.accepted, 1);
  const state = await ctx.telematics.vehicleState('t1', 'van-14');
  assert.equal(state?.fields.socPercent?.value, 80);
  assert.equal(state?.fields.socPercent?.at, at(-2));
  assert.equal(state?.fields.odometerKm?.value, 99);
  const history = await ctx.telematics.readings({ tenantId: 't1', vehicleId: 'van-14', limit: 10 });
  assert.deepEqual(history.map((r) => r.socPercent), [80, 40]);
  // Both readings advanced something (the late one, the odometer), so both were published.
  await ctx.bus.drain();
  assert.equal(ctx.events.length, 2);
  // A late reading that only repeats older SoC advances nothing and is not published.
  await ingest(ctx, [{ id: 'ext-14', ts: at(-40), soc: 35 }]);
  await ctx.bus.drain();
  assert.equal(ctx.events.length, 2);
});

bothStores('vehicles are matched by provider id or VIN within the tenant only', async (ctx) => {
  const byVin = await ingest(ctx, [{ vin: '5yj3e1ea7kf000014', ts: at(-1), soc: 50 }]);
  assert.equal(byVin.accepted, 1);
  // The VIN of another tenant's vehicle does not match here.
  const foreign = await ingest(ctx, [{ vin: '5YJ3E1EA7KF000099', ts: at(-1), soc: 50 }]);
  assert.equal(foreign.quarantined, 1);
  assert.match(foreign.reasons[0], /no vehicle in tenant t1/);
});

bothStores('bad payloads are quarantined with the reason; accepted data is untouched; replay after the fix', async (ctx) => {
  await ingest(ctx, [{ id: 'ext-14', ts: at(-3), soc: 55 }]);
  const bad = await ingest(ctx, [
    { id: 'ext-14', ts: 'yesterday', soc: 10 },
    { id: 'ext-14', ts: at(-1), soc: 0.42, battery: 42 }, // fine as far as the mapping goes
    { id: 'ext-14', ts: at(-1), soc: 420 },
    { id: 'unknown-van', ts: at(-1), soc: 20 },
    'not even json',
    { id: 'ext-\u0000-14', ts: at(-1), soc: 20 },
  ]);
  assert.equal(bad.accepted, 1);
  assert.equal(bad.quarantined, 5);
  const open = await ctx.telematics.quarantine({ status: 'open', limit: 10 });
  assert.equal(open.length, 5);
  assert.ok(open.some((q) => /control characters/.test(q.reason)));
  const reasons = open.map((q) => q.reason).sort();
  assert.ok(reasons.some((r) => /ts is not a timestamp/.test(r)), reasons.join(' | '));
  assert.ok(reasons.some((r) => /socPercent 420 is outside 0..100/.test(r)));
  assert.ok(reasons.some((r) => /no vehicle in tenant t1 has hook id "unknown-van"/.test(r)));
  assert.ok(reasons.some((r) => /not an object/.test(r)));
  const state = await ctx.telematics.vehicleState('t1', 'van-14');
  assert.equal(state?.fields.socPercent?.value, 0.42);

  // The unknown vehicle gets registered: replay takes that entry through, the others stay open with their reason.
  await saveVehicle(ctx.store, { tenantId: 't1', vehicleId: 'van-15', providerIds: { hook: 'unknown-van' } }, at(0));
  const replay = await ctx.telematics.replay({ provider: 'hook' });
  assert.deepEqual([replay.replayed, replay.stillFailing, replay.accepted], [1, 4, 1]);
  const again = await ctx.telematics.quarantine({ status: 'open', limit: 10 });
  assert.equal(again.length, 4);
  assert.ok(again.every((q) => q.attempts === 2));
  assert.equal((await ctx.telematics.quarantine({ status: 'replayed', limit: 10 })).length, 1);
});

bothStores('raw payloads are kept for the retention period, then purged', async (ctx) => {
  await ingest(ctx, [{ id: 'ext-14', ts: at(-1), soc: 66 }]);
  assert.equal(await count(ctx.store, 'telematics_raw'), 1);
  assert.equal((await ctx.telematics.purge()).raw, 0);
  ctx.clock.set(T0 + 8 * 86_400_000);
  assert.equal((await ctx.telematics.purge()).raw, 1);
  assert.equal(await count(ctx.store, 'telematics_reading'), 1, 'readings outlive their raw payloads');
});

bothStores('raw deliveries are replayed through a fixed mapping; identical bad payloads are one quarantine entry', async (ctx) => {
  // The vendor also sends speed, which the first mapping did not pick up.
  await ingest(ctx, [{ id: 'ext-14', ts: at(-10), soc: 70, spd: 42 }, { id: 'ext-14', ts: at(-5), soc: 68, spd: 0 }]);
  await ingest(ctx, ['garbage', 'garbage']);
  const open = await ctx.telematics.quarantine({ status: 'open', limit: 10 });
  assert.equal(open.length, 1);
  assert.equal(open[0].attempts, 1);
  await ctx.telematics.saveProvider({
    id: 'hook', tenantId: 't1', kind: 'webhook',
    settings: { mapping: { vehicleId: 'id', vin: 'vin', measuredAt: 'ts', fields: { socPercent: 'soc', odometerKm: { path: 'odo', unit: 'm' }, speedKmh: 'spd' } } },
  });
  const result = await ctx.telematics.replayRaw({ provider: 'hook', limit: 100 });
  assert.deepEqual(result, { deliveries: 2, accepted: 2, duplicates: 0, quarantined: 2 });
  const state = await ctx.telematics.vehicleState('t1', 'van-14');
  assert.equal(state?.fields.speedKmh?.value, 0);
  assert.equal(state?.fields.speedKmh?.at, at(-5));
  assert.equal(await count(ctx.store, 'telematics_raw'), 2, 'a replay does not store its payloads again');
  assert.equal((await ctx.telematics.quarantine({ status: 'open', limit: 10 }))[0].attempts, 2);
  assert.equal(await ctx.telematics.replayRaw({ provider: 'nope', limit: 1 }), null);
});
