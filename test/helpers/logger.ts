import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.ts';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: Record<string, unknown>[];
  /** Lines whose `msg` contains the text. */
  find(text: string): Record<string, unknown>[];
}

/** A real pino logger writing into memory, so tests can assert what was logged (and that secrets were not). */
export function captureLogs(level: 'debug' | 'info' | 'warn' = 'debug'): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  const logger = createLogger(level, sink);
  return { logger, lines, find: (text) => lines.filter((l) => String(l.msg ?? '').includes(text)) };
}
