import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { systemClock, type Clock } from './clock.ts';
import { openStore, type Store } from './store/store.ts';
import { createInProcessBus, type Bus } from './bus/bus.ts';
import { createHttpApp } from './api/http.ts';
import { adminKeyResolver, resolveAdminKey, type KeyResolver } from './api/auth.ts';
import { startSystemRoutes } from './api/system.ts';
import { startTokenRoutes } from './api/tokens.ts';
import { startOcpp, type CentralSystem } from './ocpp/index.ts';
import { startControl } from './control/index.ts';
import { startTelematics } from './telematics/index.ts';
import { chainKeyResolvers, keyStore } from './api/keys.ts';
import { startAccessRoutes } from './api/access.ts';
import type { AuditTrail } from './api/audit.ts';
import type { ControlPlane } from './control/index.ts';
import { startFleetRoutes } from './api/fleet.ts';
import { startBayRoutes } from './api/bays.ts';
import { startYardRoutes } from './api/yard.ts';
import { startLiveEvents } from './api/events.ts';
import { startDashboard } from './api/dashboard.ts';

/** What every context gets when the server is put together. */
export interface Services {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly store: Store;
  readonly bus: Bus;
  readonly http: FastifyInstance;
  readonly keys: KeyResolver;
  /** What contexts offer each other once started (a context starts after those it uses). */
  readonly provided: Provided;
}

export interface Provided {
  centralSystem?: CentralSystem;
  /** The audit log and its route helper (api/access.ts). */
  audit?: AuditTrail;
  /** The depots' control loops (control/index.ts). */
  controlPlane?: ControlPlane;
}

/** A running part of the server; `stop` is called in reverse start order at shutdown. */
export interface Component {
  readonly name: string;
  /** Stop taking new work (close listeners, sockets); called first, for every component. */
  quiesce?(): Promise<void>;
  /** Flush and release (batched writes, timers); called after every component has quiesced. */
  stop(): Promise<void>;
}

export interface Voltyard {
  readonly services: Services;
  /** http://host:port (or https) the server listens on. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  clock?: Clock;
}

/** Builds and starts the whole server: store, bus, HTTP + OCPP on one port, then every context's component. */
export async function startVoltyard(config: Config, options: StartOptions = {}): Promise<Voltyard> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const components: Component[] = [];
  let http: FastifyInstance | null = null;
  try {
    const bus = createInProcessBus(logger, clock);
    http = await createHttpApp(config, logger);
    // The configured admin key first, then the stored (hashed) API keys.
    const keys = chainKeyResolvers(adminKeyResolver(resolveAdminKey(config.adminKey, config.dataDir, logger)), keyStore(store).resolver);
    const services: Services = { config, logger, clock, store, bus, http, keys, provided: {} };

    for (const start of contexts) components.push(await start(services));

    await http.listen({ port: config.port, host: config.host });
    const address = http.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const scheme = config.tlsCertFile ? 'https' : 'http';
    const url = `${scheme}://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;
    logger.info({ url, ocpp: `${url.replace(/^http/, 'ws')}/ocpp/<stationId>`, store: store.dialect.name }, 'voltyard listening');

    let closing: Promise<void> | null = null;
    const close = () => closing ??= shutdown(logger, http!, components, store, bus);
    return { services, url, port, close };
  } catch (err) {
    await shutdown(logger, http, components, store, null).catch(() => undefined);
    throw err;
  }
}

/** The contexts that make up the server, in start order. Each registers its routes and bus handlers. */
type ContextStarter = (services: Services) => Promise<Component>;
const contexts: ContextStarter[] = [
  startSystemRoutes,
  startAccessRoutes,
  startTokenRoutes,
  startOcpp,
  startControl,
  startTelematics,
  startFleetRoutes,
  startBayRoutes,
  startYardRoutes,
  startLiveEvents,
  startDashboard,
];

async function shutdown(logger: Logger, http: FastifyInstance | null, components: Component[], store: Store, bus: Bus | null): Promise<void> {
  logger.info('shutting down');
  for (const c of [...components].reverse()) await c.quiesce?.().catch((err) => logger.error({ err, component: c.name }, 'quiesce failed'));
  // Fastify's close stops the listener and waits for in-flight requests.
  if (http) await http.close().catch((err) => logger.error({ err }, 'http close failed'));
  if (bus) await bus.drain();
  for (const c of [...components].reverse()) await c.stop().catch((err) => logger.error({ err, component: c.name }, 'stop failed'));
  await store.close();
  logger.info('stopped');
}
