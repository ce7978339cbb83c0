import type { Clock } from '../../clock.ts';
import { providerKinds, type Provider, type ProviderKind } from '../provider.ts';
import { isRecord } from '../reading.ts';
import { createGeotabProvider, type GeotabCredentials, type GeotabSettings } from './geotab.ts';
import { createMqttProvider, mqttSettingsProblems, type MqttSettings } from './mqtt.ts';
import { createSamsaraProvider, type SamsaraCredentials } from './samsara.ts';
import { createSmartcarProvider } from './smartcar.ts';
import { createTeslaProvider, type TeslaCredentials, type TeslaSettings } from './tesla.ts';
import { createWebhookProvider, mappingProblems, type WebhookCredentials, type WebhookSettings } from './webhook.ts';

export interface ProviderConfig {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: ProviderKind;
  readonly settings: Record<string, unknown>;
  readonly credentials: Record<string, unknown>;
}

export class ProviderConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

const str = (v: unknown) => typeof v === 'string' && v.length > 0;
const strList = (v: unknown) => Array.isArray(v) && v.every(str);
const optUrl = (v: unknown) => v === undefined || (typeof v === 'string' && /^https?:\/\//.test(v));

/** What is wrong with a provider configuration, per kind, before anything is saved or started. */
export function configProblems(c: { kind: unknown; settings: unknown; credentials: unknown }): string[] {
  if (!(providerKinds as readonly unknown[]).includes(c.kind)) return [`kind must be one of ${providerKinds.join(', ')}`];
  const s = isRecord(c.settings) ? c.settings : {};
  const k = isRecord(c.credentials) ? c.credentials : {};
  const p: string[] = [];
  // Settings are returned by the API; a password inside a URL would leak through them.
  for (const key of ['baseUrl', 'server', 'url']) {
    if (typeof s[key] === 'string' && /^[a-z]+:\/\/[^/]*@/i.test(s[key] as string)) p.push(`settings.${key} must not carry a user or password; put them in credentials`);
  }
  if (s.intervalMs !== undefined && !(typeof s.intervalMs === 'number' && s.intervalMs >= 1000)) p.push('settings.intervalMs must be at least 1000');
  switch (c.kind as ProviderKind) {
    case 'smartcar':
      if (!optUrl(s.baseUrl)) p.push('settings.baseUrl must be an http(s) URL');
      if (s.vehicleIds !== undefined && !strList(s.vehicleIds)) p.push('settings.vehicleIds must be a list of ids');
      if (!str(k.managementToken) && !str(k.accessToken)) p.push('credentials need managementToken (webhooks) and/or accessToken (polling)');
      if (strList(s.vehicleIds) && (s.vehicleIds as string[]).length > 0 && !str(k.accessToken)) p.push('credentials.accessToken is needed to poll vehicleIds');
      break;
    case 'samsara':
      if (!optUrl(s.baseUrl)) p.push('settings.baseUrl must be an http(s) URL');
      if (!str(k.apiToken)) p.push('credentials.apiToken is required');
      break;
    case 'geotab':
      if (!optUrl(s.server)) p.push('settings.server must be an http(s) URL');
      if (!str(s.database)) p.push('settings.database is required');
      if (!str(k.userName) || !str(k.password)) p.push('credentials.userName and credentials.password are required');
      break;
    case 'tesla':
      if (!optUrl(s.baseUrl)) p.push('settings.baseUrl must be an http(s) URL');
      if (!strList(s.vehicleTags) || (s.vehicleTags as string[]).length === 0) p.push('settings.vehicleTags must list the VINs or ids to poll');
      if (!str(k.accessToken)) p.push('credentials.accessToken is required');
      break;
    case 'webhook':
      p.push(...mappingProblems(s.mapping).map((m) => `settings.mapping: ${m}`));
      if (!str(k.signingSecret)) p.push('credentials.signingSecret is required');
      break;
    case 'mqtt':
      if (s.url !== undefined && !(typeof s.url === 'string' && /^(mqtts?|wss?|tcp):\/\//.test(s.url))) p.push('settings.url must be an mqtt:// URL');
      p.push(...mqttSettingsProblems(s).map((m) => `settings.${m}`));
      break;
  }
  return p;
}

/** Builds the running adapter for a configuration (checked first). */
export function createProvider(c: ProviderConfig, clock: Clock): Provider {
  const problems = configProblems(c);
  if (problems.length > 0) throw new ProviderConfigError(problems);
  const s = c.settings as never;
  switch (c.kind) {
    case 'smartcar': return createSmartcarProvider(c.id, c.tenantId, s, c.credentials, clock);
    case 'samsara': return createSamsaraProvider(c.id, c.tenantId, s, c.credentials as unknown as SamsaraCredentials, clock);
    case 'geotab': return createGeotabProvider(c.id, c.tenantId, s as GeotabSettings, c.credentials as unknown as GeotabCredentials, clock);
    case 'tesla': return createTeslaProvider(c.id, c.tenantId, s as TeslaSettings, c.credentials as unknown as TeslaCredentials, clock);
    case 'webhook': return createWebhookProvider(c.id, c.tenantId, s as WebhookSettings, c.credentials as unknown as WebhookCredentials);
    case 'mqtt': return createMqttProvider(c.id, c.tenantId, s as MqttSettings, c.credentials, clock);
  }
}
