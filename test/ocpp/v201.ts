import { connectCharger, type TestCharger } from '../helpers/charger.ts';

/** OCPP 2.0.1 payload builders for the tests: what a 2.0.1 charging station sends. */

export const boot201 = { chargingStation: { vendorName: 'Voltyard Test', model: 'TC-2', firmwareVersion: '2.0.0', serialNumber: 'SN-201' }, reason: 'PowerUp' };

export async function bootCharger201(baseUrl: string, stationId: string, options: Parameters<typeof connectCharger>[2] = {}): Promise<TestCharger> {
  const charger = await connectCharger(baseUrl, stationId, { protocols: ['ocpp2.0.1'], ...options });
  const boot = await charger.call<{ status: string }>('BootNotification', boot201);
  if (boot.status !== 'Accepted') throw new Error(`boot answered ${boot.status}`);
  return charger;
}

export interface Reading { wh: number; w?: number; soc?: number; context?: string; at?: string }

/** One meter value with the same measurands the 1.6 tests send: energy, power, per-phase current, voltage, SoC. */
export function meterValue(timestamp: string, r: Reading) {
  return {
    timestamp,
    sampledValue: [
      { value: r.wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' }, context: r.context ?? 'Sample.Periodic' },
      ...(r.w === undefined ? [] : [{ value: r.w, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' }, context: r.context ?? 'Sample.Periodic' }]),
      ...(r.soc === undefined ? [] : [{ value: r.soc, measurand: 'SoC', unitOfMeasure: { unit: 'Percent' }, location: 'EV', context: r.context ?? 'Sample.Periodic' }]),
    ],
  };
}

export function txEvent(eventType: 'Started' | 'Updated' | 'Ended', o: {
  transactionId: string; seqNo: number; timestamp: string; triggerReason?: string; evseId?: number; idToken?: string; tokenType?: string;
  chargingState?: string; stoppedReason?: string; offline?: boolean; meter?: Reading[];
}) {
  return {
    eventType, timestamp: o.timestamp, seqNo: o.seqNo,
    triggerReason: o.triggerReason ?? (eventType === 'Started' ? 'Authorized' : eventType === 'Ended' ? 'EVDeparted' : 'MeterValuePeriodic'),
    ...(o.offline ? { offline: true } : {}),
    transactionInfo: {
      transactionId: o.transactionId,
      ...(o.chargingState ? { chargingState: o.chargingState } : {}),
      ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
    },
    ...(o.evseId !== undefined ? { evse: { id: o.evseId, connectorId: 1 } } : {}),
    ...(o.idToken !== undefined ? { idToken: { idToken: o.idToken, type: o.tokenType ?? 'ISO14443' } } : {}),
    ...(o.meter ? { meterValue: o.meter.map((r) => meterValue(r.at ?? o.timestamp, r)) } : {}),
  };
}
