import { isoClock } from '../../clock.ts';
import type { Connection, CentralSystemDeps } from '../server.ts';
import type { CommandResult, ReportedProfile, ReportedVariable } from '../commands.ts';
import { CommandError } from '../commands.ts';
import { handlerInstaller, notSupported } from '../rpc.ts';
import { normaliseSample } from '../meter.ts';
import { sampleRecorder } from '../samples.ts';
import { utcIso } from '../timestamps.ts';
import type { TransactionRow } from '../migrations.ts';
import type { EvseStatusPut } from '../repository.ts';
import type { VersionAdapter } from '../v16/handlers.ts';
import { fromV201Result, reportedProfiles, reportedVariables, toV201Call, type CallContext } from './commands.ts';
import type * as M from './messages.ts';

const energyRegister = 'Energy.Active.Import.Register';

/**
 * OCPP 2.0.1: the messages a charging station sends, translated to the same domain events and stored rows as 1.6.
 * Transactions are the station's (string ids, TransactionEvent Started/Updated/Ended with a seqNo); Voltyard gives
 * each one its own integer id as well, and that id is the one the rest of Voltyard sees.
 */
export function installV201(conn: Connection, deps: CentralSystemDeps): VersionAdapter {
  const { socket, stationId } = conn;
  const { repo, tokens, bus, clock, config } = deps;
  const log = deps.logger.child({ module: 'ocpp', stationId, protocol: 'ocpp2.0.1' });
  const iso = isoClock(clock);
  /** Reports (NotifyReport, ReportChargingProfiles) a command of ours is waiting for, by requestId. */
  const reports = new Map<number, ReportWait>();
  let requestSeq = Math.floor(clock.now() / 1000) % 1_000_000_000;

  const on = handlerInstaller(socket, conn);

  /**
   * Transaction messages of one station are applied one after another: a station may have several calls in flight,
   * and "is this event new, late or repeated" must be answered against the state the previous one left.
   */
  let chain: Promise<unknown> = Promise.resolve();
  /** Open transactions of this connection as last stored by it, by the station's transaction id. */
  const knownTransactions = new Map<string, TransactionRow>();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  }

  on<M.BootNotificationReq, M.BootNotificationRes>('BootNotification', async (p) => {
    const at = iso();
    const station = await repo.station(stationId);
    const registration = !station ? 'Rejected' : station.registration === 'accepted' ? 'Accepted' : 'Pending';
    const cs = p.chargingStation;
    if (station) {
      await repo.updateStation(stationId, {
        vendor: cs.vendorName, model: cs.model, serial_number: cs.serialNumber ?? null, firmware_version: cs.firmwareVersion ?? null,
        last_boot_at: at, last_seen_at: at, protocol: 'ocpp2.0.1',
      });
    }
    conn.accepted = registration === 'Accepted';
    log.info({ registration, vendor: cs.vendorName, model: cs.model, firmware: cs.firmwareVersion, reason: p.reason }, 'boot notification');
    bus.publish({
      type: 'StationBooted', stationId, at, receivedAt: at, vendor: cs.vendorName, model: cs.model,
      serialNumber: cs.serialNumber ?? null, firmwareVersion: cs.firmwareVersion ?? null, registration,
    });
    const interval = registration === 'Accepted' ? config.heartbeatIntervalS : registration === 'Pending' ? 60 : 3600;
    return { status: registration, currentTime: at, interval };
  });

  on<Record<string, never>, { currentTime: string }>('Heartbeat', async () => {
    const at = iso();
    if (conn.accepted) await repo.touchStation(stationId, at);
    return { currentTime: at };
  });

  on<M.StatusNotificationReq, Record<string, never>>('StatusNotification', (p) => {
    const receivedAt = iso();
    const at = utcIso(p.timestamp);
    const put = repo.putEvseConnectorStatus({ station_id: stationId, evse_id: p.evseId, connector_id: p.connectorId, status: p.connectorStatus, status_at: at });
    // A repeated status (most of them) is answered at once; a new one once stored.
    return put instanceof Promise ? put.then((r) => statusStored(p, r, at, receivedAt)) : statusStored(p, put, at, receivedAt);
  });

  function statusStored(p: M.StatusNotificationReq, { outcome, connectors }: EvseStatusPut, at: string, receivedAt: string): Record<string, never> | Promise<Record<string, never>> {
    if (outcome === 'late') log.debug({ evseId: p.evseId, connectorId: p.connectorId, status: p.connectorStatus, at }, 'late status notification stored nowhere: a newer status is known');
    if (outcome !== 'changed') return {};
    // The registry's row for the EVSE (1.6's connector) shows what the EVSE as a whole can do.
    const evse = repo.putConnectorStatus({
      station_id: stationId, connector_id: p.evseId, status: evseStatus(connectors.map((c) => c.status)), error_code: null, info: null, vendor_error_code: null,
      status_at: connectors.map((c) => c.status_at).reduce((a, b) => (a > b ? a : b)),
    });
    return Promise.resolve(evse).then(() => {
      bus.publish({ type: 'ConnectorStatusChanged', stationId, at, receivedAt, evseId: p.evseId, connectorId: p.connectorId, status: p.connectorStatus, errorCode: null, info: null });
      if (p.connectorStatus === 'Faulted') {
        // 2.0.1 reports the cause with NotifyEvent (device model), not here.
        bus.publish({ type: 'StationFault', stationId, at, receivedAt, evseId: p.evseId, connectorId: p.connectorId, errorCode: 'Faulted', info: null });
      }
      return {};
    });
  }

  /** The registry's answer for a token; idTokens are case-insensitive in 2.0.1, so an RFID UID matches in either case. */
  async function authorize(token: M.IdToken, excludeTransactionId?: number): Promise<{ info: M.IdTokenInfo; idTag: string | null }> {
    if (token.type === 'NoAuthorization') return { info: { status: 'Accepted' }, idTag: null };
    let found = await tokens.get(token.idToken);
    if (!found && token.idToken.toUpperCase() !== token.idToken) found = await tokens.get(token.idToken.toUpperCase());
    if (!found) return { info: { status: 'Unknown' }, idTag: token.idToken };
    const check = await tokens.check(found.idTag, iso());
    let status: M.AuthorizationStatus = check.status;
    if (status === 'Accepted') {
      const active = await repo.activeTransactionForTag(found.idTag);
      if (active && active.id !== excludeTransactionId) status = 'ConcurrentTx';
    }
    return {
      idTag: found.idTag,
      info: {
        status,
        ...(check.expiresAt ? { cacheExpiryDateTime: check.expiresAt } : {}),
        ...(check.parentIdTag ? { groupIdToken: { idToken: check.parentIdTag, type: 'Central' } } : {}),
      },
    };
  }

  on<M.AuthorizeReq, M.AuthorizeRes>('Authorize', async (p) => {
    const { info } = await authorize(p.idToken);
    log.info({ idToken: p.idToken.idToken, tokenType: p.idToken.type, status: info.status }, 'authorize');
    return { idTokenInfo: info };
  });

  const record = sampleRecorder(repo, bus, stationId);
  /** 2.0.1 values are numbers with a unit multiplier; instants are taken in time order. */
  function storeMeterValues(evseId: number, transactionId: number | null, values: readonly M.MeterValue[], receivedAt: string): Promise<void> {
    return record(evseId, transactionId, [...values].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp)).map((mv) => ({
      sampledAt: utcIso(mv.timestamp),
      samples: mv.sampledValue.map((sv) => normaliseSample({
        value: sv.value, measurand: sv.measurand, unit: sv.unitOfMeasure?.unit, multiplier: sv.unitOfMeasure?.multiplier,
        phase: sv.phase, location: sv.location, context: sv.context,
      })),
    })), receivedAt);
  }

  on<M.MeterValuesReq, Record<string, never>>('MeterValues', (p) => serial(async () => {
    // Outside a transaction (a station or EVSE meter): the samples belong to no transaction.
    await storeMeterValues(p.evseId, null, p.meterValue, iso());
    return {};
  }));

  on<M.TransactionEventReq, M.TransactionEventRes>('TransactionEvent', (p) => serial(() => transactionEvent(p)));

  async function transactionEvent(p: M.TransactionEventReq): Promise<M.TransactionEventRes> {
    const receivedAt = iso();
    const at = utcIso(p.timestamp);
    const stationTxId = p.transactionInfo.transactionId;
    // The row as this connection last stored it saves a read per event; a replaced connection no longer trusts it.
    if (conn.replaced) knownTransactions.clear();
    const cached = knownTransactions.get(stationTxId);
    knownTransactions.delete(stationTxId);
    let tx = cached ?? await repo.transactionByStationTxId(stationId, stationTxId);
    const evseId = p.evse?.id ?? tx?.connector_id ?? null;
    const auth = p.idToken ? await authorize(p.idToken, tx?.id) : null;
    const reply: M.TransactionEventRes = auth ? { idTokenInfo: auth.info } : {};
    const registerWh = energyRegisterWh(p.meterValue ?? [], p.eventType === 'Started' ? 'Transaction.Begin' : p.eventType === 'Ended' ? 'Transaction.End' : null);

    let created = false;
    if (!tx) {
      try {
        tx = await repo.insertTransaction({
          station_id: stationId, connector_id: evseId, id_tag: auth?.idTag ?? null, id_tag_status: auth?.info.status ?? null,
          started_at: p.eventType === 'Started' ? at : null, meter_start_wh: p.eventType === 'Started' ? registerWh : null,
          stopped_at: null, meter_stop_wh: null, stop_reason: null, stop_id_tag: null, energy_kwh: null, reported_id: null,
          // Known: seen from its start. A transaction first seen at an Updated or Ended event lost its Started.
          known: p.eventType === 'Started' ? 1 : 0, protocol: 'ocpp2.0.1', created_at: receivedAt,
          station_tx_id: stationTxId, last_seq_no: p.seqNo, charging_state: p.transactionInfo.chargingState ?? null, id_token_type: p.idToken?.type ?? null,
        });
        created = true;
      } catch (err) {
        // A copy of this event racing its original (serial() covers one connection, not a replaced one): use the stored row.
        tx = await repo.transactionByStationTxId(stationId, stationTxId);
        if (!tx) throw err;
      }
    }

    // Above the highest seqNo applied, an event cannot have been recorded yet (the two are stored together).
    const beyondApplied = cached !== undefined && cached.last_seq_no !== null && p.seqNo > cached.last_seq_no;
    if (!created && !beyondApplied && await repo.transactionEventSeen(stationId, stationTxId, p.seqNo)) {
      log.info({ transactionId: tx.id, stationTxId, seqNo: p.seqNo, eventType: p.eventType }, 'repeated TransactionEvent: already applied');
      return reply;
    }

    const before = tx;
    const patch: Partial<TransactionRow> = {};
    const late = !created && before.last_seq_no !== null && p.seqNo < before.last_seq_no;
    if (!created) {
      if (!late) {
        patch.last_seq_no = p.seqNo;
        if (p.transactionInfo.chargingState) patch.charging_state = p.transactionInfo.chargingState;
      }
      if (before.connector_id === null && evseId !== null) patch.connector_id = evseId;
      if (p.eventType === 'Started' && before.started_at === null) {
        // The Started event comes after others (it was lost and resent, or the queue was reordered): it still sets the start.
        Object.assign(patch, { started_at: at, known: 1, ...(registerWh !== null ? { meter_start_wh: registerWh } : {}) });
      }
      if (auth && p.eventType !== 'Ended' && before.id_tag === null) Object.assign(patch, { id_tag: auth.idTag, id_tag_status: auth.info.status, id_token_type: p.idToken!.type });
    }
    // A Started without a Transaction.Begin register: the first register of the transaction stands for its start.
    const startWh = patch.meter_start_wh ?? before.meter_start_wh;
    if (startWh === null && p.eventType === 'Updated' && registerWh !== null && (patch.started_at ?? before.started_at) !== null) patch.meter_start_wh = registerWh;
    if (p.offline) log.info({ transactionId: tx.id, seqNo: p.seqNo, eventType: p.eventType, at }, 'TransactionEvent queued while offline');
    if (late) log.info({ transactionId: tx.id, seqNo: p.seqNo, lastSeqNo: before.last_seq_no, eventType: p.eventType }, 'late TransactionEvent: stored, state kept');

    let after: TransactionRow = { ...before, ...patch };
    // Announced as 1.6 does: the start first, then the meter values it carried, then the end.
    const announcedBefore = !created && before.started_at !== null && before.meter_start_wh !== null;
    const announceStart = !announcedBefore && after.started_at !== null && after.meter_start_wh !== null && before.stopped_at === null;
    const ending = p.eventType === 'Ended' && before.stopped_at === null;
    // What is announced is stored first; otherwise (most events: periodic meter values) the state change is stored
    // with the event's record at the end, in one write.
    const storeNow = announceStart || ending;
    if (storeNow) await repo.updateTransaction(tx.id, patch);

    if (announceStart) {
      log.info({ transactionId: tx.id, stationTxId, evseId: after.connector_id, idToken: after.id_tag }, 'transaction started');
      bus.publish({
        type: 'SessionStarted', stationId, at: after.started_at!, receivedAt, evseId: after.connector_id ?? 0, connectorId: p.evse?.connectorId ?? 1,
        transactionId: String(tx.id), idToken: after.id_tag, meterStartKwh: after.meter_start_wh! / 1000,
      });
    }

    if (p.meterValue && p.meterValue.length > 0) {
      if (after.connector_id === null) log.warn({ transactionId: tx.id, stationTxId }, 'meter values for a transaction whose EVSE is unknown: not stored');
      else await storeMeterValues(after.connector_id, tx.id, p.meterValue, receivedAt);
    }

    if (p.eventType === 'Ended' && !ending) {
      log.info({ transactionId: tx.id, seqNo: p.seqNo }, 'second Ended event for a transaction already ended: state kept');
    } else if (ending) {
      const stopWh = registerWh ?? ((await repo.latestEnergyKwh(tx.id)) ?? NaN) * 1000;
      const meterStopWh = Number.isFinite(stopWh) ? round(stopWh) : null;
      const start = after.meter_start_wh;
      const stop = {
        stopped_at: at, meter_stop_wh: meterStopWh, stop_reason: p.transactionInfo.stoppedReason ?? 'Local', stop_id_tag: auth?.idTag ?? null,
        energy_kwh: start !== null && meterStopWh !== null && meterStopWh >= start ? (meterStopWh - start) / 1000 : null,
      };
      await repo.stopTransaction(tx.id, stop);
      after = { ...after, ...stop };
      log.info({ transactionId: tx.id, stationTxId, energyKwh: after.energy_kwh, reason: after.stop_reason }, 'transaction stopped');
      bus.publish({
        type: 'SessionEnded', stationId, at, receivedAt, transactionId: String(tx.id), evseId: after.connector_id,
        connectorId: after.connector_id === null ? null : 1, meterStopKwh: after.meter_stop_wh === null ? null : after.meter_stop_wh / 1000,
        energyKwh: after.energy_kwh, reason: after.stop_reason, known: after.known === 1,
      });
    }
    // Recorded last: a crash before this point leaves the event unrecorded, so the station's resend applies it again
    // (every step above is idempotent) instead of being mistaken for a repeat of an event whose effects were lost.
    await repo.applyTransactionEvent(tx.id, storeNow ? {} : patch, {
      station_id: stationId, station_tx_id: stationTxId, seq_no: p.seqNo, transaction_id: tx.id, event_type: p.eventType,
      trigger_reason: p.triggerReason, at, offline: p.offline ? 1 : 0, received_at: receivedAt,
    });
    if (after.stopped_at === null) knownTransactions.set(stationTxId, after);
    return reply;
  }

  on<M.NotifyEVChargingNeedsReq, M.NotifyEVChargingNeedsRes>('NotifyEVChargingNeeds', async (p) => {
    const at = iso();
    const needs = p.chargingNeeds;
    const ac = needs.acChargingParameters;
    const dc = needs.dcChargingParameters;
    const phases = { AC_single_phase: 1, AC_two_phase: 2, AC_three_phase: 3, DC: null }[needs.requestedEnergyTransfer];
    const energyWh = ac?.energyAmount ?? dc?.energyAmount;
    const departureAt = needs.departureTime ? new Date(needs.departureTime).toISOString() : null;
    const tx = await repo.openTransactionOnEvse(stationId, p.evseId);
    const energyRequestKwh = energyWh === undefined ? null : energyWh / 1000;
    if (tx) {
      await repo.updateTransaction(tx.id, { ev_energy_request_kwh: energyRequestKwh, ev_departure_at: departureAt });
      if (tx.station_tx_id !== null) knownTransactions.delete(tx.station_tx_id);
    }
    log.info({ evseId: p.evseId, transactionId: tx?.id, energyRequestKwh, departureAt, transfer: needs.requestedEnergyTransfer }, 'EV charging needs');
    bus.publish({
      type: 'EvChargingNeedsReported', stationId, at, receivedAt: at, evseId: p.evseId, transactionId: tx ? String(tx.id) : null,
      currentType: needs.requestedEnergyTransfer === 'DC' ? 'DC' : 'AC', phases, energyRequestKwh, departureAt,
      minCurrentA: ac?.evMinCurrent ?? null, maxCurrentA: ac?.evMaxCurrent ?? dc?.evMaxCurrent ?? null, maxVoltageV: ac?.evMaxVoltage ?? dc?.evMaxVoltage ?? null,
      maxPowerKw: dc?.evMaxPower === undefined ? null : dc.evMaxPower / 1000, socPercent: dc?.stateOfCharge ?? null,
      batteryCapacityKwh: dc?.evEnergyCapacity === undefined ? null : dc.evEnergyCapacity / 1000, fullSocPercent: dc?.fullSoC ?? null, bulkSocPercent: dc?.bulkSoC ?? null,
    });
    // Processing: the planner answers with a TxProfile (SetChargingProfile) once it has planned; the station waits for it.
    return { status: 'Processing' };
  });

  on<M.NotifyEVChargingScheduleReq, { status: 'Accepted' | 'Rejected' }>('NotifyEVChargingSchedule', (p) => {
    const s = p.chargingSchedule;
    log.info({ evseId: p.evseId, timeBase: p.timeBase, unit: s.chargingRateUnit, periods: s.chargingSchedulePeriod.length, firstLimit: s.chargingSchedulePeriod[0]?.limit }, 'EV charging schedule (the vehicle\'s own plan within our limits)');
    return { status: 'Accepted' };
  });

  on<M.NotifyChargingLimitReq, Record<string, never>>('NotifyChargingLimit', (p) => {
    // A limit set by someone else (local EMS, grid operator): the station obeys it over our profiles.
    log.warn({ evseId: p.evseId, source: p.chargingLimit.chargingLimitSource, gridCritical: p.chargingLimit.isGridCritical ?? false, schedules: p.chargingSchedule?.length ?? 0 }, 'external charging limit on the station');
    return {};
  });

  on<M.ReportChargingProfilesReq, Record<string, never>>('ReportChargingProfiles', async (p) => {
    const wait = reports.get(p.requestId);
    if (!wait || wait.kind !== 'profiles') {
      log.info({ requestId: p.requestId, profiles: p.chargingProfile.length }, 'charging profile report nobody waits for: ignored');
      return {};
    }
    const profiles = reportedProfiles(p.evseId, p.chargingLimitSource, p.chargingProfile);
    for (let i = 0; i < profiles.length; i++) {
      const stationTx = profiles[i]!.profile.transactionId;
      if (stationTx === undefined) continue;
      // Domain ids are ours: translate the station's transaction id back where we know it.
      const tx = await repo.transactionByStationTxId(stationId, stationTx);
      if (tx) profiles[i] = { ...profiles[i]!, profile: { ...profiles[i]!.profile, transactionId: String(tx.id) } };
    }
    wait.add(profiles, p.tbc ?? false);
    return {};
  });

  on<M.NotifyReportReq, Record<string, never>>('NotifyReport', (p) => {
    const wait = reports.get(p.requestId);
    if (!wait || wait.kind !== 'report') {
      log.info({ requestId: p.requestId, seqNo: p.seqNo, items: p.reportData?.length ?? 0 }, 'device model report nobody waits for: ignored');
      return {};
    }
    wait.add(reportedVariables(p.reportData ?? []), p.tbc ?? false);
    return {};
  });

  on<M.SecurityEventNotificationReq, Record<string, never>>('SecurityEventNotification', (p) => {
    log.warn({ event: p.type, at: p.timestamp, techInfo: p.techInfo?.slice(0, 255) }, 'security event reported by the station');
    return {};
  });

  on<M.FirmwareStatusNotificationReq, Record<string, never>>('FirmwareStatusNotification', async (p) => {
    await repo.updateStation(stationId, { firmware_status: p.status });
    log.info({ status: p.status, requestId: p.requestId }, 'firmware status');
    return {};
  });

  on<M.LogStatusNotificationReq, Record<string, never>>('LogStatusNotification', async (p) => {
    // 2.0.1's log upload status takes the place of 1.6's diagnostics status.
    await repo.updateStation(stationId, { diagnostics_status: p.status });
    return {};
  });

  on<M.DataTransferReq, M.DataTransferRes>('DataTransfer', (p) => {
    log.info({ vendorId: p.vendorId, messageId: p.messageId }, 'data transfer from station (no vendor extension known)');
    return { status: 'UnknownVendorId' };
  });

  // Notifications Voltyard has no use for yet: acknowledged (a CALLERROR would make some firmware retry them forever).
  for (const action of ['NotifyEvent', 'ClearedChargingLimit', 'NotifyMonitoringReport', 'NotifyCustomerInformation', 'NotifyDisplayMessages', 'ReservationStatusUpdate', 'PublishFirmwareStatusNotification']) {
    on(action, () => {
      log.debug({ action }, 'notification acknowledged, not used');
      return {};
    });
  }
  // Certificate management needs a PKI this central system does not run: known messages, not supported.
  for (const action of ['SignCertificate', 'Get15118EVCertificate', 'GetCertificateStatus']) {
    on(action, () => { throw notSupported(`${action} is not supported by this central system`); });
  }

  const ctx: CallContext = {
    async stationTransactionId(transactionId) {
      if (/^\d{1,15}$/.test(transactionId)) {
        const tx = await repo.transaction(Number(transactionId));
        if (tx && tx.station_id === stationId) {
          if (tx.station_tx_id === null) throw new CommandError('Invalid', `transaction ${transactionId} was an OCPP 1.6 transaction; this station now speaks 2.0.1`);
          return tx.station_tx_id;
        }
      }
      // Not one of ours on this station: taken as the station's own id (a transaction Voltyard never recorded).
      if (transactionId.length > 36) throw new CommandError('Invalid', `OCPP 2.0.1 transaction ids have at most 36 characters; "${transactionId.slice(0, 40)}…" has more`);
      return transactionId;
    },
    nextRequestId: () => (requestSeq = (requestSeq + 1) % 2_147_483_647),
  };

  return {
    async send(command, timeoutMs) {
      const call = await toV201Call(command, ctx);
      const wait = call.requestId !== undefined ? waitForReport(call.requestId, command.type === 'GetBaseReport' ? 'report' : 'profiles', timeoutMs) : null;
      try {
        const response = await socket.call(call.action, call.payload, timeoutMs);
        const result: CommandResult = fromV201Result(command, response);
        if (!wait) return result;
        if (result.status !== 'Accepted') return { ...result, ...(wait.kind === 'report' ? { report: [] } : { profiles: [] }), complete: true };
        const complete = await wait.done;
        return wait.kind === 'report'
          ? { ...result, report: wait.items as ReportedVariable[], complete }
          : { ...result, profiles: wait.items as ReportedProfile[], complete };
      } finally {
        wait?.cancel();
      }
    },
  };

  function waitForReport(requestId: number, kind: ReportWait['kind'], timeoutMs: number): ReportWait {
    let finish!: (complete: boolean) => void;
    const done = new Promise<boolean>((resolve) => { finish = resolve; });
    const timer = setTimeout(() => finish(false), timeoutMs);
    const wait: ReportWait = {
      kind, items: [], done,
      add(items, more) {
        wait.items.push(...items);
        if (!more) finish(true);
      },
      cancel() {
        clearTimeout(timer);
        finish(false);
        reports.delete(requestId);
      },
    };
    // Registered before the call goes out: a station may send its first report before we read its answer.
    reports.set(requestId, wait);
    return wait;
  }
}

interface ReportWait {
  readonly kind: 'report' | 'profiles';
  readonly items: (ReportedVariable | ReportedProfile)[];
  readonly done: Promise<boolean>;
  add(items: readonly (ReportedVariable | ReportedProfile)[], more: boolean): void;
  cancel(): void;
}

const round = (wh: number) => Math.round(wh * 1000) / 1000;

/**
 * The outlet's cumulative import register in Wh among these meter values, computed from the station's own unit and
 * multiplier (not via kWh, so 12000 Wh stays 12000). A value with the wanted reading context wins; otherwise the newest.
 */
export function energyRegisterWh(values: readonly M.MeterValue[], context: string | null): number | null {
  let best: { wh: number; at: number; preferred: boolean } | null = null;
  for (const mv of values) {
    const at = Date.parse(mv.timestamp);
    for (const sv of mv.sampledValue) {
      if ((sv.measurand ?? energyRegister) !== energyRegister || sv.phase || (sv.location ?? 'Outlet') !== 'Outlet') continue;
      const unit = sv.unitOfMeasure?.unit ?? 'Wh';
      if (unit !== 'Wh' && unit !== 'kWh') continue;
      const wh = round(sv.value * 10 ** (sv.unitOfMeasure?.multiplier ?? 0) * (unit === 'kWh' ? 1000 : 1));
      const preferred = context !== null && sv.context === context;
      if (!best || (preferred && !best.preferred) || (preferred === best.preferred && at >= best.at)) best = { wh, at, preferred };
    }
  }
  return best?.wh ?? null;
}

/**
 * An EVSE's status from its connectors' (an EVSE charges through one connector at a time): a vehicle on any connector
 * occupies it; otherwise it is as available as its best connector.
 */
export function evseStatus(statuses: readonly string[]): string {
  for (const status of ['Occupied', 'Reserved', 'Available', 'Unavailable', 'Faulted']) if (statuses.includes(status)) return status;
  return statuses[0] ?? 'Unavailable';
}
