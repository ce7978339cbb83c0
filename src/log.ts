import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/** Field paths that may hold secrets; pino replaces them before a line is written. */
const redact = [
  'password', '*.password', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'req.headers["x-api-key"]', 'apiKey', '*.apiKey', 'secret', '*.secret', 'token', '*.token', 'clientSecret', '*.clientSecret',
];

/** One JSON line per event; every module takes a child logger with its own `module` field. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino({ level, base: { app: 'voltyard' }, redact: { paths: redact, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
