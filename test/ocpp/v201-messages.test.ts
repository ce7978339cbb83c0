import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectCharger } from '../helpers/charger.ts';
import { onBothStores, startOcppServer, waitFor } from './helpers.ts';
import { boot201, bootCharger201, txEvent } from './v201.ts';

const TX = 'TX-2026-11-20-0001';

onBothStores('a 2.0.1 charging session from boot to Ended becomes stored state and domain events', async (_t, overrides) => {
  const server = await startOcppServer(overrides);
  try {
    await server.putToken('04A1B2C3D4');
    const cp = await bootCharger201(server.url, 'DEPOT-DC-01');
    assert.deepEqual(await cp.call('StatusNotification', { timestamp: '2026-11-20T18:00:00Z', connectorStatus: 'Available', evseId: 1, connectorId: 1 }), {});
    await cp.call('StatusNotification', { timestamp: '2026-11-20T18:00:01Z', connectorStatus: 'Occupied', evseId: 1, connectorId: 1 });
    const started = await cp.call<{ idTokenInfo: { status: string } }>('TransactionEvent', txEvent('Started', {
      transactionId: TX, seqNo: 0, timestamp: '2026-11-20T18:00:05Z', evseId: 1, idToken: '04a1b2c3d4', chargingState: 'EVConnected',
      meter: [{ wh: 120_000, context: 'Transaction.Begin' }],
    }));
    assert.equal(started.idTokenInfo.status, 'Accepted', 'an ISO14443 UID matches its registered upper-case spelling');
    await cp.call('TransactionEvent', txEvent('Updated', { transactionId: TX, seqNo: 1, timestamp: '2026-11-20T18:01:00Z', chargingState: 'Charging', triggerReason: 'ChargingStateChanged' }));
    // A 2.0.1 meter value may scale with unitOfMeasure: 1.5 kWh × 10^2 = 150 kWh; 50 kW given as 5 × 10^4 W.
    await cp.call('TransactionEvent', {
      ...txEvent('Updated', { transactionId: TX, seqNo: 2, timestamp: '2026-11-20T18:30:00Z' }),
      meterValue: [{ timestamp: '2026-11-20T18:30:00Z', sampledValue: [
        { value: 1.5, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'kWh', multiplier: 2 } },
        { value: 5, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W', multiplier: 4 } },
        { value: 62, measurand: 'SoC', unitOfMeasure: { unit: 'Percent' }, location: 'EV' },
      ] }],
    });
    const ended = await cp.call<{ idTokenInfo?: { status: string } }>('TransactionEvent', txEvent('Ended', {
      transactionId: TX, seqNo: 3, timestamp: '2026-11-20T18:45:00Z', stoppedReason: 'SOCLimitReached', triggerReason: 'StopAuthorized', idToken: '04A1B2C3D4',
      meter: [{ wh: 160_000, context: 'Transaction.End' }],
    }));
    assert.equal(ended.idTokenInfo?.status, 'Accepted');
    await cp.call('StatusNotification', { timestamp: '2026-11-20T18:46:00Z', connectorStatus: 'Available', evseId: 1, connectorId: 1 });

    const station = await (await server.api('/api/stations/DEPOT-DC-01')).json();
    assert.deepEqual([station.online, station.protocol, station.vendor, station.serialNumber], [true, 'ocpp2.0.1', 'Voltyard Test', 'SN-201']);
    assert.deepEqual(station.connectors.map((c: { connectorId: number; status: string }) => [c.connectorId, c.status]), [[1, 'Available']]);

    const list = await (await server.api('/api/transactions?stationId=DEPOT-DC-01')).json();
    assert.equal(list.total, 1);
    const id = list.items[0].id as number;
    const { transaction: tx, samples } = await (await server.api(`/api/transactions/${id}`)).json();
    assert.deepEqual(
      [tx.stationTransactionId, tx.protocol, tx.idTag, tx.idTagStatus, tx.startedAt, tx.stoppedAt, tx.meterStartKwh, tx.meterStopKwh, tx.energyKwh, tx.stopReason, tx.known, tx.active],
      [TX, 'ocpp2.0.1', '04A1B2C3D4', 'Accepted', '2026-11-20T18:00:05.000Z', '2026-11-20T18:45:00.000Z', 120, 160, 40, 'SOCLimitReached', true, false],
    );
    assert.deepEqual(samples.filter((s: { measurand: string }) => s.measurand === 'Energy.Active.Import.Register').map((s: { value: number }) => s.value), [120, 150, 160]);

    const [start] = await server.eventsOf('SessionStarted');
    assert.deepEqual([start!.transactionId, start!.evseId, start!.idToken, start!.meterStartKwh, start!.at], [String(id), 1, '04A1B2C3D4', 120, '2026-11-20T18:00:05.000Z']);
    const sampled = await server.eventsOf('MeterSampled');
    assert.deepEqual(sampled.map((e) => [e.energyKwh, e.powerKw, e.socPercent, e.transactionId]), [[120, null, null, String(id)], [150, 50, 62, String(id)], [160, null, null, String(id)]]);
    const [end] = await server.eventsOf('SessionEnded');
    assert.deepEqual([end!.transactionId, end!.energyKwh, end!.meterStopKwh, end!.reason, end!.known], [String(id), 40, 160, 'SOCLimitReached', true]);
    assert.deepEqual((await server.eventsOf('ConnectorStatusChanged')).map((e) => [e.evseId, e.connectorId, e.status]), [[1, 1, 'Available'], [1, 1, 'Occupied'], [1, 1, 'Available']]);
    assert.ok(!JSON.stringify(server.events).includes('sampledValue'), 'no OCPP type leaks into domain events');

    await cp.close();
    await waitFor('offline', async () => (await (await server.api('/api/stations/DEPOT-DC-01')).json()).online === false);
  } finally {
    await server.stop();
  }
}, test);

test('Authorize takes idTokens of every type: registry answers, NoAuthorization, Unknown, Blocked, Expired, ConcurrentTx, group', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('AABBCCDDEEFF');
    await server.putToken('DE-VYD-C12345678-X');
    await server.putToken('1234');
    await server.putToken('FLEET-CARD-7', { status: 'Accepted', parentIdTag: 'FLEET-A', expiresAt: '2099-01-01T00:00:00Z' });
    await server.putToken('BLOCKED-1', { status: 'Blocked' });
    await server.putToken('OLD-1', { status: 'Accepted', expiresAt: '2020-01-01T00:00:00Z' });
    const cp = await bootCharger201(server.url, 'CP-AUTH-201');
    const auth = async (idToken: string, type: string) => (await cp.call<{ idTokenInfo: { status: string; groupIdToken?: { idToken: string }; cacheExpiryDateTime?: string } }>('Authorize', { idToken: { idToken, type } })).idTokenInfo;
    assert.equal((await auth('aabbccddeeff', 'MacAddress')).status, 'Accepted');
    assert.equal((await auth('DE-VYD-C12345678-X', 'eMAID')).status, 'Accepted');
    assert.equal((await auth('1234', 'KeyCode')).status, 'Accepted');
    for (const type of ['ISO14443', 'ISO15693', 'Local', 'Central']) assert.equal((await auth('FLEET-CARD-7', type)).status, 'Accepted', type);
    const group = await auth('FLEET-CARD-7', 'ISO14443');
    assert.deepEqual([group.groupIdToken?.idToken, group.cacheExpiryDateTime], ['FLEET-A', '2099-01-01T00:00:00.000Z']);
    assert.equal((await auth('', 'NoAuthorization')).status, 'Accepted');
    assert.equal((await auth('NOBODY', 'ISO14443')).status, 'Unknown');
    assert.equal((await auth('BLOCKED-1', 'ISO14443')).status, 'Blocked');
    assert.equal((await auth('OLD-1', 'ISO14443')).status, 'Expired');
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'T-A', seqNo: 0, timestamp: '2026-11-20T10:00:00Z', evseId: 1, idToken: '1234', tokenType: 'KeyCode', meter: [{ wh: 0 }] }));
    assert.equal((await auth('1234', 'KeyCode')).status, 'ConcurrentTx');
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('NotifyEVChargingNeeds becomes an EvChargingNeedsReported event in kW, kWh and ISO instants, linked to the open transaction', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger201(server.url, 'CP-15118');
    await cp.call('TransactionEvent', txEvent('Started', { transactionId: 'EV-1', seqNo: 0, timestamp: '2026-11-20T17:00:00Z', evseId: 2, meter: [{ wh: 5000 }] }));
    const dc = await cp.call<{ status: string }>('NotifyEVChargingNeeds', {
      evseId: 2,
      chargingNeeds: {
        requestedEnergyTransfer: 'DC', departureTime: '2026-11-21T05:30:00+01:00',
        dcChargingParameters: { evMaxCurrent: 300, evMaxVoltage: 800, energyAmount: 85_000, evMaxPower: 150_000, stateOfCharge: 22, evEnergyCapacity: 420_000, fullSoC: 100, bulkSoC: 80 },
      },
    });
    assert.equal(dc.status, 'Processing');
    const ac = await cp.call<{ status: string }>('NotifyEVChargingNeeds', {
      evseId: 3, chargingNeeds: { requestedEnergyTransfer: 'AC_three_phase', acChargingParameters: { energyAmount: 30_500, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } },
    });
    assert.equal(ac.status, 'Processing');
    const needs = await server.eventsOf('EvChargingNeedsReported');
    const [txId] = (await server.eventsOf('SessionStarted')).map((e) => e.transactionId);
    assert.deepEqual({ ...needs[0], at: undefined, receivedAt: undefined }, {
      type: 'EvChargingNeedsReported', stationId: 'CP-15118', at: undefined, receivedAt: undefined, evseId: 2, transactionId: txId, currentType: 'DC', phases: null,
      energyRequestKwh: 85, departureAt: '2026-11-21T04:30:00.000Z', minCurrentA: null, maxCurrentA: 300, maxVoltageV: 800, maxPowerKw: 150,
      socPercent: 22, batteryCapacityKwh: 420, fullSocPercent: 100, bulkSocPercent: 80,
    });
    assert.deepEqual([needs[1]!.currentType, needs[1]!.phases, needs[1]!.energyRequestKwh, needs[1]!.minCurrentA, needs[1]!.maxCurrentA, needs[1]!.transactionId, needs[1]!.departureAt], ['AC', 3, 30.5, 6, 32, null, null]);
    const tx = await (await server.api(`/api/transactions/${txId}`)).json();
    assert.deepEqual([tx.transaction.evEnergyRequestKwh, tx.transaction.evDepartureAt], [85, '2026-11-21T04:30:00.000Z']);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('the other 2.0.1 station messages are answered, recorded where Voltyard keeps them, and logged', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger201(server.url, 'CP-MISC-201');
    const schedule = { id: 1, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 11_000 }] };
    assert.deepEqual(await cp.call('NotifyEVChargingSchedule', { timeBase: '2026-11-20T18:00:00Z', evseId: 1, chargingSchedule: schedule }), { status: 'Accepted' });
    assert.deepEqual(await cp.call('NotifyChargingLimit', { evseId: 1, chargingLimit: { chargingLimitSource: 'SO', isGridCritical: true }, chargingSchedule: [schedule] }), {});
    assert.deepEqual(await cp.call('SecurityEventNotification', { type: 'TamperDetectionActivated', timestamp: '2026-11-20T18:00:00Z', techInfo: 'lid open' }), {});
    assert.deepEqual(await cp.call('FirmwareStatusNotification', { status: 'Installing', requestId: 4 }), {});
    assert.deepEqual(await cp.call('LogStatusNotification', { status: 'Uploaded', requestId: 5 }), {});
    assert.deepEqual(await cp.call('DataTransfer', { vendorId: 'com.example', messageId: 'x', data: { any: 'json' } }), { status: 'UnknownVendorId' });
    assert.deepEqual(await cp.call('Heartbeat', {}).then((r) => Object.keys(r)), ['currentTime']);
    assert.deepEqual(await cp.call('NotifyEvent', { generatedAt: '2026-11-20T18:00:00Z', seqNo: 0, eventData: [{ eventId: 1, timestamp: '2026-11-20T18:00:00Z', trigger: 'Alerting', actualValue: 'true', eventNotificationType: 'HardWiredNotification', component: { name: 'Connector' }, variable: { name: 'Problem' } }] }), {});
    // Reports that nobody asked for are acknowledged and dropped.
    assert.deepEqual(await cp.call('NotifyReport', { requestId: 99, generatedAt: '2026-11-20T18:00:00Z', seqNo: 0 }), {});
    assert.deepEqual(await cp.call('ReportChargingProfiles', { requestId: 99, chargingLimitSource: 'CSO', evseId: 1, chargingProfile: [{ id: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: [schedule] }] }), {});
    await assert.rejects(cp.call('SignCertificate', { csr: 'x' }), { rpcErrorCode: 'NotSupported' });
    // MeterValues outside a transaction: stored for the EVSE, announced with no transaction.
    await cp.call('MeterValues', { evseId: 0, meterValue: [{ timestamp: '2026-11-20T18:05:00Z', sampledValue: [{ value: 7_654_321, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }] });
    const [sampled] = await server.eventsOf('MeterSampled');
    assert.deepEqual([sampled!.evseId, sampled!.transactionId, sampled!.energyKwh], [0, null, 7654.321]);

    const station = await (await server.api('/api/stations/CP-MISC-201')).json();
    assert.deepEqual([station.firmwareStatus, station.diagnosticsStatus], ['Installing', 'Uploaded']);
    assert.equal(server.logs.find('security event reported by the station')[0]?.event, 'TamperDetectionActivated');
    assert.equal(server.logs.find('external charging limit on the station')[0]?.source, 'SO');
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('a 2.0.1 StatusNotification: per connector of an EVSE, late ones stored nowhere, Faulted is a StationFault', async () => {
  const server = await startOcppServer();
  try {
    const cp = await bootCharger201(server.url, 'CP-STATUS-201');
    await cp.call('StatusNotification', { timestamp: '2026-11-20T21:00:00Z', connectorStatus: 'Faulted', evseId: 2, connectorId: 1 });
    await cp.call('StatusNotification', { timestamp: '2026-11-20T20:59:00Z', connectorStatus: 'Available', evseId: 2, connectorId: 1 });
    const station = await (await server.api('/api/stations/CP-STATUS-201')).json();
    assert.equal(station.connectors[0].status, 'Faulted');
    assert.deepEqual((await server.eventsOf('ConnectorStatusChanged')).map((e) => e.status), ['Faulted']);
    assert.deepEqual((await server.eventsOf('StationFault')).map((e) => [e.evseId, e.errorCode]), [[2, 'Faulted']]);

    // A DC EVSE with two connectors (CCS and CHAdeMO): a vehicle on either occupies the EVSE; the other one being
    // reported Available later does not free it.
    const status = (connectorId: number, connectorStatus: string, minute: number) =>
      cp.call('StatusNotification', { timestamp: `2026-11-20T22:${String(minute).padStart(2, '0')}:00Z`, connectorStatus, evseId: 3, connectorId });
    const evse3 = async () => (await (await server.api('/api/stations/CP-STATUS-201')).json()).connectors.find((c: { connectorId: number }) => c.connectorId === 3)?.status;
    await status(1, 'Available', 0);
    await status(2, 'Available', 0);
    assert.equal(await evse3(), 'Available');
    await status(2, 'Occupied', 5);
    await status(1, 'Available', 6);
    assert.equal(await evse3(), 'Occupied');
    await status(1, 'Faulted', 7);
    assert.equal(await evse3(), 'Occupied');
    await status(2, 'Available', 8);
    assert.equal(await evse3(), 'Available', 'one connector still works');
    const evse3Events = (await server.eventsOf('ConnectorStatusChanged')).filter((e) => e.evseId === 3).map((e) => `${e.connectorId}:${e.status}`);
    // Connector 1 repeating Available (minute 6) changes nothing: answered from memory and not announced, as in 1.6.
    assert.deepEqual(evse3Events, ['1:Available', '2:Available', '2:Occupied', '1:Faulted', '2:Available']);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('unknown 2.0.1 stations: pending boots Pending and may not send transactions (SecurityError) until registered', async () => {
  const server = await startOcppServer({ unknownStations: 'pending' });
  try {
    const cp = await connectCharger(server.url, 'NEW-201', { protocols: ['ocpp2.0.1'], handlers: { TriggerMessage: () => ({ status: 'Accepted' }) } });
    assert.equal((await cp.call<{ status: string }>('BootNotification', boot201)).status, 'Pending');
    await assert.rejects(cp.call('TransactionEvent', txEvent('Started', { transactionId: 'X', seqNo: 0, timestamp: '2026-11-20T10:00:00Z', evseId: 1 })), { rpcErrorCode: 'SecurityError' });
    assert.equal((await (await server.api('/api/transactions')).json()).total, 0);
    const put = await server.api('/api/stations/NEW-201', { method: 'PUT', body: JSON.stringify({ securityProfile: 0 }) });
    assert.equal(put.status, 200);
    assert.equal((await cp.call<{ status: string }>('BootNotification', boot201)).status, 'Accepted');
    await cp.close();
  } finally {
    await server.stop();
  }
});
