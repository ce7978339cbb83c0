// Charger quirks seen in the field, as configuration of a virtual charge point. Each one is a capability a real
// model lacks or a fault it has; the control loop must cope with all of them.

export interface Quirks {
  /** Takes charging profiles in A only; a schedule in W is Rejected (many AC wallboxes). */
  readonly acceptsOnlyAmps?: boolean;
  /** Rejects a schedule with more periods than this (ChargingScheduleMaxPeriods; some models keep 1). */
  readonly maxSchedulePeriods?: number;
  /** Answers Accepted to SetChargingProfile but keeps charging as before (firmware that ignores smart charging). */
  readonly ignoresProfiles?: boolean;
  /** Drops its WebSocket now and then: mean simulated seconds between drops, and how long it stays away. */
  readonly dropsConnection?: { readonly meanIntervalS: number; readonly offlineS?: number };
  /** Reboots (power loss) this many simulated seconds into each transaction, at most `times` times. */
  readonly rebootsMidSession?: { readonly afterS: number; readonly times?: number; readonly bootS?: number };
}

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Checks quirks from a file or API body; throws naming the bad field. */
export function parseQuirks(input: unknown, path = 'quirks'): Quirks {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError(`${path}: must be an object`);
  const o = input as Record<string, unknown>;
  const known = ['acceptsOnlyAmps', 'maxSchedulePeriods', 'ignoresProfiles', 'dropsConnection', 'rebootsMidSession'];
  for (const key of Object.keys(o)) if (!known.includes(key)) throw new TypeError(`${path}.${key}: unknown quirk (known: ${known.join(', ')})`);
  const bool = (key: string) => {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new TypeError(`${path}.${key}: must be true or false`);
    return o[key] as boolean | undefined;
  };
  const out: { -readonly [K in keyof Quirks]: Quirks[K] } = {};
  if (bool('acceptsOnlyAmps')) out.acceptsOnlyAmps = true;
  if (bool('ignoresProfiles')) out.ignoresProfiles = true;
  if (o.maxSchedulePeriods !== undefined) {
    if (!Number.isInteger(o.maxSchedulePeriods) || !positive(o.maxSchedulePeriods)) throw new TypeError(`${path}.maxSchedulePeriods: must be a positive integer`);
    out.maxSchedulePeriods = o.maxSchedulePeriods as number;
  }
  if (o.dropsConnection !== undefined) {
    const d = o.dropsConnection as Record<string, unknown>;
    if (typeof d !== 'object' || d === null || !positive(d.meanIntervalS)) throw new TypeError(`${path}.dropsConnection.meanIntervalS: must be a positive number`);
    if (d.offlineS !== undefined && !positive(d.offlineS)) throw new TypeError(`${path}.dropsConnection.offlineS: must be a positive number`);
    out.dropsConnection = { meanIntervalS: d.meanIntervalS as number, ...(d.offlineS !== undefined ? { offlineS: d.offlineS as number } : {}) };
  }
  if (o.rebootsMidSession !== undefined) {
    const r = o.rebootsMidSession as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || !positive(r.afterS)) throw new TypeError(`${path}.rebootsMidSession.afterS: must be a positive number`);
    if (r.times !== undefined && !(Number.isInteger(r.times) && positive(r.times))) throw new TypeError(`${path}.rebootsMidSession.times: must be a positive integer`);
    if (r.bootS !== undefined && !positive(r.bootS)) throw new TypeError(`${path}.rebootsMidSession.bootS: must be a positive number`);
    out.rebootsMidSession = { afterS: r.afterS as number, ...(r.times !== undefined ? { times: r.times as number } : {}), ...(r.bootS !== undefined ? { bootS: r.bootS as number } : {}) };
  }
  return out;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same drops, gaps and duplicates on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exponentially distributed wait with the given mean (memoryless: drops arrive like a Poisson process). */
export const exponential = (random: () => number, mean: number): number => -Math.log(1 - random()) * mean;

/** A stable seed from a text (e.g. a station id), so each charger's randomness differs but repeats. */
export function seedOf(text: string, base = 0): number {
  let h = 2166136261 ^ base;
  for (let k = 0; k < text.length; k++) h = Math.imul(h ^ text.charCodeAt(k), 16777619);
  return h >>> 0;
}
