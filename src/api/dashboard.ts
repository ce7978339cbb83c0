import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Services, Component } from '../app.ts';
import { sendProblem } from './problem.ts';

/** The dispatcher's dashboard: the Vite build in web/dist, served at / by the same process (it talks to /api). */
export const webDist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export async function startDashboard(services: Services): Promise<Component> {
  const { http } = services;
  if (existsSync(path.join(webDist, 'index.html'))) {
    // wildcard: false registers one route per built file, so unknown paths still get the API's problem+json 404.
    await http.register(fastifyStatic, { root: webDist, prefix: '/', wildcard: false, decorateReply: false, index: ['index.html'], cacheControl: false, setHeaders: (res, file) => {
      res.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    } });
  } else {
    services.logger.warn({ webDist }, 'dashboard not built (npm run build:web); serving the API only');
    http.get('/', { schema: { hide: true } }, async (_request, reply) => sendProblem(reply, { title: 'Service Unavailable', status: 503, detail: 'the dashboard is not built: run npm run build:web' }));
  }
  return { name: 'dashboard', stop: async () => undefined };
}
