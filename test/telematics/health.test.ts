import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthBoard } from '../../src/telematics/health.ts';

test('provider health: readings per minute, error rate, latency quantiles, staleness, down after three failures', () => {
  const board = new HealthBoard();
  const t = Date.parse('2026-11-28T10:00:00.000Z');
  board.readings('p', t, [t - 2000, t - 4000, t - 6000]);
  board.units('p', t, 4, 1);
  board.readings('p', t + 30_000, [t + 29_000]);
  board.units('p', t + 30_000, 1, 0);
  let r = board.report('p', t + 45_000);
  assert.deepEqual([r.readingsPerMinute, r.errorRate, r.latencyMedianS, r.stalenessS], [4, 0.2, 4, 15]);
  assert.equal(board.report('p', t + 75_000).readingsPerMinute, 1, 'the first three fell out of the minute');
  for (let i = 0; i < 3; i++) board.failed('p', t + 80_000 + i, new Error('HTTP 503'));
  r = board.report('p', t + 90_000);
  assert.equal(r.state, 'down');
  assert.equal(r.consecutiveFailures, 3);
  assert.equal(r.lastError?.message, 'HTTP 503');
  board.succeeded('p', t + 95_000);
  assert.equal(board.report('p', t + 95_000).state, 'ok');
});
