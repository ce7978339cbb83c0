import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../../clock.ts';
import type { Provider, Subscriber } from '../provider.ts';
import { bool, DecodeError, emptyValues, isRecord, num, record, text, toIso, valueFields, type ReadingDraft, type ValueField } from '../reading.ts';
import { defaultUnit, sourceUnits, toDomainUnit, unitProblem, type SourceUnit } from '../units.ts';

/**
 * MQTT, one topic per metric per vehicle: a pattern per field with a `{vehicle}` placeholder
 * ("fleet/{vehicle}/battery/soc"). A message is either a bare value ("81.5", "true") or JSON
 * `{ "value": 81.5, "ts": <ISO or epoch> }`; without a timestamp the receipt time is the measurement time.
 */
export interface MqttSettings {
  readonly url?: string;
  readonly topics: Readonly<Partial<Record<ValueField, string>>>;
  /** What the `{vehicle}` segment holds. */
  readonly vehicleIdIs?: 'providerVehicleId' | 'vin';
  readonly units?: Readonly<Partial<Record<ValueField, SourceUnit>>>;
  readonly clientId?: string;
}

export interface MqttCredentials {
  readonly username?: string;
  readonly password?: string;
}

/** The payload unit: the topic, the message as text, and when it arrived. */
export interface MqttUnit {
  readonly topic: string;
  readonly payload: string;
  readonly receivedAt: string;
}

interface CompiledTopic {
  readonly field: ValueField;
  readonly subscription: string;
  readonly regex: RegExp;
}

export function mqttSettingsProblems(settings: unknown): string[] {
  if (!isRecord(settings) || !isRecord(settings.topics) || Object.keys(settings.topics).length === 0) return ['topics must map at least one field to a topic pattern'];
  const problems: string[] = [];
  for (const [field, pattern] of Object.entries(settings.topics)) {
    if (!(valueFields as readonly string[]).includes(field)) problems.push(`topics.${field} is not a reading field`);
    if (typeof pattern !== 'string' || pattern.split('/').filter((s) => s === '{vehicle}').length !== 1) problems.push(`topics.${field} needs exactly one "{vehicle}" level`);
    else if (pattern.includes('#')) problems.push(`topics.${field}: "#" would make the vehicle ambiguous; use "+"`);
  }
  if (isRecord(settings.units)) {
    for (const [field, unit] of Object.entries(settings.units)) {
      if (!(sourceUnits as unknown[]).includes(unit)) problems.push(`units.${field} must be one of ${sourceUnits.join(', ')}`);
      else if ((valueFields as readonly string[]).includes(field)) { const p = unitProblem(field as ValueField, String(unit)); if (p) problems.push(`units.${field}: ${p}`); }
    }
  }
  if (settings.vehicleIdIs !== undefined && settings.vehicleIdIs !== 'providerVehicleId' && settings.vehicleIdIs !== 'vin') problems.push('vehicleIdIs must be providerVehicleId or vin');
  return problems;
}

function compile(topics: MqttSettings['topics']): CompiledTopic[] {
  return (Object.entries(topics) as [ValueField, string][]).map(([field, pattern]) => {
    const levels = pattern.split('/');
    const regex = new RegExp('^' + levels.map((l) => l === '{vehicle}' ? '([^/]+)' : l === '+' ? '[^/]+' : l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('/') + '$');
    return { field, subscription: levels.map((l) => l === '{vehicle}' ? '+' : l).join('/'), regex };
  });
}

export function createMqttDecoder(settings: MqttSettings): (unit: unknown) => ReadingDraft[] {
  const compiled = compile(settings.topics);
  return (unit) => {
    const u = record(unit, 'unit');
    const topic = text(u.topic, 'topic');
    if (typeof u.payload !== 'string') throw new DecodeError('payload is not text');
    const match = compiled.map((c) => ({ c, m: c.regex.exec(topic) })).find((x) => x.m);
    if (!match?.m) throw new DecodeError(`topic ${topic} matches no configured pattern`);
    const { field } = match.c;
    const vehicleKey = decodeURIComponent(match.m[1]);
    let raw: unknown = u.payload.trim();
    let at: unknown = u.receivedAt;
    if (typeof raw === 'string' && raw.startsWith('{')) {
      let parsed: unknown;
      try { parsed = JSON.parse(raw); } catch { throw new DecodeError(`payload on ${topic} is not valid JSON`); }
      const o = record(parsed, 'payload');
      if (!('value' in o)) throw new DecodeError(`payload on ${topic} has no "value"`);
      raw = o.value;
      at = o.ts ?? o.timestamp ?? o.time ?? u.receivedAt;
    }
    let value: number | boolean | null;
    if (field === 'pluggedIn' || field === 'charging') value = bool(raw, `${topic}`);
    else {
      const n = num(raw, topic);
      const sourceUnit = settings.units?.[field] ?? defaultUnit(field);
      value = n === null || sourceUnit === null ? n : toDomainUnit(n, sourceUnit);
    }
    if (value === null) throw new DecodeError(`empty value on ${topic}`);
    const vehicle = settings.vehicleIdIs === 'vin' ? { providerVehicleId: null, vin: vehicleKey } : { providerVehicleId: vehicleKey, vin: null };
    return [{ ...emptyValues, [field]: value, vehicle, measuredAt: toIso(at, `timestamp on ${topic}`) }];
  };
}

export function createMqttProvider(id: string, tenantId: string, settings: MqttSettings, credentials: MqttCredentials, clock: Clock): Provider {
  const problems = mqttSettingsProblems(settings);
  if (problems.length > 0) throw new Error(`provider ${id}: ${problems.join('; ')}`);
  const compiled = compile(settings.topics);
  let client: MqttClient | null = null;
  const subscriber: Subscriber = {
    async start(onUnit, onError) {
      client = mqtt.connect(settings.url ?? 'mqtt://127.0.0.1:1883', {
        clientId: settings.clientId ?? `voltyard-${id}-${Math.random().toString(16).slice(2, 10)}`,
        username: credentials.username, password: credentials.password,
        reconnectPeriod: 2000, connectTimeout: 5000,
      });
      client.on('message', (topic, payload) => onUnit({ topic, payload: payload.toString('utf8'), receivedAt: new Date(clock.now()).toISOString() } satisfies MqttUnit));
      client.on('error', (err) => onError(err));
      client.on('offline', () => onError(new Error('MQTT broker unreachable')));
      // Subscriptions are re-sent on every (re)connect, so a broker restart does not silently drop the feed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        const ready = () => { clearTimeout(timer); resolve(); };
        client!.on('connect', () => {
          // A shared subscription: with several Voltyard nodes on one broker, each message goes to one of them.
          client?.subscribe(compiled.map((c) => `$share/voltyard-${id}/${c.subscription}`), { qos: 1 }, (err, granted) => {
            const refused = granted?.filter((g) => g.qos === 128) ?? [];
            if (err) onError(err);
            else if (refused.length > 0) onError(new Error(`broker refused the subscriptions ${refused.map((g) => g.topic).join(', ')}`));
            ready();
          });
        });
        client!.once('error', ready);
      });
    },
    async stop() {
      await client?.endAsync(true);
      client = null;
    },
  };
  return { id, kind: 'mqtt', tenantId, decoder: { decode: createMqttDecoder(settings) }, subscriber };
}
