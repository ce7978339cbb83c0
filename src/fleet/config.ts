import type { Store } from '../store/store.ts';
import type { Tariff } from '../energy/tariff.ts';
import type { CircuitSpec } from '../planner/types.ts';
import type { DepotCharger, DepotTables, OperatingMode } from './depots.ts';
import { getVehicle, saveVehicle } from './vehicles.ts';
import type { ConnectorType } from './yard.ts';

/**
 * Editing the depot configuration piece by piece (what the API and the dashboard's setup pages do), next to
 * `importScenario` which replaces it whole. Reads and writes the fleet context's own tables only.
 */

type Tables = DepotTables & { fleet_block: { depot_id: string } };

export interface DepotSettings {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  readonly slotMinutes: number;
  readonly gridLimitKw: number;
  readonly mode: OperatingMode;
  readonly tariff: Tariff;
  readonly updatedAt: string;
}

export interface FleetVehicle {
  readonly id: string;
  readonly depotId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly vin: string | null;
  readonly batteryKwh: number;
  readonly acMaxPowerKw: number;
  readonly dcMaxPowerKw: number;
  readonly consumptionKwhPerKm: number | null;
}

export interface OneOffDeparture {
  readonly id: string;
  readonly depotId: string;
  readonly vehicleId: string;
  /** ISO-8601 UTC */
  readonly arrivalAt: string | null;
  readonly arrivalSocPercent: number | null;
  readonly departureAt: string;
  readonly targetSocPercent: number;
  readonly energyNeededKwh: number | null;
  readonly chargerId: string | null;
  readonly priority: number;
}

/** A reference that does not resolve (unknown circuit, charger, vehicle): the API answers 409 or 400 with this. */
export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export const defaultTariff: Tariff = { name: 'flat', currency: 'EUR', defaultPricePerKwh: 0.25, rules: [], demandCharges: [] };

const depotView = (d: Tables['fleet_depot']): DepotSettings => ({
  id: d.id, name: d.name, timeZone: d.time_zone, slotMinutes: d.slot_minutes, gridLimitKw: d.grid_limit_kw, mode: d.mode as OperatingMode, tariff: JSON.parse(d.tariff_json), updatedAt: d.updated_at,
});
const chargerView = (c: Tables['fleet_charger']): DepotCharger & { depotId: string } => ({
  id: c.id, depotId: c.depot_id, circuitId: c.circuit_id, stationId: c.station_id, evseId: c.evse_id, kind: c.kind as 'AC' | 'DC', maxPowerKw: c.max_power_kw,
  ...(c.min_power_kw !== null ? { minPowerKw: c.min_power_kw } : {}), ...(c.phases !== null ? { phases: c.phases as 1 | 3 } : {}),
  ...(c.connector_type ? { connectorType: c.connector_type as ConnectorType } : {}),
});
const departureView = (r: Tables['fleet_departure']): OneOffDeparture => ({
  id: r.id, depotId: r.depot_id, vehicleId: r.vehicle_id, arrivalAt: r.arrival_at, arrivalSocPercent: r.arrival_soc_percent, departureAt: r.departure_at,
  targetSocPercent: r.target_soc_percent, energyNeededKwh: r.energy_needed_kwh, chargerId: r.charger_id, priority: r.priority,
});

export type Page = { limit: number; offset: number };
export type Paged<T> = { items: T[]; total: number };

export function fleetConfig(store: Store) {
  const db = store.db.withTables<Tables>();
  const count = async (table: 'fleet_circuit' | 'fleet_charger' | 'fleet_vehicle_charging' | 'fleet_departure', depotId: string) =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('depot_id', '=', depotId).executeTakeFirstOrThrow()).n);

  const config = {
    async depot(id: string): Promise<DepotSettings | null> {
      const d = await db.selectFrom('fleet_depot').selectAll().where('id', '=', id).executeTakeFirst();
      return d ? depotView(d) : null;
    },
    async putDepot(input: Omit<DepotSettings, 'updatedAt' | 'tariff' | 'mode'> & { tariff?: Tariff; mode?: OperatingMode }, at: string): Promise<DepotSettings> {
      const before = await config.depot(input.id);
      const row = {
        id: input.id, name: input.name, time_zone: input.timeZone, slot_minutes: input.slotMinutes, grid_limit_kw: input.gridLimitKw,
        mode: input.mode ?? before?.mode ?? 'shadow', tariff_json: JSON.stringify(input.tariff ?? before?.tariff ?? defaultTariff), updated_at: at,
      };
      if (before) await db.updateTable('fleet_depot').set(row).where('id', '=', input.id).execute();
      else await db.insertInto('fleet_depot').values({ ...row, peak_so_far_kw: 0, policy_json: '{}', other_load_json: '[]' }).execute();
      return (await config.depot(input.id))!;
    },
    async setTariff(id: string, tariff: Tariff, at: string): Promise<boolean> {
      const r = await db.updateTable('fleet_depot').set({ tariff_json: JSON.stringify(tariff), updated_at: at }).where('id', '=', id).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** Removes the depot with its circuits, chargers, vehicles' charging data, departures and blocks. */
    async removeDepot(id: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        for (const table of ['fleet_circuit', 'fleet_charger', 'fleet_vehicle_charging', 'fleet_departure', 'fleet_block', 'fleet_station'] as const) {
          await trx.deleteFrom(table).where('depot_id', '=', id).execute();
        }
        const r = await trx.deleteFrom('fleet_depot').where('id', '=', id).executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      });
    },

    async circuits(depotId: string): Promise<CircuitSpec[]> {
      const rows = await db.selectFrom('fleet_circuit').selectAll().where('depot_id', '=', depotId).orderBy('id').execute();
      return rows.map((c) => ({ id: c.id, parentId: c.parent_id, maxPowerKw: c.max_power_kw }));
    },
    async putCircuit(depotId: string, c: CircuitSpec): Promise<CircuitSpec> {
      const all = await config.circuits(depotId);
      if (c.parentId !== null) {
        if (!all.some((x) => x.id === c.parentId)) throw new ConfigError('body.parentId', `no circuit ${c.parentId} in depot ${depotId}`);
        // Walking up from the parent must not reach this circuit: the tree stays a tree.
        const parentOf = new Map(all.map((x) => [x.id, x.parentId]));
        parentOf.set(c.id, c.parentId);
        for (let at: string | null = c.parentId, steps = 0; at !== null; at = parentOf.get(at) ?? null, steps++) {
          if (at === c.id || steps > all.length) throw new ConfigError('body.parentId', `circuit ${c.id} would become its own ancestor`);
        }
      } else if (all.some((x) => x.parentId === null && x.id !== c.id)) {
        throw new ConfigError('body.parentId', 'the depot already has a root circuit (the grid connection); give a parent');
      }
      const row = { depot_id: depotId, id: c.id, parent_id: c.parentId, max_power_kw: c.maxPowerKw };
      await db.insertInto('fleet_circuit').values(row).onConflict((oc) => oc.columns(['depot_id', 'id']).doUpdateSet({ parent_id: row.parent_id, max_power_kw: row.max_power_kw })).execute();
      return c;
    },
    async removeCircuit(depotId: string, id: string): Promise<boolean> {
      const users = await db.selectFrom('fleet_charger').select('id').where('depot_id', '=', depotId).where('circuit_id', '=', id).execute();
      const children = await db.selectFrom('fleet_circuit').select('id').where('depot_id', '=', depotId).where('parent_id', '=', id).execute();
      if (users.length || children.length) throw new ConfigError('id', `circuit ${id} still feeds ${[...children.map((c) => `circuit ${c.id}`), ...users.map((u) => `charger ${u.id}`)].join(', ')}`);
      const r = await db.deleteFrom('fleet_circuit').where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async chargers(depotId: string) {
      return (await db.selectFrom('fleet_charger').selectAll().where('depot_id', '=', depotId).orderBy('id').execute()).map(chargerView);
    },
    async putCharger(depotId: string, c: DepotCharger) {
      if (!(await config.circuits(depotId)).some((x) => x.id === c.circuitId)) throw new ConfigError('body.circuitId', `no circuit ${c.circuitId} in depot ${depotId}`);
      const clash = await db.selectFrom('fleet_charger').select(['id', 'depot_id']).where('station_id', '=', c.stationId).where('evse_id', '=', c.evseId).where('id', '!=', c.id).executeTakeFirst();
      if (clash) throw new ConfigError('body.stationId', `station ${c.stationId} EVSE ${c.evseId} is already charger ${clash.id} (depot ${clash.depot_id})`);
      const other = await db.selectFrom('fleet_charger').select('depot_id').where('id', '=', c.id).executeTakeFirst();
      if (other && other.depot_id !== depotId) throw new ConfigError('id', `charger ${c.id} belongs to depot ${other.depot_id}`);
      const row = {
        id: c.id, depot_id: depotId, circuit_id: c.circuitId, station_id: c.stationId, evse_id: c.evseId, kind: c.kind, max_power_kw: c.maxPowerKw,
        min_power_kw: c.minPowerKw ?? null, phases: c.phases ?? null,
      };
      const { id: _id, ...rest } = row;
      await db.insertInto('fleet_charger').values(row).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
      return chargerView(row);
    },
    async removeCharger(depotId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('fleet_charger').where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      // The station's shared budget goes with its last EVSE.
      await db.deleteFrom('fleet_station').where('depot_id', '=', depotId)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('fleet_charger').select('id').whereRef('fleet_charger.station_id', '=', 'fleet_station.station_id')))).execute();
      return Number(r.numDeletedRows) > 0;
    },

    async vehicles(filter: { depotId?: string } & Page): Promise<Paged<FleetVehicle>> {
      let q = db.selectFrom('fleet_vehicle_charging');
      if (filter.depotId) q = q.where('depot_id', '=', filter.depotId);
      const rows = await q.selectAll().orderBy('vehicle_id').limit(filter.limit).offset(filter.offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const items: FleetVehicle[] = [];
      for (const r of rows) items.push(await config.withRegistry(r));
      return { items, total: Number(n) };
    },
    async withRegistry(r: Tables['fleet_vehicle_charging'], tenantId = 'default'): Promise<FleetVehicle> {
      const reg = await getVehicle(store, tenantId, r.vehicle_id);
      return {
        id: r.vehicle_id, depotId: r.depot_id, tenantId, name: reg?.name ?? r.vehicle_id, vin: reg?.vin ?? null, batteryKwh: r.battery_kwh,
        acMaxPowerKw: r.ac_max_power_kw, dcMaxPowerKw: r.dc_max_power_kw, consumptionKwhPerKm: reg?.consumptionKwhPerKm ?? null,
      };
    },
    async vehicle(id: string, tenantId = 'default'): Promise<FleetVehicle | null> {
      const r = await db.selectFrom('fleet_vehicle_charging').selectAll().where('vehicle_id', '=', id).executeTakeFirst();
      return r ? config.withRegistry(r, tenantId) : null;
    },
    /** Creates or replaces a vehicle: its charging data here, its registry entry (name, VIN, consumption) in vehicles.ts. */
    async putVehicle(v: FleetVehicle, at: string): Promise<FleetVehicle> {
      if (!await config.depot(v.depotId)) throw new ConfigError('body.depotId', `no depot ${v.depotId}`);
      const row = { vehicle_id: v.id, depot_id: v.depotId, battery_kwh: v.batteryKwh, ac_max_power_kw: v.acMaxPowerKw, dc_max_power_kw: v.dcMaxPowerKw, taper_json: null };
      const existing = await getVehicle(store, v.tenantId, v.id);
      await saveVehicle(store, { tenantId: v.tenantId, vehicleId: v.id, name: v.name, vin: v.vin, batteryKwh: v.batteryKwh, consumptionKwhPerKm: v.consumptionKwhPerKm, providerIds: existing?.providerIds ?? {} }, at);
      await db.insertInto('fleet_vehicle_charging').values(row).onConflict((oc) => oc.column('vehicle_id').doUpdateSet({
        depot_id: row.depot_id, battery_kwh: row.battery_kwh, ac_max_power_kw: row.ac_max_power_kw, dc_max_power_kw: row.dc_max_power_kw,
      })).execute();
      return (await config.vehicle(v.id, v.tenantId))!;
    },
    /** Takes the vehicle out of depot planning (its telematics registry entry stays, with its provider ids). */
    async removeVehicle(id: string): Promise<boolean> {
      const r = await db.deleteFrom('fleet_vehicle_charging').where('vehicle_id', '=', id).executeTakeFirst();
      await db.deleteFrom('fleet_departure').where('vehicle_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    },

    async departures(depotId: string, filter: { vehicleId?: string; from?: string } & Page): Promise<Paged<OneOffDeparture>> {
      let q = db.selectFrom('fleet_departure').where('depot_id', '=', depotId);
      if (filter.vehicleId) q = q.where('vehicle_id', '=', filter.vehicleId);
      if (filter.from) q = q.where('departure_at', '>=', filter.from);
      const rows = await q.selectAll().orderBy('departure_at').orderBy('id').limit(filter.limit).offset(filter.offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items: rows.map(departureView), total: Number(n) };
    },
    async departure(depotId: string, id: string): Promise<OneOffDeparture | null> {
      const r = await db.selectFrom('fleet_departure').selectAll().where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      return r ? departureView(r) : null;
    },
    async putDeparture(d: OneOffDeparture): Promise<OneOffDeparture> {
      await config.checkVehicleAndBay(d.depotId, d.vehicleId, d.chargerId);
      if (d.arrivalAt !== null && d.arrivalAt >= d.departureAt) throw new ConfigError('body.arrivalAt', 'must be before the departure');
      const row = {
        id: d.id, depot_id: d.depotId, vehicle_id: d.vehicleId, arrival_at: d.arrivalAt, arrival_soc_percent: d.arrivalSocPercent, departure_at: d.departureAt,
        target_soc_percent: d.targetSocPercent, energy_needed_kwh: d.energyNeededKwh, charger_id: d.chargerId, priority: d.priority, estimated: 0,
      };
      const { id: _id, ...rest } = row;
      await db.insertInto('fleet_departure').values(row).onConflict((oc) => oc.column('id').doUpdateSet(rest)).execute();
      return departureView(row);
    },
    async removeDeparture(depotId: string, id: string): Promise<boolean> {
      const r = await db.deleteFrom('fleet_departure').where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async checkVehicleAndBay(depotId: string, vehicleId: string, chargerId: string | null): Promise<void> {
      const v = await db.selectFrom('fleet_vehicle_charging').select('depot_id').where('vehicle_id', '=', vehicleId).executeTakeFirst();
      if (!v || v.depot_id !== depotId) throw new ConfigError('body.vehicleId', `no vehicle ${vehicleId} in depot ${depotId}`);
      if (chargerId !== null && !(await db.selectFrom('fleet_charger').select('id').where('depot_id', '=', depotId).where('id', '=', chargerId).executeTakeFirst())) {
        throw new ConfigError('body.chargerId', `no charger ${chargerId} in depot ${depotId}`);
      }
    },
    count,
  };
  return config;
}

export type FleetConfig = ReturnType<typeof fleetConfig>;
