// OCPP 2.0.1 charging profiles as a 1.6-shaped charger applies them: the composite-schedule rules of
// charging-profiles.ts are the same in 2.0.1 (K01/K08: purposes, stack levels, validity, W or A, phases), so a 2.0.1
// profile is translated into that model instead of being evaluated twice. Pure: no clock, no I/O.
//
// What differs, and how the translation handles it:
// - ChargingStationMaxProfile is 1.6's ChargePointMaxProfile; EVSE 0 is 1.6's connector 0.
// - ChargingStationExternalConstraints is the station's record of limits set by others: a CSMS may not install one
//   (K01.FR.22), so it is refused.
// - chargingSchedule is an array: up to three alternatives offered to an ISO 15118 vehicle, which picks one. Without
//   15118 the station runs the first one; the others are kept only for GetChargingProfiles.
// - transactionId is the station's own string id; the 1.6 model keys transactions by number, so the caller maps the
//   string to its local number (or says it is not running here).
import type { ChargingProfile, ChargingRateUnit, ChargingSchedulePeriod, ProfilePurpose } from './charging-profiles.ts';

export type Purpose201 = 'ChargingStationExternalConstraints' | 'ChargingStationMaxProfile' | 'TxDefaultProfile' | 'TxProfile';

export interface ChargingSchedule201 {
  id: number;
  startSchedule?: string;
  duration?: number;
  chargingRateUnit: ChargingRateUnit;
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

/** An OCPP 2.0.1 ChargingProfileType (after the 2.0.1 JSON schema has checked it). */
export interface ChargingProfile201 {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: Purpose201;
  chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  transactionId?: string;
  chargingSchedule: ChargingSchedule201[];
}

const toPurpose16: Record<Exclude<Purpose201, 'ChargingStationExternalConstraints'>, ProfilePurpose> = {
  ChargingStationMaxProfile: 'ChargePointMaxProfile', TxDefaultProfile: 'TxDefaultProfile', TxProfile: 'TxProfile',
};
const toPurpose201: Record<ProfilePurpose, Purpose201> = {
  ChargePointMaxProfile: 'ChargingStationMaxProfile', TxDefaultProfile: 'TxDefaultProfile', TxProfile: 'TxProfile',
};

export const purposeTo16 = (p: Purpose201): ProfilePurpose | null => p === 'ChargingStationExternalConstraints' ? null : toPurpose16[p];
export const purposeTo201 = (p: ProfilePurpose): Purpose201 => toPurpose201[p];

export type Translation = { readonly profile: ChargingProfile } | { readonly rejected: string };

/**
 * A 2.0.1 profile in the 1.6 model. `localTransaction` maps the profile's transactionId to the number the charger
 * runs that transaction under, or null when no such transaction runs on this EVSE.
 */
export function profileFrom201(p: ChargingProfile201, localTransaction: (stationTxId: string) => number | null): Translation {
  const purpose = purposeTo16(p.chargingProfilePurpose);
  if (!purpose) return { rejected: 'ChargingStationExternalConstraints is set by the station, not by a CSMS' };
  const schedule = p.chargingSchedule[0];
  if (!schedule) return { rejected: 'profile has no chargingSchedule' };
  if (p.transactionId !== undefined && purpose !== 'TxProfile') return { rejected: 'only a TxProfile names a transaction' };
  let transactionId: number | undefined;
  if (p.transactionId !== undefined) {
    const local = localTransaction(p.transactionId);
    if (local === null) return { rejected: `transaction ${p.transactionId} is not running on this EVSE` };
    transactionId = local;
  }
  return {
    profile: {
      chargingProfileId: p.id,
      stackLevel: p.stackLevel,
      chargingProfilePurpose: purpose,
      chargingProfileKind: p.chargingProfileKind,
      ...(p.recurrencyKind ? { recurrencyKind: p.recurrencyKind } : {}),
      ...(p.validFrom ? { validFrom: p.validFrom } : {}),
      ...(p.validTo ? { validTo: p.validTo } : {}),
      ...(transactionId !== undefined ? { transactionId } : {}),
      chargingSchedule: {
        chargingRateUnit: schedule.chargingRateUnit,
        chargingSchedulePeriod: schedule.chargingSchedulePeriod.map((x) => ({ startPeriod: x.startPeriod, limit: x.limit, ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}) })),
        ...(schedule.duration !== undefined ? { duration: schedule.duration } : {}),
        ...(schedule.startSchedule ? { startSchedule: schedule.startSchedule } : {}),
        ...(schedule.minChargingRate !== undefined ? { minChargingRate: schedule.minChargingRate } : {}),
      },
    },
  };
}

export interface ProfileCriteria201 {
  readonly chargingProfileId?: number;
  readonly evseId?: number;
  readonly chargingProfilePurpose?: Purpose201;
  readonly stackLevel?: number;
}

/** The 1.6 ClearChargingProfile criteria for a 2.0.1 ClearChargingProfileRequest (null: it names a purpose no CSMS profile has). */
export function clearCriteriaFrom201(c: ProfileCriteria201): { id?: number; connectorId?: number; chargingProfilePurpose?: ProfilePurpose; stackLevel?: number } | null {
  const purpose = c.chargingProfilePurpose === undefined ? undefined : purposeTo16(c.chargingProfilePurpose);
  if (purpose === null) return null;
  return {
    ...(c.chargingProfileId !== undefined ? { id: c.chargingProfileId } : {}),
    ...(c.evseId !== undefined ? { connectorId: c.evseId } : {}),
    ...(purpose !== undefined ? { chargingProfilePurpose: purpose } : {}),
    ...(c.stackLevel !== undefined ? { stackLevel: c.stackLevel } : {}),
  };
}

/** K09 GetChargingProfiles: whether an installed profile matches the request's criteria (every given field must match). */
export function matches201(evseId: number, p: ChargingProfile201, c: { evseId?: number; chargingProfilePurpose?: Purpose201; stackLevel?: number; chargingProfileId?: readonly number[]; chargingLimitSource?: readonly string[] }): boolean {
  if (c.chargingProfileId && c.chargingProfileId.length > 0) return c.chargingProfileId.includes(p.id) && (c.evseId === undefined || c.evseId === evseId);
  return (c.evseId === undefined || c.evseId === evseId) &&
    (c.chargingProfilePurpose === undefined || c.chargingProfilePurpose === p.chargingProfilePurpose) &&
    (c.stackLevel === undefined || c.stackLevel === p.stackLevel) &&
    // Every profile the CSMS installed has source CSO; a request only for other sources matches none of them.
    (c.chargingLimitSource === undefined || c.chargingLimitSource.includes('CSO'));
}

/**
 * An installed profile back in 2.0.1 terms (GetChargingProfiles): the schedule the charger runs, under the profile's
 * id; a TxProfile names the station's id of the transaction it belongs to.
 */
export function profileTo201(p: ChargingProfile, stationTxId: string | undefined): ChargingProfile201 {
  const s = p.chargingSchedule;
  return {
    id: p.chargingProfileId,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purposeTo201(p.chargingProfilePurpose),
    chargingProfileKind: p.chargingProfileKind,
    ...(p.recurrencyKind ? { recurrencyKind: p.recurrencyKind } : {}),
    ...(p.validFrom ? { validFrom: p.validFrom } : {}),
    ...(p.validTo ? { validTo: p.validTo } : {}),
    ...(p.chargingProfilePurpose === 'TxProfile' && stationTxId !== undefined ? { transactionId: stationTxId } : {}),
    chargingSchedule: [{
      id: p.chargingProfileId,
      chargingRateUnit: s.chargingRateUnit,
      chargingSchedulePeriod: s.chargingSchedulePeriod.map((x) => ({ ...x })),
      ...(s.duration !== undefined ? { duration: s.duration } : {}),
      ...(s.startSchedule ? { startSchedule: s.startSchedule } : {}),
      ...(s.minChargingRate !== undefined ? { minChargingRate: s.minChargingRate } : {}),
    }],
  };
}
