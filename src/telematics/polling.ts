import type { Clock, ClockTimer } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { HealthBoard } from './health.ts';
import type { IngestResult } from './ingest.ts';
import { AuthError, RateLimitedError, type Provider } from './provider.ts';

export interface PollDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly health: HealthBoard;
  readonly ingest: (provider: Provider, units: unknown[]) => Promise<IngestResult>;
  readonly loadCursor: (provider: string) => Promise<string | null>;
  readonly saveCursor: (provider: string, cursor: string | null) => Promise<void>;
  /** True when this node may poll the provider now (it holds or took the lease for at least `forMs`). */
  readonly lease: (provider: string, forMs: number) => Promise<boolean>;
}

const MAX_BACKOFF_MS = 5 * 60_000;
/** How long one poll may take before it is abandoned and counted as a failure. */
const POLL_TIMEOUT_MS = 30_000;

/**
 * Runs one provider's poller: poll, ingest, save the cursor (only after the readings are stored, so a crash repeats
 * a page rather than losing it; ingestion is idempotent), wait, repeat. A 429 waits exactly its Retry-After; other
 * failures back off exponentially up to five minutes; refused credentials wait the maximum. Each provider has its own
 * loop, so one that is down never holds up the others.
 */
export class PollLoop {
  private readonly provider: Provider;
  private readonly deps: PollDeps;
  private readonly log: Logger;
  private timer: ClockTimer | null = null;
  private abort: AbortController | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failures = 0;

  constructor(provider: Provider, deps: PollDeps) {
    this.provider = provider;
    this.deps = deps;
    this.log = deps.logger.child({ module: 'telematics.poll', provider: provider.id });
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.abort?.abort();
    await this.running?.catch(() => undefined);
    this.deps.health.setState(this.provider.id, 'stopped');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.deps.health.nextPoll(this.provider.id, this.deps.clock.now() + delayMs);
    this.timer = this.deps.clock.setTimeout(() => { this.timer = null; this.running = this.once(); }, delayMs);
    this.timer.unref?.();
  }

  /** One poll, then schedules the next after the interval, Retry-After or back-off. */
  private async once(): Promise<void> {
    const poller = this.provider.poller!;
    const { clock, health } = this.deps;
    let delay = poller.intervalMs;
    this.abort = new AbortController();
    const timeout = setTimeout(() => this.abort?.abort(new Error(`poll took longer than ${POLL_TIMEOUT_MS / 1000} s`)), POLL_TIMEOUT_MS);
    try {
      // Held for a few intervals, renewed on every poll: a node that dies hands over within that time.
      if (!await this.deps.lease(this.provider.id, Math.max(3 * poller.intervalMs, 60_000))) {
        health.setState(this.provider.id, 'standby');
        this.schedule(delay);
        return;
      }
      const cursor = await this.deps.loadCursor(this.provider.id);
      const result = await poller.poll(cursor, this.abort.signal);
      await this.deps.ingest(this.provider, result.units);
      if (result.cursor !== cursor) await this.deps.saveCursor(this.provider.id, result.cursor);
      health.succeeded(this.provider.id, clock.now());
      this.failures = 0;
      if (result.more) delay = 0;
    } catch (err) {
      if (this.stopped) return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.failures++;
      if (error instanceof RateLimitedError) {
        delay = Math.max(error.retryAfterMs, 1000);
        health.failed(this.provider.id, clock.now(), error, 'rate-limited');
        this.log.warn({ retryAfterMs: delay }, 'provider rate limit: waiting');
      } else if (error instanceof AuthError) {
        delay = MAX_BACKOFF_MS;
        health.failed(this.provider.id, clock.now(), error, 'auth-failed');
        this.log.error({ err: error }, 'provider refused the credentials');
      } else {
        delay = Math.min(MAX_BACKOFF_MS, poller.intervalMs * 2 ** Math.min(this.failures, 10));
        health.failed(this.provider.id, clock.now(), error);
        this.log.warn({ err: error, failures: this.failures, retryInMs: delay }, 'poll failed: backing off');
      }
    } finally {
      clearTimeout(timeout);
      this.abort = null;
    }
    this.schedule(delay);
  }
}
