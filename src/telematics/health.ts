/**
 * Per-provider health and figures, kept in memory: readings per minute, latency (measured -> received), error rate,
 * staleness, and whether the provider is up. Counters live in one-second buckets so a burst of 20,000 readings costs
 * a few additions, not 20,000 list entries.
 */
/** `standby`: another cluster node holds the poll lease for this provider. */
export type ProviderState = 'starting' | 'ok' | 'rate-limited' | 'failing' | 'down' | 'auth-failed' | 'stopped' | 'standby';

export interface ProviderHealth {
  readonly provider: string;
  readonly state: ProviderState;
  readonly readingsPerMinute: number;
  /** Share of payload units and polls in the last five minutes that failed or were quarantined, 0..1. */
  readonly errorRate: number;
  readonly latencyMedianS: number | null;
  readonly latencyP95S: number | null;
  /** Seconds since the last accepted reading arrived; null when none yet. */
  readonly stalenessS: number | null;
  readonly lastReadingAt: string | null;
  readonly lastError: { readonly at: string; readonly message: string } | null;
  readonly consecutiveFailures: number;
  readonly nextPollAt: string | null;
}

interface Bucket { second: number; readings: number; units: number; errors: number }

const WINDOW_S = 300;
const LATENCY_SAMPLES = 1024;

class ProviderStats {
  state: ProviderState = 'starting';
  buckets: Bucket[] = [];
  latencies = new Float64Array(LATENCY_SAMPLES);
  latencyCount = 0;
  lastReadingMs: number | null = null;
  lastError: { at: string; message: string } | null = null;
  consecutiveFailures = 0;
  nextPollMs: number | null = null;

  bucket(nowMs: number): Bucket {
    const second = Math.floor(nowMs / 1000);
    let last = this.buckets[this.buckets.length - 1];
    if (!last || last.second !== second) {
      last = { second, readings: 0, units: 0, errors: 0 };
      this.buckets.push(last);
      while (this.buckets.length > 0 && this.buckets[0].second <= second - WINDOW_S) this.buckets.shift();
    }
    return last;
  }
}

export class HealthBoard {
  private readonly stats = new Map<string, ProviderStats>();

  private of(provider: string): ProviderStats {
    let s = this.stats.get(provider);
    if (!s) this.stats.set(provider, s = new ProviderStats());
    return s;
  }

  /** Accepted readings (new ones, not duplicates) with their measurement instants. */
  readings(provider: string, nowMs: number, measuredAtMs: readonly number[]): void {
    const s = this.of(provider);
    s.bucket(nowMs).readings += measuredAtMs.length;
    for (const m of measuredAtMs) s.latencies[s.latencyCount++ % LATENCY_SAMPLES] = Math.max(0, nowMs - m) / 1000;
    if (measuredAtMs.length > 0) s.lastReadingMs = nowMs;
  }

  units(provider: string, nowMs: number, count: number, failed: number): void {
    const b = this.of(provider).bucket(nowMs);
    b.units += count;
    b.errors += failed;
  }

  /** A poll or a connection worked: the provider is up. */
  succeeded(provider: string, nowMs: number): void {
    const s = this.of(provider);
    s.bucket(nowMs).units += 1;
    s.consecutiveFailures = 0;
    s.state = 'ok';
  }

  /** A poll or connection failed; after three in a row the provider is reported down. */
  failed(provider: string, nowMs: number, err: Error, state?: ProviderState): void {
    const s = this.of(provider);
    const b = s.bucket(nowMs);
    b.units += 1;
    b.errors += 1;
    s.consecutiveFailures++;
    s.lastError = { at: new Date(nowMs).toISOString(), message: err.message };
    s.state = state ?? (s.consecutiveFailures >= 3 ? 'down' : 'failing');
  }

  /** Data arrived over a held connection: the provider is up (counted with the units, not as a poll). */
  alive(provider: string): void {
    const s = this.of(provider);
    s.consecutiveFailures = 0;
    s.state = 'ok';
  }

  setState(provider: string, state: ProviderState): void {
    this.of(provider).state = state;
  }

  nextPoll(provider: string, atMs: number | null): void {
    this.of(provider).nextPollMs = atMs;
  }

  forget(provider: string): void {
    this.stats.delete(provider);
  }

  report(provider: string, nowMs: number): ProviderHealth {
    const s = this.of(provider);
    const nowS = Math.floor(nowMs / 1000);
    let readingsLastMinute = 0, units = 0, errors = 0;
    for (const b of s.buckets) {
      if (b.second <= nowS - WINDOW_S) continue;
      units += b.units;
      errors += b.errors;
      if (b.second > nowS - 60) readingsLastMinute += b.readings;
    }
    const n = Math.min(s.latencyCount, LATENCY_SAMPLES);
    const sorted = Array.from(s.latencies.subarray(0, n)).sort((a, b) => a - b);
    const quantile = (q: number) => n === 0 ? null : Number(sorted[Math.min(n - 1, Math.floor(q * n))].toFixed(3));
    return {
      provider,
      state: s.state,
      readingsPerMinute: readingsLastMinute,
      errorRate: units === 0 ? 0 : Number((errors / units).toFixed(4)),
      latencyMedianS: quantile(0.5),
      latencyP95S: quantile(0.95),
      stalenessS: s.lastReadingMs === null ? null : Math.round((nowMs - s.lastReadingMs) / 1000),
      lastReadingAt: s.lastReadingMs === null ? null : new Date(s.lastReadingMs).toISOString(),
      lastError: s.lastError,
      consecutiveFailures: s.consecutiveFailures,
      nextPollAt: s.nextPollMs === null ? null : new Date(s.nextPollMs).toISOString(),
    };
  }
}
