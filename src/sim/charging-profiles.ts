// OCPP 1.6 smart charging as a charge point applies it (OCPP 1.6 edition 2, §3.13 and §5.16/§5.7/§6.43): which
// profiles a charger keeps, which one rules at an instant, and the composite schedule it reports. Pure: every
// function takes the instant it is asked about; nothing here reads a clock or does I/O.
//
// Rules implemented:
// - ChargePointMaxProfile only on connector 0; TxProfile only on a connector with a transaction (and its id, if given).
// - A new profile replaces one with the same chargingProfileId, and one with the same purpose and stackLevel on the
//   same connector.
// - Per purpose the highest stackLevel that is valid (validFrom/validTo) and has a period covering the instant rules;
//   a profile whose schedule has ended (duration) or not yet begun gives way to the next lower stack level.
// - TxProfile (of the running transaction) overrules TxDefaultProfile; a connector's own TxDefaultProfile overrules
//   the one installed on connector 0. The ChargePointMaxProfile caps the result.
// - Absolute starts at startSchedule (or when it was received); Relative at the transaction start; Recurring repeats
//   its startSchedule every day/week (from startSchedule on) and is cut at the recurrence period.
// - Limits in A become W through the period's numberPhases (default 3, at most the charger's phases) and the nominal
//   voltage; DC chargers use their DC voltage on one "phase".
// - A limit below the schedule's minChargingRate, or below the AC floor of 6 A (IEC 61851), means no charging.

export type ChargingRateUnit = 'W' | 'A';
export type ProfilePurpose = 'ChargePointMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
export type ProfileKind = 'Absolute' | 'Recurring' | 'Relative';

export interface ChargingSchedulePeriod {
  startPeriod: number;
  limit: number;
  numberPhases?: number;
}

export interface ChargingSchedule {
  duration?: number;
  startSchedule?: string;
  chargingRateUnit: ChargingRateUnit;
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
}

/** An OCPP 1.6 csChargingProfiles object. */
export interface ChargingProfile {
  chargingProfileId: number;
  transactionId?: number;
  stackLevel: number;
  chargingProfilePurpose: ProfilePurpose;
  chargingProfileKind: ProfileKind;
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  chargingSchedule: ChargingSchedule;
}

/** A profile as the charger stores it: where it was set and when it arrived (the start of an Absolute profile without startSchedule). */
export interface InstalledProfile {
  readonly connectorId: number;
  readonly profile: ChargingProfile;
  readonly receivedMs: number;
}

/** What the charger knows about itself to turn limits into watts. */
export interface ChargerElectrics {
  readonly kind: 'AC' | 'DC';
  /** Phases wired to the connector (AC); 1 for DC. */
  readonly phases: number;
  /** Nominal phase-to-neutral voltage (AC) or DC link voltage, V. */
  readonly voltageV: number;
  /** What the hardware can deliver per connector, W. */
  readonly maxPowerW: number;
}

/** The transaction running on a connector, as profiles see it. */
export interface RunningTransaction {
  readonly transactionId: number;
  readonly startMs: number;
}

export const acMinCurrentA = 6;
const dayMs = 86_400_000;

/** Why a SetChargingProfile is refused, or null when it may be installed. */
export function profileRejection(connectorId: number, profile: ChargingProfile, tx: RunningTransaction | null, connectorCount: number): string | null {
  if (connectorId < 0 || connectorId > connectorCount) return `unknown connector ${connectorId}`;
  const s = profile.chargingSchedule;
  const periods = s.chargingSchedulePeriod;
  if (periods.length === 0) return 'schedule has no periods';
  if (periods[0].startPeriod !== 0) return 'first period must start at 0';
  for (let k = 1; k < periods.length; k++) if (periods[k].startPeriod <= periods[k - 1].startPeriod) return 'periods must start in increasing order';
  if (periods.some((p) => p.limit < 0)) return 'limits must not be negative';
  if (periods.some((p) => p.numberPhases !== undefined && (p.numberPhases < 1 || p.numberPhases > 3))) return 'numberPhases must be 1 to 3';
  if (profile.validFrom && profile.validTo && Date.parse(profile.validTo) <= Date.parse(profile.validFrom)) return 'validTo must be after validFrom';
  switch (profile.chargingProfilePurpose) {
    case 'ChargePointMaxProfile':
      if (connectorId !== 0) return 'ChargePointMaxProfile only on connector 0';
      break;
    case 'TxProfile':
      if (connectorId === 0) return 'TxProfile needs a connector';
      if (!tx) return 'no transaction on the connector';
      if (profile.transactionId !== undefined && profile.transactionId !== tx.transactionId) return `transaction ${profile.transactionId} is not running here`;
      break;
    case 'TxDefaultProfile':
      break;
  }
  if (profile.chargingProfileKind === 'Recurring' && (!profile.recurrencyKind || !s.startSchedule)) return 'Recurring needs recurrencyKind and startSchedule';
  if (profile.chargingProfileKind === 'Relative' && s.startSchedule) return 'Relative must not have startSchedule';
  return null;
}

/** Installs a profile (already checked with profileRejection), replacing what OCPP says it replaces. */
export function installProfile(profiles: readonly InstalledProfile[], connectorId: number, profile: ChargingProfile, receivedMs: number): InstalledProfile[] {
  const kept = profiles.filter((p) => p.profile.chargingProfileId !== profile.chargingProfileId &&
    !(p.connectorId === connectorId && p.profile.chargingProfilePurpose === profile.chargingProfilePurpose && p.profile.stackLevel === profile.stackLevel));
  return [...kept, { connectorId, profile, receivedMs }];
}

export interface ClearCriteria {
  id?: number;
  connectorId?: number;
  chargingProfilePurpose?: ProfilePurpose;
  stackLevel?: number;
}

/** ClearChargingProfile: by id, or by every given field; no field clears all. Returns what remains and whether anything went. */
export function clearProfiles(profiles: readonly InstalledProfile[], c: ClearCriteria): { profiles: InstalledProfile[]; cleared: number } {
  const match = (p: InstalledProfile) => c.id !== undefined
    ? p.profile.chargingProfileId === c.id
    : (c.connectorId === undefined || p.connectorId === c.connectorId) &&
      (c.chargingProfilePurpose === undefined || p.profile.chargingProfilePurpose === c.chargingProfilePurpose) &&
      (c.stackLevel === undefined || p.profile.stackLevel === c.stackLevel);
  const kept = profiles.filter((p) => !match(p));
  return { profiles: kept, cleared: profiles.length - kept.length };
}

/** Profiles a transaction ends with: its TxProfiles go (OCPP: they last for the transaction only). */
export function endTransactionProfiles(profiles: readonly InstalledProfile[], connectorId: number): InstalledProfile[] {
  return profiles.filter((p) => !(p.connectorId === connectorId && p.profile.chargingProfilePurpose === 'TxProfile'));
}

/** The instant the schedule's period 0 starts for the occurrence covering `t` (recurring), or null if it has none. */
function scheduleStart(p: InstalledProfile, tx: RunningTransaction | null, t: number): number | null {
  const s = p.profile.chargingSchedule;
  switch (p.profile.chargingProfileKind) {
    case 'Absolute':
      return s.startSchedule ? Date.parse(s.startSchedule) : p.receivedMs;
    case 'Relative':
      return tx ? tx.startMs : null;
    case 'Recurring': {
      const first = Date.parse(s.startSchedule!);
      const period = p.profile.recurrencyKind === 'Weekly' ? 7 * dayMs : dayMs;
      if (t < first) return null;
      return first + Math.floor((t - first) / period) * period;
    }
  }
}

function scheduleEnd(p: InstalledProfile, start: number): number {
  const s = p.profile.chargingSchedule;
  let end = s.duration === undefined ? Infinity : start + s.duration * 1000;
  if (p.profile.chargingProfileKind === 'Recurring') end = Math.min(end, start + (p.profile.recurrencyKind === 'Weekly' ? 7 * dayMs : dayMs));
  return end;
}

/** The period of one profile in force at `t`, or null when the profile does not speak for that instant. */
export function periodAt(p: InstalledProfile, tx: RunningTransaction | null, t: number): { period: ChargingSchedulePeriod; schedule: ChargingSchedule } | null {
  const { validFrom, validTo } = p.profile;
  if (validFrom && t < Date.parse(validFrom)) return null;
  if (validTo && t >= Date.parse(validTo)) return null;
  const start = scheduleStart(p, tx, t);
  if (start === null || t < start || t >= scheduleEnd(p, start)) return null;
  const offsetS = (t - start) / 1000;
  const periods = p.profile.chargingSchedule.chargingSchedulePeriod;
  let found: ChargingSchedulePeriod | null = null;
  for (const period of periods) if (period.startPeriod <= offsetS) found = period;
  return found ? { period: found, schedule: p.profile.chargingSchedule } : null;
}

/** Converts a schedule limit to watts for this charger. */
export function limitToWatts(limit: number, unit: ChargingRateUnit, numberPhases: number | undefined, e: ChargerElectrics): number {
  if (unit === 'W') return limit;
  return limit * e.voltageV * effectivePhases(numberPhases, e);
}

/** Converts watts to the requested unit for this charger. */
export function wattsToUnit(watts: number, unit: ChargingRateUnit, numberPhases: number | undefined, e: ChargerElectrics): number {
  if (unit === 'W') return watts;
  return watts / (e.voltageV * effectivePhases(numberPhases, e));
}

const effectivePhases = (numberPhases: number | undefined, e: ChargerElectrics) => e.kind === 'DC' ? 1 : Math.min(numberPhases ?? 3, e.phases);

export interface Limit {
  /** What the connector may draw, W, after every profile and the hardware maximum. */
  readonly watts: number;
  /** Phases the ruling period asks for (AC), if any. */
  readonly numberPhases?: number;
  /** chargingProfileId of the profile that set the limit, or null when the hardware maximum rules. */
  readonly profileId: number | null;
}

function ruling(candidates: InstalledProfile[], tx: RunningTransaction | null, t: number, e: ChargerElectrics): (Limit & { minW: number }) | null {
  const sorted = [...candidates].sort((a, b) => b.profile.stackLevel - a.profile.stackLevel);
  for (const p of sorted) {
    const at = periodAt(p, tx, t);
    if (!at) continue;
    const { period, schedule } = at;
    const watts = limitToWatts(period.limit, schedule.chargingRateUnit, period.numberPhases, e);
    const minW = schedule.minChargingRate === undefined ? 0 : limitToWatts(schedule.minChargingRate, schedule.chargingRateUnit, period.numberPhases, e);
    return { watts, minW, profileId: p.profile.chargingProfileId, ...(period.numberPhases !== undefined ? { numberPhases: period.numberPhases } : {}) };
  }
  return null;
}

/**
 * The limit on one connector (connectorId ≥ 1) at instant `t`: the transaction's profile stack (TxProfile, else the
 * connector's TxDefaultProfile, else connector 0's) capped by the ChargePointMaxProfile and the hardware.
 * For connectorId 0 it is the charge point's own cap (ChargePointMaxProfile or the hardware).
 */
export function compositeLimit(profiles: readonly InstalledProfile[], connectorId: number, tx: RunningTransaction | null, t: number, e: ChargerElectrics): Limit {
  const of = (purpose: ProfilePurpose, connector: number) =>
    profiles.filter((p) => p.profile.chargingProfilePurpose === purpose && p.connectorId === connector &&
      (purpose !== 'TxProfile' || (tx !== null && (p.profile.transactionId === undefined || p.profile.transactionId === tx.transactionId))));
  const max = ruling(of('ChargePointMaxProfile', 0), tx, t, e);
  let chosen = max;
  if (connectorId > 0) {
    const txLimit = ruling(of('TxProfile', connectorId), tx, t, e) ?? ruling(of('TxDefaultProfile', connectorId), tx, t, e) ?? ruling(of('TxDefaultProfile', 0), tx, t, e);
    if (txLimit && (!max || txLimit.watts <= max.watts)) chosen = txLimit;
  }
  if (!chosen || chosen.watts >= e.maxPowerW) return { watts: e.maxPowerW, profileId: null };
  let watts = chosen.watts;
  if (watts < chosen.minW) watts = 0;
  if (e.kind === 'AC' && watts > 0 && watts < acMinCurrentA * e.voltageV * effectivePhases(chosen.numberPhases, e)) watts = 0;
  return { watts, profileId: chosen.profileId, ...(chosen.numberPhases !== undefined ? { numberPhases: chosen.numberPhases } : {}) };
}

/** Every instant in [from, to) where some profile could change the limit. */
function breakpoints(profiles: readonly InstalledProfile[], tx: RunningTransaction | null, from: number, to: number): number[] {
  const points = new Set<number>([from]);
  const add = (ms: number) => { if (ms > from && ms < to) points.add(ms); };
  for (const p of profiles) {
    if (p.profile.validFrom) add(Date.parse(p.profile.validFrom));
    if (p.profile.validTo) add(Date.parse(p.profile.validTo));
    const s = p.profile.chargingSchedule;
    const starts: number[] = [];
    if (p.profile.chargingProfileKind === 'Recurring') {
      const first = Date.parse(s.startSchedule!);
      const period = p.profile.recurrencyKind === 'Weekly' ? 7 * dayMs : dayMs;
      for (let k = Math.max(0, Math.floor((from - first) / period)); first + k * period < to; k++) starts.push(first + k * period);
    } else {
      const start = scheduleStart(p, tx, from);
      if (start !== null) starts.push(start);
    }
    for (const start of starts) {
      for (const period of s.chargingSchedulePeriod) add(start + period.startPeriod * 1000);
      add(scheduleEnd(p, start));
      add(start);
    }
  }
  return [...points].sort((a, b) => a - b);
}

export interface CompositeSchedule {
  readonly startSchedule: string;
  readonly duration: number;
  readonly chargingRateUnit: ChargingRateUnit;
  readonly chargingSchedulePeriod: ChargingSchedulePeriod[];
}

/** GetCompositeSchedule: the limit from `fromMs` for `durationS` seconds as periods in the requested unit (W by default). */
export function compositeSchedule(
  profiles: readonly InstalledProfile[], connectorId: number, tx: RunningTransaction | null, fromMs: number, durationS: number,
  e: ChargerElectrics, unit: ChargingRateUnit = 'W',
): CompositeSchedule {
  const toMs = fromMs + durationS * 1000;
  const periods: ChargingSchedulePeriod[] = [];
  for (const t of breakpoints(profiles, tx, fromMs, toMs)) {
    const limit = compositeLimit(profiles, connectorId, tx, t, e);
    const value = Math.round(wattsToUnit(limit.watts, unit, limit.numberPhases, e) * 10) / 10;
    const last = periods.at(-1);
    if (last && last.limit === value && last.numberPhases === limit.numberPhases) continue;
    periods.push({ startPeriod: Math.round((t - fromMs) / 1000), limit: value, ...(limit.numberPhases !== undefined ? { numberPhases: limit.numberPhases } : {}) });
  }
  return { startSchedule: new Date(fromMs).toISOString(), duration: durationS, chargingRateUnit: unit, chargingSchedulePeriod: periods };
}
