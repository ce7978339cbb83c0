import { hash as cryptoHash } from 'node:crypto';
import { CompiledQuery, type Transaction } from 'kysely';
import type { Bus } from '../bus/bus.ts';
import type { VehicleReading } from '../bus/events.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { matchVehicle } from '../fleet/vehicles.ts';
import type { HealthBoard } from './health.ts';
import type { TelematicsTables } from './migrations.ts';
import type { Provider } from './provider.ts';
import { checkDraft, DecodeError, valueFields, type NormalisedReading, type ReadingDraft, type ValueField } from './reading.ts';

/**
 * The ingestion path every provider's payloads take: keep the raw payload, decode, check, match the vehicle, store
 * the reading once (idempotent by content), move the per-vehicle state forward only where the reading is the newest,
 * publish `VehicleReading`. What cannot be decoded, checked or matched goes to the quarantine with the reason.
 *
 * Writes are group-committed: concurrent callers share one transaction, and each caller's promise resolves only when
 * its readings are durable, so a webhook is acknowledged after its data is safe and throughput stays high.
 */

export interface IngestResult {
  accepted: number;
  duplicates: number;
  quarantined: number;
  /** The quarantine reasons, for a webhook answer. */
  reasons: string[];
}

export interface FieldState {
  readonly value: number | boolean;
  readonly at: string;
  readonly provider: string;
}
export type VehicleFields = Partial<Record<ValueField, FieldState>>;

interface StateEntry { fields: VehicleFields; measuredAt: string; readonly tenantId: string; readonly vehicleId: string }
/** `stored` is set by the commit that wrote the reading as new: the first caller in a batch to bring a key gets it. */
interface PendingReading { readonly key: string; readonly reading: NormalisedReading; readonly rawId: string | null; stored: boolean }
interface PendingQuarantine { readonly id: string; readonly tenantId: string; readonly provider: string; readonly receivedAt: string; readonly reason: string; readonly payload: string }

interface Batch {
  raws: TelematicsTables['telematics_raw'][];
  readings: PendingReading[];
  quarantines: PendingQuarantine[];
  resolved: string[];
  /** Each caller, resolved when the batch is durable; its readings' `stored` flags then say which were new. */
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
}

export interface IngestOptions {
  /** Flush when this many readings are waiting. */
  readonly maxBatch?: number;
}

const CHUNK = 400;

export class Ingestor {
  private readonly store: Store;
  private readonly bus: Bus;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly health: HealthBoard;
  private readonly maxBatch: number;
  private readonly vehicleCache = new Map<string, { vehicleId: string; untilMs: number }>();
  private batch: Batch = Ingestor.emptyBatch();
  private readonly inserts: HotInserts;
  /**
   * Committed per-vehicle state, so a batch need not read it back. Only on SQLite: the embedded store has exactly one
   * writer, this process. On PostgreSQL several nodes may write, so the state is always read inside the transaction.
   */
  private readonly stateCache: Map<string, StateEntry> | null;
  private flushing: Promise<void> | null = null;
  private scheduled = false;

  constructor(deps: { store: Store; bus: Bus; clock: Clock; logger: Logger; health: HealthBoard }, options: IngestOptions = {}) {
    this.store = deps.store;
    this.bus = deps.bus;
    this.clock = deps.clock;
    this.log = deps.logger.child({ module: 'telematics.ingest' });
    this.health = deps.health;
    this.maxBatch = options.maxBatch ?? 5000;
    this.inserts = new HotInserts(deps.store.dialect.name === 'postgres');
    this.stateCache = deps.store.dialect.name === 'sqlite' ? new Map() : null;
  }

  private static emptyBatch(): Batch {
    return { raws: [], readings: [], quarantines: [], resolved: [], waiters: [] };
  }

  /**
   * Ingests one delivery of payload units from a provider. Replays (`replayOf`: a quarantine entry, resolved when
   * everything in it now goes through; `storeRaw: false`: raw payloads re-run) do not store the raw payload again.
   */
  async ingest(provider: Provider, units: readonly unknown[], options: { replayOf?: string; storeRaw?: boolean } = {}): Promise<IngestResult> {
    const { replayOf } = options;
    const nowMs = this.clock.now();
    const receivedAt = new Date(nowMs).toISOString();
    const readings: PendingReading[] = [];
    const quarantines: PendingQuarantine[] = [];
    const raws: TelematicsTables['telematics_raw'][] = [];
    let unitsFailed = 0;
    // One raw row per delivery (a webhook body, a poll page, an MQTT message): the JSON list of its payload units.
    let rawId: string | null = null;
    if (!replayOf && options.storeRaw !== false && units.length > 0) {
      const payload = JSON.stringify(units);
      rawId = hash(`${provider.id}\n${payload}`);
      raws.push({ raw_id: rawId, provider: provider.id, received_at: receivedAt, payload });
    }
    for (const unit of units) {
      const problems: string[] = [];
      let drafts: ReadingDraft[] = [];
      try {
        drafts = provider.decoder.decode(unit);
        if (drafts.length === 0) problems.push('no vehicle values in the payload');
      } catch (err) {
        if (!(err instanceof DecodeError)) this.log.error({ err, provider: provider.id }, 'decoder failed unexpectedly');
        problems.push(err instanceof Error ? err.message : String(err));
      }
      for (const draft of drafts) {
        const draftProblems = checkDraft(draft, nowMs);
        if (draftProblems.length > 0) { problems.push(...draftProblems); continue; }
        // Matches are cached: only a miss waits for the registry (no microtask per reading on the hot path).
        const vehicleId = this.cachedMatch(provider, draft, nowMs) ?? await this.match(provider, draft);
        if (!vehicleId) {
          problems.push(`no vehicle in tenant ${provider.tenantId} has ${provider.id} id ${JSON.stringify(draft.vehicle.providerVehicleId)} or VIN ${JSON.stringify(draft.vehicle.vin)}`);
          continue;
        }
        const reading: NormalisedReading = {
          tenantId: provider.tenantId, vehicleId, provider: provider.id, measuredAt: draft.measuredAt, receivedAt,
          socPercent: draft.socPercent, rangeKm: draft.rangeKm, odometerKm: draft.odometerKm, lat: draft.lat, lon: draft.lon,
          speedKmh: draft.speedKmh, pluggedIn: draft.pluggedIn, charging: draft.charging, chargeEnergyAddedKwh: draft.chargeEnergyAddedKwh,
        };
        readings.push({ key: readingKey(reading), reading, rawId, stored: false });
      }
      if (problems.length > 0) {
        unitsFailed++;
        // Always JSON: a payload that was bare text comes back as that text on replay, and control characters are
        // escaped (PostgreSQL refuses NUL in text).
        const payload = JSON.stringify(unit);
        // The same bad payload delivered again (a vendor retry, a raw replay) is one entry with a higher attempt count.
        quarantines.push({ id: replayOf ?? hash(`${provider.id}\n${payload}`), tenantId: provider.tenantId, provider: provider.id, receivedAt, reason: [...new Set(problems)].join('; '), payload });
      }
    }

    await this.enqueue(raws, readings, quarantines, replayOf && quarantines.length === 0 ? [replayOf] : []);
    let accepted = 0;
    const measured: number[] = [];
    for (const r of readings) if (r.stored) { accepted++; measured.push(Date.parse(r.reading.measuredAt)); }
    this.health.readings(provider.id, nowMs, measured);
    this.health.units(provider.id, nowMs, units.length, unitsFailed);
    if (quarantines.length > 0) this.log.warn({ provider: provider.id, quarantined: quarantines.length, reason: quarantines[0].reason }, 'telematics payload quarantined');
    return { accepted, duplicates: readings.length - accepted, quarantined: quarantines.length, reasons: quarantines.map((q) => q.reason) };
  }

  private cachedMatch(provider: Provider, draft: ReadingDraft, nowMs: number): string | undefined {
    const cached = this.vehicleCache.get(matchKey(provider, draft));
    return cached && cached.untilMs > nowMs ? cached.vehicleId : undefined;
  }

  private async match(provider: Provider, draft: ReadingDraft): Promise<string | null> {
    const cacheKey = matchKey(provider, draft);
    const nowMs = this.clock.now();
    const found = await matchVehicle(this.store, provider.tenantId, provider.id, draft.vehicle);
    if (found) {
      if (this.vehicleCache.size > 100_000) this.vehicleCache.clear();
      // Bounded staleness: a provider id moved to another vehicle in the registry is picked up within a minute.
      this.vehicleCache.set(cacheKey, { vehicleId: found, untilMs: nowMs + 60_000 });
    }
    return found;
  }

  /** Forget cached vehicle matches (after the registry changed). */
  forgetMatches(): void {
    this.vehicleCache.clear();
  }

  private enqueue(raws: Batch['raws'], readings: PendingReading[], quarantines: PendingQuarantine[], resolved: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const b = this.batch;
      b.raws.push(...raws);
      b.readings.push(...readings);
      b.quarantines.push(...quarantines);
      b.resolved.push(...resolved);
      b.waiters.push({ resolve, reject });
      if (b.readings.length >= this.maxBatch) void this.kick();
      else if (!this.scheduled) {
        // Let every caller of this turn of the event loop join the batch before committing it.
        this.scheduled = true;
        setImmediate(() => { this.scheduled = false; void this.kick(); });
      }
    });
  }

  private async kick(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.batch.waiters.length === 0) return;
    const batch = this.batch;
    this.batch = Ingestor.emptyBatch();
    this.flushing = this.commit(batch).finally(() => { this.flushing = null; });
    await this.flushing;
  }

  /** Waits until everything enqueued so far is committed. */
  async flush(): Promise<void> {
    await this.kick();
    while (this.flushing) await this.flushing;
  }

  private async commit(batch: Batch): Promise<void> {
    const db = this.store.db.withTables<TelematicsTables>();
    const nowIso = new Date(this.clock.now()).toISOString();
    const advanced: NormalisedReading[] = [];
    const committed: { states?: Map<string, StateEntry> } = {};
    try {
      await db.transaction().execute(async (trx) => {
        for (const chunk of chunks(dedupeBy(batch.raws, (r) => `${r.received_at}/${r.raw_id}`), CHUNK)) {
          await trx.executeQuery(this.inserts.raw(chunk.length, chunk.flatMap((r) => [r.raw_id, r.provider, r.received_at, r.payload])));
        }
        const fresh = await this.insertReadings(trx, dedupeBy(batch.readings, (r) => r.key));
        if (fresh.length > 0) advanced.push(...await this.advanceState(trx, fresh, nowIso, committed));
        for (const chunk of chunks(dedupeBy(batch.quarantines, (q) => q.id), CHUNK)) {
          await trx.insertInto('telematics_quarantine').values(chunk.map((q) => ({
            quarantine_id: q.id, tenant_id: q.tenantId, provider: q.provider, received_at: q.receivedAt, reason: q.reason,
            payload: q.payload, status: 'open', attempts: 1, resolved_at: null,
          }))).onConflict((oc) => oc.column('quarantine_id').doUpdateSet((eb) => ({
            reason: eb.ref('excluded.reason'), attempts: eb(eb.ref('telematics_quarantine.attempts'), '+', 1), status: 'open', resolved_at: null,
          }))).execute();
        }
        if (batch.resolved.length > 0) {
          await trx.updateTable('telematics_quarantine').set({ status: 'replayed', resolved_at: nowIso }).where('quarantine_id', 'in', batch.resolved).execute();
        }
      });
    } catch (err) {
      this.log.error({ err, readings: batch.readings.length }, 'telematics batch write failed');
      for (const r of batch.readings) r.stored = false;
      for (const w of batch.waiters) w.reject(err as Error);
      return;
    }
    if (this.stateCache && committed.states) for (const [k, v] of committed.states) this.stateCache.set(k, v);
    for (const w of batch.waiters) w.resolve();
    for (const r of advanced) this.bus.publish(toEvent(r));
  }

  /**
   * Stores the readings not stored yet, marks them `stored` and returns them. PostgreSQL: multi-row inserts whose
   * RETURNING names the new keys, one round trip per 400 rows. SQLite: one single-row insert per reading (prepared
   * once, sqlite-database.ts caches it by its text), new when it changed a row: on node:sqlite that takes about half
   * the CPU of multi-row inserts of 10 to 400 rows or of an insert from json_each (measured: 6 against 10 to 15 µs a
   * row in transactions of 3,200), and in-process there is no round trip to save.
   */
  private async insertReadings(trx: Transaction<TelematicsTables>, unique: readonly PendingReading[]): Promise<NormalisedReading[]> {
    const fresh: NormalisedReading[] = [];
    if (this.inserts.postgres) {
      const newKeys = new Set<string>();
      for (const chunk of chunks(unique, CHUNK)) {
        const { rows } = await trx.executeQuery(this.inserts.reading(chunk.length, readingParams(chunk)));
        for (const row of rows as { reading_key: string }[]) newKeys.add(row.reading_key);
      }
      for (const r of unique) if (newKeys.has(r.key)) { r.stored = true; fresh.push(r.reading); }
      return fresh;
    }
    const one = this.inserts.readingOne();
    for (const r of unique) {
      const { numAffectedRows } = await trx.executeQuery(CompiledQuery.raw(one, readingParams([r])));
      if (numAffectedRows === 1n) { r.stored = true; fresh.push(r.reading); }
    }
    return fresh;
  }

  /**
   * Moves each vehicle's state forward field by field: a value replaces the stored one only when it was measured
   * later, so a reading that arrives late fills in history without overwriting anything newer. Returns the readings
   * that advanced at least one field (those are published; fully superseded ones are history only).
   */
  private async advanceState(t: Transaction<TelematicsTables>, readings: NormalisedReading[], nowIso: string, committed: { states?: Map<string, StateEntry> }): Promise<NormalisedReading[]> {
    const keys = [...new Set(readings.map((r) => vehicleKey(r.tenantId, r.vehicleId)))];
    const states = new Map<string, StateEntry>();
    // Copies, so the cache only ever holds committed state.
    const missing = keys.filter((k) => { const c = this.stateCache?.get(k); if (c) states.set(k, { ...c, fields: { ...c.fields } }); return !c; });
    for (const chunk of chunks(missing, CHUNK)) {
      const rows = await t.selectFrom('telematics_vehicle_state').selectAll().where('vehicle_key', 'in', chunk).execute();
      for (const row of rows) states.set(row.vehicle_key, { fields: JSON.parse(row.fields) as VehicleFields, measuredAt: row.measured_at, tenantId: row.tenant_id, vehicleId: row.vehicle_id });
    }
    committed.states = states;
    const advanced: NormalisedReading[] = [];
    const changed = new Set<string>();
    const sorted = [...readings].sort((a, b) => a.measuredAt < b.measuredAt ? -1 : a.measuredAt > b.measuredAt ? 1 : 0);
    for (const r of sorted) {
      const key = vehicleKey(r.tenantId, r.vehicleId);
      let state = states.get(key);
      if (!state) states.set(key, state = { fields: {}, measuredAt: r.measuredAt, tenantId: r.tenantId, vehicleId: r.vehicleId });
      let moved = false;
      for (const field of valueFields) {
        const value = r[field];
        if (value === null) continue;
        const current = state.fields[field];
        if (current && current.at > r.measuredAt) continue;
        if (current && current.at === r.measuredAt && current.value === value) continue;
        state.fields[field] = { value, at: r.measuredAt, provider: r.provider };
        moved = true;
      }
      if (moved) {
        if (r.measuredAt > state.measuredAt) state.measuredAt = r.measuredAt;
        advanced.push(r);
        changed.add(key);
      }
    }
    for (const chunk of chunks([...changed], CHUNK)) {
      const params: unknown[] = [];
      for (const key of chunk) {
        const s = states.get(key)!;
        params.push(key, s.tenantId, s.vehicleId, JSON.stringify(s.fields), s.measuredAt, nowIso);
      }
      await t.executeQuery(this.inserts.state(chunk.length, params));
    }
    return advanced;
  }
}

const matchKey = (provider: Provider, draft: ReadingDraft): string =>
  `${provider.tenantId}\n${provider.id}\n${draft.vehicle.providerVehicleId ?? ''}\n${draft.vehicle.vin ?? ''}`;

export const vehicleKey = (tenantId: string, vehicleId: string): string => `${tenantId}/${vehicleId}`;

function hash(text: string): string {
  return cryptoHash('sha256', text, 'base64url').slice(0, 32);
}

/** The identity of a reading: same vehicle, provider, measurement instant and values = the same reading. */
function readingKey(r: NormalisedReading): string {
  let text = `${r.tenantId}\n${r.vehicleId}\n${r.provider}\n${r.measuredAt}`;
  for (const f of valueFields) text += `\n${r[f] === null ? '' : String(r[f])}`;
  return hash(text);
}

const bit = (v: boolean | null): number | null => v === null ? null : v ? 1 : 0;

const readingColumns = [
  'reading_key', 'tenant_id', 'vehicle_id', 'provider', 'measured_at', 'received_at', 'soc_percent', 'range_km', 'odometer_km',
  'lat', 'lon', 'speed_kmh', 'plugged_in', 'charging', 'charge_energy_added_kwh', 'raw_id',
] as const satisfies readonly (keyof TelematicsTables['telematics_reading'])[];

/** One flat parameter list for a multi-row insert, in `readingColumns` order. */
function readingParams(chunk: readonly PendingReading[]): unknown[] {
  const out = new Array<unknown>(chunk.length * readingColumns.length);
  let i = 0;
  for (const p of chunk) {
    const r = p.reading;
    out[i++] = p.key; out[i++] = r.tenantId; out[i++] = r.vehicleId; out[i++] = r.provider; out[i++] = r.measuredAt; out[i++] = r.receivedAt;
    out[i++] = r.socPercent; out[i++] = r.rangeKm; out[i++] = r.odometerKm; out[i++] = r.lat; out[i++] = r.lon; out[i++] = r.speedKmh;
    out[i++] = bit(r.pluggedIn); out[i++] = bit(r.charging); out[i++] = r.chargeEnergyAddedKwh; out[i++] = p.rawId;
  }
  return out;
}

/**
 * The hot inserts as prepared SQL text, one per row count (cached), instead of building a query tree for every
 * batch: at tens of thousands of readings a second the query builder was a fifth of the cost. Same SQL on both
 * engines except the placeholder style.
 */
class HotInserts {
  private readonly cache = new Map<string, CompiledQuery>();
  readonly postgres: boolean;
  private readingOneSql: string | null = null;
  constructor(postgres: boolean) { this.postgres = postgres; }

  /** SQLite: one reading per run; `changes` says whether it was new. */
  readingOne(): string {
    return this.readingOneSql ??= `insert into telematics_reading (${readingColumns.join(', ')}) values (${readingColumns.map(() => '?').join(', ')}) on conflict (tenant_id, vehicle_id, measured_at, reading_key) do nothing`;
  }

  raw(rows: number, params: unknown[]): CompiledQuery {
    return this.build('raw', rows, params, 'telematics_raw', ['raw_id', 'provider', 'received_at', 'payload'], 'on conflict (received_at, raw_id) do nothing');
  }

  state(rows: number, params: unknown[]): CompiledQuery {
    return this.build('state', rows, params, 'telematics_vehicle_state', ['vehicle_key', 'tenant_id', 'vehicle_id', 'fields', 'measured_at', 'updated_at'],
      'on conflict (vehicle_key) do update set fields = excluded.fields, measured_at = excluded.measured_at, updated_at = excluded.updated_at');
  }

  reading(rows: number, params: unknown[]): CompiledQuery {
    return this.build('reading', rows, params, 'telematics_reading', readingColumns, 'on conflict (tenant_id, vehicle_id, measured_at, reading_key) do nothing returning reading_key');
  }

  private build(name: string, rows: number, params: unknown[], table: string, columns: readonly string[], tail: string): CompiledQuery {
    const key = `${name}/${rows}`;
    let text = this.cache.get(key)?.sql;
    if (!text) {
      let n = 0;
      const tuple = () => `(${columns.map(() => this.postgres ? `$${++n}` : '?').join(', ')})`;
      text = `insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: rows }, tuple).join(', ')} ${tail}`;
      this.cache.set(key, CompiledQuery.raw(text, []));
    }
    return CompiledQuery.raw(text, params);
  }
}

export function fromRow(row: TelematicsTables['telematics_reading']): NormalisedReading {
  const b = (v: number | null) => v === null ? null : v === 1;
  return {
    tenantId: row.tenant_id, vehicleId: row.vehicle_id, provider: row.provider, measuredAt: row.measured_at, receivedAt: row.received_at,
    socPercent: row.soc_percent, rangeKm: row.range_km, odometerKm: row.odometer_km, lat: row.lat, lon: row.lon, speedKmh: row.speed_kmh,
    pluggedIn: b(row.plugged_in), charging: b(row.charging), chargeEnergyAddedKwh: row.charge_energy_added_kwh,
  };
}

function toEvent(r: NormalisedReading): VehicleReading {
  return {
    type: 'VehicleReading', at: r.measuredAt, receivedAt: r.receivedAt, tenantId: r.tenantId, vehicleId: r.vehicleId, provider: r.provider,
    socPercent: r.socPercent, rangeKm: r.rangeKm, odometerKm: r.odometerKm, lat: r.lat, lon: r.lon, speedKmh: r.speedKmh,
    pluggedIn: r.pluggedIn, charging: r.charging, chargeEnergyAddedKwh: r.chargeEnergyAddedKwh,
  };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function dedupeBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((i) => { const k = key(i); if (seen.has(k)) return false; seen.add(k); return true; });
}
