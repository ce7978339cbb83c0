import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { assignBay, saveVehicle } from '../../src/fleet/vehicles.ts';
import { tokenRegistry } from '../../src/fleet/tokens.ts';
import type { MeterSampled } from '../../src/bus/events.ts';
import * as docs from './vendor-payloads.ts';

const AMT = 'smartcar-amt-do-not-leak-0001';
const SECRET = 'generic-secret-do-not-leak-0002';
const hmac = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
let server: TestServer;

before(async () => {
  server = await startTestServer();
  const store = server.services.store;
  const now = new Date().toISOString();
  await saveVehicle(store, { tenantId: 'acme', vehicleId: 'van-14', vin: '5YJ3E1EA7KF000014', batteryKwh: 75, consumptionKwhPerKm: 0.25, providerIds: { sc: '36ab27d0-fd9d-4455-823a-ce30af709ffc' } }, now);
  const put = async (id: string, body: unknown) => {
    const res = await server.api(`/api/telematics/providers/${id}`, { method: 'PUT', body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.clone().text());
  };
  await put('sc', { tenantId: 'acme', kind: 'smartcar', settings: {}, credentials: { managementToken: AMT } });
  await put('gw', {
    tenantId: 'acme', kind: 'webhook', credentials: { signingSecret: SECRET },
    settings: { timestampHeader: 'x-timestamp', deliveryIdHeader: 'x-delivery-id', mapping: { vin: 'vehicle.vin', measuredAt: 'at', fields: { socPercent: 'soc' } } },
  });
});
after(async () => { await server.stop(); });

/** A v4 VEHICLE_STATE with fresh timestamps (the replay window is checked against now). */
function smartcarBody(eventId: string, socPercent: number, atMs: number, vehicleId = docs.smartcarVehicleState.data.vehicle.id): string {
  const body = structuredClone(docs.smartcarVehicleState);
  body.eventId = eventId;
  body.data.vehicle.id = vehicleId;
  body.meta.deliveredAt = Date.now();
  for (const s of body.data.signals) if (s.meta.oemUpdatedAt) s.meta.oemUpdatedAt = atMs;
  body.data.signals[0].body.value = socPercent;
  return JSON.stringify(body);
}

const postHook = (provider: string, body: string, headers: Record<string, string>) =>
  fetch(`${server.url}/api/telematics/webhooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

test('Smartcar webhook end to end: challenge, signed delivery stored, unsigned and replayed refused', async () => {
  const challenge = await postHook('sc', JSON.stringify({ eventId: 'v1', eventType: 'VERIFY', data: { challenge: 'abc' } }), {});
  assert.equal(challenge.status, 200);
  assert.deepEqual(await challenge.json(), { challenge: hmac(AMT, 'abc') });

  const body = smartcarBody('evt-1', 55, Date.now() - 60_000);
  const unsigned = await postHook('sc', body, {});
  assert.equal(unsigned.status, 401);
  assert.equal(unsigned.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.match((await unsigned.json()).detail, /missing SC-Signature/);
  const forged = await postHook('sc', body, { 'sc-signature': hmac('guess', body) });
  assert.equal(forged.status, 401);

  const ok = await postHook('sc', body, { 'sc-signature': hmac(AMT, body) });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { accepted: 1, duplicates: 0, quarantined: 0, reasons: [] });
  const replay = await postHook('sc', body, { 'sc-signature': hmac(AMT, body) });
  assert.equal(replay.status, 409);

  const state = await (await server.api('/api/telematics/vehicles/acme/van-14/state')).json();
  assert.equal(state.fields.socPercent.value, 55);
  assert.equal(state.soc.source, 'telematics');
  assert.equal(state.soc.estimate, false);
  const readings = await (await server.api('/api/telematics/vehicles/acme/van-14/readings?limit=5')).json();
  assert.equal(readings.length, 1);
  assert.ok(readings.every((r: { provider: string }) => r.provider === 'sc'));
  assert.ok(server.logs.find('webhook rejected').length >= 2);
});

test('charger SoC and delivered energy are fused into the best SoC', async () => {
  await saveVehicle(server.services.store, { tenantId: 'acme', vehicleId: 'van-15', batteryKwh: 75, providerIds: { sc: 'sc-van-15' } }, new Date().toISOString());
  await assignBay(server.services.store, { stationId: 'CP-7', evseId: 1 }, { tenantId: 'acme', vehicleId: 'van-15' }, new Date().toISOString());
  const t0 = Date.now() - 30 * 60_000;
  const body = smartcarBody('evt-fuse', 40, t0, 'sc-van-15');
  assert.equal((await postHook('sc', body, { 'sc-signature': hmac(AMT, body) })).status, 200);
  const meter = (minutes: number, energyKwh: number, transactionId = 'tx-9'): MeterSampled => {
    const at = new Date(t0 + minutes * 60_000).toISOString();
    return { type: 'MeterSampled', at, receivedAt: at, stationId: 'CP-7', evseId: 1, connectorId: 1, transactionId, context: 'Sample.Periodic', powerKw: 22, energyKwh, currentA: null, voltageV: null, socPercent: null, offeredPowerKw: null, currentOfferedA: null, temperatureC: null, phases: null };
  };
  server.services.bus.publish(meter(-5, 500));
  server.services.bus.publish(meter(10, 503));
  server.services.bus.publish(meter(29, 510));
  await server.services.bus.drain();
  const state = await (await server.api('/api/telematics/vehicles/acme/van-15/state')).json();
  assert.equal(state.soc.source, 'telematics+energy');
  assert.ok(Math.abs(state.soc.socPercent - (40 + 10 * 0.92 / 75 * 100)) < 0.1, JSON.stringify(state.soc));
  assert.ok(state.soc.ageS < 120);
});

test('a session started with a vehicle\'s token is attributed to that vehicle: charger SoC measurand in the fused SoC', async () => {
  const store = server.services.store;
  await saveVehicle(store, { tenantId: 'acme', vehicleId: 'van-16', batteryKwh: 60 }, new Date().toISOString());
  await tokenRegistry(store).put({ idTag: 'RFID-16', status: 'Accepted', expiresAt: null, parentIdTag: null, vehicleId: 'van-16' }, new Date().toISOString());
  const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
  server.services.bus.publish({ type: 'SessionStarted', at: at(-10), receivedAt: at(-10), stationId: 'CP-9', evseId: 2, connectorId: 1, transactionId: '77', idToken: 'RFID-16', meterStartKwh: 100 });
  server.services.bus.publish({ type: 'MeterSampled', at: at(-1), receivedAt: at(-1), stationId: 'CP-9', evseId: 2, connectorId: 1, transactionId: '77', context: 'Sample.Periodic', powerKw: 50, energyKwh: 108, currentA: null, voltageV: null, socPercent: 57, offeredPowerKw: null, currentOfferedA: null, temperatureC: null, phases: null });
  await server.services.bus.drain();
  const state = await (await server.api('/api/telematics/vehicles/acme/van-16/state')).json();
  assert.deepEqual([state.soc.source, state.soc.socPercent, state.soc.estimate], ['charger', 57, false]);
});

test('generic webhook: timestamped signature, quarantine visible through the API, replay after the mapping fix', async () => {
  const send = (payload: unknown, deliveryId: string) => {
    const body = JSON.stringify(payload);
    const ts = String(Math.floor(Date.now() / 1000));
    return postHook('gw', body, { 'x-timestamp': ts, 'x-signature': `sha256=${hmac(SECRET, `${ts}.${body}`)}`, 'x-delivery-id': deliveryId });
  };
  const at = new Date(Date.now() - 5 * 60_000).toISOString();
  // The vendor renamed its field: nothing maps, so the payload is quarantined (and acknowledged, so it is not resent).
  const res = await send({ vehicle: { vin: '5YJ3E1EA7KF000014' }, at, state_of_charge: 47 }, 'd-1');
  assert.equal(res.status, 200);
  assert.equal((await res.json()).quarantined, 1);
  const open = await (await server.api('/api/telematics/quarantine?status=open&provider=gw')).json();
  assert.equal(open.length, 1);
  assert.match(open[0].reason, /no values/);
  assert.equal(open[0].payload.state_of_charge, 47);

  // Viewer routes need a key; quarantine needs admin.
  assert.equal((await fetch(`${server.url}/api/telematics/quarantine`)).status, 401);

  // Fix the mapping without re-sending the secret, then replay.
  const fix = await server.api('/api/telematics/providers/gw', {
    method: 'PUT',
    body: JSON.stringify({ tenantId: 'acme', kind: 'webhook', settings: { timestampHeader: 'x-timestamp', deliveryIdHeader: 'x-delivery-id', mapping: { vin: 'vehicle.vin', measuredAt: 'at', fields: { socPercent: 'state_of_charge' } } } }),
  });
  assert.equal(fix.status, 200);
  const replay = await (await server.api(`/api/telematics/quarantine/${open[0].id}/replay`, { method: 'POST' })).json();
  assert.deepEqual(replay, { replayed: 1, stillFailing: 0, accepted: 1, missingProvider: [] });
  const history = await (await server.api('/api/telematics/vehicles/acme/van-14/readings?limit=50')).json();
  assert.ok(history.some((r: { provider: string; socPercent: number }) => r.provider === 'gw' && r.socPercent === 47));
  assert.equal((await server.api(`/api/telematics/quarantine/${open[0].id}/replay`, { method: 'POST' })).status, 400);
  // The kept raw deliveries can be run through the fixed mapping too; what is stored already is not stored twice.
  const raw = await (await server.api('/api/telematics/raw/replay', { method: 'POST', body: JSON.stringify({ provider: 'gw' }) })).json();
  assert.deepEqual(raw, { deliveries: 1, accepted: 0, duplicates: 1, quarantined: 0 });
  assert.equal((await server.api('/api/telematics/raw/replay', { method: 'POST', body: JSON.stringify({ provider: 'nope' }) })).status, 404);
});

test('provider configuration: validated, credentials encrypted at rest and never returned or logged', async () => {
  const bad = await server.api('/api/telematics/providers/broken', { method: 'PUT', body: JSON.stringify({ tenantId: 'acme', kind: 'geotab', settings: {}, credentials: {} }) });
  assert.equal(bad.status, 400);
  const problem = await bad.json();
  assert.ok(problem.errors.some((e: { message: string }) => /settings.database is required/.test(e.message)));

  const list = await server.api('/api/telematics/providers');
  const text = await list.text();
  assert.equal(list.status, 200);
  assert.ok(!text.includes(AMT) && !text.includes(SECRET));
  const providers = JSON.parse(text);
  assert.deepEqual(providers.map((p: { id: string }) => p.id), ['gw', 'sc']);
  assert.deepEqual(providers.find((p: { id: string }) => p.id === 'sc').credentialKeys, ['managementToken']);
  assert.ok(providers.find((p: { id: string }) => p.id === 'sc').health.readingsPerMinute >= 2);

  const rows = await sql<{ credentials: string }>`select credentials from telematics_provider`.execute(server.services.store.db);
  assert.ok(rows.rows.every((r) => r.credentials.startsWith('v1.') && !r.credentials.includes(AMT) && !r.credentials.includes(SECRET)));
  assert.ok(!JSON.stringify(server.logs.lines).includes(AMT));
  assert.ok(!JSON.stringify(server.logs.lines).includes(SECRET));

  assert.equal((await server.api('/api/telematics/vehicles/acme/nope/state')).status, 404);
  const ids = (body: unknown, vehicle = 'van-14') => server.api(`/api/telematics/vehicles/acme/${vehicle}/provider-ids`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal((await ids({ sc: '36ab27d0-fd9d-4455-823a-ce30af709ffc', gw: 'V-14' })).status, 204);
  assert.equal((await ids({ sc: '36ab27d0-fd9d-4455-823a-ce30af709ffc' }, 'van-15')).status, 409, 'one provider id cannot name two vehicles');
  assert.equal((await ids({ sc: 'x' }, 'ghost')).status, 404);
  assert.equal((await postHook('nope', '{}', {})).status, 404);
});
