// The OCPP 2.0.1 device model of a virtual charge point: the standard controller variables (OCPP 2.0.1 part 2,
// appendix "Standardized components and variables") that stand for the charger's 1.6 configuration keys. Both
// protocols read and write the same settings, so a 2.0.1 SetVariables changes what the meter and heartbeat timers
// use. Pure: the charger's settings are passed in.

export interface DeviceVariable {
  readonly component: string;
  readonly variable: string;
  readonly instance?: string;
  /** The charger setting (its OCPP 1.6 configuration key). */
  readonly key: string;
  readonly mutability: 'ReadOnly' | 'ReadWrite';
  readonly dataType: 'integer' | 'boolean' | 'string' | 'MemberList' | 'SequenceList';
}

export const deviceVariables: readonly DeviceVariable[] = [
  { component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', key: 'HeartbeatInterval', mutability: 'ReadWrite', dataType: 'integer' },
  { component: 'OCPPCommCtrlr', variable: 'MessageAttempts', instance: 'TransactionEvent', key: 'TransactionMessageAttempts', mutability: 'ReadWrite', dataType: 'integer' },
  { component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval', key: 'MeterValueSampleInterval', mutability: 'ReadWrite', dataType: 'integer' },
  { component: 'SampledDataCtrlr', variable: 'TxUpdatedMeasurands', key: 'MeterValuesSampledData', mutability: 'ReadWrite', dataType: 'MemberList' },
  { component: 'AuthCtrlr', variable: 'AuthorizeRemoteStart', key: 'AuthorizeRemoteTxRequests', mutability: 'ReadWrite', dataType: 'boolean' },
  { component: 'AuthCtrlr', variable: 'LocalAuthorizeOffline', key: 'LocalAuthorizeOffline', mutability: 'ReadWrite', dataType: 'boolean' },
  { component: 'TxCtrlr', variable: 'StopTxOnInvalidId', key: 'StopTransactionOnInvalidId', mutability: 'ReadWrite', dataType: 'boolean' },
  { component: 'SmartChargingCtrlr', variable: 'ProfileStackLevel', key: 'ChargeProfileMaxStackLevel', mutability: 'ReadOnly', dataType: 'integer' },
  { component: 'SmartChargingCtrlr', variable: 'RateUnit', key: 'ChargingScheduleAllowedChargingRateUnit201', mutability: 'ReadOnly', dataType: 'MemberList' },
  { component: 'SmartChargingCtrlr', variable: 'PeriodsPerSchedule', key: 'ChargingScheduleMaxPeriods', mutability: 'ReadOnly', dataType: 'integer' },
  { component: 'SmartChargingCtrlr', variable: 'Entries', instance: 'ChargingProfiles', key: 'MaxChargingProfilesInstalled', mutability: 'ReadOnly', dataType: 'integer' },
  { component: 'SmartChargingCtrlr', variable: 'Enabled', key: 'SmartChargingEnabled', mutability: 'ReadOnly', dataType: 'boolean' },
  { component: 'ChargingStation', variable: 'AvailabilityState', key: 'AvailabilityState', mutability: 'ReadOnly', dataType: 'string' },
];

export interface ComponentRef { name: string; instance?: string; evse?: { id: number; connectorId?: number } }
export interface VariableRef { name: string; instance?: string }

export function findVariable(component: ComponentRef, variable: VariableRef): DeviceVariable | 'UnknownComponent' | 'UnknownVariable' {
  const ofComponent = deviceVariables.filter((v) => v.component === component.name);
  if (ofComponent.length === 0 || component.instance !== undefined || component.evse !== undefined) return 'UnknownComponent';
  return ofComponent.find((v) => v.variable === variable.name && v.instance === variable.instance) ?? 'UnknownVariable';
}

/** Why a value does not fit the variable, or null. */
export function valueRejection(v: DeviceVariable, value: string): string | null {
  if (v.mutability === 'ReadOnly') return 'read-only';
  if (v.dataType === 'integer' && !/^\d{1,9}$/.test(value)) return 'not a non-negative integer';
  if (v.dataType === 'boolean' && value !== 'true' && value !== 'false') return 'not true or false';
  if (value.length > 1000) return 'longer than 1000 characters';
  return null;
}

export interface ReportData {
  component: { name: string };
  variable: { name: string; instance?: string };
  variableAttribute: { type: 'Actual'; value: string; mutability: 'ReadOnly' | 'ReadWrite' }[];
  variableCharacteristics: { dataType: string; supportsMonitoring: false };
}

/** B07 GetBaseReport: ConfigurationInventory is the writable settings; Full and Summary inventories all of them. */
export function baseReport(kind: 'ConfigurationInventory' | 'FullInventory' | 'SummaryInventory', value: (key: string) => string): ReportData[] {
  return deviceVariables
    .filter((v) => kind !== 'ConfigurationInventory' || v.mutability === 'ReadWrite')
    .map((v) => ({
      component: { name: v.component },
      variable: { name: v.variable, ...(v.instance !== undefined ? { instance: v.instance } : {}) },
      variableAttribute: [{ type: 'Actual', value: value(v.key), mutability: v.mutability }],
      variableCharacteristics: { dataType: v.dataType, supportsMonitoring: false },
    }));
}
