import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOcppServer } from './helpers.ts';
import { bootCharger201, txEvent } from './v201.ts';

const at = (min: number) => new Date(Date.UTC(2026, 10, 19, 23, min)).toISOString();

test('a 2.0.1 station replays its offline queue: transactions rebuilt in seqNo order with their own timestamps and the offline flag kept', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('NIGHT-1');
    const cp = await bootCharger201(server.url, 'CP-OFFLINE-201');
    // Everything below happened while the link was down; the station sends its queue on reconnect, hours later.
    const id = 'OFF-1';
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: id, seqNo: 0, timestamp: at(0), evseId: 1, idToken: 'NIGHT-1', offline: true, meter: [{ wh: 500, context: 'Transaction.Begin' }] }));
    for (let i = 1; i <= 4; i++) {
      await cp.call('TransactionEvent', txEvent('Updated', { transactionId: id, seqNo: i, timestamp: at(i * 10), offline: true, meter: [{ wh: 500 + i * 1200 }] }));
    }
    await cp.call('TransactionEvent', txEvent('Ended', { transactionId: id, seqNo: 5, timestamp: at(45), offline: true, stoppedReason: 'EVDisconnected', meter: [{ wh: 5300, context: 'Transaction.End' }] }));
    const list = await (await server.api('/api/transactions')).json();
    const tx = await (await server.api(`/api/transactions/${list.items[0].id}`)).json();
    assert.deepEqual([tx.transaction.startedAt, tx.transaction.stoppedAt, tx.transaction.energyKwh, tx.transaction.known], [at(0), at(45), 4.8, true]);
    assert.deepEqual(tx.samples.map((s: { value: number }) => s.value), [0.5, 1.7, 2.9, 4.1, 5.3, 5.3]);
    const events = server.events.filter((e) => e.type === 'SessionStarted' || e.type === 'MeterSampled' || e.type === 'SessionEnded');
    assert.deepEqual(events.map((e) => e.type), ['SessionStarted', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'SessionEnded']);
    const times = events.map((e) => e.at);
    assert.deepEqual(times, [...times].sort(), 'domain events carry the station’s timestamps, in order');
    assert.equal(server.logs.find('TransactionEvent queued while offline').length, 6);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('repeated TransactionEvents (same transaction and seqNo) are idempotent: one transaction, one set of samples, one event each', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('T-1');
    const cp = await bootCharger201(server.url, 'CP-RETRY-201');
    const started = txEvent('Started', { transactionId: 'R-1', seqNo: 0, timestamp: at(0), evseId: 1, idToken: 'T-1', meter: [{ wh: 1000, context: 'Transaction.Begin' }] });
    const a = await cp.call<{ idTokenInfo: { status: string } }>('TransactionEvent', started);
    const b = await cp.call<{ idTokenInfo: { status: string } }>('TransactionEvent', started);
    assert.deepEqual([a.idTokenInfo.status, b.idTokenInfo.status], ['Accepted', 'Accepted'], 'the repeat is answered like the first, not ConcurrentTx');
    // Two copies in flight at the same time still give one transaction and one event.
    const updated = txEvent('Updated', { transactionId: 'R-1', seqNo: 1, timestamp: at(15), meter: [{ wh: 3000 }] });
    await Promise.all([cp.call('TransactionEvent', updated), cp.call('TransactionEvent', updated)]);
    const ended = txEvent('Ended', { transactionId: 'R-1', seqNo: 2, timestamp: at(30), stoppedReason: 'Local', meter: [{ wh: 5000, context: 'Transaction.End' }] });
    await cp.call('TransactionEvent', ended);
    await cp.call('TransactionEvent', ended);

    const list = await (await server.api('/api/transactions')).json();
    assert.equal(list.total, 1);
    const tx = await (await server.api(`/api/transactions/${list.items[0].id}`)).json();
    assert.equal(tx.transaction.energyKwh, 4);
    assert.equal(tx.samples.length, 3);
    assert.equal((await server.eventsOf('SessionStarted')).length, 1);
    assert.equal((await server.eventsOf('MeterSampled')).length, 3);
    assert.equal((await server.eventsOf('SessionEnded')).length, 1);
    assert.equal(server.logs.find('repeated TransactionEvent: already applied').length, 3);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('late and out-of-order TransactionEvents never roll state back', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger201(server.url, 'CP-LATE-201');
    // The Started was lost in the station's queue and arrives after an Updated: the transaction is still rebuilt.
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'L-1', seqNo: 1, timestamp: at(10), evseId: 1, chargingState: 'Charging', meter: [{ wh: 2000 }] }));
    let [tx] = (await (await server.api('/api/transactions')).json()).items;
    assert.deepEqual([tx.known, tx.startedAt], [false, null]);
    assert.equal((await server.eventsOf('SessionStarted')).length, 0);
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'L-1', seqNo: 0, timestamp: at(0), evseId: 1, chargingState: 'EVConnected', meter: [{ wh: 1000, context: 'Transaction.Begin' }] }));
    [tx] = (await (await server.api('/api/transactions')).json()).items;
    assert.deepEqual([tx.known, tx.startedAt, tx.meterStartKwh], [true, at(0), 1]);
    const [started] = await server.eventsOf('SessionStarted');
    assert.equal(started!.at, at(0));
    // The older reading carried by the late Started is stored, not announced as current.
    assert.deepEqual((await server.eventsOf('MeterSampled')).map((e) => e.energyKwh), [2]);

    await cp.call('TransactionEvent', txEvent('Ended', { transactionId: 'L-1', seqNo: 3, timestamp: at(30), stoppedReason: 'Remote', meter: [{ wh: 4000, context: 'Transaction.End' }] }));
    // seqNo 2 arrives after the end: its reading is kept, the transaction stays ended.
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'L-1', seqNo: 2, timestamp: at(20), chargingState: 'SuspendedEV', meter: [{ wh: 3000 }] }));
    const detail = await (await server.api(`/api/transactions/${tx.id}`)).json();
    assert.deepEqual([detail.transaction.active, detail.transaction.stoppedAt, detail.transaction.energyKwh, detail.transaction.stopReason], [false, at(30), 3, 'Remote']);
    assert.deepEqual(detail.samples.map((s: { value: number }) => s.value), [1, 2, 3, 4]);
    assert.deepEqual((await server.eventsOf('MeterSampled')).map((e) => e.energyKwh), [2, 4]);
    assert.equal((await server.eventsOf('SessionEnded')).length, 1);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('an Ended for a transaction never seen is recorded once, as unknown; an Ended without a register uses the last reading', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger201(server.url, 'CP-AMNESIA-201');
    const ended = txEvent('Ended', { transactionId: 'GHOST', seqNo: 7, timestamp: at(5), evseId: 2, stoppedReason: 'PowerLoss', meter: [{ wh: 42_000, context: 'Transaction.End' }] });
    await cp.call('TransactionEvent', ended);
    await cp.call('TransactionEvent', ended);
    const list = await (await server.api('/api/transactions')).json();
    assert.equal(list.total, 1);
    assert.deepEqual([list.items[0].known, list.items[0].stationTransactionId, list.items[0].meterStopKwh, list.items[0].energyKwh], [false, 'GHOST', 42, null]);
    assert.deepEqual((await server.eventsOf('SessionEnded')).map((e) => [e.known, e.reason]), [[false, 'PowerLoss']]);

    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'NOREG', seqNo: 0, timestamp: at(10), evseId: 1, meter: [{ wh: 100 }] }));
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'NOREG', seqNo: 1, timestamp: at(20), meter: [{ wh: 2100 }] }));
    await cp.call('TransactionEvent', txEvent('Ended', { transactionId: 'NOREG', seqNo: 2, timestamp: at(25), stoppedReason: 'EVDisconnected' }));
    const [, second] = (await server.eventsOf('SessionEnded'));
    assert.deepEqual([second!.meterStopKwh, second!.energyKwh], [2.1, 2]);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a restart in the middle of a 2.0.1 transaction: the station carries on and the transaction closes with the right energy', async () => {
  const first = await startOcppServer();
  const dataDir = first.dataDir;
  try {
    const cp = await bootCharger201(first.url, 'CP-RESTART-201');
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'RS-1', seqNo: 0, timestamp: at(0), evseId: 1, meter: [{ wh: 10_000, context: 'Transaction.Begin' }] }));
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'RS-1', seqNo: 1, timestamp: at(10), meter: [{ wh: 11_000 }] }));
    await cp.close();
  } finally {
    await first.stop({ keepData: true });
  }
  const second = await startOcppServer({ dataDir });
  try {
    const cp = await bootCharger201(second.url, 'CP-RESTART-201');
    // The station resends what the old process may not have answered, then goes on.
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'RS-1', seqNo: 1, timestamp: at(10), meter: [{ wh: 11_000 }] }));
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: 'RS-1', seqNo: 2, timestamp: at(20), meter: [{ wh: 12_000 }] }));
    await cp.call('TransactionEvent', txEvent('Ended', { transactionId: 'RS-1', seqNo: 3, timestamp: at(25), meter: [{ wh: 12_500, context: 'Transaction.End' }] }));
    const [tx] = (await (await second.api('/api/transactions')).json()).items;
    assert.deepEqual([tx.energyKwh, tx.known, tx.stopReason], [2.5, true, 'Local']);
    assert.deepEqual((await second.eventsOf('MeterSampled')).map((e) => e.energyKwh), [12, 12.5], 'the resent sample is not announced again');
    assert.equal((await second.eventsOf('SessionStarted')).length, 0, 'the start was announced by the first process');
    await cp.close();
  } finally {
    await second.stop();
  }
});
