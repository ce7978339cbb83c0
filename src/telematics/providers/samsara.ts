import type { Clock } from '../../clock.ts';
import { fetchJson, type Provider } from '../provider.ts';
import { DecodeError, emptyValues, isRecord, KM_PER_MILE, num, record, text, toIso, type ReadingDraft } from '../reading.ts';

/**
 * Samsara (https://developers.samsara.com): `GET /fleet/vehicles/stats/feed?types=...&after=<cursor>` answers
 * `{ data: [vehicle], pagination: { endCursor, hasNextPage } }`; each vehicle carries one list per stat type of
 * `{ time, value }` (gps: `{ time, latitude, longitude, speedMilesPerHour }`). Units are in the names:
 * `evStateOfChargeMilliPercent`, `obdOdometerMeters`; `evChargingStatus` is 0 unknown, 1 not charging, 2 charging.
 * The first call (no cursor) returns the latest value of each stat; later calls only what changed. 429 carries Retry-After.
 */
export interface SamsaraSettings {
  readonly baseUrl?: string;
  readonly intervalMs?: number;
}

export interface SamsaraCredentials {
  readonly apiToken: string;
}

const statTypes = ['gps', 'obdOdometerMeters', 'evStateOfChargeMilliPercent', 'evChargingStatus'];

export function createSamsaraProvider(id: string, tenantId: string, settings: SamsaraSettings, credentials: SamsaraCredentials, clock: Clock): Provider {
  const baseUrl = (settings.baseUrl ?? 'https://api.samsara.com').replace(/\/$/, '');
  return {
    id, kind: 'samsara', tenantId,
    decoder: { decode: decodeSamsara },
    poller: {
      intervalMs: settings.intervalMs ?? 10_000,
      async poll(cursor, signal) {
        if (!credentials.apiToken) throw new Error('no API token configured');
        const url = new URL(`${baseUrl}/fleet/vehicles/stats/feed`);
        url.searchParams.set('types', statTypes.join(','));
        if (cursor) url.searchParams.set('after', cursor);
        const body = record(await fetchJson(url.toString(), { signal, headers: { authorization: `Bearer ${credentials.apiToken}`, accept: 'application/json' } }, () => clock.now(), 'Samsara stats feed'), 'feed');
        if (!Array.isArray(body.data)) throw new Error('Samsara stats feed: data is not a list');
        const pagination = isRecord(body.pagination) ? body.pagination : {};
        const next = typeof pagination.endCursor === 'string' && pagination.endCursor !== '' ? pagination.endCursor : cursor;
        return { units: body.data, cursor: next, more: pagination.hasNextPage === true };
      },
    },
  };
}

/** One vehicle of the feed: its stat lists, regrouped by timestamp so each reading carries its own measurement time. */
export function decodeSamsara(unit: unknown): ReadingDraft[] {
  const v = record(unit, 'vehicle');
  const vehicleId = text(v.id, 'id');
  const externalIds = isRecord(v.externalIds) ? v.externalIds : {};
  const vin = typeof externalIds['samsara.vin'] === 'string' ? externalIds['samsara.vin'] : null;
  const byTime = new Map<string, Record<string, unknown>>();
  const each = (type: string, apply: (entry: Record<string, unknown>, values: Record<string, unknown>) => void) => {
    const list = v[type];
    if (list === undefined) return;
    if (!Array.isArray(list)) throw new DecodeError(`${type} is not a list`);
    list.forEach((raw, i) => {
      const entry = record(raw, `${type}[${i}]`);
      const at = toIso(entry.time, `${type}[${i}].time`);
      const values = byTime.get(at) ?? {};
      byTime.set(at, values);
      apply(entry, values);
    });
  };
  each('evStateOfChargeMilliPercent', (e, r) => { const mp = num(e.value, 'evStateOfChargeMilliPercent'); r.socPercent = mp === null ? null : mp / 1000; });
  each('obdOdometerMeters', (e, r) => { const m = num(e.value, 'obdOdometerMeters'); r.odometerKm = m === null ? null : m / 1000; });
  each('evChargingStatus', (e, r) => {
    const s = num(e.value, 'evChargingStatus');
    if (s !== 0 && s !== 1 && s !== 2) throw new DecodeError(`evChargingStatus ${s} is not 0, 1 or 2`);
    r.charging = s === 0 ? null : s === 2;
    if (s === 2) r.pluggedIn = true;
  });
  each('gps', (e, r) => {
    r.lat = num(e.latitude, 'gps.latitude');
    r.lon = num(e.longitude, 'gps.longitude');
    const mph = num(e.speedMilesPerHour, 'gps.speedMilesPerHour');
    r.speedKmh = mph === null ? null : mph * KM_PER_MILE;
  });
  return [...byTime].filter(([, r]) => Object.keys(r).length > 0)
    .map(([measuredAt, r]) => ({ ...emptyValues, ...r, vehicle: { providerVehicleId: vehicleId, vin }, measuredAt }));
}
