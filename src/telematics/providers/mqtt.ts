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
  if (settings.clientId !== undefined && (typeof settings.clientId !== 'string' || !/^[\w.-]{1,64}$/.test(settings.clientId))) problems.push('clientId must be 1-64 letters, digits, "_", "." or "-" (and unique per node)');
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

/**
 * How long the broker keeps a session after the connection drops. Long enough to ride out our own reconnect (2 s)
 * after a failed write, and short because an offline session in a shared subscription still takes its share of the
 * messages (measured on Mosquitto 2.0: half of them with two members), which are lost if nobody resumes it: after a
 * crash, a generated id is never resumed.
 */
const SESSION_EXPIRY_GENERATED_S = 10;
/** A configured client id (unique per node) is resumed by the restarted node, so its session may bridge a restart. */
const SESSION_EXPIRY_NAMED_S = 600;

export function createMqttProvider(id: string, tenantId: string, settings: MqttSettings, credentials: MqttCredentials, clock: Clock): Provider {
  const problems = mqttSettingsProblems(settings);
  if (problems.length > 0) throw new Error(`provider ${id}: ${problems.join('; ')}`);
  const compiled = compile(settings.topics);
  let client: MqttClient | null = null;
  // A generated client id is never seen again after this process, so its session must not outlive a short outage.
  const generatedId = !settings.clientId;
  const clientId = settings.clientId ?? `voltyard-${id}-${Math.random().toString(16).slice(2, 10)}`;
  const subscriber: Subscriber = {
    async start(onUnit, onError) {
      const c = mqtt.connect(settings.url ?? 'mqtt://127.0.0.1:1883', {
        clientId, username: credentials.username, password: credentials.password,
        reconnectPeriod: 2000, connectTimeout: 5000,
        // At-least-once: QoS 1 messages are acknowledged only once stored. A persistent session (MQTT 5, clean start
        // off) keeps what was not acknowledged at the broker, which delivers it again when we reconnect.
        protocolVersion: 5, clean: false,
        properties: { sessionExpiryInterval: generatedId ? SESSION_EXPIRY_GENERATED_S : SESSION_EXPIRY_NAMED_S },
      });
      client = c;
      let resetting = false;
      // mqtt.js sends the PUBACK when this callback succeeds and none when it fails; it hands over the next message
      // only after, so messages are stored in order, one commit each.
      c.handleMessage = (packet, done) => {
        const unit: MqttUnit = { topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload.toString('utf8') : String(packet.payload), receivedAt: new Date(clock.now()).toISOString() };
        onUnit(unit).then(() => done(), (err: unknown) => {
          done(err instanceof Error ? err : new Error(String(err)));
          // QoS 0 (a publisher's choice) is never delivered again: nothing to gain from a new connection.
          if (resetting || client !== c || packet.qos === 0) return;
          // Mosquitto resends unacknowledged messages only on a new connection: drop this one; mqtt.js reconnects
          // after `reconnectPeriod`, by which time the store may be writable again.
          resetting = true;
          onError(new Error(`a message was not stored and is left unacknowledged for redelivery: ${err instanceof Error ? err.message : String(err)}`));
          c.stream?.destroy();
        });
      };
      c.on('connect', () => { resetting = false; });
      c.on('error', (err) => onError(err));
      c.on('offline', () => onError(new Error('MQTT broker unreachable')));
      // Subscriptions are re-sent on every (re)connect, so a broker restart does not silently drop the feed.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        const ready = () => { clearTimeout(timer); resolve(); };
        c.on('connect', () => {
          // A shared subscription: with several Voltyard nodes on one broker, each message goes to one of them.
          c.subscribe(compiled.map((t) => `$share/voltyard-${id}/${t.subscription}`), { qos: 1 }, (err, granted) => {
            const refused = granted?.filter((g) => g.qos >= 128) ?? [];
            if (err) onError(err);
            else if (refused.length > 0) onError(new Error(`broker refused the subscriptions ${refused.map((g) => g.topic).join(', ')}`));
            ready();
          });
        });
        c.once('error', ready);
      });
    },
    async stop() {
      const c = client;
      client = null;
      // A generated id's session is ended with the connection (nobody would resume it); a configured id keeps its
      // session, so a restarted node picks up what arrived meanwhile.
      if (!c) return;
      if (c.connected) await c.endAsync(false, generatedId ? { properties: { sessionExpiryInterval: 0 } } : {});
      else await c.endAsync(true);
    },
  };
  return { id, kind: 'mqtt', tenantId, decoder: { decode: createMqttDecoder(settings) }, subscriber };
}
