import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closed, nextFrame, rawSocket } from '../helpers/charger.ts';
import { startOcppServer } from './helpers.ts';

const boot = ['BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }];

test('invalid 1.6 frames get CALLERRORs with the 1.6 spellings and change nothing', async () => {
  const server = await startOcppServer();
  try {
    const ws = await rawSocket(server.url, 'CP-BAD');
    const call = async (id: string, action: string, payload: unknown) => {
      ws.send(JSON.stringify([2, id, action, payload]));
      return nextFrame(ws);
    };
    assert.equal((await call('b', ...boot as [string, unknown]))?.[0], 3);

    const cases: [string, unknown, string][] = [
      ['StatusNotification', { connectorId: 1, status: 'Available' }, 'OccurenceConstraintViolation'],
      ['StatusNotification', { connectorId: 'one', errorCode: 'NoError', status: 'Available' }, 'TypeConstraintViolation'],
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Sleeping' }, 'PropertyConstraintViolation'],
      ['Authorize', { idTag: 'X'.repeat(21) }, 'PropertyConstraintViolation'],
      ['Heartbeat', { surprise: true }, 'FormationViolation'],
      ['StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: 'yesterday' }, 'PropertyConstraintViolation'],
      ['MeterValues', { connectorId: 1, meterValue: [{ timestamp: '2026-11-20T10:00:00Z', sampledValue: [{ unit: 'Wh' }] }] }, 'OccurenceConstraintViolation'],
      ['FlyToTheMoon', {}, 'NotImplemented'],
      ['SecurityEventNotification', { type: 'x', timestamp: '2026-11-20T10:00:00Z' }, 'NotSupported'],
    ];
    for (const [action, payload, code] of cases) {
      const reply = await call(`id-${action}-${code}`, action, payload);
      assert.equal(reply?.[0], 4, `${action} should be a CALLERROR`);
      assert.equal(reply?.[1], `id-${action}-${code}`);
      assert.equal(reply?.[2], code, `${action} ${JSON.stringify(payload)}: ${JSON.stringify(reply)}`);
      assert.ok(!JSON.stringify(reply).includes('"data"'), 'the payload is not echoed back');
    }

    // A frame with a readable id but no action string: a formation error in 1.6 terms.
    ws.send(JSON.stringify([2, 'no-action', 42, {}]));
    const formation = await nextFrame(ws);
    assert.deepEqual(formation?.slice(0, 3), [4, 'no-action', 'FormationViolation']);

    // Unparseable text and frames without a readable id are logged and dropped: no reply, the connection stays.
    for (const garbage of ['this is not json', '{"an":"object"}', '[2]', '[2, 17, "Heartbeat", {}]']) {
      ws.send(garbage);
      assert.equal(await nextFrame(ws, 300), null, `no reply to ${garbage}`);
    }
    assert.equal((await call('still-alive', 'Heartbeat', {}))?.[0], 3);
    assert.ok(server.logs.find('malformed OCPP-J frame').length >= 4);

    const station = await (await server.api('/api/stations/CP-BAD')).json();
    assert.deepEqual(station.connectors, [], 'no invalid StatusNotification was stored');
    assert.equal((await (await server.api('/api/transactions')).json()).total, 0);
    assert.equal((await server.eventsOf('ConnectorStatusChanged')).length, 0);
    ws.close();
  } finally {
    await server.stop();
  }
});

test('an oversized frame closes that connection (1009) and nothing else', async () => {
  const server = await startOcppServer();
  try {
    const big = await rawSocket(server.url, 'CP-BIG');
    const other = await rawSocket(server.url, 'CP-OTHER');
    const gone = closed(big);
    big.send(JSON.stringify([2, 'x', 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(300 * 1024) }]));
    assert.equal((await gone).code, 1009);
    other.send(JSON.stringify([2, 'b', ...boot]));
    assert.equal((await nextFrame(other))?.[0], 3);
    other.close();
  } finally {
    await server.stop();
  }
});

test('a 1.6 station that is not accepted may boot but not start transactions', async () => {
  const server = await startOcppServer({ unknownStations: 'pending' });
  try {
    const ws = await rawSocket(server.url, 'CP-WAIT');
    ws.send(JSON.stringify([2, 's', 'StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: '2026-11-20T10:00:00Z' }]));
    const reply = await nextFrame(ws);
    assert.deepEqual(reply?.slice(0, 3), [4, 's', 'SecurityError']);
    ws.send(JSON.stringify([2, 'b', ...boot]));
    const bootReply = await nextFrame(ws) as [number, string, { status: string; interval: number }];
    assert.equal(bootReply[2].status, 'Pending');
    assert.equal((await (await server.api('/api/transactions')).json()).total, 0);
    ws.close();
  } finally {
    await server.stop();
  }
});
