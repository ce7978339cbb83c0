import type { FastifyInstance, FastifyReply } from 'fastify';
import type { KeyResolver } from './auth.ts';
import { requireRole } from './auth.ts';
import { HttpProblem, notFound } from './problem.ts';
import { CommandError, type CentralSystem, type StationCommand } from '../ocpp/index.ts';

/** REST for the central system: the station registry, live status, transactions, the message log and commands. */

const stationIdParam = { type: 'object', properties: { id: { type: 'string', pattern: '^[A-Za-z0-9*\\-_=+|@.]{1,48}$' } }, required: ['id'] } as const;
const page = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  offset: { type: 'integer', minimum: 0, default: 0 },
} as const;
const problems = { 400: { $ref: 'Problem#' }, 401: { $ref: 'Problem#' }, 403: { $ref: 'Problem#' }, 404: { $ref: 'Problem#' } } as const;

const connectorSchema = {
  type: 'object',
  properties: {
    connectorId: { type: 'integer', description: '0 = the station as a whole' }, status: { type: 'string' }, errorCode: { type: ['string', 'null'] },
    info: { type: ['string', 'null'] }, vendorErrorCode: { type: ['string', 'null'] }, statusAt: { type: 'string', format: 'date-time' },
  },
} as const;
const stationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, registration: { type: 'string', enum: ['accepted', 'pending'] }, securityProfile: { type: 'integer' },
    hasPassword: { type: 'boolean' }, online: { type: 'boolean' }, protocol: { type: ['string', 'null'] }, vendor: { type: ['string', 'null'] },
    model: { type: ['string', 'null'] }, serialNumber: { type: ['string', 'null'] }, firmwareVersion: { type: ['string', 'null'] },
    firmwareStatus: { type: ['string', 'null'] }, diagnosticsStatus: { type: ['string', 'null'] }, lastSeenAt: { type: ['string', 'null'] },
    lastBootAt: { type: ['string', 'null'] }, connectedSince: { type: ['string', 'null'] }, remoteAddress: { type: ['string', 'null'] },
    createdAt: { type: 'string' }, connectors: { type: 'array', items: connectorSchema },
  },
} as const;
const transactionSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' }, stationId: { type: 'string' }, connectorId: { type: ['integer', 'null'] }, idTag: { type: ['string', 'null'] },
    idTagStatus: { type: ['string', 'null'] }, startedAt: { type: ['string', 'null'] }, stoppedAt: { type: ['string', 'null'] },
    meterStartKwh: { type: ['number', 'null'] }, meterStopKwh: { type: ['number', 'null'] }, energyKwh: { type: ['number', 'null'] },
    stopReason: { type: ['string', 'null'] }, known: { type: 'boolean' }, reportedId: { type: ['integer', 'null'] }, protocol: { type: 'string' },
    active: { type: 'boolean' },
    stationTransactionId: { type: ['string', 'null'], description: 'OCPP 2.0.1: the station\'s own transaction id' },
    evEnergyRequestKwh: { type: ['number', 'null'], description: 'what the vehicle asked for (ISO 15118)' }, evDepartureAt: { type: ['string', 'null'] },
  },
} as const;

const period = {
  type: 'object', additionalProperties: false, required: ['startOffsetS', 'limit'],
  properties: { startOffsetS: { type: 'integer', minimum: 0 }, limit: { type: 'number', minimum: 0 }, numberPhases: { type: 'integer', minimum: 1, maximum: 3 } },
} as const;
const profileSchema = {
  type: 'object', additionalProperties: false, required: ['id', 'stackLevel', 'purpose', 'kind', 'schedule'],
  properties: {
    id: { type: 'integer', minimum: 1 }, stackLevel: { type: 'integer', minimum: 0 }, purpose: { type: 'string', enum: ['StationMax', 'TxDefault', 'Tx'] },
    kind: { type: 'string', enum: ['Absolute', 'Relative', 'Recurring'] }, recurrency: { type: 'string', enum: ['Daily', 'Weekly'] },
    transactionId: { type: 'string' }, validFrom: { type: 'string', format: 'date-time' }, validTo: { type: 'string', format: 'date-time' },
    schedule: {
      type: 'object', additionalProperties: false, required: ['unit', 'periods'],
      properties: {
        startAt: { type: 'string', format: 'date-time' }, durationS: { type: 'integer', minimum: 0 },
        unit: { type: 'string', enum: ['kW', 'A'], description: 'kW (sent as W), or A per phase' },
        periods: { type: 'array', minItems: 1, items: period }, minRate: { type: 'number', minimum: 0 },
      },
    },
  },
} as const;
const evse = { type: 'integer', minimum: 0, description: 'connector (1.6) / EVSE (2.0.1); 0 = the whole station' } as const;
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const variableRef = {
  component: { type: 'string', minLength: 1, maxLength: 50 }, variable: { type: 'string', minLength: 1, maxLength: 50 }, evseId: { type: 'integer', minimum: 0 },
  componentInstance: { type: 'string', maxLength: 50 }, variableInstance: { type: 'string', maxLength: 50 }, attribute: { type: 'string', enum: ['Actual', 'Target', 'MinSet', 'MaxSet'] },
} as const;

/** One route per command: path segment, domain type, body schema. */
const commands: { path: string; type: StationCommand['type']; summary: string; body: object }[] = [
  { path: 'remote-start', type: 'RemoteStart', summary: 'start a transaction remotely', body: obj({ evseId: { ...evse, minimum: 1 }, idToken: { type: 'string', minLength: 1, maxLength: 36, description: 'at most 20 characters for 1.6 stations' }, profile: profileSchema }, ['idToken']) },
  { path: 'remote-stop', type: 'RemoteStop', summary: 'stop a transaction remotely', body: obj({ transactionId: { type: 'string', minLength: 1 } }, ['transactionId']) },
  { path: 'set-charging-profile', type: 'SetChargingProfile', summary: 'set a charging profile', body: obj({ evseId: evse, profile: profileSchema }, ['evseId', 'profile']) },
  { path: 'clear-charging-profile', type: 'ClearChargingProfile', summary: 'clear charging profiles', body: obj({ profileId: { type: 'integer' }, evseId: evse, purpose: { type: 'string', enum: ['StationMax', 'TxDefault', 'Tx'] }, stackLevel: { type: 'integer', minimum: 0 } }) },
  { path: 'get-composite-schedule', type: 'GetCompositeSchedule', summary: 'the schedule the station will actually follow', body: obj({ evseId: evse, durationS: { type: 'integer', minimum: 1 }, unit: { type: 'string', enum: ['kW', 'A'] } }, ['evseId', 'durationS']) },
  { path: 'change-availability', type: 'ChangeAvailability', summary: 'make a connector (or the station) operative or inoperative', body: obj({ evseId: evse, operative: { type: 'boolean' } }, ['evseId', 'operative']) },
  { path: 'change-configuration', type: 'ChangeConfiguration', summary: 'set a configuration key', body: obj({ key: { type: 'string', minLength: 1, maxLength: 50 }, value: { type: 'string', maxLength: 500 } }, ['key', 'value']) },
  { path: 'get-configuration', type: 'GetConfiguration', summary: 'read configuration keys (all when none named)', body: obj({ keys: { type: 'array', items: { type: 'string', maxLength: 50 } } }) },
  { path: 'reset', type: 'Reset', summary: 'reboot the station', body: obj({ kind: { type: 'string', enum: ['Hard', 'Soft'] } }, ['kind']) },
  { path: 'trigger-message', type: 'TriggerMessage', summary: 'ask the station to send a message now', body: obj({ message: { type: 'string', enum: ['BootNotification', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StatusNotification', 'TransactionEvent', 'LogStatusNotification'] }, evseId: evse }, ['message']) },
  { path: 'unlock-connector', type: 'UnlockConnector', summary: 'unlock a connector', body: obj({ evseId: { ...evse, minimum: 1 }, connectorId: { type: 'integer', minimum: 1, description: 'connector on the EVSE (2.0.1); default 1' } }, ['evseId']) },
  { path: 'get-variables', type: 'GetVariables', summary: 'read device-model variables (1.6: configuration keys named by `variable`)', body: obj({ variables: { type: 'array', minItems: 1, maxItems: 100, items: obj(variableRef, ['component', 'variable']) } }, ['variables']) },
  { path: 'set-variables', type: 'SetVariables', summary: 'write device-model variables (1.6: one ChangeConfiguration each)', body: obj({ variables: { type: 'array', minItems: 1, maxItems: 100, items: obj({ ...variableRef, value: { type: 'string', maxLength: 1000 } }, ['component', 'variable', 'value']) } }, ['variables']) },
  { path: 'get-base-report', type: 'GetBaseReport', summary: 'the station\'s whole device model (1.6: all configuration keys), collected from its report messages', body: obj({ report: { type: 'string', enum: ['ConfigurationInventory', 'FullInventory', 'SummaryInventory'] } }, ['report']) },
  { path: 'get-charging-profiles', type: 'GetChargingProfiles', summary: 'the charging profiles installed on the station (2.0.1 only), collected from its reports', body: obj({ evseId: evse, purpose: { type: 'string', enum: ['StationMax', 'TxDefault', 'Tx'] }, stackLevel: { type: 'integer', minimum: 0 }, profileIds: { type: 'array', items: { type: 'integer' }, maxItems: 100 } }) },
];

const commandErrorStatus: Record<CommandError['code'], [number, string]> = {
  StationOffline: [409, 'Station Offline'], Timeout: [504, 'Station Timeout'], StationError: [502, 'Station Error'], Invalid: [400, 'Bad Request'], NotSupported: [422, 'Not Supported'],
};

function commandProblem(reply: FastifyReply, err: CommandError): never {
  const [status, title] = commandErrorStatus[err.code];
  throw new HttpProblem({ title, status, detail: err.message, type: `urn:voltyard:command:${err.code}` });
}

export function registerStationRoutes(http: FastifyInstance, keys: KeyResolver, central: CentralSystem): void {
  const admin = requireRole(keys, 'admin');
  const viewer = requireRole(keys, 'viewer');
  const tags = ['stations'];

  http.get('/api/stations', {
    preHandler: viewer,
    schema: {
      tags, summary: 'registered and pending stations with their connectors and live status',
      querystring: { type: 'object', additionalProperties: false, properties: page },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: stationSchema }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const { limit, offset } = request.query as { limit: number; offset: number };
    return { ...await central.stations({ limit, offset }), limit, offset };
  });

  http.get('/api/stations/:id', { preHandler: viewer, schema: { tags, summary: 'one station', params: stationIdParam, response: { 200: stationSchema, ...problems } } }, async (request) => {
    const { id } = request.params as { id: string };
    const station = await central.station(id);
    if (!station) throw notFound(`no station ${id}`);
    return station;
  });

  http.put('/api/stations/:id', {
    preHandler: admin,
    schema: {
      tags, summary: 'register (or accept a pending) station with its security profile',
      description: 'Profile 0: no authentication (development only). 1: HTTP Basic auth, user name = station id. 2: TLS + Basic auth. 3: mutual TLS, the client certificate (signed by VOLTYARD_TLS_CA) must name the station id as its CN; no password. The password (16 to 40 bytes, as OCPP asks) is stored hashed and never shown again.',
      params: stationIdParam,
      body: obj({ securityProfile: { type: 'integer', enum: [0, 1, 2, 3] }, password: { type: 'string', minLength: 16, maxLength: 40 } }, ['securityProfile']),
      response: { 200: stationSchema, 201: stationSchema, ...problems },
    },
  }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const body = request.body as { securityProfile: number; password?: string };
    try {
      const { station, created } = await central.register(id, { securityProfile: body.securityProfile, password: body.password ?? null });
      return reply.code(created ? 201 : 200).send(station);
    } catch (err) {
      if (err instanceof CommandError) commandProblem(reply, err);
      throw err;
    }
  });

  http.delete('/api/stations/:id', { preHandler: admin, schema: { tags, summary: 'remove a station from the registry', params: stationIdParam, response: { 204: { type: 'null' }, ...problems } } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!await central.remove(id)) throw notFound(`no station ${id}`);
    return reply.code(204).send();
  });

  http.get('/api/stations/:id/messages', {
    preHandler: admin,
    schema: {
      tags, summary: 'the OCPP message log of a station, newest first', params: stationIdParam,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: page.limit, beforeId: { type: 'integer', minimum: 1 } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, direction: { type: 'string' }, at: { type: 'string' }, frame: { type: 'string' } } } } } }, ...problems },
    },
  }, async (request) => {
    const { id } = request.params as { id: string };
    const { limit, beforeId } = request.query as { limit: number; beforeId?: number };
    return { items: await central.messages(id, limit, beforeId) };
  });

  for (const c of commands) {
    http.post(`/api/stations/:id/commands/${c.path}`, {
      preHandler: admin,
      schema: {
        tags: ['commands'], summary: c.summary, params: stationIdParam, body: c.body,
        response: { 200: { type: 'object', additionalProperties: true, properties: { status: { type: 'string' } } }, ...problems, 409: { $ref: 'Problem#' }, 422: { $ref: 'Problem#' }, 502: { $ref: 'Problem#' }, 504: { $ref: 'Problem#' } },
      },
    }, async (request, reply) => {
      const { id } = request.params as { id: string };
      try {
        return await central.send(id, { type: c.type, ...(request.body as object ?? {}) } as StationCommand);
      } catch (err) {
        if (err instanceof CommandError) commandProblem(reply, err);
        throw err;
      }
    });
  }

  http.get('/api/transactions', {
    preHandler: viewer,
    schema: {
      tags: ['transactions'], summary: 'charging transactions, newest first',
      querystring: { type: 'object', additionalProperties: false, properties: { ...page, stationId: { type: 'string' }, active: { type: 'boolean' } } },
      response: { 200: { type: 'object', properties: { items: { type: 'array', items: transactionSchema }, total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } }, ...problems },
    },
  }, async (request) => {
    const q = request.query as { limit: number; offset: number; stationId?: string; active?: boolean };
    return { ...await central.transactions(q), limit: q.limit, offset: q.offset };
  });

  http.get('/api/transactions/:id', {
    preHandler: viewer,
    schema: {
      tags: ['transactions'], summary: 'one transaction with its meter samples (domain units)',
      params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
      response: {
        200: {
          type: 'object',
          properties: {
            transaction: transactionSchema,
            samples: { type: 'array', items: { type: 'object', properties: { sampledAt: { type: 'string' }, connectorId: { type: 'integer' }, measurand: { type: 'string' }, phase: { type: 'string' }, location: { type: 'string' }, context: { type: 'string' }, value: { type: 'number' }, unit: { type: 'string' } } } },
          },
        },
        ...problems,
      },
    },
  }, async (request) => {
    const { id } = request.params as { id: number };
    const found = await central.transaction(id);
    if (!found) throw notFound(`no transaction ${id}`);
    return {
      transaction: found.transaction,
      samples: found.samples.map((s) => ({ sampledAt: s.sampled_at, connectorId: s.connector_id, measurand: s.measurand, phase: s.phase, location: s.location, context: s.context, value: s.value, unit: s.unit })),
    };
  });

  http.get('/api/ocpp/stats', {
    preHandler: admin,
    schema: { tags: ['stations'], summary: 'central system counters since start (connections, authentication failures, bad frames)', response: { 200: { type: 'object', additionalProperties: { type: 'number' } }, ...problems } },
  }, async () => ({ ...central.stats }));
}
