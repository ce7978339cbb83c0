import type { Clock } from '../../clock.ts';
import { AuthError, fetchJson, RateLimitedError, type Provider } from '../provider.ts';
import { bool, DecodeError, emptyValues, isRecord, num, record, text, toIso, type ReadingDraft } from '../reading.ts';

/**
 * Geotab MyGeotab API (JSON-RPC over POST to `<server>/apiv1`). `Authenticate` gives a session; `GetFeed` with
 * `typeName: "StatusData"` and `fromVersion` returns `{ data, toVersion }`: each record `{ dateTime, data, device: {id},
 * diagnostic: {id} }`, read by diagnostic id (state of charge in percent, odometer in metres, EV charging state
 * 0 none / 1 AC / 2 DC). Location comes from `Get DeviceStatusInfo` (`latitude`, `longitude`, `speed` km/h, `dateTime`).
 * Errors arrive as `{ error: { message, data: { type } } }` (older servers: `error.errors[].name`); an expired session
 * is `InvalidUserException`, throttling is `OverLimitException`.
 */
export interface GeotabSettings {
  readonly server?: string;
  readonly database: string;
  readonly intervalMs?: number;
}

export interface GeotabCredentials {
  readonly userName: string;
  readonly password: string;
}

const geotabDiagnostics = {
  soc: 'DiagnosticStateOfChargeId',
  odometer: 'DiagnosticOdometerId',
  charging: 'DiagnosticElectricVehicleChargingStateId',
} as const;
const known = new Set<string>(Object.values(geotabDiagnostics));

interface Cursor {
  readonly statusVersion: string | null;
}

export function createGeotabProvider(id: string, tenantId: string, settings: GeotabSettings, credentials: GeotabCredentials, clock: Clock): Provider {
  const server = (settings.server ?? 'https://my.geotab.com').replace(/\/$/, '');
  let session: Record<string, unknown> | null = null;

  async function rpc(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    const body = record(await fetchJson(`${server}/apiv1`, {
      method: 'POST', signal, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, params }),
    }, () => clock.now(), `Geotab ${method}`), `Geotab ${method} response`);
    if (body.error !== undefined) {
      const type = errorType(body.error);
      if (type.includes('InvalidUser')) { session = null; throw new AuthError(`Geotab ${method}: ${type}`); }
      if (type.includes('OverLimit')) throw new RateLimitedError(60_000, `Geotab ${method}: ${type}`);
      throw new Error(`Geotab ${method}: ${type}`);
    }
    return body.result;
  }

  async function call(method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      if (!session) {
        const result = record(await rpc('Authenticate', { database: settings.database, userName: credentials.userName, password: credentials.password }, signal), 'Authenticate result');
        session = record(result.credentials, 'Authenticate credentials');
      }
      try {
        return await rpc(method, { ...params, credentials: session }, signal);
      } catch (err) {
        // A session expires; one fresh Authenticate is worth trying, a second refusal means the password is wrong.
        if (err instanceof AuthError && attempt === 0) continue;
        throw err;
      }
    }
  }

  return {
    id, kind: 'geotab', tenantId,
    decoder: { decode: decodeGeotab },
    poller: {
      intervalMs: settings.intervalMs ?? 30_000,
      async poll(cursorText, signal) {
        const cursor: Cursor = cursorText ? JSON.parse(cursorText) as Cursor : { statusVersion: null };
        const feed = record(await call('GetFeed', {
          typeName: 'StatusData',
          resultsLimit: 10_000,
          ...(cursor.statusVersion ? { fromVersion: cursor.statusVersion } : { search: { fromDate: new Date(clock.now()).toISOString() } }),
        }, signal), 'GetFeed result');
        if (!Array.isArray(feed.data)) throw new Error('Geotab GetFeed: data is not a list');
        // The feed carries every diagnostic the devices log (engine, tyres...): only the ones we map become units.
        const status = feed.data.filter((r) => isRecord(r) && isRecord(r.diagnostic) && known.has(String(r.diagnostic.id)))
          .map((r) => ({ typeName: 'StatusData', record: r }));
        const infos = await call('Get', { typeName: 'DeviceStatusInfo' }, signal);
        const locations = Array.isArray(infos) ? infos.map((r) => ({ typeName: 'DeviceStatusInfo', record: r })) : [];
        const toVersion = typeof feed.toVersion === 'string' ? feed.toVersion : cursor.statusVersion;
        return { units: [...status, ...locations], cursor: JSON.stringify({ statusVersion: toVersion } satisfies Cursor), more: feed.data.length >= 10_000 };
      },
    },
  };
}

function errorType(error: unknown): string {
  if (!isRecord(error)) return String(error);
  if (isRecord(error.data) && typeof error.data.type === 'string') return error.data.type;
  if (Array.isArray(error.errors) && isRecord(error.errors[0]) && typeof error.errors[0].name === 'string') return error.errors[0].name;
  return typeof error.message === 'string' ? error.message : 'unknown error';
}

export function decodeGeotab(unit: unknown): ReadingDraft[] {
  const u = record(unit, 'unit');
  const r = record(u.record, 'record');
  const device = record(r.device, 'device');
  const vehicle = { providerVehicleId: text(device.id, 'device.id'), vin: null };
  const measuredAt = toIso(r.dateTime, 'dateTime');
  if (u.typeName === 'DeviceStatusInfo') {
    return [{ ...emptyValues, vehicle, measuredAt, lat: num(r.latitude, 'latitude'), lon: num(r.longitude, 'longitude'), speedKmh: num(r.speed, 'speed') }];
  }
  if (u.typeName !== 'StatusData') throw new DecodeError(`typeName ${JSON.stringify(u.typeName)} is not mapped`);
  const diagnostic = text(record(r.diagnostic, 'diagnostic').id, 'diagnostic.id');
  const value = num(r.data, 'data');
  if (value === null) throw new DecodeError('data is missing');
  switch (diagnostic) {
    case geotabDiagnostics.soc: return [{ ...emptyValues, vehicle, measuredAt, socPercent: value }];
    case geotabDiagnostics.odometer: return [{ ...emptyValues, vehicle, measuredAt, odometerKm: value / 1000 }];
    case geotabDiagnostics.charging: {
      if (value !== 0 && value !== 1 && value !== 2) throw new DecodeError(`charging state ${value} is not 0, 1 or 2`);
      return [{ ...emptyValues, vehicle, measuredAt, charging: bool(value > 0 ? 1 : 0, 'charging'), ...(value > 0 ? { pluggedIn: true } : {}) }];
    }
    default: throw new DecodeError(`diagnostic ${diagnostic} is not mapped`);
  }
}
