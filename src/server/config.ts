/**
 * Server options, their defaults and validation, and `loadConfigFromEnv`
 * (environment variables, durations in seconds with fractions allowed).
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WS_PATH } from '../protocol/index.js';
import { ConfigError } from './errors.js';
import type { EventLog } from './log/types.js';

/**
 * Decides whether an upgrade request may connect. Return a principal (any truthy value: `true`, a user
 * object…) to admit it; it is exposed as `principal` in `server.connections()`. Return a falsy value or
 * throw (or reject) to refuse it with `AUTHENTICATION_FAILED` and close 1008. May be async.
 */
export type Authenticate = (request: IncomingMessage) => unknown;

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
  /** Also publish every event on `<redisKeyPrefix>:broadcast` in the SIGMAX 2.0 format, for its instances and consumers. @default true */
  redisBridge?: boolean | undefined;
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
  /** Serves the live dashboard page at `GET /` (`WS_DASHBOARD=0` turns it off); never when mounted on an app's server. @default true */
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
  /**
   * Diagnostics sink; the server writes nothing without one. Operational lines (connection opened/closed,
   * refusals, slow consumers, floods) pass their fields as an object after the message. @default undefined
   */
  logger?: Logger | undefined;
  /** Paths on which the WebSocket API is served, e.g. `['/api/ws', '/ws']` (the original web UI uses `/ws`). @default ['/api/ws'] */
  wsPaths?: string[] | undefined;
  /**
   * Mount on this existing HTTP(S) server instead of creating one: `listen()` then takes the upgrades on
   * `wsPaths` only (others are left to the server's other `upgrade` listeners, or refused if there are none),
   * and answers its HTTP routes in front of the server's own request listeners (see `httpRoutes`).
   * `port` and `host` are ignored; `close()` leaves the HTTP server open. @default undefined
   */
  server?: HttpServer | HttpsServer | undefined;
  /** When mounted (`server`), whether to answer `GET /api/ws/stats`, `GET /health` and `POST /api/events`. @default true */
  httpRoutes?: boolean | undefined;
  /** Authentication hook, checked after `apiKeys` (both must pass when both are set). @default undefined */
  authenticate?: Authenticate | undefined;
  /** Produces the body of `GET /api/ws/stats` instead of `stats()` (`--workers` sums the workers with it). @default undefined */
  httpStats?: (() => Promise<object>) | undefined;
}

/** Every option name (the compiler checks this list is complete). */
const OPTION_NAMES: Record<keyof SigmaxServerOptions, true> = {
  port: true,
  redisBridge: true,
  host: true,
  heartbeatInterval: true,
  connectionTimeout: true,
  maxConnections: true,
  apiKeys: true,
  corsOrigins: true,
  redisUrl: true,
  eventLog: true,
  redisKeyPrefix: true,
  historySize: true,
  historyTtl: true,
  publishToken: true,
  maxBodySize: true,
  demo: true,
  maxMessageSize: true,
  rateLimit: true,
  rateLimitBurst: true,
  maxSubscriptions: true,
  maxBufferedBytes: true,
  shutdownTimeout: true,
  partAOnly: true,
  logger: true,
  wsPaths: true,
  server: true,
  httpRoutes: true,
  authenticate: true,
  httpStats: true,
  dashboard: true,
};

/** Levenshtein distance (small strings only). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The name among `known` closest to `name` (case-insensitive edit distance), if any is close enough to be a typo. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** Options after defaults were applied and values checked. */
type OptionalKeys = 'apiKeys' | 'corsOrigins' | 'redisUrl' | 'eventLog' | 'publishToken' | 'logger' | 'server' | 'authenticate' | 'httpStats';
export type ResolvedOptions = Required<Omit<SigmaxServerOptions, OptionalKeys>> & Pick<SigmaxServerOptions, OptionalKeys>;

export const DEFAULTS = {
  port: 8000,
  host: '127.0.0.1',
  heartbeatInterval: 30_000,
  connectionTimeout: 60_000,
  maxConnections: 1000,
  redisKeyPrefix: 'sigmax',
  redisBridge: true,
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
  wsPaths: [WS_PATH] as string[],
  httpRoutes: true,
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
  for (const key of Object.keys(opts)) {
    if (!Object.prototype.hasOwnProperty.call(OPTION_NAMES, key)) {
      const near = closestName(key, Object.keys(OPTION_NAMES));
      throw new ConfigError(`Unknown option \`${key}\`${near ? ` (did you mean \`${near}\`?)` : ''}`, key);
    }
  }
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
  const paths = o.wsPaths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string' || !/^\/[^?#\s]*$/.test(p))) {
    throw new ConfigError(`Option wsPaths must be a non-empty array of paths starting with /; got ${JSON.stringify(paths)}`, 'wsPaths');
  }
  if (o.server !== undefined && (typeof o.server !== 'object' || o.server === null || typeof (o.server as { on?: unknown }).on !== 'function')) {
    throw new ConfigError('Option server must be a node:http or node:https Server', 'server');
  }
  for (const key of ['authenticate'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new ConfigError(`Option ${key} must be a function; got ${typeof o[key]}`, key);
  }
  for (const key of ['httpRoutes', 'dashboard', 'redisBridge', 'demo', 'partAOnly'] as const) {
    if (typeof o[key] !== 'boolean') throw new ConfigError(`Option ${key} must be a boolean; got ${JSON.stringify(o[key])}`, key);
  }
  return { ...o, rateLimitBurst: burst, wsPaths: [...new Set(paths)] };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------

type Env = Record<string, string | undefined>;

/**
 * Every environment variable the server and its CLI read. A `WS_*` variable not listed here is a
 * mistake (`unknownEnvVars`): the CLI refuses to start rather than ignore, say, `WS_API_KEY`.
 */
export const KNOWN_ENV_VARS: string[] = [
  'PORT',
  'HOST',
  'REDIS_URL',
  'CORS_ORIGINS',
  'WS_REDIS_PREFIX',
  'WS_MAX_CONNECTIONS',
  'WS_HEARTBEAT_INTERVAL',
  'WS_CONNECTION_TIMEOUT',
  'WS_API_KEYS',
  'WS_PUBLISH_TOKEN',
  'WS_DEMO',
  'WS_HISTORY_SIZE',
  'WS_HISTORY_TTL',
  'WS_MAX_MESSAGE_SIZE',
  'WS_RATE_LIMIT',
  'WS_MAX_SUBSCRIPTIONS',
  'WS_MAX_BUFFERED_BYTES',
  'WS_PATHS',
  'WS_LOG_FORMAT',
  'WS_LOG_LEVEL',
  'WS_REDIS_BRIDGE',
  'WS_WORKERS',
  'WS_DASHBOARD',
];

/** The `WS_*` variables of `env` that the server does not know, each with the closest known name (a likely typo). */
export function unknownEnvVars(env: Env = process.env): { name: string; suggestion: string | undefined }[] {
  const out: { name: string; suggestion: string | undefined }[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith('WS_') && !KNOWN_ENV_VARS.includes(name)) out.push({ name, suggestion: closestName(name, KNOWN_ENV_VARS) });
  }
  return out;
}

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
    redisBridge: envBool(env, 'WS_REDIS_BRIDGE'),
    dashboard: envBool(env, 'WS_DASHBOARD'),
    historySize: envNumber(env, 'WS_HISTORY_SIZE', { integer: true, min: 0 }),
    historyTtl: envSeconds(env, 'WS_HISTORY_TTL'),
    maxMessageSize: envNumber(env, 'WS_MAX_MESSAGE_SIZE', { integer: true, min: 64 }),
    maxSubscriptions: envNumber(env, 'WS_MAX_SUBSCRIPTIONS', { integer: true, min: 1 }),
    maxBufferedBytes: envNumber(env, 'WS_MAX_BUFFERED_BYTES', { integer: true, min: 1024 }),
    redisKeyPrefix: env.WS_REDIS_PREFIX?.trim() || undefined,
    wsPaths: envList(env, 'WS_PATHS'),
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
