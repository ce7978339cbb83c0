import type { Services, Component } from '../app.ts';
import { authCheck, requireRole, type Role } from './auth.ts';
import { actorOf, auditLog, installAuditTrail } from './audit.ts';
import { keyStore, roles } from './keys.ts';
import { notFound } from './problem.ts';
import { pageQuery, pageResult, problems, type Page } from './paging.ts';

/** API keys (admin) and the audit log; starts first so its audit hooks cover every route registered after it. */
export async function startAccessRoutes(services: Services): Promise<Component> {
  const { http, keys, clock } = services;
  // Who may call a route is decided before its body is validated: an anonymous or under-privileged caller gets
  // 401/403, never a 400 that describes the body the route expects.
  http.addHook('onRoute', (route) => {
    const handlers = [route.preHandler ?? []].flat();
    const checks = handlers.filter((h) => (h as unknown as Record<symbol, unknown>)[authCheck]);
    if (checks.length === 0) return;
    route.preHandler = handlers.filter((h) => !checks.includes(h));
    route.preValidation = [...checks, ...[route.preValidation ?? []].flat()] as typeof route.preValidation;
  });
  const trail = installAuditTrail(http, auditLog(services.store, clock), services.logger.child({ module: 'audit' }));
  services.provided.audit = trail;
  const store = keyStore(services.store);
  const admin = requireRole(keys, 'admin');
  const tags = ['keys'];
  const keySchema = {
    type: 'object',
    properties: { id: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', enum: [...roles] }, createdAt: { type: 'string' }, createdBy: { type: 'string' }, revokedAt: { type: ['string', 'null'] } },
  } as const;

  http.get('/api/keys', {
    preHandler: admin,
    schema: { tags, summary: 'API keys (never their secrets)', querystring: pageQuery(), response: { 200: pageResult(keySchema), ...problems } },
  }, async (request) => {
    const page = request.query as Page;
    return { ...await store.list(page), ...page };
  });

  http.post('/api/keys', {
    preHandler: admin,
    schema: {
      tags, summary: 'create an API key; the key itself is in this answer only, and is stored hashed',
      body: { type: 'object', additionalProperties: false, required: ['name', 'role'], properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role: { type: 'string', enum: [...roles] } } },
      response: { 201: { type: 'object', properties: { key: keySchema, secret: { type: 'string' } } }, ...problems },
    },
  }, async (request, reply) => {
    const body = request.body as { name: string; role: Role };
    const at = new Date(clock.now()).toISOString();
    const created = await store.create(body, actorOf(request), at);
    await trail.audit(request, { action: 'key.create', target: created.key.id, before: null, after: created.key });
    return reply.code(201).send(created);
  });

  http.delete('/api/keys/:id', {
    preHandler: admin,
    schema: { tags, summary: 'revoke an API key', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 40 } } }, response: { 204: { type: 'null' }, ...problems } },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const before = await store.get(id);
    if (!before || before.revokedAt) throw notFound(`no active key ${id}`);
    await store.revoke(id, new Date(clock.now()).toISOString());
    await trail.audit(request, { action: 'key.revoke', target: id, before, after: await store.get(id) });
    return reply.code(204).send();
  });

  // The lowest role: every dashboard sign-in (the gate kiosk's too) starts by asking what its key may do.
  http.get('/api/whoami', {
    preHandler: requireRole(keys, 'kiosk'),
    schema: { tags, summary: 'the role of the presented key (the dashboard hides what it may not do)', response: { 200: { type: 'object', properties: { keyId: { type: 'string' }, role: { type: 'string' } } }, ...problems } },
  }, async (request) => (request as typeof request & { principal: { keyId: string; role: Role } }).principal);

  http.get('/api/audit', {
    preHandler: requireRole(keys, 'dispatcher'),
    schema: {
      tags: ['audit'], summary: 'who changed what and when, newest first',
      querystring: pageQuery({ actor: { type: 'string' }, action: { type: 'string' }, target: { type: 'string' }, since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' } }),
      response: { 200: pageResult({ type: 'object', additionalProperties: true }), ...problems },
    },
  }, async (request) => {
    const q = request.query as Page & { actor?: string; action?: string; target?: string; since?: string; until?: string };
    const iso = (s?: string) => s ? new Date(s).toISOString() : undefined;
    return { ...await trail.log.list({ ...q, since: iso(q.since), until: iso(q.until) }), limit: q.limit, offset: q.offset };
  });

  return { name: 'access', stop: async () => undefined };
}
