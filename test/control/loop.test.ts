import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger, type TestCharger } from '../helpers/charger.ts';
import { startOcppServer, waitFor, type OcppTestServer } from '../ocpp/helpers.ts';
import { importInto, smallDepot } from './helpers.ts';

interface ProfileCall { connectorId: number; csChargingProfiles: { chargingProfilePurpose: string; chargingProfileId: number; transactionId?: number; chargingSchedule: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] } } }

/** A charger that accepts profiles and reports its composite schedule as the lowest limit in force, like a real one. */
async function smartCharger(server: OcppTestServer, id: string, options: { onlyAmperes?: boolean } = {}) {
  const profiles: ProfileCall[] = [];
  const charger: TestCharger = await bootCharger(server.url, id, {
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
