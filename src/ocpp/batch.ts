import type { Logger } from '../log.ts';

interface Waiter { remaining: number; resolve: () => void; reject: (err: unknown) => void }

/**
 * Group commit: rows that arrive while writes are in flight go out together in the next one, so thousands of meter
 * samples a second cost a few statements a second. `add` resolves when its row is stored: a charger is only told
 * "accepted" for what is on disk. A failed write rejects its rows' promises (the charger gets an error and sends them
 * again) and never blocks the writes after it.
 *
 * `inFlight` writes may run at once (default 1), and a batch of `eagerAt` rows starts at once. With one write at a
 * time started by a timer, thousands of stations fall into step: the event loop reads every waiting MeterValues
 * before the timer fires, all of them go into one write, the main thread idles while it commits, and the writer
 * idles while the answers go out and the next messages come in (bench:ocpp: every batch was all 5,000 stations).
 * Eager batches with a few in flight let the writer commit the first rows while the main thread still handles the
 * rest (the SQLite writer thread runs them in order).
 */
export class BatchWriter<T> {
  readonly #write: (rows: T[]) => Promise<void>;
  readonly #size: number;
  readonly #log: Logger;
  readonly #name: string;
  readonly #delayMs: number;
  readonly #maxInFlight: number;
  readonly #eagerAt: number;
  #rows: T[] = [];
  /** Per row: who waits for it (rows added together share one), or null for rows nobody waits for. */
  #waiters: (Waiter | null)[] = [];
  /** Writes started and not yet finished, oldest first, each with the count of rows added up to its last one. */
  #inFlight: { upTo: number; done: boolean }[] = [];
  #scheduled = false;
  /**
   * Rows ever added, rows handed to a write, and rows up to which every write has finished (written or failed):
   * rows go out in the order added, and a write that finishes before an older one waits for it to count.
   */
  #added = 0;
  #started = 0;
  #finished = 0;
  #flushes: { upTo: number; resolve: () => void }[] = [];

  /**
   * `delayMs`: how long the first row of a batch waits for others before the write starts (0: the rest of this
   * tick). Fewer, larger writes cost less than many small ones; a waiting sender waits that much longer.
   */
  constructor(options: {
    name: string; size: number; logger: Logger; write: (rows: T[]) => Promise<void>; delayMs?: number; inFlight?: number; eagerAt?: number;
  }) {
    this.#write = options.write;
    this.#delayMs = options.delayMs ?? 0;
    this.#maxInFlight = Math.max(1, Math.floor(options.inFlight ?? 1));
    this.#eagerAt = options.eagerAt ?? Infinity;
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
      // A full batch need not wait for the timer, which only fires once the event loop is through every socket that
      // was readable: started now, it commits while the rest of those messages are still being handled.
      if (this.#rows.length >= this.#eagerAt && this.#inFlight.length < this.#maxInFlight) this.#next();
      else this.#schedule();
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
    if (this.#inFlight.length < this.#maxInFlight && !this.#scheduled) {
      // Let the rest of this tick's messages (or of the delay) join the batch.
      this.#scheduled = true;
      const go = () => { this.#scheduled = false; this.#next(); };
      if (this.#delayMs > 0) setTimeout(go, this.#delayMs);
      else setImmediate(go);
    }
  }

  #next(): void {
    if (this.#inFlight.length >= this.#maxInFlight || this.#rows.length === 0) return;
    const rows = this.#rows.splice(0, this.#size);
    const waiters = this.#waiters.splice(0, rows.length);
    this.#started += rows.length;
    const entry = { upTo: this.#started, done: false };
    this.#inFlight.push(entry);
    void this.#write(rows).then(
      () => { for (const w of waiters) if (w && --w.remaining === 0) w.resolve(); },
      (err) => {
        this.#log.error({ err, batch: this.#name, rows: rows.length }, 'batched write failed; the senders are told');
        // A promise settles once: the first failure of any of its rows rejects it.
        for (const w of waiters) if (w) w.reject(err);
      },
    ).finally(() => {
      entry.done = true;
      while (this.#inFlight.length > 0 && this.#inFlight[0]!.done) this.#finished = this.#inFlight.shift()!.upTo;
      if (this.#flushes.length > 0) {
        const due = this.#flushes.filter((f) => f.upTo <= this.#finished);
        this.#flushes = this.#flushes.filter((f) => f.upTo > this.#finished);
        for (const f of due) f.resolve();
      }
      // Someone flushing waits for rows still queued: they go now, not after the delay.
      if (this.#flushes.length > 0) this.#next();
      else if (this.#rows.length > 0) this.#schedule();
    });
    // Room for another write: rows added meanwhile need not wait for this one to finish.
    if (this.#rows.length > 0) this.#schedule();
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
