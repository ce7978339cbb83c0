import { localTimeIn, parseClock } from '../energy/tariff.ts';
import { localToUtc, weekdays, type WeeklyBlock } from '../fleet/blocks.ts';
import type { Store } from '../store/store.ts';

/**
 * The distance a vehicle's schedule says it has driven between two instants, for the SoC estimate when telematics
 * has gone quiet (fusion.ts case 4): each weekly block's occurrences that left after the last known SoC, at the
 * block's `distanceKm`. A trip still under way counts by the share of its time elapsed (linear); a block with no
 * return time counts in full from its departure (the conservative side: the planner charges more, not less).
 */

/** The longest gap looked at: a SoC older than this is empty by any schedule, and the loop stays bounded. */
const MAX_SPAN_DAYS = 62;

export interface TripBlock {
  readonly days: WeeklyBlock['days'];
  readonly departureTime: string;
  readonly arrivalTime: string | null;
  readonly distanceKm: number | null;
}

/** Pure: km of the blocks' trips between `sinceMs` and `untilMs`, evaluated in the depot's time zone. */
export function scheduledTripsKm(blocks: readonly TripBlock[], options: { timeZone: string; sinceMs: number; untilMs: number }): number {
  const { timeZone, untilMs } = options;
  const sinceMs = Math.max(options.sinceMs, untilMs - MAX_SPAN_DAYS * 86_400_000);
  if (!(untilMs > sinceMs)) return 0;
  const local = localTimeIn(timeZone);
  let km = 0;
  // From the day before `since` (a trip that left then may end after it) to the day of `until`.
  for (let dayMs = sinceMs - 86_400_000; dayMs < untilMs + 86_400_000; dayMs += 86_400_000) {
    const l = local(dayMs);
    for (const b of blocks) {
      if (b.distanceKm === null || b.distanceKm <= 0 || !b.days.includes(weekdays[l.weekday])) continue;
      const departureMinute = parseClock(b.departureTime);
      const leaveMs = localToUtc(timeZone, l.year, l.month, l.day, departureMinute);
      if (leaveMs < sinceMs || leaveMs >= untilMs) continue;
      // The block's arrival time is when the vehicle comes back; earlier in the day than the departure means the
      // next day (a night shift).
      let backMs: number | null = null;
      if (b.arrivalTime !== null) {
        const arrivalMinute = parseClock(b.arrivalTime);
        backMs = localToUtc(timeZone, l.year, l.month, l.day + (arrivalMinute > departureMinute ? 0 : 1), arrivalMinute);
      }
      const share = backMs === null || backMs <= untilMs ? 1 : (untilMs - leaveMs) / (backMs - leaveMs);
      km += b.distanceKm * share;
    }
  }
  return km;
}

type Tables = {
  fleet_block: { vehicle_id: string; depot_id: string; days: string; departure_time: string; arrival_time: string | null; distance_km: number | null };
  fleet_depot: { id: string; time_zone: string };
};

/**
 * The `plannedTripsKm` hook of the telematics service, from the fleet's weekly blocks. Null when the vehicle has no
 * block with a distance (the schedule does not know), so the fusion can say so instead of assuming it stood still.
 */
export function plannedTripsFromBlocks(store: Store): (tenantId: string, vehicleId: string, sinceIso: string, untilIso: string) => Promise<number | null> {
  const db = store.db.withTables<Tables>();
  return async (_tenantId, vehicleId, sinceIso, untilIso) => {
    const rows = await db.selectFrom('fleet_block').innerJoin('fleet_depot', 'fleet_depot.id', 'fleet_block.depot_id')
      .select(['fleet_block.days', 'fleet_block.departure_time', 'fleet_block.arrival_time', 'fleet_block.distance_km', 'fleet_depot.time_zone'])
      .where('fleet_block.vehicle_id', '=', vehicleId).where('fleet_block.distance_km', 'is not', null).execute();
    if (rows.length === 0) return null;
    const sinceMs = Date.parse(sinceIso);
    const untilMs = Date.parse(untilIso);
    let km = 0;
    // A vehicle normally belongs to one depot; blocks in several are summed each in its own time zone.
    for (const timeZone of new Set(rows.map((r) => r.time_zone))) {
      const blocks = rows.filter((r) => r.time_zone === timeZone).map((r) => ({
        days: r.days.split(',').filter(Boolean) as TripBlock['days'], departureTime: r.departure_time, arrivalTime: r.arrival_time, distanceKm: r.distance_km,
      }));
      km += scheduledTripsKm(blocks, { timeZone, sinceMs, untilMs });
    }
    return km;
  };
}
