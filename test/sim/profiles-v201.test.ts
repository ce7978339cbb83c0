// OCPP 2.0.1 charging profiles translated into the charger's 1.6 smart-charging model, the 2.0.1 device model, and
// how a share of 2.0.1 chargers is picked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compositeLimit, compositeSchedule, installProfile, profileRejection, type ChargerElectrics } from '../../src/sim/charging-profiles.ts';
import { clearCriteriaFrom201, matches201, profileFrom201, profileTo201, type ChargingProfile201 } from '../../src/sim/profiles-v201.ts';
import { baseReport, findVariable, valueRejection } from '../../src/sim/device-model-v201.ts';
import { protocolsForShare } from '../../src/sim/simulation.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');
const ac: ChargerElectrics = { kind: 'AC', phases: 3, voltageV: 230, maxPowerW: 22_000 };
const noTx = () => null;

const txProfile: ChargingProfile201 = {
  id: 7, stackLevel: 2, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 'abc-1',
  chargingSchedule: [
    { id: 1, chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }, { startPeriod: 600, limit: 16, numberPhases: 1 }], minChargingRate: 6, duration: 3600 },
    { id: 2, chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1000 }] },
  ],
};

test('a 2.0.1 TxProfile becomes the 1.6 model: id, purpose, first schedule, the station transaction id mapped to the local one', () => {
  const t = profileFrom201(txProfile, (id) => (id === 'abc-1' ? 3 : null));
  assert.ok('profile' in t);
  assert.deepEqual(t.profile, {
    chargingProfileId: 7, stackLevel: 2, chargingProfilePurpose: 'TxProfile', chargingProfileKind: 'Relative', transactionId: 3,
    chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }, { startPeriod: 600, limit: 16, numberPhases: 1 }], duration: 3600, minChargingRate: 6 },
  });
  assert.equal(profileRejection(1, t.profile, { transactionId: 3, startMs: t0 }, 2), null);
});

test('the translated profile limits the charger exactly as the composite-schedule rules say', () => {
  const max: ChargingProfile201 = {
    id: 1, stackLevel: 0, chargingProfilePurpose: 'ChargingStationMaxProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: [{ id: 1, startSchedule: new Date(t0).toISOString(), chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 20_000 }, { startPeriod: 1800, limit: 5000 }] }],
  };
  const tx = { transactionId: 3, startMs: t0 };
  let installed = installProfile([], 0, (profileFrom201(max, noTx) as { profile: never }).profile, t0);
  installed = installProfile(installed, 1, (profileFrom201(txProfile, () => 3) as { profile: never }).profile, t0);
  assert.equal(compositeLimit(installed, 1, tx, t0, ac).watts, 10 * 230 * 3, '10 A on three phases');
  assert.equal(compositeLimit(installed, 1, tx, t0 + 700_000, ac).watts, 16 * 230, '16 A on one phase');
  assert.equal(compositeLimit(installed, 1, tx, t0 + 1_900_000, ac).watts, 16 * 230, 'under the station max of 5 kW');
  assert.equal(compositeLimit(installed, 1, { transactionId: 4, startMs: t0 }, t0, ac).watts, 20_000, 'another transaction: only the station max');
  const s = compositeSchedule(installed, 1, tx, t0, 3600, ac, 'W');
  assert.deepEqual(s.chargingSchedulePeriod.map((p) => [p.startPeriod, p.limit]), [[0, 6900], [600, 3680]]);
});

test('profiles a CSMS may not send, or that name a transaction not running here, are refused with the reason', () => {
  assert.deepEqual(profileFrom201({ ...txProfile, chargingProfilePurpose: 'ChargingStationExternalConstraints' }, noTx), { rejected: 'ChargingStationExternalConstraints is set by the station, not by a CSMS' });
  assert.match((profileFrom201(txProfile, noTx) as { rejected: string }).rejected, /abc-1 is not running/);
  assert.match((profileFrom201({ ...txProfile, chargingProfilePurpose: 'TxDefaultProfile' }, () => 3) as { rejected: string }).rejected, /only a TxProfile/);
  assert.match((profileFrom201({ ...txProfile, chargingSchedule: [] }, () => 3) as { rejected: string }).rejected, /no chargingSchedule/);
});

test('an installed profile is reported back in 2.0.1 terms (GetChargingProfiles)', () => {
  const t = profileFrom201(txProfile, () => 3) as { profile: Parameters<typeof profileTo201>[0] };
  const back = profileTo201(t.profile, 'abc-1');
  assert.deepEqual(back, { ...txProfile, chargingSchedule: [{ ...txProfile.chargingSchedule[0], id: 7 }] }, 'the schedule the charger runs, under the profile id');
  const max = profileTo201({ chargingProfileId: 9, stackLevel: 0, chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 1 }] } }, 'ignored');
  assert.equal(max.chargingProfilePurpose, 'ChargingStationMaxProfile');
  assert.equal(max.transactionId, undefined, 'only a TxProfile names a transaction');
});

test('ClearChargingProfile and GetChargingProfiles criteria', () => {
  assert.deepEqual(clearCriteriaFrom201({ evseId: 1, chargingProfilePurpose: 'ChargingStationMaxProfile', stackLevel: 0 }), { connectorId: 1, chargingProfilePurpose: 'ChargePointMaxProfile', stackLevel: 0 });
  assert.deepEqual(clearCriteriaFrom201({ chargingProfileId: 4 }), { id: 4 });
  assert.equal(clearCriteriaFrom201({ chargingProfilePurpose: 'ChargingStationExternalConstraints' }), null);
  assert.equal(matches201(1, txProfile, {}), true);
  assert.equal(matches201(1, txProfile, { evseId: 2 }), false);
  assert.equal(matches201(1, txProfile, { chargingProfilePurpose: 'TxDefaultProfile' }), false);
  assert.equal(matches201(1, txProfile, { chargingProfileId: [7, 8] }), true);
  assert.equal(matches201(1, txProfile, { chargingLimitSource: ['EMS'] }), false, 'a CSMS profile has source CSO');
});

test('device model: known variables, values checked, the configuration inventory lists what may be written', () => {
  assert.equal(findVariable({ name: 'Nope' }, { name: 'X' }), 'UnknownComponent');
  assert.equal(findVariable({ name: 'OCPPCommCtrlr' }, { name: 'X' }), 'UnknownVariable');
  const hb = findVariable({ name: 'OCPPCommCtrlr' }, { name: 'HeartbeatInterval' });
  assert.ok(typeof hb === 'object');
  assert.equal(hb.key, 'HeartbeatInterval');
  assert.equal(valueRejection(hb, '60'), null);
  assert.equal(valueRejection(hb, '-1'), 'not a non-negative integer');
  const attempts = findVariable({ name: 'OCPPCommCtrlr' }, { name: 'MessageAttempts', instance: 'TransactionEvent' });
  assert.ok(typeof attempts === 'object' && attempts.key === 'TransactionMessageAttempts');
  const rate = findVariable({ name: 'SmartChargingCtrlr' }, { name: 'RateUnit' });
  assert.ok(typeof rate === 'object' && valueRejection(rate, 'W') === 'read-only');
  const config = baseReport('ConfigurationInventory', (k) => `v:${k}`);
  assert.ok(config.every((d) => d.variableAttribute[0].mutability === 'ReadWrite'));
  assert.ok(baseReport('FullInventory', () => '').length > config.length);
  assert.equal(config.find((d) => d.variable.name === 'TxUpdatedInterval')?.variableAttribute[0].value, 'v:MeterValueSampleInterval');
});

test('a share of 2.0.1 chargers is spread evenly and is exact', () => {
  const ids = Array.from({ length: 8 }, (_, k) => `C${k}`);
  assert.deepEqual(Object.values(protocolsForShare(ids, 0.5)), ['ocpp1.6', 'ocpp2.0.1', 'ocpp1.6', 'ocpp2.0.1', 'ocpp1.6', 'ocpp2.0.1', 'ocpp1.6', 'ocpp2.0.1']);
  assert.equal(Object.values(protocolsForShare(ids, 0.25)).filter((p) => p === 'ocpp2.0.1').length, 2);
  assert.ok(Object.values(protocolsForShare(ids, 0)).every((p) => p === 'ocpp1.6'));
  assert.ok(Object.values(protocolsForShare(ids, 1)).every((p) => p === 'ocpp2.0.1'));
  assert.throws(() => protocolsForShare(ids, 1.5), /between 0 and 1/);
});
