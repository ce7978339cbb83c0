import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/store.ts';
import { createInProcessBus } from '../../src/bus/bus.ts';
import type { Clock } from '../../src/clock.ts';
import { saveVehicle } from '../../src/fleet/vehicles.ts';
import { Telematics } from '../../src/telematics/service.ts';
import { createSecretBox } from '../../src/telematics/secrets.ts';
import { captureLogs } from '../helpers/logger.ts';
import { needService } from '../helpers/services.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import { fakeGeotab, fakeSamsara, fakeSmartcar, fakeTesla } from './fake-clouds.ts';

/**
 * A clock that runs `scale` times faster than the wall clock, from a fixed start: polling intervals, Retry-After
 * waits and back-off happen for real (real timers, real HTTP), just sooner, so these tests stay short.
 */
function fastClock(startMs: number, scale: number): Clock {
  const realStart = performance.now();
  return {
    now: () => startMs + (performance.now() - realStart) * scale,
    setTimeout: (fn, ms) => setTimeout(fn, ms / scale),
    clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  };
}

const START = Date.parse('2026-11-28T10:00:00.000Z');
const SCALE = 25;
/** Each test gets its own SQLite store with the fleet registered, and a running telematics context. */
async function withTelematics(clock: Clock, body: (t: Telematics) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-poll-'));
  const logs = captureLogs('info');
  const store: Store = await openStore({ databaseUrl: null, dataDir: dir, logger: logs.logger });
  const now = new Date(START).toISOString();
  await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', vin: '1FTBW3XM5KKA12345', providerIds: { 'geo': 'b28' } }, now);
  await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-15', vin: '1FTBW3XM5KKA12346' }, now);
  await saveVehicle(store, { tenantId: 't1', vehicleId: 'model-3', vin: '5YJ3E1EA7KF000001', providerIds: { sc: 'a8a5b7b3-b7d8-4a91-8a8e-3a9e9e1f4d61' } }, now);
  const telematics = new Telematics({ store, bus: createInProcessBus(logs.logger), clock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 1)) });
  await telematics.start();
  try {
    await body(telematics);
  } finally {
    await telematics.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const soc = async (t: Telematics, vehicleId: string) => (await t.vehicleState('t1', vehicleId))?.fields.socPercent?.value;

test('Samsara: follows the feed cursor across pages, waits out a 429 exactly as long as Retry-After says', async () => {
  const clock = fastClock(START, SCALE);
  const cloud = await fakeSamsara('samsara-token', () => clock.now());
  try {
    cloud.failNext(1, 429, { 'retry-after': '30' }, { message: 'Rate limit exceeded' });
    await withTelematics(clock, async (t) => {
      await t.saveProvider({ id: 'sam', tenantId: 't1', kind: 'samsara', settings: { baseUrl: cloud.url, intervalMs: 60_000 }, credentials: { apiToken: 'samsara-token' } });
      const rateLimited = await until('rate-limited state', async () => (await t.summary('sam')).health.state === 'rate-limited');
      assert.ok(rateLimited);
      await until('page 2 ingested', () => soc(t, 'van-15'));
      assert.ok((await t.summary('sam')).health.readingsPerMinute > 0);
      assert.equal(await soc(t, 'van-14'), 82.25);
      assert.equal(await soc(t, 'van-15'), 45);
      const gaps = cloud.requests.slice(0, 3).map((r) => r.atMs);
      assert.ok(gaps[1] - gaps[0] >= 30_000, `waited ${gaps[1] - gaps[0]} ms (virtual) after a 429 with Retry-After: 30`);
      assert.ok(gaps[2] - gaps[1] < 30_000, 'a page with hasNextPage is followed at once, not after the 60 s interval');
      assert.deepEqual(cloud.requests.slice(0, 3).map((r) => new URL(r.path, 'http://x').searchParams.get('after')), [null, null, 'cursor-page-1']);
      await until('an empty poll after the last page', () => cloud.requests.length >= 4);
      assert.equal(new URL(cloud.requests[3].path, 'http://x').searchParams.get('after'), 'cursor-page-2');
      const summary = await t.summary('sam');
      assert.equal(summary.health.state, 'ok');
      assert.deepEqual(summary.credentialKeys, ['apiToken']);
      assert.ok(!JSON.stringify(summary).includes('samsara-token'));
    });
  } finally {
    await cloud.close();
  }
});

test('a provider that is down backs off and is reported down; the others keep flowing', async () => {
  const clock = fastClock(START, SCALE);
  const geotab = await fakeGeotab(() => clock.now());
  const tesla = await fakeTesla('tesla-token', () => clock.now());
  try {
    geotab.failNext(50, 503, {}, { message: 'maintenance' });
    await withTelematics(clock, async (t) => {
      await t.saveProvider({ id: 'geo', tenantId: 't1', kind: 'geotab', settings: { server: geotab.url, database: 'depot', intervalMs: 2000 }, credentials: { userName: 'ops@depot.example', password: 'pw' } });
      await t.saveProvider({ id: 'tes', tenantId: 't1', kind: 'tesla', settings: { baseUrl: tesla.url, vehicleTags: ['5YJ3E1EA7KF000001', 'asleep'], intervalMs: 2000 }, credentials: { accessToken: 'tesla-token' } });
      await until('geotab down', async () => (await t.summary('geo')).health.state === 'down');
      const geo = await t.summary('geo');
      assert.match(geo.health.lastError?.message ?? '', /HTTP 503/);
      assert.ok(geo.health.consecutiveFailures >= 3);
      // Exponential back-off after the n-th failure in a row: interval × 2^n (4 s, 8 s, 16 s... virtual).
      const times = geotab.requests.map((r) => r.atMs);
      const gaps = times.slice(1).map((x, j) => x - times[j]);
      gaps.slice(0, 3).forEach((gap, j) => assert.ok(gap >= 0.98 * 2000 * 2 ** (j + 1), `gaps ${gaps.map(Math.round).join(', ')} ms`));
      // Meanwhile Tesla flowed: the awake vehicle was read, the sleeping one skipped without counting as a failure.
      await until('tesla reading', () => soc(t, 'model-3'));
      assert.equal((await t.summary('tes')).health.state, 'ok');
      assert.ok(tesla.requests.some((r) => r.path.includes('/asleep/')));
    });
  } finally {
    await geotab.close();
    await tesla.close();
  }
});

test('Geotab: authenticates, reads StatusData by version token and DeviceStatusInfo, re-authenticates an expired session', async () => {
  const clock = fastClock(START, SCALE);
  const geotab = await fakeGeotab(() => clock.now());
  try {
    await withTelematics(clock, async (t) => {
      await t.saveProvider({ id: 'geo', tenantId: 't1', kind: 'geotab', settings: { server: geotab.url, database: 'depot', intervalMs: 2000 }, credentials: { userName: 'ops@depot.example', password: 'pw' } });
      await until('geotab SoC', () => soc(t, 'van-14'));
      const state = await t.vehicleState('t1', 'van-14');
      assert.equal(state?.fields.socPercent?.value, 64);
      assert.equal(state?.fields.odometerKm?.value, 53_211.5);
      assert.equal(state?.fields.charging?.value, true);
      assert.equal(state?.fields.lat?.value, 43.4516);
      geotab.expireSessions();
      const before = geotab.requests.length;
      await until('re-authenticated poll', () => geotab.requests.slice(before).some((r) => (r.body as { method: string }).method === 'Authenticate') && geotab.requests.length >= before + 4);
      const feedCalls = geotab.requests.filter((r) => (r.body as { method: string }).method === 'GetFeed').map((r) => (r.body as { params: { fromVersion?: string } }).params.fromVersion);
      assert.equal(feedCalls[0], undefined);
      assert.ok(feedCalls.slice(1).every((v) => v === '0000000000000a04'), 'later polls continue from the version token');
      // DeviceStatusInfo answers the same record on every poll: stored once.
      assert.equal((await t.readings({ tenantId: 't1', vehicleId: 'van-14', limit: 100 })).length, 4);
      assert.equal((await t.summary('geo')).health.state, 'ok');
    });
  } finally {
    await geotab.close();
  }
});

test('refused credentials are reported as such and retried only after the long wait', async () => {
  const clock = fastClock(START, SCALE);
  const cloud = await fakeSmartcar('right-token', () => clock.now());
  try {
    await withTelematics(clock, async (t) => {
      await t.saveProvider({ id: 'sc', tenantId: 't1', kind: 'smartcar', settings: { baseUrl: cloud.url, vehicleIds: ['a8a5b7b3-b7d8-4a91-8a8e-3a9e9e1f4d61'], intervalMs: 2000 }, credentials: { accessToken: 'wrong-token' } });
      await until('auth failed', async () => (await t.summary('sc')).health.state === 'auth-failed');
      await new Promise((r) => setTimeout(r, 300)); // 7.5 s virtual: a normal poll interval would have retried thrice
      assert.equal(cloud.requests.length, 1);
      // Fixing the credentials restarts the provider, and the batch answer (fraction SoC, imperial) flows.
      await t.saveProvider({ id: 'sc', tenantId: 't1', kind: 'smartcar', settings: { baseUrl: cloud.url, vehicleIds: ['a8a5b7b3-b7d8-4a91-8a8e-3a9e9e1f4d61'], intervalMs: 2000 }, credentials: { accessToken: 'right-token' } });
      await until('smartcar SoC', () => soc(t, 'model-3'));
      assert.equal(Math.round(Number(await soc(t, 'model-3'))), 30);
    });
  } finally {
    await cloud.close();
  }
});

for (const engine of ['sqlite', 'postgres'] as const) test(`cluster: two nodes run the same provider, only the lease holder polls; the other takes over when it stops (${engine})`, async (t: TestContext) => {
  if (engine === 'postgres' && !await needService(t, 'postgres')) return;
  const temp = engine === 'postgres' ? await createTempDatabase() : null;
  const clock = fastClock(START, SCALE);
  const cloud = await fakeSamsara('samsara-token', () => clock.now());
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-poll-'));
  const logs = captureLogs('info');
  const store = await openStore({ databaseUrl: temp?.url ?? null, dataDir: dir, logger: logs.logger });
  const node = () => new Telematics({ store, bus: createInProcessBus(logs.logger), clock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 1)) });
  const a = node();
  const b = node();
  try {
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', vin: '1FTBW3XM5KKA12345' }, new Date(START).toISOString());
    await a.start();
    await a.saveProvider({ id: 'sam', tenantId: 't1', kind: 'samsara', settings: { baseUrl: cloud.url, intervalMs: 2000 }, credentials: { apiToken: 'samsara-token' } });
    await until('a polled', () => cloud.requests.length >= 3);
    await b.start(); // reads the stored provider and runs it too
    await new Promise((r) => setTimeout(r, 400)); // 10 s virtual: five intervals
    assert.equal((await b.summary('sam')).health.state, 'standby');
    assert.equal((await a.summary('sam')).health.state, 'ok');
    const polls = cloud.requests.length;
    assert.ok(polls <= 3 + 7, `${polls} polls in 10 s virtual at a 2 s interval: one node polling, not two`);
    await a.stop();
    await until('b took over', async () => (await b.summary('sam')).health.state === 'ok');
    const after = cloud.requests.length;
    await until('b polls', () => cloud.requests.length > after);
    // b continues from the cursor a saved, not from the beginning.
    assert.notEqual(new URL(cloud.requests[cloud.requests.length - 1].path, 'http://x').searchParams.get('after'), null);
  } finally {
    await a.stop();
    await b.stop();
    await store.close();
    await temp?.drop();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
