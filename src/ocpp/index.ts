import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Services, Component } from '../app.ts';
import { tokenRegistry } from '../fleet/tokens.ts';
import { ocppRepository, type OcppRepository } from './repository.ts';
import { createCentralSystemServer, type OcppStats } from './server.ts';
import { hashPassword } from './passwords.ts';
import { CallError } from './socket.ts';
import { RpcError } from './rpc.ts';
import { CommandError, type CommandResult, type StationCommand } from './commands.ts';
import type { ConnectorRow, StationRow, TransactionRow, MeterSampleRow, MessageLogRow } from './migrations.ts';
import { registerStationRoutes } from '../api/stations.ts';

export { CommandError } from './commands.ts';
export type { StationCommand, CommandResult, ChargingLimitProfile, CompositeSchedule, VariableRef, VariableResult, ReportedVariable, ReportedProfile } from './commands.ts';

/** A station as the rest of Voltyard sees it: no OCPP types, no secrets. */
export interface StationView {
  id: string;
  registration: 'accepted' | 'pending';
  securityProfile: number;
  hasPassword: boolean;
  online: boolean;
  protocol: string | null;
  vendor: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
  firmwareStatus: string | null;
  diagnosticsStatus: string | null;
  lastSeenAt: string | null;
  lastBootAt: string | null;
  connectedSince: string | null;
  remoteAddress: string | null;
  createdAt: string;
  connectors: { connectorId: number; status: string; errorCode: string | null; info: string | null; vendorErrorCode: string | null; statusAt: string }[];
}

export interface TransactionView {
  id: number;
  stationId: string;
  connectorId: number | null;
  idTag: string | null;
  idTagStatus: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  meterStartKwh: number | null;
  meterStopKwh: number | null;
  energyKwh: number | null;
  stopReason: string | null;
  /** False for a stop that arrived for a transaction never seen to start; then `reportedId` is the station's id. */
  known: boolean;
  reportedId: number | null;
  protocol: string;
  active: boolean;
  /** OCPP 2.0.1: the station's own transaction id (1.6 stations use `id`). */
  stationTransactionId: string | null;
  /** What the vehicle asked for (ISO 15118 via 2.0.1 NotifyEVChargingNeeds), when it told. */
  evEnergyRequestKwh: number | null;
  evDepartureAt: string | null;
}

export interface CentralSystem {
  readonly stats: Readonly<OcppStats>;
  send(stationId: string, command: StationCommand): Promise<CommandResult>;
  station(id: string): Promise<StationView | null>;
  stations(page: { limit: number; offset: number }): Promise<{ items: StationView[]; total: number }>;
  register(id: string, registration: { securityProfile: number; password: string | null }): Promise<{ station: StationView; created: boolean }>;
  remove(id: string): Promise<boolean>;
  transactions(filter: { stationId?: string; active?: boolean; limit: number; offset: number }): Promise<{ items: TransactionView[]; total: number }>;
  transaction(id: number): Promise<{ transaction: TransactionView; samples: MeterSampleRow[] } | null>;
  messages(stationId: string, limit: number, beforeId?: number): Promise<MessageLogRow[]>;
}

export async function startOcpp(services: Services): Promise<Component> {
  const { config, logger, clock, store, bus, http } = services;
  const log = logger.child({ module: 'ocpp' });
  const repo = ocppRepository(store, log);
  const tokens = tokenRegistry(store);
  const stats: OcppStats = { connectionsAccepted: 0, authFailures: 0, authThrottled: 0, pendingRefused: 0, noSubprotocol: 0, framesIn: 0, framesOut: 0, badFrames: 0, validationErrors: 0, replacedConnections: 0, exchangesNotLogged: 0 };
  // Whatever was online when the last process stopped (or crashed) is offline until it connects to this one.
  await store.db.withTables<{ ocpp_stations: { online: number } }>().updateTable('ocpp_stations').set({ online: 0 }).where('online', '=', 1).execute();

  const server = createCentralSystemServer({ config, logger, clock, bus, repo, tokens, stats });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((request.url ?? '').startsWith('/ocpp/')) return server.handleUpgrade(request, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
  http.server.on('upgrade', onUpgrade);

  const central = centralSystem(repo, server.connections, stats, config.callTimeoutS * 1000, log, () => new Date(clock.now()).toISOString(), config.tlsCaFile !== null);
  registerStationRoutes(http, services.keys, central);
  services.provided.centralSystem = central;

  // The message log keeps `messageLogRetentionDays`; pruning runs at start and then hourly.
  let pruneTimer: ReturnType<typeof setTimeout> | null = null;
  const prune = async () => {
    const cutoff = new Date(clock.now() - config.messageLogRetentionDays * 86_400_000).toISOString();
    try {
      const removed = await repo.pruneMessages(cutoff);
      if (removed > 0) log.info({ removed, cutoff }, 'message log pruned');
    } catch (err) {
      log.error({ err }, 'message log pruning failed');
    }
    pruneTimer = setTimeout(() => void prune(), 3_600_000);
    pruneTimer.unref();
  };
  await prune();

  return {
    name: 'ocpp',
    async quiesce() {
      http.server.off('upgrade', onUpgrade);
      await server.close();
    },
    async stop() {
      if (pruneTimer) clearTimeout(pruneTimer);
      await repo.flush();
    },
  };
}

function centralSystem(repo: OcppRepository, connections: ReturnType<typeof createCentralSystemServer>['connections'], stats: OcppStats, timeoutMs: number, log: Services['logger'], now: () => string, mutualTls: boolean): CentralSystem {
  const view = (s: StationRow, connectors: ConnectorRow[]): StationView => {
    const conn = connections.get(s.id);
    return {
      id: s.id, registration: s.registration, securityProfile: s.security_profile, hasPassword: s.password_hash !== null,
      online: conn !== undefined, protocol: conn?.protocol ?? s.protocol, vendor: s.vendor, model: s.model, serialNumber: s.serial_number,
      firmwareVersion: s.firmware_version, firmwareStatus: s.firmware_status, diagnosticsStatus: s.diagnostics_status,
      lastSeenAt: conn ? new Date(conn.lastSeenMs).toISOString() : s.last_seen_at, lastBootAt: s.last_boot_at,
      connectedSince: conn?.connectedAt ?? null, remoteAddress: conn?.remoteAddress ?? null, createdAt: s.created_at,
      connectors: connectors.filter((c) => c.station_id === s.id).map((c) => ({
        connectorId: c.connector_id, status: c.status, errorCode: c.error_code, info: c.info, vendorErrorCode: c.vendor_error_code, statusAt: c.status_at,
      })),
    };
  };
  const txView = (t: TransactionRow): TransactionView => ({
    id: t.id, stationId: t.station_id, connectorId: t.connector_id, idTag: t.id_tag, idTagStatus: t.id_tag_status, startedAt: t.started_at,
    stoppedAt: t.stopped_at, meterStartKwh: t.meter_start_wh === null ? null : t.meter_start_wh / 1000,
    meterStopKwh: t.meter_stop_wh === null ? null : t.meter_stop_wh / 1000, energyKwh: t.energy_kwh, stopReason: t.stop_reason,
    known: t.known === 1, reportedId: t.reported_id, protocol: t.protocol, active: t.stopped_at === null,
    stationTransactionId: t.station_tx_id, evEnergyRequestKwh: t.ev_energy_request_kwh, evDepartureAt: t.ev_departure_at,
  });
  const station = async (id: string) => {
    const s = await repo.station(id);
    return s ? view(s, await repo.connectors([id])) : null;
  };

  return {
    stats,
    async send(stationId, command) {
      const conn = connections.get(stationId);
      if (!conn?.adapter) throw new CommandError('StationOffline', `station ${stationId} is not connected`);
      const started = Date.now();
      try {
        const result = await conn.adapter.send(command, timeoutMs);
        log.info({ stationId, command: command.type, status: result.status, ms: Date.now() - started }, 'command answered');
        return result;
      } catch (err) {
        if (err instanceof CommandError) throw err;
        if (err instanceof CallError) {
          log.warn({ stationId, command: command.type, reason: err.message }, 'command failed');
          if (err.reason === 'timeout') throw new CommandError('Timeout', `station ${stationId} did not answer ${command.type} within ${timeoutMs / 1000} s`);
          if (err.reason === 'closed') throw new CommandError('StationOffline', `station ${stationId} disconnected`);
          if (err.reason === 'invalid-call') throw new CommandError('Invalid', err.message);
          throw new CommandError('StationError', `station ${stationId} answered ${command.type}: ${err.message}`);
        }
        if (err instanceof RpcError) {
          log.warn({ stationId, command: command.type, reason: err.message, code: err.code }, 'command failed');
          if (err.code === 'NotImplemented' || err.code === 'NotSupported') throw new CommandError('NotSupported', `station ${stationId} does not support ${command.type} (${err.code})`);
          throw new CommandError('StationError', `station ${stationId} answered ${command.type} with ${err.code}: ${err.message}`);
        }
        log.error({ err, stationId, command: command.type }, 'command failed');
        throw err;
      }
    },
    station,
    async stations(page) {
      const { items, total } = await repo.stations(page);
      const connectors = await repo.connectors(items.map((s) => s.id));
      return { items: items.map((s) => view(s, connectors)), total };
    },
    async register(id, { securityProfile, password }) {
      const existing = await repo.station(id);
      // Profile 3 authenticates by client certificate: no password is kept for it.
      if (securityProfile === 3 && !mutualTls) throw new CommandError('Invalid', 'security profile 3 needs mutual TLS: set VOLTYARD_TLS_CA (with VOLTYARD_TLS_CERT and VOLTYARD_TLS_KEY)');
      const usesPassword = securityProfile === 1 || securityProfile === 2;
      const passwordHash = usesPassword && password ? await hashPassword(password) : null;
      if (usesPassword && !passwordHash && !existing?.password_hash) {
        throw new CommandError('Invalid', `security profile ${securityProfile} needs a password of at least 16 bytes`);
      }
      if (!existing) {
        await repo.createStation({ id, registration: 'accepted', security_profile: securityProfile, password_hash: passwordHash, created_at: now() });
      } else {
        await repo.updateStation(id, { registration: 'accepted', security_profile: securityProfile, password_hash: usesPassword ? passwordHash ?? existing.password_hash : null });
      }
      const conn = connections.get(id);
      if (conn && (conn.securityProfile < securityProfile || passwordHash)) {
        // Its credentials changed: make it connect again so the new ones are checked.
        void conn.socket.close(1000, 'registration changed; reconnect');
      } else if (conn && !conn.accepted) {
        // A pending station is waiting for us: ask it to boot again now rather than at its next retry.
        conn.accepted = true;
        void this.send(id, { type: 'TriggerMessage', message: 'BootNotification' }).catch(() => undefined);
      }
      return { station: (await station(id))!, created: !existing };
    },
    async remove(id) {
      const conn = connections.get(id);
      const removed = await repo.deleteStation(id);
      if (removed && conn) void conn.socket.close(1000, 'station removed from the registry');
      return removed;
    },
    async transactions(filter) {
      const { items, total } = await repo.transactions(filter);
      return { items: items.map(txView), total };
    },
    async transaction(id) {
      const t = await repo.transaction(id);
      if (!t) return null;
      return { transaction: txView(t), samples: await repo.samples({ transactionId: id, limit: 5000 }) };
    },
    messages: (stationId, limit, beforeId) => repo.messages({ stationId, limit, beforeId }),
  };
}
