import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import { Migrator, type Migration as KyselyMigration } from 'kysely/migration';
import pg from 'pg';
import type { Logger } from '../log.ts';
import { dialectFor, type Dialect } from './dialect.ts';
import { openSqlite } from './sqlite-database.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import { allMigrations } from './all-migrations.ts';
import type { Migration } from './migration.ts';

/**
 * The one data-access layer. Each bounded context declares its own table types and takes a typed view with
 * `store.db.withTables<ItsTables>()`, so no context reaches into another's tables by accident.
 */
export interface Store {
  readonly dialect: Dialect;
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  readonly db: Kysely<{}>;
  /** Where the data lives, without credentials: safe to log and show. */
  readonly location: string;
  /**
   * Appends many rows to one table in one go, without building a query per batch: the hot path for meter samples and
   * the message log. Same effect as a multi-row insert with ON CONFLICT DO NOTHING. Resolves once committed.
   */
  insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
  /**
   * Runs a few write statements (compiled with `.compile()` on `db`) in order, in one transaction, and resolves with
   * what each returned once that is committed. On SQLite they run on the writer thread, grouped into one commit with
   * whatever else is being written: the main thread neither runs nor waits for them. Use it for frequent small writes
   * on hot paths; a statement that fails rolls back the whole call and rejects it.
   */
  write(queries: readonly CompiledQuery[]): Promise<WriteResult[]>;
  close(): Promise<void>;
}

export interface WriteResult {
  /** Rows of a statement with RETURNING. */
  rows: Record<string, unknown>[];
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface StoreOptions {
  databaseUrl: string | null;
  dataDir: string;
  logger: Logger;
  migrations?: readonly Migration[];
}

/** Opens SQLite under the data dir (the zero-setup default) or PostgreSQL, and brings the schema up to date. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const log = options.logger.child({ module: 'store' });
  let store: Store;
  let warmUp: (() => void) | undefined;
  if (options.databaseUrl) {
    // Integers beyond 2^31 (bigint, counts) and numerics come back as strings by default; every value we store fits
    // a double exactly, so parse them as numbers once here instead of in every query.
    const types = {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    };
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10, types });
    pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'));
    const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
    store = {
      dialect: dialectFor('postgres'), db, location: redactUrl(options.databaseUrl), close: () => db.destroy(),
      insertRows: postgresInsertRows(pool), write: postgresWrite(pool),
    };
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = path.join(options.dataDir, 'voltyard.sqlite');
    const { dialect } = openSqlite(file);
    const db = new Kysely<object>({ dialect });
    // Batched and hot-path writes go to a writer thread with its own connection to the same WAL file.
    const writer = new SqliteWriter(file, log);
    warmUp = () => writer.warmUp();
    store = {
      dialect: dialectFor('sqlite'), db, location: file,
      close: async () => { await writer.close(); await db.destroy(); },
      insertRows: sqliteInsertRows(writer),
      write: async (queries) => queries.length === 0 ? [] : writer.run({ kind: 'queries', queries: queries.map((q) => ({ sql: q.sql, parameters: q.parameters })) }),
    };
  }
  try {
    await migrate(store, options.migrations ?? allMigrations, log);
  } catch (err) {
    await store.close();
    throw err;
  }
  warmUp?.();
  log.info({ dialect: store.dialect.name, location: store.location }, 'store ready');
  return store;
}

async function migrate(store: Store, migrations: readonly Migration[], log: Logger): Promise<void> {
  const provider = {
    getMigrations: async (): Promise<Record<string, KyselyMigration>> =>
      Object.fromEntries(migrations.map((m) => [m.name, { up: (db: Kysely<unknown>) => m.up(db, store.dialect) }])),
  };
  // Each context numbers its own migrations, so a newer context's may sort before one already applied elsewhere.
  const migrator = new Migrator({ db: store.db, provider, migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock', allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) {
    if (r.status === 'Success') log.info({ migration: r.migrationName }, 'migration applied');
    if (r.status === 'Error') log.error({ migration: r.migrationName }, 'migration failed');
  }
  if (error) throw new Error(`database migration failed: ${(error as Error).message ?? String(error)}`, { cause: error });
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

const identifier = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return `"${name}"`;
};

/** SQLite: one prepared single-row insert run for every row on the writer thread, in one transaction. */
function sqliteInsertRows(writer: SqliteWriter) {
  const statements = new Map<string, string>();
  return async (table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> => {
    if (rows.length === 0) return;
    const key = `${table}(${columns.join(',')})`;
    let sql = statements.get(key);
    if (!sql) {
      sql = `insert into ${identifier(table)} (${columns.map(identifier).join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict do nothing`;
      statements.set(key, sql);
    }
    await writer.run({ kind: 'rows', sql, rows });
  };
}

/** PostgreSQL: one multi-row insert (under its 65,535 parameter limit per statement). */
function postgresInsertRows(pool: pg.Pool) {
  return async (table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> => {
    const perStatement = Math.max(1, Math.floor(60_000 / columns.length));
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
      await pool.query(`insert into ${identifier(table)} (${columns.map(identifier).join(', ')}) values ${values} on conflict do nothing`, chunk.flat());
    }
  };
}

/** PostgreSQL: the statements in one transaction on one pooled connection. */
function postgresWrite(pool: pg.Pool) {
  return async (queries: readonly CompiledQuery[]): Promise<WriteResult[]> => {
    if (queries.length === 0) return [];
    const client = await pool.connect();
    try {
      if (queries.length === 1) {
        const r = await client.query(queries[0].sql, queries[0].parameters as unknown[]);
        return [{ rows: r.rows, changes: r.rowCount ?? 0 }];
      }
      await client.query('begin');
      const results: WriteResult[] = [];
      try {
        for (const q of queries) {
          const r = await client.query(q.sql, q.parameters as unknown[]);
          results.push({ rows: r.rows, changes: r.rowCount ?? 0 });
        }
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      }
      return results;
    } finally {
      client.release();
    }
  };
}
