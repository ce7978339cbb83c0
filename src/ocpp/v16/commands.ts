import { CommandError, type ChargingLimitProfile, type CommandResult, type ProfilePurpose, type StationCommand, type VariableResult } from '../commands.ts';
import type { ChargingProfile, ChargingSchedule } from './messages.ts';
import { ocppSchedule } from '../schedule.ts';

/** Domain commands -> OCPP 1.6 calls, and their answers back. kW become W here and nowhere else. */

const purpose16: Record<ProfilePurpose, ChargingProfile['chargingProfilePurpose']> = {
  StationMax: 'ChargePointMaxProfile', TxDefault: 'TxDefaultProfile', Tx: 'TxProfile',
};

function transactionId16(id: string): number {
  if (!/^\d{1,10}$/.test(id) || Number(id) > 2 ** 31 - 1) throw new CommandError('Invalid', `OCPP 1.6 transaction ids are integers; "${id}" is not one`);
  return Number(id);
}

export function profile16(p: ChargingLimitProfile): ChargingProfile {
  if (p.purpose === 'Tx' && p.transactionId === undefined) throw new CommandError('Invalid', 'a Tx profile needs the transaction id');
  const schedule: ChargingSchedule = ocppSchedule(p.schedule);
  return {
    chargingProfileId: p.id,
    stackLevel: p.stackLevel,
    chargingProfilePurpose: purpose16[p.purpose],
    chargingProfileKind: p.kind,
    ...(p.recurrency ? { recurrencyKind: p.recurrency } : {}),
    ...(p.transactionId !== undefined && p.purpose === 'Tx' ? { transactionId: transactionId16(p.transactionId) } : {}),
    ...(p.validFrom ? { validFrom: p.validFrom } : {}),
    ...(p.validTo ? { validTo: p.validTo } : {}),
    chargingSchedule: schedule,
  };
}

export function toV16Call(c: StationCommand): [string, Record<string, unknown>] {
  switch (c.type) {
    case 'RemoteStart':
      if (c.profile && c.profile.purpose !== 'Tx') throw new CommandError('Invalid', 'RemoteStart takes only a Tx profile');
      return ['RemoteStartTransaction', {
        idTag: c.idToken,
        ...(c.evseId !== undefined ? { connectorId: c.evseId } : {}),
        // The transaction does not exist yet: 1.6 forbids a transactionId in this profile.
        ...(c.profile ? { chargingProfile: (({ transactionId: _, ...rest }) => rest)(profile16({ ...c.profile, transactionId: '0' })) } : {}),
      }];
    case 'RemoteStop': return ['RemoteStopTransaction', { transactionId: transactionId16(c.transactionId) }];
    case 'SetChargingProfile': return ['SetChargingProfile', { connectorId: c.evseId, csChargingProfiles: profile16(c.profile) }];
    case 'ClearChargingProfile': return ['ClearChargingProfile', {
      ...(c.profileId !== undefined ? { id: c.profileId } : {}),
      ...(c.evseId !== undefined ? { connectorId: c.evseId } : {}),
      ...(c.purpose ? { chargingProfilePurpose: purpose16[c.purpose] } : {}),
      ...(c.stackLevel !== undefined ? { stackLevel: c.stackLevel } : {}),
    }];
    case 'GetCompositeSchedule': return ['GetCompositeSchedule', {
      connectorId: c.evseId, duration: Math.round(c.durationS), ...(c.unit ? { chargingRateUnit: c.unit === 'kW' ? 'W' : 'A' } : {}),
    }];
    case 'ChangeAvailability': return ['ChangeAvailability', { connectorId: c.evseId, type: c.operative ? 'Operative' : 'Inoperative' }];
    case 'ChangeConfiguration': return ['ChangeConfiguration', { key: c.key, value: c.value }];
    case 'GetConfiguration': return ['GetConfiguration', c.keys ? { key: [...c.keys] } : {}];
    case 'Reset': return ['Reset', { type: c.kind }];
    case 'TriggerMessage':
      if (c.message === 'TransactionEvent' || c.message === 'LogStatusNotification') throw new CommandError('NotSupported', `${c.message} is OCPP 2.0.1; a 1.6 station cannot be asked for it`);
      return ['TriggerMessage', { requestedMessage: c.message, ...(c.evseId !== undefined ? { connectorId: c.evseId } : {}) }];
    case 'UnlockConnector': return ['UnlockConnector', { connectorId: c.evseId }];
    // 1.6 has flat configuration keys: a variable's name is the key, its component has no 1.6 counterpart.
    case 'GetVariables': return ['GetConfiguration', { key: [...new Set(c.variables.map((v) => v.variable))] }];
    case 'GetBaseReport': return ['GetConfiguration', {}];
    case 'SetVariables': throw new Error('SetVariables on 1.6 is one ChangeConfiguration per variable: use setVariables16');
    case 'GetChargingProfiles': throw new CommandError('NotSupported', 'OCPP 1.6 cannot report installed charging profiles (use GetCompositeSchedule)');
  }
}

/** SetVariables on a 1.6 station: one ChangeConfiguration per variable, in order. */
export async function setVariables16(c: Extract<StationCommand, { type: 'SetVariables' }>, call: (action: string, payload: unknown) => Promise<unknown>): Promise<CommandResult> {
  const variables: VariableResult[] = [];
  for (const v of c.variables) {
    const r = (await call('ChangeConfiguration', { key: v.variable, value: v.value })) as { status?: string };
    // 1.6 NotSupported means the key is unknown to the station: 2.0.1 calls that UnknownVariable.
    const status = r?.status === 'NotSupported' ? 'UnknownVariable' : String(r?.status ?? 'Rejected');
    variables.push({ component: v.component, variable: v.variable, ...(v.evseId !== undefined ? { evseId: v.evseId } : {}), status });
  }
  const statuses = new Set(variables.map((v) => v.status));
  return { status: statuses.size === 1 ? [...statuses][0]! : 'Partial', variables };
}

interface CompositeConf {
  status: string;
  connectorId?: number;
  scheduleStart?: string;
  chargingSchedule?: ChargingSchedule;
}

export function fromV16Result(c: StationCommand, response: unknown): CommandResult {
  const r = (response ?? {}) as Record<string, unknown>;
  if (c.type === 'GetConfiguration') {
    const keys = (r.configurationKey ?? []) as { key: string; readonly: boolean; value?: string }[];
    return { status: 'Accepted', configuration: keys.map((k) => ({ key: k.key, value: k.value ?? null, readonly: k.readonly })), unknownKeys: (r.unknownKey ?? []) as string[] };
  }
  if (c.type === 'GetVariables') {
    const keys = new Map(((r.configurationKey ?? []) as { key: string; value?: string }[]).map((k) => [k.key, k.value ?? null]));
    const variables: VariableResult[] = c.variables.map((v) => ({
      component: v.component, variable: v.variable, ...(v.evseId !== undefined ? { evseId: v.evseId } : {}),
      status: keys.has(v.variable) ? 'Accepted' : 'UnknownVariable', ...(keys.has(v.variable) ? { value: keys.get(v.variable) } : { value: null }),
    }));
    return { status: variables.every((v) => v.status === 'Accepted') ? 'Accepted' : 'Partial', variables };
  }
  if (c.type === 'GetBaseReport') {
    const keys = (r.configurationKey ?? []) as { key: string; readonly: boolean; value?: string }[];
    return { status: 'Accepted', report: keys.map((k) => ({ component: '', variable: k.key, value: k.value ?? null, readonly: k.readonly })), complete: true };
  }
  if (c.type === 'GetCompositeSchedule') {
    const conf = r as unknown as CompositeConf;
    const s = conf.chargingSchedule;
    if (conf.status !== 'Accepted' || !s) return { status: conf.status, schedule: null };
    const fromRate = s.chargingRateUnit === 'W' ? (w: number) => w / 1000 : (a: number) => a;
    return {
      status: conf.status,
      schedule: {
        evseId: conf.connectorId ?? c.evseId,
        startAt: conf.scheduleStart ?? s.startSchedule ?? null,
        durationS: s.duration ?? null,
        unit: s.chargingRateUnit === 'W' ? 'kW' : 'A',
        periods: s.chargingSchedulePeriod.map((p) => ({ startOffsetS: p.startPeriod, limit: fromRate(p.limit), ...(p.numberPhases !== undefined ? { numberPhases: p.numberPhases } : {}) })),
      },
    };
  }
  return { status: String(r.status ?? 'Accepted') };
}
