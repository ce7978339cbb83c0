/**
 * The OCPP 1.6 payloads the central system reads or writes. Inbound ones have passed the official JSON schema
 * (src/ocpp/socket.ts) before a handler sees them, so these types describe what is guaranteed, not hoped for.
 */

export interface IdTagInfo {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';
  expiryDate?: string;
  parentIdTag?: string;
}

export interface BootNotificationReq {
  chargePointVendor: string;
  chargePointModel: string;
  chargePointSerialNumber?: string;
  chargeBoxSerialNumber?: string;
  firmwareVersion?: string;
  iccid?: string;
  imsi?: string;
  meterType?: string;
  meterSerialNumber?: string;
}
export interface BootNotificationConf { status: 'Accepted' | 'Pending' | 'Rejected'; currentTime: string; interval: number }
export interface HeartbeatConf { currentTime: string }

export interface StatusNotificationReq {
  connectorId: number;
  errorCode: string;
  status: 'Available' | 'Preparing' | 'Charging' | 'SuspendedEVSE' | 'SuspendedEV' | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';
  info?: string;
  timestamp?: string;
  vendorId?: string;
  vendorErrorCode?: string;
}

export interface AuthorizeReq { idTag: string }
export interface AuthorizeConf { idTagInfo: IdTagInfo }

export interface StartTransactionReq { connectorId: number; idTag: string; meterStart: number; timestamp: string; reservationId?: number }
export interface StartTransactionConf { transactionId: number; idTagInfo: IdTagInfo }

export interface SampledValue {
  value: string;
  context?: string;
  format?: 'Raw' | 'SignedData';
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}
export interface MeterValue { timestamp: string; sampledValue: SampledValue[] }
export interface MeterValuesReq { connectorId: number; transactionId?: number; meterValue: MeterValue[] }

export interface StopTransactionReq {
  idTag?: string;
  meterStop: number;
  timestamp: string;
  transactionId: number;
  reason?: string;
  transactionData?: MeterValue[];
}
export interface StopTransactionConf { idTagInfo?: IdTagInfo }

export interface DataTransferReq { vendorId: string; messageId?: string; data?: string }
export interface DataTransferConf { status: 'Accepted' | 'Rejected' | 'UnknownMessageId' | 'UnknownVendorId'; data?: string }

export interface ChargingSchedule {
  duration?: number;
  startSchedule?: string;
  chargingRateUnit: 'W' | 'A';
  chargingSchedulePeriod: { startPeriod: number; limit: number; numberPhases?: number }[];
  minChargingRate?: number;
}

export interface ChargingProfile {
  chargingProfileId: number;
  transactionId?: number;
  stackLevel: number;
  chargingProfilePurpose: 'ChargePointMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
  chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  recurrencyKind?: 'Daily' | 'Weekly';
  validFrom?: string;
  validTo?: string;
  chargingSchedule: ChargingSchedule;
}
