import type { Component, Services } from '../app.ts';
import { registerTelematicsRoutes } from './routes.ts';
import { plannedTripsFromBlocks } from './schedule-trips.ts';
import { createSecretBox, loadSecretKey } from './secrets.ts';
import { Telematics } from './service.ts';

/**
 * The telematics context: every configured provider's data (webhook, poll, MQTT) into one `VehicleReading` stream,
 * stored once, with per-vehicle state, fused SoC, quarantine and per-provider health. See README.md beside this file.
 */
export async function startTelematics(services: Services): Promise<Component> {
  const box = createSecretBox(loadSecretKey(services.config.dataDir));
  const telematics = new Telematics({ store: services.store, bus: services.bus, clock: services.clock, logger: services.logger, box }, { plannedTripsKm: plannedTripsFromBlocks(services.store) });
  await registerTelematicsRoutes(services.http, telematics, services.keys, services.logger);
  await telematics.start();
  return {
    name: 'telematics',
    stop: () => telematics.stop(),
  };
}
