import type { Services, Component } from '../app.ts';
import type { DomainEvent } from '../bus/events.ts';
import { fleetStore, type FleetStore } from '../fleet/depots.ts';
import { tokenRegistry } from '../fleet/tokens.ts';
import { vehicleAtBay } from '../fleet/vehicles.ts';
import { controlRecords, type ControlRecords } from './records.ts';
import { DepotController } from './controller.ts';
import { registerControlRoutes } from '../api/control.ts';
import { YardLoop } from './yard.ts';
import { yardTaskStore, type YardTaskStore } from './yard-tasks.ts';

export { DepotController } from './controller.ts';

/** The control loops of every depot in the store, fed from the bus. */
export interface ControlPlane {
  readonly fleet: FleetStore;
  readonly records: ControlRecords;
  readonly yardTasks: YardTaskStore;
  /** The depot's yard (bays and moves); it plans only while the depot has a move policy. */
  yard(depotId: string): YardLoop | null;
  controller(depotId: string): Promise<DepotController | null>;
  controllers(): DepotController[];
  /** The depot whose plan or fleet has this vehicle. */
  controllerForVehicle(vehicleId: string): DepotController | null;
}

export async function startControl(services: Services): Promise<Component> {
  const { store, clock, logger, bus } = services;
  const fleet = fleetStore(store, { clock });
  const records = controlRecords(store);
  const tokens = tokenRegistry(store);
  const controllers = new Map<string, DepotController>();
  const yardTasks = yardTaskStore(store);
  const yards = new Map<string, YardLoop>();

  const make = async (depotId: string) => {
    const yard = new YardLoop({ depotId, tasks: yardTasks, logger });
    yards.set(depotId, yard);
    const c: DepotController = new DepotController({ depotId, fleetStore: fleet, records, tokens, central: services.provided.centralSystem ?? null, clock, logger, yard,
      // The bay's assigned vehicle; else, in a yard, the vehicle planned onto that bay about now.
      bayVehicle: async (stationId, evseId) => {
        const assigned = (await vehicleAtBay(store, stationId, evseId))?.vehicleId ?? null;
        if (assigned || !yard.plan) return assigned;
        const bay = c.fleet?.chargers.find((x) => x.stationId === stationId && x.evseId === evseId);
        return bay ? yard.plannedVehicleAt(bay.id, clock.now()) : null;
      } });
    controllers.set(depotId, c);
    await c.start();
    return c;
  };
  for (const depotId of await fleet.depotIds()) await make(depotId);

  const handleAll = async (event: DomainEvent) => {
    for (const c of controllers.values()) await c.handle(event);
  };
  const unsubscribe = bus.subscribeAll((event) => (controllers.size === 0 ? undefined : handleAll(event)));
  // Alerts that depend on time passing (nothing drawn for 10 min, a bay idle for an hour) are re-checked every minute
  // of depot time: on the server's clock, so a simulated night raises them when the simulated minutes pass.
  let alertTimer: ReturnType<typeof clock.setTimeout> | null = null;
  const checkAlerts = () => {
    for (const c of controllers.values()) void c.evaluateAlerts().catch((err) => logger.error({ err }, 'alert evaluation failed'));
    alertTimer = clock.setTimeout(checkAlerts, 60_000);
    alertTimer.unref?.();
  };
  alertTimer = clock.setTimeout(checkAlerts, 60_000);
  alertTimer.unref?.();

  const plane: ControlPlane = {
    fleet, records, yardTasks,
    yard: (depotId) => yards.get(depotId) ?? null,
    async controller(depotId) {
      return controllers.get(depotId) ?? ((await fleet.depotIds()).includes(depotId) ? make(depotId) : null);
    },
    controllers: () => [...controllers.values()],
    controllerForVehicle(vehicleId) {
      for (const c of controllers.values()) if (c.fleet?.vehicles.some((v) => v.vehicleId === vehicleId)) return c;
      return null;
    },
  };
  registerControlRoutes(services.http, services.keys, plane, clock);
  services.provided.controlPlane = plane;
  return {
    name: 'control',
    async quiesce() {
      unsubscribe();
      if (alertTimer) clock.clearTimeout(alertTimer);
      for (const c of controllers.values()) c.stop();
    },
    async stop() {
      await Promise.all([...controllers.values()].map((c) => c.drain()));
    },
  };
}
