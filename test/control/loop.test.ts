import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger, connectCharger, type TestCharger } from '../helpers/charger.ts';
import { startOcppServer, waitFor, type OcppTestServer } from '../ocpp/helpers.ts';
import { importInto, smallDepot } from './helpers.ts';

interface ProfileCall { connectorId: number; csChargingProfiles: { chargingProfilePurpose: string; chargingProfileId: number; transactionId?: number; chargingSchedule: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] } } }

/** A charger that accepts profiles and reports its composite schedule as the lowest limit in force, like a real one. */
async function smartCharger(server: OcppTestServer, id: string, options: { onlyAmperes?: boolean; reconnect?: boolean } = {}) {
  const profiles: ProfileCall[] = [];
  const charger: TestCharger = await (options.reconnect ? connectCharger : bootCharger)(server.url, id, {
    handlers: {
      SetChargingProfile: (p: ProfileCall) => {
        if (options.onlyAmperes && p.csChargingProfiles.chargingSchedule.chargingRateUnit !== 'A') return { status: 'Rejected' };
        profiles.push(p);
        return { status: 'Accepted' };
      },
      GetConfiguration: () => ({ configurationKey: [{ key: 'ChargingScheduleMaxPeriods', readonly: true, value: '24' }, { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: options.onlyAmperes ? 'Current' : 'Current,Power' }] }),
      TriggerMessage: () => ({ status: 'Accepted' }),
      GetCompositeSchedule: () => {
        const tx = [...profiles].reverse().find((p) => p.csChargingProfiles.chargingProfilePurpose === 'TxProfile');
        const max = [...profiles].reverse().find((p) => p.csChargingProfiles.chargingProfilePurpose === 'ChargePointMaxProfile');
        const limits = [tx, max].filter(Boolean).map((p) => p!.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit);
        const unit = (tx ?? max)!.csChargingProfiles.chargingSchedule.chargingRateUnit;
        return { status: 'Accepted', connectorId: 1, scheduleStart: new Date().toISOString(), chargingSchedule: { chargingRateUnit: unit, chargingSchedulePeriod: [{ startPeriod: 0, limit: Math.min(...limits) }] } };
      },
    },
  });
  return { charger, profiles, txProfiles: () => profiles.filter((p) => p.csChargingProfiles.chargingProfilePurpose === 'TxProfile') };
}

test('fail-safe first, then every plugged van gets its own profile within 2 s, and the site limit holds', async () => {
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 3, gridLimitKw: 12 }));
  const server = await startOcppServer({ dataDir });
  try {
    const chargers = await Promise.all(['AC-1', 'AC-2', 'AC-3'].map((id) => smartCharger(server, id)));
    // Fail-safe: a station-wide maximum and a default for new sessions, each the station's share of 12 kW.
    await waitFor('fail-safe profiles', () => chargers.every((c) => c.profiles.length >= 2));
    for (const c of chargers) {
      const [max, def] = c.profiles;
      assert.equal(max.connectorId, 0);
      assert.equal(max.csChargingProfiles.chargingProfilePurpose, 'ChargePointMaxProfile');
      assert.equal(def.csChargingProfiles.chargingProfilePurpose, 'TxDefaultProfile');
      assert.equal(max.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit, 4000, '12 kW shared by three 7.2 kW chargers');
    }
    const plugged = Date.now();
    const txIds = await Promise.all(chargers.map((c, k) => c.charger.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() })));
    assert.ok(txIds.every((t) => t.idTagInfo.status === 'Accepted'));
    await waitFor('a Tx profile on every charger', () => chargers.every((c) => c.txProfiles().length >= 1), 5000);
    assert.ok(Date.now() - plugged < 2000, `profiles after ${Date.now() - plugged} ms`);
    const firstLimitsW = chargers.map((c) => c.txProfiles().at(-1)!.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit);
    assert.ok(firstLimitsW.reduce((a, b) => a + b, 0) <= 12_000 + 1, `limits ${firstLimitsW}`);
    chargers.forEach((c, k) => assert.equal(c.txProfiles().at(-1)!.csChargingProfiles.transactionId, txIds[k].transactionId));

    const why = await (await server.api('/api/vehicles/van-1/why')).json();
    assert.equal(why.identifiedBy, 'token');
    assert.equal(why.chargerId, 'AC-1');
    assert.match(why.explanation, /van-1 is on AC-1/);
    assert.ok(Array.isArray(why.trace) && why.trace.length > 0);

    const readiness = await (await server.api('/api/depots/small/readiness')).json();
    assert.equal(readiness.items.length, 3);
    assert.ok(readiness.items.every((r: { risk: string }) => r.risk === 'ready'));
    const commands = await (await server.api('/api/depots/small/commands')).json();
    assert.ok(commands.items.some((c: { command: { type: string }; outcome: string }) => c.command.type === 'SetChargingProfile' && c.outcome === 'Accepted'));
    const plan = await (await server.api('/api/depots/small/plan')).json();
    assert.ok(plan.plan.siteLoadKw.every((kw: number) => kw <= 12 + 1e-6));
    for (const c of chargers) await c.charger.close();
  } finally {
    await server.stop();
  }
});

test('an unknown token charges under conservative defaults with an alert; shadow mode sends nothing', async () => {
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 1, bays: 2 }), 'shadow');
  const server = await startOcppServer({ dataDir });
  try {
    const a = await smartCharger(server, 'AC-2');
    const b = await smartCharger(server, 'AC-1');
    // AC-2 expects nobody: a token nobody knows there is an unknown vehicle.
    await a.charger.call('StartTransaction', { connectorId: 1, idTag: 'STRANGER', meterStart: 0, timestamp: new Date().toISOString() });
    await b.charger.call('StartTransaction', { connectorId: 1, idTag: 'van-1', meterStart: 0, timestamp: new Date().toISOString() });
    await waitFor('an unknown-vehicle alert', async () => (await (await server.api('/api/alerts?open=true')).json()).items.find((x: { kind: string }) => x.kind === 'unknown-vehicle'));
    const plan = await (await server.api('/api/depots/small/plan')).json();
    assert.equal(plan.mode, 'shadow');
    assert.equal(plan.plan.sessions.length, 2, 'planned and recorded');
    assert.deepEqual([...a.profiles, ...b.profiles], [], 'shadow mode sent no profile at all');

    // Automatic from now on: the same state becomes profiles.
    assert.equal((await server.api('/api/depots/small/mode', { method: 'PUT', body: JSON.stringify({ mode: 'automatic' }) })).status, 200);
    await waitFor('profiles once automatic', () => a.txProfiles().length > 0 && b.txProfiles().length > 0);
    const alert = (await (await server.api('/api/alerts?open=true')).json()).items.find((x: { kind: string }) => x.kind === 'unknown-vehicle');
    const ack = await server.api(`/api/alerts/${alert.id}/ack`, { method: 'POST' });
    assert.equal((await ack.json()).acknowledgedBy, 'admin');
    await a.charger.close();
    await b.charger.close();
  } finally {
    await server.stop();
  }
});

test('a charger that only takes amperes gets its limits in A after one rejection', async () => {
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 1 }));
  const server = await startOcppServer({ dataDir });
  try {
    const c = await smartCharger(server, 'AC-1', { onlyAmperes: true });
    await c.charger.call('StartTransaction', { connectorId: 1, idTag: 'van-1', meterStart: 0, timestamp: new Date().toISOString() });
    await waitFor('an A profile', () => c.txProfiles().length > 0);
    const tx = c.txProfiles().at(-1)!.csChargingProfiles.chargingSchedule;
    assert.equal(tx.chargingRateUnit, 'A');
    assert.ok(tx.chargingSchedulePeriod[0].limit <= 7200 / 230 + 0.1, `${tx.chargingSchedulePeriod[0].limit} A`);
    await c.charger.close();
  } finally {
    await server.stop();
  }
});

const lastTx = (c: { txProfiles(): ProfileCall[] }) => c.txProfiles().at(-1)!.csChargingProfiles;
const nowLimitW = (c: { txProfiles(): ProfileCall[] }) => lastTx(c).chargingSchedule.chargingSchedulePeriod[0].limit;

test('a charger going offline mid-session: the plan keeps room for what it still runs, the others are re-planned, an alert is raised', async () => {
  const nowMs = Date.now();
  // van-3 leaves first, so AC-3 is charging when it drops off.
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 3, gridLimitKw: 12, departuresH: [8, 9, 3] }));
  const server = await startOcppServer({ dataDir });
  try {
    const chargers = await Promise.all(['AC-1', 'AC-2', 'AC-3'].map((id) => smartCharger(server, id)));
    await Promise.all(chargers.map((c, k) => c.charger.call('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() })));
    await waitFor('Tx profiles', () => chargers.every((c) => c.txProfiles().length >= 1));
    await server.services.bus.drain();
    const runningKw = nowLimitW(chargers[2]) / 1000;
    assert.ok(runningKw > 0);
    const before = (await (await server.api('/api/depots/small/plan')).json()).planId;
    await chargers[2].charger.close();
    await waitFor('a charger-down alert', async () => (await (await server.api('/api/alerts?open=true')).json()).items.find((a: { kind: string; chargerId: string }) => a.kind === 'charger-down' && a.chargerId === 'AC-3'));
    const after = await (await server.api('/api/depots/small/plan')).json();
    assert.ok(after.planId > before);
    assert.deepEqual(after.plan.sessions.map((s: { chargerId: string }) => s.chargerId).sort(), ['AC-1', 'AC-2'], 'the offline charger is out of the plan');
    // Site load in the plan includes what AC-3 may still draw, and the whole stays under 12 kW.
    assert.ok(after.plan.siteLoadKw[0] <= 12 + 1e-6);
    const reserve = after.plan.siteLoadKw[0] - after.plan.circuits.find((c: { circuitId: string }) => c.circuitId === 'panel').loadKw[0];
    assert.ok(Math.abs(reserve - runningKw) < 0.2, `room kept for the offline charger: ${reserve} kW, it runs ${runningKw} kW`);
    for (const c of chargers.slice(0, 2)) await c.charger.close();
  } finally {
    await server.stop();
  }
});

test('a late high-priority arrival takes power from vans that can wait', async () => {
  // van-3 was due an hour ago (so no room is kept for it any more); it shows up now and leaves in 1.5 h.
  const nowMs = Date.now();
  const scenario = smallDepot(nowMs, { n: 3, gridLimitKw: 8, departuresH: [3, 3.5, 1.5], arrivalsH: [0, 0, -1], priorities: [0, 0, 5] });
  const dataDir = await importInto(null, scenario);
  const server = await startOcppServer({ dataDir });
  try {
    const chargers = await Promise.all(['AC-1', 'AC-2', 'AC-3'].map((id) => smartCharger(server, id)));
    await Promise.all(chargers.slice(0, 2).map((c, k) => c.charger.call('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() })));
    await waitFor('the first two have profiles', () => chargers.slice(0, 2).every((c) => c.txProfiles().length >= 1));
    const early = chargers.slice(0, 2).map(nowLimitW);
    await chargers[2].charger.call('StartTransaction', { connectorId: 1, idTag: 'van-3', meterStart: 0, timestamp: new Date().toISOString() });
    await waitFor('van-3 has a profile', () => chargers[2].txProfiles().length >= 1);
    await server.services.bus.drain();
    const urgent = nowLimitW(chargers[2]);
    const others = chargers.slice(0, 2).map(nowLimitW);
    assert.ok(urgent >= 7000, `van-3 leaves in 1.5 h with priority: ${urgent} W`);
    assert.ok(others.reduce((a, b) => a + b, 0) < early.reduce((a, b) => a + b, 0), `the others gave way: ${early} -> ${others}`);
    assert.ok(urgent + others.reduce((a, b) => a + b, 0) <= 8000 + 1);
    for (const c of chargers) await c.charger.close();
  } finally {
    await server.stop();
  }
});

test('a Voltyard restart in the middle of the night: sessions are rebuilt from the store and the chargers, profiles re-applied', async () => {
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 2, gridLimitKw: 10 }));
  const first = await startOcppServer({ dataDir });
  const txIds: number[] = [];
  try {
    const chargers = await Promise.all(['AC-1', 'AC-2'].map((id) => smartCharger(first, id)));
    for (const [k, c] of chargers.entries()) txIds.push((await c.charger.call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() })).transactionId);
    await waitFor('Tx profiles', () => chargers.every((c) => c.txProfiles().length >= 1));
    for (const c of chargers) await c.charger.close();
  } finally {
    await first.stop({ keepData: true });
  }
  const second = await startOcppServer({ dataDir });
  try {
    // The chargers reconnect without rebooting: their transactions go on.
    const chargers = await Promise.all(['AC-1', 'AC-2'].map((id) => smartCharger(second, id, { reconnect: true })));
    await waitFor('Tx profiles again after the restart', () => chargers.every((c) => c.txProfiles().length >= 1), 8000);
    chargers.forEach((c, k) => assert.equal(lastTx(c).transactionId, txIds[k]));
    assert.ok(chargers.every((c) => c.profiles.some((p) => p.csChargingProfiles.chargingProfilePurpose === 'ChargePointMaxProfile')), 'fail-safe set again');
    const why = await (await second.api('/api/vehicles/van-2/why')).json();
    assert.equal(why.identifiedBy, 'token');
    for (const c of chargers) await c.charger.close();
  } finally {
    await second.stop();
  }
});

test('40 plug-ins within one second give one re-plan, and every one of them has its profile within 2 s', async () => {
  const nowMs = Date.now();
  const n = 40;
  const dataDir = await importInto(null, smallDepot(nowMs, { n, gridLimitKw: 150 }));
  const server = await startOcppServer({ dataDir, logLevel: 'info' });
  try {
    const chargers = await Promise.all(Array.from({ length: n }, (_, k) => smartCharger(server, `AC-${k + 1}`)));
    await waitFor('fail-safe everywhere', () => chargers.every((c) => c.profiles.length >= 2), 15_000);
    const plane = server.services.provided.controlPlane!;
    const controller = (await plane.controller('small'))!;
    await controller.settled();
    await new Promise((r) => setTimeout(r, 600));
    await controller.settled();
    const replansBefore = controller.replans;
    const plugged: number[] = [];
    // All 40 within one second, spread out like drivers arriving in a rush.
    await Promise.all(chargers.map(async (c, k) => {
      await new Promise((r) => setTimeout(r, k * 24));
      plugged[k] = Date.now();
      await c.charger.call('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() });
    }));
    const got: number[] = [];
    await waitFor('a Tx profile on all 40', () => {
      chargers.forEach((c, k) => { if (got[k] === undefined && c.txProfiles().length > 0) got[k] = Date.now(); });
      return got.filter((x) => x !== undefined).length === n;
    }, 10_000);
    await controller.settled();
    const worst = Math.max(...got.map((t, k) => t - plugged[k]));
    assert.equal(controller.replans - replansBefore, 1, `re-plans for the burst: ${controller.replans - replansBefore}`);
    assert.ok(worst < 2000, `slowest profile ${worst} ms after its plug-in`);
    await Promise.all(chargers.map((c) => c.charger.close()));
  } finally {
    await server.stop();
  }
});

test('a bay assignment identifies the vehicle when its token does not', async () => {
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 1, bays: 2 }));
  const server = await startOcppServer({ dataDir });
  try {
    const put = await server.api('/api/depots/small/bays/AC-2', { method: 'PUT', body: JSON.stringify({ vehicleId: 'van-1' }) });
    assert.equal(put.status, 200);
    const bays = await (await server.api('/api/depots/small/bays')).json();
    assert.deepEqual(bays.items.map((b: { chargerId: string; vehicleId: string | null }) => [b.chargerId, b.vehicleId]), [['AC-1', null], ['AC-2', 'van-1']]);
    const c = await smartCharger(server, 'AC-2');
    await c.charger.call('StartTransaction', { connectorId: 1, idTag: 'CARD-LOST', meterStart: 0, timestamp: new Date().toISOString() });
    await waitFor('a Tx profile', () => c.txProfiles().length > 0);
    const why = await (await server.api('/api/vehicles/van-1/why')).json();
    assert.equal(why.identifiedBy, 'bay');
    assert.equal(why.chargerId, 'AC-2');
    assert.equal((await server.api('/api/depots/small/bays/AC-9', { method: 'PUT', body: JSON.stringify({ vehicleId: 'van-1' }) })).status, 404);
    await c.charger.close();
  } finally {
    await server.stop();
  }
});

test('a vehicle nobody scheduled that reports its needs over OCPP 2.0.1 (ISO 15118) is planned with them', async () => {
  const nowMs = Date.now();
  const { bootCharger201, txEvent } = await import('../ocpp/v201.ts');
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 0, bays: 1 }));
  const server = await startOcppServer({ dataDir });
  try {
    const profiles: unknown[] = [];
    const cp = await bootCharger201(server.url, 'AC-1', { handlers: { SetChargingProfile: (p: never) => { profiles.push(p); return { status: 'Accepted' }; } } });
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'EV-77', seqNo: 0, timestamp: new Date().toISOString(), evseId: 1, idToken: 'GUEST', meter: [{ wh: 1000 }] }));
    const leaves = new Date(Math.ceil((nowMs + 3 * 3_600_000) / 60_000) * 60_000).toISOString();
    await cp.call('NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', departureTime: leaves, acChargingParameters: { energyAmount: 18_000, evMinCurrent: 6, evMaxCurrent: 10, evMaxVoltage: 400 } } });
    const planned = await waitFor('a plan with the vehicle\'s own needs', async () => {
      const p = await (await server.api('/api/depots/small/plan')).json();
      const s = p.plan?.sessions?.[0];
      return s && Math.abs(s.departureMs - Date.parse(leaves)) < 1000 ? s : null;
    });
    assert.ok(Math.abs(planned.neededKwh - 18 / 0.9) < 0.1, `needs ${planned.neededKwh} kWh (18 kWh into the battery)`);
    assert.ok(Math.max(...planned.powerKw) <= 3 * 10 * 0.23 + 1e-6, 'never above what the vehicle can take: 10 A on three phases');
    await waitFor('a Tx profile', () => profiles.length > 0);
    await cp.close();
  } finally {
    await server.stop();
  }
});
