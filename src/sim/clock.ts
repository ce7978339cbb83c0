// One clock for a whole simulation, handed to the virtual chargers, the vehicles and (through startVoltyard's
// `clock` option) the server itself. Three modes:
// - real: wall time;
// - accelerated: simulated time runs `factor` times faster than wall time (a night at 60x in 14 minutes);
// - virtual: time stands still until the world is quiet, then jumps to the next timer, so a night runs as fast as
//   the CPU can exchange the messages.
// "Quiet" in virtual mode means no work is held open (`hold()`, e.g. an OCPP call awaiting its answer) and nothing
// has `touch()`ed the clock for `quietMs` of wall time (a message arrived), so a jump never skips a reply in flight.
import { setImmediate as immediate, setTimeout as sleepReal } from 'node:timers/promises';
import type { Clock, ClockTimer } from '../clock.ts';

export type ClockMode = 'real' | 'accelerated' | 'virtual';

export interface SimClock extends Clock {
  readonly mode: ClockMode;
  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void>;
  /** Lets simulated time run until `untilMs` (virtual: timer to timer as fast as possible; otherwise waits). */
  runUntil(untilMs: number): Promise<void>;
  /** Marks work in flight; virtual time does not move until every returned release has been called. */
  hold(): () => void;
  /** Notes activity (a message sent or received): virtual time waits `quietMs` of wall time after the last one. */
  touch(): void;
  /** Timers not yet fired (virtual mode; 0 otherwise). */
  pendingTimers(): number;
}

export interface SimClockOptions {
  mode: ClockMode;
  /** Simulated start instant, epoch ms (virtual and accelerated; real always starts at the wall time). */
  startMs?: number;
  /** accelerated: simulated ms per wall ms, > 0. */
  factor?: number;
  /** virtual: wall ms of silence that counts as quiet. */
  quietMs?: number;
  /** virtual: runUntil fails (instead of spinning) when work stays held this long in wall ms (default 120 000). */
  maxHeldMs?: number;
  /** virtual: runUntil fails when this many timers fire at one instant (a zero-delay loop; default 500 000). */
  maxTimersPerInstant?: number;
}

/** The virtual clock cannot make progress; the message says why. */
export class ClockStalledError extends Error {}

export function createSimClock(options: SimClockOptions): SimClock {
  if (options.mode === 'virtual') return new VirtualClock(options.startMs ?? Date.now(), options.quietMs ?? 2, options.maxHeldMs ?? 120_000, options.maxTimersPerInstant ?? 500_000);
  const factor = options.mode === 'real' ? 1 : options.factor ?? 60;
  if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`accelerated clock: factor must be a positive number, got ${factor}`);
  return scaledClock(options.mode, options.mode === 'real' ? Date.now() : options.startMs ?? Date.now(), factor);
}

interface ScaledTimer extends ClockTimer { handle: ReturnType<typeof setTimeout> | null }

function scaledClock(mode: ClockMode, startMs: number, factor: number): SimClock {
  const wallStart = performance.now();
  const now = () => startMs + (performance.now() - wallStart) * factor;
  /**
   * Node may run a timer up to a millisecond before performance.now() says it is due; at 600x that is 0.6 simulated
   * seconds early. A timer that wakes early sleeps the rest, so no callback ever sees a time before its due time.
   */
  const schedule = (fn: () => void, ms: number): ScaledTimer => {
    const due = now() + Math.max(0, Number.isFinite(ms) ? ms : 0);
    const timer: ScaledTimer = { handle: null, unref: () => { timer.handle?.unref(); return timer; } };
    const fire = () => {
      const left = due - now();
      if (left > 0) timer.handle = setTimeout(fire, Math.max(1, left / factor));
      else fn();
    };
    timer.handle = setTimeout(fire, (due - now()) / factor);
    return timer;
  };
  const clock: SimClock = {
    mode,
    now: () => Math.floor(now()),
    setTimeout: schedule,
    clearTimeout: (timer) => clearTimeout((timer as ScaledTimer).handle ?? undefined),
    sleep: (ms) => new Promise((resolve) => { schedule(resolve, ms); }),
    async runUntil(untilMs) {
      for (let left = untilMs - now(); left > 0; left = untilMs - now()) await sleepReal(Math.max(1, left / factor));
    },
    hold: () => () => undefined,
    touch: () => undefined,
    pendingTimers: () => 0,
  };
  return clock;
}

interface VirtualTimer extends ClockTimer {
  readonly at: number;
  readonly seq: number;
  fn: (() => void) | null;
}

/** A binary min-heap of timers by (at, seq): thousands of chargers' timers stay cheap to schedule. */
class TimerHeap {
  private readonly items: VirtualTimer[] = [];
  get size(): number { return this.items.length; }
  peek(): VirtualTimer | undefined { return this.items[0]; }
  push(t: VirtualTimer): void {
    const a = this.items;
    a.push(t);
    for (let i = a.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): VirtualTimer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
const before = (x: VirtualTimer, y: VirtualTimer) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

class VirtualClock implements SimClock {
  readonly mode = 'virtual' as const;
  private nowMs: number;
  private seq = 0;
  private live = 0;
  private holds = 0;
  private lastTouch = 0;
  private readonly heap = new TimerHeap();
  private readonly quietMs: number;
  private readonly maxHeldMs: number;
  private readonly maxTimersPerInstant: number;

  constructor(startMs: number, quietMs: number, maxHeldMs: number, maxTimersPerInstant: number) {
    this.nowMs = startMs;
    this.quietMs = quietMs;
    this.maxHeldMs = maxHeldMs;
    this.maxTimersPerInstant = maxTimersPerInstant;
  }

  now(): number { return this.nowMs; }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: VirtualTimer = { at: this.nowMs + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: this.seq++, fn, unref: () => timer };
    this.heap.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    const t = timer as VirtualTimer;
    if (t.fn) { t.fn = null; this.live--; }
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => { this.setTimeout(resolve, ms); });
  }

  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.lastTouch = performance.now();
    };
  }

  touch(): void { this.lastTouch = performance.now(); }

  pendingTimers(): number { return this.live; }

  async runUntil(untilMs: number): Promise<void> {
    let firedHere = 0;
    for (;;) {
      await this.settle();
      const next = this.nextLive();
      if (!next || next.at > untilMs) break;
      if (next.at > this.nowMs) firedHere = 0;
      this.nowMs = Math.max(this.nowMs, next.at);
      // Everything due at this instant fires before the world is allowed to react, like a real tick would.
      while (this.heap.size > 0 && this.heap.peek()!.at <= this.nowMs) {
        const t = this.heap.pop()!;
        const fn = t.fn;
        if (!fn) continue;
        t.fn = null;
        this.live--;
        if (++firedHere > this.maxTimersPerInstant) {
          throw new ClockStalledError(`virtual clock: more than ${this.maxTimersPerInstant} timers fired at ${new Date(this.nowMs).toISOString()} without time moving (a zero-delay timer loop?)`);
        }
        fn();
      }
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  private nextLive(): VirtualTimer | undefined {
    while (this.heap.size > 0 && this.heap.peek()!.fn === null) this.heap.pop();
    return this.heap.peek();
  }

  /** Waits until no work is held and no message has moved for quietMs of wall time. */
  private async settle(): Promise<void> {
    const since = performance.now();
    for (;;) {
      await immediate();
      await immediate();
      if (this.holds === 0 && performance.now() - this.lastTouch >= this.quietMs) return;
      if (this.holds > 0 && performance.now() - since > this.maxHeldMs) {
        throw new ClockStalledError(`virtual clock: ${this.holds} piece(s) of work held time at ${new Date(this.nowMs).toISOString()} for over ${this.maxHeldMs / 1000} s of wall time`);
      }
      await sleepReal(this.holds > 0 ? 0 : Math.max(0, this.quietMs - (performance.now() - this.lastTouch)));
    }
  }
}
