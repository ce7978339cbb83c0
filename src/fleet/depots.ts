import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';
import type { Tariff } from '../energy/tariff.ts';
import type { ChargerSpec, CircuitSpec, LoadForecastStep, PlannerPolicy, TaperPoint } from '../planner/types.ts';
import type { Scenario } from './scenario.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { blockStore, expandBlocks } from './blocks.ts';
import type { ConnectorType, MovePolicy, YardTables } from './yard.ts';

/**
 * The depot configuration the control loop plans from: the depot with its grid limit, tariff, policy and operating
 * mode; its circuit tree; its chargers (each an EVSE of an OCPP station, on a circuit); the vehicles that charge
 * there with their battery data; and their departures (one-off blocks: back at, leave at, to what SoC, on which bay).
 */

export const operatingModes = ['shadow', 'assisted', 'automatic'] as const;
export type OperatingMode = typeof operatingModes[number];

export interface DepotConfig {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  readonly slotMinutes: number;
  readonly gridLimitKw: number;
  readonly peakSoFarKw: number;
  readonly mode: OperatingMode;
  readonly tariff: Tariff;
  readonly policy: Partial<PlannerPolicy>;
  readonly otherLoadKw: readonly LoadForecastStep[];
}

/** A planner charger bound to the EVSE that realises it. */
export interface DepotCharger extends ChargerSpec {
  readonly stationId: string;
  readonly evseId: number;
  /** The connector a vehicle plugs into at this EVSE (yard planning; absent: the kind's usual one). */
  readonly connectorType?: ConnectorType;
  /** The power budget the station shares between all its EVSEs, kW, when it has one below their sum. */
  readonly stationMaxPowerKw?: number;
}

export interface VehicleCharging {
  readonly vehicleId: string;
  readonly depotId: string;
  readonly batteryKwh: number;
  readonly acMaxPowerKw: number;
  readonly dcMaxPowerKw: number;
  readonly taper: readonly TaperPoint[] | null;
  /** The inlets it can use (a CCS2 van lists CCS2 and Type2); absent: not known, any bay of a kind it charges on. */
  readonly connectorTypes?: readonly ConnectorType[];
}

export interface Departure {
  readonly id: string;
  readonly depotId: string;
  readonly vehicleId: string;
  /** Epoch ms. When the vehicle is expected back (null: it is at the depot). */
  readonly arrivalMs: number | null;
  readonly arrivalSocPercent: number | null;
  readonly departureMs: number;
  readonly targetSocPercent: number;
  readonly energyNeededKwh: number | null;
  /** The bay it is meant to use (a planner charger id), when assigned. */
  readonly chargerId: string | null;
  readonly priority: number;
  readonly estimated: boolean;
}

export interface DepotFleet {
  readonly depot: DepotConfig;
  readonly circuits: readonly CircuitSpec[];
  readonly chargers: readonly DepotCharger[];
  readonly vehicles: readonly VehicleCharging[];
  readonly departures: readonly Departure[];
  /** Set: the depot's bays and yard moves are planned (issue 9); absent: whoever plugs in first gets the bay. */
  readonly movePolicy?: Partial<MovePolicy>;
}

export const depotMigrations: readonly Migration[] = [{
  name: '0220_fleet_depots',
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('fleet_depot')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('time_zone', 'text', (c) => c.notNull())
      .addColumn('slot_minutes', 'integer', (c) => c.notNull())
      .addColumn('grid_limit_kw', 'double precision', (c) => c.notNull())
      .addColumn('peak_so_far_kw', 'double precision', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('tariff_json', 'text', (c) => c.notNull())
      .addColumn('policy_json', 'text', (c) => c.notNull())
      .addColumn('other_load_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createTable('fleet_circuit')
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('parent_id', 'text')
      .addColumn('max_power_kw', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('fleet_circuit_pk', ['depot_id', 'id'])
      .execute();
    await db.schema.createTable('fleet_charger')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('circuit_id', 'text', (c) => c.notNull())
      .addColumn('station_id', 'text', (c) => c.notNull())
      .addColumn('evse_id', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('max_power_kw', 'double precision', (c) => c.notNull())
      .addColumn('min_power_kw', 'double precision')
      .addColumn('phases', 'integer')
      .addUniqueConstraint('fleet_charger_evse', ['station_id', 'evse_id'])
      .execute();
    await db.schema.createTable('fleet_vehicle_charging')
      .addColumn('vehicle_id', 'text', (c) => c.primaryKey())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('battery_kwh', 'double precision', (c) => c.notNull())
      .addColumn('ac_max_power_kw', 'double precision', (c) => c.notNull())
      .addColumn('dc_max_power_kw', 'double precision', (c) => c.notNull())
      .addColumn('taper_json', 'text')
      .execute();
    await db.schema.createTable('fleet_departure')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('vehicle_id', 'text', (c) => c.notNull())
      .addColumn('arrival_at', 'text')
      .addColumn('arrival_soc_percent', 'double precision')
      .addColumn('departure_at', 'text', (c) => c.notNull())
      .addColumn('target_soc_percent', 'double precision', (c) => c.notNull())
      .addColumn('energy_needed_kwh', 'double precision')
      .addColumn('charger_id', 'text')
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('estimated', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('fleet_departure_vehicle').on('fleet_departure').columns(['vehicle_id', 'departure_at']).execute();
  },
}];

/** The fleet context's depot tables (src/fleet/config.ts edits the same ones piece by piece). */
export type DepotTables = YardTables & {
  fleet_depot: { id: string; name: string; time_zone: string; slot_minutes: number; grid_limit_kw: number; peak_so_far_kw: number; mode: string; tariff_json: string; policy_json: string; other_load_json: string; updated_at: string; move_policy_json?: string | null };
  fleet_circuit: { depot_id: string; id: string; parent_id: string | null; max_power_kw: number };
  fleet_charger: { id: string; depot_id: string; circuit_id: string; station_id: string; evse_id: number; kind: string; max_power_kw: number; min_power_kw: number | null; phases: number | null; connector_type?: string | null };
  fleet_vehicle_charging: { vehicle_id: string; depot_id: string; battery_kwh: number; ac_max_power_kw: number; dc_max_power_kw: number; taper_json: string | null; connector_types_json?: string | null };
  fleet_departure: { id: string; depot_id: string; vehicle_id: string; arrival_at: string | null; arrival_soc_percent: number | null; departure_at: string; target_soc_percent: number; energy_needed_kwh: number | null; charger_id: string | null; priority: number; estimated: number };
};

const iso = (ms: number) => new Date(ms).toISOString();

export interface FleetStore {
  depotIds(): Promise<string[]>;
  load(depotId: string): Promise<DepotFleet | null>;
  setMode(depotId: string, mode: OperatingMode, at: string): Promise<boolean>;
  setPeakSoFar(depotId: string, peakKw: number, at: string): Promise<void>;
  /** Replaces the depot's whole configuration (what `voltyard import` does). */
  importScenario(scenario: Scenario, options: { mode: OperatingMode; at: string }): Promise<{ depotId: string; chargers: number; vehicles: number; departures: number }>;
}

/** `clock` anchors the expansion of weekly blocks into departures (the simulator's clock when it drives time). */
export function fleetStore(store: Store, options: { clock?: Clock } = {}): FleetStore {
  const db = store.db.withTables<DepotTables>();
  const blocks = blockStore(store);
  const clock = options.clock ?? systemClock;
  return {
    async depotIds() {
      return (await db.selectFrom('fleet_depot').select('id').orderBy('id').execute()).map((r) => r.id);
    },
    async load(depotId) {
      const d = await db.selectFrom('fleet_depot').selectAll().where('id', '=', depotId).executeTakeFirst();
      if (!d) return null;
      const [circuits, chargers, vehicles, departures, stations] = await Promise.all([
        db.selectFrom('fleet_circuit').selectAll().where('depot_id', '=', depotId).orderBy('id').execute(),
        db.selectFrom('fleet_charger').selectAll().where('depot_id', '=', depotId).orderBy('id').execute(),
        db.selectFrom('fleet_vehicle_charging').selectAll().where('depot_id', '=', depotId).orderBy('vehicle_id').execute(),
        db.selectFrom('fleet_departure').selectAll().where('depot_id', '=', depotId).orderBy('departure_at').orderBy('id').execute(),
        db.selectFrom('fleet_station').selectAll().where('depot_id', '=', depotId).execute(),
      ]);
      const budget = new Map(stations.map((r) => [r.station_id, r.max_power_kw]));
      const oneOff = departures.map((r) => ({
        id: r.id, depotId: r.depot_id, vehicleId: r.vehicle_id, arrivalMs: r.arrival_at ? Date.parse(r.arrival_at) : null,
        arrivalSocPercent: r.arrival_soc_percent, departureMs: Date.parse(r.departure_at), targetSocPercent: r.target_soc_percent,
        energyNeededKwh: r.energy_needed_kwh, chargerId: r.charger_id, priority: r.priority, estimated: r.estimated === 1,
      }));
      // Weekly blocks become the concrete departures of the coming days; a one-off on the same trip wins.
      const weekly = (await blocks.list(depotId)).items;
      const repeating = weekly.length === 0 ? [] : expandBlocks(weekly, {
        timeZone: d.time_zone, fromMs: clock.now(), consumption: await blocks.consumption([...new Set(weekly.map((b) => b.vehicleId))]), oneOff,
      });
      return {
        depot: {
          id: d.id, name: d.name, timeZone: d.time_zone, slotMinutes: d.slot_minutes, gridLimitKw: d.grid_limit_kw, peakSoFarKw: d.peak_so_far_kw,
          mode: d.mode as OperatingMode, tariff: JSON.parse(d.tariff_json), policy: JSON.parse(d.policy_json), otherLoadKw: JSON.parse(d.other_load_json),
        },
        circuits: circuits.map((c) => ({ id: c.id, parentId: c.parent_id, maxPowerKw: c.max_power_kw })),
        chargers: chargers.map((c) => ({
          id: c.id, circuitId: c.circuit_id, stationId: c.station_id, evseId: c.evse_id, kind: c.kind as 'AC' | 'DC', maxPowerKw: c.max_power_kw,
          ...(c.min_power_kw !== null ? { minPowerKw: c.min_power_kw } : {}), ...(c.phases !== null ? { phases: c.phases as 1 | 3 } : {}),
          ...(c.connector_type ? { connectorType: c.connector_type as ConnectorType } : {}),
          ...(budget.has(c.station_id) ? { stationMaxPowerKw: budget.get(c.station_id)! } : {}),
        })),
        vehicles: vehicles.map((v) => ({
          vehicleId: v.vehicle_id, depotId: v.depot_id, batteryKwh: v.battery_kwh, acMaxPowerKw: v.ac_max_power_kw, dcMaxPowerKw: v.dc_max_power_kw,
          taper: v.taper_json ? JSON.parse(v.taper_json) : null,
          ...(v.connector_types_json ? { connectorTypes: JSON.parse(v.connector_types_json) as ConnectorType[] } : {}),
        })),
        departures: [...oneOff, ...repeating].sort((a, b) => a.departureMs - b.departureMs || a.id.localeCompare(b.id)),
        ...(d.move_policy_json ? { movePolicy: JSON.parse(d.move_policy_json) as Partial<MovePolicy> } : {}),
      };
    },
    async setMode(depotId, mode, at) {
      const r = await db.updateTable('fleet_depot').set({ mode, updated_at: at }).where('id', '=', depotId).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async setPeakSoFar(depotId, peakKw, at) {
      await db.updateTable('fleet_depot').set({ peak_so_far_kw: peakKw, updated_at: at }).where('id', '=', depotId).execute();
    },
    async importScenario(scenario, { mode, at }) {
      const s = scenario.snapshot;
      const depotId = s.depotId;
      const vehicleIds = new Set(scenario.vehicles.map((v) => v.id));
      const departures = s.sessions.filter((x) => x.vehicleId !== undefined && vehicleIds.has(x.vehicleId));
      const yard = scenario.yard;
      await db.transaction().execute(async (trx) => {
        for (const table of ['fleet_circuit', 'fleet_charger', 'fleet_vehicle_charging', 'fleet_departure', 'fleet_station'] as const) {
          await trx.deleteFrom(table).where('depot_id', '=', depotId).execute();
        }
        await trx.deleteFrom('fleet_depot').where('id', '=', depotId).execute();
        await trx.insertInto('fleet_depot').values({
          id: depotId, name: scenario.name, time_zone: s.timeZone, slot_minutes: s.slotMinutes ?? 15, grid_limit_kw: s.gridLimitKw,
          peak_so_far_kw: s.peakSoFarKw ?? 0, mode, tariff_json: JSON.stringify(s.tariff), policy_json: JSON.stringify(s.policy ?? {}),
          other_load_json: JSON.stringify(s.otherLoadKw ?? []), updated_at: at, move_policy_json: yard ? JSON.stringify(yard.movePolicy ?? {}) : null,
        }).execute();
        // The yard form's snapshot carries each shared budget as a circuit of its own; the store keeps it as the station's.
        const circuits = yard ? yard.circuits : s.circuits;
        if (circuits.length) await trx.insertInto('fleet_circuit').values(circuits.map((c) => ({ depot_id: depotId, id: c.id, parent_id: c.parentId, max_power_kw: c.maxPowerKw }))).execute();
        if (yard) {
          // A yard charger is an OCPP station of the same id; its bays are its EVSEs 1, 2, … in the order listed.
          const rows = yard.chargers.flatMap((c) => c.bays.map((b, k) => ({
            id: b.id, depot_id: depotId, circuit_id: c.circuitId, station_id: c.id, evse_id: k + 1, kind: c.kind, max_power_kw: b.maxPowerKw,
            min_power_kw: b.minPowerKw ?? null, phases: c.phases ?? null, connector_type: b.type,
          })));
          if (rows.length) await trx.insertInto('fleet_charger').values(rows).execute();
          const shared = yard.chargers.filter((c) => c.bays.length > 1);
          if (shared.length) await trx.insertInto('fleet_station').values(shared.map((c) => ({ station_id: c.id, depot_id: depotId, max_power_kw: c.maxPowerKw }))).execute();
        } else if (s.chargers.length) await trx.insertInto('fleet_charger').values(s.chargers.map((c) => ({
          id: c.id, depot_id: depotId, circuit_id: c.circuitId, station_id: c.id, evse_id: 1, kind: c.kind, max_power_kw: c.maxPowerKw,
          min_power_kw: c.minPowerKw ?? null, phases: c.phases ?? null,
        }))).execute();
        if (scenario.vehicles.length) await trx.insertInto('fleet_vehicle_charging').values(scenario.vehicles.map((v) => ({
          vehicle_id: v.id, depot_id: depotId, battery_kwh: v.batteryKwh, ac_max_power_kw: v.acMaxPowerKw, dc_max_power_kw: v.dcMaxPowerKw,
          taper_json: v.taper ? JSON.stringify(v.taper) : null, connector_types_json: v.connectorTypes ? JSON.stringify(v.connectorTypes) : null,
        }))).onConflict((oc) => oc.column('vehicle_id').doUpdateSet((eb) => ({
          depot_id: eb.ref('excluded.depot_id'), battery_kwh: eb.ref('excluded.battery_kwh'), ac_max_power_kw: eb.ref('excluded.ac_max_power_kw'),
          dc_max_power_kw: eb.ref('excluded.dc_max_power_kw'), taper_json: eb.ref('excluded.taper_json'), connector_types_json: eb.ref('excluded.connector_types_json'),
        }))).execute();
        // The yard form's vehicles become departures: back at (or already here), leave at, with what need; the bay it
        // is on or was told is kept as the departure's bay (a hint the yard planner keeps when nothing is better).
        const yardDepartures = (yard?.vehicles ?? []).filter((v) => vehicleIds.has(v.id));
        if (yardDepartures.length) await trx.insertInto('fleet_departure').values(yardDepartures.map((v) => ({
          id: `${depotId}:${v.id}`, depot_id: depotId, vehicle_id: v.id, arrival_at: v.location.kind === 'expected' ? iso(v.location.arrivalMs) : null,
          arrival_soc_percent: v.battery?.socPercent ?? null, departure_at: iso(v.departureMs), target_soc_percent: v.battery?.targetSocPercent ?? 100,
          energy_needed_kwh: v.energyNeededKwh ?? null, charger_id: v.location.kind === 'bay' ? v.location.bayId : v.plannedBayId ?? null,
          priority: v.priority ?? 0, estimated: v.departureEstimated ? 1 : 0,
        }))).execute();
        if (departures.length) await trx.insertInto('fleet_departure').values(departures.map((x) => ({
          id: `${depotId}:${x.id}`, depot_id: depotId, vehicle_id: x.vehicleId!, arrival_at: x.arrivalMs !== undefined ? iso(x.arrivalMs) : null,
          arrival_soc_percent: x.battery?.socPercent ?? null, departure_at: iso(x.departureMs), target_soc_percent: x.battery?.targetSocPercent ?? 100,
          energy_needed_kwh: x.energyNeededKwh ?? null, charger_id: x.chargerId, priority: x.priority ?? 0, estimated: x.departureEstimated ? 1 : 0,
        }))).execute();
      });
      return { depotId, chargers: s.chargers.length, vehicles: scenario.vehicles.length, departures: departures.length + (yard?.vehicles.length ?? 0) };
    },
  };
}
