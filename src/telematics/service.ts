import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Bus } from '../bus/bus.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { cachedVehicleAtBay, getVehicle, setProviderIds, vehicleAtBay, vehicleById } from '../fleet/vehicles.ts';
import { tokenRegistry } from '../fleet/tokens.ts';
import { ChargerFeed } from './charger-feed.ts';
import { bestSoc, type BestSoc } from './fusion.ts';
import { HealthBoard, type ProviderHealth } from './health.ts';
import { fromRow, Ingestor, vehicleKey, type IngestResult, type VehicleFields } from './ingest.ts';
import type { TelematicsTables } from './migrations.ts';
import { PollLoop } from './polling.ts';
import type { Provider, ProviderKind, WebhookOutcome, WebhookRequest } from './provider.ts';
import { createProvider, type ProviderConfig } from './providers/index.ts';
import type { NormalisedReading } from './reading.ts';
import type { SecretBox } from './secrets.ts';

export interface TelematicsOptions {
  /** A SoC older than this is stale. */
  readonly staleAfterS?: number;
  readonly rawRetentionDays?: number;
  /**
   * The schedule's trip distances driven by a vehicle between two instants (null: the schedule does not know), for the
   * SoC estimate when data is stale and no odometer delta is known. `startTelematics` connects the fleet's weekly
   * blocks (schedule-trips.ts).
   */
  readonly plannedTripsKm?: (tenantId: string, vehicleId: string, sinceIso: string, untilIso: string) => Promise<number | null>;
}

export interface ProviderSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: ProviderKind;
  readonly enabled: boolean;
  /** Settings only: credentials are never returned, only which keys are set. */
  readonly settings: Record<string, unknown>;
  readonly credentialKeys: string[];
  readonly receives: ('webhook' | 'poll' | 'subscribe')[];
  readonly health: ProviderHealth;
}

export interface VehicleState {
  readonly tenantId: string;
  readonly vehicleId: string;
  readonly fields: VehicleFields;
  readonly soc: BestSoc;
}

export interface QuarantineEntry {
  readonly id: string;
  readonly tenantId: string;
  readonly provider: string;
  readonly receivedAt: string;
  readonly reason: string;
  readonly status: string;
  readonly attempts: number;
  readonly resolvedAt: string | null;
  readonly payload: unknown;
}

/** The telematics context at run time: configured providers, their loops, ingestion, state and quarantine. */
export class Telematics {
  readonly health = new HealthBoard();
  readonly ingestor: Ingestor;
  readonly chargers = new ChargerFeed();
  /** station/transaction -> vehicle key, for the sessions whose vehicle is known (oldest dropped past 10,000). */
  private readonly sessions = new Map<string, string>();
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly box: SecretBox;
  private readonly options: TelematicsOptions;
  private readonly running = new Map<string, { provider: Provider; config: ProviderConfig; loop?: PollLoop }>();
  private retentionTimer: ReturnType<Clock['setTimeout']> | null = null;
  /** This process, as a poll lease holder. */
  private readonly nodeId = randomUUID();

  constructor(deps: { store: Store; bus: Bus; clock: Clock; logger: Logger; box: SecretBox }, options: TelematicsOptions = {}) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.logger.child({ module: 'telematics' });
    this.box = deps.box;
    this.options = options;
    this.ingestor = new Ingestor({ ...deps, health: this.health });
    // A session belongs to the vehicle whose token started it, else to the vehicle assigned to that EVSE.
    const tokens = tokenRegistry(this.store);
    deps.bus.subscribe('SessionStarted', async (e) => {
      const tokenVehicle = e.idToken ? (await tokens.get(e.idToken))?.vehicleId : null;
      const v = (tokenVehicle ? await vehicleById(this.store, tokenVehicle) : null) ?? await vehicleAtBay(this.store, e.stationId, e.evseId);
      if (!v) return;
      const key = vehicleKey(v.tenantId, v.vehicleId);
      this.sessions.set(`${e.stationId}/${e.transactionId}`, key);
      if (this.sessions.size > 10_000) this.sessions.delete(this.sessions.keys().next().value!);
      this.chargers.sessionStarted(key, e);
    });
    // Charger readings belong to the session's vehicle, else to the EVSE's assigned one. Every meter sample of every
    // station comes here: `act` runs without a promise when the session or the cached bay assignment names it.
    const forVehicleAt = (e: { stationId: string; evseId: number; transactionId: string | null }, act: (key: string) => void): Promise<void> | undefined => {
      const key = e.transactionId ? this.sessions.get(`${e.stationId}/${e.transactionId}`) : undefined;
      if (key) {
        act(key);
        return undefined;
      }
      const cached = cachedVehicleAtBay(this.store, e.stationId, e.evseId);
      if (cached !== undefined) {
        if (cached) act(vehicleKey(cached.tenantId, cached.vehicleId));
        return undefined;
      }
      return vehicleAtBay(this.store, e.stationId, e.evseId).then((v) => { if (v) act(vehicleKey(v.tenantId, v.vehicleId)); });
    };
    deps.bus.subscribe('MeterSampled', (e) => forVehicleAt(e, (key) => this.chargers.meterSampled(key, e)));
    deps.bus.subscribe('EvChargingNeedsReported', (e) => {
      const socPercent = e.socPercent;
      if (socPercent === null) return;
      return forVehicleAt(e, (key) => this.chargers.socReported(key, socPercent, e.at));
    });
    deps.bus.subscribe('SessionEnded', (e) => { this.sessions.delete(`${e.stationId}/${e.transactionId}`); });
  }

  private get db() {
    return this.store.db.withTables<TelematicsTables>();
  }

  /** Starts every enabled provider stored in the database, and the raw payload retention sweep. */
  async start(): Promise<void> {
    if (this.store.dialect.name === 'sqlite') {
      // The reading table's hot pages (each vehicle's newest) and the state rows must stay in SQLite's page cache or
      // every batch re-reads them from the OS: SQLite's default cache is 2 MB, 32 MB holds thousands of vehicles.
      // The embedded store has one connection, so this applies to it as a whole.
      await sql`pragma cache_size = -32768`.execute(this.store.db);
    }
    const rows = await this.db.selectFrom('telematics_provider').selectAll().where('enabled', '=', 1).execute();
    for (const row of rows) {
      try {
        await this.run(this.configOf(row));
      } catch (err) {
        this.log.error({ err, provider: row.provider_id }, 'provider could not start; the others continue');
        this.health.failed(row.provider_id, this.clock.now(), err as Error, 'down');
      }
    }
    this.scheduleRetention(0);
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) this.clock.clearTimeout(this.retentionTimer);
    for (const id of [...this.running.keys()]) await this.halt(id);
    await this.ingestor.flush();
  }

  /** The running adapter of a provider (what its webhooks, polls and replays go through). */
  provider(id: string): Provider | undefined {
    return this.running.get(id)?.provider;
  }

  private configOf(row: TelematicsTables['telematics_provider']): ProviderConfig {
    return { id: row.provider_id, tenantId: row.tenant_id, kind: row.kind as ProviderKind, settings: JSON.parse(row.settings) as Record<string, unknown>, credentials: this.box.open(row.credentials) };
  }

  private async run(config: ProviderConfig): Promise<void> {
    const provider = createProvider(config, this.clock);
    const entry: { provider: Provider; config: ProviderConfig; loop?: PollLoop } = { provider, config };
    this.running.set(config.id, entry);
    this.health.setState(config.id, 'starting');
    if (provider.poller) {
      entry.loop = new PollLoop(provider, {
        clock: this.clock, logger: this.log, health: this.health,
        ingest: (p, units) => this.ingestor.ingest(p, units),
        loadCursor: (id) => this.loadCursor(id),
        saveCursor: (id, cursor) => this.saveCursor(id, cursor),
        lease: (id, forMs) => this.lease(id, forMs),
      });
      entry.loop.start();
    }
    if (provider.subscriber) {
      await provider.subscriber.start(
        async (unit) => {
          this.health.alive(config.id);
          try {
            await this.ingestor.ingest(provider, [unit]);
          } catch (err) {
            this.log.error({ err, provider: config.id }, 'MQTT message not stored; not acknowledged, the broker delivers it again');
            throw err;
          }
        },
        (err) => { this.health.failed(config.id, this.clock.now(), err); this.log.warn({ err: err.message, provider: config.id }, 'MQTT connection problem'); },
      );
      // Connected and subscribed unless the connection already reported a failure.
      if (this.health.report(config.id, this.clock.now()).state === 'starting') this.health.alive(config.id);
    }
    if (!provider.poller && !provider.subscriber) this.health.setState(config.id, 'ok');
    this.log.info({ provider: config.id, kind: config.kind, tenantId: config.tenantId }, 'telematics provider started');
  }

  private async halt(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (!entry) return;
    this.running.delete(id);
    await entry.loop?.stop();
    await entry.provider.subscriber?.stop();
    // Hand the poll lease over at once instead of letting it expire.
    if (entry.loop) await this.db.deleteFrom('telematics_poll_lease').where('provider', '=', id).where('holder', '=', this.nodeId).execute();
  }

  /** Takes or renews the provider's poll lease for this node; false while another node's lease is valid. */
  private async lease(provider: string, forMs: number): Promise<boolean> {
    const nowMs = this.clock.now();
    const until = new Date(nowMs + forMs).toISOString();
    const rows = await this.db.insertInto('telematics_poll_lease').values({ provider, holder: this.nodeId, until })
      .onConflict((oc) => oc.column('provider').doUpdateSet({ holder: this.nodeId, until })
        .where((eb) => eb.or([eb('telematics_poll_lease.holder', '=', this.nodeId), eb('telematics_poll_lease.until', '<', new Date(nowMs).toISOString())])))
      .returning('holder').execute();
    return rows.length > 0;
  }

  /** Creates or replaces a provider, stores its credentials sealed, and (re)starts it. Throws ProviderConfigError. */
  async saveProvider(input: { id: string; tenantId: string; kind: ProviderKind; settings: Record<string, unknown>; credentials?: Record<string, unknown>; enabled?: boolean }): Promise<ProviderSummary> {
    const existing = await this.db.selectFrom('telematics_provider').selectAll().where('provider_id', '=', input.id).executeTakeFirst();
    // Omitted credentials keep the stored ones, so settings (a mapping fix) can change without re-sending secrets.
    const credentials = input.credentials ?? (existing ? this.box.open(existing.credentials) : {});
    const config: ProviderConfig = { id: input.id, tenantId: input.tenantId, kind: input.kind, settings: input.settings, credentials };
    createProvider(config, this.clock); // validates; throws before anything is stored
    const nowIso = new Date(this.clock.now()).toISOString();
    const enabled = input.enabled === false ? 0 : 1;
    const row = { provider_id: input.id, tenant_id: input.tenantId, kind: input.kind, settings: JSON.stringify(input.settings), credentials: this.box.seal(credentials), enabled, created_at: existing?.created_at ?? nowIso, updated_at: nowIso };
    await this.db.insertInto('telematics_provider').values(row).onConflict((oc) => oc.column('provider_id').doUpdateSet({
      tenant_id: row.tenant_id, kind: row.kind, settings: row.settings, credentials: row.credentials, enabled: row.enabled, updated_at: row.updated_at,
    })).execute();
    await this.halt(input.id);
    if (enabled) await this.run(config);
    else this.health.setState(input.id, 'stopped');
    return this.summary(input.id);
  }

  async deleteProvider(id: string): Promise<boolean> {
    await this.halt(id);
    const result = await this.db.deleteFrom('telematics_provider').where('provider_id', '=', id).executeTakeFirst();
    this.health.forget(id);
    return Number(result.numDeletedRows) > 0;
  }

  async summary(id: string): Promise<ProviderSummary> {
    const row = await this.db.selectFrom('telematics_provider').selectAll().where('provider_id', '=', id).executeTakeFirstOrThrow();
    return this.toSummary(row);
  }

  async providers(): Promise<ProviderSummary[]> {
    const rows = await this.db.selectFrom('telematics_provider').selectAll().orderBy('provider_id').execute();
    return rows.map((r) => this.toSummary(r));
  }

  private toSummary(row: TelematicsTables['telematics_provider']): ProviderSummary {
    const provider = this.running.get(row.provider_id)?.provider;
    const receives: ProviderSummary['receives'] = [];
    if (provider?.webhook) receives.push('webhook');
    if (provider?.poller) receives.push('poll');
    if (provider?.subscriber) receives.push('subscribe');
    let credentialKeys: string[];
    try { credentialKeys = Object.keys(this.box.open(row.credentials)).sort(); } catch { credentialKeys = []; }
    return {
      id: row.provider_id, tenantId: row.tenant_id, kind: row.kind as ProviderKind, enabled: row.enabled === 1,
      settings: JSON.parse(row.settings) as Record<string, unknown>, credentialKeys, receives,
      health: this.health.report(row.provider_id, this.clock.now()),
    };
  }

  /** A webhook delivery: verified by the provider, replay-checked by delivery id, then ingested. */
  async webhook(providerId: string, request: Omit<WebhookRequest, 'nowMs'>): Promise<{ outcome: WebhookOutcome | { kind: 'unknown' } | { kind: 'replayed'; deliveryId: string }; result?: IngestResult }> {
    const entry = this.running.get(providerId);
    if (!entry?.provider.webhook) return { outcome: { kind: 'unknown' } };
    const nowMs = this.clock.now();
    const outcome = entry.provider.webhook.receive({ ...request, nowMs });
    // A refused request says nothing about the provider's health (anyone can POST), so it is only logged by the route.
    if (outcome.kind === 'rejected') return { outcome };
    if (outcome.kind !== 'units') return { outcome };
    if (outcome.deliveryId) {
      const inserted = await this.db.insertInto('telematics_delivery').values({ provider: providerId, delivery_id: outcome.deliveryId, received_at: new Date(nowMs).toISOString() })
        .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing()).returning('delivery_id').execute();
      if (inserted.length === 0) return { outcome: { kind: 'replayed', deliveryId: outcome.deliveryId } };
    }
    this.health.succeeded(providerId, nowMs);
    return { outcome, result: await this.ingestor.ingest(entry.provider, outcome.units) };
  }

  async quarantine(filter: { status?: string; provider?: string; limit: number }): Promise<QuarantineEntry[]> {
    let q = this.db.selectFrom('telematics_quarantine').selectAll().orderBy('received_at', 'desc').limit(filter.limit);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.provider) q = q.where('provider', '=', filter.provider);
    return (await q.execute()).map(toQuarantineEntry);
  }

  async quarantineEntry(id: string): Promise<QuarantineEntry | null> {
    const row = await this.db.selectFrom('telematics_quarantine').selectAll().where('quarantine_id', '=', id).executeTakeFirst();
    return row ? toQuarantineEntry(row) : null;
  }

  /**
   * Runs quarantined payloads through the provider's current decoder and the current vehicle registry again (after a
   * mapping fix or a newly registered vehicle). Entries that now go through are marked replayed; the rest stay open
   * with the new reason.
   */
  async replay(filter: { id?: string; provider?: string; limit?: number }): Promise<{ replayed: number; stillFailing: number; accepted: number; missingProvider: string[] }> {
    let q = this.db.selectFrom('telematics_quarantine').selectAll().where('status', '=', 'open').orderBy('received_at').limit(filter.limit ?? 1000);
    if (filter.id) q = q.where('quarantine_id', '=', filter.id);
    if (filter.provider) q = q.where('provider', '=', filter.provider);
    const rows = await q.execute();
    this.ingestor.forgetMatches();
    let replayed = 0, stillFailing = 0, accepted = 0;
    const missing = new Set<string>();
    for (const row of rows) {
      const entry = this.running.get(row.provider);
      if (!entry) { missing.add(row.provider); stillFailing++; continue; }
      const unit = parsePayload(row.payload);
      const result = await this.ingestor.ingest(entry.provider, [unit], { replayOf: row.quarantine_id });
      accepted += result.accepted;
      if (result.quarantined === 0) replayed++; else stillFailing++;
    }
    return { replayed, stillFailing, accepted, missingProvider: [...missing] };
  }

  /**
   * Re-runs a provider's raw deliveries kept in the retention window through its current decoder, to re-derive
   * readings after a mapping fix (readings already stored are recognised as duplicates; a field mapped now adds a
   * reading with the fuller values for the same instant).
   */
  async replayRaw(filter: { provider: string; from?: string; to?: string; limit: number }): Promise<{ deliveries: number; accepted: number; duplicates: number; quarantined: number } | null> {
    const entry = this.running.get(filter.provider);
    if (!entry) return null;
    let q = this.db.selectFrom('telematics_raw').selectAll().where('provider', '=', filter.provider).orderBy('received_at').limit(filter.limit);
    if (filter.from) q = q.where('received_at', '>=', filter.from);
    if (filter.to) q = q.where('received_at', '<', filter.to);
    const totals = { deliveries: 0, accepted: 0, duplicates: 0, quarantined: 0 };
    for (const row of await q.execute()) {
      const units = parsePayload(row.payload);
      const result = await this.ingestor.ingest(entry.provider, Array.isArray(units) ? units : [units], { storeRaw: false });
      totals.deliveries++;
      totals.accepted += result.accepted;
      totals.duplicates += result.duplicates;
      totals.quarantined += result.quarantined;
    }
    return totals;
  }

  async readings(filter: { tenantId: string; vehicleId: string; from?: string; to?: string; limit: number }): Promise<NormalisedReading[]> {
    let q = this.db.selectFrom('telematics_reading').selectAll().where('tenant_id', '=', filter.tenantId).where('vehicle_id', '=', filter.vehicleId)
      .orderBy('measured_at', 'desc').limit(filter.limit);
    if (filter.from) q = q.where('measured_at', '>=', filter.from);
    if (filter.to) q = q.where('measured_at', '<', filter.to);
    return (await q.execute()).map(fromRow);
  }

  /** Sets how each provider names a vehicle; false when the vehicle is not registered. Throws on a duplicate id. */
  async setProviderIds(tenantId: string, vehicleId: string, ids: Record<string, string>): Promise<boolean> {
    const done = await setProviderIds(this.store, tenantId, vehicleId, ids);
    this.ingestor.forgetMatches();
    return done;
  }

  /** The vehicle's latest value of each field and its best SoC; null when the vehicle is not registered. */
  async vehicleState(tenantId: string, vehicleId: string): Promise<VehicleState | null> {
    const vehicle = await getVehicle(this.store, tenantId, vehicleId);
    if (!vehicle) return null;
    const key = vehicleKey(tenantId, vehicleId);
    const row = await this.db.selectFrom('telematics_vehicle_state').selectAll().where('vehicle_key', '=', key).executeTakeFirst();
    const fields = row ? JSON.parse(row.fields) as VehicleFields : {};
    const nowMs = this.clock.now();
    const soc = fields.socPercent ? { socPercent: Number(fields.socPercent.value), at: fields.socPercent.at } : null;
    const charger = this.chargers.chargerSoc(key);
    const base = [soc, charger].filter((x) => x !== null).sort((a, b) => b.at.localeCompare(a.at))[0] ?? null;
    let odometerDeltaKm: number | null = null;
    let plannedTripsKm: number | null = null;
    if (base && fields.odometerKm && fields.odometerKm.at > base.at) {
      const before = await this.db.selectFrom('telematics_reading').select('odometer_km').where('tenant_id', '=', tenantId).where('vehicle_id', '=', vehicleId)
        .where('odometer_km', 'is not', null).where('measured_at', '<=', base.at).orderBy('measured_at', 'desc').limit(1).executeTakeFirst();
      if (before?.odometer_km !== null && before?.odometer_km !== undefined) odometerDeltaKm = Math.max(0, Number(fields.odometerKm.value) - before.odometer_km);
    }
    if (base && odometerDeltaKm === null && this.options.plannedTripsKm) {
      plannedTripsKm = await this.options.plannedTripsKm(tenantId, vehicleId, base.at, new Date(nowMs).toISOString());
    }
    const best = bestSoc({
      nowMs, telematics: soc, charger,
      energySinceTelematics: soc ? this.chargers.energySince(key, soc.at) : null,
      batteryKwh: vehicle.batteryKwh, consumptionKwhPerKm: vehicle.consumptionKwhPerKm,
      odometerDeltaKm, plannedTripsKm, staleAfterS: this.options.staleAfterS ?? 1800,
    });
    return { tenantId, vehicleId, fields, soc: best };
  }

  private scheduleRetention(delayMs: number): void {
    this.retentionTimer = this.clock.setTimeout(() => {
      this.purge().catch((err) => this.log.error({ err }, 'telematics retention sweep failed')).finally(() => this.scheduleRetention(3_600_000));
    }, delayMs);
    this.retentionTimer.unref?.();
  }

  /** Deletes raw payloads and delivery ids past the retention period, and resolved quarantine entries as old. */
  async purge(): Promise<{ raw: number }> {
    const cutoff = new Date(this.clock.now() - (this.options.rawRetentionDays ?? 7) * 86_400_000).toISOString();
    const raw = await this.db.deleteFrom('telematics_raw').where('received_at', '<', cutoff).executeTakeFirst();
    await this.db.deleteFrom('telematics_delivery').where('received_at', '<', cutoff).execute();
    await this.db.deleteFrom('telematics_quarantine').where('status', '!=', 'open').where('resolved_at', '<', cutoff).execute();
    return { raw: Number(raw.numDeletedRows) };
  }

  private async loadCursor(provider: string): Promise<string | null> {
    const row = await this.db.selectFrom('telematics_cursor').select('cursor').where('provider', '=', provider).executeTakeFirst();
    return row?.cursor ?? null;
  }

  private async saveCursor(provider: string, cursor: string | null): Promise<void> {
    const updated_at = new Date(this.clock.now()).toISOString();
    await this.db.insertInto('telematics_cursor').values({ provider, cursor, updated_at })
      .onConflict((oc) => oc.column('provider').doUpdateSet({ cursor, updated_at })).execute();
  }
}

function parsePayload(payload: string): unknown {
  try { return JSON.parse(payload); } catch { return payload; }
}

function toQuarantineEntry(row: TelematicsTables['telematics_quarantine']): QuarantineEntry {
  return {
    id: row.quarantine_id, tenantId: row.tenant_id, provider: row.provider, receivedAt: row.received_at, reason: row.reason,
    status: row.status, attempts: row.attempts, resolvedAt: row.resolved_at, payload: parsePayload(row.payload),
  };
}
