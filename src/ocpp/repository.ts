import { CompiledQuery, type Compilable } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Logger } from '../log.ts';
import { BatchWriter } from './batch.ts';
import { expandMeterValue, type MeterValueRow } from './meter-values.ts';
import type { ConnectorRow, EvseConnectorRow, MeterSampleRow, MessageLogRow, NewTransactionRow, OcppTables, StationRow, TransactionEventRow, TransactionRow } from './migrations.ts';

/** The central system's persistence: everything it stores goes through here, on SQLite and PostgreSQL alike. */
export interface OcppRepository {
  station(id: string): Promise<StationRow | null>;
  stations(page: { limit: number; offset: number }): Promise<{ items: StationRow[]; total: number }>;
  createStation(row: Pick<StationRow, 'id' | 'registration' | 'security_profile' | 'password_hash' | 'created_at'>): Promise<void>;
  /** Stations waiting for an operator (registration 'pending'). */
  pendingStations(): Promise<number>;
  updateStation(id: string, patch: Partial<Omit<StationRow, 'id' | 'created_at'>>): Promise<void>;
  /** Heartbeats: last seen, written with the batched writes (on SQLite, by the writer thread). */
  touchStation(id: string, lastSeenAt: string): Promise<void>;
  deleteStation(id: string): Promise<boolean>;
  connectors(stationIds: readonly string[]): Promise<ConnectorRow[]>;
  /**
   * Stores a connector's status unless a newer one (by the station's timestamp) is known: `late`. A repeat of the
   * current status writes nothing: `unchanged` (most StatusNotifications are repeats, and each write is a commit).
   */
  /** Synchronous when nothing needs writing (a repeat or a late status of a connector already read): the hot path. */
  putConnectorStatus(row: ConnectorRow): StatusOutcome | Promise<StatusOutcome>;
  /** Forgets what this process remembers of a station's connectors (it may have been served elsewhere meanwhile). */
  forgetConnectors(stationId: string): void;
  /**
   * OCPP 2.0.1: one connector of an EVSE, unless a newer status is known (`late`); a repeat of its status writes
   * nothing (`unchanged`). `connectors` are the EVSE's connectors after a change.
   */
  /** Synchronous, like putConnectorStatus, when nothing needs writing; the EVSE's connectors only when it changed. */
  putEvseConnectorStatus(row: EvseConnectorRow): EvseStatusPut | Promise<EvseStatusPut>;

  transaction(id: number): Promise<TransactionRow | null>;
  transactionByStart(stationId: string, connectorId: number, startedAt: string): Promise<TransactionRow | null>;
  transactionByReportedId(stationId: string, reportedId: number): Promise<TransactionRow | null>;
  openTransactions(stationId: string): Promise<TransactionRow[]>;
  activeTransactionForTag(idTag: string): Promise<TransactionRow | null>;
  transactions(filter: { stationId?: string; active?: boolean; limit: number; offset: number }): Promise<{ items: TransactionRow[]; total: number }>;
  insertTransaction(row: NewTransactionRow): Promise<TransactionRow>;
  stopTransaction(id: number, stop: Pick<TransactionRow, 'stopped_at' | 'meter_stop_wh' | 'stop_reason' | 'stop_id_tag' | 'energy_kwh'>): Promise<void>;
  /** OCPP 2.0.1: a transaction by the station's own id. */
  transactionByStationTxId(stationId: string, stationTxId: string): Promise<TransactionRow | null>;
  updateTransaction(id: number, patch: Partial<Omit<TransactionRow, 'id' | 'station_id' | 'created_at'>>): Promise<void>;
  /** The open transaction on an EVSE (connector in 1.6), newest first. */
  openTransactionOnEvse(stationId: string, evseId: number): Promise<TransactionRow | null>;
  /** Records one TransactionEvent; false when that (transaction, seqNo) was recorded before: a repeat. */
  recordTransactionEvent(row: TransactionEventRow): Promise<boolean>;
  /**
   * Applies what a TransactionEvent changed on its transaction and records the event, in one transaction: after a
   * crash either both are stored or neither (and the station's resend applies it again).
   */
  applyTransactionEvent(id: number, patch: Partial<Omit<TransactionRow, 'id' | 'station_id' | 'created_at'>>, event: TransactionEventRow): Promise<void>;
  transactionEventSeen(stationId: string, stationTxId: string, seqNo: number): Promise<boolean>;
  transactionEvents(stationId: string, stationTxId: string): Promise<TransactionEventRow[]>;
  /** The highest cumulative import register stored for a transaction, in kWh (outlet, all phases). */
  latestEnergyKwh(transactionId: number): Promise<number | null>;

  /** Resolves once the instants are stored (group commit). */
  addMeterValues(rows: readonly MeterValueRow[]): Promise<void>;
  samples(filter: { transactionId: number; limit: number }): Promise<MeterSampleRow[]>;
  latestSampleAt(stationId: string, connectorId: number): Promise<string | null>;
  logMessage(row: Omit<MessageLogRow, 'id'>): void;
  messages(filter: { stationId: string; limit: number; beforeId?: number }): Promise<MessageLogRow[]>;
  pruneMessages(olderThan: string): Promise<number>;
  flush(): Promise<void>;
}

const meterValueColumns = ['station_id', 'connector_id', 'transaction_id', 'sampled_at', 'kinds', 'samples'] as const satisfies readonly (keyof MeterValueRow)[];
const messageColumns = ['station_id', 'direction', 'at', 'frame'] as const satisfies readonly (keyof MessageLogRow)[];

export function ocppRepository(store: Store, logger: Logger): OcppRepository {
  const db = store.db.withTables<OcppTables>();
  // The status each connector is in, as stored: repeats are answered from here without a write. Its timestamp is the
  // newest seen (a repeat moves it on without a write), so a late notification is told apart without a read.
  const connectorCache = stationCache<ConnectorRow | null>();
  const evseConnectorCache = stationCache<EvseConnectorRow | null>();
  /** Writes go to the store's writer (on SQLite, its own thread, group-committed); resolves once committed. */
  const write = async (query: Compilable) => (await store.write([query.compile()]))[0];
  const shaped = shapeCache();
  const samples = new BatchWriter<MeterValueRow>({
    // A charger waits for its MeterValues answer: a few ms more buys larger batches under load. The instant key starts
    // with the station, so thousands of stations' rows land on as many index pages, and a commit writes every page it
    // touched: larger batches share pages. But a batch that waits for all of them makes the stations take turns with
    // the writer (see BatchWriter), so under load 1,000 instants start a write at once, up to four in flight; a
    // backlog goes out in batches of up to 20,000. bench:ocpp, 5,000 stations: ~21k -> ~25k msg/s against 2,000-row
    // batches.
    name: 'meter samples', size: 20_000, logger, delayMs: 3, inFlight: 4, eagerAt: 1000,
    write: (rows) => store.insertRows('ocpp_meter_values', meterValueColumns, rows.map((r) => meterValueColumns.map((c) => r[c]))),
  });
  const messages = new BatchWriter<Omit<MessageLogRow, 'id'>>({
    name: 'message log', size: 2000, logger, delayMs: 20,
    write: (rows) => store.insertRows('ocpp_message_log', messageColumns, rows.map((r) => messageColumns.map((c) => r[c]))),
  });

  return {
    station: async (id) => (await db.selectFrom('ocpp_stations').selectAll().where('id', '=', id).executeTakeFirst()) ?? null,
    async stations({ limit, offset }) {
      const items = await db.selectFrom('ocpp_stations').selectAll().orderBy('id').limit(limit).offset(offset).execute();
      const { n } = await db.selectFrom('ocpp_stations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items, total: Number(n) };
    },
    async createStation(row) {
      await db.insertInto('ocpp_stations').values({
        ...row, vendor: null, model: null, serial_number: null, firmware_version: null, protocol: null, online: 0,
        last_seen_at: null, last_boot_at: null, firmware_status: null, diagnostics_status: null,
      }).onConflict((oc) => oc.column('id').doNothing()).execute();
    },
    async pendingStations() {
      const { n } = await db.selectFrom('ocpp_stations').select((eb) => eb.fn.countAll<number>().as('n')).where('registration', '=', 'pending').executeTakeFirstOrThrow();
      return Number(n);
    },
    async updateStation(id, patch) {
      if (Object.keys(patch).length === 0) return;
      await db.updateTable('ocpp_stations').set(patch).where('id', '=', id).execute();
    },
    async touchStation(id, lastSeenAt) {
      await write(db.updateTable('ocpp_stations').set({ last_seen_at: lastSeenAt }).where('id', '=', id));
    },
    async deleteStation(id) {
      const r = await db.deleteFrom('ocpp_stations').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    connectors: async (ids) => ids.length === 0 ? [] :
      db.selectFrom('ocpp_connectors').selectAll().where('station_id', 'in', ids).orderBy('station_id').orderBy('connector_id').execute(),
    putConnectorStatus: (row) => putStatus(connectorCache.of(row.station_id), `${row.connector_id}`, row, {
      load: () => db.selectFrom('ocpp_connectors').selectAll().where('station_id', '=', row.station_id).where('connector_id', '=', row.connector_id).executeTakeFirst(),
      same: (known) => known.status === row.status && known.error_code === row.error_code && known.info === row.info && known.vendor_error_code === row.vendor_error_code,
      upsert: async () => (await write(db.insertInto('ocpp_connectors').values(row)
        .onConflict((oc) => oc.columns(['station_id', 'connector_id']).doUpdateSet({
          status: row.status, error_code: row.error_code, info: row.info, vendor_error_code: row.vendor_error_code, status_at: row.status_at,
        }).where('ocpp_connectors.status_at', '<=', row.status_at)))).changes,
    }),
    forgetConnectors(stationId) {
      connectorCache.forget(stationId);
      evseConnectorCache.forget(stationId);
    },

    putEvseConnectorStatus(row) {
      const outcome = putStatus(evseConnectorCache.of(row.station_id), `${row.evse_id}/${row.connector_id}`, row, {
        load: () => db.selectFrom('ocpp_evse_connectors').selectAll().where('station_id', '=', row.station_id)
          .where('evse_id', '=', row.evse_id).where('connector_id', '=', row.connector_id).executeTakeFirst(),
        same: (known) => known.status === row.status,
        upsert: async () => (await write(db.insertInto('ocpp_evse_connectors').values(row)
          .onConflict((oc) => oc.columns(['station_id', 'evse_id', 'connector_id']).doUpdateSet({ status: row.status, status_at: row.status_at })
            .where('ocpp_evse_connectors.status_at', '<=', row.status_at)))).changes,
      });
      // The EVSE's connectors only after a change: a repeat or a late status stays synchronous when it was cached.
      const settle = (o: StatusOutcome): EvseStatusPut | Promise<EvseStatusPut> => o !== 'changed' ? { outcome: o, connectors: [] }
        : db.selectFrom('ocpp_evse_connectors').selectAll().where('station_id', '=', row.station_id).where('evse_id', '=', row.evse_id)
          .orderBy('connector_id').execute().then((connectors) => ({ outcome: o, connectors }));
      return outcome instanceof Promise ? outcome.then(settle) : settle(outcome);
    },

    transaction: async (id) => (await db.selectFrom('ocpp_transactions').selectAll().where('id', '=', id).executeTakeFirst()) ?? null,
    transactionByStart: async (stationId, connectorId, startedAt) => (await db.selectFrom('ocpp_transactions').selectAll()
      .where('station_id', '=', stationId).where('connector_id', '=', connectorId).where('started_at', '=', startedAt).executeTakeFirst()) ?? null,
    transactionByReportedId: async (stationId, reportedId) => (await db.selectFrom('ocpp_transactions').selectAll()
      .where('station_id', '=', stationId).where('reported_id', '=', reportedId).executeTakeFirst()) ?? null,
    openTransactions: (stationId) => db.selectFrom('ocpp_transactions').selectAll()
      .where('station_id', '=', stationId).where('stopped_at', 'is', null).orderBy('id').execute(),
    activeTransactionForTag: async (idTag) => (await db.selectFrom('ocpp_transactions').selectAll()
      .where('id_tag', '=', idTag).where('stopped_at', 'is', null).where('known', '=', 1).executeTakeFirst()) ?? null,
    async transactions({ stationId, active, limit, offset }) {
      let q = db.selectFrom('ocpp_transactions');
      if (stationId) q = q.where('station_id', '=', stationId);
      if (active === true) q = q.where('stopped_at', 'is', null);
      if (active === false) q = q.where('stopped_at', 'is not', null);
      const items = await q.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items, total: Number(n) };
    },
    insertTransaction: async (row) => (await write(db.insertInto('ocpp_transactions').values(row).returningAll())).rows[0] as unknown as TransactionRow,
    async stopTransaction(id, stop) {
      await write(db.updateTable('ocpp_transactions').set(stop).where('id', '=', id));
    },

    transactionByStationTxId: async (stationId, stationTxId) => (await db.selectFrom('ocpp_transactions').selectAll()
      .where('station_id', '=', stationId).where('station_tx_id', '=', stationTxId).executeTakeFirst()) ?? null,
    async updateTransaction(id, patch) {
      if (Object.keys(patch).length === 0) return;
      await write(db.updateTable('ocpp_transactions').set(patch).where('id', '=', id));
    },
    openTransactionOnEvse: async (stationId, evseId) => (await db.selectFrom('ocpp_transactions').selectAll()
      .where('station_id', '=', stationId).where('connector_id', '=', evseId).where('stopped_at', 'is', null).orderBy('id', 'desc').executeTakeFirst()) ?? null,
    async applyTransactionEvent(id, patch, event) {
      // Every periodic TransactionEvent comes here: the two statements' SQL is built once per set of columns.
      const record = shaped(`event:${Object.keys(event).join(',')}`, Object.values(event),
        () => db.insertInto('ocpp_transaction_events').values(event).onConflict((oc) => oc.doNothing()).compile());
      const patchKeys = Object.keys(patch);
      await store.write(patchKeys.length === 0 ? [record] : [shaped(`tx:${patchKeys.join(',')}`, [...Object.values(patch), id],
        () => db.updateTable('ocpp_transactions').set(patch).where('id', '=', id).compile()), record]);
    },
    async recordTransactionEvent(row) {
      return (await write(db.insertInto('ocpp_transaction_events').values(row).onConflict((oc) => oc.doNothing()))).changes > 0;
    },
    transactionEventSeen: async (stationId, stationTxId, seqNo) => (await db.selectFrom('ocpp_transaction_events').select('seq_no')
      .where('station_id', '=', stationId).where('station_tx_id', '=', stationTxId).where('seq_no', '=', seqNo).executeTakeFirst()) !== undefined,
    transactionEvents: (stationId, stationTxId) => db.selectFrom('ocpp_transaction_events').selectAll()
      .where('station_id', '=', stationId).where('station_tx_id', '=', stationTxId).orderBy('seq_no').execute(),
    async latestEnergyKwh(transactionId) {
      await samples.flush();
      const rows = await db.selectFrom('ocpp_meter_values').selectAll().where('transaction_id', '=', transactionId).execute();
      let best: number | null = null;
      for (const row of rows) {
        for (const s of expandMeterValue(row)) {
          if (s.measurand === 'Energy.Active.Import.Register' && s.phase === '' && s.location === 'Outlet' && (best === null || s.value > best)) best = s.value;
        }
      }
      return best;
    },

    addMeterValues: (rows) => samples.addAll(rows),
    samples: async ({ transactionId, limit }) => {
      await samples.flush();
      const rows = await db.selectFrom('ocpp_meter_values').selectAll().where('transaction_id', '=', transactionId).orderBy('sampled_at').limit(limit).execute();
      return rows.flatMap(expandMeterValue).slice(0, limit);
    },
    async latestSampleAt(stationId, connectorId) {
      await samples.flush();
      const row = await db.selectFrom('ocpp_meter_values').select((eb) => eb.fn.max('sampled_at').as('at'))
        .where('station_id', '=', stationId).where('connector_id', '=', connectorId).executeTakeFirst();
      return (row?.at as string | null | undefined) ?? null;
    },
    // The log is a record, not a promise to a charger: a failed write is logged by the writer and not awaited.
    logMessage: (row) => { messages.push(row); },
    async messages({ stationId, limit, beforeId }) {
      await messages.flush();
      let q = db.selectFrom('ocpp_message_log').selectAll().where('station_id', '=', stationId);
      if (beforeId !== undefined) q = q.where('id', '<', beforeId);
      return q.orderBy('id', 'desc').limit(limit).execute();
    },
    async pruneMessages(olderThan) {
      const r = await db.deleteFrom('ocpp_message_log').where('at', '<', olderThan).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    flush: async () => { await Promise.all([samples.flush(), messages.flush()]); },
  };
}

export type StatusOutcome = 'changed' | 'unchanged' | 'late';
export interface EvseStatusPut { readonly outcome: StatusOutcome; readonly connectors: EvseConnectorRow[] }

/**
 * A connector status put, the same for both OCPP versions: a repeat of the known status moves its timestamp on without
 * a write (so a later late one is told apart without a read), an older one is late, anything else is written unless
 * the stored status is newer. The cache holds what is stored; it is read from the store once per connector.
 */
function putStatus<R extends { status_at: string }>(
  cache: Map<string, R | null>, key: string, row: R,
  io: { load(): Promise<R | undefined>; same(known: R): boolean; upsert(): Promise<number> },
): StatusOutcome | Promise<StatusOutcome> {
  const known = cache.get(key);
  if (known !== undefined) return putKnownStatus(cache, key, row, known, io);
  return io.load().then((loaded) => {
    cache.set(key, loaded ?? null);
    return putKnownStatus(cache, key, row, loaded ?? null, io);
  });
}

function putKnownStatus<R extends { status_at: string }>(
  cache: Map<string, R | null>, key: string, row: R, known: R | null, io: { same(known: R): boolean; upsert(): Promise<number> },
): StatusOutcome | Promise<StatusOutcome> {
  if (known && known.status_at > row.status_at) return 'late';
  if (known && io.same(known)) {
    known.status_at = row.status_at;
    return 'unchanged';
  }
  return io.upsert().then((changes) => {
    if (changes === 0) {
      cache.delete(key);
      return 'late';
    }
    cache.set(key, { ...row });
    return 'changed';
  });
}

/**
 * Statements whose shape (table and columns) repeats with new values: Kysely builds the SQL the first time, and the
 * SQL is kept when Kysely's parameters are exactly the values in the order given (checked, so a Kysely that orders
 * them otherwise only costs the building). Building a query costs more than running it on the writer thread.
 */
function shapeCache() {
  const sqlByShape = new Map<string, string | null>();
  return (shape: string, values: readonly unknown[], build: () => CompiledQuery): CompiledQuery => {
    const sql = sqlByShape.get(shape);
    if (sql) return CompiledQuery.raw(sql, values as unknown[]);
    const compiled = build();
    if (sql === undefined) {
      const same = compiled.parameters.length === values.length && compiled.parameters.every((p, k) => p === values[k]);
      sqlByShape.set(shape, same ? compiled.sql : null);
    }
    return compiled;
  };
}

/** A memo per station, forgotten as a whole when the station reconnects. */
function stationCache<V>() {
  const byStation = new Map<string, Map<string, V>>();
  return {
    of(stationId: string): Map<string, V> {
      let m = byStation.get(stationId);
      if (!m) byStation.set(stationId, m = new Map());
      return m;
    },
    forget(stationId: string): void { byStation.delete(stationId); },
  };
}
