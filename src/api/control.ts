import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import { requireRole, type KeyResolver, type Principal } from './auth.ts';
import { notFound } from './problem.ts';
import { operatingModes, type OperatingMode } from '../fleet/depots.ts';
import type { ControlPlane } from '../control/index.ts';
import type { Plan } from '../planner/types.ts';
import { pageOf, pageQuery, pageResult, type Page } from './paging.ts';

/** REST for the control loop: plans, readiness, modes and approvals, alerts, overrides, and "why". */

const depotParam = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['id'] } as const;
const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

export interface ReadinessRow {
  vehicleId: string | null;
  sessionId: string;
  chargerId: string;
  kind: 'plugged' | 'expected';
  departure: string;
  neededKwh: number;
  plannedKwh: number;
  shortfallKwh: number;
  socAtDeparturePercent: number | null;
  /** When the planned energy is all in. */
  doneAt: string | null;
  risk: 'ready' | 'at-risk' | 'not-ready';
}

/** Ready with less than this margin before departure counts as at risk: one late plug-in and it is not. */
const riskMarginMs = 30 * 60_000;

export function readiness(plan: Plan, vehicleOf: (sessionId: string) => string | null): ReadinessRow[] {
  return plan.sessions.map((sp) => {
    let done: number | null = null;
    let acc = 0;
    for (let t = 0; t < sp.powerKw.length; t++) {
      acc += sp.powerKw[t] * (plan.slotStartsMs[t + 1] - plan.slotStartsMs[t]) / 3_600_000;
      if (acc >= sp.plannedKwh - 1e-3 && sp.powerKw[t] > 0) { done = plan.slotStartsMs[t + 1]; break; }
    }
    if (sp.plannedKwh <= 1e-3) done = plan.nowMs;
    const risk: ReadinessRow['risk'] = !sp.ready ? 'not-ready' : done !== null && sp.departureMs - done < riskMarginMs ? 'at-risk' : 'ready';
    return {
      vehicleId: vehicleOf(sp.sessionId), sessionId: sp.sessionId, chargerId: sp.chargerId, kind: sp.kind, departure: new Date(sp.departureMs).toISOString(),
      neededKwh: sp.neededKwh, plannedKwh: sp.plannedKwh, shortfallKwh: sp.shortfallKwh, socAtDeparturePercent: sp.socAtDeparturePercent ?? null,
      doneAt: done === null ? null : new Date(done).toISOString(), risk,
    };
  }).sort((a, b) => a.departure.localeCompare(b.departure));
}

export function registerControlRoutes(http: FastifyInstance, keys: KeyResolver, plane: ControlPlane, clock: Clock): void {
  const viewer = requireRole(keys, 'viewer');
  const dispatcher = requireRole(keys, 'dispatcher');
  const admin = requireRole(keys, 'admin');
  const tags = ['control'];
  const get = async (id: string) => {
    const c = await plane.controller(id);
    if (!c) throw notFound(`no depot ${id}`);
    return c;
  };

  http.get('/api/depots', { preHandler: viewer, schema: { tags, summary: 'depots with their operating mode', querystring: pageQuery(), response: { 200: pageResult(anyObject), ...problems } } }, async (request) => {
    const items = [];
    for (const id of await plane.fleet.depotIds()) {
      const c = await plane.controller(id);
      const f = c?.fleet;
      if (!c || !f) continue;
      items.push({ id, name: f.depot.name, timeZone: f.depot.timeZone, gridLimitKw: f.depot.gridLimitKw, mode: f.depot.mode, chargers: f.chargers.length, vehicles: f.vehicles.length, activeSessions: c.sessions.size, planId: c.planId });
    }
    return pageOf(items, request.query as Page);
  });

  http.put('/api/depots/:id/mode', {
    preHandler: admin,
    schema: { tags, summary: 'set the operating mode: shadow (plan, send nothing), assisted (changes wait for approval; decreases go at once), automatic', params: depotParam, body: { type: 'object', additionalProperties: false, required: ['mode'], properties: { mode: { type: 'string', enum: [...operatingModes] } } }, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { mode } = request.body as { mode: OperatingMode };
    const c = await get(id);
    await plane.fleet.setMode(id, mode, new Date(clock.now()).toISOString());
    await c.reload();
    c.requestReplan(`mode set to ${mode}`);
    request.log.info({ depotId: id, mode, by: principal(request) }, 'operating mode changed');
    return { id, mode };
  });

  http.get('/api/depots/:id/plan', {
    preHandler: viewer,
    schema: { tags, summary: 'the current plan: per session and slot the power, site and circuit loads, costs, traces', params: depotParam, querystring: { type: 'object', properties: { stored: { type: 'boolean', default: false } } }, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const c = await get(id);
    if (c.plan) return { planId: c.planId, mode: c.mode, plan: c.plan };
    const stored = await plane.records.latestPlan(id);
    if (!stored) throw notFound(`depot ${id} has no plan yet`);
    return { planId: stored.id, mode: stored.mode, plan: stored.plan };
  });

  http.get('/api/depots/:id/readiness', {
    preHandler: viewer,
    schema: { tags, summary: 'every vehicle by departure: energy needed and planned, predicted SoC at departure, risk', params: depotParam, querystring: pageQuery(), response: { 200: pageResult(anyObject), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const c = await get(id);
    const page = request.query as Page;
    if (!c.plan) return pageOf([], page);
    const vehicleOf = (sessionId: string) => {
      const live = [...c.sessions.values()].find((s) => `tx-${s.transactionId}` === sessionId);
      if (live) return live.vehicleId;
      return c.fleet?.departures.find((d) => `exp-${d.id}` === sessionId)?.vehicleId ?? null;
    };
    return pageOf(readiness(c.plan, vehicleOf), page);
  });

  http.get('/api/depots/:id/pending', {
    preHandler: viewer,
    schema: { tags, summary: 'assisted mode: profile changes waiting for approval', params: depotParam, querystring: pageQuery(), response: { 200: pageResult(anyObject), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const c = await get(id);
    return pageOf([...c.pending.values()].map((p) => ({
      chargerId: p.chargerId, transactionId: p.transactionId, plannedAt: new Date(p.plannedAtMs).toISOString(),
      steps: p.steps.startMs.map((s, k) => ({ from: new Date(s).toISOString(), limitKw: p.steps.limitKw[k] })),
    })), request.query as Page);
  });

  http.post('/api/depots/:id/approve', {
    preHandler: dispatcher,
    schema: { tags, summary: 'assisted mode: send the waiting changes (all, or those of the named chargers)', params: depotParam, body: { type: 'object', additionalProperties: false, properties: { chargerIds: { type: 'array', items: { type: 'string' } } } }, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = (request.body ?? {}) as { chargerIds?: string[] };
    const approved = await (await get(id)).approvePending(body.chargerIds);
    request.log.info({ depotId: id, approved, by: principal(request) }, 'plan changes approved');
    return { approved };
  });

  http.get('/api/depots/:id/commands', {
    preHandler: viewer,
    schema: { tags, summary: 'commands the control loop sent, with the chargers\' answers', params: depotParam, querystring: pageQuery({ planId: { type: 'integer' } }), response: { 200: pageResult(anyObject), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as Page & { planId?: number };
    await get(id);
    const { items, total } = await plane.records.commands({ depotId: id, planId: q.planId, limit: q.limit, offset: q.offset });
    return { items, total, limit: q.limit, offset: q.offset };
  });

  http.get('/api/alerts', {
    preHandler: viewer,
    schema: {
      tags: ['alerts'], summary: 'alerts, newest first',
      querystring: { type: 'object', additionalProperties: false, properties: { depotId: { type: 'string' }, open: { type: 'boolean' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject }, total: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const q = request.query as { depotId?: string; open?: boolean; limit: number; offset: number };
    const { items, total } = await plane.records.alerts(q);
    return { items: items.map(alertView), total };
  });

  http.post('/api/alerts/:id/ack', {
    preHandler: dispatcher,
    schema: { tags: ['alerts'], summary: 'acknowledge an alert', params: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: number };
    const row = await plane.records.acknowledge(id, principal(request), new Date(clock.now()).toISOString());
    if (!row) throw notFound(`no alert ${id}`);
    return alertView(row);
  });

  http.get('/api/vehicles/:id/why', {
    preHandler: viewer,
    schema: { tags, summary: 'why a vehicle gets the power it gets, in words and numbers', params: depotParam, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    for (const c of plane.controllers()) {
      const why = c.why(id);
      if (why) return why;
    }
    throw notFound(`vehicle ${id} is in no current plan`);
  });

  http.put('/api/vehicles/:id/override', {
    preHandler: dispatcher,
    schema: {
      tags, summary: 'dispatcher override: boost priority (charge now), change departure, or pause', params: depotParam,
      body: { type: 'object', additionalProperties: false, properties: { priorityBoost: { type: 'integer', minimum: 0, maximum: 100 }, departure: { type: 'string', format: 'date-time' }, paused: { type: 'boolean' } } },
      response: { 200: anyObject, ...problems },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as { priorityBoost?: number; departure?: string; paused?: boolean };
    const c = plane.controllerForVehicle(id);
    if (!c) throw notFound(`vehicle ${id} belongs to no depot`);
    c.setOverride(id, { ...(body.priorityBoost !== undefined ? { priorityBoost: body.priorityBoost } : {}), ...(body.departure ? { departureMs: Date.parse(body.departure) } : {}), ...(body.paused !== undefined ? { paused: body.paused } : {}) });
    request.log.info({ vehicleId: id, override: body, by: principal(request) }, 'override set');
    return { vehicleId: id, override: body };
  });

  http.delete('/api/vehicles/:id/override', { preHandler: dispatcher, schema: { tags, summary: 'remove an override', params: depotParam, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const c = plane.controllerForVehicle(id);
    if (!c) throw notFound(`vehicle ${id} belongs to no depot`);
    c.setOverride(id, null);
    return reply.code(204).send();
  });
}

function principal(request: FastifyRequest): string {
  return (request as FastifyRequest & { principal?: Principal }).principal?.keyId ?? 'unknown';
}

function alertView(a: { id: number; depot_id: string; kind: string; severity: string; vehicle_id: string | null; charger_id: string | null; message: string; raised_at: string; cleared_at: string | null; acknowledged_at: string | null; acknowledged_by: string | null }) {
  return {
    id: a.id, depotId: a.depot_id, kind: a.kind, severity: a.severity, vehicleId: a.vehicle_id, chargerId: a.charger_id, message: a.message,
    raisedAt: a.raised_at, clearedAt: a.cleared_at, acknowledgedAt: a.acknowledged_at, acknowledgedBy: a.acknowledged_by, open: a.cleared_at === null,
  };
}
