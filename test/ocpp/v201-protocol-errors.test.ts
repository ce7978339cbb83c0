import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextFrame, rawSocket } from '../helpers/charger.ts';
import { startOcppServer } from './helpers.ts';
import { boot201, txEvent } from './v201.ts';

test('invalid 2.0.1 frames get CALLERRORs with the 2.0.1 spellings; 1.6 messages on a 2.0.1 connection are protocol errors', async () => {
  const server = await startOcppServer();
  try {
    const ws = await rawSocket(server.url, 'CP-BAD-201', 'ocpp2.0.1');
    const call = async (id: string, action: string, payload: unknown) => {
      ws.send(JSON.stringify([2, id, action, payload]));
      return nextFrame(ws);
    };
    assert.equal((await call('b', 'BootNotification', boot201))?.[0], 3);

    const started = txEvent('Started', { transactionId: 'T-1', seqNo: 0, timestamp: '2026-11-20T10:00:00Z', evseId: 1 });
    const cases: [string, unknown, string][] = [
      ['StatusNotification', { timestamp: '2026-11-20T10:00:00Z', evseId: 1, connectorId: 1 }, 'OccurrenceConstraintViolation'],
      ['StatusNotification', { timestamp: '2026-11-20T10:00:00Z', connectorStatus: 'Available', evseId: 'one', connectorId: 1 }, 'TypeConstraintViolation'],
      ['StatusNotification', { timestamp: '2026-11-20T10:00:00Z', connectorStatus: 'Charging', evseId: 1, connectorId: 1 }, 'PropertyConstraintViolation'],
      ['Authorize', { idToken: { idToken: 'X'.repeat(37), type: 'ISO14443' } }, 'PropertyConstraintViolation'],
      ['Authorize', { idToken: { idToken: 'X', type: 'Barcode' } }, 'PropertyConstraintViolation'],
      ['Heartbeat', { surprise: true }, 'FormatViolation'],
      ['TransactionEvent', { ...started, timestamp: 'yesterday' }, 'PropertyConstraintViolation'],
      ['TransactionEvent', { ...started, seqNo: undefined }, 'OccurrenceConstraintViolation'],
      ['TransactionEvent', { ...started, transactionInfo: { transactionId: 'x'.repeat(37) } }, 'PropertyConstraintViolation'],
      ['NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', acChargingParameters: { energyAmount: 1000 } } }, 'OccurrenceConstraintViolation'],
      // The 1.6 shape of a message 2.0.1 also has: invalid against the 2.0.1 schema.
      ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }, 'OccurrenceConstraintViolation'],
      ['BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }, 'OccurrenceConstraintViolation'],
      // 1.6 messages 2.0.1 does not have: not implemented on this connection.
      ['StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: '2026-11-20T10:00:00Z' }, 'NotImplemented'],
      ['StopTransaction', { transactionId: 1, meterStop: 0, timestamp: '2026-11-20T10:00:00Z' }, 'NotImplemented'],
      ['DiagnosticsStatusNotification', { status: 'Uploaded' }, 'NotImplemented'],
      ['FlyToTheMoon', {}, 'NotImplemented'],
      ['Get15118EVCertificate', { iso15118SchemaVersion: 'urn:iso:15118:2:2013:MsgDef', action: 'Install', exiRequest: 'AA==' }, 'NotSupported'],
    ];
    for (const [action, payload, code] of cases) {
      const id = `id-${action}-${code}`.slice(0, 36);
      const reply = await call(id, action, payload);
      assert.equal(reply?.[0], 4, `${action} should be a CALLERROR: ${JSON.stringify(reply)}`);
      assert.equal(reply?.[1], id);
      assert.equal(reply?.[2], code, `${action} ${JSON.stringify(payload)}: ${JSON.stringify(reply)}`);
      assert.ok(!JSON.stringify(reply).includes('"data"'), 'the payload is not echoed back');
    }

    // A readable id without an action: an RPC framework error in 2.0.1 terms (1.6 says FormationViolation).
    ws.send(JSON.stringify([2, 'no-action', 42, {}]));
    assert.deepEqual((await nextFrame(ws))?.slice(0, 3), [4, 'no-action', 'RpcFrameworkError']);
    for (const garbage of ['not json', '[2]', '[2, 17, "Heartbeat", {}]']) {
      ws.send(garbage);
      assert.equal(await nextFrame(ws, 300), null, `no reply to ${garbage}`);
    }
    assert.equal((await call('still-alive', 'Heartbeat', {}))?.[0], 3, 'the connection and the process survive all of it');

    const station = await (await server.api('/api/stations/CP-BAD-201')).json();
    assert.deepEqual(station.connectors, [], 'no invalid StatusNotification was stored');
    assert.equal((await (await server.api('/api/transactions')).json()).total, 0);
    assert.equal((await server.eventsOf('ConnectorStatusChanged')).length, 0);
    assert.ok(server.logs.find('OCPP message failed schema validation').length >= 10);
    ws.close();
  } finally {
    await server.stop();
  }
});
