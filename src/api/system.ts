import type { Services, Component } from '../app.ts';
import { requireRole } from './auth.ts';

/** What an operator asks first: which version, which store, since when. Never credentials. */
export async function startSystemRoutes(services: Services): Promise<Component> {
  const startedAt = new Date(services.clock.now()).toISOString();
  services.http.get('/api/system', {
    preHandler: requireRole(services.keys, 'admin'),
    schema: {
      tags: ['system'],
      summary: 'version, store and start time',
      response: {
        200: {
          type: 'object',
          properties: {
            version: { type: 'string' },
            store: { type: 'object', properties: { dialect: { type: 'string' }, location: { type: 'string' } } },
            startedAt: { type: 'string', format: 'date-time' },
            unknownStations: { type: 'string' },
          },
        },
        401: { $ref: 'Problem#' },
      },
    },
  }, async () => ({
    version: process.env.npm_package_version ?? '0.1.0',
    store: { dialect: services.store.dialect.name, location: services.store.location },
    startedAt,
    unknownStations: services.config.unknownStations,
  }));
  return { name: 'system', stop: async () => undefined };
}
