import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from '../../src/ocpp/auth-throttle.ts';

test('auth throttle: blocks past the failures allowed within the window, until the window after the last failure', () => {
  const t = new AuthThrottle({ maxFailures: 3, windowMs: 1000, maxAddresses: 100 });
  t.failed('a', 0);
  t.failed('a', 900);
  assert.equal(t.blocked('a', 950), false, 'two failures are allowed');
  t.failed('a', 1800);
  assert.equal(t.blocked('a', 1900), true);
  assert.equal(t.blocked('b', 1900), false, 'another address is not affected');
  assert.equal(t.blocked('a', 2799), true, 'a refused attempt does not extend the block');
  assert.equal(t.blocked('a', 2800), false, 'a window after the last failure');
  t.failed('a', 2900);
  assert.equal(t.blocked('a', 2901), false, 'the count starts again after a quiet window');
});

test('auth throttle: failures further apart than the window never add up; a success clears the address', () => {
  const t = new AuthThrottle({ maxFailures: 2, windowMs: 1000, maxAddresses: 100 });
  for (let k = 0; k < 5; k++) t.failed('a', k * 1000);
  assert.equal(t.blocked('a', 4001), false);
  t.failed('a', 4500);
  assert.equal(t.blocked('a', 4600), true);
  t.succeeded('a');
  assert.equal(t.blocked('a', 4600), false);
});

test('auth throttle: remembers at most maxAddresses, forgetting the stalest', () => {
  const t = new AuthThrottle({ maxFailures: 1, windowMs: 10_000, maxAddresses: 3 });
  for (const a of ['a', 'b', 'c']) t.failed(a, 0);
  t.failed('a', 1);
  t.failed('d', 2);
  assert.equal(t.blocked('b', 3), false, 'b was the stalest');
  for (const a of ['a', 'c', 'd']) assert.equal(t.blocked(a, 3), true, a);
});
