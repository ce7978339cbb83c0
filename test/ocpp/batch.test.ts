import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchWriter } from '../../src/ocpp/batch.ts';
import { captureLogs } from '../helpers/logger.ts';

/** A write that takes a while, recording each batch it was given. */
function slowStore(ms: number, failWhen: (rows: number[]) => boolean = () => false) {
  const batches: number[][] = [];
  const stored: number[] = [];
  return {
    batches, stored,
    write: async (rows: number[]) => {
      batches.push([...rows]);
      await new Promise((r) => setTimeout(r, ms));
      if (failWhen(rows)) throw new Error('disk full');
      stored.push(...rows);
    },
  };
}

test('rows added while a write runs go out together in the next one; each caller hears when its rows are stored', async () => {
  const store = slowStore(50);
  const writer = new BatchWriter<number>({ name: 'test', size: 100, logger: captureLogs().logger, write: store.write });
  const first = writer.addAll([1, 2]);
  while (store.batches.length === 0) await new Promise((r) => setImmediate(r)); // the first batch is being written
  const later = [writer.addAll([3]), writer.add(4)];
  writer.push(5);
  await first;
  assert.deepEqual(store.stored, [1, 2]);
  await Promise.all(later);
  assert.deepEqual(store.batches, [[1, 2], [3, 4, 5]]);
});

test('a failed write rejects the callers of its rows and not the next batch; pushed rows are only logged', async () => {
  const store = slowStore(5, (rows) => rows.includes(2));
  const { logger } = captureLogs();
  const writer = new BatchWriter<number>({ name: 'test', size: 2, logger, write: store.write });
  // Rows 1-3 added together span two batches ([1, 2] fails, [3] is stored): the caller is told of the failure once.
  const spanning = writer.addAll([1, 2, 3]);
  writer.push(4);
  await assert.rejects(spanning, /disk full/);
  await writer.flush();
  assert.deepEqual(store.stored, [3, 4]);
});

test('flush waits for what was added before it, not for rows that keep arriving', async () => {
  const store = slowStore(10);
  const writer = new BatchWriter<number>({ name: 'test', size: 1, logger: captureLogs().logger, write: store.write, delayMs: 5 });
  void writer.add(1);
  let next = 2;
  const feeder = setInterval(() => { void writer.add(next++); }, 2);
  try {
    const started = performance.now();
    await writer.flush();
    assert.ok(store.stored.includes(1));
    assert.ok(performance.now() - started < 1000, 'flush returned while rows were still arriving');
  } finally {
    clearInterval(feeder);
  }
  await writer.flush();
  assert.equal(store.stored.length, next - 1);
});

test('a full batch starts at once; writes in flight together still count as finished in the order added', async () => {
  // Each write takes as long as its first row says: the second batch finishes before the first.
  const batches: number[][] = [];
  const write = async (rows: number[]) => {
    batches.push([...rows]);
    await new Promise((r) => setTimeout(r, rows[0] === 1 ? 60 : 5));
  };
  const writer = new BatchWriter<number>({ name: 'test', size: 100, logger: captureLogs().logger, write, delayMs: 1000, inFlight: 2, eagerAt: 2 });
  const first = writer.addAll([1, 2]);
  assert.deepEqual(batches, [[1, 2]], 'two rows reach eagerAt: written without waiting for the 1 s delay');
  const second = writer.addAll([3, 4]);
  assert.deepEqual(batches, [[1, 2], [3, 4]], 'a second write goes while the first is in flight');
  void writer.add(5);
  assert.equal(batches.length, 2, 'no third write while two are in flight');
  let flushed = false;
  const flush = writer.flush().then(() => { flushed = true; });
  await second;
  assert.equal(flushed, false, 'the second write finished first, but rows 1-2 are not stored yet');
  await first;
  const started = performance.now();
  await flush;
  assert.ok(performance.now() - started < 500, 'the row queued behind a flush went out without the 1 s delay');
  assert.deepEqual(batches, [[1, 2], [3, 4], [5]]);
});
