import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testAdminKey } from '../helpers/server.ts';
import { bootCharger } from '../helpers/charger.ts';
import { onBothStores } from '../ocpp/helpers.ts';
import { expandBlocks, localToUtc, type WeeklyBlock } from '../../src/fleet/blocks.ts';

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

test('weekly blocks expand in the depot time zone, across DST, and a one-off replaces its occurrence', () => {
  const block: WeeklyBlock = {
    id: 'b1', depotId: 'd', vehicleId: 'van-1', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], departureTime: '06:30', arrivalTime: '18:00',
    targetSocPercent: null, energyNeededKwh: null, distanceKm: 100, chargerId: null, priority: 0, updatedAt: '',
  };
  // Amsterdam switches to summer time on 2026-03-29: 06:30 local is 05:30Z before and 04:30Z after.
  const fromMs = Date.parse('2026-03-27T12:00:00Z');
  const out = expandBlocks([block], { timeZone: 'Europe/Amsterdam', fromMs, days: 3, consumption: new Map([['van-1', 0.25]]), oneOff: [] });
  assert.deepEqual(out.map((d) => new Date(d.departureMs).toISOString()), ['2026-03-27T05:30:00.000Z', '2026-03-28T05:30:00.000Z', '2026-03-29T04:30:00.000Z', '2026-03-30T04:30:00.000Z'], 'from 12 h back (an overdue van) to 3 days ahead');
  assert.equal(new Date(out[1].arrivalMs!).toISOString(), '2026-03-27T17:00:00.000Z', 'back the evening before');
  assert.ok(out.every((d) => d.energyNeededKwh === 25), '100 km at 0.25 kWh/km');
  assert.equal(localToUtc('America/New_York', 2026, 7, 1, 0), Date.parse('2026-07-01T04:00:00Z'));
  const withOneOff = expandBlocks([block], {
    timeZone: 'Europe/Amsterdam', fromMs, days: 3, consumption: new Map(),
    oneOff: [{ id: 'x', depotId: 'd', vehicleId: 'van-1', arrivalMs: null, arrivalSocPercent: null, departureMs: Date.parse('2026-03-29T06:00:00Z'), targetSocPercent: 90, energyNeededKwh: null, chargerId: null, priority: 0, estimated: false }],
  });
  assert.equal(withOneOff.length, 3);
  assert.ok(withOneOff.every((d) => d.energyNeededKwh === null), 'no consumption known: no energy figure');
});

onBothStores('keys, roles, audit, fleet configuration, CSV and live events', async (t, overrides) => {
  const server = await startTestServer(overrides);
  t.after(() => server.stop());
  const as = (key: string) => (path: string, init: RequestInit = {}) => fetch(server.url + path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } });
  const admin = as(testAdminKey);

  // --- keys ---
  const created = await admin('/api/keys', { method: 'POST', ...json({ name: 'wall tablet', role: 'viewer' }) });
  assert.equal(created.status, 201);
  const { key, secret } = await created.json();
  assert.match(secret, /^vy_[0-9a-f]{12}_/);
  const dispatcherKey = (await (await admin('/api/keys', { method: 'POST', ...json({ name: 'night shift', role: 'dispatcher' }) })).json()).secret;
  const viewer = as(secret);
  const dispatcher = as(dispatcherKey);
  assert.deepEqual(await (await viewer('/api/whoami')).json(), { keyId: key.id, role: 'viewer' });
  const listed = await (await admin('/api/keys')).json();
  assert.equal(listed.total, 2);
  assert.ok(!JSON.stringify(listed).includes(secret.slice(20)), 'the secret is never listed');
  assert.equal((await as('vy_000000000000_' + 'x'.repeat(43))('/api/whoami')).status, 401);
  const badKey = await admin('/api/keys', { method: 'POST', ...json({ name: 'x', role: 'root' }) });
  assert.equal(badKey.status, 400);
  assert.equal(badKey.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  assert.equal((await badKey.json()).errors[0].field, 'body.role');

  // --- depot, circuits, chargers ---
  assert.equal((await viewer('/api/depots/north', { method: 'PUT', ...json({ name: 'North', timeZone: 'Europe/Amsterdam', gridLimitKw: 50 }) })).status, 403);
  const badZone = await admin('/api/depots/north', { method: 'PUT', ...json({ name: 'North', timeZone: 'Mars/Olympus', gridLimitKw: 50 }) });
  assert.equal(badZone.status, 400);
  assert.equal((await badZone.json()).errors[0].field, 'body.timeZone');
  assert.equal((await admin('/api/depots/north', { method: 'PUT', ...json({ name: 'North', timeZone: 'Europe/Amsterdam', gridLimitKw: 50 }) })).status, 201);
  assert.equal((await admin('/api/depots/north/circuits/main', { method: 'PUT', ...json({ parentId: null, maxPowerKw: 60 }) })).status, 200);
  assert.equal((await admin('/api/depots/north/circuits/panel', { method: 'PUT', ...json({ parentId: 'main', maxPowerKw: 40 }) })).status, 200);
  const cycle = await admin('/api/depots/north/circuits/main', { method: 'PUT', ...json({ parentId: 'panel', maxPowerKw: 60 }) });
  assert.equal(cycle.status, 409);
  assert.equal((await cycle.json()).errors[0].field, 'body.parentId');
  const noCircuit = await admin('/api/depots/north/chargers/AC-1', { method: 'PUT', ...json({ circuitId: 'nope', stationId: 'CP-1', kind: 'AC', maxPowerKw: 11 }) });
  assert.equal(noCircuit.status, 409);
  for (const n of [1, 2]) assert.equal((await admin(`/api/depots/north/chargers/AC-${n}`, { method: 'PUT', ...json({ circuitId: 'panel', stationId: `CP-${n}`, kind: 'AC', maxPowerKw: 11, phases: 3 }) })).status, 200);
  const chargers = await (await viewer('/api/depots/north/chargers?limit=1')).json();
  assert.equal(chargers.total, 2);
  assert.equal(chargers.items.length, 1);
  assert.equal(chargers.items[0].connection.online, false);
  assert.match(chargers.items[0].connection.ocppUrl, /^ws:\/\/127\.0\.0\.1:\d+\/ocpp\/CP-1$/);
  assert.equal((await admin('/api/depots/north/chargers?limit=0')).status, 400);

  // --- tariff ---
  const badTariff = await admin('/api/depots/north/tariff', { method: 'PUT', ...json({ currency: 'EUR', defaultPricePerKwh: 0.3, rules: [{ from: '25:00', to: '07:00', pricePerKwh: 0.1 }] }) });
  assert.equal(badTariff.status, 400);
  assert.equal((await badTariff.json()).errors[0].field, 'body.rules[0].from');
  assert.equal((await admin('/api/depots/north/tariff', { method: 'PUT', ...json({ currency: 'EUR', defaultPricePerKwh: 0.3, rules: [{ from: '23:00', to: '07:00', pricePerKwh: 0.1 }] }) })).status, 200);

  // --- vehicles via CSV, with errors naming line and column ---
  const badCsv = await admin('/api/vehicles.csv', { method: 'POST', body: 'id,depotId,batteryKwh,acMaxPowerKw\nvan-1,north,70,11\nvan-2,north,lots,11\n', headers: { 'content-type': 'text/csv' } });
  assert.equal(badCsv.status, 400);
  const badCsvBody = await badCsv.json();
  assert.deepEqual(badCsvBody.errors[0], { field: 'line 3, column 3 (batteryKwh)', message: '"lots" is not a number' });
  assert.equal((await (await admin('/api/vehicles')).json()).total, 0, 'nothing imported from a bad sheet');
  const csv = 'id,depotId,name,batteryKwh,acMaxPowerKw,consumptionKwhPerKm\nvan-1,north,Van 1,70,11,0.22\nvan-2,north,"Van 2, the long one",90,11,\n';
  const imported = await admin('/api/vehicles.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
  assert.deepEqual(await imported.json(), { imported: 2, created: 2, updated: 0 });
  const exported = await (await viewer('/api/vehicles.csv?depotId=north')).text();
  assert.match(exported, /^id,depotId,name,vin,batteryKwh/);
  assert.match(exported, /"Van 2, the long one"/);
  assert.equal((await viewer('/api/vehicles.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } })).status, 403);

  // --- departures: a weekly block by distance and a one-off, both seen by the control loop ---
  const noConsumption = await admin('/api/depots/north/blocks/b2', { method: 'PUT', ...json({ vehicleId: 'van-2', days: ['mon'], departureTime: '06:00', distanceKm: 80 }) });
  assert.equal(noConsumption.status, 400);
  assert.equal((await noConsumption.json()).errors[0].field, 'body.distanceKm');
  assert.equal((await admin('/api/depots/north/blocks/b1', { method: 'PUT', ...json({ vehicleId: 'van-1', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], departureTime: '06:30', arrivalTime: '18:00', distanceKm: 100, chargerId: 'AC-1' }) })).status, 200);
  const dep = new Date(Date.now() + 5 * 3_600_000).toISOString();
  assert.equal((await admin('/api/depots/north/departures/d1', { method: 'PUT', ...json({ vehicleId: 'van-2', departureAt: dep, targetSocPercent: 90, chargerId: 'AC-2' }) })).status, 200);
  const wrongVehicle = await admin('/api/depots/north/departures/d2', { method: 'PUT', ...json({ vehicleId: 'ghost', departureAt: dep }) });
  assert.equal(wrongVehicle.status, 409);
  const upcoming = await (await viewer('/api/depots/north/departures/upcoming?limit=100')).json();
  assert.ok(upcoming.items.some((d: { kind: string; energyNeededKwh: number }) => d.kind === 'weekly' && Math.abs(d.energyNeededKwh - 22) < 1e-9));
  assert.ok(upcoming.items.some((d: { id: string }) => d.id === 'd1'));
  // The control loop plans the weekly block's next occurrence as an expected arrival on its bay (once the bay is online).
  const cp1 = await bootCharger(server.url, 'CP-1', { handlers: { SetChargingProfile: () => ({ status: 'Accepted' }), GetConfiguration: () => ({ configurationKey: [] }), TriggerMessage: () => ({ status: 'Accepted' }) } });
  t.after(() => cp1.close());
  const planned = async () => ((await (await viewer('/api/depots/north/plan')).json()).plan?.sessions ?? []).map((x: { sessionId: string }) => x.sessionId);
  const deadline = Date.now() + 5000;
  while (!(await planned()).some((id: string) => id.startsWith('exp-wk:b1:')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await planned()).some((id: string) => id.startsWith('exp-wk:b1:')), `plan sessions: ${await planned()}`);
  const depCsvBad = await admin('/api/depots/north/departures.csv', { method: 'POST', body: 'vehicleId,days,departure\nvan-1,mon fri,6:3\nvan-1,,tomorrow\n', headers: { 'content-type': 'text/csv' } });
  const depCsvBadBody = await depCsvBad.json();
  assert.equal(depCsvBad.status, 400);
  assert.deepEqual(depCsvBadBody.errors.map((e: { field: string }) => e.field), ['line 2, column departure', 'line 3, column departure']);
  const depCsv = await admin('/api/depots/north/departures.csv', { method: 'POST', body: `id,vehicleId,days,departure,arrival,energyNeededKwh\nb3,van-2,sat sun,08:00,20:00,30\nd3,van-1,,${dep},,12\n`, headers: { 'content-type': 'text/csv' } });
  assert.deepEqual(await depCsv.json(), { imported: 2, weekly: 1, oneOff: 1 });
  const depExport = await (await viewer('/api/depots/north/departures.csv')).text();
  assert.match(depExport, /b3,van-2,sun sat,08:00,20:00/);

  // --- tokens CSV ---
  const tokCsv = await admin('/api/tokens.csv', { method: 'POST', body: 'idTag,status,vehicleId\nRFID-1,Accepted,van-1\nRFID-2,Sometimes,\n', headers: { 'content-type': 'text/csv' } });
  assert.equal(tokCsv.status, 400);
  assert.equal((await tokCsv.json()).errors[0].field, 'line 3, column 2 (status)');
  assert.equal((await admin('/api/tokens.csv', { method: 'POST', body: 'idTag,status,vehicleId\nRFID-1,Accepted,van-1\n', headers: { 'content-type': 'text/csv' } })).status, 200);
  assert.match(await (await viewer('/api/tokens.csv')).text(), /RFID-1,Accepted,,,van-1/);

  // --- dispatcher may act, not configure; viewer may only look ---
  assert.equal((await dispatcher('/api/vehicles/van-1/override', { method: 'PUT', ...json({ priorityBoost: 10 }) })).status, 200);
  assert.equal((await viewer('/api/vehicles/van-1/override', { method: 'PUT', ...json({ priorityBoost: 10 }) })).status, 403);
  assert.equal((await dispatcher('/api/depots/north/mode', { method: 'PUT', ...json({ mode: 'automatic' }) })).status, 403);
  assert.equal((await admin('/api/depots/north/mode', { method: 'PUT', ...json({ mode: 'assisted' }) })).status, 200);

  // --- audit: who, what, before/after ---
  const audit = await (await dispatcher('/api/audit?limit=100')).json();
  const actions = audit.items.map((e: { action: string }) => e.action);
  for (const a of ['key.create', 'depot.create', 'circuit.create', 'charger.create', 'tariff.update', 'vehicle.import', 'block.create', 'departure.create', 'departure.import', 'token.import']) assert.ok(actions.includes(a), `audit has ${a}: ${actions}`);
  const mode = audit.items.find((e: { action: string }) => e.action === 'PUT /api/depots/:id/mode');
  assert.deepEqual([mode.actor, mode.target, mode.before, mode.after], ['admin', 'north', { mode: 'shadow' }, { mode: 'assisted' }]);
  const override = audit.items.find((e: { action: string }) => e.action === 'PUT /api/vehicles/:id/override');
  assert.equal(override.actor, (await (await dispatcher('/api/whoami')).json()).keyId);
  assert.ok(!JSON.stringify(audit).includes(secret), 'no secret in the audit log');
  assert.ok(!actions.some((a: string) => a.includes('override') && audit.items.find((e: { action: string; actor: string }) => e.action === a).actor === key.id), 'the viewer\'s refused override is not logged');
  assert.equal((await viewer('/api/audit')).status, 403);

  // --- live events ---
  const controller = new AbortController();
  const stream = await fetch(`${server.url}/api/events/stream?key=${encodeURIComponent(secret)}`, { signal: controller.signal });
  assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = stream.body!.getReader();
  let text = '';
  const until = async (pattern: RegExp) => {
    const deadline = Date.now() + 5000;
    while (!pattern.test(text) && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    return pattern.test(text);
  };
  assert.ok(await until(/event: hello\ndata: \{"role":"viewer"\}/));
  assert.ok(await until(/event: depot\ndata: \{"depotId":"north"/), text);
  text = '';
  await admin('/api/depots/north/mode', { method: 'PUT', ...json({ mode: 'automatic' }) });
  assert.ok(await until(/event: depot\ndata: \{"depotId":"north","planId":\d+,"mode":"automatic"/), text);
  controller.abort();
  assert.equal((await fetch(`${server.url}/api/events/stream?key=wrong`)).status, 401);

  // --- removing a key stops it working ---
  assert.equal((await admin(`/api/keys/${key.id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await viewer('/api/whoami')).status, 401);
}, test);
