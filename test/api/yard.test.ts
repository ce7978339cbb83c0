// The yard's REST surface: the yard-form scenario import, roles, validation, pagination, the kiosk's "which bay?".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import { captureLogs } from '../helpers/logger.ts';
import { waitFor } from '../ocpp/helpers.ts';
import { openStore } from '../../src/store/store.ts';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { importScenario } from '../../src/cli/commands/import.ts';
import { yardCharger, type TaskJson } from '../control/yard-helpers.ts';

/** A yard-form scenario: one DC charger with two CCS2 bays sharing 60 kW, two AC Type 2 bays, five vans. */
function yardScenario(nowMs: number) {
  const iso = (h: number) => new Date(nowMs + h * 3_600_000).toISOString();
  return {
    format: 'voltyard-scenario/1', name: 'Yard API depot', now: iso(0),
    depot: { id: 'ya', timeZone: 'Europe/Berlin', slotMinutes: 15, gridLimitKw: 100 },
    circuits: [{ id: 'grid', parentId: null, maxPowerKw: 120 }],
    chargers: [
      { id: 'DC-A', circuitId: 'grid', kind: 'DC', maxPowerKw: 60, bays: [{ id: 'DC-A1', type: 'CCS2', maxPowerKw: 50 }, { id: 'DC-A2', type: 'CCS2', maxPowerKw: 50 }] },
      { id: 'AC-1', circuitId: 'grid', kind: 'AC', maxPowerKw: 11, minPowerKw: 4.1, phases: 3 },
      { id: 'AC-2', circuitId: 'grid', kind: 'AC', maxPowerKw: 11, minPowerKw: 4.1, phases: 3 },
    ],
    vehicles: Array.from({ length: 5 }, (_, k) => ({ id: `van-${k + 1}`, batteryKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50, connectorTypes: k === 4 ? ['CHAdeMO'] : ['CCS2', 'Type2'] })),
    yard: {
      movePolicy: { movesPerShift: 6, shiftStarts: ['06:00', '18:00'], people: 1, minMinutesBetweenMoves: 10 },
      vehicles: [
        { vehicleId: 'van-1', departure: iso(6), socPercent: 20, targetSocPercent: 90 },
        { vehicleId: 'van-2', departure: iso(8), socPercent: 40, targetSocPercent: 90 },
        { vehicleId: 'van-3', departure: iso(10), arrival: iso(2), socPercent: 30, targetSocPercent: 90 },
        { vehicleId: 'van-4', departure: iso(12), socPercent: 50, targetSocPercent: 90, plannedBayId: 'AC-2' },
        { vehicleId: 'van-5', departure: iso(9), socPercent: 50, targetSocPercent: 80 },
      ],
    },
    tariff: { name: 'flat', currency: 'EUR', defaultPricePerKwh: 0.25, rules: [] },
  };
}

async function importYard(nowMs: number): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voltyard-yard-api-'));
  const store = await openStore({ databaseUrl: null, dataDir, logger: captureLogs().logger });
  try {
    await importScenario(store, parseScenario(yardScenario(nowMs)), 'automatic', new Date(nowMs).toISOString());
  } finally {
    await store.close();
  }
  return dataDir;
}

test('yard API: the yard-form import, tasks with pagination, roles, validation, and the kiosk by van number or token', async (t) => {
  const nowMs = Date.now();
  const server = await startTestServer({ dataDir: await importYard(nowMs) });
  t.after(() => server.stop());
  // Bays are planned only on chargers that are online.
  for (const id of ['DC-A', 'AC-1', 'AC-2']) {
    const c = await yardCharger(server.url, id);
    t.after(() => c.charger.close());
  }

  // The import kept the yard: stations with EVSEs, the shared budget, connector types, the move policy.
  const yard = await (await server.api('/api/depots/ya/yard')).json();
  assert.equal(yard.enabled, true);
  assert.deepEqual(yard.movePolicy, { movesPerShift: 6, shiftStarts: ['06:00', '18:00'], people: 1, minMinutesBetweenMoves: 10 });
  const bay = (id: string) => yard.bays.find((b: { bayId: string }) => b.bayId === id);
  assert.deepEqual(bay('DC-A2'), { bayId: 'DC-A2', stationId: 'DC-A', evseId: 2, kind: 'DC', connectorType: 'CCS2', maxPowerKw: 50, stationMaxPowerKw: 60 });
  assert.deepEqual(bay('AC-1'), { bayId: 'AC-1', stationId: 'AC-1', evseId: 1, kind: 'AC', connectorType: 'Type2', maxPowerKw: 11, stationMaxPowerKw: null });
  assert.deepEqual(yard.vehicleConnectors['van-5'], ['CHAdeMO']);

  // The control loop plans as soon as it starts: vans in the lot get bays; van-5 (CHAdeMO) cannot.
  const open = await waitFor('tasks for the vans in the lot', async () => {
    const r = await (await server.api('/api/depots/ya/yard/tasks?limit=500')).json();
    return r.items.length >= 3 ? r as { items: TaskJson[]; total: number } : null;
  });
  assert.ok(open.items.every((x) => x.vehicleId !== 'van-5'), 'no bay has a CHAdeMO connector');
  const page = await (await server.api('/api/depots/ya/yard/tasks?limit=1&offset=1')).json();
  assert.equal(page.items.length, 1);
  assert.equal(page.total, open.total);
  assert.equal(page.items[0].id, open.items[1].id);
  const van3 = await (await server.api('/api/depots/ya/yard/tasks?vehicleId=van-3')).json();
  assert.ok(van3.items.every((x: TaskJson) => x.vehicleId === 'van-3' && x.from === 'arrival'), JSON.stringify(van3.items));

  // The kiosk: by van number (any case) or by the van's RFID token; 404 for strangers.
  const k1 = await (await server.api('/api/depots/ya/bay?vehicle=VAN-1')).json();
  assert.equal(k1.vehicleId, 'van-1');
  assert.ok(k1.bayId !== null && k1.message.includes(k1.bayId), JSON.stringify(k1));
  assert.ok(k1.connectorType === 'CCS2' || k1.connectorType === 'Type2');
  assert.equal(k1.chargerId, bay(k1.bayId).stationId);
  assert.equal((await server.api('/api/tokens/RFID-0004', { method: 'PUT', body: JSON.stringify({ status: 'Accepted', vehicleId: 'van-4' }) })).status, 200);
  const k4 = await (await server.api('/api/depots/ya/bay?vehicle=RFID-0004')).json();
  assert.equal(k4.vehicleId, 'van-4');
  const k5 = await (await server.api('/api/depots/ya/bay?vehicle=van-5')).json();
  assert.equal(k5.bayId, null);
  const unknown = await server.api('/api/depots/ya/bay?vehicle=nobody');
  assert.equal(unknown.status, 404);
  assert.match(unknown.headers.get('content-type') ?? '', /problem\+json/);
  assert.equal((await server.api('/api/depots/ya/bay')).status, 400, 'vehicle is required');
  assert.equal((await server.api('/api/depots/nope/bay?vehicle=van-1')).status, 404);

  // Roles: the gate kiosk's key asks "which bay?" and learns its role and the depots' names, and gets 403 for the rest.
  const created = await (await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'gate kiosk', role: 'kiosk' }) })).json();
  assert.equal(created.key.role, 'kiosk');
  const asKiosk = (p: string, init: RequestInit = {}) => fetch(server.url + p, { ...init, headers: { authorization: `Bearer ${created.secret}`, 'content-type': 'application/json' } });
  const viaKiosk = await asKiosk('/api/depots/ya/bay?vehicle=van-1');
  assert.equal(viaKiosk.status, 200);
  const kioskAdvice = await viaKiosk.json();
  assert.equal(kioskAdvice.vehicleId, 'van-1');
  assert.ok(kioskAdvice.bayId !== null && kioskAdvice.message.includes(kioskAdvice.bayId), JSON.stringify(kioskAdvice));
  assert.deepEqual(await (await asKiosk('/api/whoami')).json(), { keyId: created.key.id, role: 'kiosk' });
  assert.deepEqual(await (await asKiosk('/api/kiosk/depots')).json(), { items: [{ id: 'ya', name: 'Yard API depot' }], total: 1, limit: 50, offset: 0 });
  for (const [method, p] of [['GET', '/api/depots/ya/yard/tasks'], ['GET', '/api/vehicles'], ['GET', '/api/vehicles/van-1'], ['GET', '/api/keys'], ['POST', '/api/keys'],
    ['GET', '/api/depots'], ['GET', '/api/depots/ya'], ['GET', '/api/depots/ya/yard'], ['GET', '/api/depots/ya/overview'], ['GET', '/api/tokens'],
    ['GET', '/api/events/stream'], ['GET', '/api/audit'], [`POST`, `/api/depots/ya/yard/tasks/${open.items[0].id}/ack`]] as const) {
    const r = await asKiosk(p, method === 'POST' ? { method, body: JSON.stringify({ name: 'mine', role: 'admin' }) } : {});
    assert.equal(r.status, 403, `${method} ${p}`);
    assert.match(r.headers.get('content-type') ?? '', /problem\+json/, `${method} ${p}`);
    assert.match((await r.json()).detail, /needs the (viewer|dispatcher|admin) role; the key has kiosk/, `${method} ${p}`);
  }
  // Still a key: without one, or with a revoked one, 401.
  assert.equal((await fetch(`${server.url}/api/kiosk/depots`)).status, 401);
  assert.equal((await server.api(`/api/keys/${created.key.id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await asKiosk('/api/depots/ya/bay?vehicle=van-1')).status, 401);
  assert.equal((await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'x', role: 'gate' }) })).status, 400, 'an unknown role');

  // A viewer key reads everything and changes nothing; acknowledging needs a dispatcher.
  const viewerKey = (await (await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'yard screen', role: 'viewer' }) })).json()).secret as string;
  const asViewer = (p: string, init: RequestInit = {}) => fetch(server.url + p, { ...init, headers: { authorization: `Bearer ${viewerKey}`, 'content-type': 'application/json' } });
  assert.equal((await fetch(`${server.url}/api/depots/ya/bay?vehicle=van-1`)).status, 401);
  assert.equal((await asViewer('/api/depots/ya/bay?vehicle=van-1')).status, 200);
  assert.equal((await asViewer('/api/depots/ya/yard/tasks')).status, 200);
  assert.equal((await asViewer('/api/kiosk/depots')).status, 200, 'a role above kiosk may do what a kiosk does');
  const id = open.items[0].id;
  assert.equal((await asViewer(`/api/depots/ya/yard/tasks/${id}/ack`, { method: 'POST', body: '{}' })).status, 403);
  assert.equal((await asViewer('/api/depots/ya/yard/policy', { method: 'PUT', body: '{}' })).status, 403);
  const ack = await server.api(`/api/depots/ya/yard/tasks/${id}/ack`, { method: 'POST' });
  assert.equal(ack.status, 200);
  assert.equal((await ack.json()).acknowledgedBy, 'admin', 'without a name: the key');
  assert.equal((await server.api('/api/depots/ya/yard/tasks/99999/ack', { method: 'POST' })).status, 404);
  assert.equal((await server.api('/api/depots/ya/yard/tasks/abc/ack', { method: 'POST' })).status, 400);

  // Settings are validated and name the field.
  const badPolicy = await server.api('/api/depots/ya/yard/policy', { method: 'PUT', body: JSON.stringify({ shiftStarts: ['25:00'] }) });
  assert.equal(badPolicy.status, 400);
  assert.match(JSON.stringify(await badPolicy.json()), /shiftStarts/);
  assert.equal((await server.api('/api/depots/ya/yard/policy', { method: 'PUT', body: JSON.stringify({ movesPerShift: -1 }) })).status, 400);
  const badType = await server.api('/api/depots/ya/yard/connectors', { method: 'PUT', body: JSON.stringify({ chargers: { 'AC-1': 'Schuko' } }) });
  assert.equal(badType.status, 400);
  const noBay = await server.api('/api/depots/ya/yard/connectors', { method: 'PUT', body: JSON.stringify({ chargers: { 'AC-9': 'Type2' } }) });
  assert.equal(noBay.status, 400);
  assert.match(JSON.stringify(await noBay.json()), /AC-9/);
  assert.equal((await server.api('/api/depots/ya/stations/nowhere/budget', { method: 'PUT', body: JSON.stringify({ maxPowerKw: 20 }) })).status, 400);
  assert.equal((await server.api('/api/depots/ya/stations/DC-A/budget', { method: 'PUT', body: JSON.stringify({ maxPowerKw: 0 }) })).status, 400);

  // Giving van-5 an inlet a bay has makes it plannable.
  assert.equal((await server.api('/api/depots/ya/yard/connectors', { method: 'PUT', body: JSON.stringify({ vehicles: { 'van-5': ['CHAdeMO', 'Type2'] } }) })).status, 200);
  await waitFor('van-5 planned onto a Type 2 bay', async () => {
    const r = await (await server.api('/api/depots/ya/bay?vehicle=van-5')).json();
    return r.bayId !== null && r.connectorType === 'Type2';
  });
  // A new budget for the DC station takes effect in the next plan.
  assert.equal((await server.api('/api/depots/ya/stations/DC-A/budget', { method: 'PUT', body: JSON.stringify({ maxPowerKw: 40 }) })).status, 200);
  await waitFor('the budget in the yard view', async () => (await (await server.api('/api/depots/ya/yard')).json()).bays.find((b: { bayId: string }) => b.bayId === 'DC-A1').stationMaxPowerKw === 40);
  // Turning the yard off supersedes what is open.
  assert.equal((await server.api('/api/depots/ya/yard/policy', { method: 'DELETE' })).status, 204);
  assert.equal((await (await server.api('/api/depots/ya/yard/tasks')).json()).total, 0);
  assert.equal((await (await server.api('/api/depots/ya/yard')).json()).enabled, false);
});

test('yard API: the kiosk answer for a van that is plugged in comes from the charger, not the plan', async (t) => {
  const nowMs = Date.now();
  const server = await startTestServer({ dataDir: await importYard(nowMs) });
  t.after(() => server.stop());
  const ac2 = await yardCharger(server.url, 'AC-2');
  t.after(() => ac2.charger.close());
  await ac2.plug('van-2');
  await waitFor('van-2 on AC-2', async () => (await (await server.api('/api/depots/ya/bay?vehicle=van-2')).json()).bayId === 'AC-2');
  const k = await (await server.api('/api/depots/ya/bay?vehicle=van-2')).json();
  assert.match(k.message, /plugged in at AC-2/);
  assert.equal(k.connectorType, 'Type2');
});
