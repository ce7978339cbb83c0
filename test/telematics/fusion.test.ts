import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestSoc, CHARGING_EFFICIENCY, type SocInputs } from '../../src/telematics/fusion.ts';
import { ChargerFeed } from '../../src/telematics/charger-feed.ts';
import type { MeterSampled, SessionStarted } from '../../src/bus/events.ts';

const NOW = Date.parse('2026-11-28T10:00:00.000Z');
const ago = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();
const base: SocInputs = {
  nowMs: NOW, telematics: null, charger: null, energySinceTelematics: null, batteryKwh: 75, consumptionKwhPerKm: 0.25,
  odometerDeltaKm: null, plannedTripsKm: null, staleAfterS: 1800,
};

test('case 5: nothing known gives no SoC, zero confidence, and says it is an estimate', () => {
  const r = bestSoc(base);
  assert.deepEqual([r.socPercent, r.source, r.confidence, r.estimate, r.stale], [null, 'unknown', 0, true, true]);
});

test('case 1: the newest of telematics and charger SoC wins', () => {
  const tele = bestSoc({ ...base, telematics: { socPercent: 60, at: ago(2) }, charger: { socPercent: 58, at: ago(10) } });
  assert.deepEqual([tele.socPercent, tele.source, tele.ageS, tele.stale, tele.estimate], [60, 'telematics', 120, false, false]);
  const charger = bestSoc({ ...base, telematics: { socPercent: 60, at: ago(20) }, charger: { socPercent: 71, at: ago(1) } });
  assert.deepEqual([charger.socPercent, charger.source, charger.ageS], [71, 'charger', 60]);
});

test('case 2: telematics plus the energy the charger delivered since', () => {
  const r = bestSoc({ ...base, telematics: { socPercent: 40, at: ago(45) }, energySinceTelematics: { kwh: 15, until: ago(1) } });
  assert.equal(r.source, 'telematics+energy');
  assert.equal(r.socPercent, Math.round((40 + 15 * CHARGING_EFFICIENCY / 75 * 100) * 10) / 10);
  assert.equal(r.ageS, 60, 'age runs from the last energy sample, not the old telematics reading');
  assert.equal(r.stale, false);
  assert.match(r.basis, /15 kWh delivered since/);
  // Never beyond full.
  assert.equal(bestSoc({ ...base, telematics: { socPercent: 95, at: ago(45) }, energySinceTelematics: { kwh: 30, until: ago(1) } }).socPercent, 100);
  // Without a battery size the energy cannot be turned into percent: plain (stale) telematics.
  assert.equal(bestSoc({ ...base, batteryKwh: null, telematics: { socPercent: 40, at: ago(45) }, energySinceTelematics: { kwh: 15, until: ago(1) } }).source, 'estimate');
});

test('case 3: confidence falls with age and the value turns stale', () => {
  const fresh = bestSoc({ ...base, telematics: { socPercent: 60, at: ago(0) } });
  const older = bestSoc({ ...base, telematics: { socPercent: 60, at: ago(20) } });
  assert.ok(fresh.confidence > older.confidence);
  assert.equal(older.stale, false);
  const stale = bestSoc({ ...base, telematics: { socPercent: 60, at: ago(31) } });
  assert.equal(stale.stale, true);
  assert.equal(stale.estimate, true);
  assert.match(stale.basis, /no distance driven since is known/);
});

test('case 4: stale SoC minus the trips since, from the odometer or else the schedule, at the vehicle kWh/km', () => {
  const byOdo = bestSoc({ ...base, telematics: { socPercent: 80, at: ago(120) }, odometerDeltaKm: 60, plannedTripsKm: 999 });
  assert.equal(byOdo.source, 'estimate');
  assert.equal(byOdo.socPercent, 60, '80 % − 60 km × 0.25 kWh/km = 15 kWh of 75 kWh = 20 %');
  assert.match(byOdo.basis, /odometer/);
  const bySchedule = bestSoc({ ...base, telematics: { socPercent: 80, at: ago(120) }, plannedTripsKm: 30 });
  assert.equal(bySchedule.socPercent, 70);
  assert.match(bySchedule.basis, /schedule/);
  assert.ok(bySchedule.confidence < 0.5);
  assert.equal(bestSoc({ ...base, telematics: { socPercent: 10, at: ago(120) }, odometerDeltaKm: 500 }).socPercent, 0);
  const noModel = bestSoc({ ...base, consumptionKwhPerKm: null, telematics: { socPercent: 80, at: ago(120) }, odometerDeltaKm: 60 });
  assert.deepEqual([noModel.socPercent, noModel.confidence, noModel.estimate], [80, 0.1, true]);
});

test('charger feed: energy delivered since an instant, over sessions, with out-of-order samples', () => {
  const feed = new ChargerFeed();
  const meter = (at: string, energyKwh: number, socPercent: number | null = null, transactionId = 'tx1'): MeterSampled => ({
    type: 'MeterSampled', at, receivedAt: at, stationId: 'CP1', evseId: 1, connectorId: 1, transactionId, context: 'Sample.Periodic',
    powerKw: 11, energyKwh, currentA: null, voltageV: null, socPercent, offeredPowerKw: null, currentOfferedA: null, temperatureC: null, phases: null,
  });
  const start: SessionStarted = { type: 'SessionStarted', at: ago(60), receivedAt: ago(60), stationId: 'CP1', evseId: 1, connectorId: 1, transactionId: 'tx1', idToken: null, meterStartKwh: 1000 };
  feed.sessionStarted('t1/van', start);
  feed.meterSampled('t1/van', meter(ago(40), 1004));
  feed.meterSampled('t1/van', meter(ago(10), 1010, 66));
  feed.meterSampled('t1/van', meter(ago(30), 1006)); // late sample
  assert.deepEqual(feed.energySince('t1/van', ago(35)), { kwh: 6, until: ago(10) });
  assert.deepEqual(feed.energySince('t1/van', ago(90)), { kwh: 10, until: ago(10) });
  assert.equal(feed.energySince('t1/van', ago(5)), null);
  assert.deepEqual(feed.chargerSoc('t1/van'), { socPercent: 66, at: ago(10) });
  feed.meterSampled('t1/van', meter(ago(20), 1008, 61)); // an older SoC does not replace a newer one
  assert.equal(feed.chargerSoc('t1/van')?.socPercent, 66);
  feed.socReported('t1/van', 68, ago(5)); // ISO 15118 charging needs
  assert.deepEqual(feed.chargerSoc('t1/van'), { socPercent: 68, at: ago(5) });
  feed.socReported('t1/van', 680, ago(1)); // nonsense is ignored
  assert.equal(feed.chargerSoc('t1/van')?.socPercent, 68);
});
