import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { bootCharger, closed, nextFrame, rawSocket } from '../helpers/charger.ts';
import { startOcppServer, waitFor } from './helpers.ts';

// The OCPP-J layer itself (src/ocpp/socket.ts): the frames no library-made charger sends, and the ways our own calls end.

const boot = (protocol: string): [string, unknown] => protocol === 'ocpp1.6'
  ? ['BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }]
  : ['BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'V', model: 'M' } }];

for (const [protocol, typeCode, frameworkCode] of [['ocpp1.6', 'NotSupported', 'FormationViolation'], ['ocpp2.0.1', 'MessageTypeNotSupported', 'RpcFrameworkError']]) {
  test(`${protocol}: unknown message types, answers to nothing, empty frames and a reused message id`, async () => {
    const server = await startOcppServer();
    try {
      const ws = await rawSocket(server.url, `CP-RAW-${protocol}`, protocol);
      ws.send(JSON.stringify([2, 'b', ...boot(protocol)]));
      assert.equal((await nextFrame(ws))?.[0], 3);

      // A message type OCPP-J does not have, with a readable id: a CALLERROR in the version's spelling.
      ws.send(JSON.stringify([7, 'seven', 'Heartbeat', {}]));
      assert.deepEqual((await nextFrame(ws))?.slice(0, 3), [4, 'seven', typeCode]);
      // A message type that is not a number, as a station quoting its numbers sends a call.
      ws.send(JSON.stringify(['2', 'quoted', 'Heartbeat', {}]));
      assert.deepEqual((await nextFrame(ws))?.slice(0, 3), [4, 'quoted', frameworkCode]);

      // Answers to calls we never made, and empty frames, are logged (or ignored) and dropped; no reply.
      for (const frame of [JSON.stringify([3, 'never-asked', {}]), JSON.stringify([4, 'never-asked', 'GenericError', '', {}]), '']) {
        ws.send(frame);
        assert.equal(await nextFrame(ws, 300), null, `no reply to ${JSON.stringify(frame)}`);
      }
      assert.equal(server.logs.find('malformed OCPP-J frame').filter((l) => String(l.reason).includes('no call of ours')).length, 2);

      // Two calls with one id in a single TCP write: the second arrives while the first is still being answered.
      const status = protocol === 'ocpp1.6'
        ? ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }]
        : ['StatusNotification', { timestamp: '2026-11-20T10:00:00Z', connectorStatus: 'Available', evseId: 1, connectorId: 1 }];
      const tcp = (ws as WebSocket & { _socket: Socket })._socket;
      const replies: unknown[][] = [];
      const got = new Promise<void>((resolve) => ws.on('message', (data) => { replies.push(JSON.parse(String(data))); if (replies.length === 2) resolve(); }));
      tcp.cork();
      ws.send(JSON.stringify([2, 'twice', ...status]));
      ws.send(JSON.stringify([2, 'twice', ...status]));
      tcp.uncork();
      await got;
      assert.deepEqual(replies.map((r) => [r[0], r[1], r[0] === 4 ? r[2] : null]).sort(), [[3, 'twice', null], [4, 'twice', frameworkCode]]);

      ws.send(JSON.stringify([2, 'still-alive', 'Heartbeat', {}]));
      assert.equal((await nextFrame(ws))?.[0], 3, 'the connection survives all of it');
      ws.close();
    } finally {
      await server.stop();
    }
  });
}

test('our calls: an invalid answer is a 502 naming the schema, a station that leaves mid-call a 409, and the next call still goes', async () => {
  const server = await startOcppServer({ callTimeoutS: 5 });
  try {
    let leave: (() => void) | null = null;
    const cp = await bootCharger(server.url, 'CP-ANSWERS', {
      handlers: {
        Reset: () => ({ status: 'Maybe' }), // not in the 1.6 enum
        UnlockConnector: () => new Promise(() => { leave?.(); }), // leaves instead of answering
        TriggerMessage: () => ({ status: 'Accepted' }),
      },
    });
    const post = (path: string, body: unknown) => server.api(`/api/stations/CP-ANSWERS/commands/${path}`, { method: 'POST', body: JSON.stringify(body) });
    const invalid = await post('reset', { kind: 'Soft' });
    assert.equal(invalid.status, 502);
    const problem = await invalid.json();
    assert.match(problem.detail, /not valid ocpp1\.6/);
    assert.equal(server.logs.find('OCPP message failed schema validation').filter((l) => l.what === 'station response').length, 1);

    // The queue is free again after an invalid answer.
    assert.equal((await post('trigger-message', { message: 'Heartbeat' })).status, 200);

    leave = () => void cp.close();
    const gone = await post('unlock-connector', { evseId: 1 });
    assert.equal(gone.status, 409);
    assert.equal((await gone.json()).type, 'urn:voltyard:command:StationOffline');
  } finally {
    await server.stop();
  }
});

test('a Basic-auth password may hold colons; the user name must be the station id', async () => {
  const server = await startOcppServer({ unknownStations: 'reject' });
  try {
    const password = 'with:colons:inside-0123456789';
    const put = await server.api('/api/stations/COLON-01', { method: 'PUT', body: JSON.stringify({ securityProfile: 1, password }) });
    assert.equal(put.status, 201);
    const cp = await bootCharger(server.url, 'COLON-01', { password });
    await cp.close();
    const wrongUser = `Basic ${Buffer.from(`SOMEONE-ELSE:${password}`).toString('base64')}`;
    await assert.rejects(rawSocket(server.url, 'COLON-01', 'ocpp1.6', { headers: { authorization: wrongUser } }), /HTTP 401/);
    await assert.rejects(rawSocket(server.url, 'COLON-01', 'ocpp1.6', { headers: { authorization: 'Basic !!!' } }), /HTTP 401/);
    assert.equal((await (await server.api('/api/ocpp/stats')).json()).authFailures, 2);
  } finally {
    await server.stop();
  }
});

test('a malformed station id in the URL is refused with 400, and shutdown closes station sockets with 1001', async () => {
  const server = await startOcppServer();
  let stopped = false;
  try {
    await assert.rejects(rawSocket(server.url, '%E0%A4%A'), /HTTP 400/);
    await assert.rejects(rawSocket(server.url, 'has%20space'), /HTTP 400/);
    const ws = await rawSocket(server.url, 'CP-SHUTDOWN');
    ws.send(JSON.stringify([2, 'b', ...boot('ocpp1.6')]));
    assert.equal((await nextFrame(ws))?.[0], 3);
    await waitFor('online', async () => (await (await server.api('/api/stations/CP-SHUTDOWN')).json()).online === true);
    const gone = closed(ws);
    await server.stop();
    stopped = true;
    assert.equal((await gone).code, 1001);
  } finally {
    if (!stopped) await server.stop();
  }
});
