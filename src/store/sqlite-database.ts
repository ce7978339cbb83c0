import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely's SQLite dialect expects better-sqlite3's shape; node:sqlite is close but takes spread parameters and has no
 * `reader` flag. This adapter bridges the two and caches prepared statements, which matters for batched writes.
 */
export function openSqlite(file: string): { database: SqliteDatabase; raw: DatabaseSync } {
  const raw = new DatabaseSync(file);
  // WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes, which is what an
  // edge box needs (a power cut may lose the last few hundred ms, never corrupt the file).
  raw.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  // Batched writes touch many B-tree pages at once (one per vehicle in the telematics history). A 64 MiB page cache
  // (default 2 MiB) keeps them between commits, and checkpointing every 10,000 WAL pages (default 1,000) copies each
  // hot page into the database file once per many commits instead of nearly every one; the WAL is cut back to
  // 64 MiB after a checkpoint so it does not keep its peak size.
  raw.exec('PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;');
  const cache = new Map<string, SqliteStatement>();
  const database: SqliteDatabase = {
    close: () => { cache.clear(); raw.close(); },
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = adapt(raw.prepare(sql));
        if (cache.size > 500) cache.clear();
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
  return { database, raw };
}

type Param = null | number | bigint | string | NodeJS.ArrayBufferView;

function adapt(stmt: StatementSync): SqliteStatement {
  const reader = stmt.columns().length > 0;
  return {
    reader,
    // node:sqlite rows have a null prototype; PostgreSQL's are plain objects. Same shape from both engines.
    all: (parameters) => stmt.all(...(parameters as Param[])).map((row) => ({ ...row })),
    run: (parameters) => stmt.run(...(parameters as Param[])),
    iterate: function* (parameters) {
      for (const row of stmt.iterate(...(parameters as Param[]))) yield { ...(row as object) };
    },
  };
}
