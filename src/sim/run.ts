// Runs a scenario against a chosen central system: Voltyard itself (started in this process on the simulation
// clock, with a throw-away SQLite data dir), an already running Voltyard (its URL and admin key), or the permissive
// baseline that accepts everything and limits nothing (uncontrolled charging, for comparison).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../log.ts';
import type { Scenario } from '../fleet/scenario.ts';
import { loadConfig, type Config } from '../config.ts';
import { startVoltyard, type Voltyard } from '../app.ts';
import { openStore } from '../store/store.ts';
import { fleetStore, type OperatingMode } from '../fleet/depots.ts';
import { createSimClock, type SimClock } from './clock.ts';
import { startPermissiveCentral } from './central.ts';
import { runSimulation, type SimulationOptions } from './simulation.ts';
import type { SimulationReport } from './report.ts';
import { connectTelematicsWebhook, type TelematicsWebhook } from './telematics-webhook.ts';

export type CentralChoice =
  /** Voltyard in this process: the scenario's depot is imported first (in `mode`, default automatic) so its control loop runs the night. */
  | { readonly kind: 'voltyard'; readonly config?: Partial<Config>; readonly mode?: OperatingMode }
  | { readonly kind: 'uncontrolled' }
  /** A running Voltyard: `url` is its HTTP base (http://host:port); tokens are registered with the admin key. */
  | { readonly kind: 'external'; readonly url: string; readonly adminKey: string | null };

export interface ScenarioRunOptions extends Omit<SimulationOptions, 'url' | 'clock' | 'control' | 'registerToken' | 'scenario'> {
  readonly central: CentralChoice;
  /** Simulated ms per wall ms; absent = virtual clock (as fast as possible). External servers keep their own clock, so use a speed of 1 with them. */
  readonly speed?: number;
  /** Sees the in-process Voltyard once it is up (central kind voltyard), e.g. to subscribe to its bus. */
  readonly onServer?: (server: Voltyard) => void;
}

/** With telematics on and a Voltyard to talk to, readings go to its webhook ingestion (and still to onReading). */
async function withWebhook(scenario: Scenario, rest: Omit<ScenarioRunOptions, 'central' | 'speed'>, httpUrl: string, adminKey: string, clock: SimClock): Promise<{ onReading?: SimulationOptions['onReading']; sink: TelematicsWebhook | null }> {
  if (!rest.telematics) return { ...(rest.onReading ? { onReading: rest.onReading } : {}), sink: null };
  const vehicles = scenario.vehicles.map((v) => ({ vehicleId: v.id, depotId: scenario.snapshot.depotId, batteryKwh: v.batteryKwh, acMaxPowerKw: v.acMaxPowerKw, dcMaxPowerKw: v.dcMaxPowerKw }));
  const sink = await connectTelematicsWebhook({ httpUrl, adminKey }, vehicles, clock);
  const known = new Set(vehicles.map((v) => v.vehicleId));
  const user = rest.onReading;
  return { sink, onReading: (r) => { if (known.has(r.vehicleId)) sink.deliver(r); user?.(r); } };
}

/** Registers tokens with a Voltyard's REST API (PUT /api/tokens/{idTag}). */
export function tokenRegistrar(httpUrl: string, adminKey: string): SimulationOptions['registerToken'] {
  return async (idTag, vehicleId) => {
    const res = await fetch(`${httpUrl}/api/tokens/${encodeURIComponent(idTag)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Accepted', ...(vehicleId ? { vehicleId } : {}) }),
    });
    if (!res.ok) throw new Error(`registering token ${idTag} at ${httpUrl}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
}

export async function runScenario(scenario: Scenario, options: ScenarioRunOptions): Promise<SimulationReport> {
  const { central, speed, onServer, ...rest } = options;
  const logger: Logger = options.logger ?? pino({ level: 'silent' });
  const clock: SimClock = speed === undefined ? createSimClock({ mode: 'virtual', startMs: scenario.nowMs }) : createSimClock({ mode: 'accelerated', startMs: scenario.nowMs, factor: speed });
  if (central.kind === 'uncontrolled') {
    const server = await startPermissiveCentral({ clock });
    try {
      return await runSimulation({ ...rest, scenario, clock, url: server.url, control: 'uncontrolled', logger });
    } finally {
      await server.close();
    }
  }
  if (central.kind === 'external') {
    const wsUrl = `${central.url.replace(/^http/, 'ws').replace(/\/$/, '')}/ocpp`;
    const feed = central.adminKey ? await withWebhook(scenario, rest, central.url, central.adminKey, clock) : { sink: null };
    const report = await runSimulation({
      ...rest, ...(feed.onReading ? { onReading: feed.onReading } : {}), scenario, clock, url: wsUrl, control: 'external', logger,
      ...(central.adminKey ? { registerToken: tokenRegistrar(central.url, central.adminKey) } : {}),
    });
    return feed.sink ? { ...report, telematicsWebhook: { ...feed.sink.stats } } : report;
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voltyard-sim-'));
  const adminKey = randomBytes(18).toString('base64url');
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'warn', unknownStations: 'accept', dataDir, adminKey, ...central.config });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  try {
    await fleetStore(store, { clock }).importScenario(scenario, { mode: central.mode ?? 'automatic', at: new Date(scenario.nowMs).toISOString() });
  } finally {
    await store.close();
  }
  const server = await startVoltyard(config, { clock, logger });
  onServer?.(server);
  try {
    const key = config.adminKey ?? adminKey;
    const feed = await withWebhook(scenario, rest, server.url, key, clock);
    const report = await runSimulation({
      ...rest, ...(feed.onReading ? { onReading: feed.onReading } : {}), scenario, clock, url: `${server.url.replace(/^http/, 'ws')}/ocpp`, control: 'voltyard', logger,
      registerToken: tokenRegistrar(server.url, key),
    });
    return feed.sink ? { ...report, telematicsWebhook: { ...feed.sink.stats } } : report;
  } finally {
    await server.close();
    if (!central.config?.dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
