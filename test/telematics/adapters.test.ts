import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { systemClock } from '../../src/clock.ts';
import { createSmartcarProvider, decodeSmartcar } from '../../src/telematics/providers/smartcar.ts';
import { decodeSamsara } from '../../src/telematics/providers/samsara.ts';
import { decodeGeotab } from '../../src/telematics/providers/geotab.ts';
import { decodeTesla } from '../../src/telematics/providers/tesla.ts';
import { createWebhookProvider, decodeWithMapping, mappingProblems } from '../../src/telematics/providers/webhook.ts';
import { createMqttDecoder, mqttSettingsProblems } from '../../src/telematics/providers/mqtt.ts';
import { configProblems } from '../../src/telematics/providers/index.ts';
import { checkDraft, DecodeError } from '../../src/telematics/reading.ts';
import * as docs from './vendor-payloads.ts';

const near = (actual: number | null, expected: number, eps = 1e-6) => assert.ok(actual !== null && Math.abs(actual - expected) < eps, `${actual} ≈ ${expected}`);
const hmac = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
const NOW = Date.parse('2026-11-28T10:00:00.000Z');

test('Smartcar v4 VEHICLE_STATE: percent SoC, km and miles by signal unit, one reading per OEM timestamp', () => {
  const drafts = decodeSmartcar({ receivedAt: '2026-11-28T10:00:05.000Z', body: docs.smartcarVehicleState });
  assert.equal(drafts.length, 2);
  const battery = drafts.find((d) => d.socPercent !== null)!;
  assert.equal(battery.vehicle.providerVehicleId, '36ab27d0-fd9d-4455-823a-ce30af709ffc');
  assert.equal(battery.socPercent, 72.5);
  near(battery.rangeKm, 150 * 1.609344);
  assert.equal(battery.charging, true);
  assert.equal(battery.pluggedIn, true);
  assert.equal(battery.measuredAt, new Date(docs.smartcarVehicleState.data.signals[0].meta.oemUpdatedAt!).toISOString());
  const location = drafts.find((d) => d.lat !== null)!;
  assert.equal(location.odometerKm, 15_890.2);
  assert.deepEqual([location.lat, location.lon], [37.4292, -122.1381]);
  // The failed signal (status ERROR) contributes nothing instead of poisoning the reading.
  assert.ok(drafts.every((d) => d.chargeEnergyAddedKwh === null));
});

test('Smartcar v2 schedule payload: SoC as a 0–1 fraction, imperial units converted, sc-data-age as measurement time', () => {
  const [d] = decodeSmartcar({ receivedAt: '2026-11-28T10:00:05.000Z', body: docs.smartcarScheduleV2 });
  assert.equal(d.vehicle.providerVehicleId, 'a8a5b7b3-b7d8-4a91-8a8e-3a9e9e1f4d61');
  near(d.socPercent, 30);
  near(d.rangeKm, 40.5 * 1.609344);
  near(d.odometerKm, 10_000 * 1.609344);
  assert.equal(d.pluggedIn, true);
  assert.equal(d.charging, false);
  assert.equal(d.measuredAt, '2026-11-28T09:58:31.000Z');
});

test('Smartcar v2: a percentRemaining that is already a percent is refused, not read as 7200 %', () => {
  const body = structuredClone(docs.smartcarScheduleV2);
  body.payload.vehicles[0].data[0].body.percentRemaining = 72;
  assert.throws(() => decodeSmartcar({ receivedAt: '2026-11-28T10:00:05.000Z', body }), /not a 0–1 fraction/);
});

test('Smartcar webhook: VERIFY challenge answered with HMAC(AMT, challenge); signature required and checked', () => {
  const amt = 'amt-0123456789';
  const provider = createSmartcarProvider('sc', 't1', {}, { managementToken: amt }, systemClock);
  const verify = JSON.stringify({ eventId: 'e0', eventType: 'VERIFY', data: { challenge: 'c-42' }, meta: { version: '4.0' } });
  assert.deepEqual(provider.webhook!.receive({ headers: {}, rawBody: verify, nowMs: NOW }), { kind: 'challenge', response: { challenge: hmac(amt, 'c-42') } });
  const legacy = JSON.stringify({ version: '2.0', eventName: 'verify', payload: { challenge: 'c-43' } });
  assert.deepEqual(provider.webhook!.receive({ headers: {}, rawBody: legacy, nowMs: NOW }), { kind: 'challenge', response: { challenge: hmac(amt, 'c-43') } });

  const body = JSON.stringify({ ...docs.smartcarVehicleState, meta: { ...docs.smartcarVehicleState.meta, deliveredAt: NOW - 1000 } });
  assert.equal(provider.webhook!.receive({ headers: {}, rawBody: body, nowMs: NOW }).kind, 'rejected');
  assert.equal(provider.webhook!.receive({ headers: { 'sc-signature': hmac('wrong', body) }, rawBody: body, nowMs: NOW }).kind, 'rejected');
  const ok = provider.webhook!.receive({ headers: { 'sc-signature': hmac(amt, body) }, rawBody: body, nowMs: NOW });
  assert.equal(ok.kind, 'units');
  assert.equal(ok.kind === 'units' && ok.deliveryId, docs.smartcarVehicleState.eventId);
  // A correctly signed delivery captured an hour ago and sent again is a replay.
  const old = provider.webhook!.receive({ headers: { 'sc-signature': hmac(amt, body) }, rawBody: body, nowMs: NOW + 3_600_000 });
  assert.equal(old.kind, 'rejected');
  assert.match(old.kind === 'rejected' ? old.reason : '', /replay window/);
});

test('Samsara stats feed: milli-percent SoC, metres, mph, charging status codes, VIN from externalIds', () => {
  const [vehicle] = docs.samsaraFeedPage1.data;
  const drafts = decodeSamsara(vehicle);
  const soc = drafts.filter((d) => d.socPercent !== null);
  assert.deepEqual(soc.map((d) => d.socPercent), [81.5, 82.25]);
  const odo = drafts.find((d) => d.odometerKm !== null)!;
  assert.equal(odo.odometerKm, 42_123.456);
  const gps = drafts.find((d) => d.lat !== null)!;
  near(gps.speedKmh, 10 * 1.609344);
  assert.equal(gps.vehicle.vin, '1FTBW3XM5KKA12345');
  assert.equal(drafts.find((d) => d.charging !== null)!.charging, true);
  assert.throws(() => decodeSamsara({ id: '1', evChargingStatus: [{ time: '2026-11-28T09:00:00Z', value: 7 }] }), DecodeError);
});

test('Geotab: StatusData by diagnostic id (percent, metres, charging state) and DeviceStatusInfo location', () => {
  const [soc, odo, charging] = docs.geotabFeed.result.data.slice(0, 3).map((r) => decodeGeotab({ typeName: 'StatusData', record: r })[0]);
  assert.equal(soc.socPercent, 64);
  assert.equal(soc.vehicle.providerVehicleId, 'b28');
  assert.equal(odo.odometerKm, 53_211.5);
  assert.equal(charging.charging, true);
  assert.equal(charging.pluggedIn, true);
  const [loc] = decodeGeotab({ typeName: 'DeviceStatusInfo', record: docs.geotabDeviceStatusInfo.result[0] });
  assert.deepEqual([loc.lat, loc.lon, loc.speedKmh], [43.4516, -79.6872, 0]);
  assert.throws(() => decodeGeotab({ typeName: 'StatusData', record: { ...docs.geotabFeed.result.data[0], diagnostic: { id: 'DiagnosticEngineSpeedId' } } }), /not mapped/);
});

test('Tesla vehicle_data: percent SoC, miles to km, per-section epoch-ms timestamps, charging_state', () => {
  const drafts = decodeTesla(docs.teslaVehicleData);
  assert.equal(drafts.length, 3);
  const charge = drafts.find((d) => d.socPercent !== null)!;
  assert.equal(charge.socPercent, 69);
  near(charge.rangeKm, 185.43 * 1.609344);
  assert.equal(charge.charging, true);
  assert.equal(charge.chargeEnergyAddedKwh, 12.41);
  assert.equal(charge.vehicle.vin, '5YJ3E1EA7KF000001');
  assert.equal(charge.measuredAt, new Date(docs.teslaVehicleData.response.charge_state.timestamp).toISOString());
  const drive = drafts.find((d) => d.lat !== null)!;
  assert.equal(drive.speedKmh, 0, 'speed null while parked means standing still');
  near(drafts.find((d) => d.odometerKm !== null)!.odometerKm, 15_720.1234 * 1.609344);
});

test('generic webhook: declarative mapping with units and boolean matching; bad mappings refused at save time', () => {
  const mapping = {
    records: 'events', vehicleId: 'unit.id', measuredAt: 'at',
    fields: { socPercent: { path: 'battery.level', unit: 'fraction' as const }, odometerKm: { path: 'odo_mi', unit: 'miles' as const }, charging: { path: 'chg', equals: 'CHARGING' } },
  };
  assert.deepEqual(mappingProblems(mapping), []);
  const drafts = decodeWithMapping({ events: [{ unit: { id: 'V1' }, at: 1764324000, battery: { level: '0.55' }, odo_mi: 100, chg: 'CHARGING' }] }, mapping);
  assert.equal(drafts[0].measuredAt, '2025-11-28T10:00:00.000Z');
  near(drafts[0].socPercent, 55);
  near(drafts[0].odometerKm, 160.9344);
  assert.equal(drafts[0].charging, true);
  assert.deepEqual(mappingProblems({ measuredAt: 'ts', fields: { socPercent: { path: 'x', unit: 'miles' }, bogus: 'y' } }), [
    'map vehicleId or vin (or both)', 'fields.socPercent.unit: socPercent takes percent, fraction, milliPercent, not miles', 'fields.bogus is not a reading field (socPercent, rangeKm, odometerKm, lat, lon, speedKmh, pluggedIn, charging, chargeEnergyAddedKwh)',
  ]);
});

test('generic webhook decoding: default units, every value field present (null when absent), bad values named by record and path', () => {
  const mapping = { vehicleId: 'id', vin: 'vin', measuredAt: 'ts', fields: { socPercent: 'soc', speedKmh: 'v.kmh', pluggedIn: 'plug', rangeKm: 'range' } };
  assert.deepEqual(decodeWithMapping({ id: 7, ts: '2026-11-28T10:00:00Z', soc: 61.5, v: { kmh: '12' }, plug: 1, range: null }, mapping), [{
    socPercent: 61.5, rangeKm: null, odometerKm: null, lat: null, lon: null, speedKmh: 12, pluggedIn: true, charging: null, chargeEnergyAddedKwh: null,
    vehicle: { providerVehicleId: '7', vin: null }, measuredAt: '2026-11-28T10:00:00.000Z',
  }]);
  assert.throws(() => decodeWithMapping([{ id: 'a', ts: 1764324000, soc: 50 }, { id: 'b', ts: 1764324000, soc: 'lots' }], mapping), /record 1: soc is not a number: "lots"/);
  assert.throws(() => decodeWithMapping({ id: 'a', ts: 1764324000, plug: 'maybe' }, mapping), /plug is not a boolean: "maybe"/);
  assert.throws(() => decodeWithMapping({ id: 'a', ts: 'yesterday', soc: 50 }, mapping), /ts is not a timestamp: "yesterday"/);
});

test('generic webhook signatures: HMAC over timestamp and body, tolerance window, sha256= prefix', () => {
  const provider = createWebhookProvider('gw', 't1', { timestampHeader: 'x-timestamp', mapping: { vehicleId: 'id', measuredAt: 'ts', fields: { socPercent: 'soc' } } }, { signingSecret: 'k' });
  const body = '{"id":"V1","ts":"2026-11-28T09:59:00Z","soc":50}';
  const ts = String(NOW / 1000);
  const sig = `sha256=${hmac('k', `${ts}.${body}`)}`;
  assert.equal(provider.webhook!.receive({ headers: { 'x-signature': sig, 'x-timestamp': ts }, rawBody: body, nowMs: NOW }).kind, 'units');
  assert.equal(provider.webhook!.receive({ headers: { 'x-signature': sig, 'x-timestamp': ts }, rawBody: body.replace('50', '99'), nowMs: NOW }).kind, 'rejected');
  assert.equal(provider.webhook!.receive({ headers: { 'x-signature': sig, 'x-timestamp': ts }, rawBody: body, nowMs: NOW + 600_000 }).kind, 'rejected');
  assert.equal(provider.webhook!.receive({ headers: { 'x-timestamp': ts }, rawBody: body, nowMs: NOW }).kind, 'rejected');
});

test('MQTT topic patterns: vehicle from the topic, numbers as strings, JSON with timestamps, units', () => {
  const settings = { topics: { socPercent: 'fleet/{vehicle}/battery/soc', odometerKm: 'fleet/{vehicle}/odometer', charging: 'fleet/+/{vehicle}/charging' }, units: { odometerKm: 'm' as const } };
  assert.deepEqual(mqttSettingsProblems(settings), []);
  const decode = createMqttDecoder(settings);
  const [soc] = decode({ topic: 'fleet/van-14/battery/soc', payload: ' 81.5 ', receivedAt: '2026-11-28T10:00:00.000Z' });
  assert.deepEqual([soc.vehicle.providerVehicleId, soc.socPercent, soc.measuredAt], ['van-14', 81.5, '2026-11-28T10:00:00.000Z']);
  const [odo] = decode({ topic: 'fleet/van-14/odometer', payload: '{"value":"120500","ts":1764323940000}', receivedAt: '2026-11-28T10:00:00.000Z' });
  assert.deepEqual([odo.odometerKm, odo.measuredAt], [120.5, '2025-11-28T09:59:00.000Z']);
  const [chg] = decode({ topic: 'fleet/depot-a/van-14/charging', payload: 'true', receivedAt: '2026-11-28T10:00:00.000Z' });
  assert.equal(chg.charging, true);
  assert.throws(() => decode({ topic: 'fleet/van-14/tyres', payload: '1', receivedAt: '2026-11-28T10:00:00.000Z' }), /matches no configured pattern/);
  assert.throws(() => decode({ topic: 'fleet/van-14/battery/soc', payload: 'eighty', receivedAt: '2026-11-28T10:00:00.000Z' }), /not a number/);
  assert.deepEqual(mqttSettingsProblems({ topics: { socPercent: 'fleet/#/soc' } }), ['topics.socPercent needs exactly one "{vehicle}" level']);
});

test('provider configuration is checked per kind before anything runs', () => {
  assert.deepEqual(configProblems({ kind: 'samsara', settings: {}, credentials: {} }), ['credentials.apiToken is required']);
  assert.deepEqual(configProblems({ kind: 'geotab', settings: { server: 'ftp://x' }, credentials: { userName: 'u' } }), [
    'settings.server must be an http(s) URL', 'settings.database is required', 'credentials.userName and credentials.password are required',
  ]);
  assert.deepEqual(configProblems({ kind: 'tesla', settings: { vehicleTags: [] }, credentials: { accessToken: 'x' } }), ['settings.vehicleTags must list the VINs or ids to poll']);
  assert.deepEqual(configProblems({ kind: 'nope', settings: {}, credentials: {} }), ['kind must be one of smartcar, samsara, geotab, tesla, webhook, mqtt']);
  assert.deepEqual(configProblems({ kind: 'mqtt', settings: { url: 'mqtt://fleet:hunter2@broker:1883', topics: { socPercent: 'v/{vehicle}/soc' } }, credentials: {} }), [
    'settings.url must not carry a user or password; put them in credentials',
  ]);
});

test('readings are checked: range, future timestamps, missing vehicle', () => {
  const base = { socPercent: 50, rangeKm: null, odometerKm: null, lat: null, lon: null, speedKmh: null, pluggedIn: null, charging: null, chargeEnergyAddedKwh: null };
  assert.deepEqual(checkDraft({ ...base, vehicle: { providerVehicleId: 'x', vin: null }, measuredAt: '2026-11-28T09:00:00.000Z' }, NOW), []);
  assert.deepEqual(checkDraft({ ...base, lat: 91, vehicle: { providerVehicleId: null, vin: null }, measuredAt: '2026-11-28T11:00:00.000Z' }, NOW), [
    'no vehicle id or VIN', 'measuredAt 2026-11-28T11:00:00.000Z is in the future', 'lat 91 is outside -90..90',
  ]);
});
