import type { Clock } from '../../clock.ts';
import { readJson, type Provider } from '../provider.ts';
import { DecodeError, emptyValues, milesToKm, num, record, text, toIso, type ReadingDraft } from '../reading.ts';

/**
 * Tesla Fleet API (https://developer.tesla.com/docs/fleet-api): `GET /api/1/vehicles/{vehicle_tag}/vehicle_data`
 * answers `{ response: { id, vin, charge_state, drive_state, vehicle_state } }`. `battery_level` is a percent,
 * `battery_range` and `odometer` are miles, `speed` is mph, every section has its own epoch-millisecond `timestamp`.
 * A sleeping vehicle answers 408: no data this round, and the provider is not at fault.
 */
export interface TeslaSettings {
  readonly baseUrl?: string;
  /** VINs or vehicle ids to poll. */
  readonly vehicleTags: readonly string[];
  readonly intervalMs?: number;
}

export interface TeslaCredentials {
  readonly accessToken: string;
}

const chargingStates = new Set(['Charging', 'Complete', 'Disconnected', 'Stopped', 'NoPower', 'Starting']);

export function createTeslaProvider(id: string, tenantId: string, settings: TeslaSettings, credentials: TeslaCredentials, clock: Clock): Provider {
  const baseUrl = (settings.baseUrl ?? 'https://fleet-api.prd.na.vn.cloud.tesla.com').replace(/\/$/, '');
  return {
    id, kind: 'tesla', tenantId,
    decoder: { decode: decodeTesla },
    poller: {
      intervalMs: settings.intervalMs ?? 60_000,
      async poll(_cursor, signal) {
        if (!credentials.accessToken) throw new Error('no access token configured');
        const units: unknown[] = [];
        for (const tag of settings.vehicleTags) {
          const url = `${baseUrl}/api/1/vehicles/${encodeURIComponent(tag)}/vehicle_data?endpoints=${encodeURIComponent('charge_state;drive_state;vehicle_state')}`;
          const response = await fetch(url, { signal, headers: { authorization: `Bearer ${credentials.accessToken}` } });
          // 408 means asleep: waking it to read a SoC would drain the battery we are trying to plan.
          if (response.status === 408) { await response.body?.cancel(); continue; }
          units.push(await readJson(response, () => clock.now(), `Tesla vehicle_data ${tag}`));
        }
        return { units, cursor: null, more: false };
      },
    },
  };
}

export function decodeTesla(unit: unknown): ReadingDraft[] {
  const body = record(unit, 'body');
  const r = record(body.response, 'response');
  const vehicle = { providerVehicleId: r.id_s !== undefined ? text(r.id_s, 'id_s') : r.id !== undefined ? text(r.id, 'id') : null, vin: typeof r.vin === 'string' ? r.vin : null };
  const byTime = new Map<string, Record<string, unknown>>();
  const section = (name: string, apply: (s: Record<string, unknown>, values: Record<string, unknown>) => void) => {
    if (r[name] === undefined || r[name] === null) return;
    const s = record(r[name], name);
    const at = toIso(s.timestamp, `${name}.timestamp`);
    const values = byTime.get(at) ?? {};
    byTime.set(at, values);
    apply(s, values);
  };
  section('charge_state', (s, v) => {
    v.socPercent = num(s.battery_level, 'charge_state.battery_level');
    const range = num(s.battery_range, 'charge_state.battery_range');
    v.rangeKm = range === null ? null : milesToKm(range);
    v.chargeEnergyAddedKwh = num(s.charge_energy_added, 'charge_state.charge_energy_added');
    if (s.charging_state !== undefined && s.charging_state !== null) {
      if (typeof s.charging_state !== 'string' || !chargingStates.has(s.charging_state)) throw new DecodeError(`charge_state.charging_state ${JSON.stringify(s.charging_state)} is unknown`);
      v.pluggedIn = s.charging_state !== 'Disconnected';
      v.charging = s.charging_state === 'Charging' || s.charging_state === 'Starting';
    }
  });
  section('drive_state', (s, v) => {
    v.lat = num(s.latitude, 'drive_state.latitude');
    v.lon = num(s.longitude, 'drive_state.longitude');
    const mph = num(s.speed, 'drive_state.speed');
    // Tesla reports speed null when parked (the key present, the value null): standing still, not unknown.
    v.speedKmh = mph === null ? ('speed' in s ? 0 : null) : milesToKm(mph);
  });
  section('vehicle_state', (s, v) => {
    const miles = num(s.odometer, 'vehicle_state.odometer');
    v.odometerKm = miles === null ? null : milesToKm(miles);
  });
  if (byTime.size === 0) throw new DecodeError('no charge_state, drive_state or vehicle_state');
  return [...byTime].map(([measuredAt, values]) => ({ ...emptyValues, ...values, vehicle, measuredAt }));
}
