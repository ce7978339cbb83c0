// The SQLite writer thread (started by sqlite-writer.ts): its own connection to the same WAL file, so inserts and
// updates run off the main thread. Jobs that arrive while a commit is running go into the next one together (group
// commit); each job runs inside a savepoint, so a failing one is rolled back and reported alone.
import { parentPort, workerData } from 'node:worker_threads';
import type { SQLInputValue } from 'node:sqlite';
import { configureSqlite, openSqliteConnection, statementCache } from './sqlite-database.ts';
import type { WriterJob, WriterReply, WriterResult } from './sqlite-writer.ts';

if (!parentPort) throw new Error('sqlite-writer-worker.ts runs as a worker thread of sqlite-writer.ts');
const port = parentPort;
const { file, busyTimeoutMs } = workerData as { file: string; busyTimeoutMs: number };

const db = openSqliteConnection(file);
// This thread may wait for the lock: a transaction on the main connection holds it across awaits, and waiting here
// blocks nobody's event loop.
configureSqlite(db, busyTimeoutMs);

const prepared = statementCache(db, (stmt) => stmt);

function run(job: WriterJob): WriterResult[] {
  if (job.kind === 'rows') {
    const stmt = prepared(job.sql);
    let changes = 0;
    for (const row of job.rows) changes += Number(stmt.run(...(row as SQLInputValue[])).changes);
    return [{ rows: [], changes }];
  }
  return job.queries.map(({ sql, parameters }) => {
    const stmt = prepared(sql);
    if (stmt.columns().length > 0) return { rows: stmt.all(...(parameters as SQLInputValue[])).map((r) => ({ ...r })), changes: 0 };
    const r = stmt.run(...(parameters as SQLInputValue[]));
    return { rows: [], changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  });
}

let queue: WriterJob[] = [];
let scheduled = false;

function commitQueued(): void {
  scheduled = false;
  const jobs = queue;
  queue = [];
  if (jobs.length === 0) return;
  const replies: WriterReply[] = [];
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    for (const job of jobs) replies.push({ id: job.id, error: describe(err) });
    port.postMessage(replies);
    return;
  }
  const done: WriterReply[] = [];
  for (const job of jobs) {
    try {
      db.exec('SAVEPOINT job');
      const results = run(job);
      db.exec('RELEASE job');
      done.push({ id: job.id, results });
    } catch (err) {
      db.exec('ROLLBACK TO job');
      db.exec('RELEASE job');
      replies.push({ id: job.id, error: describe(err) });
    }
  }
  try {
    db.exec('COMMIT');
    replies.push(...done);
  } catch (err) {
    try { db.exec('ROLLBACK'); } catch { /* already rolled back */ }
    for (const d of done) replies.push({ id: d.id, error: describe(err) });
  }
  port.postMessage(replies);
}

function describe(err: unknown): { message: string; code?: string; errcode?: number } {
  const e = err as { message?: string; code?: string; errcode?: number };
  return { message: e?.message ?? String(err), code: e?.code, errcode: e?.errcode };
}

port.on('message', (msg: WriterJob[] | { kind: 'close' }) => {
  if (!Array.isArray(msg)) {
    commitQueued();
    db.close();
    port.postMessage('closed');
    port.close();
    return;
  }
  queue.push(...msg);
  // Let every job already posted join this commit: messages queued on the port are delivered before the immediate.
  if (!scheduled) { scheduled = true; setImmediate(commitQueued); }
});
