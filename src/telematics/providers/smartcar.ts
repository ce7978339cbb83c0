import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import { fetchJson, type Poller, type Provider, type WebhookReceiver } from '../provider.ts';
import { bool, DecodeError, emptyValues, isRecord, milesToKm, num, record, text, toIso, type ReadingDraft } from '../reading.ts';

/**
 * Smartcar (https://smartcar.com/docs). Webhooks are signed with the Application Management Token (AMT): header
 * `SC-Signature` = hex HMAC-SHA256(AMT, raw body). Setting a webhook up sends a VERIFY event whose challenge must be
 * answered with hex HMAC-SHA256(AMT, challenge). Two payload generations exist:
 *  - v4 `VEHICLE_STATE`: `data.vehicle.id`, `data.signals[]` of `{code, body: {value, unit}, status, meta: {oemUpdatedAt}}`,
 *    `meta.deliveredAt` (epoch ms); SoC is a percent.
 *  - v2 `schedule`: `payload.vehicles[].data[]` of `{path, body, code, headers}` as the REST API answers, where
 *    `/battery.percentRemaining` is a 0–1 fraction and distances follow the `sc-unit-system` header (metric/imperial).
 * Polling uses the REST batch endpoint, which answers in the v2 shape.
 */
export interface SmartcarSettings {
  readonly baseUrl?: string;
  /** Vehicles to poll (Smartcar vehicle ids); none = webhooks only. */
  readonly vehicleIds?: readonly string[];
  readonly intervalMs?: number;
  /** A webhook delivered longer ago than this is refused as a replay. */
  readonly maxDeliveryAgeS?: number;
}

export interface SmartcarCredentials {
  /** Application Management Token: signs webhooks. */
  readonly managementToken?: string;
  /** OAuth access token for polling. */
  readonly accessToken?: string;
}

/** The payload unit: what Smartcar sent and when we got it (v2 answers carry no timestamp for some endpoints). */
interface SmartcarUnit {
  readonly receivedAt: string;
  readonly body: unknown;
}

const hmacHex = (key: string, data: string): string => createHmac('sha256', key).update(data).digest('hex');

export function createSmartcarProvider(id: string, tenantId: string, settings: SmartcarSettings, credentials: SmartcarCredentials, clock: Clock): Provider {
  const baseUrl = (settings.baseUrl ?? 'https://api.smartcar.com').replace(/\/$/, '');
  const maxAgeMs = (settings.maxDeliveryAgeS ?? 600) * 1000;

  const webhook: WebhookReceiver = {
    receive({ headers, rawBody, nowMs }) {
      const amt = credentials.managementToken;
      if (!amt) return { kind: 'rejected', reason: 'no management token configured for this provider' };
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const challenge = verifyChallenge(body);
      if (challenge !== null) return { kind: 'challenge', response: { challenge: hmacHex(amt, challenge) } };
      const signature = headers['sc-signature'];
      if (typeof signature !== 'string' || signature.length === 0) return { kind: 'rejected', reason: 'missing SC-Signature header' };
      if (!safeEqualHex(signature, hmacHex(amt, rawBody))) return { kind: 'rejected', reason: 'SC-Signature does not match the body' };
      // Signed but not JSON: still Smartcar's, so it goes to the quarantine as a unit rather than being refused.
      if (isRecord(body) && isRecord(body.meta) && body.meta.deliveredAt !== undefined) {
        const delivered = Date.parse(toIsoOrNull(body.meta.deliveredAt) ?? '');
        if (Number.isFinite(delivered) && nowMs - delivered > maxAgeMs) return { kind: 'rejected', reason: `delivered ${Math.round((nowMs - delivered) / 1000)} s ago: replay window is ${maxAgeMs / 1000} s` };
      }
      const deliveryId = isRecord(body) && typeof body.eventId === 'string' ? body.eventId : null;
      const unit: SmartcarUnit = { receivedAt: new Date(nowMs).toISOString(), body: body ?? rawBody };
      return { kind: 'units', units: [unit], deliveryId };
    },
  };

  const vehicleIds = settings.vehicleIds ?? [];
  const poller: Poller | undefined = vehicleIds.length === 0 ? undefined : {
    intervalMs: settings.intervalMs ?? 60_000,
    async poll(_cursor, signal) {
      if (!credentials.accessToken) throw new Error('no access token configured for polling');
      const units: SmartcarUnit[] = [];
      for (const vehicleId of vehicleIds) {
        const body = await fetchJson(`${baseUrl}/v2.0/vehicles/${encodeURIComponent(vehicleId)}/batch`, {
          method: 'POST',
          signal,
          headers: { authorization: `Bearer ${credentials.accessToken}`, 'content-type': 'application/json', 'sc-unit-system': 'metric' },
          body: JSON.stringify({ requests: [{ path: '/battery' }, { path: '/charge' }, { path: '/odometer' }, { path: '/location' }] }),
        }, () => clock.now(), `Smartcar batch for ${vehicleId}`);
        units.push({ receivedAt: new Date(clock.now()).toISOString(), body: { vehicleId, ...record(body, 'batch response') } });
      }
      return { units, cursor: null, more: false };
    },
  };

  return { id, kind: 'smartcar', tenantId, decoder: { decode: decodeSmartcar }, webhook, ...(poller ? { poller } : {}) };
}

function verifyChallenge(body: unknown): string | null {
  if (!isRecord(body)) return null;
  if (body.eventType === 'VERIFY' && isRecord(body.data) && typeof body.data.challenge === 'string') return body.data.challenge;
  if (body.eventName === 'verify' && isRecord(body.payload) && typeof body.payload.challenge === 'string') return body.payload.challenge;
  return null;
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.trim().toLowerCase());
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function toIsoOrNull(v: unknown): string | null {
  try { return toIso(v, 'time'); } catch { return null; }
}

export function decodeSmartcar(unit: unknown): ReadingDraft[] {
  const u = record(unit, 'unit');
  const receivedAt = toIso(u.receivedAt, 'receivedAt');
  const body = record(u.body, 'body');
  if (body.eventType === 'VEHICLE_STATE') return decodeV4(body);
  if (typeof body.eventType === 'string') throw new DecodeError(`event type ${body.eventType} carries no vehicle data`);
  if (isRecord(body.payload) && Array.isArray(body.payload.vehicles)) {
    return body.payload.vehicles.flatMap((v, i) => {
      const vehicle = record(v, `payload.vehicles[${i}]`);
      if (!Array.isArray(vehicle.data)) throw new DecodeError(`payload.vehicles[${i}].data is not a list`);
      return decodeV2(text(vehicle.vehicleId, `payload.vehicles[${i}].vehicleId`), vehicle.data, receivedAt);
    });
  }
  if (Array.isArray(body.responses)) return decodeV2(text(body.vehicleId, 'vehicleId'), body.responses, receivedAt);
  throw new DecodeError('neither a VEHICLE_STATE event, a schedule payload nor a batch response');
}

/** v4 signals, grouped by the instant the OEM updated them so each reading carries its true measurement time. */
function decodeV4(body: Record<string, unknown>): ReadingDraft[] {
  const data = record(body.data, 'data');
  const vehicle = record(data.vehicle, 'data.vehicle');
  const vehicleId = text(vehicle.id, 'data.vehicle.id');
  const vin = typeof vehicle.vin === 'string' ? vehicle.vin : null;
  if (!Array.isArray(data.signals)) throw new DecodeError('data.signals is not a list');
  const deliveredAt = isRecord(body.meta) ? body.meta.deliveredAt : undefined;
  const byTime = new Map<string, Record<string, unknown>>();
  data.signals.forEach((raw, i) => {
    const signal = record(raw, `data.signals[${i}]`);
    if (isRecord(signal.status) && signal.status.value !== 'SUCCESS') return;
    const meta = isRecord(signal.meta) ? signal.meta : {};
    const at = toIso(meta.oemUpdatedAt ?? meta.retrievedAt ?? deliveredAt, `data.signals[${i}].meta.oemUpdatedAt`);
    const values = byTime.get(at) ?? {};
    byTime.set(at, values);
    const b = record(signal.body, `data.signals[${i}].body`);
    const where = `signal ${String(signal.code)}`;
    switch (signal.code) {
      case 'tractionbattery-stateofcharge': values.socPercent = num(b.value, where); break;
      case 'tractionbattery-range': values.rangeKm = distanceKm(num(b.value, where), b.unit); break;
      case 'odometer-traveleddistance': values.odometerKm = distanceKm(num(b.value, where), b.unit); break;
      case 'location-preciselocation': values.lat = num(b.latitude, `${where}.latitude`); values.lon = num(b.longitude, `${where}.longitude`); break;
      case 'charge-ischarging': values.charging = bool(b.value, where); break;
      case 'charge-ischargingcableconnected': values.pluggedIn = bool(b.value, where); break;
      case 'charge-energyadded': values.chargeEnergyAddedKwh = num(b.value, where); break;
      default: break; // signals the planner has no use for (doors, tyres...) are ignored, not quarantined
    }
  });
  return [...byTime].filter(([, v]) => Object.keys(v).length > 0)
    .map(([measuredAt, values]) => ({ ...emptyValues, ...values, vehicle: { providerVehicleId: vehicleId, vin }, measuredAt }));
}

function distanceKm(value: number | null, unit: unknown): number | null {
  if (value === null) return null;
  if (unit === undefined || unit === 'km' || unit === 'kilometers') return value;
  if (unit === 'miles' || unit === 'mi') return milesToKm(value);
  throw new DecodeError(`unknown distance unit ${JSON.stringify(unit)}`);
}

/** v2 endpoint answers: SoC as a 0–1 fraction, distances in the unit system the header names. */
function decodeV2(vehicleId: string, items: unknown[], receivedAt: string): ReadingDraft[] {
  const byTime = new Map<string, Record<string, unknown>>();
  items.forEach((raw, i) => {
    const item = record(raw, `data[${i}]`);
    if (item.code !== undefined && item.code !== 200) return; // a failed sub-request (vehicle asleep, not capable)
    const headers = isRecord(item.headers) ? item.headers : {};
    const imperial = headers['sc-unit-system'] === 'imperial';
    const km = (v: number | null) => v === null ? null : imperial ? milesToKm(v) : v;
    const at = headers['sc-data-age'] !== undefined && headers['sc-data-age'] !== null ? toIso(headers['sc-data-age'], `data[${i}] sc-data-age`) : receivedAt;
    const values = byTime.get(at) ?? {};
    byTime.set(at, values);
    const b = record(item.body, `data[${i}].body`);
    switch (item.path) {
      case '/battery': {
        const fraction = num(b.percentRemaining, '/battery.percentRemaining');
        if (fraction !== null && (fraction < 0 || fraction > 1)) throw new DecodeError(`/battery.percentRemaining ${fraction} is not a 0–1 fraction`);
        values.socPercent = fraction === null ? null : fraction * 100;
        values.rangeKm = km(num(b.range, '/battery.range'));
        break;
      }
      case '/charge': {
        values.pluggedIn = bool(b.isPluggedIn, '/charge.isPluggedIn');
        const state = b.state;
        if (state !== undefined && state !== 'CHARGING' && state !== 'FULLY_CHARGED' && state !== 'NOT_CHARGING') throw new DecodeError(`/charge.state ${JSON.stringify(state)} is unknown`);
        values.charging = state === undefined ? null : state === 'CHARGING';
        break;
      }
      case '/odometer': values.odometerKm = km(num(b.distance, '/odometer.distance')); break;
      case '/location': values.lat = num(b.latitude, '/location.latitude'); values.lon = num(b.longitude, '/location.longitude'); break;
      default: break;
    }
  });
  return [...byTime].filter(([, v]) => Object.keys(v).length > 0)
    .map(([measuredAt, values]) => ({ ...emptyValues, ...values, vehicle: { providerVehicleId: vehicleId, vin: null }, measuredAt }));
}
