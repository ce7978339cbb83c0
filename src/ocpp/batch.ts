import type { Logger } from '../log.ts';

interface Waiter { remaining: number; resolve: () => void; reject: (err: unknown) => void }

/**
 * Group commit: rows that arrive while a write is in flight go out together in the next one, so thousands of meter
 * samples a second cost a few statements a second, and no row waits longer than one write. `add` resolves when its
 * row is stored: a charger is only told "accepted" for what is on disk. A failed write rejects its rows' promises
 * (the charger gets an error and sends them again) and never blocks the writes after it.
 */
export class BatchWriter<T> {
  readonly #write: (rows: T[]) => Promise<void>;
  readonly #size: number;
  readonly #log: Logger;
  readonly #name: string;
  readonly #delayMs: number;
  #rows: T[] = [];
  /** Per row: who waits for it (rows added together share one), or null for rows nobody waits for. */
  #waiters: (Waiter | null)[] = [];
  #writing: Promise<void> | null = null;
  #scheduled = false;
  /** Rows ever added, and rows whose write has finished (written or failed): rows go out in the order added. */
  #added = 0;
  #finished = 0;
  #flushes: { upTo: number; resolve: () => void }[] = [];

  /**
   * `delayMs`: how long the first row of a batch waits for others before the write starts (0: the rest of this
   * tick). Fewer, larger writes cost less than many small ones; a waiting sender waits that much longer.
   */
  constructor(options: { name: string; size: number; logger: Logger; write: (rows: T[]) => Promise<void>; delayMs?: number }) {
    this.#write = options.write;
    this.#delayMs = options.delayMs ?? 0;
    this.#size = options.size;
    this.#log = options.logger;
    this.#name = options.name;
  }

  add(row: T): Promise<void> {
    return this.addAll([row]);
  }

  /** Resolves when all these rows are stored; rejects if any of them could not be. */
  addAll(rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { remaining: rows.length, resolve, reject };
      for (const row of rows) {
        this.#rows.push(row);
        this.#waiters.push(waiter);
      }
      this.#added += rows.length;
      this.#schedule();
    });
  }

  /** Adds a row nobody waits for (a record, not a promise to anyone): a failed write is only logged. */
  push(row: T): void {
    this.#rows.push(row);
    this.#waiters.push(null);
    this.#added++;
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#writing && !this.#scheduled) {
      // Let the rest of this tick's messages (or of the delay) join the batch.
      this.#scheduled = true;
      const go = () => { this.#scheduled = false; this.#next(); };
      if (this.#delayMs > 0) setTimeout(go, this.#delayMs);
      else setImmediate(go);
    }
  }

  #next(): void {
    if (this.#writing || this.#rows.length === 0) return;
    const rows = this.#rows.splice(0, this.#size);
    const waiters = this.#waiters.splice(0, rows.length);
    this.#writing = this.#write(rows).then(
      () => { for (const w of waiters) if (w && --w.remaining === 0) w.resolve(); },
      (err) => {
        this.#log.error({ err, batch: this.#name, rows: rows.length }, 'batched write failed; the senders are told');
        // A promise settles once: the first failure of any of its rows rejects it.
        for (const w of waiters) if (w) w.reject(err);
      },
    ).finally(() => {
      this.#writing = null;
      this.#finished += rows.length;
      if (this.#flushes.length > 0) {
        const due = this.#flushes.filter((f) => f.upTo <= this.#finished);
        this.#flushes = this.#flushes.filter((f) => f.upTo > this.#finished);
        for (const f of due) f.resolve();
      }
      if (this.#rows.length > 0) this.#schedule();
    });
  }

  /**
   * Resolves when everything added before the call is written (or has failed) — not what others add meanwhile, so a
   * reader is never held up by a steady stream of new rows. Starts the write at once rather than after the delay.
   */
  flush(): Promise<void> {
    if (this.#finished >= this.#added) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#flushes.push({ upTo: this.#added, resolve }));
    this.#next();
    return done;
  }
}
