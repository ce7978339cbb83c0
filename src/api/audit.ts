import type { Generated, Kysely } from 'kysely';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Principal } from './auth.ts';

/**
 * The audit log: every control action and configuration change, with who (the API key's id), what, when, and the
 * state before and after. Routes that know their before/after call `audit()`; every other successful change made
 * through the API is caught by a hook and logged with its body, so nothing that changed state goes unrecorded.
 */

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
}

export const auditMigrations: readonly Migration[] = [{
  name: '0602_api_audit',
  async up(db: Kysely<unknown>, dialect) {
    await dialect.addIdColumn(db.schema.createTable('api_audit'), 'id')
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('before_json', 'text')
      .addColumn('after_json', 'text')
      .execute();
    await db.schema.createIndex('api_audit_at').on('api_audit').columns(['at']).execute();
  },
}];

type Tables = {
  api_audit: { id: Generated<number>; at: string; actor: string; action: string; target: string; before_json: string | null; after_json: string | null };
};

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  /** ISO instants, inclusive / exclusive. */
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

export interface AuditLog {
  record(entry: { actor: string; action: string; target: string; before?: unknown; after?: unknown }): Promise<void>;
  list(filter: AuditFilter): Promise<{ items: AuditEntry[]; total: number }>;
}

/** Field names whose values never reach the log (station passwords, provider credentials, key secrets). */
const secretField = /password|secret|credential|apikey|privatekey/i;

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, secretField.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}

export function auditLog(store: Store, clock: Clock): AuditLog {
  const db = store.db.withTables<Tables>();
  const json = (v: unknown) => v === undefined ? null : JSON.stringify(redact(v));
  return {
    async record(e) {
      await db.insertInto('api_audit').values({
        at: new Date(clock.now()).toISOString(), actor: e.actor, action: e.action, target: e.target, before_json: json(e.before), after_json: json(e.after),
      }).execute();
    },
    async list(f) {
      let q = db.selectFrom('api_audit');
      if (f.actor) q = q.where('actor', '=', f.actor);
      if (f.action) q = q.where('action', '=', f.action);
      if (f.target) q = q.where('target', '=', f.target);
      if (f.since) q = q.where('at', '>=', f.since);
      if (f.until) q = q.where('at', '<', f.until);
      const rows = await q.selectAll().orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute();
      const { n } = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return {
        items: rows.map((r) => ({
          id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target,
          before: r.before_json === null ? null : JSON.parse(r.before_json), after: r.after_json === null ? null : JSON.parse(r.after_json),
        })),
        total: Number(n),
      };
    },
  };
}

type AuditedRequest = FastifyRequest & { principal?: Principal; auditBefore?: unknown; audited?: boolean };

export function actorOf(request: FastifyRequest): string {
  return (request as AuditedRequest).principal?.keyId ?? 'unknown';
}

/** Reads the state a route is about to change, so the hook can log before/after for routes that do not log themselves. */
export type BeforeCapture = (request: FastifyRequest) => Promise<unknown>;

export interface AuditTrail {
  readonly log: AuditLog;
  /** Records a change made by `request` (and stops the hook from logging it a second time). */
  audit(request: FastifyRequest, entry: { action: string; target: string; before?: unknown; after?: unknown }): Promise<void>;
  /** Registers how to read the "before" state of a route (method and route pattern, e.g. 'PUT /api/depots/:id/mode'). */
  captureBefore(route: string, capture: BeforeCapture): void;
}

const mutating = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Installs the hooks on the app; must run before the routes it should cover are registered. */
export function installAuditTrail(http: FastifyInstance, log: AuditLog, logger: Logger): AuditTrail {
  const captures = new Map<string, BeforeCapture>();
  const routeKey = (request: FastifyRequest) => `${request.method} ${request.routeOptions.url ?? ''}`;
  http.addHook('preHandler', async (request) => {
    if (!mutating.has(request.method)) return;
    const capture = captures.get(routeKey(request));
    if (capture) (request as AuditedRequest).auditBefore = await capture(request).catch(() => undefined);
  });
  // onSend, not onResponse: the entry is written before the client hears the change went through.
  http.addHook('onSend', async (request, reply, payload) => {
    const r = request as AuditedRequest;
    if (!mutating.has(request.method) || r.audited || reply.statusCode >= 400 || !request.url.startsWith('/api/') || !r.principal) return payload;
    r.audited = true;
    const params = request.params && typeof request.params === 'object' ? Object.values(request.params as Record<string, unknown>).join('/') : '';
    // Without a body (an acknowledge, a delete) the answer is the best "after" there is.
    const after = request.body ?? (typeof payload === 'string' && payload ? safeJson(payload) : null);
    await log.record({ actor: r.principal.keyId, action: routeKey(request), target: params || (request.routeOptions.url ?? request.url), before: r.auditBefore, after })
      .catch((err) => logger.error({ err, action: routeKey(request) }, 'audit record failed'));
    return payload;
  });
  return {
    log,
    async audit(request, entry) {
      (request as AuditedRequest).audited = true;
      await log.record({ actor: actorOf(request), ...entry });
    },
    captureBefore(route, capture) { captures.set(route, capture); },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
