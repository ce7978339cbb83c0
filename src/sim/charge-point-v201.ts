// The OCPP 2.0.1 side of VirtualChargePoint: the messages a 2.0.1 charging station sends (StatusNotification per
// EVSE, TransactionEvent, NotifyEVChargingNeeds) and the CSMS calls it answers. The charger's state, physics, queue
// and smart charging are VirtualChargePoint's; this module only speaks 2.0.1 about them. Each connector of the
// charger is an EVSE with one connector (id 1).
import type { IdToken } from '../ocpp/v201/messages.ts';
import { clearProfiles, compositeSchedule, type ChargingProfile, type ChargingRateUnit } from './charging-profiles.ts';
import type { ChargingState201, Connector, ConnectorStatus201, Json, Transaction, VirtualChargePoint } from './charge-point.ts';
import { isConfigKey } from './charge-point.ts';
import { baseReport, findVariable, valueRejection, type ComponentRef, type VariableRef } from './device-model-v201.ts';
import { clearCriteriaFrom201, matches201, profileFrom201, profileTo201, type ChargingProfile201 } from './profiles-v201.ts';

type Handle = (method: string, fn: (params: Json) => Json | Promise<Json>) => void;

/** A token presented at the charger: an RFID card. */
export const idToken201 = (idTag: string): IdToken => ({ idToken: idTag, type: 'ISO14443' });

const iso = (ms: number) => new Date(ms).toISOString();

/** 1.6-style stop reasons (what VirtualChargePoint ends transactions with) as 2.0.1 trigger and stopped reasons. */
const endReasons: Record<string, { triggerReason: string; stoppedReason: string }> = {
  EVDisconnected: { triggerReason: 'EVCommunicationLost', stoppedReason: 'EVDisconnected' },
  Remote: { triggerReason: 'RemoteStop', stoppedReason: 'Remote' },
  UnlockCommand: { triggerReason: 'UnlockCommand', stoppedReason: 'Other' },
  DeAuthorized: { triggerReason: 'Deauthorized', stoppedReason: 'DeAuthorized' },
  PowerLoss: { triggerReason: 'AbnormalCondition', stoppedReason: 'PowerLoss' },
  HardReset: { triggerReason: 'ResetCommand', stoppedReason: 'ImmediateReset' },
  SoftReset: { triggerReason: 'ResetCommand', stoppedReason: 'Reboot' },
};

export function connectorStatus201(c: Connector): ConnectorStatus201 {
  if (c.tx) return 'Occupied';
  if (!c.operative) return 'Unavailable';
  return c.vehicle ? 'Occupied' : 'Available';
}

function chargingState(cp: VirtualChargePoint, c: Connector): ChargingState201 {
  if (!c.tx) return c.vehicle ? 'EVConnected' : 'Idle';
  const s = cp.statusOf(c);
  return s === 'SuspendedEVSE' || s === 'SuspendedEV' ? s : 'Charging';
}

function sampledValues(cp: VirtualChargePoint, c: Connector, context: string): Json[] {
  const phases = cp.kind === 'DC' ? 1 : cp.electrics.phases;
  return [
    { value: Math.round(cp.meterWh[c.id - 1]), context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' }, location: 'Outlet' },
    { value: Math.round(c.powerW), context, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' }, location: 'Outlet' },
    { value: Math.round(c.powerW / (cp.electrics.voltageV * phases) * 10) / 10, context, measurand: 'Current.Import', unitOfMeasure: { unit: 'A' }, location: 'Outlet' },
    ...((cp.opts.reportsSoc ?? cp.kind === 'DC') && c.vehicle ? [{ value: Math.round(c.vehicle.socPercent * 10) / 10, context, measurand: 'SoC', unitOfMeasure: { unit: 'Percent' }, location: 'EV' }] : []),
  ];
}

const register = (context: string, atMs: number, wh: number) =>
  [{ timestamp: iso(atMs), sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' }, location: 'Outlet' }] }];

/** Queues a TransactionEvent: seqNo and charging state as of now; `offline` is set when it was queued offline. */
function queueEvent(cp: VirtualChargePoint, c: Connector, tx: Transaction, eventType: 'Started' | 'Updated' | 'Ended', triggerReason: string, o: {
  atMs?: number; info?: Json; body?: Json; onResult?: (res: Json) => void;
} = {}): void {
  const seqNo = tx.seqNo++;
  const timestamp = iso(o.atMs ?? cp.clock.now());
  const state = tx.chargingState;
  cp.enqueue({
    method: 'TransactionEvent', attempts: 0,
    build: (offline) => ({
      eventType, timestamp, triggerReason, seqNo, ...(offline ? { offline: true } : {}),
      transactionInfo: { transactionId: tx.stationTxId, ...(state ? { chargingState: state } : {}), ...(tx.remoteStartId !== undefined && eventType === 'Started' ? { remoteStartId: tx.remoteStartId } : {}), ...o.info },
      evse: { id: c.id, connectorId: 1 },
      ...o.body,
    }),
    ...(o.onResult ? { onResult: o.onResult } : {}),
  });
}

export function startTransaction201(cp: VirtualChargePoint, c: Connector, tx: Transaction, profile?: ChargingProfile): void {
  tx.chargingState = chargingState(cp, c);
  const idToken = tx.remoteStartId !== undefined ? { idToken: tx.idTag, type: 'Central' } : idToken201(tx.idTag);
  queueEvent(cp, c, tx, 'Started', tx.remoteStartId !== undefined ? 'RemoteStart' : 'Authorized', {
    atMs: tx.startMs,
    body: { idToken, meterValue: register('Transaction.Begin', tx.startMs, Math.round(tx.meterStartWh)) },
    onResult: (res) => {
      // No idTokenInfo: the CSMS has nothing to say about the token (it was authorized before).
      const status = String((res.idTokenInfo as Json | undefined)?.status ?? 'Accepted');
      cp.emit('transactionStarted', { connectorId: c.id, transactionId: tx.stationTxId, idTag: tx.idTag, status });
      if (status !== 'Accepted' && c.tx === tx && cp.config.StopTransactionOnInvalidId === 'true') {
        cp.endTransaction(c, 'DeAuthorized');
        void cp.reportStatus(c);
      }
    },
  });
  // The transaction id is the station's own: a profile sent with RequestStartTransaction applies at once.
  if (profile) cp.applyProfile(c.id, { ...profile, transactionId: tx.localId });
  const needs = chargingNeeds(cp, c);
  if (needs) {
    cp.enqueue({
      method: 'NotifyEVChargingNeeds', attempts: 0, build: () => needs,
      onResult: (res) => cp.emit('chargingNeedsAnswered', { connectorId: c.id, status: res.status }),
    });
  }
}

export function endTransaction201(cp: VirtualChargePoint, c: Connector, tx: Transaction, reason: string, stopMs: number, meterStopWh: number): void {
  const why = endReasons[reason] ?? { triggerReason: 'AbnormalCondition', stoppedReason: 'Other' };
  // Unplugging ends it: the cable is gone. Otherwise the vehicle is still connected.
  tx.chargingState = c.vehicle && reason !== 'EVDisconnected' ? 'EVConnected' : 'Idle';
  queueEvent(cp, c, tx, 'Ended', why.triggerReason, {
    atMs: stopMs,
    info: { stoppedReason: why.stoppedReason },
    body: { meterValue: register('Transaction.End', stopMs, meterStopWh) },
    onResult: () => cp.emit('transactionStopped', { connectorId: c.id, transactionId: tx.stationTxId, reason, energyKwh: (meterStopWh - tx.meterStartWh) / 1000 }),
  });
}

export function queueMeterValues201(cp: VirtualChargePoint, c: Connector, context: string): void {
  const tx = c.tx!;
  queueEvent(cp, c, tx, 'Updated', context === 'Trigger' ? 'Trigger' : 'MeterValuePeriodic', {
    body: { meterValue: [{ timestamp: iso(cp.clock.now()), sampledValue: sampledValues(cp, c, context) }] },
  });
  void cp.reportStatus(c);
}

/** A change of charging state is a TransactionEvent (queued even offline); the connector status goes out when online. */
export async function reportStatus201(cp: VirtualChargePoint, c: Connector): Promise<void> {
  const tx = c.tx;
  if (tx && tx.chargingState !== null) {
    const state = chargingState(cp, c);
    if (state !== tx.chargingState) {
      tx.chargingState = state;
      queueEvent(cp, c, tx, 'Updated', 'ChargingStateChanged');
    }
  }
  const status = connectorStatus201(c);
  if (status === c.lastStatus || !cp.online) return;
  c.lastStatus = status;
  try {
    await cp.call('StatusNotification', { timestamp: iso(cp.clock.now()), connectorStatus: status, evseId: c.id, connectorId: 1 });
  } catch {
    c.lastStatus = null;
  }
}

/** ISO 15118 charging needs from the vehicle on the connector: what it asks for and what it can take. */
export function chargingNeeds(cp: VirtualChargePoint, c: Connector): Json | null {
  const needs = c.needs;
  const v = c.vehicle;
  if (!needs || !v) return null;
  const energyAmount = Math.max(0, Math.round(needs.energyKwh * 1000));
  const departure = needs.departureMs !== undefined ? { departureTime: iso(needs.departureMs) } : {};
  const voltageV = cp.electrics.voltageV;
  if (cp.kind === 'DC') {
    const maxW = v.maxIntakeKw('DC') * 1000;
    return {
      evseId: c.id,
      chargingNeeds: {
        requestedEnergyTransfer: 'DC', ...departure,
        dcChargingParameters: {
          evMaxCurrent: Math.round(maxW / voltageV), evMaxVoltage: Math.round(voltageV * 1.25), energyAmount, evMaxPower: Math.round(maxW),
          stateOfCharge: Math.round(v.socPercent), fullSoC: 100,
          ...(needs.batteryCapacityKwh !== undefined ? { evEnergyCapacity: Math.round(needs.batteryCapacityKwh * 1000) } : {}),
        },
      },
    };
  }
  const phases = cp.electrics.phases;
  return {
    evseId: c.id,
    chargingNeeds: {
      requestedEnergyTransfer: phases === 1 ? 'AC_single_phase' : phases === 2 ? 'AC_two_phase' : 'AC_three_phase', ...departure,
      acChargingParameters: {
        energyAmount, evMinCurrent: 6, evMaxCurrent: Math.round(v.maxIntakeKw('AC') * 1000 / (voltageV * phases)),
        // The vehicle's inlet rating: phase voltage on one phase, line-to-line voltage on three.
        evMaxVoltage: phases === 1 ? Math.round(voltageV) : Math.round(voltageV * Math.sqrt(3)),
      },
    },
  };
}

const rejected = (reasonCode: string, additionalInfo: string) => ({ status: 'Rejected', statusInfo: { reasonCode, additionalInfo: additionalInfo.slice(0, 512) } });

/** A device-model value of the charger (its settings, and what it knows about itself). */
function variableValue(cp: VirtualChargePoint, key: string): string {
  if (key === 'ChargingScheduleAllowedChargingRateUnit201') return cp.opts.quirks?.acceptsOnlyAmps ? 'A' : 'A,W';
  if (key === 'SmartChargingEnabled') return 'true';
  if (key === 'AvailabilityState') return cp.connectors.every((c) => !c.operative) ? 'Unavailable' : 'Available';
  return isConfigKey(key) ? cp.config[key] : '';
}

/**
 * Sends reports that follow an answer (NotifyReport, ReportChargingProfiles) once the answer is out. Not a clock
 * timer: the CSMS waits for the reports before it goes on, so they must not wait for simulated time to move.
 */
function afterAnswer(cp: VirtualChargePoint, method: string, parts: Json[]): void {
  const release = cp.clock.hold();
  setImmediate(() => void (async () => {
    for (const part of parts) {
      try {
        await cp.call(method, part);
      } catch (err) {
        cp.log.info({ method, err: (err as Error).message }, 'report not delivered');
        return;
      }
    }
  })().finally(release));
}

export function handlers201(cp: VirtualChargePoint, on: Handle): void {
  const evse = (id: number) => (Number.isInteger(id) && id >= 1 ? cp.connectors[id - 1] : undefined);

  on('SetChargingProfile', (p) => {
    const evseId = Number(p.evseId);
    const original = p.chargingProfile as ChargingProfile201;
    if (evseId < 0 || evseId > cp.connectors.length) return rejected('UnknownEVSE', `no EVSE ${evseId}`);
    // K01.FR.03: a TxProfile names its transaction.
    if (original.chargingProfilePurpose === 'TxProfile' && original.transactionId === undefined) return rejected('TxNotFound', 'a TxProfile needs a transactionId');
    const c = evse(evseId);
    const t = profileFrom201(original, (stationTxId) => (c?.tx?.stationTxId === stationTxId ? c.tx.localId : null));
    if ('rejected' in t) {
      cp.stats.profilesRejected++;
      cp.log.info({ evseId, id: original.id, why: t.rejected }, 'rejecting a charging profile');
      return rejected('InvalidProfile', t.rejected);
    }
    const status = cp.setChargingProfile(evseId, t.profile);
    return status === 'Accepted' ? { status } : rejected('InvalidSchedule', 'the charger cannot run this schedule');
  });

  on('GetCompositeSchedule', (p) => {
    const evseId = Number(p.evseId);
    if (evseId < 0 || evseId > cp.connectors.length) return rejected('UnknownEVSE', `no EVSE ${evseId}`);
    const c = evse(evseId);
    const s = compositeSchedule(cp.profiles, evseId, c ? cp.running(c) : null, cp.clock.now(), Number(p.duration),
      evseId === 0 ? cp.stationElectrics : cp.electrics, (p.chargingRateUnit as ChargingRateUnit | undefined) ?? 'W');
    return {
      status: 'Accepted',
      schedule: { evseId, duration: s.duration, scheduleStart: s.startSchedule, chargingRateUnit: s.chargingRateUnit, chargingSchedulePeriod: s.chargingSchedulePeriod },
    };
  });

  on('ClearChargingProfile', (p) => {
    const criteria = clearCriteriaFrom201({
      ...(p.chargingProfileId !== undefined ? { chargingProfileId: Number(p.chargingProfileId) } : {}),
      ...(p.chargingProfileCriteria as Json | undefined),
    });
    if (!criteria) return { status: 'Unknown' };
    const { profiles, cleared } = clearProfiles(cp.profiles, criteria);
    cp.profiles = profiles;
    cp.afterLimitsChanged();
    return { status: cleared > 0 ? 'Accepted' : 'Unknown' };
  });

  on('GetChargingProfiles', (p) => {
    const requestId = Number(p.requestId);
    const criteria = { ...(p.chargingProfile as Json), ...(p.evseId !== undefined ? { evseId: Number(p.evseId) } : {}) } as Parameters<typeof matches201>[2];
    const byEvse = new Map<number, ChargingProfile201[]>();
    for (const installed of cp.profiles) {
      const profile = profileTo201(installed.profile, evse(installed.connectorId)?.tx?.stationTxId);
      if (!matches201(installed.connectorId, profile, criteria)) continue;
      byEvse.set(installed.connectorId, [...(byEvse.get(installed.connectorId) ?? []), profile]);
    }
    if (byEvse.size === 0) return { status: 'NoProfiles' };
    const groups = [...byEvse].sort(([a], [b]) => a - b);
    afterAnswer(cp, 'ReportChargingProfiles', groups.map(([evseId, chargingProfile], k) => ({
      requestId, chargingLimitSource: 'CSO', evseId, chargingProfile, ...(k < groups.length - 1 ? { tbc: true } : {}),
    })));
    return { status: 'Accepted' };
  });

  on('RequestStartTransaction', (p) => {
    const token = p.idToken as IdToken;
    const remoteStartId = Number(p.remoteStartId);
    let profile: ChargingProfile | undefined;
    if (p.chargingProfile) {
      const o = p.chargingProfile as ChargingProfile201;
      // F01.FR.08/11: only a TxProfile, and without a transactionId (the transaction does not exist yet).
      if (o.chargingProfilePurpose !== 'TxProfile' || o.transactionId !== undefined) return rejected('InvalidProfile', 'RequestStartTransaction takes a TxProfile without transactionId');
      const t = profileFrom201(o, () => null);
      if ('rejected' in t) return rejected('InvalidProfile', t.rejected);
      profile = t.profile;
    }
    const c = p.evseId !== undefined ? evse(Number(p.evseId)) : cp.connectors.find((x) => !x.tx && x.operative && x.vehicle) ?? cp.connectors.find((x) => !x.tx && x.operative);
    if (!c || c.tx || !c.operative) return { status: 'Rejected' };
    cp.later(0, () => {
      if (c.vehicle && !c.tx) cp.startTransaction(c, token.idToken, profile, remoteStartId);
      else if (!c.vehicle) c.remoteStart = { idTag: token.idToken, remoteStartId, ...(profile ? { profile } : {}) };
    });
    return { status: 'Accepted' };
  });

  on('RequestStopTransaction', (p) => {
    const c = cp.connectors.find((x) => x.tx?.stationTxId === p.transactionId);
    if (!c) return { status: 'Rejected' };
    cp.later(0, () => { cp.endTransaction(c, 'Remote'); void cp.reportStatus(c); });
    return { status: 'Accepted' };
  });

  on('GetVariables', (p) => ({
    getVariableResult: (p.getVariableData as { component: ComponentRef; variable: VariableRef; attributeType?: string }[]).map((d) => {
      const ref = { component: d.component, variable: d.variable };
      const v = findVariable(d.component, d.variable);
      if (typeof v === 'string') return { ...ref, attributeStatus: v };
      if (d.attributeType !== undefined && d.attributeType !== 'Actual') return { ...ref, attributeStatus: 'NotSupportedAttributeType', attributeType: d.attributeType };
      return { ...ref, attributeStatus: 'Accepted', attributeType: 'Actual', attributeValue: variableValue(cp, v.key) };
    }),
  }));

  on('SetVariables', (p) => ({
    setVariableResult: (p.setVariableData as { component: ComponentRef; variable: VariableRef; attributeValue: string; attributeType?: string }[]).map((d) => {
      const ref = { component: d.component, variable: d.variable };
      const v = findVariable(d.component, d.variable);
      if (typeof v === 'string') return { ...ref, attributeStatus: v };
      if (d.attributeType !== undefined && d.attributeType !== 'Actual') return { ...ref, attributeStatus: 'NotSupportedAttributeType', attributeType: d.attributeType };
      const why = valueRejection(v, d.attributeValue);
      if (why) return { ...ref, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'InvalidValue', additionalInfo: why } };
      return { ...ref, attributeStatus: cp.changeConfiguration(v.key, d.attributeValue) === 'Accepted' ? 'Accepted' : 'Rejected' };
    }),
  }));

  on('GetBaseReport', (p) => {
    const data = baseReport(p.reportBase as 'FullInventory', (key) => variableValue(cp, key));
    if (data.length === 0) return { status: 'EmptyResultSet' };
    const perMessage = 8;
    const parts: Json[] = [];
    const generatedAt = iso(cp.clock.now());
    for (let k = 0; k * perMessage < data.length; k++) {
      const last = (k + 1) * perMessage >= data.length;
      parts.push({ requestId: Number(p.requestId), generatedAt, seqNo: k, reportData: data.slice(k * perMessage, (k + 1) * perMessage), ...(last ? {} : { tbc: true }) });
    }
    afterAnswer(cp, 'NotifyReport', parts);
    return { status: 'Accepted' };
  });

  on('TriggerMessage', (p) => {
    const what = String(p.requestedMessage);
    const e = p.evse as { id: number } | undefined;
    if (e && !evse(e.id)) return rejected('UnknownEvse', `no EVSE ${e.id}`);
    const targets = e ? [evse(e.id)!] : cp.connectors;
    const send: Record<string, () => void> = {
      BootNotification: () => { cp.bootReason = 'Triggered'; void cp.boot(); },
      Heartbeat: () => void cp.call('Heartbeat', {}).catch(() => undefined),
      StatusNotification: () => { for (const c of targets) { c.lastStatus = null; void cp.reportStatus(c); } },
      MeterValues: () => {
        cp.advance();
        for (const c of targets) void cp.call('MeterValues', { evseId: c.id, meterValue: [{ timestamp: iso(cp.clock.now()), sampledValue: sampledValues(cp, c, 'Trigger') }] }).catch(() => undefined);
      },
      TransactionEvent: () => {
        cp.advance();
        for (const c of targets) if (c.tx) cp.queueMeterValues(c, 'Trigger');
      },
    };
    // F06.FR.17: a station already accepted does not boot again on request.
    if (what === 'BootNotification' && cp.online) return rejected('NotEnabled', 'already accepted');
    const action = send[what];
    if (!action) return { status: 'NotImplemented' };
    cp.later(0, action);
    return { status: 'Accepted' };
  });

  on('Reset', (p) => {
    if (p.evseId !== undefined) return rejected('UnsupportedRequest', 'this charger resets only as a whole');
    if (p.type === 'Immediate') {
      cp.later(0, () => void cp.reboot('HardReset', 10_000));
      return { status: 'Accepted' };
    }
    // OnIdle: once no transaction runs (B12.FR.01).
    if (cp.connectors.some((c) => c.tx)) { cp.resetOnIdle = true; return { status: 'Scheduled' }; }
    cp.later(0, () => void cp.reboot('SoftReset', 10_000));
    return { status: 'Accepted' };
  });

  on('UnlockConnector', (p) => {
    const c = evse(Number(p.evseId));
    if (!c || p.connectorId !== 1) return { status: 'UnknownConnector' };
    // F05.FR.02: an authorized transaction keeps the cable locked; the CSMS stops it first.
    if (c.tx) return { status: 'OngoingAuthorizedTransaction' };
    return { status: 'Unlocked' };
  });

  on('ChangeAvailability', (p) => {
    const operative = p.operationalStatus === 'Operative';
    const e = p.evse as { id: number } | undefined;
    const targets = e === undefined || e.id === 0 ? cp.connectors : evse(e.id) ? [evse(e.id)!] : [];
    if (targets.length === 0) return rejected('UnknownEvse', `no EVSE ${e?.id}`);
    let scheduled = false;
    for (const c of targets) {
      if (!operative && c.tx) { c.pendingInoperative = true; scheduled = true; continue; }
      c.operative = operative;
      c.pendingInoperative = false;
    }
    cp.later(0, () => { for (const c of targets) void cp.reportStatus(c); });
    return { status: scheduled ? 'Scheduled' : 'Accepted' };
  });
}


