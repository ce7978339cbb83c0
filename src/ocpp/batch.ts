import type { Logger } from '../log.ts';

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
  #rows: T[] = [];
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #writing: Promise<void> | null = null;
  #scheduled = false;

  constructor(options: { name: string; size: number; logger: Logger; write: (rows: T[]) => Promise<void> }) {
    this.#write = options.write;
    this.#size = options.size;
    this.#log = options.logger;
    this.#name = options.name;
  }

  add(row: T): Promise<void> {
    this.#rows.push(row);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#writing && !this.#scheduled) {
      // Let the rest of this tick's messages join the batch.
      this.#scheduled = true;
      setImmediate(() => { this.#scheduled = false; this.#next(); });
    }
    return done;
  }

  #next(): void {
    if (this.#writing || this.#rows.length === 0) return;
    const rows = this.#rows.splice(0, this.#size);
    const waiters = this.#waiters.splice(0, rows.length);
    this.#writing = this.#write(rows).then(
      () => { for (const w of waiters) w.resolve(); },
      (err) => {
        this.#log.error({ err, batch: this.#name, rows: rows.length }, 'batched write failed; the senders are told');
        for (const w of waiters) w.reject(err);
      },
    ).finally(() => {
      this.#writing = null;
      this.#next();
    });
  }

  /** Resolves when everything added before the call is written (or has failed). */
  async flush(): Promise<void> {
    while (this.#rows.length > 0 || this.#writing || this.#scheduled) {
      if (!this.#writing) this.#next();
      if (this.#writing) await this.#writing;
      else await new Promise((r) => setImmediate(r));
    }
  }
}
