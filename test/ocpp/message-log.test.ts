import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger } from '../helpers/charger.ts';
import { startOcppServer } from './helpers.ts';
import { startTestServer } from '../helpers/server.ts';
import { frameLog, periodicLogIntervalMs } from '../../src/ocpp/message-log.ts';

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

test('periodic traffic is logged once a minute per kind; changes, failures and everything else always', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger(server.url, 'CP-PERIODIC');
    const status = (s: string) => cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: s, timestamp: new Date().toISOString() });
    const meter = (wh: number) => cp.call('MeterValues', { connectorId: 1, meterValue: [{ timestamp: new Date(Date.now() + wh).toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] });
    for (let i = 0; i < 3; i++) await cp.call('Heartbeat');
    await status('Available');
    await status('Available');
    await status('Preparing');
    await meter(1000);
    await meter(2000);
    // A periodic call that fails is kept, request and answer.
    await assert.rejects(cp.call('MeterValues', { connectorId: 1 }), { rpcErrorCode: 'OccurenceConstraintViolation' });
    await cp.close();
    const log = await (await server.api('/api/stations/CP-PERIODIC/messages?limit=100')).json();
    const calls = log.items.map((m: { frame: string }) => JSON.parse(m.frame)).filter((f: unknown[]) => f[0] === 2).map((f: unknown[]) => f[2]).reverse();
    assert.deepEqual(calls, ['BootNotification', 'Heartbeat', 'StatusNotification', 'StatusNotification', 'MeterValues', 'MeterValues']);
    assert.equal(log.items.filter((m: { frame: string }) => JSON.parse(m.frame)[0] === 4).length, 1, 'the CALLERROR of the failed call');
    assert.equal(log.items.length, 12, 'each logged call with its answer');
    assert.equal(server.services.provided.centralSystem!.stats.exchangesNotLogged, 4, '2 Heartbeats, 1 repeated status, 1 MeterValues');
  } finally {
    await server.stop();
  }
});

test('the frame log reads calls written compactly or with spaces; a held periodic call is logged with its CALLERROR', () => {
  const rows: string[] = [];
  let skipped = 0;
  let nowMs = 0;
  const log = frameLog('ocpp1.6', (direction, frame) => rows.push(`${direction} ${frame}`), () => { skipped++; }, () => nowMs, () => new Date(nowMs).toISOString());
  const exchange = (call: string, answer: string) => { log.inbound(call); log.outbound(answer); };
  const status = (id: string, s: string, ts: string, spaced = false) =>
    spaced ? `[ 2, "${id}", "StatusNotification", { "connectorId": 1, "errorCode": "NoError", "status": "${s}", "timestamp": "${ts}" } ]`
      : `[2,"${id}","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"${s}","timestamp":"${ts}"}]`;
  exchange(status('1', 'Charging', 't1'), '[3,"1",{}]'); // a change: logged
  exchange(status('2', 'Charging', 't2'), '[3,"2",{}]'); // a repeat: skipped
  exchange(status('3', 'Charging', 't3', true), '[3,"3",{}]'); // another spelling of the same: not a repeat by text
  exchange('[2,"4","Heartbeat",{}]', '[3,"4",{"currentTime":"x"}]'); // first of its kind: logged
  exchange('[2,"5","Heartbeat",{}]', '[4,"5","InternalError","",{}]'); // held, then failed: both logged
  nowMs = periodicLogIntervalMs;
  exchange('[2,"6","Heartbeat",{}]', '[3,"6",{}]'); // a minute later: logged again
  assert.deepEqual(rows.map((r) => r.slice(0, 12)), [
    'in [2,"1","S', 'out [3,"1",{', 'in [ 2, "3",', 'out [3,"3",{', 'in [2,"4","H', 'out [3,"4",{', 'in [2,"5","H', 'out [4,"5","', 'in [2,"6","H', 'out [3,"6",{',
  ]);
  assert.equal(skipped, 1);
});

test('the frame log remembers a bounded number of connectors: a station naming ever new ones gets them logged, not memorised', () => {
  const rows: string[] = [];
  let skipped = 0;
  const log = frameLog('ocpp1.6', (direction, frame) => rows.push(`${direction} ${frame}`), () => { skipped++; }, () => 0, () => '1970-01-01T00:00:00.000Z');
  const status = (id: number, connector: number) => `[2,"${id}","StatusNotification",{"connectorId":${connector},"errorCode":"NoError","status":"Available","timestamp":"t${id}"}]`;
  // 10,000 connectors, each reported twice: the first 64 are remembered (their repeat skipped), the rest always logged.
  let id = 0;
  for (let connector = 0; connector < 10_000; connector++) {
    for (let k = 0; k < 2; k++) { id++; log.inbound(status(id, connector)); log.outbound(`[3,"${id}",{}]`); }
  }
  assert.equal(skipped, 64);
  assert.equal(rows.length, 2 * (20_000 - 64));
  // A huge payload (an invalid frame is read before validation) is logged and never kept as a connector's status.
  const huge = `[2,"big","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available","info":"${'x'.repeat(200_000)}"}]`;
  log.inbound(huge);
  log.outbound('[4,"big","FormationViolation","",{}]');
  assert.equal(rows.at(-2), `in ${huge}`);
});
