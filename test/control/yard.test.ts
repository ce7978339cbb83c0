// Issue 9 end to end: the control loop plans bays and yard moves for a depot with a move policy, over real OCPP
// WebSockets, and follows what people really do (late, skipped, wrong bay), with connector types and a shared budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOcppServer, onBothStores, waitFor, type OcppTestServer } from '../ocpp/helpers.ts';
import { yardCharger, yardDepot, type TaskJson } from './yard-helpers.ts';

const tasksOf = async (server: OcppTestServer, query = ''): Promise<TaskJson[]> => {
  const r = await server.api(`/api/depots/yard/yard/tasks?limit=500${query}`);
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()).items;
};
const openFor = async (server: OcppTestServer, vehicleId: string) => (await tasksOf(server)).filter((t) => t.vehicleId === vehicleId);
const planId = async (server: OcppTestServer) => (await (await server.api('/api/depots/yard/plan')).json()).planId as number;

onBothStores('yard: vans in the lot get plug tasks; a task is done when its van shows up on its bay; a wrong bay is taken as it is', async (t, overrides) => {
  const nowMs = Date.now();
  const dataDir = await yardDepot(nowMs, { vans: 3, bays: 3, databaseUrl: overrides.databaseUrl ?? null });
  const server = await startOcppServer({ ...overrides, dataDir });
  const chargers = new Map<string, Awaited<ReturnType<typeof yardCharger>>>();
  // Stopped here, not in t.after: onBothStores drops the PostgreSQL database when this function returns.
  try {
    for (const id of ['AC-1', 'AC-2', 'AC-3']) chargers.set(id, await yardCharger(server.url, id));
    await wrongBay(server, chargers);
  } finally {
    for (const c of chargers.values()) await c.charger.close();
    await server.stop();
  }
}, test);

async function wrongBay(server: OcppTestServer, chargers: Map<string, Awaited<ReturnType<typeof yardCharger>>>): Promise<void> {

  // Three vans back in the lot, three free bays: once every charger is online, every van is told where to go, each
  // to a bay of its own (while only some are online, the plan queues vans on those).
  const first = await waitFor('a plug task per van, each to its own bay', async () => {
    const open = await tasksOf(server);
    const bays = ['van-1', 'van-2', 'van-3'].map((v) => open.filter((x) => x.vehicleId === v).map((x) => x.bayId));
    return bays.every((b) => b.length === 1) && new Set(bays.flat()).size === 3 ? open : null;
  }, 10_000);
  const bayOf = (v: string) => first.find((x) => x.vehicleId === v)!.bayId;
  for (const x of first) assert.ok(x.text.includes(x.vehicleId) && x.text.includes(x.bayId), x.text);

  // Readiness and the overview name every van of the yard plan, plugged in or not.
  await waitFor('readiness for all three', async () => {
    const r = await (await server.api('/api/depots/yard/readiness')).json();
    return ['van-1', 'van-2', 'van-3'].every((v) => r.items.some((x: { vehicleId: string | null }) => x.vehicleId === v));
  });
  // The kiosk agrees with the task list.
  const kiosk = await (await server.api(`/api/depots/yard/bay?vehicle=van-3`)).json();
  assert.equal(kiosk.bayId, bayOf('van-3'));
  assert.equal(kiosk.connectorType, 'Type2');

  // van-1 plugs in where it was told: its task closes as done, and it charges under a profile.
  const van1Bay = bayOf('van-1');
  const tx1 = await chargers.get(van1Bay)!.plug('van-1');
  await waitFor('van-1\'s task done', async () => (await tasksOf(server, '&open=false')).find((x) => x.vehicleId === 'van-1' && x.status === 'done'));
  await waitFor('a profile for van-1', () => chargers.get(van1Bay)!.tx().some((p) => p.csChargingProfiles.transactionId === tx1));

  // van-2 takes van-3's bay. Its token says who it is; the plan takes it there and sends van-3 elsewhere.
  const van3Bay = bayOf('van-3');
  const tx2 = await chargers.get(van3Bay)!.plug('van-2');
  await waitFor('a profile for van-2 on the bay it chose', () => chargers.get(van3Bay)!.tx().some((p) => p.csChargingProfiles.transactionId === tx2));
  const after = await waitFor('van-3 sent to another bay', async () => {
    const open = await openFor(server, 'van-3');
    return open.length > 0 && open.every((x) => x.bayId !== van3Bay) ? open : null;
  });
  assert.ok(after.every((x) => x.bayId !== van1Bay), 'not onto van-1\'s bay either');
  const closed = await tasksOf(server, '&open=false');
  assert.ok(!closed.some((x) => x.vehicleId === 'van-2' && x.status === 'done'), 'van-2 is not on its planned bay: its task is not done');
  assert.ok(closed.some((x) => x.vehicleId === 'van-2' && x.status === 'superseded'), 'its old task is superseded');
  assert.deepEqual(await openFor(server, 'van-2'), [], 'nothing left for van-2: it charges where it is');
  const why = await (await server.api('/api/vehicles/van-2/why')).json();
  assert.equal(why.chargerId, van3Bay);
  assert.equal(why.identifiedBy, 'token');
}

test('yard: a late move stays open, a skipped one closes and the yard is re-planned from where the vans are; acknowledgements name who', async (t) => {
  const nowMs = Date.now();
  // One bay, two vans: van-1 (leaves first) is told to plug in; van-2 waits in the lot.
  const dataDir = await yardDepot(nowMs, { vans: 2, bays: 1, departuresH: [6, 12], movePolicy: { minGainKwhPerMove: 1 } });
  const server = await startOcppServer({ dataDir });
  t.after(() => server.stop());
  const bay = await yardCharger(server.url, 'AC-1');
  t.after(() => bay.charger.close());

  const task = await waitFor('van-1 told to plug into AC-1', async () => (await openFor(server, 'van-1')).find((x) => x.bayId === 'AC-1'));
  const kiosk2 = await (await server.api('/api/depots/yard/bay?vehicle=van-2')).json();
  assert.ok(!(kiosk2.action === 'plug' && kiosk2.bayId === 'AC-1'), `van-2 is not sent to the bay van-1 is told to take now: ${JSON.stringify(kiosk2)}`);

  // Nobody does it. Later re-plans (here: a dispatcher override elsewhere) keep the move open: it is late, not gone.
  const before = await planId(server);
  assert.equal((await server.api('/api/vehicles/van-2/override', { method: 'PUT', body: JSON.stringify({ priorityBoost: 0 }) })).status, 200);
  await waitFor('a new plan', async () => (await planId(server)) > before);
  const still = await openFor(server, 'van-1');
  assert.ok(still.some((x) => x.bayId === 'AC-1'), `van-1's move is still open: ${JSON.stringify(still)}`);
  assert.ok(!(await tasksOf(server, '&open=false')).some((x) => x.vehicleId === 'van-1' && x.status === 'done'));

  // Someone takes it on…
  const ackId = still.find((x) => x.bayId === 'AC-1')!.id;
  const ack = await server.api(`/api/depots/yard/yard/tasks/${ackId}/ack`, { method: 'POST', body: JSON.stringify({ by: 'Sam' }) });
  assert.equal(ack.status, 200);
  assert.equal((await ack.json()).acknowledgedBy, 'Sam');
  assert.equal((await server.api(`/api/depots/yard/yard/tasks/${ackId}/ack`, { method: 'POST', body: '{}' })).status, 409, 'acknowledged once');
  // …and skips it: the yard re-plans at once from the lot.
  const p0 = await planId(server);
  const skip = await server.api(`/api/depots/yard/yard/tasks/${ackId}/skip`, { method: 'POST', body: JSON.stringify({ by: 'Sam' }) });
  assert.equal(skip.status, 200);
  const skipped = await skip.json();
  assert.equal(skipped.status, 'skipped');
  assert.equal(skipped.closedBy, 'Sam');
  await waitFor('a re-plan after the skip', async () => (await planId(server)) > p0);
  assert.equal((await server.api(`/api/depots/yard/yard/tasks/${ackId}/done`, { method: 'POST', body: '{}' })).status, 409, 'a skipped task stays skipped');
  const row = (await tasksOf(server, '&open=false')).find((x) => x.id === ackId);
  assert.equal(row?.status, 'skipped');
  // The plan starts from reality: van-1 is still in the lot and still needs a bay, so it is planned onto one again.
  await waitFor('van-1 planned again from the lot', async () => (await openFor(server, 'van-1')).find((x) => x.from === 'lot' && x.id !== ackId));
  assert.ok(task.kind === 'plug' || task.kind === 'swap', task.kind);
});

test('yard: a badge nobody knows, plugged into the bay planned for a van about now, is taken as that van', async (t) => {
  const nowMs = Date.now();
  const dataDir = await yardDepot(nowMs, { vans: 2, bays: 2 });
  const server = await startOcppServer({ dataDir });
  t.after(() => server.stop());
  const chargers = new Map<string, Awaited<ReturnType<typeof yardCharger>>>();
  for (const id of ['AC-1', 'AC-2']) chargers.set(id, await yardCharger(server.url, id));
  t.after(async () => { for (const c of chargers.values()) await c.charger.close(); });
  const task = await waitFor('a bay each for van-1 and van-2', async () => {
    const open = await tasksOf(server);
    const mine = open.filter((x) => x.vehicleId === 'van-2');
    return mine.length === 1 && open.some((x) => x.vehicleId === 'van-1' && x.bayId !== mine[0].bayId) ? mine[0] : null;
  }, 10_000);
  // A driver with a spare badge: the token says nothing, the yard plan says who belongs on that bay now.
  await chargers.get(task.bayId)!.plug('SPARE-BADGE');
  const why = await waitFor('van-2 identified', async () => {
    const r = await server.api('/api/vehicles/van-2/why');
    const w = r.status === 200 ? await r.json() : null;
    return w?.identifiedBy === 'bay' ? w : null;
  });
  assert.equal(why.chargerId, task.bayId);
  await waitFor('its task done', async () => (await tasksOf(server, '&open=false')).find((x) => x.id === task.id && x.status === 'done'));
});

test('yard: a van whose connector no bay has is never sent to one; plugged in anyway, it is taken as it is', async (t) => {
  const nowMs = Date.now();
  const dataDir = await yardDepot(nowMs, { vans: 2, bays: 2, vehicleTypes: { 'van-1': ['CCS2', 'Type2'], 'van-2': ['CHAdeMO'] } });
  const server = await startOcppServer({ dataDir });
  t.after(() => server.stop());
  const a = await yardCharger(server.url, 'AC-1');
  const b = await yardCharger(server.url, 'AC-2');
  t.after(async () => { await a.charger.close(); await b.charger.close(); });

  await waitFor('van-1 gets a bay', async () => (await openFor(server, 'van-1')).length > 0);
  const p = await planId(server);
  await waitFor('a settled plan', async () => (await planId(server)) >= p);
  assert.deepEqual(await openFor(server, 'van-2'), [], 'no Type 2 bay for a CHAdeMO-only van');
  const kiosk = await (await server.api('/api/depots/yard/bay?vehicle=van-2')).json();
  assert.equal(kiosk.bayId, null);
  assert.match(kiosk.message, /lot/);
  const yard = await (await server.api('/api/depots/yard/yard')).json();
  assert.ok(yard.enabled);
  assert.ok(yard.waiting.some((w: { vehicleId: string }) => w.vehicleId === 'van-2'), JSON.stringify(yard));

  // The configuration was wrong (an adapter, a mislabelled van): it is plugged in after all, and charges.
  const bayForVan1 = (await openFor(server, 'van-1'))[0].bayId;
  const other = bayForVan1 === 'AC-1' ? b : a;
  const tx = await other.plug('van-2');
  await waitFor('a profile for van-2 where it is', () => other.tx().some((x) => x.csChargingProfiles.transactionId === tx));
  const kiosk2 = await (await server.api('/api/depots/yard/bay?vehicle=van-2')).json();
  assert.equal(kiosk2.bayId, bayForVan1 === 'AC-1' ? 'AC-2' : 'AC-1');
  assert.match(kiosk2.message, /plugged in/);
});

test('yard: two EVSEs of one station never get more than the station budget together, with and without yard planning', async (t) => {
  const nowMs = Date.now();
  // AC-1 and AC-2 are EVSEs 1 and 2 of station ST-1 (2 × 7.2 kW rated) sharing 8 kW; the site could give far more.
  const dataDir = await yardDepot(nowMs, { vans: 2, bays: 2, gridLimitKw: 40, departuresH: [3, 3], station: { id: 'ST-1', bays: [1, 2], maxPowerKw: 8 } });
  const server = await startOcppServer({ dataDir });
  t.after(() => server.stop());
  const st = await yardCharger(server.url, 'ST-1');
  t.after(() => st.charger.close());

  // The station maximum (what holds if Voltyard stops) is the budget, not the ratings' sum.
  await waitFor('fail-safe station maximum', () => st.stationMax().length > 0);
  for (const p of st.stationMax()) assert.ok(p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit <= 8000 + 1, JSON.stringify(p));

  const tx1 = await st.plug('van-1', 1);
  const tx2 = await st.plug('van-2', 2);
  const latest = (connectorId: number, tx: number) => st.tx(connectorId).filter((p) => p.csChargingProfiles.transactionId === tx).at(-1);
  const check = async (label: string) => {
    await waitFor(`${label}: profiles on both EVSEs`, () => latest(1, tx1) && latest(2, tx2));
    const plan = (await (await server.api('/api/depots/yard/plan')).json()).plan as { slotStartsMs: number[]; sessions: { chargerId: string; powerKw: number[] }[] };
    for (let s = 0; s < plan.slotStartsMs.length - 1; s++) {
      const kw = plan.sessions.filter((x) => x.chargerId === 'AC-1' || x.chargerId === 'AC-2').reduce((a, x) => a + (x.powerKw[s] ?? 0), 0);
      assert.ok(kw <= 8 + 1e-6, `${label}: slot ${s} plans ${kw} kW on ST-1`);
    }
    // Both vans want all they can get (3 h to departure): the plan gives the station its whole budget.
    assert.ok(plan.sessions.filter((x) => x.chargerId.startsWith('AC-')).reduce((a, x) => a + x.powerKw[0], 0) > 7, `${label}: the budget is used`);
    // One profile id per EVSE: a charger replaces a profile of the same id on any connector.
    assert.notEqual(latest(1, tx1)!.csChargingProfiles.chargingProfileId, latest(2, tx2)!.csChargingProfiles.chargingProfileId);
    const sumW = latest(1, tx1)!.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit + latest(2, tx2)!.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit;
    assert.ok(sumW <= 8000 + 1, `${label}: Tx limits add up to ${sumW} W`);
  };
  await check('with yard planning');
  // Without a move policy the depot plans the bays as they are: the budget still holds.
  const before = st.profiles.length;
  assert.equal((await server.api('/api/depots/yard/yard/policy', { method: 'DELETE' })).status, 204);
  await waitFor('a plan without the yard', async () => !(await (await server.api('/api/depots/yard/yard')).json()).enabled);
  await waitFor('a new plan', () => st.profiles.length >= before);
  await check('without yard planning');
});
