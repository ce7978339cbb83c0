// A simulated telematics feed per vehicle: the vehicle is sampled every `intervalS`, and each reading reaches the
// consumer after a random delay, or not at all (gaps: the vehicle sleeps or has no coverage for a while), and now
// and then twice (providers re-deliver on retries). Readings have the shape of the VehicleReading domain event, so
// they can feed the telematics ingestion or a test directly. Deterministic for a given seed.
import type { VehicleReading } from '../bus/events.ts';
import type { SimClock } from './clock.ts';
import type { SimVehicle } from './vehicle.ts';
import { seedOf, seededRandom } from './quirks.ts';

export interface TelematicsFeedOptions {
  /** Sampling interval, simulated s (default 300). */
  readonly intervalS?: number;
  /** Delivery delay range, simulated s (default 5..90). */
  readonly minDelayS?: number;
  readonly maxDelayS?: number;
  /** Chance that a gap starts at a sample, and how long it lasts (default 0.02, 1800 s). */
  readonly gapProbability?: number;
  readonly gapS?: number;
  /** Chance that a delivered reading is delivered again a little later (default 0.05). */
  readonly duplicateProbability?: number;
  readonly tenantId?: string;
  readonly provider?: string;
  readonly seed?: number;
}

export interface FeedStats {
  sampled: number;
  /** First deliveries (duplicates are counted apart). */
  delivered: number;
  duplicates: number;
  lostInGaps: number;
}

export interface TelematicsFeed {
  readonly stats: FeedStats;
  stop(): void;
}

export function validateFeedOptions(o: TelematicsFeedOptions): void {
  const check = (ok: boolean, field: string, why: string) => { if (!ok) throw new RangeError(`telematics.${field}: ${why}`); };
  check(o.intervalS === undefined || o.intervalS > 0, 'intervalS', 'must be positive');
  check(o.minDelayS === undefined || o.minDelayS >= 0, 'minDelayS', 'must be ≥ 0');
  check((o.maxDelayS ?? 90) >= (o.minDelayS ?? 5), 'maxDelayS', 'must be ≥ minDelayS');
  for (const k of ['gapProbability', 'duplicateProbability'] as const) check(o[k] === undefined || (o[k]! >= 0 && o[k]! <= 1), k, 'must be in [0, 1]');
  check(o.gapS === undefined || o.gapS > 0, 'gapS', 'must be positive');
}

/** Starts sampling `vehicle` on the clock; `deliver` gets each reading when it "arrives". */
export function startTelematicsFeed(vehicle: SimVehicle, clock: SimClock, deliver: (reading: VehicleReading) => void, options: TelematicsFeedOptions = {}): TelematicsFeed {
  validateFeedOptions(options);
  const intervalMs = (options.intervalS ?? 300) * 1000;
  const minDelayMs = (options.minDelayS ?? 5) * 1000;
  const maxDelayMs = (options.maxDelayS ?? 90) * 1000;
  const random = seededRandom(options.seed ?? seedOf(vehicle.id, 7));
  const stats: FeedStats = { sampled: 0, delivered: 0, duplicates: 0, lostInGaps: 0 };
  let gapUntil = -Infinity;
  let stopped = false;
  const timers = new Set<ReturnType<SimClock['setTimeout']>>();
  const later = (ms: number, fn: () => void) => {
    const t = clock.setTimeout(() => { timers.delete(t); if (!stopped) fn(); }, ms);
    timers.add(t);
  };
  const sample = () => {
    const now = clock.now();
    stats.sampled++;
    if (now < gapUntil) { stats.lostInGaps++; }
    else if (random() < (options.gapProbability ?? 0.02)) { gapUntil = now + (options.gapS ?? 1800) * 1000; stats.lostInGaps++; }
    else {
      const s = vehicle.snapshot(now);
      const base = {
        type: 'VehicleReading' as const, at: new Date(now).toISOString(), tenantId: options.tenantId ?? 'default', vehicleId: vehicle.id,
        provider: options.provider ?? 'sim', socPercent: round(s.socPercent, 1), rangeKm: round(s.rangeKm, 0), odometerKm: round(s.odometerKm, 1),
        lat: round(s.lat, 5), lon: round(s.lon, 5), speedKmh: round(s.speedKmh, 0), pluggedIn: s.pluggedIn, charging: s.charging,
        chargeEnergyAddedKwh: round(s.chargeEnergyAddedKwh, 2),
      };
      const send = () => deliver({ ...base, receivedAt: new Date(clock.now()).toISOString() });
      const delay = minDelayMs + random() * (maxDelayMs - minDelayMs);
      later(delay, () => { stats.delivered++; send(); });
      if (random() < (options.duplicateProbability ?? 0.05)) later(delay + random() * intervalMs, () => { stats.duplicates++; send(); });
    }
    later(intervalMs, sample);
  };
  later(intervalMs - (clock.now() % intervalMs), sample);
  return {
    stats,
    stop() {
      stopped = true;
      for (const t of timers) clock.clearTimeout(t);
      timers.clear();
    },
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
