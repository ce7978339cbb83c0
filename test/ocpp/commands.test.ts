import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger } from '../helpers/charger.ts';
import { sleep, startOcppServer } from './helpers.ts';

test('every command reaches the charger as valid OCPP 1.6, in W at the edge, and its answer comes back in domain units', async () => {
  const server = await startOcppServer();
  try {
    const seen: [string, unknown][] = [];
    const answer = (action: string, reply: unknown) => (params: unknown) => { seen.push([action, params]); return reply; };
    const cp = await bootCharger(server.url, 'CP-CMD', {
      handlers: {
        RemoteStartTransaction: answer('RemoteStartTransaction', { status: 'Accepted' }),
        RemoteStopTransaction: answer('RemoteStopTransaction', { status: 'Accepted' }),
        SetChargingProfile: answer('SetChargingProfile', { status: 'Accepted' }),
        ClearChargingProfile: answer('ClearChargingProfile', { status: 'Unknown' }),
        GetCompositeSchedule: answer('GetCompositeSchedule', {
          status: 'Accepted', connectorId: 1, scheduleStart: '2026-11-20T22:00:00.000Z',
          chargingSchedule: { duration: 3600, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7200 }, { startPeriod: 1800, limit: 3700.5 }] },
        }),
        ChangeAvailability: answer('ChangeAvailability', { status: 'Scheduled' }),
        ChangeConfiguration: answer('ChangeConfiguration', { status: 'RebootRequired' }),
        GetConfiguration: answer('GetConfiguration', { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: ['Nope'] }),
        Reset: answer('Reset', { status: 'Accepted' }),
        TriggerMessage: answer('TriggerMessage', { status: 'Accepted' }),
        UnlockConnector: answer('UnlockConnector', { status: 'Unlocked' }),
      },
    });
    const send = async (path: string, body: unknown) => {
      const r = await server.api(`/api/stations/CP-CMD/commands/${path}`, { method: 'POST', body: JSON.stringify(body) });
      const json = await r.json();
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(json)}`);
      return json;
    };
    const profile = {
      id: 7, stackLevel: 1, purpose: 'Tx', kind: 'Absolute', transactionId: '42',
      schedule: { startAt: '2026-11-20T22:00:00Z', durationS: 3600, unit: 'kW', periods: [{ startOffsetS: 0, limit: 7.2 }, { startOffsetS: 900, limit: 3.68, numberPhases: 1 }], minRate: 1.4 },
    };
    assert.equal((await send('remote-start', { evseId: 1, idToken: 'RFID-1', profile: { ...profile, transactionId: undefined } })).status, 'Accepted');
    assert.equal((await send('remote-stop', { transactionId: '42' })).status, 'Accepted');
    assert.equal((await send('set-charging-profile', { evseId: 1, profile })).status, 'Accepted');
    assert.equal((await send('clear-charging-profile', { purpose: 'Tx' })).status, 'Unknown');
    const composite = await send('get-composite-schedule', { evseId: 1, durationS: 3600, unit: 'kW' });
    assert.deepEqual(composite.schedule, { evseId: 1, startAt: '2026-11-20T22:00:00.000Z', durationS: 3600, unit: 'kW', periods: [{ startOffsetS: 0, limit: 7.2 }, { startOffsetS: 1800, limit: 3.7005 }] });
    assert.equal((await send('change-availability', { evseId: 0, operative: false })).status, 'Scheduled');
    assert.equal((await send('change-configuration', { key: 'MeterValueSampleInterval', value: '60' })).status, 'RebootRequired');
    const config = await send('get-configuration', { keys: ['HeartbeatInterval', 'Nope'] });
    assert.deepEqual(config.configuration, [{ key: 'HeartbeatInterval', value: '300', readonly: false }]);
    assert.deepEqual(config.unknownKeys, ['Nope']);
    assert.equal((await send('reset', { kind: 'Soft' })).status, 'Accepted');
    assert.equal((await send('trigger-message', { message: 'StatusNotification', evseId: 1 })).status, 'Accepted');
    assert.equal((await send('unlock-connector', { evseId: 1 })).status, 'Unlocked');

    const byAction = Object.fromEntries(seen);
    assert.deepEqual(byAction.SetChargingProfile, {
      connectorId: 1,
      csChargingProfiles: {
        chargingProfileId: 7, stackLevel: 1, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Absolute', transactionId: 42,
        chargingSchedule: {
          chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7200 }, { startPeriod: 900, limit: 3680, numberPhases: 1 }],
          duration: 3600, startSchedule: '2026-11-20T22:00:00Z', minChargingRate: 1400,
        },
      },
    });
    assert.equal((byAction.RemoteStartTransaction as { chargingProfile: { transactionId?: number } }).chargingProfile.transactionId, undefined);
    assert.deepEqual(byAction.RemoteStopTransaction, { transactionId: 42 });
    assert.deepEqual(byAction.ChangeAvailability, { connectorId: 0, type: 'Inoperative' });
    assert.deepEqual(byAction.GetCompositeSchedule, { connectorId: 1, duration: 3600, chargingRateUnit: 'W' });
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('commands: bad bodies are 400 with the field named; an offline station is 409; a silent one 504; an OCPP error 502', async () => {
  const server = await startOcppServer({ callTimeoutS: 1 });
  try {
    const bad = await server.api('/api/stations/CP-X/commands/set-charging-profile', { method: 'POST', body: JSON.stringify({ evseId: 1, profile: { id: 1 } }) });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = await bad.json();
    assert.ok(problem.errors.some((e: { field: string }) => e.field === 'body.profile.stackLevel'), JSON.stringify(problem.errors));

    const offline = await server.api('/api/stations/CP-X/commands/reset', { method: 'POST', body: JSON.stringify({ kind: 'Hard' }) });
    assert.equal(offline.status, 409);
    assert.equal((await offline.json()).type, 'urn:voltyard:command:StationOffline');

    const cp = await bootCharger(server.url, 'CP-X', {
      handlers: {
        Reset: () => new Promise(() => undefined), // never answers
        UnlockConnector: () => { throw Object.assign(new Error('nope'), { rpcErrorCode: 'InternalError' }); },
      },
    });
    const silent = await server.api('/api/stations/CP-X/commands/reset', { method: 'POST', body: JSON.stringify({ kind: 'Hard' }) });
    assert.equal(silent.status, 504);
    const failing = await server.api('/api/stations/CP-X/commands/unlock-connector', { method: 'POST', body: JSON.stringify({ evseId: 1 }) });
    assert.equal(failing.status, 502);
    const unsupported = await server.api('/api/stations/CP-X/commands/get-configuration', { method: 'POST', body: JSON.stringify({}) });
    assert.equal(unsupported.status, 422, 'the charger answers NotImplemented');
    const notInteger = await server.api('/api/stations/CP-X/commands/remote-stop', { method: 'POST', body: JSON.stringify({ transactionId: 'abc' }) });
    assert.equal(notInteger.status, 400);

    const noKey = await fetch(`${server.url}/api/stations/CP-X/commands/reset`, { method: 'POST', body: JSON.stringify({ kind: 'Hard' }), headers: { 'content-type': 'application/json' } });
    assert.equal(noKey.status, 401);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('at most one call is outstanding per connection: the second command waits for the first answer', async () => {
  const server = await startOcppServer();
  try {
    let inFlight = 0;
    let maxInFlight = 0;
    const order: string[] = [];
    const slow = (name: string) => async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      order.push(`${name}:start`);
      await sleep(150);
      order.push(`${name}:end`);
      inFlight--;
      return { status: 'Accepted' };
    };
    const cp = await bootCharger(server.url, 'CP-SERIAL', { handlers: { Reset: slow('reset'), TriggerMessage: slow('trigger'), ChangeAvailability: slow('availability') } });
    const post = (path: string, body: unknown) => server.api(`/api/stations/CP-SERIAL/commands/${path}`, { method: 'POST', body: JSON.stringify(body) });
    const results = await Promise.all([
      post('reset', { kind: 'Soft' }), post('trigger-message', { message: 'Heartbeat' }), post('change-availability', { evseId: 1, operative: true }),
    ]);
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(maxInFlight, 1);
    assert.equal(order.length, 6);
    for (let i = 0; i < 6; i += 2) assert.equal(order[i].split(':')[0], order[i + 1].split(':')[0]);
    await cp.close();
  } finally {
    await server.stop();
  }
});
