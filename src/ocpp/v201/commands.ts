import { CommandError, type ChargingLimitProfile, type CommandResult, type ProfilePurpose, type ReportedProfile, type ReportedVariable, type StationCommand, type VariableRef, type VariableResult } from '../commands.ts';
import type * as M from './messages.ts';
import { ocppSchedule } from '../schedule.ts';

/** Domain commands -> OCPP 2.0.1 calls, and their answers back. kW become W here and nowhere else. */

/**
 * ChargingStationExternalConstraints is the station's own record of limits set by others (a local EMS, the grid
 * operator): a central system must never write it, so no domain purpose maps to it.
 */
const purpose201: Record<ProfilePurpose, Exclude<M.ProfilePurpose, 'ChargingStationExternalConstraints'>> = {
  StationMax: 'ChargingStationMaxProfile', TxDefault: 'TxDefaultProfile', Tx: 'TxProfile',
};
const purposeFrom201: Record<M.ProfilePurpose, ReportedProfile['purpose']> = {
  ChargingStationMaxProfile: 'StationMax', TxDefaultProfile: 'TxDefault', TxProfile: 'Tx', ChargingStationExternalConstraints: 'ExternalConstraints',
};

/** What translating a command needs from the connection: the station's id for one of our transaction ids. */
export interface CallContext {
  stationTransactionId(transactionId: string): Promise<string>;
  nextRequestId(): number;
}

export function profile201(p: ChargingLimitProfile, stationTxId: string | undefined): M.ChargingProfile {
  if (p.purpose === 'Tx' && stationTxId === undefined) throw new CommandError('Invalid', 'a Tx profile needs the transaction id');
  return {
    id: p.id,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purpose201[p.purpose],
    chargingProfileKind: p.kind,
    ...(p.recurrency ? { recurrencyKind: p.recurrency } : {}),
    ...(p.validFrom ? { validFrom: p.validFrom } : {}),
    ...(p.validTo ? { validTo: p.validTo } : {}),
    ...(p.purpose === 'Tx' && stationTxId !== undefined ? { transactionId: stationTxId } : {}),
    chargingSchedule: [{
      // One schedule per profile: its id only has to be unique within the profile.
      id: p.id,
      ...ocppSchedule(p.schedule),
    }],
  };
}

const component = (v: VariableRef): M.ComponentRef => ({
  name: v.component,
  ...(v.componentInstance !== undefined ? { instance: v.componentInstance } : {}),
  ...(v.evseId !== undefined ? { evse: { id: v.evseId } } : {}),
});
const variable = (v: VariableRef): M.VariableRef => ({ name: v.variable, ...(v.variableInstance !== undefined ? { instance: v.variableInstance } : {}) });
const refFrom201 = (c: M.ComponentRef, v: M.VariableRef) => ({
  component: c.name, variable: v.name,
  ...(c.evse ? { evseId: c.evse.id } : {}),
  ...(c.instance !== undefined ? { componentInstance: c.instance } : {}),
  ...(v.instance !== undefined ? { variableInstance: v.instance } : {}),
});

/** A call and, for commands answered by report messages, the requestId those reports will carry. */
export interface V201Call { action: string; payload: Record<string, unknown>; requestId?: number }

export async function toV201Call(c: StationCommand, ctx: CallContext): Promise<V201Call> {
  const call = (action: string, payload: Record<string, unknown>, requestId?: number): V201Call => ({ action, payload, ...(requestId !== undefined ? { requestId } : {}) });
  switch (c.type) {
    case 'RemoteStart': {
      if (c.profile && c.profile.purpose !== 'Tx') throw new CommandError('Invalid', 'RemoteStart takes only a Tx profile');
      // The transaction does not exist yet: 2.0.1 forbids a transactionId in this profile (K05.FR.02 spirit, as in 1.6).
      const profile = c.profile ? (({ transactionId: _, ...rest }) => rest)(profile201(c.profile, '')) : undefined;
      return call('RequestStartTransaction', {
        idToken: { idToken: c.idToken, type: 'Central' },
        remoteStartId: ctx.nextRequestId(),
        ...(c.evseId !== undefined ? { evseId: c.evseId } : {}),
        ...(profile ? { chargingProfile: profile } : {}),
      });
    }
    case 'RemoteStop': return call('RequestStopTransaction', { transactionId: await ctx.stationTransactionId(c.transactionId) });
    case 'SetChargingProfile': {
      const txId = c.profile.purpose === 'Tx' && c.profile.transactionId !== undefined ? await ctx.stationTransactionId(c.profile.transactionId) : undefined;
      if (c.profile.purpose === 'Tx' && c.evseId === 0) throw new CommandError('Invalid', 'a Tx profile belongs to one EVSE, not to the whole station (evseId 0)');
      return call('SetChargingProfile', { evseId: c.evseId, chargingProfile: profile201(c.profile, txId) });
    }
    case 'ClearChargingProfile': {
      const criteria = {
        ...(c.evseId !== undefined ? { evseId: c.evseId } : {}),
        ...(c.purpose ? { chargingProfilePurpose: purpose201[c.purpose] } : {}),
        ...(c.stackLevel !== undefined ? { stackLevel: c.stackLevel } : {}),
      };
      if (c.profileId === undefined && Object.keys(criteria).length === 0) {
        // An empty request clears every profile, ExternalConstraints included on some firmware: we never send one.
        throw new CommandError('Invalid', 'ClearChargingProfile needs a profile id, an EVSE, a purpose or a stack level');
      }
      return call('ClearChargingProfile', {
        ...(c.profileId !== undefined ? { chargingProfileId: c.profileId } : {}),
        ...(Object.keys(criteria).length > 0 ? { chargingProfileCriteria: criteria } : {}),
      });
    }
    case 'GetChargingProfiles': {
      const requestId = ctx.nextRequestId();
      return call('GetChargingProfiles', {
        requestId,
        ...(c.evseId !== undefined ? { evseId: c.evseId } : {}),
        chargingProfile: {
          ...(c.purpose ? { chargingProfilePurpose: purpose201[c.purpose] } : {}),
          ...(c.stackLevel !== undefined ? { stackLevel: c.stackLevel } : {}),
          ...(c.profileIds && c.profileIds.length > 0 ? { chargingProfileId: [...c.profileIds] } : {}),
        },
      }, requestId);
    }
    case 'GetCompositeSchedule': return call('GetCompositeSchedule', {
      evseId: c.evseId, duration: Math.round(c.durationS), ...(c.unit ? { chargingRateUnit: c.unit === 'kW' ? 'W' : 'A' } : {}),
    });
    case 'ChangeAvailability': return call('ChangeAvailability', {
      operationalStatus: c.operative ? 'Operative' : 'Inoperative', ...(c.evseId !== 0 ? { evse: { id: c.evseId } } : {}),
    });
    case 'ChangeConfiguration':
    case 'GetConfiguration':
      throw new CommandError('NotSupported', `${c.type} is OCPP 1.6; a 2.0.1 station is configured with ${c.type === 'GetConfiguration' ? 'GetVariables or GetBaseReport' : 'SetVariables'} (component + variable)`);
    case 'GetVariables': return call('GetVariables', {
      getVariableData: c.variables.map((v) => ({ component: component(v), variable: variable(v), ...(v.attribute ? { attributeType: v.attribute } : {}) })),
    });
    case 'SetVariables': return call('SetVariables', {
      setVariableData: c.variables.map((v) => ({ component: component(v), variable: variable(v), attributeValue: v.value, ...(v.attribute ? { attributeType: v.attribute } : {}) })),
    });
    case 'GetBaseReport': {
      const requestId = ctx.nextRequestId();
      return call('GetBaseReport', { requestId, reportBase: c.report }, requestId);
    }
    // Hard means now, whatever runs; Soft waits for transactions to end: 2.0.1 calls these Immediate and OnIdle.
    case 'Reset': return call('Reset', { type: c.kind === 'Hard' ? 'Immediate' : 'OnIdle' });
    case 'TriggerMessage':
      if (c.message === 'DiagnosticsStatusNotification') throw new CommandError('NotSupported', 'DiagnosticsStatusNotification is OCPP 1.6; 2.0.1 reports log uploads with LogStatusNotification');
      return call('TriggerMessage', { requestedMessage: c.message, ...(c.evseId !== undefined ? { evse: { id: c.evseId } } : {}) });
    case 'UnlockConnector': return call('UnlockConnector', { evseId: c.evseId, connectorId: c.connectorId ?? 1 });
  }
}

export function fromV201Result(c: StationCommand, response: unknown): CommandResult {
  const r = (response ?? {}) as Record<string, unknown>;
  if (c.type === 'GetCompositeSchedule') {
    const conf = r as unknown as M.CompositeScheduleRes;
    const s = conf.schedule;
    if (conf.status !== 'Accepted' || !s) return { status: conf.status, schedule: null };
    const fromRate = s.chargingRateUnit === 'W' ? (w: number) => w / 1000 : (a: number) => a;
    return {
      status: conf.status,
      schedule: {
        evseId: s.evseId, startAt: s.scheduleStart, durationS: s.duration, unit: s.chargingRateUnit === 'W' ? 'kW' : 'A',
        periods: s.chargingSchedulePeriod.map((p) => ({ startOffsetS: p.startPeriod, limit: fromRate(p.limit), ...(p.numberPhases !== undefined ? { numberPhases: p.numberPhases } : {}) })),
      },
    };
  }
  if (c.type === 'GetVariables') {
    const results = (r.getVariableResult ?? []) as M.GetVariableResult[];
    return {
      status: results.every((x) => x.attributeStatus === 'Accepted') ? 'Accepted' : 'Partial',
      variables: results.map((x): VariableResult => ({ ...refFrom201(x.component, x.variable), status: x.attributeStatus, value: x.attributeValue ?? null })),
    };
  }
  if (c.type === 'SetVariables') {
    const results = (r.setVariableResult ?? []) as M.SetVariableResult[];
    const statuses = new Set(results.map((x) => x.attributeStatus));
    const status = statuses.size === 1 ? [...statuses][0]! : 'Partial';
    return { status, variables: results.map((x): VariableResult => ({ ...refFrom201(x.component, x.variable), status: x.attributeStatus })) };
  }
  return { status: String(r.status ?? 'Accepted') };
}

/** NotifyReport parts -> domain variables (the Actual attribute; a variable without one is reported with null). */
export function reportedVariables(data: readonly M.ReportData[]): ReportedVariable[] {
  return data.map((d) => {
    const actual = d.variableAttribute.find((a) => (a.type ?? 'Actual') === 'Actual') ?? d.variableAttribute[0];
    return { ...refFrom201(d.component, d.variable), value: actual?.value ?? null, readonly: actual?.mutability === 'ReadOnly' };
  });
}

/** ReportChargingProfiles -> domain profiles in kW (or A). Only the first schedule of a profile is kept. */
export function reportedProfiles(evseId: number, source: string, profiles: readonly M.ChargingProfile[]): ReportedProfile[] {
  return profiles.map((p) => {
    const s = p.chargingSchedule[0]!;
    const fromRate = s.chargingRateUnit === 'W' ? (w: number) => w / 1000 : (a: number) => a;
    return {
      evseId, source, purpose: purposeFrom201[p.chargingProfilePurpose],
      profile: {
        id: p.id, stackLevel: p.stackLevel, kind: p.chargingProfileKind,
        ...(p.recurrencyKind ? { recurrency: p.recurrencyKind } : {}),
        ...(p.transactionId !== undefined ? { transactionId: p.transactionId } : {}),
        ...(p.validFrom ? { validFrom: p.validFrom } : {}),
        ...(p.validTo ? { validTo: p.validTo } : {}),
        schedule: {
          unit: s.chargingRateUnit === 'W' ? 'kW' : 'A',
          periods: s.chargingSchedulePeriod.map((x) => ({ startOffsetS: x.startPeriod, limit: fromRate(x.limit), ...(x.numberPhases !== undefined ? { numberPhases: x.numberPhases } : {}) })),
          ...(s.startSchedule ? { startAt: s.startSchedule } : {}),
          ...(s.duration !== undefined ? { durationS: s.duration } : {}),
          ...(s.minChargingRate !== undefined ? { minRate: fromRate(s.minChargingRate) } : {}),
        },
      },
    };
  });
}
