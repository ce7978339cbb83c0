import type { FastifyInstance } from 'fastify';
import type { KeyResolver } from '../api/auth.ts';
import { requireRole } from '../api/auth.ts';
import { badRequest, conflict, HttpProblem, notFound } from '../api/problem.ts';
import type { Logger } from '../log.ts';
import { providerKinds, type ProviderKind } from './provider.ts';
import { ProviderConfigError } from './providers/index.ts';
import { valueFields } from './reading.ts';
import type { Telematics } from './service.ts';

const tags = ['telematics'];
const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } };
const id = { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:-]+$' } as const;
const instant = { type: 'string', format: 'date-time' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const nullableBool = { type: ['boolean', 'null'] } as const;

const readingSchema = {
  type: 'object',
  properties: {
    tenantId: { type: 'string' }, vehicleId: { type: 'string' }, provider: { type: 'string' }, measuredAt: instant, receivedAt: instant,
    socPercent: nullableNumber, rangeKm: nullableNumber, odometerKm: nullableNumber, lat: nullableNumber, lon: nullableNumber,
    speedKmh: nullableNumber, pluggedIn: nullableBool, charging: nullableBool, chargeEnergyAddedKwh: nullableNumber,
  },
} as const;

const healthSchema = {
  type: 'object',
  properties: {
    state: { type: 'string' }, readingsPerMinute: { type: 'number' }, errorRate: { type: 'number' },
    latencyMedianS: nullableNumber, latencyP95S: nullableNumber, stalenessS: nullableNumber,
    lastReadingAt: { type: ['string', 'null'] }, consecutiveFailures: { type: 'integer' }, nextPollAt: { type: ['string', 'null'] },
    lastError: { type: ['object', 'null'], properties: { at: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

const providerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, tenantId: { type: 'string' }, kind: { type: 'string' }, enabled: { type: 'boolean' },
    settings: { type: 'object', additionalProperties: true },
    credentialKeys: { type: 'array', items: { type: 'string' }, description: 'which credentials are set; their values are never returned' },
    receives: { type: 'array', items: { type: 'string' } },
    health: healthSchema,
  },
} as const;

const quarantineSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, tenantId: { type: 'string' }, provider: { type: 'string' }, receivedAt: instant, reason: { type: 'string' },
    status: { type: 'string', enum: ['open', 'replayed'] }, attempts: { type: 'integer' }, resolvedAt: { type: ['string', 'null'] },
    payload: { description: 'the payload unit as received' },
  },
} as const;

const fieldState = { type: 'object', properties: { value: { type: ['number', 'boolean'] }, at: instant, provider: { type: 'string' } } } as const;

/**
 * Telematics REST routes. Webhooks authenticate by the provider's signature (no API key: vendors cannot send one);
 * everything else needs a key: viewer to read state and readings, admin for providers, quarantine and replay.
 */
export async function registerTelematicsRoutes(http: FastifyInstance, telematics: Telematics, keys: KeyResolver, logger: Logger): Promise<void> {
  const viewer = requireRole(keys, 'viewer');
  const admin = requireRole(keys, 'admin');
  const log = logger.child({ module: 'telematics.http' });

  // Own encapsulated scope: webhook bodies are taken as text because signatures are over the exact bytes received.
  await http.register(async (scope) => {
    scope.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { providerId: string }; Body: string }>('/api/telematics/webhooks/:providerId', {
      schema: {
        tags, summary: 'receive a provider webhook (signed by the provider; no API key)', security: [],
        params: { type: 'object', properties: { providerId: id }, required: ['providerId'] },
        response: {
          200: { type: 'object', additionalProperties: true, properties: { accepted: { type: 'integer' }, duplicates: { type: 'integer' }, quarantined: { type: 'integer' }, reasons: { type: 'array', items: { type: 'string' } }, challenge: { type: 'string' } } },
          401: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' }, 409: { $ref: 'Problem#' },
        },
      },
    }, async (request) => {
      const rawBody = typeof request.body === 'string' ? request.body : '';
      const { outcome, result } = await telematics.webhook(request.params.providerId, { headers: request.headers, rawBody });
      switch (outcome.kind) {
        case 'unknown': throw notFound(`no webhook provider ${request.params.providerId}`);
        case 'rejected':
          log.warn({ provider: request.params.providerId, reason: outcome.reason, remote: request.ip }, 'webhook rejected');
          throw new HttpProblem({ title: 'Unauthorized', status: 401, detail: outcome.reason });
        case 'replayed':
          log.warn({ provider: request.params.providerId, deliveryId: outcome.deliveryId, remote: request.ip }, 'webhook delivery replayed');
          throw new HttpProblem({ title: 'Conflict', status: 409, detail: `delivery ${outcome.deliveryId} was already received` });
        case 'challenge': return outcome.response;
        case 'units': return result;
      }
    });
  });

  http.get('/api/telematics/providers', {
    preHandler: viewer,
    schema: { tags, summary: 'configured providers with their health and figures (never credentials)', response: { 200: { type: 'array', items: providerSchema }, ...problems } },
  }, async () => telematics.providers());

  http.put<{ Params: { providerId: string }; Body: { tenantId: string; kind: ProviderKind; settings: Record<string, unknown>; credentials?: Record<string, unknown>; enabled?: boolean } }>('/api/telematics/providers/:providerId', {
    preHandler: admin,
    schema: {
      tags, summary: 'create or replace a provider; credentials are stored encrypted (omit them to keep the stored ones)',
      params: { type: 'object', properties: { providerId: id }, required: ['providerId'] },
      body: {
        type: 'object', additionalProperties: false, required: ['tenantId', 'kind', 'settings'],
        properties: {
          tenantId: id, kind: { type: 'string', enum: [...providerKinds] }, settings: { type: 'object', additionalProperties: true },
          credentials: { type: 'object', additionalProperties: { type: 'string' } }, enabled: { type: 'boolean' },
        },
      },
      response: { 200: providerSchema, ...problems },
    },
  }, async (request) => {
    try {
      return await telematics.saveProvider({ id: request.params.providerId, ...request.body });
    } catch (err) {
      if (err instanceof ProviderConfigError) throw badRequest('invalid provider configuration', err.problems.map((m) => ({ field: `body.${m.split(/[ :]/)[0]}`, message: m })));
      throw err;
    }
  });

  http.delete<{ Params: { providerId: string } }>('/api/telematics/providers/:providerId', {
    preHandler: admin,
    schema: { tags, summary: 'stop and remove a provider', params: { type: 'object', properties: { providerId: id }, required: ['providerId'] }, response: { 204: { type: 'null' }, ...problems } },
  }, async (request, reply) => {
    if (!await telematics.deleteProvider(request.params.providerId)) throw notFound(`no provider ${request.params.providerId}`);
    return reply.code(204).send();
  });

  const vehicleParams = { type: 'object', properties: { tenantId: id, vehicleId: id }, required: ['tenantId', 'vehicleId'] } as const;

  http.get<{ Params: { tenantId: string; vehicleId: string } }>('/api/telematics/vehicles/:tenantId/:vehicleId/state', {
    preHandler: viewer,
    schema: {
      tags, summary: 'latest value of each field and the fused best SoC (with age, confidence, stale and estimate flags)', params: vehicleParams,
      response: {
        200: {
          type: 'object',
          properties: {
            tenantId: { type: 'string' }, vehicleId: { type: 'string' },
            fields: { type: 'object', properties: Object.fromEntries(valueFields.map((f) => [f, fieldState])) },
            soc: {
              type: 'object',
              properties: {
                socPercent: nullableNumber, source: { type: 'string' }, measuredAt: { type: ['string', 'null'] }, ageS: nullableNumber,
                confidence: { type: 'number' }, stale: { type: 'boolean' }, estimate: { type: 'boolean' }, basis: { type: 'string' },
              },
            },
          },
        },
        ...problems,
      },
    },
  }, async (request) => {
    const state = await telematics.vehicleState(request.params.tenantId, request.params.vehicleId);
    if (!state) throw notFound(`no vehicle ${request.params.vehicleId} in tenant ${request.params.tenantId}`);
    return state;
  });

  http.put<{ Params: { tenantId: string; vehicleId: string }; Body: Record<string, string> }>('/api/telematics/vehicles/:tenantId/:vehicleId/provider-ids', {
    preHandler: admin,
    schema: {
      tags, summary: 'how each telematics provider names this vehicle: provider id -> the provider\'s vehicle id (replaces the set)', params: vehicleParams,
      body: { type: 'object', additionalProperties: { type: 'string', minLength: 1, maxLength: 200 }, maxProperties: 20, propertyNames: id },
      response: { 204: { type: 'null' }, ...problems, 409: { $ref: 'Problem#' } },
    },
  }, async (request, reply) => {
    let done: boolean;
    try {
      done = await telematics.setProviderIds(request.params.tenantId, request.params.vehicleId, request.body);
    } catch (err) {
      if (/unique|duplicate/i.test((err as Error).message)) throw conflict('another vehicle of this tenant already has one of these provider ids');
      throw err;
    }
    if (!done) throw notFound(`no vehicle ${request.params.vehicleId} in tenant ${request.params.tenantId} (register it under /api/vehicles first)`);
    return reply.code(204).send();
  });

  http.get<{ Params: { tenantId: string; vehicleId: string }; Querystring: { from?: string; to?: string; limit: number } }>('/api/telematics/vehicles/:tenantId/:vehicleId/readings', {
    preHandler: viewer,
    schema: {
      tags, summary: 'stored readings of a vehicle, newest measurement first', params: vehicleParams,
      querystring: { type: 'object', additionalProperties: false, properties: { from: instant, to: instant, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      response: { 200: { type: 'array', items: readingSchema }, ...problems },
    },
  }, async (request) => telematics.readings({ ...request.params, ...request.query, from: iso(request.query.from), to: iso(request.query.to) }));

  http.get<{ Querystring: { status?: string; provider?: string; limit: number } }>('/api/telematics/quarantine', {
    preHandler: admin,
    schema: {
      tags, summary: 'payloads that could not be decoded, checked or matched, with the reason',
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['open', 'replayed'] }, provider: id, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } } },
      response: { 200: { type: 'array', items: quarantineSchema }, ...problems },
    },
  }, async (request) => telematics.quarantine(request.query));

  const replaySchema = { type: 'object', properties: { replayed: { type: 'integer' }, stillFailing: { type: 'integer' }, accepted: { type: 'integer' }, missingProvider: { type: 'array', items: { type: 'string' } } } } as const;

  http.post<{ Body: { provider?: string; limit?: number } }>('/api/telematics/quarantine/replay', {
    preHandler: admin,
    schema: {
      tags, summary: 'replay open quarantine entries (all, or one provider\'s) through the current mapping and vehicle registry',
      body: { type: 'object', additionalProperties: false, properties: { provider: id, limit: { type: 'integer', minimum: 1, maximum: 10000 } } },
      response: { 200: replaySchema, ...problems },
    },
  }, async (request) => telematics.replay(request.body ?? {}));

  http.post<{ Body: { provider: string; from?: string; to?: string; limit: number } }>('/api/telematics/raw/replay', {
    preHandler: admin,
    schema: {
      tags, summary: 'run a provider\'s kept raw deliveries through its current mapping again (stored readings are not duplicated)',
      body: { type: 'object', additionalProperties: false, required: ['provider'], properties: { provider: id, from: instant, to: instant, limit: { type: 'integer', minimum: 1, maximum: 100000, default: 10000 } } },
      response: { 200: { type: 'object', properties: { deliveries: { type: 'integer' }, accepted: { type: 'integer' }, duplicates: { type: 'integer' }, quarantined: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const result = await telematics.replayRaw({ ...request.body, from: iso(request.body.from), to: iso(request.body.to) });
    if (!result) throw notFound(`no running provider ${request.body.provider}`);
    return result;
  });

  http.post<{ Params: { id: string } }>('/api/telematics/quarantine/:id/replay', {
    preHandler: admin,
    schema: { tags, summary: 'replay one quarantine entry', params: { type: 'object', properties: { id }, required: ['id'] }, response: { 200: replaySchema, ...problems } },
  }, async (request) => {
    const entry = await telematics.quarantineEntry(request.params.id);
    if (!entry) throw notFound(`no quarantine entry ${request.params.id}`);
    if (entry.status !== 'open') throw badRequest(`quarantine entry ${request.params.id} was already replayed`);
    return telematics.replay({ id: request.params.id });
  });

}

/** Query instants normalised to the stored form (UTC, milliseconds) so text comparison orders them right. */
function iso(value: string | undefined): string | undefined {
  return value === undefined ? undefined : new Date(value).toISOString();
}
