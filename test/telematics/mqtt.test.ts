import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/store.ts';
import { createInProcessBus } from '../../src/bus/bus.ts';
import type { VehicleReading } from '../../src/bus/events.ts';
import { systemClock } from '../../src/clock.ts';
import { saveVehicle } from '../../src/fleet/vehicles.ts';
import { Telematics } from '../../src/telematics/service.ts';
import { createSecretBox } from '../../src/telematics/secrets.ts';
import { needService, services } from '../helpers/services.ts';
import { captureLogs } from '../helpers/logger.ts';

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('MQTT topic per metric through the real broker: strings, JSON with timestamps, bad values quarantined', async (t: TestContext) => {
  if (!await needService(t, 'mqtt')) return;
  const url = `mqtt://${services.mqtt.host}:${services.mqtt.port}`;
  // A unique root per run, so parallel runs and retained messages from other tests never cross.
  const root = `voltyard-test/${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mqtt-'));
  const logs = captureLogs('info');
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: logs.logger });
  const bus = createInProcessBus(logs.logger);
  const events: VehicleReading[] = [];
  bus.subscribe('VehicleReading', (e) => { events.push(e); });
  const telematics = new Telematics({ store, bus, clock: systemClock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 3)) });
  const publisher = await mqtt.connectAsync(url, { clientId: `voltyard-test-pub-${randomBytes(3).toString('hex')}` });
  try {
    await telematics.start();
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', providerIds: { broker: 'VAN14' } }, new Date().toISOString());
    await telematics.saveProvider({
      id: 'broker', tenantId: 't1', kind: 'mqtt', credentials: {},
      settings: { url, topics: { socPercent: `${root}/{vehicle}/soc`, odometerKm: `${root}/{vehicle}/odo`, charging: `${root}/{vehicle}/charging` }, units: { odometerKm: 'm' } },
    });
    const measured = new Date(Date.now() - 60_000).toISOString();
    await publisher.publishAsync(`${root}/VAN14/soc`, '77.5', { qos: 1 });
    await publisher.publishAsync(`${root}/VAN14/odo`, JSON.stringify({ value: '120500', ts: measured }), { qos: 1 });
    await publisher.publishAsync(`${root}/VAN14/charging`, 'true', { qos: 1 });
    await publisher.publishAsync(`${root}/VAN14/soc`, 'n/a', { qos: 1 });
    await publisher.publishAsync(`${root}/GHOST/soc`, '50', { qos: 1 });

    const state = await until('all three fields', async () => {
      const s = await telematics.vehicleState('t1', 'van-14');
      return s?.fields.socPercent && s.fields.odometerKm && s.fields.charging ? s : null;
    });
    assert.equal(state.fields.socPercent?.value, 77.5);
    assert.equal(state.fields.odometerKm?.value, 120.5);
    assert.equal(state.fields.odometerKm?.at, measured, 'the timestamp inside the message is the measurement time');
    assert.equal(state.fields.charging?.value, true);
    const quarantined = await until('two quarantined messages', async () => {
      const q = await telematics.quarantine({ status: 'open', limit: 10 });
      return q.length >= 2 ? q : null;
    });
    const reasons = quarantined.map((q) => q.reason).join(' | ');
    assert.match(reasons, /is not a number: "n\/a"/);
    assert.match(reasons, /broker id "GHOST"/);
    await bus.drain();
    assert.equal(events.length, 3);
    assert.equal((await telematics.summary('broker')).health.state, 'ok');
  } finally {
    await publisher.endAsync();
    await telematics.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable broker is reported and does not stop the context', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mqtt-'));
  const logs = captureLogs('info');
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: logs.logger });
  const telematics = new Telematics({ store, bus: createInProcessBus(logs.logger), clock: systemClock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 3)) });
  try {
    await telematics.start();
    await telematics.saveProvider({ id: 'nobroker', tenantId: 't1', kind: 'mqtt', credentials: {}, settings: { url: 'mqtt://127.0.0.1:1', topics: { socPercent: 'x/{vehicle}/soc' } } });
    const summary = await until('failure reported', async () => { const s = await telematics.summary('nobroker'); return s.health.lastError ? s : null; });
    assert.notEqual(summary.health.state, 'ok');
  } finally {
    await telematics.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster: two nodes subscribed to the same provider share the messages instead of both taking each', async (t: TestContext) => {
  if (!await needService(t, 'mqtt')) return;
  const url = `mqtt://${services.mqtt.host}:${services.mqtt.port}`;
  const root = `voltyard-test/${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mqtt-'));
  const logs = captureLogs('info');
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: logs.logger });
  const nodes = [0, 1].map(() => new Telematics({ store, bus: createInProcessBus(logs.logger), clock: systemClock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 3)) }));
  const received = [0, 0];
  nodes.forEach((node, i) => {
    const ingest = node.ingestor.ingest.bind(node.ingestor);
    node.ingestor.ingest = (provider, units, options) => { received[i] += units.length; return ingest(provider, units, options); };
  });
  const publisher = await mqtt.connectAsync(url, { clientId: `voltyard-test-pub-${randomBytes(3).toString('hex')}` });
  try {
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', providerIds: { shared: 'VAN14' } }, new Date().toISOString());
    await nodes[0].start();
    await nodes[0].saveProvider({ id: 'shared', tenantId: 't1', kind: 'mqtt', credentials: {}, settings: { url, topics: { socPercent: `${root}/{vehicle}/soc` } } });
    await nodes[1].start();
    for (let i = 0; i < 20; i++) await publisher.publishAsync(`${root}/VAN14/soc`, String(50 + i), { qos: 1 });
    await until('all 20 received', async () => received[0] + received[1] >= 20 ? true : null);
    await new Promise((r) => setTimeout(r, 200)); // any second copy would arrive now
    assert.equal(received[0] + received[1], 20, `node 0 got ${received[0]}, node 1 got ${received[1]}`);
  } finally {
    await publisher.endAsync();
    for (const node of nodes) await node.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message whose write fails is not acknowledged; the broker delivers it again and it is stored once', async (t: TestContext) => {
  if (!await needService(t, 'mqtt')) return;
  const url = `mqtt://${services.mqtt.host}:${services.mqtt.port}`;
  const root = `voltyard-test/${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mqtt-'));
  const logs = captureLogs('info');
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: logs.logger });
  const telematics = new Telematics({ store, bus: createInProcessBus(logs.logger), clock: systemClock, logger: logs.logger, box: createSecretBox(Buffer.alloc(32, 3)) });
  let deliveries = 0;
  const ingest = telematics.ingestor.ingest.bind(telematics.ingestor);
  telematics.ingestor.ingest = (provider, units, options) => { deliveries += units.length; return ingest(provider, units, options); };
  const publisher = await mqtt.connectAsync(url, { clientId: `voltyard-test-pub-${randomBytes(3).toString('hex')}` });
  try {
    await telematics.start();
    await saveVehicle(store, { tenantId: 't1', vehicleId: 'van-14', providerIds: { broker: 'VAN14' } }, new Date().toISOString());
    await telematics.saveProvider({ id: 'broker', tenantId: 't1', kind: 'mqtt', credentials: {}, settings: { url, topics: { socPercent: `${root}/{vehicle}/soc` } } });
    // The store refuses every reading until the trigger is dropped: a real failed write, rolled back with its batch.
    await sql`create trigger voltyard_test_refuse before insert on telematics_reading begin select raise(abort, 'simulated write failure'); end`.execute(store.db);
    const measured = new Date(Date.now() - 30_000).toISOString();
    await publisher.publishAsync(`${root}/VAN14/soc`, JSON.stringify({ value: 64, ts: measured }), { qos: 1 });
    await until('the failed write', async () => deliveries >= 1 && logs.find('not acknowledged').length > 0);
    assert.equal(await count(store), 0);
    await sql`drop trigger voltyard_test_refuse`.execute(store.db);
    const state = await until('the redelivered reading', async () => (await telematics.vehicleState('t1', 'van-14'))?.fields.socPercent, 10_000);
    assert.deepEqual([state.value, state.at], [64, measured]);
    assert.ok(deliveries >= 2, `delivered ${deliveries} times`);
    assert.equal(await count(store), 1);
  } finally {
    await publisher.endAsync();
    await telematics.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const count = async (store: Store) => Number((await sql<{ n: number }>`select count(*) as n from telematics_reading`.execute(store.db)).rows[0].n);
