import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Battery, acceptanceKw } from '../../src/sim/battery.ts';
import { SimVehicle } from '../../src/sim/vehicle.ts';
import { createSimClock } from '../../src/sim/clock.ts';
import { startTelematicsFeed } from '../../src/sim/telematics.ts';
import type { VehicleReading } from '../../src/bus/events.ts';

const t0 = Date.parse('2026-03-10T17:00:00Z');

test('battery: inlet limits by charger kind, a knee taper, efficiency, and a stop at full', () => {
  const b = new Battery({ capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 50);
  assert.equal(b.maxIntakeKw('AC'), 11);
  assert.equal(b.maxIntakeKw('DC'), 50);
  assert.equal(acceptanceKw(b.spec, 90), 50 * (1 - 0.9 * 0.5), 'half way from the 80 % knee to full: 55 % of the top');
  assert.equal(acceptanceKw(b.spec, 100), 0);
  assert.equal(b.absorb(10), 10);
  assert.ok(Math.abs(b.energyKwh - (30 + 9.2)) < 1e-9, '92 % of grid energy is stored');
  assert.ok(Math.abs(b.absorb(100) - 20.8 / 0.92) < 1e-9, 'takes only what fits');
  assert.equal(b.socPercent, 100);
  assert.equal(b.maxIntakeKw('AC'), 0);
  assert.equal(b.drive(40), 10, '0.25 kWh/km');
  assert.throws(() => new Battery({ capacityKwh: 0, acMaxPowerKw: 1, dcMaxPowerKw: 1 }, 10), /capacityKwh/);
  assert.throws(() => new Battery({ capacityKwh: 10, acMaxPowerKw: 1, dcMaxPowerKw: 1, efficiency: 1.2 }, 10), /efficiency/);
});

test('battery: a taper curve from the scenario is interpolated and held flat beyond its ends', () => {
  const spec = { capacityKwh: 68, acMaxPowerKw: 11, dcMaxPowerKw: 50, taper: [{ socPercent: 80, maxPowerKw: 30 }, { socPercent: 95, maxPowerKw: 10 }] };
  assert.equal(acceptanceKw(spec, 50), 30);
  assert.equal(acceptanceKw(spec, 87.5), 20);
  assert.equal(acceptanceKw(spec, 99), 10);
  assert.equal(new Battery(spec, 90).maxIntakeKw('AC'), 11);
});

test('vehicle: drives its route after departure, using energy per km', () => {
  const v = new SimVehicle('van-01', { capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 80, 1000);
  v.plugIn();
  assert.equal(v.snapshot(t0).pluggedIn, true);
  v.depart(t0, 60, 40);
  const half = v.snapshot(t0 + 45 * 60_000);
  assert.equal(half.odometerKm, 1030);
  assert.equal(half.speedKmh, 40);
  assert.ok(Math.abs(half.socPercent - (80 - 7.5 / 60 * 100)) < 1e-9);
  const done = v.snapshot(t0 + 3 * 3_600_000);
  assert.equal(done.odometerKm, 1060);
  assert.equal(done.speedKmh, 0);
  assert.ok(done.lon > half.lon);
});

test('telematics feed: delayed, with gaps and duplicates, deterministic per seed', async () => {
  const run = async () => {
    const clock = createSimClock({ mode: 'virtual', startMs: t0 });
    const v = new SimVehicle('van-07', { capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 }, 40);
    v.plugIn();
    const got: VehicleReading[] = [];
    const feed = startTelematicsFeed(v, clock, (r) => got.push(r), { intervalS: 60, minDelayS: 10, maxDelayS: 120, gapProbability: 0.02, gapS: 900, duplicateProbability: 0.1, seed: 3 });
    await clock.runUntil(t0 + 24 * 3_600_000);
    feed.stop();
    return { got, stats: feed.stats };
  };
  const { got, stats } = await run();
  assert.equal(stats.sampled, 1440);
  assert.ok(stats.lostInGaps > 50, `gaps lose readings (${stats.lostInGaps})`);
  assert.ok(stats.duplicates > 50, `duplicates (${stats.duplicates})`);
  assert.equal(got.length, stats.delivered + stats.duplicates);
  const delays = got.map((r) => Date.parse(r.receivedAt) - Date.parse(r.at));
  assert.ok(delays.every((d) => d >= 10_000), 'never before the minimum delay');
  assert.ok(delays.some((d) => d > 100_000));
  const keys = got.map((r) => r.at);
  assert.ok(new Set(keys).size < keys.length, 'the same reading arrives twice');
  const order = got.map((r) => Date.parse(r.at));
  assert.ok(order.some((x, k) => k > 0 && x < order[k - 1]), 'delays reorder readings');
  assert.equal(got[0].type, 'VehicleReading');
  assert.equal(got[0].vehicleId, 'van-07');
  assert.equal(got[0].pluggedIn, true);
  assert.deepEqual((await run()).got, got, 'same seed, same feed');
});
