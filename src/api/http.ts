import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { HttpProblem, problemSchema, sendProblem } from './problem.ts';

/**
 * The one HTTP server: REST under /api, OpenAPI at /docs, OCPP WebSocket upgrades under /ocpp (attached by ocpp/).
 * Routes are registered by each context as Fastify plugins with their own JSON schemas, from which both request
 * validation and the OpenAPI document come.
 */
/** Per-request access lines would drown the OCPP traffic; failures are logged by the error handler instead. */
class QuietRequests extends LogController {
  override isLogDisabled(): boolean {
    return true;
  }
}

export async function createHttpApp(config: Config, logger: Logger): Promise<FastifyInstance> {
  const https = config.tlsCertFile && config.tlsKeyFile
    ? {
      cert: readFileSync(config.tlsCertFile),
      key: readFileSync(config.tlsKeyFile),
      ...(config.tlsCaFile ? { ca: readFileSync(config.tlsCaFile), requestCert: true, rejectUnauthorized: false } : {}),
    }
    : null;
  const app = Fastify({
    loggerInstance: logger.child({ module: 'http' }),
    logController: new QuietRequests({}),
    bodyLimit: 4 * 1024 * 1024,
    ajv: { customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;

  app.addSchema(problemSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Voltyard API', version: '0.1.0', description: 'Depot charging orchestrator: stations, sessions, commands, fleet, plans.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API key as a bearer token (or X-Api-Key header)' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error: FastifyError | HttpProblem, request, reply) => {
    if (error instanceof HttpProblem) return sendProblem(reply, error.problem);
    if (error.validation) {
      const errors = error.validation.map((v) => {
        const missing = v.keyword === 'required' ? `/${(v.params as { missingProperty?: string }).missingProperty}` : '';
        const field = `${error.validationContext ?? 'body'}${(v.instancePath || '') + missing}`.replace(/\//g, '.');
        return { field, message: v.message ?? 'is invalid' };
      });
      return sendProblem(reply, { title: 'Bad Request', status: 400, detail: `invalid ${error.validationContext ?? 'request'}`, errors });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
    else request.log.info({ url: request.url, status, reason: error.message }, 'request rejected');
    return sendProblem(reply, { title: status === 500 ? 'Internal Server Error' : 'Bad Request', status, detail: status === 500 ? 'unexpected error; see the server log' : error.message });
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, { title: 'Not Found', status: 404, detail: `no route ${request.method} ${request.url.split('?')[0]}` }));

  app.get('/api/health', { schema: { tags: ['system'], summary: 'liveness', security: [], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  return app;
}
