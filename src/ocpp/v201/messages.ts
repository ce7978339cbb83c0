/**
 * The OCPP 2.0.1 payloads the central system reads or writes. Inbound ones have passed the official JSON schema
 * (src/ocpp/socket.ts, the OCA's 2.0.1 schemas) before a handler sees them, so these types describe what is
 * guaranteed. customData, allowed on every object, is never read.
 */

export interface StatusInfo { reasonCode: string; additionalInfo?: string }

export type IdTokenKind = 'Central' | 'eMAID' | 'ISO14443' | 'ISO15693' | 'KeyCode' | 'Local' | 'MacAddress' | 'NoAuthorization';
export interface IdToken { idToken: string; type: IdTokenKind; additionalInfo?: { additionalIdToken: string; type: string }[] }

export type AuthorizationStatus = 'Accepted' | 'Blocked' | 'ConcurrentTx' | 'Expired' | 'Invalid' | 'NoCredit' | 'NotAllowedTypeEVSE' | 'NotAtThisLocation' | 'NotAtThisTime' | 'Unknown';
export interface IdTokenInfo { status: AuthorizationStatus; cacheExpiryDateTime?: string; groupIdToken?: IdToken }

export interface Evse { id: number; connectorId?: number }

export interface BootNotificationReq {
  chargingStation: { serialNumber?: string; model: string; vendorName: string; firmwareVersion?: string; modem?: { iccid?: string; imsi?: string } };
  reason: string;
}
export interface BootNotificationRes { currentTime: string; interval: number; status: 'Accepted' | 'Pending' | 'Rejected'; statusInfo?: StatusInfo }

export interface StatusNotificationReq {
  timestamp: string;
  connectorStatus: 'Available' | 'Occupied' | 'Reserved' | 'Unavailable' | 'Faulted';
  evseId: number;
  connectorId: number;
}

export interface AuthorizeReq { idToken: IdToken; certificate?: string }
export interface AuthorizeRes { idTokenInfo: IdTokenInfo }

export interface SampledValue {
  value: number;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  signedMeterValue?: unknown;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}
export interface MeterValue { timestamp: string; sampledValue: SampledValue[] }
export interface MeterValuesReq { evseId: number; meterValue: MeterValue[] }

export interface TransactionEventReq {
  eventType: 'Started' | 'Updated' | 'Ended';
  timestamp: string;
  triggerReason: string;
  seqNo: number;
  offline?: boolean;
  numberOfPhasesUsed?: number;
  cableMaxCurrent?: number;
  reservationId?: number;
  transactionInfo: {
    transactionId: string;
    chargingState?: 'Charging' | 'EVConnected' | 'SuspendedEV' | 'SuspendedEVSE' | 'Idle';
    timeSpentCharging?: number;
    stoppedReason?: string;
    remoteStartId?: number;
  };
  evse?: Evse;
  idToken?: IdToken;
  meterValue?: MeterValue[];
}
export interface TransactionEventRes { idTokenInfo?: IdTokenInfo; totalCost?: number; chargingPriority?: number }

export interface NotifyEVChargingNeedsReq {
  evseId: number;
  maxScheduleTuples?: number;
  chargingNeeds: {
    requestedEnergyTransfer: 'DC' | 'AC_single_phase' | 'AC_two_phase' | 'AC_three_phase';
    departureTime?: string;
    /** energyAmount in Wh, currents in A, voltage in V. */
    acChargingParameters?: { energyAmount: number; evMinCurrent: number; evMaxCurrent: number; evMaxVoltage: number };
    /** energyAmount and evEnergyCapacity in Wh, evMaxPower in W, SoCs in percent. */
    dcChargingParameters?: {
      evMaxCurrent: number; evMaxVoltage: number; energyAmount?: number; evMaxPower?: number; stateOfCharge?: number;
      evEnergyCapacity?: number; fullSoC?: number; bulkSoC?: number;
    };
  };
}
export interface NotifyEVChargingNeedsRes { status: 'Accepted' | 'Rejected' | 'Processing'; statusInfo?: StatusInfo }

export interface ChargingSchedulePeriod { startPeriod: number; limit: number; numberPhases?: number; phaseToUse?: number }
export interface ChargingSchedule {
  id: number;
  startSchedule?: string;
  duration?: number;
  chargingRateUnit: 'W' | 'A';
  chargingSchedulePeriod: ChargingSchedulePeriod[];
  minChargingRate?: number;
}
export type ProfilePurpose = 'ChargingStationExternalConstraints' | 'ChargingStationMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
export interface ChargingProfile {
  id: number;
  stackLevel: number;
  chargingProfilePurpose: ProfilePurpose;
  chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  transactionId?: string;
  chargingSchedule: ChargingSchedule[];
}

export interface NotifyEVChargingScheduleReq { timeBase: string; evseId: number; chargingSchedule: ChargingSchedule }
export interface NotifyChargingLimitReq {
  evseId?: number;
  chargingLimit: { chargingLimitSource: 'EMS' | 'Other' | 'SO' | 'CSO'; isGridCritical?: boolean };
  chargingSchedule?: ChargingSchedule[];
}
export interface ReportChargingProfilesReq {
  requestId: number;
  chargingLimitSource: 'EMS' | 'Other' | 'SO' | 'CSO';
  evseId: number;
  tbc?: boolean;
  chargingProfile: ChargingProfile[];
}

export interface ComponentRef { name: string; instance?: string; evse?: Evse }
export interface VariableRef { name: string; instance?: string }
export interface ReportData {
  component: ComponentRef;
  variable: VariableRef;
  variableAttribute: { type?: string; value?: string; mutability?: 'ReadOnly' | 'WriteOnly' | 'ReadWrite'; persistent?: boolean; constant?: boolean }[];
  variableCharacteristics?: { unit?: string; dataType: string; supportsMonitoring: boolean };
}
export interface NotifyReportReq { requestId: number; generatedAt: string; seqNo: number; tbc?: boolean; reportData?: ReportData[] }

export interface GetVariableResult {
  attributeStatus: string;
  attributeType?: string;
  attributeValue?: string;
  component: ComponentRef;
  variable: VariableRef;
}
export interface SetVariableResult { attributeStatus: string; attributeType?: string; component: ComponentRef; variable: VariableRef }

export interface CompositeScheduleRes {
  status: 'Accepted' | 'Rejected';
  schedule?: { evseId: number; duration: number; scheduleStart: string; chargingRateUnit: 'W' | 'A'; chargingSchedulePeriod: ChargingSchedulePeriod[] };
}

export interface SecurityEventNotificationReq { type: string; timestamp: string; techInfo?: string }
export interface FirmwareStatusNotificationReq { status: string; requestId?: number }
export interface LogStatusNotificationReq { status: string; requestId?: number }
export interface DataTransferReq { vendorId: string; messageId?: string; data?: unknown }
export interface DataTransferRes { status: 'Accepted' | 'Rejected' | 'UnknownMessageId' | 'UnknownVendorId'; data?: unknown }
