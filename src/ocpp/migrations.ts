import type { Generated, Kysely } from 'kysely';
import type { Migration } from '../store/migration.ts';
import { meterValueRow, type MeterValueRow } from './meter-values.ts';

/** The central system's tables: the station registry, connectors, transactions, meter samples and the message log. */
export const ocppMigrations: readonly Migration[] = [
  {
    name: '0101_ocpp_stations',
    async up(db: Kysely<unknown>, dialect) {
      await db.schema.createTable('ocpp_stations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // accepted: registered by an operator (or by the accept policy); pending: seen, waiting for an operator.
        .addColumn('registration', 'text', (c) => c.notNull())
        .addColumn('security_profile', 'integer', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('vendor', 'text')
        .addColumn('model', 'text')
        .addColumn('serial_number', 'text')
        .addColumn('firmware_version', 'text')
        .addColumn('protocol', 'text')
        .addColumn('online', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_seen_at', 'text')
        .addColumn('last_boot_at', 'text')
        .addColumn('firmware_status', 'text')
        .addColumn('diagnostics_status', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('ocpp_connectors')
        .addColumn('station_id', 'text', (c) => c.notNull().references('ocpp_stations.id').onDelete('cascade'))
        .addColumn('connector_id', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('info', 'text')
        .addColumn('vendor_error_code', 'text')
        // The station's own timestamp of this status: a late StatusNotification never overwrites a newer one.
        .addColumn('status_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ocpp_connectors_pk', ['station_id', 'connector_id'])
        .execute();

      await dialect.addIdColumn(db.schema.createTable('ocpp_transactions'), 'id')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('connector_id', 'integer')
        .addColumn('id_tag', 'text')
        .addColumn('id_tag_status', 'text')
        .addColumn('started_at', 'text')
        .addColumn('meter_start_wh', 'double precision')
        .addColumn('stopped_at', 'text')
        .addColumn('meter_stop_wh', 'double precision')
        .addColumn('stop_reason', 'text')
        .addColumn('stop_id_tag', 'text')
        .addColumn('energy_kwh', 'double precision')
        // A StopTransaction for a transaction we never saw start: the station's id, kept apart from our own ids.
        .addColumn('reported_id', 'integer')
        .addColumn('known', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      // A retried StartTransaction carries the same connector and timestamp: it must find the first one.
      await db.schema.createIndex('ocpp_transactions_start').on('ocpp_transactions').columns(['station_id', 'connector_id', 'started_at']).unique().execute();
      await db.schema.createIndex('ocpp_transactions_reported').on('ocpp_transactions').columns(['station_id', 'reported_id']).unique().execute();
      await db.schema.createIndex('ocpp_transactions_open').on('ocpp_transactions').columns(['station_id', 'stopped_at']).execute();

      await db.schema.createTable('ocpp_meter_samples')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('connector_id', 'integer', (c) => c.notNull())
        .addColumn('transaction_id', 'integer')
        .addColumn('sampled_at', 'text', (c) => c.notNull())
        .addColumn('measurand', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('unit', 'text', (c) => c.notNull())
        .execute();
      // Replayed MeterValues insert nothing new.
      await db.schema.createIndex('ocpp_meter_samples_key').on('ocpp_meter_samples')
        .columns(['station_id', 'connector_id', 'sampled_at', 'measurand', 'phase', 'location', 'context']).unique().execute();
      await db.schema.createIndex('ocpp_meter_samples_tx').on('ocpp_meter_samples').columns(['transaction_id']).execute();

      await dialect.addIdColumn(db.schema.createTable('ocpp_message_log'), 'id')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('frame', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ocpp_message_log_at').on('ocpp_message_log').columns(['at']).execute();
      await db.schema.createIndex('ocpp_message_log_station').on('ocpp_message_log').columns(['station_id', 'id']).execute();
    },
  },
  {
    name: '0102_ocpp_v201_transactions',
    async up(db: Kysely<unknown>) {
      // OCPP 2.0.1 stations name their transactions with strings (up to 36 characters); ours stay integers.
      // SQLite adds one column per ALTER TABLE.
      const columns: [string, 'text' | 'integer' | 'double precision'][] = [
        ['station_tx_id', 'text'], ['last_seq_no', 'integer'], ['charging_state', 'text'], ['id_token_type', 'text'],
        ['ev_energy_request_kwh', 'double precision'], ['ev_departure_at', 'text'],
      ];
      for (const [name, type] of columns) await db.schema.alterTable('ocpp_transactions').addColumn(name, type).execute();
      await db.schema.createIndex('ocpp_transactions_station_tx').on('ocpp_transactions').columns(['station_id', 'station_tx_id']).unique().execute();

      // Every TransactionEvent applied, by the station's (transaction id, seqNo): a repeated one is recognised, a
      // missing seqNo can be seen, and a late one is told apart from a new one.
      await db.schema.createTable('ocpp_transaction_events')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('station_tx_id', 'text', (c) => c.notNull())
        .addColumn('seq_no', 'integer', (c) => c.notNull())
        .addColumn('transaction_id', 'integer', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('trigger_reason', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('offline', 'integer', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ocpp_transaction_events_pk', ['station_id', 'station_tx_id', 'seq_no'])
        .execute();

      // 2.0.1 reports status per connector of an EVSE (a DC EVSE may have CCS and CHAdeMO); ocpp_connectors keeps
      // the EVSE's status (1.6's connector), derived from these.
      await db.schema.createTable('ocpp_evse_connectors')
        .addColumn('station_id', 'text', (c) => c.notNull().references('ocpp_stations.id').onDelete('cascade'))
        .addColumn('evse_id', 'integer', (c) => c.notNull())
        .addColumn('connector_id', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ocpp_evse_connectors_pk', ['station_id', 'evse_id', 'connector_id'])
        .execute();
    },
  },
  {
    name: '0103_ocpp_meter_values',
    async up(db: Kysely<unknown>) {
      // One row per reported instant instead of one per sampled value (why: meter-values.ts).
      await db.schema.createTable('ocpp_meter_values')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('connector_id', 'integer', (c) => c.notNull())
        .addColumn('transaction_id', 'integer')
        .addColumn('sampled_at', 'text', (c) => c.notNull())
        .addColumn('kinds', 'text', (c) => c.notNull())
        .addColumn('samples', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ocpp_meter_values_key').on('ocpp_meter_values')
        .columns(['station_id', 'connector_id', 'sampled_at', 'kinds']).unique().execute();
      await db.schema.createIndex('ocpp_meter_values_tx').on('ocpp_meter_values').columns(['transaction_id']).execute();
      await copySamplesToInstants(db as Kysely<LegacySampleTables>);
      await db.schema.dropTable('ocpp_meter_samples').execute();
    },
  },
];

interface LegacySampleTables { ocpp_meter_samples: MeterSampleRow; ocpp_meter_values: MeterValueRow }

/**
 * Stored samples become instants: the rows of one station, EVSE, timestamp and transaction. Read in key order a page
 * at a time; a page ends at an instant's end (the instant a page cuts is read again with the next). Values that two
 * messages reported at one timestamp become one instant here, so a charger replaying one of those messages after
 * the upgrade stores its values once more (the old rows no longer say which message they came from).
 */
async function copySamplesToInstants(db: Kysely<LegacySampleTables>): Promise<void> {
  const page = 20_000;
  const same = (a: MeterSampleRow, b: MeterSampleRow) => a.station_id === b.station_id && Number(a.connector_id) === Number(b.connector_id) && a.sampled_at === b.sampled_at;
  let after: MeterSampleRow | null = null;
  for (;;) {
    let q = db.selectFrom('ocpp_meter_samples').selectAll().orderBy('station_id').orderBy('connector_id').orderBy('sampled_at').limit(page);
    if (after) {
      const a: MeterSampleRow = after;
      q = q.where((eb) => eb(eb.refTuple('station_id', 'connector_id', 'sampled_at'), '>', eb.tuple(a.station_id, a.connector_id, a.sampled_at)));
    }
    const rows = await q.execute();
    let end = rows.length;
    if (rows.length === page) while (end > 0 && same(rows[end - 1], rows[rows.length - 1])) end--;
    if (end === 0) end = rows.length; // one instant of more values than a page: take it whole
    const out: MeterValueRow[] = [];
    for (let k = 0; k < end;) {
      let m = k;
      while (m < end && same(rows[m], rows[k])) m++;
      const byTx = new Map<number | null, MeterSampleRow[]>();
      for (const r of rows.slice(k, m)) {
        const tx = r.transaction_id === null ? null : Number(r.transaction_id);
        const group = byTx.get(tx);
        if (group) group.push(r);
        else byTx.set(tx, [r]);
      }
      for (const [tx, rs] of byTx) out.push(meterValueRow(rs[0].station_id, Number(rs[0].connector_id), tx, rs[0].sampled_at, rs.map((r) => ({ ...r, value: Number(r.value) }))));
      k = m;
    }
    for (let k = 0; k < out.length; k += 1000) {
      await db.insertInto('ocpp_meter_values').values(out.slice(k, k + 1000)).onConflict((oc) => oc.doNothing()).execute();
    }
    if (rows.length < page) break;
    after = rows[end - 1];
  }
}

export interface StationRow {
  id: string;
  registration: 'accepted' | 'pending';
  security_profile: number;
  password_hash: string | null;
  vendor: string | null;
  model: string | null;
  serial_number: string | null;
  firmware_version: string | null;
  protocol: string | null;
  online: number;
  last_seen_at: string | null;
  last_boot_at: string | null;
  firmware_status: string | null;
  diagnostics_status: string | null;
  created_at: string;
}

export interface ConnectorRow {
  station_id: string;
  connector_id: number;
  status: string;
  error_code: string | null;
  info: string | null;
  vendor_error_code: string | null;
  status_at: string;
}

export interface TransactionRow {
  id: number;
  station_id: string;
  connector_id: number | null;
  id_tag: string | null;
  id_tag_status: string | null;
  started_at: string | null;
  meter_start_wh: number | null;
  stopped_at: string | null;
  meter_stop_wh: number | null;
  stop_reason: string | null;
  stop_id_tag: string | null;
  energy_kwh: number | null;
  reported_id: number | null;
  known: number;
  protocol: string;
  created_at: string;
  /** OCPP 2.0.1: the station's own transaction id; null for 1.6, whose stations use ours. */
  station_tx_id: string | null;
  /** OCPP 2.0.1: the highest TransactionEvent seqNo applied; a lower one is late and changes no state. */
  last_seq_no: number | null;
  charging_state: string | null;
  id_token_type: string | null;
  /** What an ISO 15118 vehicle asked for (NotifyEVChargingNeeds). */
  ev_energy_request_kwh: number | null;
  ev_departure_at: string | null;
}

/** Columns a 1.6 insert may leave out (added for 2.0.1 by 0102). */
export type V201TransactionColumns = 'station_tx_id' | 'last_seq_no' | 'charging_state' | 'id_token_type' | 'ev_energy_request_kwh' | 'ev_departure_at';
export type NewTransactionRow = Omit<TransactionRow, 'id' | V201TransactionColumns> & Partial<Pick<TransactionRow, V201TransactionColumns>>;

export interface TransactionEventRow {
  station_id: string;
  station_tx_id: string;
  seq_no: number;
  transaction_id: number;
  event_type: 'Started' | 'Updated' | 'Ended';
  trigger_reason: string;
  at: string;
  offline: number;
  received_at: string;
}

export interface EvseConnectorRow {
  station_id: string;
  evse_id: number;
  connector_id: number;
  status: string;
  status_at: string;
}

export interface MeterSampleRow {
  station_id: string;
  connector_id: number;
  transaction_id: number | null;
  sampled_at: string;
  measurand: string;
  phase: string;
  location: string;
  context: string;
  value: number;
  unit: string;
}

export interface MessageLogRow {
  id: number;
  station_id: string;
  direction: 'in' | 'out';
  at: string;
  frame: string;
}

/** Type aliases, not interfaces: Kysely's withTables needs an index signature. */
export type OcppTables = {
  ocpp_stations: StationRow;
  ocpp_connectors: ConnectorRow;
  ocpp_transactions: Omit<TransactionRow, 'id'> & { id: Generated<number> };
  ocpp_meter_values: MeterValueRow;
  ocpp_message_log: Omit<MessageLogRow, 'id'> & { id: Generated<number> };
  ocpp_transaction_events: TransactionEventRow;
  ocpp_evse_connectors: EvseConnectorRow;
};
