import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';

/** What a write statement gave back: rows for statements that return some (RETURNING), else the rows it changed. */
export interface WriterResult {
  rows: Record<string, unknown>[];
  changes: number;
  lastInsertRowid?: number;
}

/** A unit of work for the writer thread: one prepared statement run for many rows, or a few statements in order. */
export type WriterJob =
  | { id: number; kind: 'rows'; sql: string; rows: readonly (readonly unknown[])[] }
  | { id: number; kind: 'queries'; queries: readonly { sql: string; parameters: readonly unknown[] }[] };

export type WriterReply =
  | { id: number; results: WriterResult[]; error?: undefined }
  | { id: number; error: { message: string; code?: string; errcode?: number } };

/** Jobs of at least this many rows are posted to the thread at once rather than at the end of the tick. */
const postAtOnceRows = 256;

type Pending = { resolve: (r: WriterResult[]) => void; reject: (err: Error) => void };
type NewJob = WriterJob extends infer J ? J extends WriterJob ? Omit<J, 'id'> : never : never;

/**
 * The main thread's handle on the SQLite writer thread (sqlite-writer-worker.ts). Every job resolves once its
 * transaction is committed to the WAL — the same durability as a write on the main connection (synchronous=NORMAL:
 * it survives a crash of the process) — so callers may promise persistence to whoever asked for the write.
 */
export class SqliteWriter {
  readonly #file: string;
  readonly #log: Logger;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | null = null;
  #seq = 0;
  #outbox: WriterJob[] = [];
  #closing: Promise<void> | null = null;

  constructor(file: string, logger: Logger) {
    this.#file = file;
    this.#log = logger;
  }

  run(job: NewJob): Promise<WriterResult[]> {
    if (this.#closing) return Promise.reject(new Error('the store is closed'));
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Jobs of one tick travel together: every message wakes the writer thread, and waking it costs more than
      // copying a few more rows.
      this.#outbox.push({ ...job, id } as WriterJob);
      // A job of many rows is worth waking the thread for on its own, now: waiting for the end of the tick may mean
      // waiting for the event loop to get through every readable socket.
      if (job.kind === 'rows' && job.rows.length >= postAtOnceRows) this.#post();
      else if (this.#outbox.length === 1) setImmediate(() => this.#post());
    });
  }

  #post(): void {
    const jobs = this.#outbox;
    this.#outbox = [];
    if (jobs.length === 0) return;
    const worker = this.#worker ?? this.#start();
    // Referenced only while writes are outstanding: an idle writer must not keep the process alive, a busy one must.
    worker.ref();
    worker.postMessage(jobs);
  }

  /** Starts the thread now (a first write would otherwise wait for it to load), idle until a job comes. */
  warmUp(): void {
    if (!this.#worker && !this.#closing) this.#start();
  }

  /** Commits what was posted, then stops the thread and closes its connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#post();
      const worker = this.#worker;
      if (!worker) return;
      await new Promise<void>((resolve) => {
        worker.ref();
        worker.once('exit', () => resolve());
        worker.postMessage({ kind: 'close' });
      });
    })();
    return this.#closing;
  }

  #start(): Worker {
    const worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), {
      workerData: { file: this.#file, busyTimeoutMs: 30_000 },
    });
    worker.unref();
    worker.on('message', (replies: WriterReply[] | 'closed') => {
      if (replies === 'closed') { void worker.terminate(); return; }
      for (const r of replies) {
        const p = this.#pending.get(r.id);
        if (!p) continue;
        this.#pending.delete(r.id);
        if (r.error) p.reject(Object.assign(new Error(r.error.message), { code: r.error.code, errcode: r.error.errcode }));
        else p.resolve(r.results);
      }
      if (this.#pending.size === 0) worker.unref();
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = null;
      if (this.#pending.size === 0) return;
      this.#log.error({ err, jobs: this.#pending.size }, 'SQLite writer thread stopped; its unfinished writes failed');
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
      this.#outbox = [];
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`SQLite writer thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }
}
