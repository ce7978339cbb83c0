import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';

/**
 * The vehicle registry, minimal: which vehicles a tenant runs, how each telematics provider names them, their
 * battery size and consumption, and which EVSE each stands at. Other contexts use these functions, never the tables.
 */

export interface Vehicle {
  readonly tenantId: string;
  readonly vehicleId: string;
  readonly name: string;
  readonly vin: string | null;
  readonly batteryKwh: number | null;
  readonly consumptionKwhPerKm: number | null;
  /** provider instance id -> that provider's id for this vehicle */
  readonly providerIds: Readonly<Record<string, string>>;
}

/** Fleet vehicles (02xx; 0201 is the token registry in tokens.ts). */
export const vehicleMigrations: readonly Migration[] = [
  {
    name: '0210_fleet_vehicles',
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('fleet_vehicle')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('vin', 'text')
        .addColumn('battery_kwh', 'double precision')
        .addColumn('consumption_kwh_per_km', 'double precision')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('fleet_vehicle_pk', ['tenant_id', 'vehicle_id'])
        .addUniqueConstraint('fleet_vehicle_vin_uq', ['tenant_id', 'vin'])
        .execute();
      // A vehicle is known to each telematics provider by that provider's own id.
      await db.schema.createTable('fleet_vehicle_provider_id')
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('fleet_vehicle_provider_id_pk', ['tenant_id', 'provider', 'external_id'])
        .execute();
      // Which vehicle stands at which EVSE, so charger measurements can be attributed to a vehicle.
      await db.schema.createTable('fleet_bay_assignment')
        .addColumn('station_id', 'text', (c) => c.notNull())
        .addColumn('evse_id', 'integer', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn('vehicle_id', 'text', (c) => c.notNull())
        .addColumn('assigned_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('fleet_bay_assignment_pk', ['station_id', 'evse_id'])
        .execute();
    },
  },
];

type VehicleTables = {
  fleet_vehicle: { tenant_id: string; vehicle_id: string; name: string; vin: string | null; battery_kwh: number | null; consumption_kwh_per_km: number | null; created_at: string };
  fleet_vehicle_provider_id: { tenant_id: string; provider: string; external_id: string; vehicle_id: string };
  fleet_bay_assignment: { station_id: string; evse_id: number; tenant_id: string; vehicle_id: string; assigned_at: string };
};

const tables = (store: Store) => store.db.withTables<VehicleTables>();

export interface VehicleInput {
  readonly tenantId: string;
  readonly vehicleId: string;
  readonly name?: string;
  readonly vin?: string | null;
  readonly batteryKwh?: number | null;
  readonly consumptionKwhPerKm?: number | null;
  readonly providerIds?: Readonly<Record<string, string>>;
}

/** Creates or replaces a vehicle with its provider ids (the given set replaces the old one). */
export async function saveVehicle(store: Store, input: VehicleInput, nowIso: string): Promise<Vehicle> {
  const vin = input.vin ? input.vin.trim().toUpperCase() : null;
  const row = {
    tenant_id: input.tenantId, vehicle_id: input.vehicleId, name: input.name ?? input.vehicleId, vin,
    battery_kwh: input.batteryKwh ?? null, consumption_kwh_per_km: input.consumptionKwhPerKm ?? null, created_at: nowIso,
  };
  await tables(store).transaction().execute(async (trx) => {
    await trx.insertInto('fleet_vehicle').values(row).onConflict((oc) => oc.columns(['tenant_id', 'vehicle_id']).doUpdateSet({
      name: row.name, vin: row.vin, battery_kwh: row.battery_kwh, consumption_kwh_per_km: row.consumption_kwh_per_km,
    })).execute();
    await trx.deleteFrom('fleet_vehicle_provider_id').where('tenant_id', '=', input.tenantId).where('vehicle_id', '=', input.vehicleId).execute();
    const ids = Object.entries(input.providerIds ?? {});
    if (ids.length > 0) {
      await trx.insertInto('fleet_vehicle_provider_id')
        .values(ids.map(([provider, externalId]) => ({ tenant_id: input.tenantId, provider, external_id: externalId, vehicle_id: input.vehicleId })))
        .execute();
    }
  });
  return { tenantId: input.tenantId, vehicleId: input.vehicleId, name: row.name, vin, batteryKwh: row.battery_kwh, consumptionKwhPerKm: row.consumption_kwh_per_km, providerIds: { ...input.providerIds } };
}

/** Replaces how telematics providers name a vehicle; false when the vehicle is not registered. */
export async function setProviderIds(store: Store, tenantId: string, vehicleId: string, providerIds: Readonly<Record<string, string>>): Promise<boolean> {
  return tables(store).transaction().execute(async (trx) => {
    const exists = await trx.selectFrom('fleet_vehicle').select('vehicle_id').where('tenant_id', '=', tenantId).where('vehicle_id', '=', vehicleId).executeTakeFirst();
    if (!exists) return false;
    await trx.deleteFrom('fleet_vehicle_provider_id').where('tenant_id', '=', tenantId).where('vehicle_id', '=', vehicleId).execute();
    const ids = Object.entries(providerIds);
    if (ids.length > 0) {
      await trx.insertInto('fleet_vehicle_provider_id')
        .values(ids.map(([provider, externalId]) => ({ tenant_id: tenantId, provider, external_id: externalId, vehicle_id: vehicleId })))
        .execute();
    }
    return true;
  });
}

export async function getVehicle(store: Store, tenantId: string, vehicleId: string): Promise<Vehicle | null> {
  const row = await tables(store).selectFrom('fleet_vehicle').selectAll().where('tenant_id', '=', tenantId).where('vehicle_id', '=', vehicleId).executeTakeFirst();
  if (!row) return null;
  const ids = await tables(store).selectFrom('fleet_vehicle_provider_id').select(['provider', 'external_id']).where('tenant_id', '=', tenantId).where('vehicle_id', '=', vehicleId).execute();
  return {
    tenantId, vehicleId, name: row.name, vin: row.vin, batteryKwh: row.battery_kwh, consumptionKwhPerKm: row.consumption_kwh_per_km,
    providerIds: Object.fromEntries(ids.map((i) => [i.provider, i.external_id])),
  };
}

/** The vehicle with this id when exactly one tenant has it (an RFID token names a vehicle without its tenant). */
export async function vehicleById(store: Store, vehicleId: string): Promise<{ tenantId: string; vehicleId: string } | null> {
  const rows = await tables(store).selectFrom('fleet_vehicle').select('tenant_id').where('vehicle_id', '=', vehicleId).limit(2).execute();
  return rows.length === 1 ? { tenantId: rows[0].tenant_id, vehicleId } : null;
}

/** Finds the vehicle a provider means: by the provider's own id first, then by VIN, always within the tenant. */
export async function matchVehicle(store: Store, tenantId: string, provider: string, ref: { providerVehicleId: string | null; vin: string | null }): Promise<string | null> {
  if (ref.providerVehicleId) {
    const hit = await tables(store).selectFrom('fleet_vehicle_provider_id').select('vehicle_id')
      .where('tenant_id', '=', tenantId).where('provider', '=', provider).where('external_id', '=', ref.providerVehicleId).executeTakeFirst();
    if (hit) return hit.vehicle_id;
  }
  if (ref.vin) {
    const hit = await tables(store).selectFrom('fleet_vehicle').select('vehicle_id')
      .where('tenant_id', '=', tenantId).where('vin', '=', ref.vin.trim().toUpperCase()).executeTakeFirst();
    if (hit) return hit.vehicle_id;
  }
  return null;
}

export async function assignBay(store: Store, at: { stationId: string; evseId: number }, vehicle: { tenantId: string; vehicleId: string }, nowIso: string): Promise<void> {
  bayCache(store).delete(at.stationId);
  await tables(store).insertInto('fleet_bay_assignment')
    .values({ station_id: at.stationId, evse_id: at.evseId, tenant_id: vehicle.tenantId, vehicle_id: vehicle.vehicleId, assigned_at: nowIso })
    .onConflict((oc) => oc.columns(['station_id', 'evse_id']).doUpdateSet({ tenant_id: vehicle.tenantId, vehicle_id: vehicle.vehicleId, assigned_at: nowIso }))
    .execute();
  // Again after the write: a lookup while it ran may have cached the station as it was.
  bayCache(store).delete(at.stationId);
}

export async function releaseBay(store: Store, at: { stationId: string; evseId: number }): Promise<void> {
  bayCache(store).delete(at.stationId);
  await tables(store).deleteFrom('fleet_bay_assignment').where('station_id', '=', at.stationId).where('evse_id', '=', at.evseId).execute();
  bayCache(store).delete(at.stationId);
}

/**
 * Bay lookups happen on every meter sample of every EVSE no session names a vehicle for; assignments change a few
 * times a night. A station's assignments are read together and kept for `bayCacheMs`: at 5,000 stations that is one
 * query per station and half minute instead of one per sample (bench:ocpp spent several per cent of the main thread
 * on these queries with 5 s). Changes made through this module take effect at once; another node's within
 * `bayCacheMs`.
 */
const bayCacheMs = 30_000;
type BayVehicle = { tenantId: string; vehicleId: string };
const bayCaches = new WeakMap<Store, Map<string, { atMs: number; byEvse: Map<number, BayVehicle> }>>();
const bayCache = (store: Store) => {
  let cache = bayCaches.get(store);
  if (!cache) bayCaches.set(store, cache = new Map());
  return cache;
};

/**
 * `vehicleAtBay` without a query: the answer when the station's assignments are in the cache, `undefined` when they
 * would have to be read. Lets a per-sample caller skip a promise in the common case.
 */
export function cachedVehicleAtBay(store: Store, stationId: string, evseId: number): BayVehicle | null | undefined {
  const hit = bayCache(store).get(stationId);
  return hit && performance.now() - hit.atMs < bayCacheMs ? hit.byEvse.get(evseId) ?? null : undefined;
}

/** The vehicle standing at an EVSE, if one was assigned. */
export async function vehicleAtBay(store: Store, stationId: string, evseId: number): Promise<BayVehicle | null> {
  const cached = cachedVehicleAtBay(store, stationId, evseId);
  if (cached !== undefined) return cached;
  const cache = bayCache(store);
  const rows = await tables(store).selectFrom('fleet_bay_assignment').select(['evse_id', 'tenant_id', 'vehicle_id']).where('station_id', '=', stationId).execute();
  const byEvse = new Map(rows.map((r) => [r.evse_id, { tenantId: r.tenant_id, vehicleId: r.vehicle_id }]));
  if (cache.size > 100_000) cache.clear();
  cache.set(stationId, { atMs: performance.now(), byEvse });
  return byEvse.get(evseId) ?? null;
}

/** Bay assignments of these stations' EVSEs. */
export async function bayAssignments(store: Store, stationIds: readonly string[]): Promise<{ stationId: string; evseId: number; tenantId: string; vehicleId: string; assignedAt: string }[]> {
  if (stationIds.length === 0) return [];
  const rows = await tables(store).selectFrom('fleet_bay_assignment').selectAll().where('station_id', 'in', stationIds).execute();
  return rows.map((r) => ({ stationId: r.station_id, evseId: r.evse_id, tenantId: r.tenant_id, vehicleId: r.vehicle_id, assignedAt: r.assigned_at }));
}
