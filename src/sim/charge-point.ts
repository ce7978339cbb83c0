// A virtual OCPP-J charge point, speaking 1.6J or 2.0.1: a real OCPP-J client over a WebSocket (ocpp-rpc in strict
// mode, so every frame it sends or accepts is checked against that version's JSON schemas) with one or more
// connectors (in 2.0.1: one EVSE per connector, each with connector 1), a meter, and the smart-charging behaviour of
// charging-profiles.ts (2.0.1 profiles are translated into it by profiles-v201.ts). Everything it schedules runs on
// the simulation clock. The 2.0.1 calls it answers are in charge-point-v201.ts.
//
// Behaviour a central system can rely on (as from a real charger):
// - boots, retries a Pending/Rejected boot after the given interval, heartbeats, reports every connector's status;
// - plug-in with a token: Authorize, then StartTransaction; offline it starts on its own (LocalAuthorizeOffline) and
//   queues the StartTransaction;
// - MeterValues aligned to the sample interval (clock-aligned, so a whole depot samples at the same instants);
// - StartTransaction, StopTransaction and transaction MeterValues are queued while offline and replayed in order on
//   reconnect, with their original timestamps; a StartTransaction answered with a non-Accepted idTagInfo stops the
//   transaction (StopTransactionOnInvalidId);
// - a reboot ends the running transactions (reason PowerLoss or the Reset type), keeps ChargePointMax and TxDefault
//   profiles (OCPP asks them to persist) and drops TxProfiles; a still-plugged vehicle starts a new transaction.
// - 2.0.1: TransactionEvent Started/Updated/Ended with a seqNo per transaction and the station's own transaction id
//   (so a transaction starts offline without waiting for the CSMS), `offline: true` on events queued while offline,
//   charging-state changes as Updated events, and NotifyEVChargingNeeds after Started when the vehicle states needs
//   (what an ISO 15118 vehicle does).
import { EventEmitter } from 'node:events';
import { RPCClient, createRPCError } from 'ocpp-rpc';
import { pino } from 'pino';
import type { Logger } from '../log.ts';
import type { SimClock } from './clock.ts';
import type { ClockTimer } from '../clock.ts';
import {
  clearProfiles, compositeLimit, compositeSchedule, endTransactionProfiles, installProfile, profileRejection,
  type ChargerElectrics, type ChargingProfile, type ChargingRateUnit, type InstalledProfile, type ProfilePurpose, type RunningTransaction,
} from './charging-profiles.ts';
import { exponential, seedOf, seededRandom, type Quirks } from './quirks.ts';
import { endTransaction201, handlers201, idToken201, queueMeterValues201, reportStatus201, startTransaction201 } from './charge-point-v201.ts';

/** The vehicle on a connector, as the charger sees it through the cable. */
export interface PluggedVehicle {
  /** Grid-side power the vehicle draws at most right now from a charger of this kind, kW. */
  maxIntakeKw(kind: 'AC' | 'DC'): number;
  /** Takes grid energy (kWh); returns what it took. */
  absorb(gridKwh: number): number;
  readonly socPercent: number;
}

export interface ChargePointOptions {
  /** Charge point identity (the last path segment of the OCPP URL). */
  readonly id: string;
  /** The central system's OCPP endpoint without the identity, e.g. ws://127.0.0.1:8080/ocpp */
  readonly url: string;
  readonly clock: SimClock;
  readonly logger?: Logger;
  readonly kind: 'AC' | 'DC';
  readonly connectors?: number;
  /** Per connector, kW. */
  readonly maxPowerKw: number;
  /** Whole station, kW (default connectors × maxPowerKw). */
  readonly stationMaxPowerKw?: number;
  /** AC phases wired (1 or 3); default 3. */
  readonly phases?: number;
  /** Nominal AC phase voltage or DC voltage, V (default 230 AC, 400 DC). */
  readonly voltageV?: number;
  readonly vendor?: string;
  readonly model?: string;
  /** MeterValueSampleInterval, s (default 60). */
  readonly meterIntervalS?: number;
  /** Simulated ms before the charger answers any call from the central system. */
  readonly responseDelayMs?: number;
  /** Simulated s before reconnecting after an unplanned disconnect (default 30). */
  readonly reconnectS?: number;
  /** Whether meter values carry the vehicle's SoC (DC chargers learn it from the vehicle; AC ones do not). */
  readonly reportsSoc?: boolean;
  readonly quirks?: Quirks;
  /** Seeds the quirks' randomness (default: from the id). */
  readonly seed?: number;
  /** HTTP Basic password (security profile 1). */
  readonly password?: string;
  /** OCPP version the charger speaks (default ocpp1.6). */
  readonly protocol?: OcppProtocol;
}

export type OcppProtocol = 'ocpp1.6' | 'ocpp2.0.1';

/** What an ISO 15118 vehicle tells the charger at plug-in (2.0.1 NotifyEVChargingNeeds); a 1.6 charger never hears it. */
export interface EvChargingNeeds {
  /** Energy the vehicle asks for, kWh. */
  readonly energyKwh: number;
  /** When it leaves, epoch ms. */
  readonly departureMs?: number;
  readonly batteryCapacityKwh?: number;
}

export type ConnectorStatus201 = 'Available' | 'Occupied' | 'Reserved' | 'Unavailable' | 'Faulted';
export type ConnectorStatus16 = 'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Finishing' | 'Unavailable' | 'Faulted';

export interface Transaction {
  readonly localId: number;
  /** 1.6: the central system's id, once StartTransaction is answered. */
  serverId: number | null;
  /** 2.0.1: the station's own id. */
  readonly stationTxId: string;
  /** 2.0.1: the next TransactionEvent's seqNo. */
  seqNo: number;
  /** 2.0.1: the chargingState last reported. */
  chargingState: ChargingState201 | null;
  readonly remoteStartId?: number;
  readonly idTag: string;
  readonly startMs: number;
  readonly meterStartWh: number;
  rebootTimer: ClockTimer | null;
}

export type ChargingState201 = 'Charging' | 'EVConnected' | 'SuspendedEV' | 'SuspendedEVSE' | 'Idle';

export interface Connector {
  readonly id: number;
  vehicle: PluggedVehicle | null;
  idTag: string | null;
  needs: EvChargingNeeds | null;
  tx: Transaction | null;
  /** A RemoteStartTransaction waiting for a vehicle (or accepted for the one plugged). */
  remoteStart: RemoteStart | null;
  /** Set by StopTransaction while the vehicle stays plugged: status Finishing. */
  finished: boolean;
  operative: boolean;
  pendingInoperative: boolean;
  powerW: number;
  limitW: number;
  lastStatus: ConnectorStatus16 | ConnectorStatus201 | null;
}

export interface RemoteStart { idTag: string; profile?: ChargingProfile; remoteStartId?: number }

interface QueuedMessage {
  readonly method: 'StartTransaction' | 'StopTransaction' | 'MeterValues' | 'TransactionEvent' | 'NotifyEVChargingNeeds';
  /** `offline`: the message was queued while the charger was offline (2.0.1 says so in the message). */
  readonly build: (offline: boolean) => Record<string, unknown> | null;
  readonly onResult?: (result: Record<string, unknown>) => void;
  attempts: number;
  /** Enqueued while the charger was offline: sending it is a replay. */
  offline?: boolean;
}

export interface ConnectorView {
  readonly connectorId: number;
  readonly status: ConnectorStatus16;
  readonly powerKw: number;
  readonly limitKw: number;
  readonly meterKwh: number;
  readonly transactionId: number | null;
  /** 2.0.1: the station's transaction id. */
  readonly stationTransactionId: string | null;
  readonly idTag: string | null;
  readonly plugged: boolean;
}

export type Json = Record<string, unknown>;

const configKeys = {
  HeartbeatInterval: { readonly: false, integer: true },
  MeterValueSampleInterval: { readonly: false, integer: true },
  ConnectionTimeOut: { readonly: false, integer: true },
  TransactionMessageAttempts: { readonly: false, integer: true },
  AuthorizeRemoteTxRequests: { readonly: false, boolean: true },
  LocalAuthorizeOffline: { readonly: false, boolean: true },
  StopTransactionOnInvalidId: { readonly: false, boolean: true },
  MeterValuesSampledData: { readonly: false },
  NumberOfConnectors: { readonly: true },
  ChargeProfileMaxStackLevel: { readonly: true },
  ChargingScheduleAllowedChargingRateUnit: { readonly: true },
  ChargingScheduleMaxPeriods: { readonly: true },
  MaxChargingProfilesInstalled: { readonly: true },
  SupportedFeatureProfiles: { readonly: true },
} as const satisfies Record<string, { readonly: boolean; integer?: boolean; boolean?: boolean }>;
export type ConfigKey = keyof typeof configKeys;
export const isConfigKey = (key: string): key is ConfigKey => key in configKeys;

const maxSubstepMs = 60_000;

export class VirtualChargePoint extends EventEmitter {
  readonly id: string;
  readonly kind: 'AC' | 'DC';
  /** @internal */
  readonly opts: ChargePointOptions;
  /** @internal */
  readonly clock: SimClock;
  /** @internal */
  readonly log: Logger;
  /** @internal */
  readonly electrics: ChargerElectrics;
  /** @internal */
  readonly stationElectrics: ChargerElectrics;
  /** @internal */
  readonly connectors: Connector[];
  private readonly random: () => number;
  /** @internal */
  readonly config: Record<ConfigKey, string>;
  /** @internal */
  profiles: InstalledProfile[] = [];
  /** 2.0.1: why the next boot happens. @internal */
  bootReason: 'PowerUp' | 'RemoteReset' | 'Triggered' = 'PowerUp';
  /** 2.0.1: a Reset OnIdle waits for the running transactions. @internal */
  resetOnIdle = false;
  readonly protocol: OcppProtocol;
  private readonly queue: QueuedMessage[] = [];
  private client: RPCClient | null = null;
  private accepted = false;
  private stopped = false;
  private pumping = false;
  private booting = false;
  /** @internal */
  meterWh: number[];
  private lastAdvanceMs: number;
  private nextLocalTx = 1;
  private rebootsLeft: number;
  private readonly timers = new Set<ClockTimer>();
  private heartbeatTimer: ClockTimer | null = null;
  private meterTimer: ClockTimer | null = null;
  /** Counts of what happened, for tests and reports. */
  readonly stats = { boots: 0, connects: 0, drops: 0, reboots: 0, replayed: 0, profilesAccepted: 0, profilesRejected: 0, profilesIgnored: 0 };

  constructor(options: ChargePointOptions) {
    super();
    if (!options.id || /[/\s]/.test(options.id)) throw new TypeError(`charge point id must be non-empty without "/" or spaces, got "${options.id}"`);
    const connectors = options.connectors ?? 1;
    if (!Number.isInteger(connectors) || connectors < 1) throw new RangeError(`${options.id}: connectors must be a positive integer`);
    if (!(options.maxPowerKw > 0)) throw new RangeError(`${options.id}: maxPowerKw must be positive`);
    this.opts = options;
    this.id = options.id;
    this.kind = options.kind;
    this.protocol = options.protocol ?? 'ocpp1.6';
    this.clock = options.clock;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ module: 'sim.chargePoint', stationId: options.id });
    const phases = options.kind === 'DC' ? 1 : options.phases ?? 3;
    const voltageV = options.voltageV ?? (options.kind === 'DC' ? 400 : 230);
    this.electrics = { kind: options.kind, phases, voltageV, maxPowerW: options.maxPowerKw * 1000 };
    this.stationElectrics = { ...this.electrics, maxPowerW: (options.stationMaxPowerKw ?? options.maxPowerKw * connectors) * 1000 };
    this.connectors = Array.from({ length: connectors }, (_, k) => ({
      id: k + 1, vehicle: null, idTag: null, needs: null, tx: null, remoteStart: null, finished: false, operative: true, pendingInoperative: false,
      powerW: 0, limitW: this.electrics.maxPowerW, lastStatus: null,
    }));
    this.meterWh = this.connectors.map(() => 0);
    this.lastAdvanceMs = this.clock.now();
    this.random = seededRandom(options.seed ?? seedOf(options.id));
    this.rebootsLeft = options.quirks?.rebootsMidSession?.times ?? 1;
    const q = options.quirks ?? {};
    this.config = {
      HeartbeatInterval: '300', MeterValueSampleInterval: String(options.meterIntervalS ?? 60), ConnectionTimeOut: '120',
      TransactionMessageAttempts: '3', AuthorizeRemoteTxRequests: 'false', LocalAuthorizeOffline: 'true', StopTransactionOnInvalidId: 'true',
      MeterValuesSampledData: 'Energy.Active.Import.Register,Power.Active.Import,Current.Import' + (this.reportsSoc ? ',SoC' : ''),
      NumberOfConnectors: String(connectors), ChargeProfileMaxStackLevel: '8',
      ChargingScheduleAllowedChargingRateUnit: q.acceptsOnlyAmps ? 'Current' : 'Current,Power',
      ChargingScheduleMaxPeriods: String(q.maxSchedulePeriods ?? 24), MaxChargingProfilesInstalled: '16',
      SupportedFeatureProfiles: 'Core,SmartCharging,RemoteTrigger',
    };
  }

  private get reportsSoc(): boolean { return this.opts.reportsSoc ?? this.opts.kind === 'DC'; }
  get online(): boolean { return this.accepted && this.client !== null; }
  get queuedMessages(): number { return this.queue.length; }
  get installedProfiles(): readonly InstalledProfile[] { return this.profiles; }
  get connectorCount(): number { return this.connectors.length; }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  /** Connects and boots; resolves once the first connection attempt has finished (it keeps retrying if it failed). */
  async start(): Promise<void> {
    this.stopped = false;
    this.lastAdvanceMs = this.clock.now();
    this.scheduleMeter();
    this.scheduleDrop();
    await this.connect();
  }

  /** Disconnects for good and cancels every timer. */
  async stop(): Promise<void> {
    this.advance();
    this.stopped = true;
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
    for (const c of this.connectors) if (c.tx?.rebootTimer) this.clock.clearTimeout(c.tx.rebootTimer);
    const client = this.client;
    this.client = null;
    this.accepted = false;
    if (client) await client.close({ force: true }).catch(() => undefined);
  }

  /** @internal */
  later(ms: number, fn: () => void): ClockTimer {
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  /** @internal */
  cancel(timer: ClockTimer | null): void {
    if (!timer) return;
    this.clock.clearTimeout(timer);
    this.timers.delete(timer);
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.client) return;
    const client = new RPCClient({
      endpoint: this.opts.url, identity: this.id, protocols: [this.protocol], strictMode: true, reconnect: false,
      callTimeoutMs: 30_000, ...(this.opts.password ? { password: this.opts.password } : {}),
    } as ConstructorParameters<typeof RPCClient>[0]);
    this.registerHandlers(client);
    client.on('strictValidationFailure', (e: unknown) => this.log.warn({ err: e }, 'OCPP frame failed schema validation'));
    client.on('message', () => this.clock.touch());
    const release = this.clock.hold();
    try {
      await client.connect();
    } catch (err) {
      release();
      this.log.debug({ err: (err as Error).message }, 'connect failed; retrying');
      this.later(this.reconnectMs(), () => void this.connect());
      return;
    }
    release();
    if (this.stopped) { await client.close({ force: true }).catch(() => undefined); return; }
    this.client = client;
    this.stats.connects++;
    client.once('close', () => this.onClosed(client));
    this.emit('connected');
    await this.boot();
  }

  private reconnectMs(): number { return (this.opts.reconnectS ?? 30) * 1000; }

  private onClosed(client: RPCClient): void {
    if (this.client !== client) return;
    this.advance();
    this.client = null;
    this.accepted = false;
    this.cancel(this.heartbeatTimer);
    this.emit('disconnected');
    if (!this.stopped) this.later(this.reconnectMs(), () => void this.connect());
  }

  /** @internal */
  async boot(): Promise<void> {
    if (this.booting || !this.client) return;
    this.booting = true;
    try {
      const res = await this.call('BootNotification', this.protocol === 'ocpp2.0.1'
        ? { chargingStation: { vendorName: this.opts.vendor ?? 'Voltyard', model: this.opts.model ?? `Sim-${this.kind}`, serialNumber: this.id.slice(0, 25), firmwareVersion: 'sim-1' }, reason: this.bootReason }
        : {
          chargePointVendor: this.opts.vendor ?? 'Voltyard', chargePointModel: this.opts.model ?? `Sim-${this.kind}`,
          chargePointSerialNumber: this.id.slice(0, 25), firmwareVersion: 'sim-1',
        });
      this.stats.boots++;
      const interval = typeof res.interval === 'number' && res.interval > 0 ? res.interval : 300;
      if (res.status !== 'Accepted') {
        this.log.info({ status: res.status, interval }, 'boot not accepted; retrying');
        this.later(interval * 1000, () => { void this.boot(); });
        return;
      }
      this.config.HeartbeatInterval = String(interval);
      this.accepted = true;
      this.bootReason = 'PowerUp';
      this.emit('booted');
      this.scheduleHeartbeat();
      // 2.0.1 has no station-wide status: each EVSE's connector reports its own.
      if (this.protocol === 'ocpp1.6') await this.sendStatus(0, this.connectors.every((c) => !c.operative) ? 'Unavailable' : 'Available', true);
      for (const c of this.connectors) { c.lastStatus = null; await this.reportStatus(c); }
      void this.pump();
      for (const c of this.connectors) if (c.vehicle && !c.tx && c.idTag && !c.finished) void this.authorizeAndStart(c);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'boot failed');
    } finally {
      this.booting = false;
    }
  }

  private scheduleHeartbeat(): void {
    this.cancel(this.heartbeatTimer);
    const intervalS = Number(this.config.HeartbeatInterval);
    if (!(intervalS > 0)) return; // 0: no heartbeats
    this.heartbeatTimer = this.later(intervalS * 1000, () => {
      if (this.online) this.call('Heartbeat', {}).catch(() => undefined);
      this.scheduleHeartbeat();
    });
  }

  private scheduleMeter(): void {
    this.cancel(this.meterTimer);
    // OCPP 1.6: a MeterValueSampleInterval of 0 means no sampled meter values.
    const intervalMs = Number(this.config.MeterValueSampleInterval) * 1000;
    if (!(intervalMs > 0)) return;
    const now = this.clock.now();
    const next = Math.floor(now / intervalMs) * intervalMs + intervalMs;
    this.meterTimer = this.later(next - now, () => {
      this.advance();
      for (const c of this.connectors) if (c.tx) this.queueMeterValues(c, 'Sample.Periodic');
      void this.pump();
      this.scheduleMeter();
    });
  }

  private scheduleDrop(): void {
    const d = this.opts.quirks?.dropsConnection;
    if (!d) return;
    this.later(exponential(this.random, d.meanIntervalS) * 1000, () => {
      void this.dropConnection((d.offlineS ?? 60) * 1000);
      this.scheduleDrop();
    });
  }

  /** Drops the WebSocket without a goodbye, stays away for `offlineMs`, then reconnects. */
  async dropConnection(offlineMs: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.advance();
    this.stats.drops++;
    this.client = null;
    this.accepted = false;
    this.cancel(this.heartbeatTimer);
    this.emit('disconnected');
    this.log.info({ offlineMs }, 'quirk: dropping the connection');
    await client.close({ force: true }).catch(() => undefined);
    this.later(offlineMs, () => void this.connect());
  }

  /** A reboot: transactions end (PowerLoss or the reset type), TxProfiles go, the charger is away for `bootMs`. */
  async reboot(reason: 'PowerLoss' | 'HardReset' | 'SoftReset', bootMs = 10_000): Promise<void> {
    this.advance();
    this.stats.reboots++;
    this.bootReason = reason === 'PowerLoss' ? 'PowerUp' : 'RemoteReset';
    const endAll = () => { for (const c of this.connectors) if (c.tx) this.endTransaction(c, reason, true); };
    // A reset stops its transactions and reports them before going down; a power loss goes dark first and reports
    // the interrupted transactions after it is back.
    if (reason !== 'PowerLoss') { endAll(); await this.pump(); }
    const client = this.client;
    this.client = null;
    this.accepted = false;
    this.cancel(this.heartbeatTimer);
    this.emit('disconnected');
    if (reason === 'PowerLoss') endAll();
    // Held: a virtual clock must not jump past the boot while the goodbye is still on the wire.
    const release = this.clock.hold();
    try {
      if (client) await client.close({ force: reason === 'PowerLoss' }).catch(() => undefined);
    } finally {
      release();
    }
    this.later(bootMs, () => void this.connect());
  }

  // ---- the cable ---------------------------------------------------------------------------------------------

  /** A vehicle plugs in; with a token the charger authorizes and starts, without one it waits for a remote start. */
  plug(connectorId: number, vehicle: PluggedVehicle, idTag: string | null, needs?: EvChargingNeeds): void {
    const c = this.connector(connectorId);
    if (c.vehicle) throw new Error(`${this.id}/${connectorId}: a vehicle is already plugged in`);
    this.advance();
    c.vehicle = vehicle;
    c.idTag = idTag;
    c.needs = needs ?? null;
    c.finished = false;
    void this.reportStatus(c);
    if (!c.operative) return;
    if (c.remoteStart) {
      const r = c.remoteStart;
      c.remoteStart = null;
      this.startTransaction(c, r.idTag, r.profile, r.remoteStartId);
    } else if (idTag) {
      void this.authorizeAndStart(c);
    }
  }

  /** The vehicle leaves: a running transaction stops with EVDisconnected. */
  unplug(connectorId: number): void {
    const c = this.connector(connectorId);
    this.advance();
    if (c.tx) this.endTransaction(c, 'EVDisconnected');
    c.vehicle = null;
    c.idTag = null;
    c.needs = null;
    c.finished = false;
    void this.reportStatus(c);
    void this.pump();
  }

  view(connectorId: number): ConnectorView {
    const c = this.connector(connectorId);
    this.advance();
    return {
      connectorId, status: this.statusOf(c), powerKw: c.powerW / 1000, limitKw: c.limitW / 1000, meterKwh: this.meterWh[connectorId - 1] / 1000,
      transactionId: c.tx?.serverId ?? null, stationTransactionId: this.protocol === 'ocpp2.0.1' ? c.tx?.stationTxId ?? null : null,
      idTag: c.tx?.idTag ?? null, plugged: c.vehicle !== null,
    };
  }

  /** Energy register of a connector, kWh (after bringing the physics up to now). */
  meterKwh(connectorId: number): number {
    this.advance();
    return this.meterWh[connectorId - 1] / 1000;
  }

  private connector(connectorId: number): Connector {
    const c = this.connectors[connectorId - 1];
    if (!c) throw new RangeError(`${this.id}: no connector ${connectorId}`);
    return c;
  }

  /** @internal */
  async authorizeAndStart(c: Connector): Promise<void> {
    const idTag = c.idTag!;
    if (this.online) {
      let status = 'Accepted';
      try {
        if (this.protocol === 'ocpp2.0.1') {
          const res = await this.call('Authorize', { idToken: idToken201(idTag) });
          status = String((res.idTokenInfo as Json | undefined)?.status ?? 'Invalid');
        } else {
          const res = await this.call('Authorize', { idTag });
          status = String((res.idTagInfo as Json | undefined)?.status ?? 'Invalid');
        }
      } catch (err) {
        // No answer: behave as offline (LocalAuthorizeOffline).
        this.log.debug({ err: (err as Error).message }, 'Authorize failed; authorizing locally');
        if (this.config.LocalAuthorizeOffline !== 'true') return;
      }
      if (status !== 'Accepted') {
        this.log.info({ connectorId: c.id, status }, 'token not accepted');
        this.emit('authorizeRejected', { connectorId: c.id, idTag, status });
        return;
      }
    } else if (this.config.LocalAuthorizeOffline !== 'true') {
      return;
    }
    if (c.vehicle && !c.tx && c.idTag === idTag && c.operative) this.startTransaction(c, idTag);
  }

  /** @internal */
  startTransaction(c: Connector, idTag: string, profile?: ChargingProfile, remoteStartId?: number): void {
    this.advance();
    const localId = this.nextLocalTx++;
    const startMs = this.clock.now();
    const tx: Transaction = {
      localId, serverId: null, idTag, startMs, meterStartWh: this.meterWh[c.id - 1], rebootTimer: null,
      // Unique across reboots and restarts of the simulation: the start instant and a per-charger counter.
      stationTxId: `${startMs.toString(36)}-${localId}`, seqNo: 0, chargingState: null, ...(remoteStartId !== undefined ? { remoteStartId } : {}),
    };
    c.tx = tx;
    c.finished = false;
    if (this.protocol === 'ocpp2.0.1') startTransaction201(this, c, tx, profile);
    else this.startTransaction16(c, tx, profile);
    const reboot = this.opts.quirks?.rebootsMidSession;
    if (reboot && this.rebootsLeft > 0) {
      tx.rebootTimer = this.later(reboot.afterS * 1000, () => {
        if (c.tx !== tx || this.rebootsLeft <= 0) return;
        this.rebootsLeft--;
        this.log.info('quirk: rebooting mid-session');
        void this.reboot('PowerLoss', (reboot.bootS ?? 30) * 1000);
      });
    }
    void this.reportStatus(c);
  }

  private startTransaction16(c: Connector, tx: Transaction, profile?: ChargingProfile): void {
    const idTag = tx.idTag;
    const timestamp = new Date(tx.startMs).toISOString();
    this.enqueue({
      method: 'StartTransaction', attempts: 0,
      build: () => ({ connectorId: c.id, idTag, meterStart: Math.round(tx.meterStartWh), timestamp }),
      onResult: (res) => {
        tx.serverId = typeof res.transactionId === 'number' ? res.transactionId : null;
        const status = String((res.idTagInfo as Json | undefined)?.status ?? 'Invalid');
        this.emit('transactionStarted', { connectorId: c.id, transactionId: tx.serverId, idTag, status });
        if (profile && c.tx === tx && tx.serverId !== null) this.applyProfile(c.id, { ...profile, transactionId: tx.serverId });
        if (status !== 'Accepted' && c.tx === tx && this.config.StopTransactionOnInvalidId === 'true') {
          this.endTransaction(c, 'DeAuthorized');
          void this.reportStatus(c);
        }
      },
    });
  }

  /** @internal */
  endTransaction(c: Connector, reason: string, keepVehicleWaiting = false): void {
    const tx = c.tx;
    if (!tx) return;
    this.advance();
    c.tx = null;
    c.finished = !keepVehicleWaiting && c.vehicle !== null;
    c.powerW = 0;
    this.cancel(tx.rebootTimer);
    this.profiles = endTransactionProfiles(this.profiles, c.id);
    const stopMs = this.clock.now();
    const meterStop = Math.round(this.meterWh[c.id - 1]);
    if (this.protocol === 'ocpp2.0.1') endTransaction201(this, c, tx, reason, stopMs, meterStop);
    else this.enqueue({
      method: 'StopTransaction', attempts: 0,
      build: () => tx.serverId === null ? null : {
        transactionId: tx.serverId, idTag: tx.idTag, meterStop, timestamp: new Date(stopMs).toISOString(), reason,
        transactionData: [{ timestamp: new Date(stopMs).toISOString(), sampledValue: [{ value: String(meterStop), context: 'Transaction.End', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }],
      },
      onResult: () => this.emit('transactionStopped', { connectorId: c.id, transactionId: tx.serverId, reason, energyKwh: (meterStop - tx.meterStartWh) / 1000 }),
    });
    if (c.pendingInoperative) { c.pendingInoperative = false; c.operative = false; }
    if (this.resetOnIdle && this.connectors.every((x) => !x.tx)) {
      this.resetOnIdle = false;
      this.later(0, () => void this.reboot('SoftReset'));
    }
  }

  // ---- physics -----------------------------------------------------------------------------------------------

  /** Integrates energy from the last update to now: power is re-evaluated at least every simulated minute. */
  /** @internal */
  advance(): void {
    const now = this.clock.now();
    let t = this.lastAdvanceMs;
    if (now < t) { this.lastAdvanceMs = now; return; }
    do {
      const step = Math.min(maxSubstepMs, now - t);
      this.allocate(t);
      if (step > 0) {
        for (const c of this.connectors) {
          if (c.powerW <= 0 || !c.vehicle) continue;
          const took = c.vehicle.absorb(c.powerW * step / 3.6e9);
          this.meterWh[c.id - 1] += took * 1000;
        }
      }
      t += step;
    } while (t < now);
    this.allocate(now);
    this.lastAdvanceMs = now;
  }

  /** Sets each connector's power at instant t: its own limit and the vehicle's intake, then the station cap shared pro rata. */
  private allocate(t: number): void {
    let sum = 0;
    for (const c of this.connectors) {
      c.limitW = compositeLimit(this.profiles, c.id, this.running(c), t, this.electrics).watts;
      c.powerW = c.tx && c.vehicle ? Math.min(c.limitW, c.vehicle.maxIntakeKw(this.kind) * 1000) : 0;
      sum += c.powerW;
    }
    const cap = compositeLimit(this.profiles, 0, null, t, this.stationElectrics).watts;
    if (sum > cap) for (const c of this.connectors) c.powerW *= cap / sum;
  }

  /** @internal */
  /**
   * The transaction on a connector as profiles see it. 1.6 profiles name the central system's id (a transaction not
   * yet answered gets a negative stand-in); 2.0.1 profiles are translated to the local id (profiles-v201.ts).
   * @internal
   */
  running(c: Connector): RunningTransaction | null {
    if (!c.tx) return null;
    if (this.protocol === 'ocpp2.0.1') return { transactionId: c.tx.localId, startMs: c.tx.startMs };
    return { transactionId: c.tx.serverId ?? -c.tx.localId, startMs: c.tx.startMs };
  }

  /** @internal */
  statusOf(c: Connector): ConnectorStatus16 {
    if (c.tx) {
      if (c.limitW <= 0) return 'SuspendedEVSE';
      if (!c.vehicle || c.vehicle.maxIntakeKw(this.kind) <= 0) return 'SuspendedEV';
      return 'Charging';
    }
    if (!c.operative) return 'Unavailable';
    if (!c.vehicle) return 'Available';
    return c.finished ? 'Finishing' : 'Preparing';
  }

  /** @internal */
  async reportStatus(c: Connector): Promise<void> {
    if (this.protocol === 'ocpp2.0.1') return reportStatus201(this, c);
    const status = this.statusOf(c);
    if (status === c.lastStatus) return;
    if (!this.online) return; // sent from scratch after the next boot
    c.lastStatus = status;
    await this.sendStatus(c.id, status, false);
  }

  /** @internal */
  async sendStatus(connectorId: number, status: ConnectorStatus16, strict: boolean): Promise<void> {
    try {
      await this.call('StatusNotification', { connectorId, errorCode: 'NoError', status, timestamp: new Date(this.clock.now()).toISOString() });
    } catch (err) {
      if (strict) this.log.debug({ err: (err as Error).message }, 'StatusNotification failed');
      const c = this.connectors[connectorId - 1];
      if (c) c.lastStatus = null;
    }
  }

  /** @internal */
  queueMeterValues(c: Connector, context: string): void {
    if (this.protocol === 'ocpp2.0.1') { queueMeterValues201(this, c, context); return; }
    const tx = c.tx!;
    const at = new Date(this.clock.now()).toISOString();
    const phases = this.kind === 'DC' ? 1 : this.electrics.phases;
    const sampled = [
      { value: String(Math.round(this.meterWh[c.id - 1])), context, measurand: 'Energy.Active.Import.Register', unit: 'Wh', location: 'Outlet' },
      { value: String(Math.round(c.powerW)), context, measurand: 'Power.Active.Import', unit: 'W', location: 'Outlet' },
      { value: (c.powerW / (this.electrics.voltageV * phases)).toFixed(1), context, measurand: 'Current.Import', unit: 'A', location: 'Outlet' },
      ...(this.reportsSoc && c.vehicle ? [{ value: c.vehicle.socPercent.toFixed(1), context, measurand: 'SoC', unit: 'Percent', location: 'EV' }] : []),
    ];
    this.enqueue({
      method: 'MeterValues', attempts: 0,
      build: () => tx.serverId === null ? null : { connectorId: c.id, transactionId: tx.serverId, meterValue: [{ timestamp: at, sampledValue: sampled }] },
    });
    void this.reportStatus(c);
  }

  // ---- the transaction message queue ---------------------------------------------------------------------------

  /** @internal */
  enqueue(m: QueuedMessage): void {
    m.offline = !this.online;
    this.queue.push(m);
    void this.pump();
  }

  /** Sends queued transaction messages in order; a lost connection leaves the head in place for the next connection. */
  /** @internal */
  async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.online) {
        const m = this.queue[0];
        const params = m.build(m.offline === true);
        if (params === null) {
          // Its StartTransaction never got a transaction id: nothing the central system could match it to.
          this.log.warn({ method: m.method }, 'dropping a transaction message whose transaction has no id');
          this.queue.shift();
          continue;
        }
        const client = this.client;
        try {
          const replay = m.attempts > 0 || m.offline === true;
          const res = await this.call(m.method, params);
          if (replay) this.stats.replayed++;
          this.queue.shift();
          m.onResult?.(res);
        } catch (err) {
          if (this.client !== client || !this.online) { m.attempts++; break; }
          m.attempts++;
          if (m.attempts >= Number(this.config.TransactionMessageAttempts)) {
            this.log.warn({ method: m.method, err: (err as Error).message }, 'transaction message refused; giving up');
            this.queue.shift();
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** @internal */
  async call(method: string, params: Json): Promise<Json> {
    const client = this.client;
    if (!client) throw new Error('offline');
    const release = this.clock.hold();
    try {
      this.emit('sent', { method, params });
      const res = await client.call(method, params);
      return (res ?? {}) as Json;
    } finally {
      release();
    }
  }

  // ---- calls from the central system -------------------------------------------------------------------------

  private registerHandlers(client: RPCClient): void {
    const on = (method: string, fn: (params: Json) => Json | Promise<Json>) => {
      client.handle(method, async ({ params }: { params?: Record<string, unknown> }) => {
        this.clock.touch();
        const delay = this.opts.responseDelayMs ?? 0;
        if (delay > 0) await this.clock.sleep(delay);
        this.advance();
        const result = await fn((params ?? {}) as Json);
        this.emit('handled', { method, params, result });
        return result;
      });
    };
    if (this.protocol === 'ocpp2.0.1') handlers201(this, on);
    else this.handlers16(on);
    client.handle(({ method }: { method?: string }) => {
      this.clock.touch();
      throw createRPCError('NotImplemented', `${method} is not supported by this charge point`);
    });
  }

  private handlers16(on: (method: string, fn: (params: Json) => Json | Promise<Json>) => void): void {
    on('SetChargingProfile', (p) => ({ status: this.setChargingProfile(Number(p.connectorId), p.csChargingProfiles as ChargingProfile) }));
    on('ClearChargingProfile', (p) => {
      const { profiles, cleared } = clearProfiles(this.profiles, {
        ...(p.id !== undefined ? { id: Number(p.id) } : {}), ...(p.connectorId !== undefined ? { connectorId: Number(p.connectorId) } : {}),
        ...(p.chargingProfilePurpose !== undefined ? { chargingProfilePurpose: p.chargingProfilePurpose as ProfilePurpose } : {}),
        ...(p.stackLevel !== undefined ? { stackLevel: Number(p.stackLevel) } : {}),
      });
      this.profiles = profiles;
      this.afterLimitsChanged();
      return { status: cleared > 0 ? 'Accepted' : 'Unknown' };
    });
    on('GetCompositeSchedule', (p) => {
      const connectorId = Number(p.connectorId);
      if (connectorId < 0 || connectorId > this.connectors.length) return { status: 'Rejected' };
      const unit = (p.chargingRateUnit as ChargingRateUnit | undefined) ?? 'W';
      const c = this.connectors[connectorId - 1];
      const running = c?.tx ? { transactionId: c.tx.serverId ?? -c.tx.localId, startMs: c.tx.startMs } : null;
      const now = this.clock.now();
      const e = connectorId === 0 ? this.stationElectrics : this.electrics;
      const s = compositeSchedule(this.profiles, connectorId, running, now, Number(p.duration), e, unit);
      return { status: 'Accepted', connectorId, scheduleStart: s.startSchedule, chargingSchedule: { ...s, startSchedule: s.startSchedule } };
    });
    on('RemoteStartTransaction', (p) => {
      const idTag = String(p.idTag);
      const profile = p.chargingProfile as ChargingProfile | undefined;
      if (profile && profile.chargingProfilePurpose !== 'TxProfile') return { status: 'Rejected' };
      const c = p.connectorId !== undefined ? this.connectors[Number(p.connectorId) - 1] : this.connectors.find((x) => !x.tx && x.operative && x.vehicle) ?? this.connectors.find((x) => !x.tx && x.operative);
      if (!c || c.tx || !c.operative) return { status: 'Rejected' };
      this.later(0, () => {
        if (c.vehicle && !c.tx) this.startTransaction(c, idTag, profile);
        else if (!c.vehicle) c.remoteStart = { idTag, ...(profile ? { profile } : {}) };
      });
      return { status: 'Accepted' };
    });
    on('RemoteStopTransaction', (p) => {
      const c = this.connectors.find((x) => x.tx && x.tx.serverId === Number(p.transactionId));
      if (!c) return { status: 'Rejected' };
      this.later(0, () => { this.endTransaction(c, 'Remote'); void this.reportStatus(c); });
      return { status: 'Accepted' };
    });
    on('ChangeConfiguration', (p) => ({ status: this.changeConfiguration(String(p.key), String(p.value)) }));
    on('GetConfiguration', (p) => {
      const asked = Array.isArray(p.key) && p.key.length > 0 ? (p.key as string[]) : Object.keys(configKeys);
      const known = asked.filter((k): k is ConfigKey => k in configKeys);
      return {
        configurationKey: known.map((key) => ({ key, readonly: configKeys[key].readonly, value: this.config[key] })),
        ...(asked.length > known.length ? { unknownKey: asked.filter((k) => !(k in configKeys)) } : {}),
      };
    });
    on('TriggerMessage', (p) => {
      const what = String(p.requestedMessage);
      const connectorId = p.connectorId === undefined ? undefined : Number(p.connectorId);
      if (connectorId !== undefined && (connectorId < 0 || connectorId > this.connectors.length)) return { status: 'Rejected' };
      const send: Record<string, () => void> = {
        BootNotification: () => void this.boot(),
        Heartbeat: () => void this.call('Heartbeat', {}).catch(() => undefined),
        StatusNotification: () => {
          const list = connectorId === undefined ? this.connectors : connectorId === 0 ? [] : [this.connectors[connectorId - 1]];
          if (connectorId === 0 || connectorId === undefined) void this.sendStatus(0, 'Available', false);
          for (const c of list) { c.lastStatus = null; void this.reportStatus(c); }
        },
        MeterValues: () => {
          for (const c of this.connectors) if (c.tx && (connectorId === undefined || connectorId === c.id)) this.queueMeterValues(c, 'Trigger');
        },
      };
      const action = send[what];
      if (!action) return { status: 'NotImplemented' };
      this.later(0, action);
      return { status: 'Accepted' };
    });
    on('Reset', (p) => {
      const type = p.type === 'Hard' ? 'HardReset' : 'SoftReset';
      this.later(0, () => void this.reboot(type, 10_000));
      return { status: 'Accepted' };
    });
    on('UnlockConnector', (p) => {
      const c = this.connectors[Number(p.connectorId) - 1];
      if (!c) return { status: 'NotSupported' };
      if (c.tx) this.later(0, () => { this.endTransaction(c, 'UnlockCommand'); void this.reportStatus(c); });
      return { status: 'Unlocked' };
    });
    on('ChangeAvailability', (p) => {
      const connectorId = Number(p.connectorId);
      const operative = p.type === 'Operative';
      const targets = connectorId === 0 ? this.connectors : this.connectors[connectorId - 1] ? [this.connectors[connectorId - 1]] : [];
      if (targets.length === 0) return { status: 'Rejected' };
      let scheduled = false;
      for (const c of targets) {
        if (!operative && c.tx) { c.pendingInoperative = true; scheduled = true; continue; }
        c.operative = operative;
        c.pendingInoperative = false;
      }
      this.later(0, () => { for (const c of targets) void this.reportStatus(c); });
      return { status: scheduled ? 'Scheduled' : 'Accepted' };
    });
  }

  /** @internal */
  setChargingProfile(connectorId: number, profile: ChargingProfile): 'Accepted' | 'Rejected' | 'NotSupported' {
    const q = this.opts.quirks ?? {};
    const periods = profile.chargingSchedule.chargingSchedulePeriod;
    if (q.acceptsOnlyAmps && profile.chargingSchedule.chargingRateUnit !== 'A') {
      this.stats.profilesRejected++;
      this.log.info({ connectorId, id: profile.chargingProfileId }, 'quirk: rejecting a profile in W (accepts only A)');
      return 'Rejected';
    }
    if (periods.length > (q.maxSchedulePeriods ?? 24)) {
      this.stats.profilesRejected++;
      this.log.info({ connectorId, periods: periods.length }, 'rejecting a profile with too many periods');
      return 'Rejected';
    }
    if (q.ignoresProfiles) {
      this.stats.profilesIgnored++;
      return 'Accepted';
    }
    return this.applyProfile(connectorId, profile) ? 'Accepted' : 'Rejected';
  }

  /** @internal */
  applyProfile(connectorId: number, profile: ChargingProfile): boolean {
    const c = this.connectors[connectorId - 1];
    const tx = c?.tx && (this.protocol === 'ocpp2.0.1' || c.tx.serverId !== null) ? this.running(c) : null;
    const why = profileRejection(connectorId, profile, tx, this.connectors.length);
    if (why) {
      this.stats.profilesRejected++;
      this.log.info({ connectorId, id: profile.chargingProfileId, why }, 'rejecting a charging profile');
      return false;
    }
    this.advance();
    this.profiles = installProfile(this.profiles, connectorId, profile, this.clock.now());
    this.stats.profilesAccepted++;
    this.afterLimitsChanged();
    this.emit('profileApplied', { connectorId, profile });
    return true;
  }

  /** @internal */
  afterLimitsChanged(): void {
    this.allocate(this.clock.now());
    for (const c of this.connectors) void this.reportStatus(c);
  }

  /** @internal */
  changeConfiguration(key: string, value: string): 'Accepted' | 'Rejected' | 'NotSupported' {
    if (!(key in configKeys)) return 'NotSupported';
    const spec: { readonly: boolean; integer?: boolean; boolean?: boolean } = configKeys[key as ConfigKey];
    if (spec.readonly) return 'Rejected';
    if (spec.integer && !/^\d{1,9}$/.test(value)) return 'Rejected';
    if (spec.boolean && value !== 'true' && value !== 'false') return 'Rejected';
    this.config[key as ConfigKey] = value;
    if (key === 'HeartbeatInterval' && this.online) this.scheduleHeartbeat();
    if (key === 'MeterValueSampleInterval') this.scheduleMeter();
    return 'Accepted';
  }
}
