import type { FastifyRequest } from 'fastify';
import type { Services, Component } from '../app.ts';
import { requireRole, type Principal } from './auth.ts';
import { HttpProblem, badRequest, conflict, notFound } from './problem.ts';
import { pageOf, pageQuery, pageResult, problems, type Page } from './paging.ts';
import { tokenRegistry } from '../fleet/tokens.ts';
import { connectorTypes, defaultConnectorType, yardConfig, YardConfigError, type ConnectorType, type MovePolicy } from '../fleet/yard.ts';
import { taskView, yardTaskStatuses } from '../control/yard-tasks.ts';

/**
 * The yard (issue 9) over REST: the crew's task list with acknowledge / done / skip, the driver's (or the gate
 * kiosk's) "which bay?" with the depot names the kiosk picks from, and the yard settings of a depot (move policy,
 * station budgets, connector types).
 */

const depotParams = { type: 'object', required: ['depotId'], properties: { depotId: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
const taskParams = { type: 'object', required: ['depotId', 'taskId'], properties: { depotId: { type: 'string', minLength: 1, maxLength: 100 }, taskId: { type: 'integer', minimum: 1 } } } as const;
const nullable = (type: string) => ({ type: [type, 'null'] });
const task = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, taskId: { type: 'string' }, depotId: { type: 'string' }, kind: { type: 'string', enum: ['plug', 'swap', 'unplug'] }, at: { type: 'string', format: 'date-time' },
    vehicleId: { type: 'string' }, bayId: { type: 'string' }, from: { type: 'string', description: '"lot", "arrival", or the bay the vehicle comes from' },
    outVehicleId: nullable('string'), outReadyAt: nullable('string'), isMove: { type: 'boolean', description: 'counts against the shift\'s move budget' },
    text: { type: 'string' }, status: { type: 'string', enum: [...yardTaskStatuses] }, acknowledgedBy: nullable('string'), acknowledgedAt: nullable('string'),
    closedBy: nullable('string'), closedAt: nullable('string'), createdAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;
const who = { type: ['object', 'null'], additionalProperties: false, properties: { by: { type: 'string', minLength: 1, maxLength: 100, description: 'the person, when several share one key (a yard tablet)' } } } as const;
const advice = {
  type: 'object',
  properties: {
    vehicleId: { type: 'string' }, action: { type: 'string', enum: ['plug', 'plugged', 'stay', 'wait', 'unknown'], description: 'wait: park in the lot; the crew moves it (to bayId at `at`, when planned)' },
    bayId: nullable('string'), chargerId: nullable('string'), connectorType: { type: ['string', 'null'], enum: [...connectorTypes, null] },
    at: nullable('string'), message: { type: 'string' },
  },
} as const;
const movePolicy = {
  type: 'object', additionalProperties: false,
  properties: {
    movesPerShift: { type: 'integer', minimum: 0 }, shiftStarts: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } },
    people: { type: 'integer', minimum: 1 }, minMinutesBetweenMoves: { type: 'number', minimum: 0 }, noMoveBeforeDepartureMinutes: { type: 'number', minimum: 0 },
    minGainKwhPerMove: { type: 'number', minimum: 0 },
  },
} as const;

const principal = (request: FastifyRequest) => (request as FastifyRequest & { principal?: Principal }).principal?.keyId ?? 'unknown';
const iso = (ms: number) => new Date(ms).toISOString();

export async function startYardRoutes(services: Services): Promise<Component> {
  const { http, keys, store, clock } = services;
  const plane = services.provided.controlPlane;
  if (!plane) throw new Error('yard routes start after control');
  const tokens = tokenRegistry(store);
  const config = yardConfig(store);
  const tags = ['yard'];
  // The gate kiosk's key reaches only `/bay` and the depot names below (and `/api/whoami`): not the fleet.
  const kiosk = requireRole(keys, 'kiosk');
  const viewer = requireRole(keys, 'viewer');
  const dispatcher = requireRole(keys, 'dispatcher');
  const admin = requireRole(keys, 'admin');
  const depot = async (depotId: string) => {
    const c = await plane.controller(depotId);
    if (!c?.fleet) throw notFound(`no depot ${depotId}`);
    return c;
  };

  http.get('/api/depots/:depotId/yard/tasks', {
    preHandler: viewer,
    schema: {
      tags, summary: 'the yard crew\'s tasks by time: open ones (planned, acknowledged) by default; `open=false` for the closed ones',
      params: depotParams, querystring: pageQuery({ open: { type: 'boolean', default: true }, vehicleId: { type: 'string', maxLength: 100 } }), response: { 200: pageResult(task), ...problems },
    },
  }, async (request) => {
    const { depotId } = request.params as { depotId: string };
    const q = request.query as Page & { open: boolean; vehicleId?: string };
    await depot(depotId);
    const { items, total } = await plane.yardTasks.list({ depotId, open: q.open, vehicleId: q.vehicleId, limit: q.limit, offset: q.offset });
    return { items: items.map(taskView), total, limit: q.limit, offset: q.offset };
  });

  const change = (action: 'ack' | 'done' | 'skip', summary: string) => http.post(`/api/depots/:depotId/yard/tasks/:taskId/${action}`, {
    preHandler: dispatcher,
    schema: { tags, summary, params: taskParams, body: who, response: { 200: task, ...problems } },
  }, async (request) => {
    const { depotId, taskId } = request.params as { depotId: string; taskId: number };
    const by = (request.body as { by?: string } | undefined)?.by ?? principal(request);
    const c = await depot(depotId);
    const before = await plane.yardTasks.get(depotId, taskId);
    if (!before) throw notFound(`depot ${depotId} has no yard task ${taskId}`);
    const allowed = action === 'ack' ? before.status === 'planned' : before.status === 'planned' || before.status === 'acknowledged';
    if (!allowed) throw conflict(`task ${taskId} is ${before.status}${before.acknowledged_by && before.status === 'acknowledged' ? ` (by ${before.acknowledged_by})` : before.closed_by ? ` (by ${before.closed_by})` : ''}; only ${action === 'ack' ? 'a planned task can be acknowledged' : 'an open task can be closed'}`);
    const at = iso(clock.now());
    const row = action === 'ack'
      ? await plane.yardTasks.acknowledge(depotId, taskId, by, at)
      : await plane.yardTasks.close(depotId, taskId, action === 'done' ? 'done' : 'skipped', by, at);
    if (!row) throw notFound(`depot ${depotId} has no yard task ${taskId}`);
    const wanted = action === 'ack' ? 'acknowledged' : action === 'done' ? 'done' : 'skipped';
    // Changed by someone (or the control loop) between the read and the write.
    if (row.status !== wanted) throw conflict(`task ${taskId} is ${row.status}${row.closed_by ? ` (by ${row.closed_by})` : ''}`);
    plane.yard(depotId)?.touched();
    // Done or skipped changes where vehicles are (or are not): the next plan starts from there.
    if (action !== 'ack') c.requestReplan(`yard task ${taskId} ${wanted} by ${by}`);
    request.log.info({ depotId, taskId, action, by, keyId: principal(request) }, 'yard task changed');
    return taskView(row);
  });
  change('ack', 'acknowledge a task: someone is on it');
  change('done', 'mark a task done by hand (it also closes by itself when the vehicle shows up on the bay)');
  change('skip', 'skip a task: it will not be done; the yard is re-planned from where the vehicles are');

  http.get('/api/kiosk/depots', {
    preHandler: kiosk,
    schema: {
      tags, summary: 'the depots\' ids and names only, for the gate kiosk to pick its depot (`GET /api/depots` needs a viewer)',
      querystring: pageQuery(),
      response: { 200: pageResult({ type: 'object', additionalProperties: false, properties: { id: { type: 'string' }, name: { type: 'string' } } }), ...problems },
    },
  }, async (request) => {
    const items: { id: string; name: string }[] = [];
    for (const id of await plane.fleet.depotIds()) {
      const name = (await plane.controller(id))?.fleet?.depot.name;
      if (name !== undefined) items.push({ id, name });
    }
    return pageOf(items, request.query as Page);
  });

  http.get('/api/depots/:depotId/bay', {
    preHandler: kiosk,
    schema: {
      tags, summary: 'which bay? for a driver or the gate kiosk: by vehicle id or RFID token',
      params: depotParams,
      querystring: { type: 'object', additionalProperties: false, required: ['vehicle'], properties: { vehicle: { type: 'string', minLength: 1, maxLength: 100, description: 'vehicle id (van number) or token (idTag)' } } },
      response: { 200: advice, ...problems },
    },
  }, async (request) => {
    const { depotId } = request.params as { depotId: string };
    const asked = (request.query as { vehicle: string }).vehicle.trim();
    const c = await depot(depotId);
    const fleet = c.fleet!;
    const known = (id: string) => fleet.vehicles.some((v) => v.vehicleId === id);
    // A van number as painted may differ in case or padding from the id: try it as given, then case-insensitively.
    let vehicleId = known(asked) ? asked : fleet.vehicles.find((v) => v.vehicleId.toLowerCase() === asked.toLowerCase())?.vehicleId ?? null;
    if (!vehicleId) {
      const token = await tokens.get(asked);
      if (token?.vehicleId && known(token.vehicleId)) vehicleId = token.vehicleId;
    }
    if (!vehicleId) throw notFound(`no vehicle or token "${asked}" at depot ${depotId}`);
    const yard = plane.yard(depotId);
    if (!yard) throw new HttpProblem({ title: 'Service Unavailable', status: 503, detail: 'the depot\'s control loop is not running' });
    return yard.advice(fleet, vehicleId, [...c.sessions.values()], clock.now());
  });

  http.get('/api/depots/:depotId/yard', {
    preHandler: viewer,
    schema: { tags, summary: 'the yard in brief: whether the depot plans bays and moves, its move policy, the plan\'s moves and readiness, vehicles waiting for a bay, bays with connector types and station budgets, vehicles\' inlets (null: not known)', params: depotParams, response: { 200: { type: 'object', additionalProperties: true }, ...problems } },
  }, async (request) => {
    const { depotId } = request.params as { depotId: string };
    const c = await depot(depotId);
    const plan = plane.yard(depotId)?.plan ?? null;
    return {
      depotId, enabled: c.fleet!.movePolicy !== undefined, movePolicy: c.fleet!.movePolicy ?? null, planAt: plan ? iso(plan.nowMs) : null,
      moves: plan?.moves ?? null, readyCount: plan?.readyCount ?? null, vehicles: plan?.vehicles.length ?? null,
      // No bay at all before departure (those the crew moves later have a stint to come).
      waiting: plan ? plan.vehicles.filter((v) => !plan.stints.some((s) => s.vehicleId === v.vehicleId && s.toMs > plan.nowMs)).map((v) => ({ vehicleId: v.vehicleId, departure: iso(v.departureMs), ready: v.ready })) : [],
      bays: c.fleet!.chargers.map((ch) => ({
        bayId: ch.id, stationId: ch.stationId, evseId: ch.evseId, kind: ch.kind, connectorType: ch.connectorType ?? defaultConnectorType(ch.kind), maxPowerKw: ch.maxPowerKw,
        stationMaxPowerKw: ch.stationMaxPowerKw ?? null,
      })),
      vehicleConnectors: Object.fromEntries(c.fleet!.vehicles.map((v) => [v.vehicleId, v.connectorTypes ?? null])),
    };
  });

  http.put('/api/depots/:depotId/yard/policy', {
    preHandler: admin,
    schema: { tags, summary: 'set the move policy (turns bay and move planning on); fields left out take the planner\'s defaults', params: depotParams, body: movePolicy, response: { 200: movePolicy, ...problems } },
  }, async (request) => {
    const { depotId } = request.params as { depotId: string };
    const policy = request.body as Partial<MovePolicy>;
    const c = await depot(depotId);
    await config.setMovePolicy(depotId, policy, iso(clock.now()));
    await c.reload();
    c.requestReplan('move policy changed');
    return policy;
  });

  http.delete('/api/depots/:depotId/yard/policy', {
    preHandler: admin,
    schema: { tags, summary: 'turn bay and move planning off: bays are taken as drivers plug in; open tasks are superseded', params: depotParams, response: { 204: { type: 'null' }, ...problems } },
  }, async (request, reply) => {
    const { depotId } = request.params as { depotId: string };
    const c = await depot(depotId);
    await config.setMovePolicy(depotId, null, iso(clock.now()));
    await c.reload();
    const at = iso(clock.now());
    await plane.yardTasks.sync(depotId, null, [], [], at);
    plane.yard(depotId)?.touched();
    c.requestReplan('move policy removed');
    return reply.code(204).send();
  });

  http.put('/api/depots/:depotId/stations/:stationId/budget', {
    preHandler: admin,
    schema: {
      tags, summary: 'the power a station\'s EVSEs share (kW); null removes it',
      params: { type: 'object', required: ['depotId', 'stationId'], properties: { depotId: { type: 'string', minLength: 1, maxLength: 100 }, stationId: { type: 'string', minLength: 1, maxLength: 100 } } },
      body: { type: 'object', additionalProperties: false, required: ['maxPowerKw'], properties: { maxPowerKw: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 10_000 } } },
      response: { 200: { type: 'object', properties: { stationId: { type: 'string' }, maxPowerKw: nullable('number') } }, ...problems },
    },
  }, async (request) => {
    const { depotId, stationId } = request.params as { depotId: string; stationId: string };
    const { maxPowerKw } = request.body as { maxPowerKw: number | null };
    const c = await depot(depotId);
    await checkedAsync(() => config.setStationBudget(depotId, stationId, maxPowerKw));
    await c.reload();
    c.requestReplan(`station ${stationId} budget ${maxPowerKw ?? 'removed'}`);
    return { stationId, maxPowerKw };
  });

  http.put('/api/depots/:depotId/yard/connectors', {
    preHandler: admin,
    schema: {
      tags, summary: 'connector type per bay (charger id) and the inlets of each vehicle',
      params: depotParams,
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          chargers: { type: 'object', additionalProperties: { type: 'string', enum: [...connectorTypes] } },
          vehicles: { type: 'object', additionalProperties: { type: 'array', minItems: 1, items: { type: 'string', enum: [...connectorTypes] } } },
        },
      },
      response: { 200: { type: 'object', properties: { chargers: { type: 'integer' }, vehicles: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const { depotId } = request.params as { depotId: string };
    const body = request.body as { chargers?: Record<string, ConnectorType>; vehicles?: Record<string, ConnectorType[]> };
    const c = await depot(depotId);
    const result = await checkedAsync(() => config.setConnectorTypes(depotId, body));
    c.requestReplan('connector types changed');
    return result;
  });

  return { name: 'yard', stop: async () => undefined };
}

async function checkedAsync<T>(fn: () => Promise<T>): Promise<T> {
  try { return await fn(); } catch (err) {
    if (err instanceof YardConfigError) throw badRequest(err.message, [{ field: err.field, message: err.message }]);
    throw err;
  }
}
