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
