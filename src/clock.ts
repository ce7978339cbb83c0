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
  return () => {
    const ms = clock.now();
    if (ms !== lastMs) { lastMs = ms; last = new Date(ms).toISOString(); }
    return last;
  };
}
