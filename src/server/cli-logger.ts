/**
 * The CLI's logger: one line per record on stderr, with an ISO timestamp and a level, as readable text
 * or as JSON lines. Hand-rolled on purpose (see the README): two formats and four levels fit in a
 * few lines, written synchronously so nothing is lost when the process exits.
 */
import type { Logger } from './config.js';

export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

const PREFIX = 'sigmax-ws: ';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `key=value` with the value quoted when it has spaces or quotes. */
function textField(key: string, v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v) ?? String(v);
  return `${key}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
}

/** Builds a {@link Logger} writing records of `level` and above in `format` to `write`. */
export function createCliLogger(
  format: LogFormat,
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  now: () => Date = () => new Date(),
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit =
    (lvl: LogLevel) =>
    (message: string, ...args: unknown[]): void => {
      if (LOG_LEVELS.indexOf(lvl) < min) return;
      const msg = message.startsWith(PREFIX) ? message.slice(PREFIX.length) : message;
      const fields: Record<string, unknown> = {};
      const extra: string[] = [];
      for (const a of args) {
        if (isPlainObject(a)) Object.assign(fields, a);
        else if (a instanceof Error) fields.error = format === 'json' ? { message: a.message, name: a.name, stack: a.stack } : a.message;
        else extra.push(typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a)));
      }
      const text = extra.length ? `${msg} ${extra.join(' ')}` : msg;
      const time = now().toISOString();
      if (format === 'json') {
        write(`${JSON.stringify({ time, level: lvl, msg: text, ...fields })}\n`);
      } else {
        const rest = Object.entries(fields).map(([k, v]) => textField(k, v));
        write(`${time} ${lvl.toUpperCase()} ${text}${rest.length ? ` ${rest.join(' ')}` : ''}\n`);
      }
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
