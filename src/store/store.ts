import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { Migrator, type Migration as KyselyMigration } from 'kysely/migration';
import pg from 'pg';
import type { Logger } from '../log.ts';
import { dialectFor, type Dialect } from './dialect.ts';
import { openSqlite } from './sqlite-database.ts';
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
   * the message log. Same effect as a multi-row insert with ON CONFLICT DO NOTHING.
   */
  insertRows(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void>;
  close(): Promise<void>;
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
    store = { dialect: dialectFor('postgres'), db, location: redactUrl(options.databaseUrl), close: () => db.destroy(), insertRows: postgresInsertRows(pool) };
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = path.join(options.dataDir, 'voltyard.sqlite');
    const { database, raw } = openSqlite(file);
    const db = new Kysely<object>({ dialect: new SqliteDialect({ database }) });
    store = { dialect: dialectFor('sqlite'), db, location: file, close: () => db.destroy(), insertRows: sqliteInsertRows(raw, db) };
  }
  try {
    await migrate(store, options.migrations ?? allMigrations, log);
  } catch (err) {
    await store.close();
    throw err;
  }
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

/**
 * SQLite: one prepared single-row insert run for every row inside one transaction — no SQL is built per batch. When
 * a Kysely transaction is open on the connection (it spans awaits), the rows go through Kysely instead, inside it.
 */
function sqliteInsertRows(raw: DatabaseSync, db: Kysely<object>) {
  const statements = new Map<string, StatementSync>();
  return async (table: string, columns: readonly string[], rows: readonly (readonly unknown[])[]): Promise<void> => {
    if (rows.length === 0) return;
    const key = `${table}(${columns.join(',')})`;
    let stmt = statements.get(key);
    if (!stmt) {
      stmt = raw.prepare(`insert into ${identifier(table)} (${columns.map(identifier).join(', ')}) values (${columns.map(() => '?').join(', ')}) on conflict do nothing`);
      statements.set(key, stmt);
    }
    if (raw.isTransaction) {
      await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) values ${sql.join(rows.map((r) => sql`(${sql.join(r)})`))} on conflict do nothing`.execute(db);
      return;
    }
    raw.exec('BEGIN');
    try {
      for (const row of rows) stmt.run(...(row as SQLInputValue[]));
      raw.exec('COMMIT');
    } catch (err) {
      raw.exec('ROLLBACK');
      throw err;
    }
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
