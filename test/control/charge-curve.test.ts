// The charge curve the control loop plans for each vehicle: the fleet record's, or a DC knee where none is declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DepotFleet } from '../../src/fleet/depots.ts';
import { buildSnapshot, chargeCurve, type LiveSession } from '../../src/control/snapshot.ts';
import { plan } from '../../src/planner/index.ts';
import { taperAt } from '../../src/planner/problem.ts';

const nowMs = Date.parse('2026-11-28T20:00:00Z');
const h = 3_600_000;
const declared = [{ socPercent: 60, maxPowerKw: 90 }, { socPercent: 90, maxPowerKw: 20 }];

function fleet(): DepotFleet {
  const dep = (id: string, vehicleId: string, arrivalMs: number | null, chargerId: string | null) => ({
    id, depotId: 'd', vehicleId, arrivalMs, arrivalSocPercent: 70, departureMs: nowMs + 3 * h, targetSocPercent: 100, energyNeededKwh: null,
    chargerId, priority: 0, estimated: false,
  });
  return {
    depot: { id: 'd', name: 'd', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: 400, peakSoFarKw: 0, mode: 'automatic', tariff: { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [], demandCharges: [] }, policy: {}, otherLoadKw: [] },
    circuits: [{ id: 'grid', parentId: null, maxPowerKw: 400 }],
    chargers: [
      { id: 'DC-1', circuitId: 'grid', stationId: 'DC-1', evseId: 1, kind: 'DC', maxPowerKw: 150 },
      { id: 'DC-2', circuitId: 'grid', stationId: 'DC-2', evseId: 1, kind: 'DC', maxPowerKw: 150 },
      { id: 'DC-3', circuitId: 'grid', stationId: 'DC-3', evseId: 1, kind: 'DC', maxPowerKw: 150 },
    ],
    vehicles: [
      { vehicleId: 'plain', depotId: 'd', batteryKwh: 80, acMaxPowerKw: 11, dcMaxPowerKw: 100, taper: null },
      { vehicleId: 'curved', depotId: 'd', batteryKwh: 80, acMaxPowerKw: 11, dcMaxPowerKw: 100, taper: declared },
      { vehicleId: 'coming', depotId: 'd', batteryKwh: 80, acMaxPowerKw: 11, dcMaxPowerKw: 100, taper: null },
    ],
    departures: [dep('d1', 'plain', nowMs - h, null), dep('d2', 'curved', nowMs - h, null), dep('d3', 'coming', nowMs + h, 'DC-3')],
    movePolicy: { movesPerShift: 0 },
  };
}

const session = (chargerId: string, vehicleId: string, tx: string): LiveSession => ({
  chargerId, stationId: chargerId, evseId: 1, transactionId: tx, idToken: null, vehicleId, identifiedBy: 'token', startedAtMs: nowMs - 600_000,
  meterStartKwh: 0, energyKwh: 0, powerKw: 0, powerAtMs: nowMs, lastFlowAtMs: nowMs,
});

test('a vehicle without a declared curve is planned with the DC knee; a declared curve is kept', () => {
  assert.deepEqual(chargeCurve({ taper: null, dcMaxPowerKw: 100 }), [{ socPercent: 80, maxPowerKw: 100 }, { socPercent: 100, maxPowerKw: 10 }]);
  assert.equal(chargeCurve({ taper: declared, dcMaxPowerKw: 100 }), declared);
  const view = { sessions: [session('DC-1', 'plain', '1'), session('DC-2', 'curved', '2')], usableChargers: new Set(['DC-1', 'DC-2', 'DC-3']), soc: new Map(), overrides: new Map() };
  const { snapshot } = buildSnapshot(fleet(), view, nowMs, () => 0);
  const byVehicle = new Map(snapshot.sessions.map((s) => [s.vehicleId, s]));
  assert.deepEqual(byVehicle.get('plain')!.taper, chargeCurve({ taper: null, dcMaxPowerKw: 100 }));
  assert.deepEqual(byVehicle.get('curved')!.taper, declared);
  assert.equal(byVehicle.get('coming')!.kind, 'expected');
  assert.deepEqual(byVehicle.get('coming')!.taper, chargeCurve({ taper: null, dcMaxPowerKw: 100 }), 'an expected arrival too');

  // What the knee changes: at 70 % of 80 kWh on a 150 kW charger, the plan never asks for more than the curve allows
  // at the SoC the van could have reached by then, so its last quarter hours run at a few tens of kW, not 100.
  const p = plan(snapshot, nowMs);
  const plain = p.sessions.find((s) => s.sessionId === byVehicle.get('plain')!.id)!;
  const battery = byVehicle.get('plain')!.battery!;
  let soc = battery.socPercent;
  for (const [t, kw] of plain.powerKw.entries()) {
    const hours = (p.slotStartsMs[t + 1] - p.slotStartsMs[t]) / h;
    assert.ok(kw <= taperAt(chargeCurve({ taper: null, dcMaxPowerKw: 100 }), soc) + 1e-6, `slot ${t}: ${kw} kW at ${soc.toFixed(1)} %`);
    soc += 100 * kw * hours / battery.capacityKwh;
  }
  assert.ok(plain.ready, 'three hours are enough for the last 30 % even on the knee');
});
