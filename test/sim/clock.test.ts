import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClockStalledError, createSimClock } from '../../src/sim/clock.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');

test('virtual: time stands still, then jumps timer to timer in order', async () => {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const fired: [string, number][] = [];
  clock.setTimeout(() => fired.push(['b', clock.now()]), 2000);
  clock.setTimeout(() => fired.push(['a', clock.now()]), 1000);
  const c = clock.setTimeout(() => fired.push(['cancelled', clock.now()]), 1500);
  clock.setTimeout(() => { fired.push(['b2', clock.now()]); clock.setTimeout(() => fired.push(['chained', clock.now()]), 0); }, 2000);
  clock.clearTimeout(c);
  await sleep(5);
  assert.equal(clock.now(), t0, 'no wall time leaks in');
  assert.equal(clock.pendingTimers(), 3);
  const wall = performance.now();
  await clock.runUntil(t0 + 86_400_000);
  assert.ok(performance.now() - wall < 1000, 'a simulated day with a few timers takes no real time');
  assert.deepEqual(fired, [['a', t0 + 1000], ['b', t0 + 2000], ['b2', t0 + 2000], ['chained', t0 + 2000]]);
  assert.equal(clock.now(), t0 + 86_400_000);
  assert.equal(clock.pendingTimers(), 0);
});

test('virtual: held work keeps time from jumping until it is released', async () => {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  let fired = false;
  clock.setTimeout(() => { fired = true; }, 60_000);
  const release = clock.hold();
  const run = clock.runUntil(t0 + 120_000);
  await sleep(30);
  assert.equal(fired, false);
  assert.equal(clock.now(), t0);
  release();
  await run;
  assert.equal(fired, true);
  assert.equal(clock.now(), t0 + 120_000);
});

test('virtual: sleep resolves at the simulated instant', async () => {
  const clock = createSimClock({ mode: 'virtual', startMs: t0 });
  const woke: number[] = [];
  void clock.sleep(3_600_000).then(() => woke.push(clock.now()));
  await clock.runUntil(t0 + 7_200_000);
  assert.deepEqual(woke, [t0 + 3_600_000]);
});

test('accelerated: simulated time runs factor times faster than the wall', async () => {
  const clock = createSimClock({ mode: 'accelerated', startMs: t0, factor: 600 });
  const wall = performance.now();
  let firedAt = 0;
  clock.setTimeout(() => { firedAt = clock.now(); }, 30_000);
  await clock.runUntil(t0 + 60_000);
  const wallMs = performance.now() - wall;
  assert.ok(wallMs >= 95 && wallMs < 1000, `60 s at 600x is about 100 ms of wall time, took ${wallMs.toFixed(0)} ms`);
  assert.ok(firedAt >= t0 + 30_000 && firedAt < t0 + 45_000, `fired at +${(firedAt - t0) / 1000} s`);
  assert.throws(() => createSimClock({ mode: 'accelerated', factor: 0 }), /factor/);
});

test('real: follows the wall clock', async () => {
  const clock = createSimClock({ mode: 'real' });
  assert.ok(Math.abs(clock.now() - Date.now()) < 50);
  const before = clock.now();
  await clock.sleep(20);
  assert.ok(clock.now() - before >= 19);
});

test('virtual: a zero-delay timer loop or work held forever fails with a reason instead of spinning', async () => {
  const loop = createSimClock({ mode: 'virtual', startMs: t0, maxTimersPerInstant: 1000 });
  const again = () => { loop.setTimeout(again, 0); };
  loop.setTimeout(again, 10);
  await assert.rejects(loop.runUntil(t0 + 60_000), (err: Error) => err instanceof ClockStalledError && /more than 1000 timers fired at 2026-03-10T17:00:00.010Z/.test(err.message));
  const held = createSimClock({ mode: 'virtual', startMs: t0, maxHeldMs: 50 });
  held.hold();
  held.setTimeout(() => undefined, 1000);
  await assert.rejects(held.runUntil(t0 + 60_000), /1 piece\(s\) of work held time at 2026-03-10T17:00:00.000Z/);
});
