/**
 * Time as a dependency. Everything that stamps or schedules on the server side takes a Clock, so the simulator can
 * run a night at 60x or as fast as possible with a virtual clock. Planning and tariff code never takes one: it gets
 * `now` as a plain input.
 */
export interface Clock {
  /** Epoch milliseconds, UTC. */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  /**
   * Marks work in flight (a re-plan, a command awaiting its answer). A virtual clock does not jump ahead until it is
   * released, so simulated time never skips past work the real CPU is still doing. Real clocks need not implement it.
   */
  hold?(): () => void;
}

export interface ClockTimer {
  unref?(): unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export const isoAt = (clock: Clock): string => new Date(clock.now()).toISOString();

/** `isoAt` for hot paths: formatting a date is costly and thousands of frames a second share the same millisecond. */
export function isoClock(clock: Clock): () => string {
  let lastMs = Number.NaN;
  let last = '';
  // Within one second only the milliseconds change: the rest of the text is formatted once a second.
  let second = Number.NaN;
  let prefix = '';
  return () => {
    const ms = clock.now();
    if (ms === lastMs) return last;
    lastMs = ms;
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      prefix = new Date(s * 1000).toISOString().slice(0, 20);
    }
    const frac = ms - s * 1000;
    // 'YYYY-MM-DDTHH:MM:SS.' is 20 characters for years 0000-9999; anything else (or a fractional ms) the long way.
    last = prefix.length === 20 && prefix.charCodeAt(19) === 46 /* . */ && Number.isInteger(frac) ? `${prefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z` : new Date(ms).toISOString();
    return last;
  };
}
