import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger, connectCharger, rawSocket, closed } from '../helpers/charger.ts';
import type { DomainEvent } from '../../src/bus/events.ts';
import { startOcppServer, waitFor, type OcppTestServer } from './helpers.ts';
import { boot201, bootCharger201, txEvent, type Reading } from './v201.ts';

/** One charging session, the same in both versions: start 12 kWh, two periodic readings, stop at 16.5 kWh. */
const T = ['2026-11-20T18:00:05.000Z', '2026-11-20T18:15:00.000Z', '2026-11-20T18:30:00.000Z', '2026-11-20T18:40:00.000Z'] as const;
const readings: Reading[] = [
  { wh: 12_000, context: 'Transaction.Begin', at: T[0] },
  { wh: 13_800, w: 7_200, soc: 41.5, at: T[1] },
  { wh: 15_600, w: 7_150, soc: 44, at: T[2] },
  { wh: 16_500, w: 0, context: 'Transaction.End', at: T[3] },
];

function meter16(r: Reading) {
  const context = r.context ?? 'Sample.Periodic';
  return {
    timestamp: r.at!,
    sampledValue: [
      { value: String(r.wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh', context },
      ...(r.w === undefined ? [] : [{ value: String(r.w), measurand: 'Power.Active.Import', unit: 'W', context }]),
      ...(r.soc === undefined ? [] : [{ value: String(r.soc), measurand: 'SoC', unit: 'Percent', location: 'EV', context }]),
    ],
  };
}

async function session16(server: OcppTestServer): Promise<void> {
  const cp = await bootCharger(server.url, 'DEPOT-EQ');
  const start = await cp.call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: 'RFID-EQ', meterStart: 12_000, timestamp: T[0] });
  // A 1.6 charger configured to sample at transaction begin sends that reading right after the start.
  for (const r of readings.slice(0, 3)) await cp.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [meter16(r)] });
  await cp.call('StopTransaction', { transactionId: start.transactionId, meterStop: 16_500, timestamp: T[3], idTag: 'RFID-EQ', reason: 'EVDisconnected', transactionData: [meter16(readings[3]!)] });
  await cp.close();
}

async function session201(server: OcppTestServer): Promise<void> {
  const cp = await bootCharger201(server.url, 'DEPOT-EQ');
  const id = 'a6c2d4e8-1b3f-4c5d-9e7f-0123456789ab';
  const started = await cp.call<{ idTokenInfo: { status: string } }>('TransactionEvent', txEvent('Started', { transactionId: id, seqNo: 0, timestamp: T[0], evseId: 1, idToken: 'RFID-EQ', chargingState: 'Charging', meter: [readings[0]!] }));
  assert.equal(started.idTokenInfo.status, 'Accepted');
  await cp.call('TransactionEvent', txEvent('Updated', { transactionId: id, seqNo: 1, timestamp: T[1], meter: [readings[1]!] }));
  await cp.call('TransactionEvent', txEvent('Updated', { transactionId: id, seqNo: 2, timestamp: T[2], meter: [readings[2]!] }));
  await cp.call('TransactionEvent', txEvent('Ended', { transactionId: id, seqNo: 3, timestamp: T[3], idToken: 'RFID-EQ', stoppedReason: 'EVDisconnected', triggerReason: 'EVCommunicationLost', meter: [readings[3]!] }));
  await cp.close();
}

/** The session's domain events without what legitimately differs: when Voltyard received them. */
function sessionEvents(events: DomainEvent[]) {
  return events
    .filter((e) => e.type === 'SessionStarted' || e.type === 'MeterSampled' || e.type === 'SessionEnded')
    .map((e) => ({ ...e, receivedAt: undefined }));
}

test('one charging session over 1.6 and the same over 2.0.1: equal domain events and stored transaction apart from the version', async () => {
  const results: { events: ReturnType<typeof sessionEvents>; tx: Record<string, unknown>; samples: unknown[]; connected: string }[] = [];
  for (const run of [session16, session201]) {
    // Each version on its own fresh server, so both transactions get Voltyard id 1.
    const server = await startOcppServer();
    try {
      await server.putToken('RFID-EQ');
      await run(server);
      const tx = await (await server.api('/api/transactions/1')).json();
      const connected = (await server.eventsOf('StationConnected'))[0]!.protocol;
      results.push({ events: sessionEvents(server.events), tx: tx.transaction, samples: tx.samples, connected });
    } finally {
      await server.stop();
    }
  }
  const [v16, v201] = results as [typeof results[0], typeof results[0]];
  assert.deepEqual([v16.connected, v201.connected], ['ocpp1.6', 'ocpp2.0.1']);
  assert.equal(v16.events.length, 6, 'start, four readings, end');
  assert.deepEqual(v201.events, v16.events);
  assert.deepEqual(v16.events.map((e) => e.type), ['SessionStarted', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'MeterSampled', 'SessionEnded']);
  const ended = v16.events.at(-1) as { energyKwh: number; reason: string };
  assert.deepEqual([ended.energyKwh, ended.reason], [4.5, 'EVDisconnected']);

  const { protocol: p16, stationTransactionId: s16, ...tx16 } = v16.tx;
  const { protocol: p201, stationTransactionId: s201, ...tx201 } = v201.tx;
  assert.deepEqual([p16, p201], ['ocpp1.6', 'ocpp2.0.1']);
  assert.deepEqual([s16, s201], [null, 'a6c2d4e8-1b3f-4c5d-9e7f-0123456789ab']);
  assert.deepEqual(tx201, tx16);
  assert.equal(tx16.energyKwh, 4.5);
  assert.deepEqual(v201.samples, v16.samples);
});

test('the server picks 2.0.1 from a station offering both, and a station may come back with another version (firmware update)', async () => {
  const server = await startOcppServer();
  try {
    const both = await connectCharger(server.url, 'CP-BOTH', { protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    assert.equal(both.client.protocol, 'ocpp2.0.1');
    await both.close();

    const old = await bootCharger(server.url, 'CP-FW');
    assert.equal((await (await server.api('/api/stations/CP-FW')).json()).protocol, 'ocpp1.6');
    await old.close();
    await waitFor('offline', async () => (await (await server.api('/api/stations/CP-FW')).json()).online === false);
    // After the update the same station speaks 2.0.1: the 2.0.1 handler set answers, the 1.6 one is gone.
    const updated = await bootCharger201(server.url, 'CP-FW');
    const station = await (await server.api('/api/stations/CP-FW')).json();
    assert.deepEqual([station.protocol, station.model, station.firmwareVersion], ['ocpp2.0.1', boot201.chargingStation.model, '2.0.0']);
    await assert.rejects(updated.call('StartTransaction', { connectorId: 1, idTag: 'A', meterStart: 0, timestamp: T[0] }), { rpcErrorCode: 'NotImplemented' });
    await updated.close();

    // Only 1.6 offered: 1.6 it is.
    const ws = await rawSocket(server.url, 'CP-OLD', ['ocpp1.6']);
    assert.equal(ws.protocol, 'ocpp1.6');
    const done = closed(ws);
    ws.close();
    await done;
  } finally {
    await server.stop();
  }
});
