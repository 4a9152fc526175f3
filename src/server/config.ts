/**
 * Server options, their defaults and validation, and `loadConfigFromEnv`
 * (environment variables, durations in seconds with fractions allowed).
 */
import { ConfigError } from './errors.js';
import type { EventLog } from './log/types.js';

/** Optional sink for the server's diagnostics. The server is silent without one. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** Options of {@link SigmaxServer}. Durations are in milliseconds. */
export interface SigmaxServerOptions {
  /** TCP port; `0` picks a free port. @default 8000 */
  port?: number | undefined;
  /** Interface to listen on; use `0.0.0.0` to accept connections from other hosts. @default '127.0.0.1' */
  host?: string | undefined;
  /** Interval of the server's `ping` frames (ms). @default 30000 */
  heartbeatInterval?: number | undefined;
  /** A connection that has sent nothing for this long (ms) is terminated. @default 60000 */
  connectionTimeout?: number | undefined;
  /** Maximum simultaneous WebSocket connections; the next one is closed with 1013. @default 1000 */
  maxConnections?: number | undefined;
  /** Accepted `api_key` query values; `undefined` or empty = no authentication. @default undefined */
  apiKeys?: string[] | undefined;
  /** Allowed `Origin`s for HTTP (CORS) and WebSocket upgrades; `undefined` or `['*']` = any. @default undefined */
  corsOrigins?: string[] | undefined;
  /** Redis URL; when set, the event log (sequence + history + fan-out across instances) lives in Redis. @default undefined */
  redisUrl?: string | undefined;
  /**
   * A custom event log (advanced: tests, other backends). Overrides `redisUrl`.
   * The server starts it in `listen()` and closes it in `close()`. @default undefined
   */
  eventLog?: EventLog | undefined;
  /** Prefix of the Redis keys and channels of the event log. @default 'sigmax' */
  redisKeyPrefix?: string | undefined;
  /** Events retained for resume. `0` disables history. @default 1000 */
  historySize?: number | undefined;
  /** How long (ms) events are retained for resume. @default 300000 */
  historyTtl?: number | undefined;
  /** Enables `POST /api/events`, which then requires `Authorization: Bearer <publishToken>`. @default undefined */
  publishToken?: string | undefined;
  /** Largest accepted `POST /api/events` body in bytes. @default 1048576 */
  maxBodySize?: number | undefined;
  /** Runs the demo feed (random-walk prices, portfolio, status, health, proposals…). @default false */
  demo?: boolean | undefined;
  /** Serves the live dashboard page at `GET /` (`WS_DASHBOARD=0` turns it off). @default true */
  dashboard?: boolean | undefined;
  /** Largest inbound WebSocket message in bytes; larger ones close the connection with 1009. @default 65536 */
  maxMessageSize?: number | undefined;
  /** Sustained inbound messages per second per connection (token bucket); `0` = unlimited. @default 20 */
  rateLimit?: number | undefined;
  /** Burst size of the rate limit (bucket capacity). @default 2 × rateLimit (at least 1) */
  rateLimitBurst?: number | undefined;
  /** Subscriptions (topics + symbols) per connection. @default 100 */
  maxSubscriptions?: number | undefined;
  /** Unsent bytes a connection may accumulate before it is closed as a slow consumer (1013). @default 1048576 */
  maxBufferedBytes?: number | undefined;
  /** How long close() waits (ms) for clients to acknowledge the 1001 close before terminating them. @default 1000 */
  shutdownTimeout?: number | undefined;
  /** Speak only PROTOCOL.md Part A: no protocol/features/epoch, no request_id echo, no topic/seq. @default false */
  partAOnly?: boolean | undefined;
  /** Diagnostics sink; the server writes nothing without one. @default undefined */
  logger?: Logger | undefined;
}

/** Options after defaults were applied and values checked. */
type OptionalKeys = 'apiKeys' | 'corsOrigins' | 'redisUrl' | 'eventLog' | 'publishToken' | 'logger';
export type ResolvedOptions = Required<Omit<SigmaxServerOptions, OptionalKeys>> & Pick<SigmaxServerOptions, OptionalKeys>;

export const DEFAULTS = {
  port: 8000,
  host: '127.0.0.1',
  heartbeatInterval: 30_000,
  connectionTimeout: 60_000,
  maxConnections: 1000,
  redisKeyPrefix: 'sigmax',
  historySize: 1000,
  historyTtl: 300_000,
  maxBodySize: 1_048_576,
  demo: false,
  dashboard: true,
  maxMessageSize: 65_536,
  rateLimit: 20,
  maxSubscriptions: 100,
  maxBufferedBytes: 1_048_576,
  shutdownTimeout: 1000,
  partAOnly: false,
} as const;

const REDIS_URL_RE = /^(rediss?|unix):/i;

function check(name: string, value: number, { min, integer = false }: { min: number; integer?: boolean }): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new ConfigError(
      `Option ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}; got ${typeof value === 'number' ? String(value) : JSON.stringify(value)} (${typeof value})`,
      name,
    );
  }
  return value;
}

/** Applies defaults and validates; throws {@link ConfigError} quoting the bad value. */
export function resolveOptions(opts: SigmaxServerOptions = {}): ResolvedOptions {
  const o = { ...DEFAULTS, ...stripUndefined(opts) };
  check('port', o.port, { min: 0, integer: true });
  if (o.port > 65535) throw new ConfigError(`Option port must be <= 65535; got ${o.port}`, 'port');
  if (typeof o.host !== 'string' || o.host === '') throw new ConfigError(`Option host must be a non-empty string; got ${JSON.stringify(o.host)}`, 'host');
  check('heartbeatInterval', o.heartbeatInterval, { min: 10 });
  check('connectionTimeout', o.connectionTimeout, { min: 10 });
  check('maxConnections', o.maxConnections, { min: 0, integer: true });
  check('historySize', o.historySize, { min: 0, integer: true });
  check('historyTtl', o.historyTtl, { min: 0 });
  check('maxBodySize', o.maxBodySize, { min: 1, integer: true });
  check('maxMessageSize', o.maxMessageSize, { min: 64, integer: true });
  check('rateLimit', o.rateLimit, { min: 0 });
  const burst = o.rateLimitBurst ?? Math.max(1, o.rateLimit * 2);
  check('rateLimitBurst', burst, { min: 1 });
  check('maxSubscriptions', o.maxSubscriptions, { min: 1, integer: true });
  check('maxBufferedBytes', o.maxBufferedBytes, { min: 1024, integer: true });
  check('shutdownTimeout', o.shutdownTimeout, { min: 0 });
  for (const key of ['apiKeys', 'corsOrigins'] as const) {
    const list = o[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === ''))) {
      throw new ConfigError(`Option ${key} must be an array of non-empty strings; got ${JSON.stringify(list)}`, key);
    }
  }
  if (o.redisUrl !== undefined && !REDIS_URL_RE.test(String(o.redisUrl))) {
    // A common slip (REDIS_URL=localhost:6379) would otherwise only fail inside listen().
    throw new ConfigError(`Option redisUrl must be a redis://, rediss:// or unix: URL; got ${JSON.stringify(o.redisUrl)}`, 'redisUrl');
  }
  if (o.publishToken !== undefined && (typeof o.publishToken !== 'string' || o.publishToken === '')) {
    throw new ConfigError('Option publishToken must be a non-empty string', 'publishToken');
  }
  return { ...o, rateLimitBurst: burst };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

type Env = Record<string, string | undefined>;

function envNumber(env: Env, name: string, { integer, min, max = Infinity }: { integer: boolean; min: number; max?: number }): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw.trim());
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`${name} must be ${integer ? 'an integer' : 'a number'} ${range}; got ${JSON.stringify(raw)}`, name);
  }
  return n;
}

function envRedisUrl(env: Env): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  if (!REDIS_URL_RE.test(raw)) throw new ConfigError(`REDIS_URL must be a redis://, rediss:// or unix: URL; got ${JSON.stringify(raw)}`, 'REDIS_URL');
  return raw;
}

function envSeconds(env: Env, name: string, min = 0): number | undefined {
  const s = envNumber(env, name, { integer: false, min });
  return s === undefined ? undefined : Math.round(s * 1000);
}

function envList(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

function envBool(env: Env, name: string): boolean | undefined {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be one of 1/0/true/false/yes/no/on/off; got ${JSON.stringify(env[name])}`, name);
}

/**
 * Reads the server options from environment variables (see the README's table).
 * Durations are in seconds, fractions allowed (`WS_HEARTBEAT_INTERVAL=0.5`).
 * Unset or empty variables are left out, so defaults apply.
 * @throws {ConfigError} on a malformed value, naming the variable and quoting the value.
 */
export function loadConfigFromEnv(env: Env = process.env): SigmaxServerOptions {
  const out: SigmaxServerOptions = {
    port: envNumber(env, 'PORT', { integer: true, min: 0, max: 65535 }),
    host: env.HOST?.trim() || undefined,
    redisUrl: envRedisUrl(env),
    maxConnections: envNumber(env, 'WS_MAX_CONNECTIONS', { integer: true, min: 0 }),
    heartbeatInterval: envSeconds(env, 'WS_HEARTBEAT_INTERVAL', 0.01),
    connectionTimeout: envSeconds(env, 'WS_CONNECTION_TIMEOUT', 0.01),
    corsOrigins: envList(env, 'CORS_ORIGINS'),
    apiKeys: envList(env, 'WS_API_KEYS'),
    publishToken: env.WS_PUBLISH_TOKEN?.trim() || undefined,
    demo: envBool(env, 'WS_DEMO'),
    dashboard: envBool(env, 'WS_DASHBOARD'),
    historySize: envNumber(env, 'WS_HISTORY_SIZE', { integer: true, min: 0 }),
    historyTtl: envSeconds(env, 'WS_HISTORY_TTL'),
    maxMessageSize: envNumber(env, 'WS_MAX_MESSAGE_SIZE', { integer: true, min: 64 }),
    maxSubscriptions: envNumber(env, 'WS_MAX_SUBSCRIPTIONS', { integer: true, min: 1 }),
    maxBufferedBytes: envNumber(env, 'WS_MAX_BUFFERED_BYTES', { integer: true, min: 1024 }),
    redisKeyPrefix: env.WS_REDIS_PREFIX?.trim() || undefined,
  };
  const rate = env.WS_RATE_LIMIT?.trim();
  if (rate) {
    const m = /^(\d+(?:\.\d+)?)(?:\s*[,:/]\s*(\d+(?:\.\d+)?))?$/.exec(rate);
    if (!m) throw new ConfigError(`WS_RATE_LIMIT must be "RATE" or "RATE,BURST" (messages per second); got ${JSON.stringify(rate)}`, 'WS_RATE_LIMIT');
    out.rateLimit = Number(m[1]);
    if (m[2] !== undefined) {
      out.rateLimitBurst = Number(m[2]);
      if (out.rateLimitBurst < 1) throw new ConfigError(`WS_RATE_LIMIT burst must be >= 1; got ${JSON.stringify(rate)}`, 'WS_RATE_LIMIT');
    }
  }
  return stripUndefined(out) as SigmaxServerOptions;
}
