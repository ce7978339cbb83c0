import { isoClock } from '../../clock.ts';
import type { Connection, CentralSystemDeps } from '../server.ts';
import type { StationCommand, CommandResult } from '../commands.ts';
import { empty, handlerInstaller, notSupported } from '../rpc.ts';
import { normaliseSample } from '../meter.ts';
import { sampleRecorder } from '../samples.ts';
import { utcIso } from '../timestamps.ts';
import type { TransactionRow } from '../migrations.ts';
import type { StatusOutcome } from '../repository.ts';
import { toV16Call, fromV16Result, setVariables16 } from './commands.ts';
import type * as M from './messages.ts';

/** What a protocol version gives the central system for one connection. */
export interface VersionAdapter {
  /** Translates a domain command to this version's call and its answer back. */
  send(command: StationCommand, timeoutMs: number): Promise<CommandResult>;
}

/** OCPP 1.6J: the Core profile a charger sends, translated to domain events and stored. */
export function installV16(conn: Connection, deps: CentralSystemDeps): VersionAdapter {
  const { socket, stationId } = conn;
  const { repo, tokens, bus, clock, config } = deps;
  const log = deps.logger.child({ module: 'ocpp', stationId, protocol: 'ocpp1.6' });
  const iso = isoClock(clock);

  const on = handlerInstaller(socket, conn);

  on<M.BootNotificationReq, M.BootNotificationConf>('BootNotification', async (p) => {
    const at = iso();
    const station = await repo.station(stationId);
    const registration = !station ? 'Rejected' : station.registration === 'accepted' ? 'Accepted' : 'Pending';
    if (station) {
      await repo.updateStation(stationId, {
        vendor: p.chargePointVendor, model: p.chargePointModel, serial_number: p.chargePointSerialNumber ?? p.chargeBoxSerialNumber ?? null,
        firmware_version: p.firmwareVersion ?? null, last_boot_at: at, last_seen_at: at, protocol: 'ocpp1.6',
      });
    }
    conn.accepted = registration === 'Accepted';
    log.info({ registration, vendor: p.chargePointVendor, model: p.chargePointModel, firmware: p.firmwareVersion }, 'boot notification');
    bus.publish({
      type: 'StationBooted', stationId, at, receivedAt: at, vendor: p.chargePointVendor, model: p.chargePointModel,
      serialNumber: p.chargePointSerialNumber ?? p.chargeBoxSerialNumber ?? null, firmwareVersion: p.firmwareVersion ?? null, registration,
    });
    // Pending stations ask again soon (an operator may be registering them now); rejected ones rarely.
    const interval = registration === 'Accepted' ? config.heartbeatIntervalS : registration === 'Pending' ? 60 : 3600;
    return { status: registration, currentTime: at, interval };
  });

  on<Record<string, never>, M.HeartbeatConf>('Heartbeat', async () => {
    const at = iso();
    if (conn.accepted) await repo.touchStation(stationId, at);
    return { currentTime: at };
  });

  on<M.StatusNotificationReq, Record<string, never>>('StatusNotification', (p) => {
    const receivedAt = iso();
    const at = p.timestamp ? utcIso(p.timestamp) : receivedAt;
    const outcome = repo.putConnectorStatus({
      station_id: stationId, connector_id: p.connectorId, status: p.status, error_code: p.errorCode === 'NoError' ? null : p.errorCode,
      info: p.info ?? null, vendor_error_code: p.vendorErrorCode ?? null, status_at: at,
    });
    // A repeated status (most of them) is answered at once; a new one once stored.
    return outcome instanceof Promise ? outcome.then((o) => statusStored(p, o, at, receivedAt)) : statusStored(p, outcome, at, receivedAt);
  });

  function statusStored(p: M.StatusNotificationReq, outcome: StatusOutcome, at: string, receivedAt: string): Record<string, never> {
    if (outcome === 'late') log.debug({ connectorId: p.connectorId, status: p.status, at }, 'late status notification stored nowhere: a newer status is known');
    if (outcome !== 'changed') return {};
    const evseId = p.connectorId;
    const connectorId = p.connectorId === 0 ? 0 : 1;
    bus.publish({
      type: 'ConnectorStatusChanged', stationId, at, receivedAt, evseId, connectorId, status: p.status,
      errorCode: p.errorCode === 'NoError' ? null : p.errorCode, info: p.info ?? null,
    });
    if (p.errorCode !== 'NoError') {
      bus.publish({ type: 'StationFault', stationId, at, receivedAt, evseId, connectorId, errorCode: p.errorCode, info: p.info ?? p.vendorErrorCode ?? null });
    }
    return {};
  }

  async function idTagInfo(idTag: string, excludeTransactionId?: number): Promise<M.IdTagInfo> {
    const at = iso();
    const check = await tokens.check(idTag, at);
    let status: M.IdTagInfo['status'] = check.status;
    if (status === 'Accepted') {
      const active = await repo.activeTransactionForTag(idTag);
      if (active && active.id !== excludeTransactionId) status = 'ConcurrentTx';
    }
    return { status, ...(check.expiresAt ? { expiryDate: check.expiresAt } : {}), ...(check.parentIdTag ? { parentIdTag: check.parentIdTag } : {}) };
  }

  on<M.AuthorizeReq, M.AuthorizeConf>('Authorize', async (p) => {
    const info = await idTagInfo(p.idTag);
    log.info({ idTag: p.idTag, status: info.status }, 'authorize');
    return { idTagInfo: info };
  });

  on<M.StartTransactionReq, M.StartTransactionConf>('StartTransaction', async (p) => {
    const receivedAt = iso();
    const startedAt = utcIso(p.timestamp);
    const existing = await repo.transactionByStart(stationId, p.connectorId, startedAt);
    if (existing) {
      log.info({ transactionId: existing.id, connectorId: p.connectorId }, 'repeated StartTransaction: answered with the first one');
      return { transactionId: existing.id, idTagInfo: { status: (existing.id_tag_status ?? 'Accepted') as M.IdTagInfo['status'] } };
    }
    const info = await idTagInfo(p.idTag);
    let tx: TransactionRow;
    try {
      tx = await repo.insertTransaction({
        station_id: stationId, connector_id: p.connectorId, id_tag: p.idTag, id_tag_status: info.status, started_at: startedAt,
        meter_start_wh: p.meterStart, stopped_at: null, meter_stop_wh: null, stop_reason: null, stop_id_tag: null, energy_kwh: null,
        reported_id: null, known: 1, protocol: 'ocpp1.6', created_at: receivedAt,
      });
    } catch (err) {
      // Two copies of one StartTransaction in flight at once: the unique start key lets only one in.
      const again = await repo.transactionByStart(stationId, p.connectorId, startedAt);
      if (!again) throw err;
      return { transactionId: again.id, idTagInfo: { status: (again.id_tag_status ?? 'Accepted') as M.IdTagInfo['status'] } };
    }
    log.info({ transactionId: tx.id, connectorId: p.connectorId, idTag: p.idTag, status: info.status }, 'transaction started');
    bus.publish({
      type: 'SessionStarted', stationId, at: startedAt, receivedAt, evseId: p.connectorId, connectorId: 1,
      transactionId: String(tx.id), idToken: p.idTag, meterStartKwh: p.meterStart / 1000,
    });
    return { transactionId: tx.id, idTagInfo: info };
  });

  const record = sampleRecorder(repo, bus, stationId);
  /** 1.6 values are strings; signed data and anything not a number are skipped (and the latter logged). */
  function storeMeterValues(connectorId: number, transactionId: number | null, values: readonly M.MeterValue[], receivedAt: string): Promise<void> {
    return record(connectorId, transactionId, values.map((mv) => ({
      sampledAt: utcIso(mv.timestamp),
      samples: mv.sampledValue.flatMap((sv) => {
        if (sv.format === 'SignedData') return [];
        const value = Number(sv.value);
        if (!Number.isFinite(value)) {
          log.warn({ connectorId, measurand: sv.measurand, value: sv.value.slice(0, 40) }, 'sampled value is not a number; skipped');
          return [];
        }
        return [normaliseSample({ value, measurand: sv.measurand, unit: sv.unit, phase: sv.phase, location: sv.location, context: sv.context })];
      }),
    })), receivedAt);
  }

  on<M.MeterValuesReq, Record<string, never>>('MeterValues', (p) => storeMeterValues(p.connectorId, p.transactionId ?? null, p.meterValue, iso()).then(empty));

  on<M.StopTransactionReq, M.StopTransactionConf>('StopTransaction', async (p) => {
    const receivedAt = iso();
    const stoppedAt = utcIso(p.timestamp);
    const info = p.idTag ? await idTagInfo(p.idTag, p.transactionId) : undefined;
    const reply = info ? { idTagInfo: info } : {};
    let tx = await repo.transaction(p.transactionId);
    if (tx && tx.station_id !== stationId) tx = null;
    tx ??= await repo.transactionByReportedId(stationId, p.transactionId);
    if (tx?.stopped_at) {
      log.info({ transactionId: tx.id }, 'repeated StopTransaction: already recorded');
      return reply;
    }
    const stop = { stopped_at: stoppedAt, meter_stop_wh: p.meterStop, stop_reason: p.reason ?? 'Local', stop_id_tag: p.idTag ?? null };
    if (!tx) {
      // The station remembers a transaction we never saw (lost start, wiped database): record it, never refuse it.
      tx = await repo.insertTransaction({
        station_id: stationId, connector_id: null, id_tag: p.idTag ?? null, id_tag_status: null, started_at: null, meter_start_wh: null,
        ...stop, energy_kwh: null, reported_id: p.transactionId, known: 0, protocol: 'ocpp1.6', created_at: receivedAt,
      });
      log.warn({ reportedTransactionId: p.transactionId, recordedAs: tx.id }, 'StopTransaction for an unknown transaction: recorded');
    } else {
      const energyKwh = tx.meter_start_wh !== null && p.meterStop >= tx.meter_start_wh ? (p.meterStop - tx.meter_start_wh) / 1000 : null;
      await repo.stopTransaction(tx.id, { ...stop, energy_kwh: energyKwh });
      tx = { ...tx, ...stop, energy_kwh: energyKwh };
      log.info({ transactionId: tx.id, energyKwh, reason: stop.stop_reason }, 'transaction stopped');
    }
    if (p.transactionData && tx.connector_id !== null) await storeMeterValues(tx.connector_id, tx.known ? tx.id : p.transactionId, p.transactionData, receivedAt);
    bus.publish({
      type: 'SessionEnded', stationId, at: stoppedAt, receivedAt, transactionId: String(tx.known ? tx.id : p.transactionId),
      evseId: tx.connector_id, connectorId: tx.connector_id === null ? null : 1, meterStopKwh: p.meterStop / 1000,
      energyKwh: tx.energy_kwh, reason: stop.stop_reason, known: tx.known === 1,
    });
    return reply;
  });

  on<M.DataTransferReq, M.DataTransferConf>('DataTransfer', (p) => {
    // No vendor extension is implemented; the spec's answer for that is UnknownVendorId.
    log.info({ vendorId: p.vendorId, messageId: p.messageId }, 'data transfer from station (no vendor extension known)');
    return { status: 'UnknownVendorId' };
  });

  on<{ status: string }, Record<string, never>>('DiagnosticsStatusNotification', async (p) => {
    await repo.updateStation(stationId, { diagnostics_status: p.status });
    return {};
  });

  on<{ status: string }, Record<string, never>>('FirmwareStatusNotification', async (p) => {
    await repo.updateStation(stationId, { firmware_status: p.status });
    log.info({ status: p.status }, 'firmware status');
    return {};
  });

  // Security-whitepaper extensions to 1.6: known messages, not supported (yet): NotSupported, not NotImplemented.
  for (const action of ['SecurityEventNotification', 'SignedFirmwareStatusNotification', 'LogStatusNotification', 'SignCertificate']) {
    on(action, () => { throw notSupported(`${action} is not supported by this central system`); });
  }

  return {
    async send(command, timeoutMs) {
      if (command.type === 'SetVariables') return setVariables16(command, (action, payload) => socket.call(action, payload, timeoutMs));
      const [action, payload] = toV16Call(command);
      const response = await socket.call(action, payload, timeoutMs);
      return fromV16Result(command, response);
    },
  };
}
