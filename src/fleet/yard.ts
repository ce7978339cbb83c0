import type { Kysely } from 'kysely';
import type { Migration } from '../store/migration.ts';
import type { Store } from '../store/store.ts';
import type { DepotTables } from './depots.ts';
import { connectorTypes, type ConnectorType, type MovePolicy } from '../planner/yard/types.ts';

/**
 * The fleet model's yard data (issue 9): the connector type of each EVSE (bay), the power budget an OCPP station
 * shares between its EVSEs, the inlets each vehicle has, and the depot's move policy. A depot without a move policy is
 * run as before (bays chosen by whoever plugs in); with one, the control loop plans bays and yard moves.
 */

export { connectorTypes, type ConnectorType, type MovePolicy };

export const yardMigrations: readonly Migration[] = [{
  name: '0240_fleet_yard',
  async up(db: Kysely<unknown>) {
    // One column per ALTER: SQLite takes no more.
    await db.schema.alterTable('fleet_charger').addColumn('connector_type', 'text').execute();
    await db.schema.alterTable('fleet_vehicle_charging').addColumn('connector_types_json', 'text').execute();
    await db.schema.alterTable('fleet_depot').addColumn('move_policy_json', 'text').execute();
    await db.schema.createTable('fleet_station')
      .addColumn('station_id', 'text', (c) => c.primaryKey())
      .addColumn('depot_id', 'text', (c) => c.notNull())
      .addColumn('max_power_kw', 'double precision', (c) => c.notNull())
      .execute();
  },
}];

export type YardTables = {
  fleet_station: { station_id: string; depot_id: string; max_power_kw: number };
};

/** The bay's connector when nobody said: what European depots mostly have (AC Type 2, DC CCS2). */
export function defaultConnectorType(kind: 'AC' | 'DC'): ConnectorType {
  return kind === 'AC' ? 'Type2' : 'CCS2';
}

export function isConnectorType(v: unknown): v is ConnectorType {
  return typeof v === 'string' && (connectorTypes as readonly string[]).includes(v);
}

export class YardConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** Editing a depot's yard data piece by piece (the API); `importScenario` replaces it whole. */
export function yardConfig(store: Store) {
  const db = store.db.withTables<DepotTables>();
  return {
    /** null turns yard planning off for the depot. False when there is no such depot. */
    async setMovePolicy(depotId: string, policy: Partial<MovePolicy> | null, at: string): Promise<boolean> {
      const r = await db.updateTable('fleet_depot').set({ move_policy_json: policy === null ? null : JSON.stringify(policy), updated_at: at }).where('id', '=', depotId).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    /** The power a station's EVSEs share, kW; null: no budget below their ratings. */
    async setStationBudget(depotId: string, stationId: string, maxPowerKw: number | null): Promise<void> {
      const evse = await db.selectFrom('fleet_charger').select('id').where('depot_id', '=', depotId).where('station_id', '=', stationId).executeTakeFirst();
      if (!evse) throw new YardConfigError('stationId', `depot ${depotId} has no charger on station ${stationId}`);
      if (maxPowerKw === null) { await db.deleteFrom('fleet_station').where('station_id', '=', stationId).execute(); return; }
      await db.insertInto('fleet_station').values({ station_id: stationId, depot_id: depotId, max_power_kw: maxPowerKw })
        .onConflict((oc) => oc.column('station_id').doUpdateSet({ depot_id: depotId, max_power_kw: maxPowerKw })).execute();
    },
    /** Connector type per bay (charger id) and inlets per vehicle; every id must be the depot's. */
    async setConnectorTypes(depotId: string, input: { chargers?: Readonly<Record<string, ConnectorType>>; vehicles?: Readonly<Record<string, readonly ConnectorType[]>> }): Promise<{ chargers: number; vehicles: number }> {
      const chargers = Object.entries(input.chargers ?? {});
      const vehicles = Object.entries(input.vehicles ?? {});
      return db.transaction().execute(async (trx) => {
        for (const [id, type] of chargers) {
          if (!isConnectorType(type)) throw new YardConfigError(`body.chargers.${id}`, `must be one of ${connectorTypes.join(', ')}`);
          const r = await trx.updateTable('fleet_charger').set({ connector_type: type }).where('depot_id', '=', depotId).where('id', '=', id).executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) throw new YardConfigError(`body.chargers.${id}`, `no charger ${id} in depot ${depotId}`);
        }
        for (const [id, types] of vehicles) {
          if (types.length === 0 || !types.every(isConnectorType)) throw new YardConfigError(`body.vehicles.${id}`, `must list one or more of ${connectorTypes.join(', ')}`);
          const r = await trx.updateTable('fleet_vehicle_charging').set({ connector_types_json: JSON.stringify([...new Set(types)]) }).where('depot_id', '=', depotId).where('vehicle_id', '=', id).executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) throw new YardConfigError(`body.vehicles.${id}`, `no vehicle ${id} in depot ${depotId}`);
        }
        return { chargers: chargers.length, vehicles: vehicles.length };
      });
    },
  };
}
