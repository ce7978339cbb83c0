import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Every setting Voltyard reads, declared once: the environment variable, the key in the optional JSON config file,
 * how the value is parsed and checked, and the default. `voltyard start --help` prints this table, so the docs
 * cannot drift from what is enforced.
 */
interface Setting<T> {
  readonly env: string;
  readonly key: string;
  readonly allowed: string;
  readonly doc: string;
  readonly parse: (raw: string) => T | undefined;
  readonly default: T;
}

function integer(min: number, max: number) {
  return (raw: string): number | undefined => {
    if (!/^-?\d+$/.test(raw.trim())) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };
}

function oneOf<const T extends string>(...values: T[]) {
  return (raw: string): T | undefined => (values as string[]).includes(raw) ? raw as T : undefined;
}

const text = (raw: string): string | undefined => raw.length > 0 ? raw : undefined;

function optional<T>(parse: (raw: string) => T | undefined) {
  return (raw: string): T | undefined | null => raw === '' ? null : parse(raw);
}

export const unknownStationPolicies = ['reject', 'pending', 'accept'] as const;
export type UnknownStationPolicy = typeof unknownStationPolicies[number];
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = typeof logLevels[number];

const settings = {
  port: { env: 'VOLTYARD_PORT', key: 'port', allowed: 'an integer from 0 to 65535', doc: 'HTTP port for the REST API, dashboard and OCPP WebSockets', parse: integer(0, 65535), default: 8080 },
  host: { env: 'VOLTYARD_HOST', key: 'host', allowed: 'an address to listen on', doc: 'listen address', parse: text, default: '0.0.0.0' },
  dataDir: { env: 'VOLTYARD_DATA_DIR', key: 'dataDir', allowed: 'a directory path', doc: 'where the embedded SQLite database and generated secrets live', parse: text, default: './data' },
  databaseUrl: {
    env: 'VOLTYARD_DATABASE_URL', key: 'databaseUrl', allowed: 'a postgres:// or postgresql:// URL, or empty for the embedded SQLite store',
    doc: 'PostgreSQL connection string (cluster mode); unset = embedded SQLite under the data dir',
    parse: optional((raw) => /^postgres(ql)?:\/\//.test(raw) ? raw : undefined), default: null as string | null,
  },
  adminKey: {
    env: 'VOLTYARD_ADMIN_KEY', key: 'adminKey', allowed: 'at least 16 characters',
    doc: 'admin API key; unset = one is generated once and kept in <data dir>/admin-key',
    parse: optional((raw) => raw.length >= 16 ? raw : undefined), default: null as string | null,
  },
  unknownStations: {
    env: 'VOLTYARD_UNKNOWN_STATIONS', key: 'unknownStations', allowed: unknownStationPolicies.join(', '),
    doc: 'what happens to a station nobody registered (accept registers it: labs and tests only)',
    parse: oneOf(...unknownStationPolicies), default: 'pending' as UnknownStationPolicy,
  },
  defaultSecurityProfile: {
    env: 'VOLTYARD_DEFAULT_SECURITY_PROFILE', key: 'defaultSecurityProfile', allowed: '0, 1 or 2',
    doc: 'security profile given to stations registered without one (0 is for development only)',
    parse: integer(0, 2), default: 0,
  },
  tlsCertFile: { env: 'VOLTYARD_TLS_CERT', key: 'tlsCertFile', allowed: 'a PEM file path', doc: 'server certificate; set with the key to serve HTTPS/WSS (security profile 2)', parse: optional(text), default: null as string | null },
  tlsKeyFile: { env: 'VOLTYARD_TLS_KEY', key: 'tlsKeyFile', allowed: 'a PEM file path', doc: 'server private key', parse: optional(text), default: null as string | null },
  tlsCaFile: { env: 'VOLTYARD_TLS_CA', key: 'tlsCaFile', allowed: 'a PEM file path', doc: 'CA for client certificates (mutual TLS, security profile 3)', parse: optional(text), default: null as string | null },
  heartbeatIntervalS: { env: 'VOLTYARD_HEARTBEAT_INTERVAL_S', key: 'heartbeatIntervalS', allowed: 'an integer from 10 to 86400', doc: 'heartbeat interval told to stations at boot', parse: integer(10, 86400), default: 300 },
  pingIntervalS: { env: 'VOLTYARD_PING_INTERVAL_S', key: 'pingIntervalS', allowed: 'an integer from 1 to 3600', doc: 'WebSocket ping interval; a station silent for two intervals is offline', parse: integer(1, 3600), default: 30 },
  callTimeoutS: { env: 'VOLTYARD_CALL_TIMEOUT_S', key: 'callTimeoutS', allowed: 'an integer from 1 to 600', doc: 'how long a command to a station waits for its answer', parse: integer(1, 600), default: 30 },
  messageLogRetentionDays: { env: 'VOLTYARD_MESSAGE_LOG_RETENTION_DAYS', key: 'messageLogRetentionDays', allowed: 'an integer from 0 to 3650', doc: 'days of OCPP message log kept (0 = keep none)', parse: integer(0, 3650), default: 7 },
  logLevel: { env: 'VOLTYARD_LOG_LEVEL', key: 'logLevel', allowed: logLevels.join(', '), doc: 'log level', parse: oneOf(...logLevels), default: 'info' as LogLevel },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof settings;
export type Config = { -readonly [K in keyof Settings]: Settings[K]['default'] };

export class ConfigError extends Error {}

/**
 * Reads the optional JSON file named by VOLTYARD_CONFIG, then the environment (which wins), and checks every value.
 * Throws ConfigError naming the setting and what is allowed; the CLI turns that into a non-zero exit.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const fileValues = readConfigFile(env.VOLTYARD_CONFIG);
  const config: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings) as [keyof Config, Setting<unknown>][]) {
    if (name in overrides) { config[name] = overrides[name]; continue; }
    let raw: string | undefined;
    let source: string;
    if (env[setting.env] !== undefined) {
      raw = env[setting.env];
      source = setting.env;
    } else if (fileValues[setting.key] !== undefined) {
      const value = fileValues[setting.key];
      raw = value === null ? '' : String(value);
      source = `${setting.key} in ${env.VOLTYARD_CONFIG}`;
    } else {
      config[name] = setting.default;
      continue;
    }
    const parsed = setting.parse(raw ?? '');
    if (parsed === undefined) {
      const shown = /KEY|PASSWORD|SECRET/i.test(setting.env) ? '(hidden)' : JSON.stringify(raw);
      throw new ConfigError(`${source}: ${shown} is not allowed; expected ${setting.allowed}`);
    }
    config[name] = parsed;
  }
  const unknownKeys = Object.keys(fileValues).filter((k) => !Object.values(settings).some((s) => s.key === k));
  if (unknownKeys.length > 0) {
    throw new ConfigError(`${env.VOLTYARD_CONFIG}: unknown setting(s) ${unknownKeys.join(', ')}; known: ${Object.values(settings).map((s) => s.key).join(', ')}`);
  }
  const result = config as Config;
  if ((result.tlsCertFile === null) !== (result.tlsKeyFile === null)) {
    throw new ConfigError('VOLTYARD_TLS_CERT and VOLTYARD_TLS_KEY: set both or neither');
  }
  if (result.tlsCaFile !== null && result.tlsCertFile === null) {
    throw new ConfigError('VOLTYARD_TLS_CA: needs VOLTYARD_TLS_CERT and VOLTYARD_TLS_KEY (mutual TLS runs over TLS)');
  }
  result.dataDir = path.resolve(result.dataDir);
  return result;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`VOLTYARD_CONFIG: cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`VOLTYARD_CONFIG: ${file} must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** The settings table for `--help`. */
export function describeSettings(): string {
  const rows = Object.values(settings).map((s) => {
    const def = s.default === null ? 'unset' : String(s.default);
    return `  ${s.env.padEnd(36)} ${s.doc}\n  ${''.padEnd(36)} allowed: ${s.allowed}; default: ${def}; config file key: ${s.key}`;
  });
  return ['Settings (environment variables; VOLTYARD_CONFIG may name a JSON file with the same settings by key, the environment wins):', ...rows].join('\n');
}
