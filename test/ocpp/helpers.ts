import type { TestContext } from 'node:test';
import type { DomainEvent } from '../../src/bus/events.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { needService } from '../helpers/services.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import type { Config } from '../../src/config.ts';

export interface OcppTestServer extends TestServer {
  readonly events: DomainEvent[];
  /** Events of one type, after the bus has handled everything published so far. */
  eventsOf<T extends DomainEvent['type']>(type: T): Promise<Extract<DomainEvent, { type: T }>[]>;
  putToken(idTag: string, body?: Record<string, unknown>): Promise<void>;
}

export async function startOcppServer(overrides: Partial<Config> = {}): Promise<OcppTestServer> {
  const server = await startTestServer(overrides);
  const events: DomainEvent[] = [];
  server.services.bus.subscribeAll((e) => { events.push(e); });
  return {
    ...server,
    events,
    async eventsOf(type) {
      await server.services.bus.drain();
      return events.filter((e) => e.type === type) as never;
    },
    async putToken(idTag, body = { status: 'Accepted' }) {
      const r = await server.api(`/api/tokens/${idTag}`, { method: 'PUT', body: JSON.stringify(body) });
      if (r.status !== 200) throw new Error(`token ${idTag}: HTTP ${r.status} ${await r.text()}`);
    },
  };
}

/** Runs the body against the embedded SQLite store and against a fresh PostgreSQL database. */
export function onBothStores(name: string, body: (t: TestContext, overrides: Partial<Config>) => Promise<void>, register: (name: string, fn: (t: TestContext) => Promise<void>) => void): void {
  register(`${name} (sqlite)`, (t) => body(t, {}));
  register(`${name} (postgres)`, async (t) => {
    if (!await needService(t, 'postgres')) return;
    const db = await createTempDatabase();
    try { await body(t, { databaseUrl: db.url }); } finally { await db.drop(); }
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
