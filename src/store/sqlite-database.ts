import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult, type TransactionSettings } from 'kysely';

export function openSqliteConnection(file: string): DatabaseSync {
  // No busy timeout at open: each connection sets its own below.
  return new DatabaseSync(file, { timeout: 0 });
}

/**
 * The settings every connection to the file uses. `busyTimeoutMs` is how long SQLite itself may block this thread
 * waiting for the write lock: the writer thread may wait; the main thread waits asynchronously instead (0 here, and
 * the driver below retries), so a commit running in the writer never stalls the event loop.
 */
export function configureSqlite(raw: DatabaseSync, busyTimeoutMs: number): void {
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes, which is what an
  // edge box needs (a power cut may lose the last few hundred ms, never corrupt the file).
  raw.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))};`);
  // Batched writes touch many B-tree pages at once (one per vehicle in the telematics history). A 64 MiB page cache
  // (default 2 MiB) keeps them between commits, and checkpointing every 10,000 WAL pages (default 1,000) copies each
  // hot page into the database file once per many commits instead of nearly every one; the WAL is cut back to
  // 64 MiB after a checkpoint so it does not keep its peak size.
  raw.exec('PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;');
}

/**
 * Prepared statements of one connection by SQL text. Bounded: SQL that differs per batch size (multi-row inserts)
 * would otherwise grow it without end.
 */
export function statementCache<T>(raw: DatabaseSync, wrap: (stmt: StatementSync) => T): (sql: string) => T {
  const cache = new Map<string, T>();
  return (sql) => {
    let entry = cache.get(sql);
    if (entry === undefined) {
      entry = wrap(raw.prepare(sql));
      if (cache.size > 500) cache.clear();
      cache.set(sql, entry);
    }
    return entry;
  };
}

/** How long the main thread keeps retrying a statement that found the database locked, ms (as busy_timeout was). */
const lockWaitMs = 5000;

/**
 * Kysely's SQLite dialect over node:sqlite on the main thread. Two things differ from Kysely's own (better-sqlite3)
 * driver: a statement that finds the file locked by the writer thread is retried after a short timer instead of
 * SQLite sleeping the whole thread, and transactions begin IMMEDIATE, taking the write lock up front (a deferred
 * transaction that read first could not get it later once the writer thread committed in between).
 */
export function openSqlite(file: string): { dialect: SqliteDialect; raw: DatabaseSync } {
  const raw = openSqliteConnection(file);
  configureSqlite(raw, 0);
  const connection = new NodeSqliteConnection(raw);
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async (conn: DatabaseConnection, _settings: TransactionSettings) => { await conn.executeQuery(CompiledQuery.raw('begin immediate')); },
    commitTransaction: async (conn) => { await conn.executeQuery(CompiledQuery.raw('commit')); },
    rollbackTransaction: async (conn) => { await conn.executeQuery(CompiledQuery.raw('rollback')); },
    savepoint: async (conn, name) => { await conn.executeQuery(CompiledQuery.raw(`savepoint ${quoteName(name)}`)); },
    rollbackToSavepoint: async (conn, name) => { await conn.executeQuery(CompiledQuery.raw(`rollback to ${quoteName(name)}`)); },
    releaseSavepoint: async (conn, name) => { await conn.executeQuery(CompiledQuery.raw(`release ${quoteName(name)}`)); },
    releaseConnection: async () => undefined,
    destroy: async () => { connection.close(); },
  };
  class NodeSqliteDialect extends SqliteDialect {
    override createDriver(): Driver { return driver; }
  }
  return { dialect: new NodeSqliteDialect({ database: { close: () => undefined, prepare: () => { throw new Error('unused'); } } }), raw };
}

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;
const isBusy = (err: unknown) => (err as { errcode?: number }).errcode === 5 || (err as { errcode?: number }).errcode === 517;

class NodeSqliteConnection implements DatabaseConnection {
  readonly #raw: DatabaseSync;
  readonly #prepare: (sql: string) => { stmt: StatementSync; reader: boolean };

  constructor(raw: DatabaseSync) {
    this.#raw = raw;
    this.#prepare = statementCache(raw, (stmt) => ({ stmt, reader: stmt.columns().length > 0 }));
  }

  close(): void {
    this.#raw.close();
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const parameters = compiled.parameters as Param[];
    for (let waited = 0, delay = 1; ; waited += delay, delay = Math.min(delay * 2, 20)) {
      try {
        const { stmt, reader } = this.#prepare(compiled.sql);
        // node:sqlite rows have a null prototype; PostgreSQL's are plain objects. Same shape from both engines.
        if (reader) return { rows: stmt.all(...parameters).map((row) => ({ ...row }) as R) };
        const { changes, lastInsertRowid } = stmt.run(...parameters);
        return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
      } catch (err) {
        if (!isBusy(err) || waited >= lockWaitMs) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { stmt } = this.#prepare(compiled.sql);
    for (const row of stmt.iterate(...(compiled.parameters as Param[]))) yield { rows: [{ ...(row as object) } as R] };
  }
}
