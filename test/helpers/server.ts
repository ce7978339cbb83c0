import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import { startVoltyard, type StartOptions, type Voltyard } from '../../src/app.ts';
import { captureLogs, type CapturedLogs } from './logger.ts';

export const testAdminKey = 'test-admin-key-0123456789';

export interface TestServer extends Voltyard {
  readonly config: Config;
  readonly logs: CapturedLogs;
  readonly dataDir: string;
  /** fetch against the server with the admin key. */
  api(pathname: string, init?: RequestInit): Promise<Response>;
  /** Stops the server and removes its data dir (unless keepData). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Starts the real server on an ephemeral loopback port with a fresh SQLite data dir (or the given settings). */
export async function startTestServer(overrides: Partial<Config> = {}, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? mkdtempSync(path.join(tmpdir(), 'voltyard-test-'));
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', adminKey: testAdminKey, logLevel: 'debug', unknownStations: 'accept', ...overrides, dataDir });
  const logs = captureLogs();
  const server = await startVoltyard(config, { logger: logs.logger, ...options });
  return {
    ...server,
    config,
    logs,
    dataDir,
    api: (pathname, init = {}) => fetch(server.url + pathname, {
      ...init,
      headers: { authorization: `Bearer ${testAdminKey}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    }),
    async stop(stopOptions = {}) {
      await server.close();
      if (!stopOptions.keepData && !overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
