import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../store/dialect.ts';
import type { Migration } from '../store/migration.ts';

/**
 * On SQLite a table whose primary key is its natural order is stored as that one B-tree (WITHOUT ROWID) instead of a
 * rowid table plus a key index: half the writes per row, which is what the ingestion rate depends on.
 */
function clustered<T extends string, C extends string>(table: CreateTableBuilder<T, C>, dialect: Dialect): CreateTableBuilder<T, C> {
  return dialect.name === 'sqlite' ? table.modifyEnd(sql`without rowid`) : table;
}

/** Telematics tables (03xx). Instants are ISO-8601 UTC text, booleans 0/1, JSON as text (src/store/dialect.ts). */
export const telematicsMigrations: readonly Migration[] = [
  {
    name: '0300_telematics_ingestion',
    async up(db: Kysely<unknown>, dialect: Dialect) {
      // Every distinct reading, keyed by a hash of (vehicle, provider, measured time, values): the same reading twice is
      // one row. The key leads with (tenant, vehicle, measured_at), so it is also the per-vehicle history index.
      await clustered(db.schema.createTable('telematics_reading')
        .addColumn('reading_key', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('measured_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('soc_percent', 'double precision')
        .addColumn('range_km', 'double precision')
        .addColumn('odometer_km', 'double precision')
        .addColumn('lat', 'double precision')
        .addColumn('lon', 'double precision')
        .addColumn('speed_kmh', 'double precision')
        .addColumn('plugged_in', 'integer')
        .addColumn('charging', 'integer')
        .addColumn('charge_energy_added_kwh', 'double precision')
        .addColumn('raw_id', 'text')
        .addPrimaryKeyConstraint('telematics_reading_pk', ['tenant_id', 'vehicle_id', 'measured_at', 'reading_key']), dialect)
        .execute();

      // Payloads exactly as the provider sent them, kept for the retention period so readings can be re-derived.
      // Keyed by arrival time first: inserts append and the retention sweep deletes a prefix.
      await clustered(db.schema.createTable('telematics_raw')
        .addColumn('raw_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('telematics_raw_pk', ['received_at', 'raw_id']), dialect)
        .execute();

      // Latest value of each field per vehicle with the instant it was measured: `fields` is JSON
      // {field: {value, at, provider}}, so a late reading can update only what it is newest for.
      await db.schema.createTable('telematics_vehicle_state')
        .addColumn('vehicle_key', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('fields', 'text', (c) => c.notNull())
        .addColumn('measured_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('telematics_quarantine')
        .addColumn('quarantine_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema.createIndex('telematics_quarantine_status').on('telematics_quarantine').columns(['status', 'received_at']).execute();

      await db.schema.createTable('telematics_cursor')
        .addColumn('provider', 'text', (c) => c.primaryKey())
        .addColumn('cursor', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      // Which node polls a provider: in cluster mode every node runs the same providers, but only the lease holder
      // polls, so the vendor sees one client and its rate limit is not multiplied by the node count.
      await db.schema.createTable('telematics_poll_lease')
        .addColumn('provider', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('until', 'text', (c) => c.notNull())
        .execute();

      // Webhook delivery ids already accepted: a request replayed with the same id is refused.
      await db.schema.createTable('telematics_delivery')
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('telematics_delivery_pk', ['provider', 'delivery_id'])
        .execute();

      // Provider instances; `credentials` is AES-256-GCM ciphertext (secrets.ts), never returned by the API.
      await db.schema.createTable('telematics_provider')
        .addColumn('provider_id', 'text', (c) => c.primaryKey())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('credentials', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

export type TelematicsTables = {
  telematics_reading: {
    reading_key: string; tenant_id: string; vehicle_id: string; provider: string; measured_at: string; received_at: string;
    soc_percent: number | null; range_km: number | null; odometer_km: number | null; lat: number | null; lon: number | null;
    speed_kmh: number | null; plugged_in: number | null; charging: number | null; charge_energy_added_kwh: number | null; raw_id: string | null;
  };
  telematics_raw: { raw_id: string; provider: string; received_at: string; payload: string };
  telematics_vehicle_state: { vehicle_key: string; tenant_id: string; vehicle_id: string; fields: string; measured_at: string; updated_at: string };
  telematics_quarantine: {
    quarantine_id: string; tenant_id: string; provider: string; received_at: string; reason: string; payload: string;
    status: string; attempts: number; resolved_at: string | null;
  };
  telematics_cursor: { provider: string; cursor: string | null; updated_at: string };
  telematics_delivery: { provider: string; delivery_id: string; received_at: string };
  telematics_poll_lease: { provider: string; holder: string; until: string };
  telematics_provider: { provider_id: string; tenant_id: string; kind: string; settings: string; credentials: string; enabled: number; created_at: string; updated_at: string };
};
