import type { Services, Component } from '../app.ts';
import { requireRole } from './auth.ts';
import { notFound } from './problem.ts';
import { pageOf, pageQuery, pageResult, problems } from './paging.ts';
import { fleetStore } from '../fleet/depots.ts';
import { assignBay, bayAssignments, releaseBay, vehicleById } from '../fleet/vehicles.ts';

/** Bay assignments: which vehicle belongs on which charger (the control loop's second way to know who plugged in). */
export async function startBayRoutes(services: Services): Promise<Component> {
  const { http, keys, store, clock } = services;
  const fleet = fleetStore(store, { clock });
  const tags = ['fleet'];
  const params = { type: 'object', properties: { id: { type: 'string', minLength: 1 }, chargerId: { type: 'string', minLength: 1 } }, required: ['id'] } as const;
  const bay = {
    type: 'object',
    properties: {
      chargerId: { type: 'string' }, stationId: { type: 'string' }, evseId: { type: 'integer' }, kind: { type: 'string' }, maxPowerKw: { type: 'number' },
      vehicleId: { type: ['string', 'null'] }, assignedAt: { type: ['string', 'null'] },
    },
  } as const;
  const charger = async (depotId: string, chargerId: string) => {
    const f = await fleet.load(depotId);
    if (!f) throw notFound(`no depot ${depotId}`);
    const c = f.chargers.find((x) => x.id === chargerId);
    if (!c) throw notFound(`depot ${depotId} has no charger ${chargerId}`);
    return c;
  };
  const replan = async (depotId: string, why: string) => (await services.provided.controlPlane?.controller(depotId))?.requestReplan(why);

  http.get('/api/depots/:id/bays', { preHandler: requireRole(keys, 'viewer'), schema: { tags, summary: 'the depot\'s bays (chargers) with the vehicle assigned to each', params, querystring: pageQuery(), response: { 200: pageResult(bay), ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    const f = await fleet.load(id);
    if (!f) throw notFound(`no depot ${id}`);
    const assigned = await bayAssignments(store, [...new Set(f.chargers.map((c) => c.stationId))]);
    const rows = f.chargers.map((c) => {
      const a = assigned.find((x) => x.stationId === c.stationId && x.evseId === c.evseId);
      return { chargerId: c.id, stationId: c.stationId, evseId: c.evseId, kind: c.kind, maxPowerKw: c.maxPowerKw, vehicleId: a?.vehicleId ?? null, assignedAt: a?.assignedAt ?? null };
    });
    return pageOf(rows, request.query as { limit: number; offset: number });
  });

  http.put('/api/depots/:id/bays/:chargerId', {
    preHandler: requireRole(keys, 'dispatcher'),
    schema: { tags, summary: 'assign a vehicle to a bay', params, body: { type: 'object', additionalProperties: false, required: ['vehicleId'], properties: { vehicleId: { type: 'string', minLength: 1, maxLength: 100 } } }, response: { 200: bay, ...problems } },
  }, async (request) => {
    const { id, chargerId } = request.params as { id: string; chargerId: string };
    const { vehicleId } = request.body as { vehicleId: string };
    const c = await charger(id, chargerId);
    const at = new Date(clock.now()).toISOString();
    await assignBay(store, { stationId: c.stationId, evseId: c.evseId }, (await vehicleById(store, vehicleId)) ?? { tenantId: 'default', vehicleId }, at);
    await replan(id, `bay ${chargerId} assigned to ${vehicleId}`);
    return { chargerId, stationId: c.stationId, evseId: c.evseId, kind: c.kind, maxPowerKw: c.maxPowerKw, vehicleId, assignedAt: at };
  });

  http.delete('/api/depots/:id/bays/:chargerId', { preHandler: requireRole(keys, 'dispatcher'), schema: { tags, summary: 'clear a bay assignment', params, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id, chargerId } = request.params as { id: string; chargerId: string };
    const c = await charger(id, chargerId);
    await releaseBay(store, { stationId: c.stationId, evseId: c.evseId });
    await replan(id, `bay ${chargerId} cleared`);
    return reply.code(204).send();
  });
  return { name: 'bays', stop: async () => undefined };
}
