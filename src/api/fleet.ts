import type { FastifyRequest } from 'fastify';
import type { Services, Component } from '../app.ts';
import { requireRole } from './auth.ts';
import { badRequest, HttpProblem, notFound } from './problem.ts';
import { pageOf, pageQuery, pageResult, problems, type Page } from './paging.ts';
import { CsvError, parseCsv, toCsv, type CsvColumn } from './csv.ts';
import type { AuditTrail } from './audit.ts';
import { ConfigError, fleetConfig, type FleetVehicle, type OneOffDeparture } from '../fleet/config.ts';
import { blockStore, weekdays, type WeeklyBlock } from '../fleet/blocks.ts';
import { tokenRegistry, tokenStatuses, type TokenStatus } from '../fleet/tokens.ts';
import { isValidTimeZone, type Tariff } from '../energy/tariff.ts';
import { parseTariff, ScenarioError } from '../fleet/scenario.ts';
import { operatingModes, type OperatingMode } from '../fleet/depots.ts';
import type { ControlPlane } from '../control/index.ts';
import { depotOverview } from './overview.ts';

/**
 * REST for what a fleet configures: depots, circuits, chargers, vehicles, one-off departures and weekly blocks,
 * tariffs; CSV import/export of vehicles, tokens and departures. Every change is audited and makes the depot's control
 * loop reload its configuration and re-plan.
 */

const idString = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:-]+$' } as const;
const depotParams = { type: 'object', required: ['id'], properties: { id: idString } } as const;
const depotItemParams = (item: string) => ({ type: 'object', required: ['id', item], properties: { id: idString, [item]: idString } }) as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const csvBody = { type: 'string', description: 'text/csv document with a header row' } as const;

const vehicleColumns: CsvColumn[] = [
  { name: 'id', type: 'string', required: true, maxLength: 100 },
  { name: 'depotId', type: 'string', required: true, maxLength: 100 },
  { name: 'name', type: 'string', maxLength: 200 },
  { name: 'vin', type: 'string', maxLength: 17 },
  { name: 'batteryKwh', type: 'number', required: true, min: 1, max: 2000 },
  { name: 'acMaxPowerKw', type: 'number', required: true, min: 0, max: 1000 },
  { name: 'dcMaxPowerKw', type: 'number', min: 0, max: 2000 },
  { name: 'consumptionKwhPerKm', type: 'number', min: 0.01, max: 10 },
];
const tokenColumns: CsvColumn[] = [
  { name: 'idTag', type: 'string', required: true, maxLength: 20 },
  { name: 'status', type: 'enum', required: true, values: tokenStatuses },
  { name: 'expiresAt', type: 'datetime' },
  { name: 'parentIdTag', type: 'string', maxLength: 20 },
  { name: 'vehicleId', type: 'string', maxLength: 100 },
];
/** One sheet for both kinds: a row with `days` is a weekly block (times HH:MM local), without it a one-off (ISO instants). */
const departureColumns: CsvColumn[] = [
  { name: 'id', type: 'string', maxLength: 100 },
  { name: 'vehicleId', type: 'string', required: true, maxLength: 100 },
  { name: 'days', type: 'days' },
  { name: 'departure', type: 'string', required: true, maxLength: 40 },
  { name: 'arrival', type: 'string', maxLength: 40 },
  { name: 'targetSocPercent', type: 'number', min: 1, max: 100 },
  { name: 'energyNeededKwh', type: 'number', min: 0, max: 2000 },
  { name: 'distanceKm', type: 'number', min: 0, max: 5000 },
  { name: 'chargerId', type: 'string', maxLength: 100 },
  { name: 'priority', type: 'integer', min: 0, max: 100 },
];

const vehicleBody = {
  type: 'object', additionalProperties: false, required: ['depotId', 'batteryKwh', 'acMaxPowerKw'],
  properties: {
    depotId: idString, tenantId: idString, name: { type: 'string', minLength: 1, maxLength: 200 }, vin: { type: 'string', minLength: 11, maxLength: 17 },
    batteryKwh: { type: 'number', exclusiveMinimum: 0, maximum: 2000 }, acMaxPowerKw: { type: 'number', minimum: 0, maximum: 1000 },
    dcMaxPowerKw: { type: 'number', minimum: 0, maximum: 2000 }, consumptionKwhPerKm: { type: 'number', minimum: 0.01, maximum: 10 },
  },
} as const;

const blockBody = {
  type: 'object', additionalProperties: false, required: ['vehicleId', 'days', 'departureTime'],
  properties: {
    vehicleId: idString, days: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...weekdays] } },
    departureTime: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }, arrivalTime: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
    targetSocPercent: { type: 'number', minimum: 1, maximum: 100 }, energyNeededKwh: { type: 'number', minimum: 0, maximum: 2000 },
    distanceKm: { type: 'number', minimum: 0, maximum: 5000 }, chargerId: idString, priority: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
  },
} as const;

const departureBody = {
  type: 'object', additionalProperties: false, required: ['vehicleId', 'departureAt'],
  properties: {
    vehicleId: idString, departureAt: { type: 'string', format: 'date-time' }, arrivalAt: { type: 'string', format: 'date-time' },
    arrivalSocPercent: { type: 'number', minimum: 0, maximum: 100 }, targetSocPercent: { type: 'number', minimum: 1, maximum: 100, default: 100 },
    energyNeededKwh: { type: 'number', minimum: 0, maximum: 2000 }, chargerId: idString, priority: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
  },
} as const;

export async function startFleetRoutes(services: Services): Promise<Component> {
  const { http, keys, clock, store } = services;
  const plane = services.provided.controlPlane;
  const trail = services.provided.audit;
  if (!plane || !trail) throw new Error('fleet routes start after control and access');
  const config = fleetConfig(store);
  const blocks = blockStore(store);
  const tokens = tokenRegistry(store);
  const viewer = requireRole(keys, 'viewer');
  const admin = requireRole(keys, 'admin');
  const at = () => new Date(clock.now()).toISOString();

  http.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  /** The control loop plans from the stored configuration: after a change it reloads and re-plans. */
  const refresh = async (depotId: string, why: string) => {
    const c = await plane.controller(depotId);
    if (!c) return;
    await c.reload();
    c.requestReplan(why);
  };
  const depotOr404 = async (id: string) => {
    const d = await config.depot(id);
    if (!d) throw notFound(`no depot ${id}`);
    return d;
  };
  const asProblem = (err: unknown): never => {
    if (err instanceof ConfigError) throw new HttpProblem({ title: 'Conflict', status: 409, detail: err.message, errors: [{ field: err.field, message: err.message }] });
    if (err instanceof CsvError) throw badRequest(err.message, err.problems);
    throw err;
  };
  const audited = (request: FastifyRequest, action: string, target: string, before: unknown, after: unknown) => trail.audit(request, { action, target, before, after });

  // Before/after for the control routes (api/control.ts), which do not audit themselves.
  registerControlAuditCaptures(trail, plane, tokens);

  // ---- depots and tariffs ----
  const depotSchema = {
    type: 'object', properties: {
      id: { type: 'string' }, name: { type: 'string' }, timeZone: { type: 'string' }, slotMinutes: { type: 'integer' }, gridLimitKw: { type: 'number' },
      mode: { type: 'string' }, tariff: anyObject, updatedAt: { type: 'string' }, counts: anyObject,
    },
  } as const;
  http.get('/api/depots/:id', { preHandler: viewer, schema: { tags: ['fleet'], summary: 'a depot\'s settings', params: depotParams, response: { 200: depotSchema, ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    const d = await depotOr404(id);
    return { ...d, counts: { circuits: await config.count('fleet_circuit', id), chargers: await config.count('fleet_charger', id), vehicles: await config.count('fleet_vehicle_charging', id), departures: await config.count('fleet_departure', id) } };
  });

  http.put('/api/depots/:id', {
    preHandler: admin,
    schema: {
      tags: ['fleet'], summary: 'create or change a depot (name, time zone, grid limit, slot length, optional tariff and mode)', params: depotParams,
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'timeZone', 'gridLimitKw'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 }, timeZone: { type: 'string', minLength: 1, maxLength: 64 }, gridLimitKw: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
          slotMinutes: { type: 'integer', enum: [5, 10, 15, 30, 60], default: 15 }, mode: { type: 'string', enum: [...operatingModes] }, tariff: anyObject,
        },
      },
      response: { 200: depotSchema, 201: depotSchema, ...problems },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const b = request.body as { name: string; timeZone: string; gridLimitKw: number; slotMinutes: number; mode?: OperatingMode; tariff?: unknown };
    if (!isValidTimeZone(b.timeZone)) throw badRequest('unknown time zone', [{ field: 'body.timeZone', message: `"${b.timeZone}" is not an IANA time zone (e.g. Europe/Amsterdam)` }]);
    const tariff = b.tariff === undefined ? undefined : checkedTariff(b.tariff, 'body.tariff');
    const before = await config.depot(id);
    const after = await config.putDepot({ id, name: b.name, timeZone: b.timeZone, gridLimitKw: b.gridLimitKw, slotMinutes: b.slotMinutes, mode: b.mode, tariff }, at());
    await audited(request, before ? 'depot.update' : 'depot.create', id, before, after);
    await refresh(id, 'depot settings changed');
    return reply.code(before ? 200 : 201).send(after);
  });

  http.delete('/api/depots/:id', { preHandler: admin, schema: { tags: ['fleet'], summary: 'remove a depot and everything configured in it', params: depotParams, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const before = await depotOr404(id);
    await config.removeDepot(id);
    await audited(request, 'depot.remove', id, before, null);
    await refresh(id, 'depot removed');
    return reply.code(204).send();
  });

  http.get('/api/depots/:id/tariff', { preHandler: viewer, schema: { tags: ['tariffs'], summary: 'the depot\'s tariff (time-of-use rules, demand charges)', params: depotParams, response: { 200: anyObject, ...problems } } }, async (request) => {
    return (await depotOr404((request.params as { id: string }).id)).tariff;
  });

  http.put('/api/depots/:id/tariff', {
    preHandler: admin,
    schema: {
      tags: ['tariffs'], summary: 'replace the depot\'s tariff', params: depotParams,
      body: { type: 'object', required: ['currency', 'defaultPricePerKwh'], properties: { name: { type: 'string' }, currency: { type: 'string', minLength: 3, maxLength: 3 }, defaultPricePerKwh: { type: 'number', minimum: 0 }, rules: { type: 'array', maxItems: 200 }, demandCharges: { type: 'array', maxItems: 50 } } },
      response: { 200: anyObject, ...problems },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const before = await depotOr404(id);
    const tariff = checkedTariff(request.body, 'body');
    await config.setTariff(id, tariff, at());
    await audited(request, 'tariff.update', id, before.tariff, tariff);
    await refresh(id, 'tariff changed');
    return tariff;
  });

  // ---- circuits ----
  const circuitSchema = { type: 'object', properties: { id: { type: 'string' }, parentId: { type: ['string', 'null'] }, maxPowerKw: { type: 'number' } } } as const;
  http.get('/api/depots/:id/circuits', { preHandler: viewer, schema: { tags: ['fleet'], summary: 'the circuit tree (root = grid connection)', params: depotParams, querystring: pageQuery(), response: { 200: pageResult(circuitSchema), ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    await depotOr404(id);
    return pageOf(await config.circuits(id), request.query as Page);
  });
  http.put('/api/depots/:id/circuits/:circuitId', {
    preHandler: admin,
    schema: {
      tags: ['fleet'], summary: 'create or change a circuit', params: depotItemParams('circuitId'),
      body: { type: 'object', additionalProperties: false, required: ['maxPowerKw'], properties: { parentId: { anyOf: [idString, { type: 'null' }] }, maxPowerKw: { type: 'number', exclusiveMinimum: 0, maximum: 100000 } } },
      response: { 200: circuitSchema, ...problems },
    },
  }, async (request) => {
    const { id, circuitId } = request.params as { id: string; circuitId: string };
    const b = request.body as { parentId?: string | null; maxPowerKw: number };
    await depotOr404(id);
    const before = (await config.circuits(id)).find((c) => c.id === circuitId) ?? null;
    const after = await config.putCircuit(id, { id: circuitId, parentId: b.parentId ?? null, maxPowerKw: b.maxPowerKw }).catch(asProblem);
    await audited(request, before ? 'circuit.update' : 'circuit.create', `${id}/${circuitId}`, before, after);
    await refresh(id, `circuit ${circuitId} changed`);
    return after;
  });
  http.delete('/api/depots/:id/circuits/:circuitId', { preHandler: admin, schema: { tags: ['fleet'], summary: 'remove a circuit that feeds nothing', params: depotItemParams('circuitId'), response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id, circuitId } = request.params as { id: string; circuitId: string };
    const before = (await config.circuits(id)).find((c) => c.id === circuitId);
    if (!before) throw notFound(`no circuit ${circuitId} in depot ${id}`);
    await config.removeCircuit(id, circuitId).catch(asProblem);
    await audited(request, 'circuit.remove', `${id}/${circuitId}`, before, null);
    await refresh(id, `circuit ${circuitId} removed`);
    return reply.code(204).send();
  });

  // ---- chargers (bays) ----
  const chargerSchema = {
    type: 'object', properties: {
      id: { type: 'string' }, depotId: { type: 'string' }, circuitId: { type: 'string' }, stationId: { type: 'string' }, evseId: { type: 'integer' }, kind: { type: 'string' },
      maxPowerKw: { type: 'number' }, minPowerKw: { type: 'number' }, phases: { type: 'integer' }, connection: anyObject,
    },
  } as const;
  http.get('/api/depots/:id/chargers', {
    preHandler: viewer,
    schema: { tags: ['fleet'], summary: 'chargers (bays) with their connection status and the URL to point them at', params: depotParams, querystring: pageQuery(), response: { 200: pageResult(chargerSchema), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    await depotOr404(id);
    const page = pageOf(await config.chargers(id), request.query as Page);
    const central = services.provided.centralSystem;
    const base = `${request.protocol === 'https' ? 'wss' : 'ws'}://${request.host}/ocpp/`;
    const items = [];
    for (const c of page.items) {
      const station = central ? await central.station(c.stationId) : null;
      const connector = station?.connectors.find((x) => x.connectorId === c.evseId);
      items.push({
        ...c,
        connection: {
          known: station !== null, online: station?.online ?? false, registration: station?.registration ?? null, protocol: station?.protocol ?? null,
          lastSeenAt: station?.lastSeenAt ?? null, status: connector?.status ?? null, errorCode: connector?.errorCode ?? null,
          ocppUrl: base + encodeURIComponent(c.stationId), vendor: station?.vendor ?? null, model: station?.model ?? null,
        },
      });
    }
    return { ...page, items };
  });
  http.put('/api/depots/:id/chargers/:chargerId', {
    preHandler: admin,
    schema: {
      tags: ['fleet'], summary: 'create or change a charger: the EVSE of an OCPP station, on a circuit', params: depotItemParams('chargerId'),
      body: {
        type: 'object', additionalProperties: false, required: ['circuitId', 'stationId', 'kind', 'maxPowerKw'],
        properties: {
          circuitId: idString, stationId: { type: 'string', minLength: 1, maxLength: 48 }, evseId: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
          kind: { type: 'string', enum: ['AC', 'DC'] }, maxPowerKw: { type: 'number', exclusiveMinimum: 0, maximum: 1000 }, minPowerKw: { type: 'number', minimum: 0, maximum: 1000 },
          phases: { type: 'integer', enum: [1, 3] },
        },
      },
      response: { 200: chargerSchema, ...problems },
    },
  }, async (request) => {
    const { id, chargerId } = request.params as { id: string; chargerId: string };
    const b = request.body as { circuitId: string; stationId: string; evseId: number; kind: 'AC' | 'DC'; maxPowerKw: number; minPowerKw?: number; phases?: 1 | 3 };
    await depotOr404(id);
    if (b.minPowerKw !== undefined && b.minPowerKw > b.maxPowerKw) throw badRequest('invalid body', [{ field: 'body.minPowerKw', message: 'must not exceed maxPowerKw' }]);
    const before = (await config.chargers(id)).find((c) => c.id === chargerId) ?? null;
    const after = await config.putCharger(id, { id: chargerId, ...b }).catch(asProblem);
    await audited(request, before ? 'charger.update' : 'charger.create', `${id}/${chargerId}`, before, after);
    await refresh(id, `charger ${chargerId} changed`);
    return after;
  });
  http.delete('/api/depots/:id/chargers/:chargerId', { preHandler: admin, schema: { tags: ['fleet'], summary: 'remove a charger', params: depotItemParams('chargerId'), response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id, chargerId } = request.params as { id: string; chargerId: string };
    const before = (await config.chargers(id)).find((c) => c.id === chargerId);
    if (!before) throw notFound(`no charger ${chargerId} in depot ${id}`);
    await config.removeCharger(id, chargerId);
    await audited(request, 'charger.remove', `${id}/${chargerId}`, before, null);
    await refresh(id, `charger ${chargerId} removed`);
    return reply.code(204).send();
  });

  // ---- vehicles ----
  const vehicleSchema = {
    type: 'object', properties: {
      id: { type: 'string' }, depotId: { type: 'string' }, tenantId: { type: 'string' }, name: { type: 'string' }, vin: { type: ['string', 'null'] }, batteryKwh: { type: 'number' },
      acMaxPowerKw: { type: 'number' }, dcMaxPowerKw: { type: 'number' }, consumptionKwhPerKm: { type: ['number', 'null'] },
    },
  } as const;
  http.get('/api/vehicles', { preHandler: viewer, schema: { tags: ['fleet'], summary: 'vehicles with their battery data', querystring: pageQuery({ depotId: idString }), response: { 200: pageResult(vehicleSchema), ...problems } } }, async (request) => {
    const q = request.query as Page & { depotId?: string };
    return { ...await config.vehicles(q), limit: q.limit, offset: q.offset };
  });
  http.get('/api/vehicles/:id', { preHandler: viewer, schema: { tags: ['fleet'], summary: 'one vehicle', params: depotParams, response: { 200: vehicleSchema, ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    const v = await config.vehicle(id);
    if (!v) throw notFound(`no vehicle ${id}`);
    return v;
  });
  const putVehicle = async (v: FleetVehicle) => {
    const before = await config.vehicle(v.id, v.tenantId);
    const after = await config.putVehicle(v, at()).catch(asProblem);
    return { before, after };
  };
  http.put('/api/vehicles/:id', {
    preHandler: admin,
    schema: { tags: ['fleet'], summary: 'create or change a vehicle', params: depotParams, body: vehicleBody, response: { 200: vehicleSchema, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const b = request.body as Partial<FleetVehicle> & { depotId: string; batteryKwh: number; acMaxPowerKw: number };
    const { before, after } = await putVehicle({
      id, depotId: b.depotId, tenantId: b.tenantId ?? 'default', name: b.name ?? id, vin: b.vin ?? null, batteryKwh: b.batteryKwh, acMaxPowerKw: b.acMaxPowerKw,
      dcMaxPowerKw: b.dcMaxPowerKw ?? 0, consumptionKwhPerKm: b.consumptionKwhPerKm ?? null,
    });
    await audited(request, before ? 'vehicle.update' : 'vehicle.create', id, before, after);
    if (before && before.depotId !== after.depotId) await refresh(before.depotId, `${id} moved away`);
    await refresh(after.depotId, `vehicle ${id} changed`);
    return after;
  });
  http.delete('/api/vehicles/:id', { preHandler: admin, schema: { tags: ['fleet'], summary: 'take a vehicle out of depot planning (with its departures)', params: depotParams, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const before = await config.vehicle(id);
    if (!before) throw notFound(`no vehicle ${id}`);
    await config.removeVehicle(id);
    await audited(request, 'vehicle.remove', id, before, null);
    await refresh(before.depotId, `vehicle ${id} removed`);
    return reply.code(204).send();
  });

  http.get('/api/vehicles.csv', { preHandler: viewer, schema: { tags: ['csv'], summary: 'vehicles as CSV', querystring: { type: 'object', additionalProperties: false, properties: { depotId: idString } } } }, async (request, reply) => {
    const { depotId } = request.query as { depotId?: string };
    const all: FleetVehicle[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await config.vehicles({ depotId, limit: 500, offset });
      all.push(...page.items);
      if (page.items.length < 500) break;
    }
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="vehicles.csv"').send(toCsv(vehicleColumns.map((c) => c.name), all as never));
  });
  http.post('/api/vehicles.csv', {
    preHandler: admin,
    schema: { tags: ['csv'], summary: 'create or update vehicles from CSV (all rows or none); columns: ' + vehicleColumns.map((c) => c.name).join(','), consumes: ['text/csv'], body: csvBody, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const rows = csvRows(request.body, vehicleColumns);
    const depots = new Set<string>();
    const problemsFound: { field: string; message: string }[] = [];
    for (const { line, values } of rows) {
      const depotId = values.depotId as string;
      if (!depots.has(depotId) && !await config.depot(depotId)) problemsFound.push({ field: `line ${line}, column depotId`, message: `no depot ${depotId}` });
      else depots.add(depotId);
    }
    if (problemsFound.length) throw badRequest('the CSV names unknown depots; nothing was imported', problemsFound);
    const results = [];
    for (const { values: v } of rows) {
      const id = v.id as string;
      results.push(await putVehicle({
        id, depotId: v.depotId as string, tenantId: 'default', name: (v.name as string | null) ?? id, vin: v.vin as string | null, batteryKwh: v.batteryKwh as number,
        acMaxPowerKw: v.acMaxPowerKw as number, dcMaxPowerKw: (v.dcMaxPowerKw as number | null) ?? 0, consumptionKwhPerKm: v.consumptionKwhPerKm as number | null,
      }));
    }
    const created = results.filter((r) => !r.before).length;
    await audited(request, 'vehicle.import', 'vehicles.csv', results.map((r) => r.before).filter(Boolean), results.map((r) => r.after));
    for (const d of depots) await refresh(d, 'vehicles imported');
    return { imported: rows.length, created, updated: rows.length - created };
  });

  // ---- tokens CSV (the token CRUD is api/tokens.ts) ----
  http.get('/api/tokens.csv', { preHandler: viewer, schema: { tags: ['csv'], summary: 'tokens as CSV' } }, async (_request, reply) => {
    const all = [];
    for (let offset = 0; ; offset += 500) {
      const page = await tokens.list({ limit: 500, offset });
      all.push(...page.items);
      if (page.items.length < 500) break;
    }
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="tokens.csv"').send(toCsv(tokenColumns.map((c) => c.name), all as never));
  });
  http.post('/api/tokens.csv', {
    preHandler: admin,
    schema: { tags: ['csv'], summary: 'create or update tokens from CSV (all rows or none); columns: ' + tokenColumns.map((c) => c.name).join(','), consumes: ['text/csv'], body: csvBody, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const rows = csvRows(request.body, tokenColumns);
    const now = at();
    const after = [];
    let created = 0;
    for (const { values: v } of rows) {
      if (!await tokens.get(v.idTag as string)) created++;
      after.push(await tokens.put({ idTag: v.idTag as string, status: v.status as TokenStatus, expiresAt: v.expiresAt as string | null, parentIdTag: v.parentIdTag as string | null, vehicleId: v.vehicleId as string | null }, now));
    }
    await audited(request, 'token.import', 'tokens.csv', null, after);
    return { imported: rows.length, created, updated: rows.length - created };
  });

  // ---- one-off departures ----
  const departureSchema = {
    type: 'object', properties: {
      id: { type: 'string' }, depotId: { type: 'string' }, vehicleId: { type: 'string' }, arrivalAt: { type: ['string', 'null'] }, arrivalSocPercent: { type: ['number', 'null'] },
      departureAt: { type: 'string' }, targetSocPercent: { type: 'number' }, energyNeededKwh: { type: ['number', 'null'] }, chargerId: { type: ['string', 'null'] }, priority: { type: 'integer' },
    },
  } as const;
  http.get('/api/depots/:id/departures', {
    preHandler: viewer,
    schema: { tags: ['departures'], summary: 'one-off departures, soonest first', params: depotParams, querystring: pageQuery({ vehicleId: idString, from: { type: 'string', format: 'date-time' } }), response: { 200: pageResult(departureSchema), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as Page & { vehicleId?: string; from?: string };
    await depotOr404(id);
    return { ...await config.departures(id, { ...q, from: q.from ? new Date(q.from).toISOString() : undefined }), limit: q.limit, offset: q.offset };
  });
  http.get('/api/depots/:id/departures/upcoming', {
    preHandler: viewer,
    schema: { tags: ['departures'], summary: 'the departures the control loop plans with: one-offs and the weekly blocks expanded for the coming days', params: depotParams, querystring: pageQuery(), response: { 200: pageResult(anyObject), ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const fleet = await plane.fleet.load(id);
    if (!fleet) throw notFound(`no depot ${id}`);
    const nowMs = clock.now();
    const upcoming = fleet.departures.filter((d) => d.departureMs > nowMs).map((d) => ({
      id: d.id, vehicleId: d.vehicleId, kind: d.id.startsWith('wk:') ? 'weekly' : 'one-off', arrivalAt: d.arrivalMs === null ? null : new Date(d.arrivalMs).toISOString(),
      departureAt: new Date(d.departureMs).toISOString(), targetSocPercent: d.targetSocPercent, energyNeededKwh: d.energyNeededKwh, chargerId: d.chargerId, priority: d.priority,
    }));
    return pageOf(upcoming, request.query as Page);
  });
  const putDeparture = async (d: OneOffDeparture) => {
    const before = await config.departure(d.depotId, d.id);
    const after = await config.putDeparture(d).catch(asProblem);
    return { before, after };
  };
  http.put('/api/depots/:id/departures/:departureId', {
    preHandler: admin,
    schema: { tags: ['departures'], summary: 'create or change a one-off departure', params: depotItemParams('departureId'), body: departureBody, response: { 200: departureSchema, ...problems } },
  }, async (request) => {
    const { id, departureId } = request.params as { id: string; departureId: string };
    const b = request.body as { vehicleId: string; departureAt: string; arrivalAt?: string; arrivalSocPercent?: number; targetSocPercent: number; energyNeededKwh?: number; chargerId?: string; priority: number };
    await depotOr404(id);
    const { before, after } = await putDeparture({
      id: departureId, depotId: id, vehicleId: b.vehicleId, departureAt: new Date(b.departureAt).toISOString(), arrivalAt: b.arrivalAt ? new Date(b.arrivalAt).toISOString() : null,
      arrivalSocPercent: b.arrivalSocPercent ?? null, targetSocPercent: b.targetSocPercent, energyNeededKwh: b.energyNeededKwh ?? null, chargerId: b.chargerId ?? null, priority: b.priority,
    });
    await audited(request, before ? 'departure.update' : 'departure.create', `${id}/${departureId}`, before, after);
    await refresh(id, `departure ${departureId} changed`);
    return after;
  });
  http.delete('/api/depots/:id/departures/:departureId', { preHandler: admin, schema: { tags: ['departures'], summary: 'remove a one-off departure', params: depotItemParams('departureId'), response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id, departureId } = request.params as { id: string; departureId: string };
    const before = await config.departure(id, departureId);
    if (!before) throw notFound(`no departure ${departureId} in depot ${id}`);
    await config.removeDeparture(id, departureId);
    await audited(request, 'departure.remove', `${id}/${departureId}`, before, null);
    await refresh(id, `departure ${departureId} removed`);
    return reply.code(204).send();
  });

  // ---- weekly blocks ----
  const blockSchema = {
    type: 'object', properties: {
      id: { type: 'string' }, depotId: { type: 'string' }, vehicleId: { type: 'string' }, days: { type: 'array', items: { type: 'string' } }, departureTime: { type: 'string' },
      arrivalTime: { type: ['string', 'null'] }, targetSocPercent: { type: ['number', 'null'] }, energyNeededKwh: { type: ['number', 'null'] }, distanceKm: { type: ['number', 'null'] },
      chargerId: { type: ['string', 'null'] }, priority: { type: 'integer' }, updatedAt: { type: 'string' },
    },
  } as const;
  http.get('/api/depots/:id/blocks', { preHandler: viewer, schema: { tags: ['departures'], summary: 'weekly-repeating duty blocks', params: depotParams, querystring: pageQuery(), response: { 200: pageResult(blockSchema), ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as Page;
    await depotOr404(id);
    return { ...await blocks.list(id, q), ...q };
  });
  const putBlock = async (b: Omit<WeeklyBlock, 'updatedAt'>, where: (field: string) => string) => {
    const needs = [b.targetSocPercent, b.energyNeededKwh, b.distanceKm].filter((x) => x !== null).length;
    if (needs > 1) throw badRequest('invalid block', [{ field: where('targetSocPercent'), message: 'give the need once: targetSocPercent, energyNeededKwh or distanceKm' }]);
    await config.checkVehicleAndBay(b.depotId, b.vehicleId, b.chargerId).catch(asProblem);
    if (b.distanceKm !== null && !(await blocks.consumption([b.vehicleId])).has(b.vehicleId)) {
      throw badRequest('invalid block', [{ field: where('distanceKm'), message: `vehicle ${b.vehicleId} has no consumptionKwhPerKm, so a distance cannot become energy; set it on the vehicle or give energyNeededKwh` }]);
    }
    const before = await blocks.get(b.depotId, b.id);
    return { before, after: await blocks.put(b, at()) };
  };
  http.put('/api/depots/:id/blocks/:blockId', {
    preHandler: admin,
    schema: { tags: ['departures'], summary: 'create or change a weekly block (times are local to the depot)', params: depotItemParams('blockId'), body: blockBody, response: { 200: blockSchema, ...problems } },
  }, async (request) => {
    const { id, blockId } = request.params as { id: string; blockId: string };
    const b = request.body as { vehicleId: string; days: WeeklyBlock['days']; departureTime: string; arrivalTime?: string; targetSocPercent?: number; energyNeededKwh?: number; distanceKm?: number; chargerId?: string; priority: number };
    await depotOr404(id);
    const { before, after } = await putBlock({
      id: blockId, depotId: id, vehicleId: b.vehicleId, days: b.days, departureTime: b.departureTime, arrivalTime: b.arrivalTime ?? null, targetSocPercent: b.targetSocPercent ?? null,
      energyNeededKwh: b.energyNeededKwh ?? null, distanceKm: b.distanceKm ?? null, chargerId: b.chargerId ?? null, priority: b.priority,
    }, (f) => `body.${f}`);
    await audited(request, before ? 'block.update' : 'block.create', `${id}/${blockId}`, before, after);
    await refresh(id, `block ${blockId} changed`);
    return after;
  });
  http.delete('/api/depots/:id/blocks/:blockId', { preHandler: admin, schema: { tags: ['departures'], summary: 'remove a weekly block', params: depotItemParams('blockId'), response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id, blockId } = request.params as { id: string; blockId: string };
    const before = await blocks.get(id, blockId);
    if (!before) throw notFound(`no block ${blockId} in depot ${id}`);
    await blocks.remove(id, blockId);
    await audited(request, 'block.remove', `${id}/${blockId}`, before, null);
    await refresh(id, `block ${blockId} removed`);
    return reply.code(204).send();
  });

  // ---- departures CSV: one-offs and weekly blocks in one sheet ----
  const departureCsvHeader = departureColumns.map((c) => c.name);
  http.get('/api/depots/:id/departures.csv', { preHandler: viewer, schema: { tags: ['csv'], summary: 'one-off departures and weekly blocks as CSV', params: depotParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    await depotOr404(id);
    const oneOff = await config.departures(id, { limit: 100_000, offset: 0 });
    const weekly = await blocks.list(id);
    const rows = [
      ...weekly.items.map((b) => ({ id: b.id, vehicleId: b.vehicleId, days: b.days, departure: b.departureTime, arrival: b.arrivalTime, targetSocPercent: b.targetSocPercent, energyNeededKwh: b.energyNeededKwh, distanceKm: b.distanceKm, chargerId: b.chargerId, priority: b.priority })),
      ...oneOff.items.map((d) => ({ id: d.id, vehicleId: d.vehicleId, days: null, departure: d.departureAt, arrival: d.arrivalAt, targetSocPercent: d.targetSocPercent, energyNeededKwh: d.energyNeededKwh, distanceKm: null, chargerId: d.chargerId, priority: d.priority })),
    ];
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="departures-${id}.csv"`).send(toCsv(departureCsvHeader, rows));
  });
  http.post('/api/depots/:id/departures.csv', {
    preHandler: admin,
    schema: {
      tags: ['csv'], params: depotParams, consumes: ['text/csv'], body: csvBody, response: { 200: anyObject, ...problems },
      summary: 'import departures (all rows or none): a row with days (e.g. "mon tue wed") is a weekly block with HH:MM local times; without, a one-off with ISO instants. Columns: ' + departureCsvHeader.join(','),
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    await depotOr404(id);
    const rows = csvRows(request.body, departureColumns);
    const col = (name: string) => departureCsvHeader.indexOf(name) + 1;
    const found: { field: string; message: string }[] = [];
    const planned: { block?: Omit<WeeklyBlock, 'updatedAt'>; departure?: OneOffDeparture; line: number }[] = [];
    const clockRe = /^([01]\d|2[0-3]):[0-5]\d$/;
    for (const { line, values: v } of rows) {
      const where = (f: string) => `line ${line}, column ${f}`;
      const vehicleId = v.vehicleId as string;
      const departure = v.departure as string;
      const arrival = v.arrival as string | null;
      const rowId = (v.id as string | null) ?? `${vehicleId}-${(v.days as string[] | null)?.join('') ?? ''}${departure.replace(/[^0-9A-Za-z]/g, '')}`;
      if (v.days) {
        if (!clockRe.test(departure)) { found.push({ field: where('departure'), message: `"${departure}" is not a time of day HH:MM (weekly rows)` }); continue; }
        if (arrival !== null && !clockRe.test(arrival)) { found.push({ field: where('arrival'), message: `"${arrival}" is not a time of day HH:MM (weekly rows)` }); continue; }
        planned.push({ line, block: { id: rowId, depotId: id, vehicleId, days: v.days as WeeklyBlock['days'], departureTime: departure, arrivalTime: arrival, targetSocPercent: v.targetSocPercent as number | null, energyNeededKwh: v.energyNeededKwh as number | null, distanceKm: v.distanceKm as number | null, chargerId: v.chargerId as string | null, priority: (v.priority as number | null) ?? 0 } });
      } else {
        const iso = (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s));
        if (!iso(departure)) { found.push({ field: where('departure'), message: `"${departure}" is not an ISO-8601 instant with a zone (one-off rows; weekly rows need days)` }); continue; }
        if (arrival !== null && !iso(arrival)) { found.push({ field: where('arrival'), message: `"${arrival}" is not an ISO-8601 instant with a zone` }); continue; }
        if (v.distanceKm !== null) { found.push({ field: where('distanceKm'), message: 'one-off rows take targetSocPercent or energyNeededKwh' }); continue; }
        planned.push({ line, departure: { id: rowId, depotId: id, vehicleId, departureAt: new Date(departure).toISOString(), arrivalAt: arrival ? new Date(arrival).toISOString() : null, arrivalSocPercent: null, targetSocPercent: (v.targetSocPercent as number | null) ?? 100, energyNeededKwh: v.energyNeededKwh as number | null, chargerId: v.chargerId as string | null, priority: (v.priority as number | null) ?? 0 } });
      }
    }
    // Check every reference before writing anything.
    for (const p of planned) {
      const item = p.block ?? p.departure!;
      try {
        await config.checkVehicleAndBay(id, item.vehicleId, item.chargerId);
        if (p.departure?.arrivalAt && p.departure.arrivalAt >= p.departure.departureAt) throw new ConfigError('arrival', 'must be before the departure');
        if (p.block && [p.block.targetSocPercent, p.block.energyNeededKwh, p.block.distanceKm].filter((x) => x !== null).length > 1) throw new ConfigError('targetSocPercent', 'give the need once: targetSocPercent, energyNeededKwh or distanceKm');
        if (p.block && p.block.distanceKm !== null && !(await blocks.consumption([p.block.vehicleId])).has(p.block.vehicleId)) throw new ConfigError('distanceKm', `vehicle ${p.block.vehicleId} has no consumptionKwhPerKm`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const name = err.field.replace(/^body\./, '');
        found.push({ field: `line ${p.line}, column ${col(name) || name} (${name})`, message: err.message });
      }
    }
    if (found.length) throw badRequest('the CSV has problems; nothing was imported', found.slice(0, 50));
    const changes = [];
    for (const p of planned) changes.push(p.block ? await putBlock(p.block, (f) => f) : await putDeparture(p.departure!));
    await audited(request, 'departure.import', `${id}/departures.csv`, changes.map((c) => c.before).filter(Boolean), changes.map((c) => c.after));
    await refresh(id, 'departures imported');
    return { imported: planned.length, weekly: planned.filter((p) => p.block).length, oneOff: planned.filter((p) => p.departure).length };
  });

  // ---- what the dashboard's overview shows ----
  http.get('/api/depots/:id/overview', {
    preHandler: viewer,
    schema: { tags: ['control'], summary: 'live depot state: site power vs limit, bays, vehicles by departure with readiness, plan summary', params: depotParams, response: { 200: anyObject, ...problems } },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const c = await plane.controller(id);
    if (!c?.fleet) throw notFound(`no depot ${id}`);
    return depotOverview(c, clock.now());
  });

  // Weekly blocks roll forward by themselves: every re-plan (at least one per slot) reloads the fleet, expanding anew.
  return { name: 'fleet-api', stop: async () => undefined };

  function csvRows(body: unknown, columns: CsvColumn[]) {
    if (typeof body !== 'string') throw new HttpProblem({ title: 'Unsupported Media Type', status: 415, detail: 'send the CSV as text/csv' });
    try {
      return parseCsv(body, columns);
    } catch (err) {
      return asProblem(err);
    }
  }
}

function checkedTariff(input: unknown, path: string): Tariff {
  try {
    return parseTariff(input, path);
  } catch (err) {
    if (err instanceof ScenarioError) throw badRequest('invalid tariff', [{ field: err.path, message: err.message.slice(err.path.length + 2) }]);
    throw err;
  }
}

/** The control routes change state without auditing themselves: tell the audit hook how to read their "before". */
function registerControlAuditCaptures(trail: AuditTrail, plane: ControlPlane, tokens: ReturnType<typeof tokenRegistry>): void {
  const param = (request: FastifyRequest, name: string) => (request.params as Record<string, string>)[name];
  trail.captureBefore('PUT /api/depots/:id/mode', async (r) => ({ mode: (await plane.controller(param(r, 'id')))?.mode ?? null }));
  const override = async (r: FastifyRequest) => ({ override: plane.controllerForVehicle(param(r, 'id'))?.overrides.get(param(r, 'id')) ?? null });
  trail.captureBefore('PUT /api/vehicles/:id/override', override);
  trail.captureBefore('DELETE /api/vehicles/:id/override', override);
  trail.captureBefore('POST /api/depots/:id/approve', async (r) => ({ pending: [...((await plane.controller(param(r, 'id')))?.pending.keys() ?? [])] }));
  trail.captureBefore('POST /api/alerts/:id/ack', async (r) => ({ alertId: Number(param(r, 'id')) }));
  trail.captureBefore('PUT /api/tokens/:idTag', async (r) => tokens.get(param(r, 'idTag')));
  trail.captureBefore('DELETE /api/tokens/:idTag', async (r) => tokens.get(param(r, 'idTag')));
}

