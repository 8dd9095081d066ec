import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type { logFormats, logLevels } from './config.js';

export type LogLevel = (typeof logLevels)[number];
export type LogFormat = (typeof logFormats)[number];
export type { Logger };

/** Keys whose values never reach a log line. */
const redact = [
  'token',
  'password',
  'secret',
  'key',
  '*.token',
  '*.password',
  '*.secret',
  '*.key',
  'headers.authorization',
  'headers["x-vault-token"]',
];

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Turns pino's JSON lines into `HH:MM:SS LEVEL name: msg key=value` for people. */
function textDestination(stream: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        stream.write(line);
        return;
      }
      const { level, time, msg, name, pid: _pid, hostname: _host, ...rest } = rec;
      const t = new Date(Number(time)).toISOString().slice(11, 19);
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      stream.write(`${t} ${levelNames[Number(level)] ?? level} ${name}: ${msg ?? ''}${extra ? ` ${extra}` : ''}\n`);
    },
  };
}

export interface LoggerOptions {
  name: string;
  level?: LogLevel;
  format?: LogFormat;
  /** Defaults to stderr: stdout belongs to command output. */
  stream?: NodeJS.WritableStream;
}

/**
 * pino, loaded when the first logger is made (most commands never make one). In the bundle
 * (scripts/build-bundles.mjs) `require` is defined and esbuild bundles pino behind it, evaluated
 * on this first call; from dist/ it is node's require.
 */
let pinoModule: typeof import('pino') | undefined;
function loadPino(): typeof import('pino') {
  pinoModule ??= (
    typeof require === 'function' ? require('pino') : createRequire(import.meta.url)('pino')
  ) as typeof import('pino');
  return pinoModule;
}

export function createLogger(opts: LoggerOptions): Logger {
  const { pino } = loadPino();
  const stream = opts.stream ?? process.stderr;
  const dest = opts.format === 'json' ? (stream as DestinationStream) : textDestination(stream);
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'warn',
      redact: { paths: redact, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    dest,
  );
}
