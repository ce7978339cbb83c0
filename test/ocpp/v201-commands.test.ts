import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger, type TestCharger } from '../helpers/charger.ts';
import { startOcppServer, waitFor } from './helpers.ts';
import { bootCharger201, txEvent } from './v201.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every command reaches a 2.0.1 station as valid 2.0.1 (checked by the station against the official schemas), in W at the edge', async () => {
  const server = await startOcppServer();
  try {
    const seen: [string, Record<string, unknown>][] = [];
    const reportErrors: unknown[] = [];
    const answer = (action: string, reply: unknown, after?: (params: Record<string, unknown>) => Promise<void>) => (params: Record<string, unknown>) => {
      seen.push([action, params]);
      // Reports follow the answer, as the spec orders it.
      if (after) setTimeout(() => void after(params).catch((err) => reportErrors.push(err)), 20);
      return reply;
    };
    const schedule = (limit: number) => ({ id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit }] });
    const cp: TestCharger = await bootCharger201(server.url, 'CP-CMD-201', {
      strictMode: true,
      handlers: {
        RequestStartTransaction: answer('RequestStartTransaction', { status: 'Accepted' }),
        RequestStopTransaction: answer('RequestStopTransaction', { status: 'Accepted' }),
        SetChargingProfile: answer('SetChargingProfile', { status: 'Accepted' }),
        ClearChargingProfile: answer('ClearChargingProfile', { status: 'Unknown' }),
        GetChargingProfiles: answer('GetChargingProfiles', { status: 'Accepted' }, async (p) => {
          const profile = (id: number, purpose: string, extra = {}) => ({ id, stackLevel: 0, chargingProfilePurpose: purpose, chargingProfileKind: 'Absolute', chargingSchedule: [schedule(id * 1000)], ...extra });
          await cp.client.call('ReportChargingProfiles', { requestId: p.requestId, chargingLimitSource: 'CSO', evseId: 1, tbc: true, chargingProfile: [profile(7, 'TxProfile', { transactionId: 'STATION-TX-9' })] });
          await cp.client.call('ReportChargingProfiles', { requestId: p.requestId, chargingLimitSource: 'SO', evseId: 0, chargingProfile: [profile(11, 'ChargingStationExternalConstraints')] });
        }),
        GetCompositeSchedule: answer('GetCompositeSchedule', {
          status: 'Accepted', schedule: { evseId: 1, duration: 3600, scheduleStart: '2026-11-20T22:00:00.000Z', chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7200 }, { startPeriod: 1800, limit: 3700.5 }] },
        }),
        ChangeAvailability: answer('ChangeAvailability', { status: 'Scheduled' }),
        GetVariables: answer('GetVariables', { getVariableResult: [
          { attributeStatus: 'Accepted', attributeValue: '300', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
          { attributeStatus: 'UnknownVariable', component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Nope' } },
        ] }),
        SetVariables: answer('SetVariables', { setVariableResult: [{ attributeStatus: 'RebootRequired', component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' } }] }),
        GetBaseReport: answer('GetBaseReport', { status: 'Accepted' }, async (p) => {
          const item = (component: string, variable: string, value: string, mutability: string) => ({ component: { name: component }, variable: { name: variable }, variableAttribute: [{ type: 'Actual', value, mutability }] });
          await cp.client.call('NotifyReport', { requestId: p.requestId, generatedAt: '2026-11-20T22:00:00Z', seqNo: 0, tbc: true, reportData: [item('OCPPCommCtrlr', 'HeartbeatInterval', '300', 'ReadWrite')] });
          await cp.client.call('NotifyReport', { requestId: p.requestId, generatedAt: '2026-11-20T22:00:00Z', seqNo: 1, reportData: [item('ChargingStation', 'Model', 'TC-2', 'ReadOnly')] });
        }),
        Reset: answer('Reset', { status: 'Scheduled' }),
        TriggerMessage: answer('TriggerMessage', { status: 'Accepted' }),
        UnlockConnector: answer('UnlockConnector', { status: 'Unlocked' }),
      },
    });
    // A transaction the station names with its own id; Voltyard's id for it is what commands carry.
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'STATION-TX-9', seqNo: 0, timestamp: '2026-11-20T21:00:00Z', evseId: 1, meter: [{ wh: 0 }] }));
    const ourId = (await (await server.api('/api/transactions')).json()).items[0].id as number;

    const send = async (path: string, body: unknown, status = 200) => {
      const r = await server.api(`/api/stations/CP-CMD-201/commands/${path}`, { method: 'POST', body: JSON.stringify(body) });
      const json = await r.json();
      assert.equal(r.status, status, `${path}: ${JSON.stringify(json)}`);
      return json;
    };
    const profile = {
      id: 7, stackLevel: 1, purpose: 'Tx', kind: 'Absolute', transactionId: String(ourId),
      schedule: { startAt: '2026-11-20T22:00:00Z', durationS: 3600, unit: 'kW', periods: [{ startOffsetS: 0, limit: 7.2 }, { startOffsetS: 900, limit: 3.68, numberPhases: 1 }], minRate: 1.4 },
    };
    assert.equal((await send('remote-start', { evseId: 1, idToken: 'RFID-1', profile: { ...profile, transactionId: undefined } })).status, 'Accepted');
    assert.equal((await send('remote-start', { idToken: 'DE-VYD-C12345678-X-EXTRA' })).status, 'Accepted', '2.0.1 idTokens take 36 characters');
    assert.equal((await send('remote-stop', { transactionId: String(ourId) })).status, 'Accepted');
    assert.equal((await send('set-charging-profile', { evseId: 1, profile })).status, 'Accepted');
    assert.equal((await send('set-charging-profile', { evseId: 0, profile: { ...profile, id: 1, purpose: 'StationMax', transactionId: undefined } })).status, 'Accepted');
    assert.equal((await send('clear-charging-profile', { purpose: 'Tx', evseId: 1 })).status, 'Unknown');
    const composite = await send('get-composite-schedule', { evseId: 1, durationS: 3600, unit: 'kW' });
    assert.deepEqual(composite.schedule, { evseId: 1, startAt: '2026-11-20T22:00:00.000Z', durationS: 3600, unit: 'kW', periods: [{ startOffsetS: 0, limit: 7.2 }, { startOffsetS: 1800, limit: 3.7005 }] });
    assert.equal((await send('change-availability', { evseId: 0, operative: false })).status, 'Scheduled');
    assert.equal((await send('change-availability', { evseId: 2, operative: true })).status, 'Scheduled');
    const vars = await send('get-variables', { variables: [{ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval' }, { component: 'EVSE', evseId: 1, variable: 'Nope' }] });
    assert.deepEqual(vars, { status: 'Partial', variables: [
      { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', status: 'Accepted', value: '300' },
      { component: 'EVSE', variable: 'Nope', evseId: 1, status: 'UnknownVariable', value: null },
    ] });
    const set = await send('set-variables', { variables: [{ component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval', value: '60' }] });
    assert.deepEqual(set, { status: 'RebootRequired', variables: [{ component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval', status: 'RebootRequired' }] });
    const report = await send('get-base-report', { report: 'FullInventory' });
    assert.deepEqual(report, { status: 'Accepted', complete: true, report: [
      { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '300', readonly: false },
      { component: 'ChargingStation', variable: 'Model', value: 'TC-2', readonly: true },
    ] });
    const profiles = await send('get-charging-profiles', { evseId: 1 });
    assert.equal(profiles.complete, true);
    assert.deepEqual(profiles.profiles.map((p: { evseId: number; source: string; purpose: string; profile: { id: number; transactionId?: string; schedule: { periods: { limit: number }[] } } }) => [p.evseId, p.source, p.purpose, p.profile.id, p.profile.transactionId, p.profile.schedule.periods[0]!.limit]),
      [[1, 'CSO', 'Tx', 7, String(ourId), 7], [0, 'SO', 'ExternalConstraints', 11, undefined, 11]]);
    assert.equal((await send('reset', { kind: 'Soft' })).status, 'Scheduled');
    assert.equal((await send('trigger-message', { message: 'TransactionEvent', evseId: 1 })).status, 'Accepted');
    assert.equal((await send('unlock-connector', { evseId: 1 })).status, 'Unlocked');

    const byAction = new Map<string, Record<string, unknown>[]>();
    for (const [action, params] of seen) byAction.set(action, [...byAction.get(action) ?? [], params]);
    assert.deepEqual(byAction.get('SetChargingProfile')![0], {
      evseId: 1,
      chargingProfile: {
        id: 7, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', transactionId: 'STATION-TX-9',
        chargingSchedule: [{
          id: 7, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7200 }, { startPeriod: 900, limit: 3680, numberPhases: 1 }],
          duration: 3600, startSchedule: '2026-11-20T22:00:00Z', minChargingRate: 1400,
        }],
      },
    });
    assert.equal((byAction.get('SetChargingProfile')![1]!.chargingProfile as { chargingProfilePurpose: string }).chargingProfilePurpose, 'ChargingStationMaxProfile');
    assert.ok(!JSON.stringify(seen).includes('ChargingStationExternalConstraints'), 'Voltyard never writes ExternalConstraints');
    const start = byAction.get('RequestStartTransaction')![0]!;
    assert.deepEqual(start.idToken, { idToken: 'RFID-1', type: 'Central' });
    assert.ok(Number.isInteger(start.remoteStartId));
    assert.equal((start.chargingProfile as { transactionId?: string }).transactionId, undefined);
    assert.deepEqual(byAction.get('RequestStopTransaction')![0], { transactionId: 'STATION-TX-9' });
    assert.deepEqual(byAction.get('ClearChargingProfile')![0], { chargingProfileCriteria: { evseId: 1, chargingProfilePurpose: 'TxProfile' } });
    assert.deepEqual(byAction.get('ChangeAvailability'), [{ operationalStatus: 'Inoperative' }, { operationalStatus: 'Operative', evse: { id: 2 } }]);
    assert.deepEqual(byAction.get('Reset')![0], { type: 'OnIdle' });
    assert.deepEqual(byAction.get('TriggerMessage')![0], { requestedMessage: 'TransactionEvent', evse: { id: 1 } });
    assert.deepEqual(byAction.get('UnlockConnector')![0], { evseId: 1, connectorId: 1 });
    assert.deepEqual(byAction.get('GetVariables')![0], { getVariableData: [
      { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
      { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Nope' } },
    ] });
    assert.deepEqual(byAction.get('GetChargingProfiles')![0]!.chargingProfile, {});

    // What 2.0.1 cannot express is refused before anything is sent.
    const before = seen.length;
    await send('clear-charging-profile', {}, 400);
    await send('change-configuration', { key: 'HeartbeatInterval', value: '60' }, 422);
    await send('get-configuration', {}, 422);
    await send('trigger-message', { message: 'DiagnosticsStatusNotification' }, 422);
    await send('set-charging-profile', { evseId: 0, profile }, 400);
    assert.equal(seen.length, before);
    assert.deepEqual(reportErrors, [], 'every report part was acknowledged');
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a report that stops coming: the command answers with what arrived and complete=false', async () => {
  const server = await startOcppServer({ callTimeoutS: 1 });
  try {
    const cp: TestCharger = await bootCharger201(server.url, 'CP-REPORT-201', {
      handlers: {
        GetBaseReport: (p: { requestId: number }) => {
          setTimeout(() => void cp.client.call('NotifyReport', { requestId: p.requestId, generatedAt: '2026-11-20T22:00:00Z', seqNo: 0, tbc: true, reportData: [{ component: { name: 'A' }, variable: { name: 'B' }, variableAttribute: [{ value: '1' }] }] }), 20);
          return { status: 'Accepted' };
        },
      },
    });
    const r = await server.api('/api/stations/CP-REPORT-201/commands/get-base-report', { method: 'POST', body: JSON.stringify({ report: 'ConfigurationInventory' }) });
    assert.deepEqual(await r.json(), { status: 'Accepted', complete: false, report: [{ component: 'A', variable: 'B', value: '1', readonly: false }] });
    await sleep(50);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('the new domain commands on a 1.6 station: variables map to configuration keys, profiles reports are NotSupported', async () => {
  const server = await startOcppServer();
  try {
    const changes: unknown[] = [];
    const cp = await bootCharger(server.url, 'CP-CMD-16', {
      handlers: {
        GetConfiguration: (p: { key?: string[] }) => ({
          configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }, { key: 'NumberOfConnectors', readonly: true, value: '2' }].filter((k) => !p.key || p.key.includes(k.key)),
          ...(p.key ? { unknownKey: p.key.filter((k) => k !== 'HeartbeatInterval' && k !== 'NumberOfConnectors') } : {}),
        }),
        ChangeConfiguration: (p: { key: string }) => { changes.push(p); return { status: p.key === 'Nope' ? 'NotSupported' : 'Accepted' }; },
      },
    });
    const send = async (path: string, body: unknown) => {
      const r = await server.api(`/api/stations/CP-CMD-16/commands/${path}`, { method: 'POST', body: JSON.stringify(body) });
      return { status: r.status, body: await r.json() };
    };
    const vars = await send('get-variables', { variables: [{ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval' }, { component: 'X', variable: 'Nope' }] });
    assert.deepEqual(vars.body.variables.map((v: { variable: string; status: string; value: string | null }) => [v.variable, v.status, v.value]), [['HeartbeatInterval', 'Accepted', '300'], ['Nope', 'UnknownVariable', null]]);
    const set = await send('set-variables', { variables: [{ component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '60' }, { component: 'X', variable: 'Nope', value: '1' }] });
    assert.deepEqual([set.body.status, set.body.variables.map((v: { status: string }) => v.status)], ['Partial', ['Accepted', 'UnknownVariable']]);
    assert.deepEqual(changes, [{ key: 'HeartbeatInterval', value: '60' }, { key: 'Nope', value: '1' }]);
    const report = await send('get-base-report', { report: 'FullInventory' });
    assert.deepEqual(report.body.report.map((v: { variable: string; readonly: boolean }) => [v.variable, v.readonly]), [['HeartbeatInterval', false], ['NumberOfConnectors', true]]);
    assert.equal((await send('get-charging-profiles', {})).status, 422);
    assert.equal((await send('trigger-message', { message: 'TransactionEvent' })).status, 422);
    // A 2.0.1-length idToken cannot go to a 1.6 station: our call fails the 1.6 schema and never leaves (400, not 502).
    const long = await send('remote-start', { idToken: 'DE-VYD-C12345678-X-EXTRA' });
    assert.equal(long.status, 400);
    assert.match(long.body.detail, /RemoteStartTransaction would not be valid ocpp1\.6: .*idTag/);
    await waitFor('no stray calls', () => changes.length === 2);
    await cp.close();
  } finally {
    await server.stop();
  }
});
