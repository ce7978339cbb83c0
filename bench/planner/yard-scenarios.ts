// Yard scenarios (issue 9): the reference depot with vehicles that have no bays yet, and small generated yards for
// the comparison with the exact optimum. Scenario-format JSON, so they go through the same parser as a file.
import { rng } from './random.ts';
import { depotTariff, iso, referenceSite } from './scenarios.ts';

type Json = Record<string, unknown>;

const minute = 60_000;
const hour = 60 * minute;

/** Europe/Amsterdam on 10 March 2026 is UTC+1: local 17:00 is 16:00Z. */
const refNow = Date.parse('2026-03-10T16:00:00Z');
const local = (day: number, h: number, m = 0) => refNow + (day * 24 + h - 17) * hour + m * minute;

/**
 * The reference depot of issue 3 as a yard (issue 9): the same 60 vans, 40 AC bays of 7.2 kW (Type 2) on a 200 kW
 * panel and 8 DC bays of 50 kW (CCS2) on a 250 kW feeder, a 350 kW service run at 300 kW, but no bay is given: vans
 * return 17:00–21:00 at 15–60 % SoC (target 90 %), 12 leave at 05:30 (priority 1), the rest 06:30–09:00. DC-7 is one
 * charger with two bays sharing 80 kW.
 */
export function referenceYard(options: { gridLimitKw?: number; name?: string; seed?: number } = {}): Json {
  const r = rng(options.seed ?? 4);
  const chargers: Json[] = [];
  for (let k = 1; k <= 40; k++) {
    const id = `AC-${String(k).padStart(2, '0')}`;
    chargers.push({ id, circuitId: 'ac-panel', kind: 'AC', maxPowerKw: 7.2, minPowerKw: 1.4, phases: 1, bays: [{ id, type: 'Type2', maxPowerKw: 7.2, minPowerKw: 1.4 }] });
  }
  for (let k = 1; k <= 6; k++) chargers.push({ id: `DC-${k}`, circuitId: 'dc-feeder', kind: 'DC', maxPowerKw: 50, bays: [{ id: `DC-${k}`, type: 'CCS2', maxPowerKw: 50 }] });
  chargers.push({ id: 'DC-7', circuitId: 'dc-feeder', kind: 'DC', maxPowerKw: 80, bays: [{ id: 'DC-7A', type: 'CCS2', maxPowerKw: 50 }, { id: 'DC-7B', type: 'CCS2', maxPowerKw: 50 }] });
  const van = (k: number) => `van-${String(k).padStart(2, '0')}`;
  const vehicles: Json[] = [];
  const yardVehicles: Json[] = [];
  for (let k = 1; k <= 60; k++) {
    vehicles.push({ id: van(k), batteryKwh: 68, acMaxPowerKw: k % 5 === 0 ? 6.6 : 11, dcMaxPowerKw: k % 7 === 0 ? 40 : 50, connectorTypes: ['CCS2', 'Type2'] });
    const departure = k <= 12 ? local(1, 5, 30) : local(1, 6, 30) + r.int(0, 10) * 15 * minute;
    const arrival = local(0, 17) + r.int(0, 16) * 15 * minute;
    yardVehicles.push({
      vehicleId: van(k), arrival: iso(arrival), departure: iso(departure), socPercent: Math.round(r.between(15, 60)), targetSocPercent: 90,
      ...(k <= 12 ? { priority: 1 } : {}),
    });
  }
  return {
    format: 'voltyard-scenario/1',
    name: options.name ?? 'reference-depot-yard',
    description: '60 vans, 48 bays and no bay given: 40 AC 7.2 kW Type 2 + 8 DC 50 kW CCS2 (DC-7: two bays sharing 80 kW); 300 kW site limit; vans return 17:00–21:00 at 15–60 % SoC, 12 leave 05:30, the rest 06:30–09:00; two people move vans, 16 moves a shift.',
    now: iso(refNow),
    ...referenceSite(options.gridLimitKw ?? 300),
    chargers, vehicles,
    yard: {
      vehicles: yardVehicles,
      movePolicy: { movesPerShift: 16, shiftStarts: ['06:00', '14:00', '22:00'], people: 2, minMinutesBetweenMoves: 10, noMoveBeforeDepartureMinutes: 30, minGainKwhPerMove: 5 },
      movesDoneThisShift: 0,
    },
    tariff: depotTariff, policy: { minSocPercent: 0 },
  };
}

export interface SmallYardOptions {
  readonly vehicles: number;
  readonly bays: number;
  readonly slots: number;
}

/**
 * A small generated yard for the exact optimum: one site circuit, a few AC and DC bays (one DC charger may have two
 * bays sharing its budget), vehicles with mixed inlets arriving over the first third, 30-minute slots.
 */
export function smallYard(seed: number, o: SmallYardOptions): Json {
  const r = rng(seed);
  const slotMinutes = 30;
  const now = Date.parse('2026-03-10T18:00:00Z');
  const end = now + o.slots * slotMinutes * minute;
  const chargers: Json[] = [];
  const dcBays = Math.max(1, Math.round(o.bays / 3));
  const acBays = Math.max(1, o.bays - dcBays);
  for (let k = 1; k <= acBays; k++) chargers.push({ id: `AC-${k}`, circuitId: 'site', kind: 'AC', maxPowerKw: 11, bays: [{ id: `AC-${k}`, type: r.next() < 0.85 ? 'Type2' : 'Type1', maxPowerKw: 11 }] });
  if (dcBays >= 2 && r.next() < 0.6) {
    chargers.push({ id: 'DC-1', circuitId: 'site', kind: 'DC', maxPowerKw: 60, bays: [{ id: 'DC-1A', type: 'CCS2', maxPowerKw: 50 }, { id: 'DC-1B', type: 'CCS2', maxPowerKw: 50 }] });
    for (let k = 3; k <= dcBays; k++) chargers.push({ id: `DC-${k - 1}`, circuitId: 'site', kind: 'DC', maxPowerKw: 50, bays: [{ id: `DC-${k - 1}`, type: r.next() < 0.8 ? 'CCS2' : 'CHAdeMO', maxPowerKw: 50 }] });
  } else {
    for (let k = 1; k <= dcBays; k++) chargers.push({ id: `DC-${k}`, circuitId: 'site', kind: 'DC', maxPowerKw: 50, bays: [{ id: `DC-${k}`, type: 'CCS2', maxPowerKw: 50 }] });
  }
  const vehicles: Json[] = [];
  const yardVehicles: Json[] = [];
  for (let k = 1; k <= o.vehicles; k++) {
    const id = `v${k}`;
    const types = r.next() < 0.85 ? ['CCS2', 'Type2'] : r.pick([['CHAdeMO', 'Type1'], ['CCS2'], ['Type2']]);
    vehicles.push({ id, batteryKwh: 60, acMaxPowerKw: r.pick([7.2, 11]), dcMaxPowerKw: r.pick([40, 50]), connectorTypes: types });
    const arrivalSlot = r.int(0, Math.floor(o.slots / 3));
    const departureSlot = r.int(Math.max(arrivalSlot + 4, Math.floor(o.slots / 2)), o.slots);
    yardVehicles.push({
      vehicleId: id, arrival: iso(now + arrivalSlot * slotMinutes * minute), departure: iso(Math.min(end, now + departureSlot * slotMinutes * minute)),
      energyNeededKwh: Math.round(r.between(8, 40)),
    });
  }
  return {
    format: 'voltyard-scenario/1', name: `small-yard-${seed}`, now: iso(now),
    depot: { id: `small-yard-${seed}`, timeZone: 'UTC', slotMinutes, gridLimitKw: Math.round(r.between(45, 90)), peakSoFarKw: 0 },
    circuits: [{ id: 'site', parentId: null, maxPowerKw: 200 }],
    chargers, vehicles,
    yard: {
      vehicles: yardVehicles,
      movePolicy: { movesPerShift: 100, shiftStarts: ['06:00'], people: 1, minMinutesBetweenMoves: 30, noMoveBeforeDepartureMinutes: 30, minGainKwhPerMove: 2 },
    },
    tariff: { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [{ from: '23:00', to: '05:00', pricePerKwh: 0.1 }], demandCharges: [] },
  };
}
