// Scenarios shared by the simulator's tests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { DomainEvent } from '../../src/bus/events.ts';
import { fleetStore } from '../../src/fleet/depots.ts';
import { parseScenario, type Scenario } from '../../src/fleet/scenario.ts';
import { createSimClock, type SimClock } from '../../src/sim/clock.ts';
import { openStore } from '../../src/store/store.ts';
import { captureLogs } from '../helpers/logger.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Three chargers (11 kW 3-phase AC, 7.2 kW 1-phase AC, 50 kW DC) on a 40 kW site, four vans and a guest. */
export const smallDepot = {
  format: 'voltyard-scenario/1', name: 'small-depot', now: '2026-03-10T17:00:00Z',
  depot: { id: 'small', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: 40, otherLoadKw: [{ from: '2026-03-10T16:00:00Z', loadKw: 5 }] },
  circuits: [{ id: 'main', parentId: null, maxPowerKw: 60 }],
  chargers: [
    { id: 'AC-1', circuitId: 'main', kind: 'AC', maxPowerKw: 11, phases: 3 },
    { id: 'AC-2', circuitId: 'main', kind: 'AC', maxPowerKw: 7.2, phases: 1 },
    { id: 'DC-1', circuitId: 'main', kind: 'DC', maxPowerKw: 50 },
  ],
  vehicles: [
    { id: 'van-1', batteryKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 },
    { id: 'van-2', batteryKwh: 60, acMaxPowerKw: 7.4, dcMaxPowerKw: 50 },
    { id: 'van-3', batteryKwh: 75, acMaxPowerKw: 11, dcMaxPowerKw: 40, taper: [{ socPercent: 70, maxPowerKw: 40 }, { socPercent: 95, maxPowerKw: 8 }] },
    { id: 'van-4', batteryKwh: 75, acMaxPowerKw: 11, dcMaxPowerKw: 50 },
  ],
  sessions: [
    { id: 's1', vehicleId: 'van-1', chargerId: 'AC-1', departure: '2026-03-11T05:00:00Z', socPercent: 30, targetSocPercent: 90 },
    { id: 's2', vehicleId: 'van-2', chargerId: 'AC-2', arrival: '2026-03-10T18:10:00Z', departure: '2026-03-10T22:00:00Z', socPercent: 20, targetSocPercent: 100 },
    { id: 's3', vehicleId: 'van-3', chargerId: 'DC-1', arrival: '2026-03-10T17:30:00Z', departure: '2026-03-10T19:00:00Z', socPercent: 25, targetSocPercent: 90 },
    { id: 's4', vehicleId: 'van-4', chargerId: 'DC-1', arrival: '2026-03-10T19:00:00Z', departure: '2026-03-11T06:00:00Z', socPercent: 40, targetSocPercent: 80 },
    { id: 'guest', chargerId: 'AC-2', arrival: '2026-03-10T22:30:00Z', departure: '2026-03-11T04:00:00Z', energyNeededKwh: 12 },
  ],
  tariff: { currency: 'EUR', defaultPricePerKwh: 0.2, rules: [{ from: '18:00', to: '21:00', pricePerKwh: 0.4 }], demandCharges: [{ pricePerKw: 10 }] },
};

/**
 * The reference depot night against the real server, as `voltyard simulate` sets it up: the scenario imported into a
 * fresh data dir (as `voltyard import` would), the server on a virtual clock, every domain event collected.
 */
export async function referenceNight(t: TestContext, dirPrefix: string): Promise<{ scenario: Scenario; clock: SimClock; server: TestServer; events: DomainEvent[]; ocppUrl: string }> {
  const scenario = parseScenario(JSON.parse(readFileSync(new URL('../../scenarios/reference-depot.json', import.meta.url), 'utf8')));
  const clock = createSimClock({ mode: 'virtual', startMs: scenario.nowMs });
  const dataDir = mkdtempSync(path.join(tmpdir(), dirPrefix));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = await openStore({ databaseUrl: null, dataDir, logger: captureLogs('warn').logger });
  await fleetStore(store, { clock }).importScenario(scenario, { mode: 'automatic', at: new Date(scenario.nowMs).toISOString() });
  await store.close();
  const server = await startTestServer({ dataDir, logLevel: 'warn' }, { clock });
  t.after(() => server.stop());
  const events: DomainEvent[] = [];
  server.services.bus.subscribeAll((e) => { events.push(e); });
  return { scenario, clock, server, events, ocppUrl: `${server.url.replace(/^http/, 'ws')}/ocpp` };
}
