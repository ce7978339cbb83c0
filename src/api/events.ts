import type { ServerResponse } from 'node:http';
import type { Services, Component } from '../app.ts';
import type { DomainEvent } from '../bus/events.ts';
import type { Principal } from './auth.ts';
import { hasRole, presentedKey, requireRole } from './auth.ts';
import { HttpProblem } from './problem.ts';

/**
 * Live updates for the dashboard over Server-Sent Events. Each domain event from the bus goes out as an SSE event of
 * its type; changes the control loop makes (a new plan, mode, pending approvals, overrides) and the alert list are
 * noticed by polling its state twice a second and go out as `depot` and `alerts` events. EventSource cannot send
 * headers, so the key may also come as `?key=`.
 */

const forwarded = new Set<DomainEvent['type']>(['StationConnected', 'StationDisconnected', 'StationBooted', 'ConnectorStatusChanged', 'SessionStarted', 'SessionEnded', 'MeterSampled', 'StationFault', 'VehicleReading']);
const pollMs = 500;
const heartbeatMs = 15_000;
const maxStreams = 200;
const historyPoints = 720;

export interface SocPoint { at: string; socPercent: number; source: 'charger' | 'telematics' }

export async function startLiveEvents(services: Services): Promise<Component> {
  const { http, keys, bus } = services;
  const plane = services.provided.controlPlane;
  if (!plane) throw new Error('live events start after control');
  const streams = new Set<{ res: ServerResponse; depotId: string | null }>();
  const log = services.logger.child({ module: 'sse' });
  const socHistory = new Map<string, SocPoint[]>();

  const send = (event: string, data: unknown, depotId: string | null) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) if (depotId === null || s.depotId === null || s.depotId === depotId) s.res.write(frame);
  };
  const depotOfStation = (stationId: string) => plane.controllers().find((c) => c.fleet?.chargers.some((ch) => ch.stationId === stationId))?.depotId ?? null;
  const remember = (vehicleId: string, point: SocPoint) => {
    const list = socHistory.get(vehicleId) ?? [];
    if (list.at(-1)?.at === point.at) return;
    list.push(point);
    if (list.length > historyPoints) list.splice(0, list.length - historyPoints);
    socHistory.set(vehicleId, list);
  };

  const unsubscribe = bus.subscribeAll((event) => {
    if (event.type === 'MeterSampled' && event.socPercent !== null) {
      const vehicleId = plane.controllers().flatMap((c) => [...c.sessions.values()]).find((s) => s.stationId === event.stationId && s.evseId === event.evseId)?.vehicleId;
      if (vehicleId) remember(vehicleId, { at: event.at, socPercent: event.socPercent, source: 'charger' });
    }
    if (event.type === 'VehicleReading' && event.socPercent !== null) remember(event.vehicleId, { at: event.at, socPercent: event.socPercent, source: 'telematics' });
    if (streams.size === 0 || !forwarded.has(event.type)) return;
    const depotId = 'stationId' in event ? depotOfStation(event.stationId) : plane.controllerForVehicle(event.vehicleId)?.depotId ?? null;
    send(event.type, event, depotId);
  });

  // The control loop's own changes: compare a signature of each depot's state, and the alert list's, every poll.
  const signatures = new Map<string, string>();
  let alertSignature = '';
  const poll = setInterval(() => {
    if (streams.size === 0) return;
    for (const c of plane.controllers()) {
      const sig = `${c.planId}|${plane.yard(c.depotId)?.version ?? 0}|${c.mode}|${c.pending.size}|${JSON.stringify([...c.overrides])}|${[...c.chargerState.values()].map((s) => `${s.online}${s.status}`).join()}`;
      if (signatures.get(c.depotId) !== sig) {
        signatures.set(c.depotId, sig);
        send('depot', { depotId: c.depotId, planId: c.planId, mode: c.mode, pending: c.pending.size }, c.depotId);
      }
    }
    void plane.records.alerts({ limit: 1, offset: 0 }).then(async (all) => {
      const open = await plane.records.alerts({ open: true, limit: 1, offset: 0 });
      const acked = all.items[0]?.acknowledged_at ?? '';
      const sig = `${all.total}|${all.items[0]?.id}|${open.total}|${acked}`;
      if (sig !== alertSignature) {
        alertSignature = sig;
        send('alerts', { total: all.total, open: open.total, newestId: all.items[0]?.id ?? null }, null);
      }
    }).catch((err) => log.warn({ err }, 'alert poll failed'));
  }, pollMs);
  poll.unref();
  const heartbeat = setInterval(() => { for (const s of streams) s.res.write(': keep-alive\n\n'); }, heartbeatMs);
  heartbeat.unref();

  http.get('/api/events/stream', {
    schema: {
      tags: ['live'], summary: 'Server-Sent Events: domain events (by type), `depot` (plan/mode/approvals changed), `alerts` (the alert list changed)',
      description: 'Authenticate with a header, or `?key=` (EventSource cannot send headers).',
      querystring: { type: 'object', additionalProperties: false, properties: { key: { type: 'string', maxLength: 200 }, depotId: { type: 'string', maxLength: 100 } } },
      response: { 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 503: { $ref: 'Problem#' } },
    },
  }, async (request, reply) => {
    const q = request.query as { key?: string; depotId?: string };
    const key = presentedKey(request) ?? q.key ?? null;
    const principal: Principal | null = key ? await keys(key) : null;
    if (!principal) throw new HttpProblem({ title: 'Unauthorized', status: 401, detail: 'send an API key as a bearer token, X-Api-Key, or ?key=' });
    // The events carry the fleet's state (vehicles, SoC, sessions): a gate kiosk's key is not enough.
    if (!hasRole(principal.role, 'viewer')) throw new HttpProblem({ title: 'Forbidden', status: 403, detail: `the live stream needs the viewer role; the key has ${principal.role}` });
    if (streams.size >= maxStreams) throw new HttpProblem({ title: 'Service Unavailable', status: 503, detail: `at most ${maxStreams} live streams` });
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const stream = { res, depotId: q.depotId ?? null };
    streams.add(stream);
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ role: principal.role })}\n\n`);
    // Whatever changed before this client connected: it should fetch fresh state once.
    signatures.clear();
    alertSignature = '';
    request.raw.on('close', () => streams.delete(stream));
  });

  http.get('/api/vehicles/:id/soc-history', {
    preHandler: requireRole(keys, 'viewer'),
    schema: {
      tags: ['live'], summary: 'SoC readings of a vehicle since this process started (charger and telematics), oldest first',
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 100 } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, socPercent: { type: 'number' }, source: { type: 'string' } } } } } }, 401: { $ref: 'Problem#' } },
    },
  }, async (request) => ({ items: socHistory.get((request.params as { id: string }).id) ?? [] }));

  return {
    name: 'live-events',
    async quiesce() {
      unsubscribe();
      clearInterval(poll);
      clearInterval(heartbeat);
      for (const s of streams) s.res.end();
      streams.clear();
    },
    stop: async () => undefined,
  };
}
