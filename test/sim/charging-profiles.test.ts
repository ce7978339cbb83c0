import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearProfiles, compositeLimit, compositeSchedule, endTransactionProfiles, installProfile, profileRejection,
  type ChargerElectrics, type ChargingProfile, type InstalledProfile,
} from '../../src/sim/charging-profiles.ts';

const ac3: ChargerElectrics = { kind: 'AC', phases: 3, voltageV: 230, maxPowerW: 22_000 };
const ac1: ChargerElectrics = { kind: 'AC', phases: 1, voltageV: 230, maxPowerW: 7_200 };
const dc: ChargerElectrics = { kind: 'DC', phases: 1, voltageV: 400, maxPowerW: 50_000 };
const t0 = Date.parse('2026-03-10T17:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const min = 60_000;

function profile(over: Partial<ChargingProfile> & { periods?: [number, number, number?][]; unit?: 'W' | 'A' }): ChargingProfile {
  const { periods = [[0, 11_000]], unit = 'W', ...rest } = over;
  return {
    chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute',
    chargingSchedule: {
      chargingRateUnit: unit, startSchedule: iso(t0),
      chargingSchedulePeriod: periods.map(([startPeriod, limit, numberPhases]) => ({ startPeriod, limit, ...(numberPhases ? { numberPhases } : {}) })),
    },
    ...rest,
  };
}
const at = (connectorId: number, p: ChargingProfile): InstalledProfile => ({ connectorId, profile: p, receivedMs: t0 });

test('no profile: the hardware maximum', () => {
  assert.deepEqual(compositeLimit([], 1, null, t0, ac3), { watts: 22_000, profileId: null });
});

test('periods of an absolute profile change the limit at their start', () => {
  const p = [at(1, profile({ periods: [[0, 11_000], [1800, 5_000]] }))];
  assert.equal(compositeLimit(p, 1, null, t0 + 29 * min, ac3).watts, 11_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 30 * min, ac3).watts, 5_000);
  assert.equal(compositeLimit(p, 1, null, t0 - 1, ac3).watts, 22_000, 'before startSchedule the profile is silent');
});

test('amps become watts through phases and voltage; numberPhases is capped by the wiring', () => {
  const three = [at(1, profile({ unit: 'A', periods: [[0, 16]] }))];
  assert.equal(compositeLimit(three, 1, null, t0, ac3).watts, 16 * 230 * 3);
  assert.equal(compositeLimit(three, 1, null, t0, ac1).watts, 3_680, '16 A × 230 V × 1 phase on a 1-phase charger');
  const one = [at(1, profile({ unit: 'A', periods: [[0, 10, 1]] }))];
  assert.equal(compositeLimit(one, 1, null, t0, ac3).watts, 2_300);
  assert.equal(compositeLimit([at(1, profile({ unit: 'A', periods: [[0, 100]] }))], 1, null, t0, dc).watts, 40_000, 'DC: A × DC voltage');
});

test('below 6 A on AC, or below minChargingRate, the charger pauses', () => {
  assert.equal(compositeLimit([at(1, profile({ unit: 'A', periods: [[0, 5]] }))], 1, null, t0, ac3).watts, 0);
  const p = profile({ periods: [[0, 3_000]] });
  p.chargingSchedule.minChargingRate = 4_000;
  assert.equal(compositeLimit([at(1, p)], 1, null, t0, ac3).watts, 0);
});

test('highest valid stack level wins; an ended schedule gives way to the lower level', () => {
  const low = profile({ chargingProfileId: 1, stackLevel: 0, periods: [[0, 10_000]] });
  const high = profile({ chargingProfileId: 2, stackLevel: 5, periods: [[0, 5_000]] });
  high.chargingSchedule.duration = 3600;
  const p = [at(1, low), at(1, high)];
  assert.equal(compositeLimit(p, 1, null, t0 + 10 * min, ac3).watts, 5_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 61 * min, ac3).watts, 10_000);
});

test('validFrom / validTo bound a profile', () => {
  const p = [at(1, profile({ validFrom: iso(t0 + 10 * min), validTo: iso(t0 + 20 * min), periods: [[0, 5_000]] }))];
  assert.equal(compositeLimit(p, 1, null, t0 + 5 * min, ac3).watts, 22_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 15 * min, ac3).watts, 5_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 20 * min, ac3).watts, 22_000);
});

test('TxProfile overrules TxDefaultProfile; connector default overrules connector 0 default; ChargePointMax caps', () => {
  const tx = { transactionId: 42, startMs: t0 };
  const def0 = at(0, profile({ chargingProfileId: 1, periods: [[0, 9_000]] }));
  const def1 = at(1, profile({ chargingProfileId: 2, periods: [[0, 8_000]] }));
  const txp = at(1, profile({ chargingProfileId: 3, chargingProfilePurpose: 'TxProfile', transactionId: 42, stackLevel: 0, periods: [[0, 6_000]] }));
  const max = at(0, profile({ chargingProfileId: 4, chargingProfilePurpose: 'ChargePointMaxProfile', periods: [[0, 5_000]] }));
  assert.equal(compositeLimit([def0], 1, tx, t0, ac3).watts, 9_000);
  assert.equal(compositeLimit([def0, def1], 1, tx, t0, ac3).watts, 8_000);
  assert.equal(compositeLimit([def0, def1, txp], 1, tx, t0, ac3).watts, 6_000);
  assert.equal(compositeLimit([def0, def1, txp], 1, null, t0, ac3).watts, 8_000, 'a TxProfile without its transaction does not apply');
  assert.equal(compositeLimit([def0, def1, txp, max], 1, tx, t0, ac3).watts, 5_000);
  assert.equal(compositeLimit([def0, max], 0, tx, t0, ac3).watts, 5_000, 'connector 0 reports the station cap');
});

test('Relative profiles start with the transaction', () => {
  const p = [at(1, profile({ chargingProfileKind: 'Relative', periods: [[0, 7_000], [600, 5_000]], chargingSchedule: undefined as never }))];
  p[0].profile.chargingSchedule = { chargingRateUnit: 'W', chargingSchedulePeriod: [{ startPeriod: 0, limit: 7_000 }, { startPeriod: 600, limit: 5_000 }] };
  const tx = { transactionId: 1, startMs: t0 + 30 * min };
  assert.equal(compositeLimit(p, 1, null, t0, ac3).watts, 22_000);
  assert.equal(compositeLimit(p, 1, tx, t0 + 35 * min, ac3).watts, 7_000);
  assert.equal(compositeLimit(p, 1, tx, t0 + 40 * min, ac3).watts, 5_000);
});

test('Recurring daily repeats every day from startSchedule', () => {
  const p = [at(0, profile({ chargingProfilePurpose: 'ChargePointMaxProfile', chargingProfileKind: 'Recurring', recurrencyKind: 'Daily', periods: [[0, 5_000], [4 * 3600, 15_000]] }))];
  assert.equal(compositeLimit(p, 1, null, t0 + 3600_000, ac3).watts, 5_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 5 * 3600_000, ac3).watts, 15_000);
  assert.equal(compositeLimit(p, 1, null, t0 + 24 * 3600_000 + 60_000, ac3).watts, 5_000, 'next day again');
  assert.equal(compositeLimit(p, 1, null, t0 - 3600_000, ac3).watts, 22_000, 'not before its first start');
});

test('composite schedule merges the stack into periods, in W or A', () => {
  const low = profile({ chargingProfileId: 1, stackLevel: 0, periods: [[0, 11_040], [3600, 6_900]] });
  const high = profile({ chargingProfileId: 2, stackLevel: 1, periods: [[0, 4_140]] });
  high.chargingSchedule.duration = 1200;
  const p = [at(1, low), at(1, high)];
  const w = compositeSchedule(p, 1, null, t0, 7200, ac3);
  assert.deepEqual(w.chargingSchedulePeriod, [{ startPeriod: 0, limit: 4_140 }, { startPeriod: 1200, limit: 11_040 }, { startPeriod: 3600, limit: 6_900 }]);
  const a = compositeSchedule(p, 1, null, t0, 7200, ac3, 'A');
  assert.deepEqual(a.chargingSchedulePeriod.map((x) => x.limit), [6, 16, 10]);
  assert.equal(a.startSchedule, iso(t0));
  assert.deepEqual(compositeSchedule([], 1, null, t0, 600, ac3).chargingSchedulePeriod, [{ startPeriod: 0, limit: 22_000 }]);
});

test('install replaces by id and by purpose + stack level on the connector; clear by criteria', () => {
  let p = installProfile([], 1, profile({ chargingProfileId: 1, stackLevel: 0 }), t0);
  p = installProfile(p, 1, profile({ chargingProfileId: 2, stackLevel: 1 }), t0);
  p = installProfile(p, 1, profile({ chargingProfileId: 3, stackLevel: 1 }), t0);
  assert.deepEqual(p.map((x) => x.profile.chargingProfileId), [1, 3]);
  p = installProfile(p, 2, profile({ chargingProfileId: 1, stackLevel: 0 }), t0);
  assert.deepEqual(p.map((x) => [x.connectorId, x.profile.chargingProfileId]), [[1, 3], [2, 1]]);
  assert.equal(clearProfiles(p, { id: 99 }).cleared, 0);
  assert.deepEqual(clearProfiles(p, { connectorId: 1 }).profiles.map((x) => x.profile.chargingProfileId), [1]);
  assert.equal(clearProfiles(p, {}).cleared, 2);
  const tx = installProfile(p, 2, profile({ chargingProfileId: 7, chargingProfilePurpose: 'TxProfile' }), t0);
  assert.deepEqual(endTransactionProfiles(tx, 2).map((x) => x.profile.chargingProfileId), [3, 1]);
});

test('rejections follow OCPP 1.6', () => {
  const tx = { transactionId: 5, startMs: t0 };
  assert.match(profileRejection(1, profile({ chargingProfilePurpose: 'ChargePointMaxProfile' }), null, 1)!, /connector 0/);
  assert.match(profileRejection(1, profile({ chargingProfilePurpose: 'TxProfile' }), null, 1)!, /no transaction/);
  assert.match(profileRejection(1, profile({ chargingProfilePurpose: 'TxProfile', transactionId: 6 }), tx, 1)!, /not running/);
  assert.equal(profileRejection(1, profile({ chargingProfilePurpose: 'TxProfile', transactionId: 5 }), tx, 1), null);
  assert.match(profileRejection(1, profile({ periods: [[10, 5]] }), null, 1)!, /start at 0/);
  assert.match(profileRejection(1, profile({ periods: [[0, 5], [0, 6]] }), null, 1)!, /increasing/);
  assert.match(profileRejection(3, profile({}), null, 2)!, /unknown connector/);
  assert.match(profileRejection(1, profile({ chargingProfileKind: 'Recurring' }), null, 1)!, /recurrencyKind/);
});
