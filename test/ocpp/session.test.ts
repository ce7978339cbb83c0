import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger } from '../helpers/charger.ts';
import { onBothStores, startOcppServer, waitFor } from './helpers.ts';

const meter = (timestamp: string, wh: number, w: number, soc?: number) => ({
  timestamp,
  sampledValue: [
    { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
    { value: String(w), measurand: 'Power.Active.Import', unit: 'W' },
    { value: '16.1', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
    { value: '15.9', measurand: 'Current.Import', unit: 'A', phase: 'L2' },
    { value: '16.3', measurand: 'Current.Import', unit: 'A', phase: 'L3' },
    { value: '230.5', measurand: 'Voltage', unit: 'V', phase: 'L1-N' },
    ...(soc === undefined ? [] : [{ value: String(soc), measurand: 'SoC', unit: 'Percent', location: 'EV' }]),
  ],
});

onBothStores('a charging session from boot to stop becomes stored state and domain events', async (_t, overrides) => {
  const server = await startOcppServer(overrides);
  try {
    await server.putToken('RFID-0001');
    const cp = await bootCharger(server.url, 'DEPOT-AC-01');
    assert.deepEqual(await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' }), {});
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: '2026-11-20T18:00:00Z' });
    const auth = await cp.call<{ idTagInfo: { status: string } }>('Authorize', { idTag: 'RFID-0001' });
    assert.equal(auth.idTagInfo.status, 'Accepted');
    const start = await cp.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', { connectorId: 1, idTag: 'RFID-0001', meterStart: 12_000, timestamp: '2026-11-20T18:00:05Z' });
    assert.equal(start.idTagInfo.status, 'Accepted');
    assert.ok(Number.isInteger(start.transactionId));
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2026-11-20T18:00:06Z' });
    await cp.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [meter('2026-11-20T18:15:00Z', 13_800, 7_200, 41.5)] });
    await cp.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [meter('2026-11-20T18:30:00Z', 15_600, 7_150, 44)] });
    // A second Authorize for a token already charging: ConcurrentTx.
    assert.equal((await cp.call<{ idTagInfo: { status: string } }>('Authorize', { idTag: 'RFID-0001' })).idTagInfo.status, 'ConcurrentTx');
    const stop = await cp.call<{ idTagInfo?: { status: string } }>('StopTransaction', {
      transactionId: start.transactionId, meterStop: 16_500, timestamp: '2026-11-20T18:40:00Z', idTag: 'RFID-0001', reason: 'EVDisconnected',
      transactionData: [meter('2026-11-20T18:40:00Z', 16_500, 0)],
    });
    assert.equal(stop.idTagInfo?.status, 'Accepted');
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: '2026-11-20T18:41:00Z' });

    const station = await (await server.api('/api/stations/DEPOT-AC-01')).json();
    assert.equal(station.online, true);
    assert.equal(station.vendor, 'Voltyard Test');
    assert.deepEqual(station.connectors.map((c: { connectorId: number; status: string }) => [c.connectorId, c.status]), [[0, 'Available'], [1, 'Available']]);

    const tx = await (await server.api(`/api/transactions/${start.transactionId}`)).json();
    assert.equal(tx.transaction.energyKwh, 4.5);
    assert.equal(tx.transaction.meterStartKwh, 12);
    assert.equal(tx.transaction.stopReason, 'EVDisconnected');
    assert.equal(tx.transaction.active, false);
    const energy = tx.samples.filter((s: { measurand: string }) => s.measurand === 'Energy.Active.Import.Register');
    assert.deepEqual(energy.map((s: { value: number; unit: string }) => [s.value, s.unit]), [[13.8, 'kWh'], [15.6, 'kWh'], [16.5, 'kWh']]);
    const power = tx.samples.find((s: { measurand: string }) => s.measurand === 'Power.Active.Import');
    assert.deepEqual([power.value, power.unit], [7.2, 'kW']);

    const list = await (await server.api('/api/transactions?stationId=DEPOT-AC-01')).json();
    assert.equal(list.total, 1);

    assert.equal((await server.eventsOf('StationConnected')).length, 1);
    const booted = await server.eventsOf('StationBooted');
    assert.equal(booted[0].registration, 'Accepted');
    const started = await server.eventsOf('SessionStarted');
    assert.deepEqual(started.map((e) => [e.transactionId, e.evseId, e.idToken, e.meterStartKwh, e.at]), [[String(start.transactionId), 1, 'RFID-0001', 12, '2026-11-20T18:00:05.000Z']]);
    const samples = await server.eventsOf('MeterSampled');
    assert.equal(samples.length, 3);
    assert.equal(samples[0].powerKw, 7.2);
    assert.equal(samples[0].energyKwh, 13.8);
    assert.equal(samples[0].socPercent, 41.5);
    assert.equal(samples[0].currentA, 16.3, 'max phase current');
    assert.equal(samples[0].voltageV, 230.5);
    assert.deepEqual(samples[0].phases?.['Current.Import'], { L1: 16.1, L2: 15.9, L3: 16.3 });
    const ended = await server.eventsOf('SessionEnded');
    assert.deepEqual(ended.map((e) => [e.transactionId, e.energyKwh, e.reason, e.known]), [[String(start.transactionId), 4.5, 'EVDisconnected', true]]);
    const statuses = (await server.eventsOf('ConnectorStatusChanged')).filter((e) => e.evseId === 1).map((e) => e.status);
    assert.deepEqual(statuses, ['Preparing', 'Charging', 'Available']);
    // No OCPP type leaks: events carry domain units only.
    assert.ok(!JSON.stringify(server.events).includes('sampledValue'));

    await cp.close();
    await waitFor('offline', async () => (await (await server.api('/api/stations/DEPOT-AC-01')).json()).online === false);
    assert.equal((await server.eventsOf('StationDisconnected')).length, 1);
  } finally {
    await server.stop();
  }
}, test);

test('Authorize answers from the token registry: Accepted, Blocked, Expired, Invalid', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('OK-1');
    await server.putToken('BLOCKED-1', { status: 'Blocked' });
    await server.putToken('OLD-1', { status: 'Accepted', expiresAt: '2020-01-01T00:00:00Z' });
    await server.putToken('CHILD-1', { status: 'Accepted', parentIdTag: 'FLEET-A', expiresAt: '2099-01-01T00:00:00Z' });
    const cp = await bootCharger(server.url, 'CP-AUTH');
    const status = async (idTag: string) => (await cp.call<{ idTagInfo: { status: string; parentIdTag?: string; expiryDate?: string } }>('Authorize', { idTag })).idTagInfo;
    assert.equal((await status('OK-1')).status, 'Accepted');
    assert.equal((await status('BLOCKED-1')).status, 'Blocked');
    assert.equal((await status('OLD-1')).status, 'Expired');
    assert.equal((await status('NOBODY')).status, 'Invalid');
    const child = await status('CHILD-1');
    assert.equal(child.parentIdTag, 'FLEET-A');
    assert.equal(child.expiryDate, '2099-01-01T00:00:00.000Z');
    // An unknown token may still start a transaction at the charger (offline authorisation): it gets an id and Invalid.
    const start = await cp.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', { connectorId: 1, idTag: 'NOBODY', meterStart: 0, timestamp: '2026-11-20T10:00:00Z' });
    assert.equal(start.idTagInfo.status, 'Invalid');
    assert.ok(start.transactionId > 0);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('DataTransfer, DiagnosticsStatusNotification and FirmwareStatusNotification are answered and recorded', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger(server.url, 'CP-MISC');
    assert.deepEqual(await cp.call('DataTransfer', { vendorId: 'com.example', messageId: 'x', data: 'y' }), { status: 'UnknownVendorId' });
    assert.deepEqual(await cp.call('DiagnosticsStatusNotification', { status: 'Uploaded' }), {});
    assert.deepEqual(await cp.call('FirmwareStatusNotification', { status: 'Installing' }), {});
    const station = await (await server.api('/api/stations/CP-MISC')).json();
    assert.equal(station.firmwareStatus, 'Installing');
    assert.equal(station.diagnosticsStatus, 'Uploaded');
    await cp.close();
  } finally {
    await server.stop();
  }
});
