import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';
import { localTimeIn, parseClock } from '../energy/tariff.ts';
import type { Departure } from './depots.ts';

/**
 * Weekly-repeating duty blocks: "van-7 leaves Mon-Fri at 06:30, back at 18:00, needs 120 km". The control loop plans
 * from concrete departures, so `expandBlocks` turns each block into the departures of the coming days, in the depot's
 * time zone (a 06:30 departure stays 06:30 across a DST change). A block needs energy as a target SoC, as kWh, or as a
 * distance (kWh = km x the vehicle's consumption).
 */

export const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = typeof weekdays[number];

export interface WeeklyBlock {
  readonly id: string;
  readonly depotId: string;
  readonly vehicleId: string;
  /** The days the vehicle leaves. */
  readonly days: readonly Weekday[];
  /** 'HH:MM' local. */
  readonly departureTime: string;
  /** 'HH:MM' local; later than the departure time means the evening before. Null: it is at the depot. */
  readonly arrivalTime: string | null;
  readonly targetSocPercent: number | null;
  readonly energyNeededKwh: number | null;
  readonly distanceKm: number | null;
  readonly chargerId: string | null;
  readonly priority: number;
  readonly updatedAt: string;
}

export const blockMigrations: readonly Migration[] = [{
  name: '0230_fleet_blocks',
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('fleet_block')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('vehicle_id', 'text', (c) => c.notNull())
      .addColumn('days', 'text', (c) => c.notNull())
      .addColumn('departure_time', 'text', (c) => c.notNull())
      .addColumn('arrival_time', 'text')
      .addColumn('target_soc_percent', 'double precision')
      .addColumn('energy_needed_kwh', 'double precision')
      .addColumn('distance_km', 'double precision')
      .addColumn('charger_id', 'text')
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('fleet_block_depot').on('fleet_block').columns(['depot_id', 'vehicle_id']).execute();
  },
}];

type Tables = {
  fleet_block: {
    id: string; depot_id: string; vehicle_id: string; days: string; departure_time: string; arrival_time: string | null; target_soc_percent: number | null;
    energy_needed_kwh: number | null; distance_km: number | null; charger_id: string | null; priority: number; updated_at: string;
  };
  fleet_vehicle: { vehicle_id: string; consumption_kwh_per_km: number | null };
};

const toBlock = (r: Tables['fleet_block']): WeeklyBlock => ({
  id: r.id, depotId: r.depot_id, vehicleId: r.vehicle_id, days: r.days.split(',').filter(Boolean) as Weekday[], departureTime: r.departure_time,
  arrivalTime: r.arrival_time, targetSocPercent: r.target_soc_percent, energyNeededKwh: r.energy_needed_kwh, distanceKm: r.distance_km,
  chargerId: r.charger_id, priority: r.priority, updatedAt: r.updated_at,
});

export interface BlockStore {
  list(depotId: string, page?: { limit: number; offset: number }): Promise<{ items: WeeklyBlock[]; total: number }>;
  get(depotId: string, id: string): Promise<WeeklyBlock | null>;
  put(block: Omit<WeeklyBlock, 'updatedAt'>, at: string): Promise<WeeklyBlock>;
  remove(depotId: string, id: string): Promise<boolean>;
  /** kWh per km of each vehicle that has one on record. */
  consumption(vehicleIds: readonly string[]): Promise<Map<string, number>>;
}

export function blockStore(store: Store): BlockStore {
  const db = store.db.withTables<Tables>();
  return {
    async list(depotId, page) {
      let q = db.selectFrom('fleet_block').selectAll().where('depot_id', '=', depotId).orderBy('vehicle_id').orderBy('id');
      if (page) q = q.limit(page.limit).offset(page.offset);
      const { n } = await db.selectFrom('fleet_block').select((eb) => eb.fn.countAll<number>().as('n')).where('depot_id', '=', depotId).executeTakeFirstOrThrow();
      return { items: (await q.execute()).map(toBlock), total: Number(n) };
    },
    async get(depotId, id) {
      const r = await db.selectFrom('fleet_block').selectAll().where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      return r ? toBlock(r) : null;
    },
    async put(b, at) {
      const row = {
        id: b.id, depot_id: b.depotId, vehicle_id: b.vehicleId, days: b.days.join(','), departure_time: b.departureTime, arrival_time: b.arrivalTime,
        target_soc_percent: b.targetSocPercent, energy_needed_kwh: b.energyNeededKwh, distance_km: b.distanceKm, charger_id: b.chargerId, priority: b.priority, updated_at: at,
      };
      const { id: _id, ...rest } = row;
      await db.insertInto('fleet_block').values(row).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
      return toBlock(row);
    },
    async remove(depotId, id) {
      const r = await db.deleteFrom('fleet_block').where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async consumption(vehicleIds) {
      if (vehicleIds.length === 0) return new Map();
      const rows = await db.selectFrom('fleet_vehicle').select(['vehicle_id', 'consumption_kwh_per_km']).where('vehicle_id', 'in', [...vehicleIds]).execute();
      return new Map(rows.filter((r) => r.consumption_kwh_per_km !== null).map((r) => [r.vehicle_id, r.consumption_kwh_per_km!]));
    },
  };
}

/** The UTC instant of a local wall time (date + minutes after midnight) in `timeZone`. */
export function localToUtc(timeZone: string, year: number, month: number, day: number, minuteOfDay: number): number {
  const local = localTimeIn(timeZone);
  const wall = Date.UTC(year, month - 1, day) + minuteOfDay * 60_000;
  const offset = (ms: number) => {
    const l = local(ms);
    return Date.UTC(l.year, l.month - 1, l.day) + l.minuteOfDay * 60_000 - Math.floor(ms / 60_000) * 60_000;
  };
  let utc = wall - offset(wall);
  utc = wall - offset(utc);
  return utc;
}

/** How far ahead weekly blocks become departures: the planner's horizon and a day of slack. */
export const expansionDays = 3;

/**
 * The concrete departures of `blocks` leaving in [fromMs - 12 h, fromMs + days). A one-off departure of the same
 * vehicle within 3 h of an occurrence replaces it (the one-off is the exception to the routine). Pure.
 */
export function expandBlocks(blocks: readonly WeeklyBlock[], options: { timeZone: string; fromMs: number; days?: number; consumption: ReadonlyMap<string, number>; oneOff: readonly Departure[] }): Departure[] {
  const { timeZone, fromMs } = options;
  const days = options.days ?? expansionDays;
  const local = localTimeIn(timeZone);
  const startMs = fromMs - 12 * 3_600_000;
  const out: Departure[] = [];
  for (let k = -1; k <= days; k++) {
    const l = local(fromMs + k * 86_400_000);
    for (const b of blocks) {
      if (!b.days.includes(weekdays[l.weekday])) continue;
      const departureMs = localToUtc(timeZone, l.year, l.month, l.day, parseClock(b.departureTime));
      if (departureMs < startMs || departureMs >= fromMs + days * 86_400_000) continue;
      if (options.oneOff.some((d) => d.vehicleId === b.vehicleId && Math.abs(d.departureMs - departureMs) <= 3 * 3_600_000)) continue;
      let arrivalMs: number | null = null;
      if (b.arrivalTime !== null) {
        const arrivalMinute = parseClock(b.arrivalTime);
        const dayBefore = arrivalMinute >= parseClock(b.departureTime) ? 1 : 0;
        arrivalMs = localToUtc(timeZone, l.year, l.month, l.day - dayBefore, arrivalMinute);
      }
      const perKm = options.consumption.get(b.vehicleId);
      // A distance without a known consumption cannot be turned into energy: fall back to the target SoC (or full).
      const energyNeededKwh = b.energyNeededKwh ?? (b.distanceKm !== null && perKm !== undefined ? b.distanceKm * perKm : null);
      const date = `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
      out.push({
        id: `wk:${b.id}:${date}`, depotId: b.depotId, vehicleId: b.vehicleId, arrivalMs, arrivalSocPercent: null, departureMs,
        targetSocPercent: b.targetSocPercent ?? 100, energyNeededKwh, chargerId: b.chargerId, priority: b.priority, estimated: false,
      });
    }
  }
  return out.sort((a, b) => a.departureMs - b.departureMs || a.id.localeCompare(b.id));
}
