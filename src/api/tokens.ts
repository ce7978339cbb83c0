import type { Services, Component } from '../app.ts';
import { requireRole } from './auth.ts';
import { notFound } from './problem.ts';
import { tokenRegistry, tokenStatuses, type TokenStatus } from '../fleet/tokens.ts';

/** REST for the token registry the chargers' Authorize and StartTransaction are checked against. */
export async function startTokenRoutes(services: Services): Promise<Component> {
  const { http, keys, clock } = services;
  const tokens = tokenRegistry(services.store);
  const tags = ['tokens'];
  const tokenSchema = {
    type: 'object',
    properties: {
      idTag: { type: 'string' }, status: { type: 'string', enum: [...tokenStatuses] }, expiresAt: { type: ['string', 'null'] },
      parentIdTag: { type: ['string', 'null'] }, vehicleId: { type: ['string', 'null'] }, updatedAt: { type: 'string' },
    },
  } as const;
  const idParam = { type: 'object', properties: { idTag: { type: 'string', minLength: 1, maxLength: 20 } }, required: ['idTag'] } as const;
  const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } } as const;

  http.get('/api/tokens', {
    preHandler: requireRole(keys, 'viewer'),
    schema: {
      tags, summary: 'tokens (RFID cards, app tokens)',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, default: 0 } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: tokenSchema }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const { limit, offset } = request.query as { limit: number; offset: number };
    return { ...await tokens.list({ limit, offset }), limit, offset };
  });

  http.get('/api/tokens/:idTag', { preHandler: requireRole(keys, 'viewer'), schema: { tags, summary: 'one token', params: idParam, response: { 200: tokenSchema, ...problems } } }, async (request) => {
    const { idTag } = request.params as { idTag: string };
    const token = await tokens.get(idTag);
    if (!token) throw notFound(`no token ${idTag}`);
    return token;
  });

  http.put('/api/tokens/:idTag', {
    preHandler: requireRole(keys, 'admin'),
    schema: {
      tags, summary: 'create or replace a token', params: idParam,
      body: {
        type: 'object', additionalProperties: false, required: ['status'],
        properties: {
          status: { type: 'string', enum: [...tokenStatuses] }, expiresAt: { type: 'string', format: 'date-time' },
          parentIdTag: { type: 'string', maxLength: 20 }, vehicleId: { type: 'string', maxLength: 100 },
        },
      },
      response: { 200: tokenSchema, ...problems },
    },
  }, async (request) => {
    const { idTag } = request.params as { idTag: string };
    const b = request.body as { status: TokenStatus; expiresAt?: string; parentIdTag?: string; vehicleId?: string };
    return tokens.put({
      idTag, status: b.status, expiresAt: b.expiresAt ? new Date(b.expiresAt).toISOString() : null, parentIdTag: b.parentIdTag ?? null, vehicleId: b.vehicleId ?? null,
    }, new Date(clock.now()).toISOString());
  });

  http.delete('/api/tokens/:idTag', { preHandler: requireRole(keys, 'admin'), schema: { tags, summary: 'remove a token', params: idParam, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { idTag } = request.params as { idTag: string };
    if (!await tokens.remove(idTag)) throw notFound(`no token ${idTag}`);
    return reply.code(204).send();
  });

  return { name: 'tokens', stop: async () => undefined };
}
