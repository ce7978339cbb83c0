// The pure parts of the control loop's yard: live state -> YardSnapshot, the plan's session ids, done tasks, shifts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DepotFleet } from '../../src/fleet/depots.ts';
import type { LiveSession } from '../../src/control/snapshot.ts';
import { buildYardSnapshot, controlPlan, shiftStartMs, tasksDone, unknownVehicleId } from '../../src/control/yard.ts';
import type { YardTaskRow } from '../../src/control/yard-tasks.ts';
import type { YardPlan } from '../../src/planner/yard/types.ts';

const nowMs = Date.parse('2026-11-28T20:00:00Z');
const h = 3_600_000;

function fleet(): DepotFleet {
  const dep = (id: string, vehicleId: string, arrivalMs: number | null, extra: Partial<DepotFleet['departures'][number]> = {}) => ({
    id, depotId: 'd', vehicleId, arrivalMs, arrivalSocPercent: 30, departureMs: nowMs + 10 * h, targetSocPercent: 80, energyNeededKwh: null, chargerId: null, priority: 0, estimated: false, ...extra,
  });
  return {
    depot: { id: 'd', name: 'd', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: 100, peakSoFarKw: 0, mode: 'automatic', tariff: { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [], demandCharges: [] }, policy: { unknownVehicleEnergyKwh: 33 }, otherLoadKw: [] },
    circuits: [{ id: 'grid', parentId: null, maxPowerKw: 150 }],
    chargers: [
      { id: 'DC-1a', circuitId: 'grid', stationId: 'DC-1', evseId: 1, kind: 'DC', maxPowerKw: 50, connectorType: 'CCS2', stationMaxPowerKw: 60 },
      { id: 'DC-1b', circuitId: 'grid', stationId: 'DC-1', evseId: 2, kind: 'DC', maxPowerKw: 50, connectorType: 'CHAdeMO', stationMaxPowerKw: 60 },
      { id: 'AC-1', circuitId: 'grid', stationId: 'AC-1', evseId: 1, kind: 'AC', maxPowerKw: 11 },
      { id: 'AC-2', circuitId: 'grid', stationId: 'AC-2', evseId: 1, kind: 'AC', maxPowerKw: 11 },
    ],
    vehicles: ['v1', 'v2', 'v3', 'v4'].map((id) => ({ vehicleId: id, depotId: 'd', batteryKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50, taper: null, ...(id === 'v2' ? { connectorTypes: ['CHAdeMO' as const] } : {}) })),
    departures: [
      dep('d1', 'v1', nowMs - 2 * h),
      dep('d2', 'v2', nowMs - 1 * h, { energyNeededKwh: 30 }),
      dep('d3', 'v3', nowMs + 2 * h, { chargerId: 'AC-1' }),
      dep('d4', 'v4', null),
    ],
    movePolicy: { movesPerShift: 4 },
  };
}

const session = (chargerId: string, stationId: string, vehicleId: string | null, tx: string): LiveSession => ({
  chargerId, stationId, evseId: 1, transactionId: tx, idToken: null, vehicleId, identifiedBy: vehicleId ? 'token' : 'unknown', startedAtMs: nowMs - h,
  meterStartKwh: 0, energyKwh: 5, powerKw: 7, powerAtMs: nowMs, lastFlowAtMs: nowMs,
});

test('the yard snapshot: stations with shared budgets, bays that cannot be used left out, who is where', () => {
  const f = fleet();
  const sessions = [session('AC-2', 'AC-2', 'v1', '11'), session('DC-1a', 'DC-1', null, '12')];
  const { snapshot, onBay, departureOf } = buildYardSnapshot(f, { sessions, usableChargers: new Set(['DC-1a', 'DC-1b', 'AC-2']), soc: new Map(), overrides: new Map() }, nowMs, () => 0, {
    movesDoneThisShift: 2, deliveredKwh: new Map([['v2', { departureId: 'd2', kwh: 10 }]]), plannedBay: new Map(),
  });
  assert.equal(snapshot.movesDoneThisShift, 2);
  assert.deepEqual(snapshot.movePolicy, { movesPerShift: 4 });
  const dc = snapshot.chargers.find((c) => c.id === 'DC-1')!;
  assert.equal(dc.maxPowerKw, 60, 'the station budget, not 2 × 50');
  assert.deepEqual(dc.bays.map((b) => [b.id, b.type]), [['DC-1a', 'CCS2'], ['DC-1b', 'CHAdeMO']]);
  assert.ok(!snapshot.chargers.some((c) => c.id === 'AC-1'), 'AC-1 is offline: not a bay to plan onto');
  assert.deepEqual(snapshot.chargers.find((c) => c.id === 'AC-2')!.bays[0].type, 'Type2', 'the usual AC connector when none is configured');

  const byId = new Map(snapshot.vehicles.map((v) => [v.id, v]));
  assert.deepEqual(byId.get('v1')!.location, { kind: 'bay', bayId: 'AC-2', sinceMs: nowMs - h });
  const unknown = byId.get(unknownVehicleId('DC-1a'))!;
  assert.equal(unknown.location.kind, 'bay');
  assert.equal(unknown.energyNeededKwh, 33, 'the policy\'s unknown need');
  assert.ok(unknown.connectorTypes.includes('CCS2'), 'on CCS2, so it takes CCS2');
  assert.deepEqual(byId.get('v2')!.location, { kind: 'lot' });
  assert.deepEqual(byId.get('v2')!.connectorTypes, ['CHAdeMO']);
  assert.ok(Math.abs(byId.get('v2')!.energyNeededKwh! - (30 / 0.9 - 10)) < 1e-9, 'grid-side need minus what an earlier stint gave');
  assert.deepEqual(byId.get('v3')!.location, { kind: 'expected', arrivalMs: nowMs + 2 * h });
  assert.equal(byId.get('v3')!.plannedBayId, undefined, 'AC-1 is not usable: no hint to it');
  assert.deepEqual(byId.get('v4')!.location, { kind: 'lot' }, 'no arrival: at the depot');
  assert.equal(byId.get('v4')!.battery!.socPercent, 30);
  assert.deepEqual([...onBay.keys()].sort(), [unknownVehicleId('DC-1a'), 'v1'].sort());
  assert.equal(departureOf.get('v3'), 'd3');
});

test('the yard\'s energy plan in the loop\'s session ids; no plan when a plugged vehicle got no stint', () => {
  const s1 = session('AC-2', 'AC-2', 'v1', '11');
  const sp = (id: string, chargerId: string, kind: 'plugged' | 'expected') => ({ sessionId: id, chargerId, kind, powerKw: [1], neededKwh: 1, plannedKwh: 1, shortfallKwh: 0, departureMs: nowMs + h, ready: true, trace: [] });
  const energy = { depotId: 'd', nowMs, slotStartsMs: [nowMs, nowMs + 900_000], pricePerKwh: [0.2], sessions: [sp('v1@AC-2', 'AC-2', 'plugged'), sp('v3@AC-1', 'AC-1', 'expected'), sp('v1@AC-1', 'AC-1', 'expected')], circuits: [], siteLoadKw: [3], siteCapKw: 100, energyCost: 0, demandChargeIncrement: 0, totalCost: 0, peakKw: 3, currency: 'EUR', allReady: true, shortfallKwh: 0 };
  const yard = { depotId: 'd', nowMs, stints: [], tasks: [], vehicles: [], energy, moves: 0, readyCount: 0 } as YardPlan;
  const out = controlPlan(yard, new Map([['v1', s1]]), new Map([['v1', 'd1'], ['v3', 'd3']]))!;
  assert.deepEqual(out.plan.sessions.map((x) => x.sessionId), ['tx-11', 'exp-d3', 'exp-d1']);
  assert.equal(out.live.get('tx-11'), s1);
  const s2 = session('DC-1a', 'DC-1', 'v2', '12');
  assert.equal(controlPlan(yard, new Map([['v1', s1], ['v2', s2]]), new Map()), null, 'v2 is plugged in but has no stint');
});

test('tasks are done when their van is on their bay (an unplug: when it is off it)', () => {
  const row = (id: number, kind: string, vehicle: string, bay: string) => ({ id, kind, vehicle_id: vehicle, bay_id: bay }) as YardTaskRow;
  const sessions = [session('AC-1', 'AC-1', 'v1', '1'), session('AC-2', 'AC-2', 'v2', '2')];
  assert.deepEqual(tasksDone([row(1, 'plug', 'v1', 'AC-1'), row(2, 'plug', 'v2', 'AC-1'), row(3, 'swap', 'v2', 'AC-2'), row(4, 'unplug', 'v1', 'AC-1'), row(5, 'unplug', 'v3', 'AC-2')], sessions), [1, 3, 5]);
  // An unidentified vehicle still on its bay: the task to unplug it is not done.
  const unknown = [session('DC-1a', 'DC-1', null, '9')];
  assert.deepEqual(tasksDone([row(6, 'unplug', unknownVehicleId('DC-1a'), 'DC-1a')], unknown), []);
  assert.deepEqual(tasksDone([row(6, 'unplug', unknownVehicleId('DC-1a'), 'DC-1a')], []), [6]);
});

test('the shift a move counts in starts at the latest shift start at or before now, on the depot clock, across DST', () => {
  const tz = 'Europe/Amsterdam';
  assert.equal(new Date(shiftStartMs(Date.parse('2026-11-28T05:30:00Z'), tz, ['06:00', '22:00'])).toISOString(), '2026-11-28T05:00:00.000Z');
  assert.equal(new Date(shiftStartMs(Date.parse('2026-11-28T04:00:00Z'), tz, ['06:00', '22:00'])).toISOString(), '2026-11-27T21:00:00.000Z');
  // 29 March 2026: clocks go from 02:00 to 03:00; 06:00 local is 04:00Z (summer time), 22:00 the day before 21:00Z.
  assert.equal(new Date(shiftStartMs(Date.parse('2026-03-29T05:00:00Z'), tz, ['06:00', '22:00'])).toISOString(), '2026-03-29T04:00:00.000Z');
  assert.equal(new Date(shiftStartMs(Date.parse('2026-03-29T03:00:00Z'), tz, ['06:00', '22:00'])).toISOString(), '2026-03-28T21:00:00.000Z');
  assert.equal(new Date(shiftStartMs(Date.parse('2026-11-28T12:00:00Z'), 'America/New_York', ['07:00'])).toISOString(), '2026-11-28T12:00:00.000Z');
});
