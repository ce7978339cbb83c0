import type { Logger } from '../log.ts';

/**
 * Collects rows and writes them in one statement per batch: every size rows or every intervalMs, whichever comes
 * first. Meter samples and the message log arrive thousands per second; one insert each would bound throughput by
 * the database's round trips. A failed batch is logged with its size and dropped (it never blocks the ones after).
 */
export class BatchWriter<T> {
  readonly #write: (rows: T[]) => Promise<void>;
  readonly #size: number;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #name: string;
  #rows: T[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(options: { name: string; size: number; intervalMs: number; logger: Logger; write: (rows: T[]) => Promise<void> }) {
    this.#write = options.write;
    this.#size = options.size;
    this.#intervalMs = options.intervalMs;
    this.#log = options.logger;
    this.#name = options.name;
  }

  add(row: T): void {
    this.#rows.push(row);
    if (this.#rows.length >= this.#size) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), this.#intervalMs);
  }

  /** Writes what is queued; resolves when everything added before the call is written (or has failed). */
  flush(): Promise<void> {
    if (this.#timer) { clearTimeout(this.#timer); this.#timer = null; }
    const rows = this.#rows;
    this.#rows = [];
    if (rows.length > 0) {
      // One batch at a time, in order: SQLite has one writer anyway, and order keeps "first write wins" meaningful.
      this.#inFlight = this.#inFlight.then(() => this.#write(rows)).catch((err) => {
        this.#log.error({ err, batch: this.#name, rows: rows.length }, 'batched write failed; rows dropped');
      });
    }
    return this.#inFlight;
  }
}
