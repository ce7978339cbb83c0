import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger } from '../helpers/charger.ts';
import { startOcppServer } from './helpers.ts';

const energy = (timestamp: string, wh: number) => ({ timestamp, sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] });

test('repeated StartTransaction, MeterValues and StopTransaction are idempotent: one transaction, one set of samples, one event each', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('T-1');
    const cp = await bootCharger(server.url, 'CP-RETRY');
    const startReq = { connectorId: 1, idTag: 'T-1', meterStart: 1000, timestamp: '2026-11-20T20:00:00Z' };
    const a = await cp.call<{ transactionId: number }>('StartTransaction', startReq);
    const b = await cp.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', startReq);
    assert.equal(b.transactionId, a.transactionId);
    assert.equal(b.idTagInfo.status, 'Accepted');
    // Two copies in flight at the same time (a retry racing its original) still give one transaction.
    const racing = { ...startReq, connectorId: 2, timestamp: '2026-11-20T20:00:01Z' };
    const [r1, r2] = await Promise.all([cp.call<{ transactionId: number }>('StartTransaction', racing), cp.call<{ transactionId: number }>('StartTransaction', racing)]);
    assert.equal(r1.transactionId, r2.transactionId);

    const mv = { connectorId: 1, transactionId: a.transactionId, meterValue: [energy('2026-11-20T20:15:00Z', 3000)] };
    await cp.call('MeterValues', mv);
    await cp.call('MeterValues', mv);
    const stopReq = { transactionId: a.transactionId, meterStop: 5000, timestamp: '2026-11-20T20:30:00Z', reason: 'Local' };
    await cp.call('StopTransaction', stopReq);
    await cp.call('StopTransaction', stopReq);

    const list = await (await server.api('/api/transactions')).json();
    assert.equal(list.total, 2);
    const tx = await (await server.api(`/api/transactions/${a.transactionId}`)).json();
    assert.equal(tx.transaction.energyKwh, 4);
    assert.equal(tx.samples.length, 1);
    assert.equal((await server.eventsOf('SessionStarted')).length, 2, 'connector 1 and connector 2, once each');
    assert.equal((await server.eventsOf('MeterSampled')).length, 1);
    assert.equal((await server.eventsOf('SessionEnded')).length, 1);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a StopTransaction for a transaction never seen is accepted and recorded, once', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger(server.url, 'CP-AMNESIA');
    const stop = { transactionId: 987654, meterStop: 42_000, timestamp: '2026-11-20T06:00:00Z', reason: 'Remote', idTag: 'WHO' };
    const answer = await cp.call<{ idTagInfo: { status: string } }>('StopTransaction', stop);
    assert.equal(answer.idTagInfo.status, 'Invalid');
    await cp.call('StopTransaction', stop);
    const list = await (await server.api('/api/transactions')).json();
    assert.equal(list.total, 1);
    assert.equal(list.items[0].known, false);
    assert.equal(list.items[0].reportedId, 987654);
    assert.equal(list.items[0].meterStopKwh, 42);
    const ended = await server.eventsOf('SessionEnded');
    assert.deepEqual(ended.map((e) => [e.transactionId, e.known]), [['987654', false]]);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('late messages never overwrite newer state: an old StatusNotification or MeterValues is stored, not announced as current', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger(server.url, 'CP-LATE');
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2026-11-20T21:00:00Z' });
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: '2026-11-20T20:59:00Z' });
    const station = await (await server.api('/api/stations/CP-LATE')).json();
    assert.equal(station.connectors[0].status, 'Charging');
    assert.deepEqual((await server.eventsOf('ConnectorStatusChanged')).map((e) => e.status), ['Charging']);

    await cp.call('MeterValues', { connectorId: 1, meterValue: [energy('2026-11-20T21:30:00Z', 9000)] });
    await cp.call('MeterValues', { connectorId: 1, meterValue: [energy('2026-11-20T21:15:00Z', 8000)] });
    const sampled = await server.eventsOf('MeterSampled');
    assert.deepEqual(sampled.map((e) => e.energyKwh), [9]);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a charger that was offline replays its queue in order: the transaction is rebuilt with its own timestamps', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('NIGHT-1');
    const cp = await bootCharger(server.url, 'CP-OFFLINE');
    // Everything below happened while the link was down; the charger sends it on reconnect, hours later.
    const start = await cp.call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: 'NIGHT-1', meterStart: 500, timestamp: '2026-11-19T23:00:00Z' });
    for (let i = 1; i <= 4; i++) {
      await cp.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [energy(`2026-11-19T23:${String(i * 10).padStart(2, '0')}:00Z`, 500 + i * 1200)] });
    }
    await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 5300, timestamp: '2026-11-19T23:45:00Z', reason: 'EVDisconnected' });
    const tx = await (await server.api(`/api/transactions/${start.transactionId}`)).json();
    assert.equal(tx.transaction.startedAt, '2026-11-19T23:00:00.000Z');
    assert.equal(tx.transaction.stoppedAt, '2026-11-19T23:45:00.000Z');
    assert.equal(tx.transaction.energyKwh, 4.8);
    assert.deepEqual(tx.samples.map((s: { value: number }) => s.value), [1.7, 2.9, 4.1, 5.3]);
    const events = (await server.events).filter((e) => e.type === 'SessionStarted' || e.type === 'MeterSampled' || e.type === 'SessionEnded');
    const times = events.map((e) => e.at);
    assert.deepEqual(times, [...times].sort(), 'domain events carry the charger’s timestamps, in order');
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a restart in the middle of a transaction: the charger carries on and the transaction closes with the right energy', async () => {
  const first = await startOcppServer();
  const dataDir = first.dataDir;
  let transactionId: number;
  try {
    await first.putToken('RESTART-1');
    const cp = await bootCharger(first.url, 'CP-RESTART');
    transactionId = (await cp.call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: 'RESTART-1', meterStart: 10_000, timestamp: '2026-11-20T22:00:00Z' })).transactionId;
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [energy('2026-11-20T22:10:00Z', 11_000)] });
    await cp.close();
  } finally {
    await first.stop({ keepData: true });
  }
  const second = await startOcppServer({ dataDir });
  try {
    const station = await (await second.api('/api/stations/CP-RESTART')).json();
    assert.equal(station.online, false, 'nothing is online until it connects to this process');
    const cp = await bootCharger(second.url, 'CP-RESTART');
    // The charger replays what the old process may not have answered, then goes on.
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [energy('2026-11-20T22:10:00Z', 11_000)] });
    await cp.call('MeterValues', { connectorId: 1, transactionId, meterValue: [energy('2026-11-20T22:20:00Z', 12_000)] });
    await cp.call('StopTransaction', { transactionId, meterStop: 12_500, timestamp: '2026-11-20T22:25:00Z' });
    const tx = await (await second.api(`/api/transactions/${transactionId}`)).json();
    assert.equal(tx.transaction.energyKwh, 2.5);
    assert.equal(tx.transaction.known, true);
    assert.deepEqual(tx.samples.map((s: { value: number }) => s.value), [11, 12]);
    assert.deepEqual((await second.eventsOf('MeterSampled')).map((e) => e.energyKwh), [12], 'the replayed sample is not announced again');
    await cp.close();
  } finally {
    await second.stop();
  }
});
