import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger } from '../helpers/charger.ts';
import { startOcppServer } from './helpers.ts';
import { startTestServer } from '../helpers/server.ts';

test('every frame in and out is in the message log, newest first, and survives a shutdown (batched writes are flushed)', async () => {
  const server = await startOcppServer();
  const dataDir = server.dataDir;
  try {
    const cp = await bootCharger(server.url, 'CP-LOG');
    await cp.call('Heartbeat');
    await cp.close();
  } finally {
    await server.stop({ keepData: true });
  }
  const again = await startTestServer({ dataDir });
  try {
    const log = await (await again.api('/api/stations/CP-LOG/messages?limit=10')).json();
    const frames = log.items.map((m: { direction: string; frame: string }) => [m.direction, JSON.parse(m.frame)[0], JSON.parse(m.frame)[2]]);
    assert.deepEqual(frames.slice(0, 2).map((f: unknown[]) => f.slice(0, 2)), [['out', 3], ['in', 2]]);
    assert.equal(log.items.length, 4);
    assert.equal(frames[3][2], 'BootNotification');
  } finally {
    await again.stop();
  }
});

test('with a retention of 0 days no frame is kept', async () => {
  const server = await startOcppServer({ messageLogRetentionDays: 0 });
  try {
    const cp = await bootCharger(server.url, 'CP-NOLOG');
    await cp.close();
    const log = await (await server.api('/api/stations/CP-NOLOG/messages')).json();
    assert.deepEqual(log.items, []);
  } finally {
    await server.stop();
  }
});
