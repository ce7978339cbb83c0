import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { createSimClock } from '../../src/sim/clock.ts';
import { startPermissiveCentral } from '../../src/sim/central.ts';
import { idTagFor, runSimulation } from '../../src/sim/simulation.ts';
import { formatReport } from '../../src/sim/report.ts';
import { runScenario } from '../../src/sim/run.ts';
import type { VehicleReading } from '../../src/bus/events.ts';
import { smallDepot } from './fixtures.ts';


test('a small depot night, uncontrolled, against a real OCPP server: vehicles, meters and the report agree', async () => {
  const scenario = parseScenario(smallDepot);
  const clock = createSimClock({ mode: 'virtual', startMs: scenario.nowMs });
  const central = await startPermissiveCentral({ clock });
  const readings: VehicleReading[] = [];
  try {
    const report = await runSimulation({
      scenario, url: central.url, clock, control: 'uncontrolled', meterIntervalS: 60,
      telematics: { intervalS: 300 }, onReading: (r) => readings.push(r),
    });
    const byId = new Map(report.vehicles.map((v) => [v.sessionId, v]));
    // van-1: uncontrolled, it fills from 30 % to 100 %: 60 kWh × 70 % stored / 0.92 efficiency from the grid.
    assert.equal(byId.get('s1')!.ready, true);
    assert.ok(Math.abs(byId.get('s1')!.energyKwh - 42 / 0.92) < 0.1, `van-1 energy ${byId.get('s1')!.energyKwh}`);
    assert.equal(byId.get('s1')!.departureSocPercent, 100);
    // van-3 on DC for 90 min, tapering from 70 %: it gets there? the taper limits it, so check the physics instead.
    assert.ok(byId.get('s3')!.departureSocPercent > 80 && byId.get('s3')!.departureSocPercent < 90, 'the taper from 70 % keeps van-3 short of 90 % in 90 min');
    assert.equal(byId.get('s4')!.chargerId, 'DC-1', 'the next van takes the bay the first one left at the same instant');
    assert.equal(byId.get('guest')!.ready, true);
    // van-2 on a 1-phase 7.2 kW bay for 3 h 50 min cannot take 48 kWh: the report says so, with the shortfall.
    const s2 = byId.get('s2')!;
    assert.equal(s2.ready, false);
    assert.ok(Math.abs(s2.energyKwh - 7.2 * (3 + 50 / 60)) < 0.2, `van-2 energy ${s2.energyKwh}`);
    assert.ok(Math.abs(s2.shortfallKwh - (99.5 - s2.departureSocPercent) / 100 * 60) < 0.1);
    // The site meter equals the sum of the sessions' meters.
    const sessionsKwh = report.vehicles.reduce((a, v) => a + v.energyKwh, 0);
    assert.ok(Math.abs(report.site.energyKwh - sessionsKwh) < 0.1, `site ${report.site.energyKwh} vs sessions ${sessionsKwh}`);
    assert.ok(report.site.peakKw > 60 && report.site.slotsOverLimit > 0, 'uncontrolled: van-1 + van-3 on DC + building load exceed 40 kW');
    assert.equal(report.site.slots.length, 53, '17:00 to 06:15 in quarter hours');
    assert.ok(report.site.totalCost > report.site.energyCost);
    // OCPP traffic: every charger booted, every session became a transaction.
    assert.deepEqual(new Set(central.received.filter((r) => r.method === 'BootNotification').map((r) => r.stationId)), new Set(['AC-1', 'AC-2', 'DC-1']));
    assert.deepEqual(central.received.filter((r) => r.method === 'StartTransaction').map((r) => r.params.idTag).sort(), ['guest', 'van-1', 'van-2', 'van-3', 'van-4'], 'vans present their vehicle id, the guest its session id');
    assert.equal(central.received.filter((r) => r.method === 'StopTransaction').length, 5);
    const dcSoc = central.received.filter((r) => r.method === 'MeterValues' && r.stationId === 'DC-1')
      .flatMap((r) => (r.params.meterValue as { sampledValue: { measurand: string }[] }[])[0].sampledValue).filter((s) => s.measurand === 'SoC');
    assert.ok(dcSoc.length > 0, 'DC meter values carry the SoC');
    // Telematics: readings of every vehicle, and the departing van driving away.
    assert.deepEqual(new Set(readings.map((r) => r.vehicleId)), new Set(['van-1', 'van-2', 'van-3', 'van-4', 'guest']));
    const van3 = readings.filter((r) => r.vehicleId === 'van-3');
    assert.ok(van3.some((r) => r.pluggedIn === false && (r.speedKmh ?? 0) > 0), 'van-3 reported driving after 19:00');
    assert.equal(report.telematics!.delivered + report.telematics!.duplicates, readings.length);
    const text = formatReport(report);
    assert.match(text, /small-depot: uncontrolled charging, virtual clock/);
    assert.match(text, /ready: 3\/5/);
  } finally {
    await central.close();
  }
});

test('accelerated clock: an hour at 1800x takes about two seconds and meters the same physics', async () => {
  const hour = {
    ...smallDepot, name: 'one-hour',
    sessions: [{ id: 's1', vehicleId: 'van-1', chargerId: 'AC-1', departure: '2026-03-10T18:00:00Z', socPercent: 30, targetSocPercent: 90 }],
  };
  const wall = performance.now();
  const report = await runScenario(parseScenario(hour), { central: { kind: 'uncontrolled' }, speed: 1800, meterIntervalS: 60 });
  const wallMs = performance.now() - wall;
  assert.equal(report.clock, 'accelerated');
  assert.ok(wallMs > 1800 && wallMs < 6000, `took ${wallMs} ms`);
  // At 1800x every wall millisecond of OCPP round trip before charging starts costs 1.8 simulated seconds.
  const kwh = report.vehicles[0].energyKwh;
  assert.ok(kwh > 9.5 && kwh <= 11.01, `up to 11 kWh in the hour, got ${kwh}`);
});

test('tokens fit OCPP 1.6: ids longer than 20 characters become a stable hash', () => {
  assert.equal(idTagFor({ id: 's-1', vehicleId: 'van-01' }), 'van-01');
  assert.equal(idTagFor({ id: 'guest' }), 'guest');
  const long = idTagFor({ id: 's', vehicleId: 'a-very-long-vehicle-identifier' });
  assert.ok(long.length <= 20);
  assert.equal(long, idTagFor({ id: 'other', vehicleId: 'a-very-long-vehicle-identifier' }));
});
