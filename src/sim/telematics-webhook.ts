// Feeds the simulated telematics into a Voltyard's ingestion the way a vendor would: as signed webhook deliveries to
// POST /api/telematics/webhooks/{provider}, through a generic "webhook" provider whose field mapping is registered
// here. Each vehicle is registered with the fleet API and given its provider id, so deliveries match it. Duplicates
// and late readings reach the server as they are: deduplication and ordering are the ingestion's job.
import { createHmac, randomBytes } from 'node:crypto';
import type { VehicleReading } from '../bus/events.ts';
import type { SimClock } from './clock.ts';

export interface WebhookTarget {
  /** http://host:port of the Voltyard. */
  readonly httpUrl: string;
  readonly adminKey: string;
  readonly providerId?: string;
  readonly tenantId?: string;
}

export interface WebhookVehicle {
  readonly vehicleId: string;
  readonly depotId: string;
  readonly batteryKwh: number;
  readonly acMaxPowerKw: number;
  readonly dcMaxPowerKw: number;
}

export interface WebhookFeedStats {
  sent: number;
  accepted: number;
  duplicates: number;
  refused: number;
}

export interface TelematicsWebhook {
  readonly stats: WebhookFeedStats;
  /** Delivers one reading (fire and forget; the simulation clock waits for the answer). */
  deliver(reading: VehicleReading): void;
}

const fields = ['socPercent', 'rangeKm', 'odometerKm', 'lat', 'lon', 'speedKmh', 'pluggedIn', 'charging', 'chargeEnergyAddedKwh'] as const;

async function call(target: WebhookTarget, method: string, pathname: string, body: unknown): Promise<void> {
  const res = await fetch(`${target.httpUrl}${pathname}`, {
    method, headers: { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${pathname}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}

/** Registers the provider and the vehicles, and returns the sink that POSTs readings to the webhook. */
export async function connectTelematicsWebhook(target: WebhookTarget, vehicles: readonly WebhookVehicle[], clock: SimClock): Promise<TelematicsWebhook> {
  const providerId = target.providerId ?? 'sim';
  const tenantId = target.tenantId ?? 'default';
  const secret = randomBytes(24).toString('base64url');
  await call(target, 'PUT', `/api/telematics/providers/${providerId}`, {
    tenantId, kind: 'webhook', credentials: { signingSecret: secret },
    settings: { mapping: { vehicleId: 'vehicleId', measuredAt: 'at', fields: Object.fromEntries(fields.map((f) => [f, f])) } },
  });
  for (const v of vehicles) {
    await call(target, 'PUT', `/api/vehicles/${encodeURIComponent(v.vehicleId)}`, {
      depotId: v.depotId, tenantId, batteryKwh: v.batteryKwh, acMaxPowerKw: v.acMaxPowerKw, dcMaxPowerKw: v.dcMaxPowerKw,
    });
    await call(target, 'PUT', `/api/telematics/vehicles/${tenantId}/${encodeURIComponent(v.vehicleId)}/provider-ids`, { [providerId]: v.vehicleId });
  }
  const stats: WebhookFeedStats = { sent: 0, accepted: 0, duplicates: 0, refused: 0 };
  const url = `${target.httpUrl}/api/telematics/webhooks/${providerId}`;
  return {
    stats,
    deliver(reading) {
      const body = JSON.stringify({
        vehicleId: reading.vehicleId, at: reading.at,
        ...Object.fromEntries(fields.map((f) => [f, reading[f]]).filter(([, v]) => v !== null)),
      });
      const signature = createHmac('sha256', secret).update(body).digest('hex');
      const release = clock.hold();
      stats.sent++;
      void fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body })
        .then(async (res) => {
          const answer = await res.json().catch(() => ({})) as { accepted?: number; duplicates?: number };
          if (!res.ok) { stats.refused++; return; }
          stats.accepted += answer.accepted ?? 0;
          stats.duplicates += answer.duplicates ?? 0;
        })
        .catch(() => { stats.refused++; })
        .finally(release);
    },
  };
}
