/**
 * What the rest of Voltyard can ask a station to do, in domain terms (kW, seconds, ISO instants). Each protocol
 * version translates these to its own messages; nothing outside ocpp/ sees an OCPP payload.
 */

export type ProfilePurpose = 'StationMax' | 'TxDefault' | 'Tx';

export interface ChargingSchedulePeriod {
  /** Seconds from the schedule's start. */
  readonly startOffsetS: number;
  /** In the schedule's unit: kW, or A per phase. */
  readonly limit: number;
  readonly numberPhases?: number;
}

export interface ChargingLimitProfile {
  readonly id: number;
  readonly stackLevel: number;
  readonly purpose: ProfilePurpose;
  readonly kind: 'Absolute' | 'Relative' | 'Recurring';
  readonly recurrency?: 'Daily' | 'Weekly';
  /** Required for Tx profiles. */
  readonly transactionId?: string;
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly schedule: {
    readonly startAt?: string;
    readonly durationS?: number;
    /** kW at the domain edge; A only when the station accepts nothing else. */
    readonly unit: 'kW' | 'A';
    readonly periods: readonly ChargingSchedulePeriod[];
    readonly minRate?: number;
  };
}

export type StationCommand =
  | { readonly type: 'RemoteStart'; readonly evseId?: number; readonly idToken: string; readonly profile?: ChargingLimitProfile }
  | { readonly type: 'RemoteStop'; readonly transactionId: string }
  | { readonly type: 'SetChargingProfile'; readonly evseId: number; readonly profile: ChargingLimitProfile }
  | { readonly type: 'ClearChargingProfile'; readonly profileId?: number; readonly evseId?: number; readonly purpose?: ProfilePurpose; readonly stackLevel?: number }
  | { readonly type: 'GetCompositeSchedule'; readonly evseId: number; readonly durationS: number; readonly unit?: 'kW' | 'A' }
  | { readonly type: 'ChangeAvailability'; readonly evseId: number; readonly operative: boolean }
  | { readonly type: 'ChangeConfiguration'; readonly key: string; readonly value: string }
  | { readonly type: 'GetConfiguration'; readonly keys?: readonly string[] }
  | { readonly type: 'Reset'; readonly kind: 'Hard' | 'Soft' }
  | { readonly type: 'TriggerMessage'; readonly message: TriggerableMessage; readonly evseId?: number }
  | { readonly type: 'UnlockConnector'; readonly evseId: number; readonly connectorId?: number }
  | { readonly type: 'GetVariables'; readonly variables: readonly VariableRef[] }
  | { readonly type: 'SetVariables'; readonly variables: readonly (VariableRef & { readonly value: string })[] }
  | { readonly type: 'GetBaseReport'; readonly report: 'ConfigurationInventory' | 'FullInventory' | 'SummaryInventory' }
  | { readonly type: 'GetChargingProfiles'; readonly evseId?: number; readonly purpose?: ProfilePurpose; readonly stackLevel?: number; readonly profileIds?: readonly number[] };

/** Which messages a station can be asked to send now; each version supports its own subset (the rest: NotSupported). */
export type TriggerableMessage = 'BootNotification' | 'DiagnosticsStatusNotification' | 'FirmwareStatusNotification' | 'Heartbeat' | 'MeterValues' | 'StatusNotification' | 'TransactionEvent' | 'LogStatusNotification';

/**
 * A device-model variable (OCPP 2.0.1 component + variable). On 1.6 stations the variable name is the
 * configuration key and the component is ignored.
 */
export interface VariableRef {
  readonly component: string;
  readonly variable: string;
  readonly evseId?: number;
  readonly componentInstance?: string;
  readonly variableInstance?: string;
  readonly attribute?: 'Actual' | 'Target' | 'MinSet' | 'MaxSet';
}

export interface VariableResult {
  readonly component: string;
  readonly variable: string;
  readonly evseId?: number;
  readonly componentInstance?: string;
  readonly variableInstance?: string;
  /** Accepted, Rejected, UnknownComponent, UnknownVariable, NotSupportedAttributeType, RebootRequired */
  readonly status: string;
  /** GetVariables only. */
  readonly value?: string | null;
}

/** One variable of a station's report (GetBaseReport), collected from its report messages. */
export interface ReportedVariable {
  readonly component: string;
  readonly variable: string;
  readonly evseId?: number;
  readonly componentInstance?: string;
  readonly variableInstance?: string;
  readonly value: string | null;
  readonly readonly: boolean;
}

export interface ReportedProfile {
  readonly evseId: number;
  /** Who set it: CSO is the central system (us); EMS, SO and Other are local or grid limits the station obeys. */
  readonly source: string;
  /** Purpose ExternalConstraints: a limit not set by us. */
  readonly purpose: ProfilePurpose | 'ExternalConstraints';
  readonly profile: Omit<ChargingLimitProfile, 'purpose'>;
}

export type CommandType = StationCommand['type'];

export interface CompositeSchedule {
  readonly evseId: number;
  readonly startAt: string | null;
  readonly durationS: number | null;
  readonly unit: 'kW' | 'A';
  readonly periods: readonly ChargingSchedulePeriod[];
}

/** The station's answer: its status word, plus the data the command asks for. */
export interface CommandResult {
  readonly status: string;
  readonly schedule?: CompositeSchedule | null;
  readonly configuration?: readonly { key: string; value: string | null; readonly: boolean }[];
  readonly unknownKeys?: readonly string[];
  readonly variables?: readonly VariableResult[];
  readonly report?: readonly ReportedVariable[];
  readonly profiles?: readonly ReportedProfile[];
  /** For reports the station sends in parts: false when the wait ended before its last part. */
  readonly complete?: boolean;
}

/** Why a command did not get an answer. `code` is stable for clients; `detail` is for people. */
export class CommandError extends Error {
  readonly code: 'StationOffline' | 'Timeout' | 'StationError' | 'Invalid' | 'NotSupported';
  constructor(code: CommandError['code'], detail: string) {
    super(detail);
    this.code = code;
  }
}
