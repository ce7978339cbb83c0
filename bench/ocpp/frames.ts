// OCPP-J 1.6 frames a lean simulated station writes, built as text so the load generator spends its time on the
// wire, not on serialising objects. Every payload is valid against the official 1.6 JSON schemas.

export const CALL = 2;
export const CALLRESULT = 3;
export const CALLERROR = 4;

/** The steady-state messages a station sends, in turn. */
export type SteadyKind = 'status' | 'meter';

export function bootNotification(messageId: string, stationId: string): string {
  return `[2,"${messageId}","BootNotification",{"chargePointVendor":"VoltyardBench","chargePointModel":"LeanStation",` +
    `"chargePointSerialNumber":"${stationId.slice(0, 25)}","firmwareVersion":"bench-1"}]`;
}

export function startTransaction(messageId: string, idTag: string, meterStartWh: number, timestamp: string): string {
  return `[2,"${messageId}","StartTransaction",{"connectorId":1,"idTag":"${idTag.slice(0, 20)}","meterStart":${meterStartWh},"timestamp":"${timestamp}"}]`;
}

export function statusNotification(messageId: string, status: string, timestamp: string): string {
  return `[2,"${messageId}","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"${status}","timestamp":"${timestamp}"}]`;
}

/** Energy register and power, the two measurands a depot charger reports on every sample. */
export function meterValues(messageId: string, transactionId: number | null, energyWh: number, powerW: number, timestamp: string): string {
  const tx = transactionId === null ? '' : `"transactionId":${transactionId},`;
  return `[2,"${messageId}","MeterValues",{"connectorId":1,${tx}"meterValue":[{"timestamp":"${timestamp}","sampledValue":[` +
    `{"value":"${energyWh}","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"Wh"},` +
    `{"value":"${powerW}","context":"Sample.Periodic","measurand":"Power.Active.Import","unit":"W"}]}]}]`;
}

/** Payloads a permissive charger answers the central system's calls with (valid 1.6 confirmations). */
const serverCallAnswers: Record<string, string> = {
  GetConfiguration: '{"configurationKey":[],"unknownKey":[]}',
  TriggerMessage: '{"status":"NotImplemented"}',
  UnlockConnector: '{"status":"NotSupported"}',
  GetCompositeSchedule: '{"status":"Rejected"}',
  GetDiagnostics: '{}',
  UpdateFirmware: '{}',
};

/**
 * The answer a station gives to a call from the central system. The bench measures the station->server direction;
 * a server call is answered at once so the server never waits on a timeout. Calls not listed answer Accepted.
 */
export function answerServerCall(messageId: string, action: string): string {
  return `[3,"${messageId}",${serverCallAnswers[action] ?? '{"status":"Accepted"}'}]`;
}

// OCPP 2.0.1: the same station life in 2.0.1 messages (valid against the official 2.0.1 schemas). Transactions are
// TransactionEvents with the station's own id and a rising seqNo; meter values travel inside them.
export function bootNotification201(messageId: string, stationId: string): string {
  return `[2,"${messageId}","BootNotification",{"chargingStation":{"vendorName":"VoltyardBench","model":"LeanStation",` +
    `"serialNumber":"${stationId.slice(0, 25)}","firmwareVersion":"bench-1"},"reason":"PowerUp"}]`;
}

export function statusNotification201(messageId: string, timestamp: string): string {
  return `[2,"${messageId}","StatusNotification",{"timestamp":"${timestamp}","connectorStatus":"Occupied","evseId":1,"connectorId":1}]`;
}

export function transactionEvent201(messageId: string, eventType: 'Started' | 'Updated', txId: string, seqNo: number, idTag: string, energyWh: number, powerW: number, timestamp: string): string {
  const started = eventType === 'Started';
  return `[2,"${messageId}","TransactionEvent",{"eventType":"${eventType}","timestamp":"${timestamp}",` +
    `"triggerReason":"${started ? 'Authorized' : 'MeterValuePeriodic'}","seqNo":${seqNo},` +
    `"transactionInfo":{"transactionId":"${txId}","chargingState":"Charging"},"evse":{"id":1,"connectorId":1},` +
    (started ? `"idToken":{"idToken":"${idTag.slice(0, 36)}","type":"ISO14443"},` : '') +
    `"meterValue":[{"timestamp":"${timestamp}","sampledValue":[` +
    `{"value":${energyWh},"context":"${started ? 'Transaction.Begin' : 'Sample.Periodic'}","measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"Wh"}},` +
    `{"value":${powerW},"context":"${started ? 'Transaction.Begin' : 'Sample.Periodic'}","measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W"}}]}]}]`;
}
