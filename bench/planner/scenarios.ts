// Builders for the benchmark's scenario files and generated depots. They produce scenario-format JSON, so every
// generated depot also goes through the same parser and validation as a hand-written file.
import { rng, type Rng } from './random.ts';

type Json = Record<string, unknown>;

export const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const minute = 60_000;
const hour = 60 * minute;

/** Europe/Amsterdam on 10 March 2026 is UTC+1: local 18:00 is 17:00Z. */
const refNow = Date.parse('2026-03-10T17:00:00Z');
const local = (day: number, h: number, m = 0) => refNow + (day * 24 + h - 18) * hour + m * minute;

export const depotTariff = {
  name: 'Depot TOU with demand charge', currency: 'EUR', defaultPricePerKwh: 0.18,
  rules: [
    { from: '16:00', to: '21:00', pricePerKwh: 0.31 },
    { from: '21:00', to: '01:00', pricePerKwh: 0.14 },
    { from: '01:00', to: '05:00', pricePerKwh: 0.08 },
    { from: '05:00', to: '07:00', pricePerKwh: 0.14 },
  ],
  demandCharges: [{ pricePerKw: 12.5 }],
};

/** The reference depot's site: a 350 kW service run at `gridLimitKw`, an AC panel and a DC feeder, other site load. */
export function referenceSite(gridLimitKw: number): { depot: Json; circuits: Json[] } {
  return {
    depot: {
      id: 'reference-depot', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw, peakSoFarKw: 120,
      otherLoadKw: [{ from: iso(local(0, 17)), loadKw: 25 }, { from: iso(local(0, 22)), loadKw: 10 }, { from: iso(local(1, 6)), loadKw: 30 }],
    },
    circuits: [
      { id: 'service', parentId: null, maxPowerKw: 350 },
      { id: 'ac-panel', parentId: 'service', maxPowerKw: 200 },
      { id: 'dc-feeder', parentId: 'service', maxPowerKw: 250 },
    ],
  };
}

/**
 * The reference depot of issue 3: 60 vans, 40 AC chargers of 7.2 kW on one panel and 8 DC chargers of 50 kW on a
 * feeder, a 350 kW service run at 300 kW. Forty vans stay on AC all night; twenty share the DC bays in turns
 * (bays 1–4 three turns, bays 5–8 two), the 12 vans leaving at 05:30 among them.
 */
export function referenceDepot(options: { gridLimitKw?: number; name?: string; seed?: number } = {}): Json {
  const r = rng(options.seed ?? 4);
  const chargers: Json[] = [];
  for (let k = 1; k <= 40; k++) chargers.push({ id: `AC-${String(k).padStart(2, '0')}`, circuitId: 'ac-panel', kind: 'AC', maxPowerKw: 7.2, minPowerKw: 1.4, phases: 1 });
  for (let k = 1; k <= 8; k++) chargers.push({ id: `DC-${k}`, circuitId: 'dc-feeder', kind: 'DC', maxPowerKw: 50 });
  const vehicles: Json[] = [];
  const sessions: Json[] = [];
  const van = (k: number) => `van-${String(k).padStart(2, '0')}`;
  for (let k = 1; k <= 60; k++) {
    vehicles.push({ id: van(k), batteryKwh: 68, acMaxPowerKw: k % 5 === 0 ? 6.6 : 11, dcMaxPowerKw: k % 7 === 0 ? 40 : 50 });
  }
  const soc = () => Math.round(r.between(15, 60));
  // Vans 1–12 leave at 05:30; the rest between 06:30 and 09:00.
  const departure = (k: number) => (k <= 12 ? local(1, 5, 30) : local(1, 6, 30) + r.int(0, 10) * 15 * minute);
  const arrival = () => local(0, 17) + r.int(0, 16) * 15 * minute;
  // DC turns: [arrival, 23:00), [23:00, 02:00), [02:00, departure) on bays 1–4; [arrival, 00:00), [00:00, departure) on 5–8.
  let k = 1;
  for (let bay = 1; bay <= 8; bay++) {
    const turns = bay <= 4 ? [[null, local(0, 23)], [local(0, 23), local(1, 2)], [local(1, 2), null]] : [[null, local(1, 0)], [local(1, 0), null]];
    for (const [from, to] of turns) {
      const dep = Math.min(to ?? Number.POSITIVE_INFINITY, departure(k));
      const arr = from ?? arrival();
      sessions.push({ id: `s-${van(k)}`, vehicleId: van(k), chargerId: `DC-${bay}`, arrival: iso(arr), departure: iso(dep), socPercent: soc(), targetSocPercent: 90, priority: k <= 12 ? 1 : 0 });
      k++;
    }
  }
  for (let bay = 1; k <= 60; bay++, k++) {
    sessions.push({ id: `s-${van(k)}`, vehicleId: van(k), chargerId: `AC-${String(bay).padStart(2, '0')}`, arrival: iso(arrival()), departure: iso(departure(k)), socPercent: soc(), targetSocPercent: 90 });
  }
  return {
    format: 'voltyard-scenario/1',
    name: options.name ?? 'reference-depot',
    description: '60 vans; 40 AC 7.2 kW + 8 DC 50 kW; 350 kW service at a 300 kW site limit; 12 vans leave 05:30, the rest 06:30–09:00; TOU with a 16:00–21:00 peak and a demand charge.',
    now: iso(refNow),
    ...referenceSite(options.gridLimitKw ?? 300),
    chargers, vehicles, sessions, tariff: depotTariff, policy: { minSocPercent: 0 },
  };
}

export interface RandomDepotOptions {
  readonly sessions: number;
  /** Circuit levels below the root. */
  readonly levels: number;
  readonly fanout: number;
  readonly slotMinutes?: number;
  /** Ratio of total circuit capacity to total charger power; low means tight. */
  readonly tightness?: number;
  /** Latest departure in slots after now; one session leaves exactly then, so the horizon has this many slots. */
  readonly horizonSlots?: number;
}

function randomTariff(r: Rng): Json {
  const cheapFrom = r.int(0, 3);
  return {
    currency: 'EUR', defaultPricePerKwh: Math.round(r.between(0.12, 0.25) * 100) / 100,
    rules: [
      { from: `${16 + r.int(0, 2)}:00`, to: `${20 + r.int(0, 2)}:00`, pricePerKwh: Math.round(r.between(0.25, 0.45) * 100) / 100 },
      { from: `0${cheapFrom}:00`, to: `0${cheapFrom + r.int(2, 5)}:00`, pricePerKwh: Math.round(r.between(0.03, 0.1) * 100) / 100 },
      { from: '22:00', to: '24:00', pricePerKwh: Math.round(r.between(0.08, 0.16) * 100) / 100 },
    ],
    demandCharges: r.next() < 0.75 ? [{ pricePerKw: Math.round(r.between(2, 20) * 10) / 10 }] : [],
  };
}

/** A generated depot: a random circuit tree `levels` deep, a charger per session, random needs, windows and tariff. */
export function randomDepot(seed: number, o: RandomDepotOptions): Json {
  const r = rng(seed);
  const now = Date.parse('2026-03-10T15:00:00Z') + r.int(0, 8) * 15 * minute;
  const circuits: Json[] = [{ id: 'grid', parentId: null, maxPowerKw: 1 }];
  let frontier = ['grid'];
  for (let level = 1; level <= o.levels; level++) {
    const next: string[] = [];
    for (const parentId of frontier) {
      const count = r.int(1, o.fanout);
      for (let k = 0; k < count; k++) {
        const id = `${parentId === 'grid' ? 'c' : parentId}.${k}`;
        circuits.push({ id, parentId, maxPowerKw: 1 });
        next.push(id);
      }
    }
    frontier = next;
  }
  const chargers: Json[] = [];
  const sessions: Json[] = [];
  const power = new Map<string, number>();
  for (let i = 0; i < o.sessions; i++) {
    const dc = r.next() < 0.2;
    const maxPowerKw = dc ? r.pick([50, 100, 150]) : r.pick([7.2, 11, 22]);
    const circuitId = r.pick(frontier);
    chargers.push({ id: `ch${i}`, circuitId, kind: dc ? 'DC' : 'AC', maxPowerKw, ...(dc ? {} : { minPowerKw: 0 }) });
    power.set(circuitId, (power.get(circuitId) ?? 0) + maxPowerKw);
    const slot = (o.slotMinutes ?? 15) * minute;
    const arrival = now + (r.next() < 0.3 ? r.int(1, 16) * slot : 0);
    const last = o.horizonSlots ?? 80;
    const departure = i === 0 && o.horizonSlots ? now + last * slot : Math.min(now + last * slot, arrival + r.int(8, last - 16) * slot);
    const hours = (departure - Math.max(arrival, now)) / hour;
    const vehicleMax = dc ? maxPowerKw : Math.min(maxPowerKw, r.pick([7.2, 11, 22]));
    sessions.push({
      id: `s${i}`, chargerId: `ch${i}`, departure: iso(departure), ...(arrival > now ? { arrival: iso(arrival) } : {}),
      energyNeededKwh: Math.round(r.between(0.1, 0.9) * vehicleMax * hours * 10) / 10,
      vehicleMaxPowerKw: vehicleMax, priority: r.next() < 0.15 ? 1 : 0,
    });
  }
  // Limits: a fraction of the power below each circuit, so some bind and some do not.
  const tight = o.tightness ?? 0.5;
  const below = new Map<string, number>();
  for (let k = circuits.length - 1; k >= 0; k--) {
    const c = circuits[k];
    const id = c.id as string;
    const own = (power.get(id) ?? 0) + (below.get(id) ?? 0);
    c.maxPowerKw = Math.max(5, Math.round(own * r.between(tight * 0.6, Math.min(1.2, tight * 1.6))));
    if (c.parentId !== null) below.set(c.parentId as string, (below.get(c.parentId as string) ?? 0) + own);
  }
  return {
    format: 'voltyard-scenario/1', name: `random-${seed}`, now: iso(now),
    depot: { id: `random-${seed}`, timeZone: r.pick(['Europe/Amsterdam', 'America/Los_Angeles', 'Asia/Tokyo']), slotMinutes: o.slotMinutes ?? 15, gridLimitKw: circuits[0].maxPowerKw, peakSoFarKw: r.pick([0, 0, 20, 100]) },
    circuits, chargers, sessions, tariff: randomTariff(r),
  };
}
