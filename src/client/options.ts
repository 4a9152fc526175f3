/** Options of {@link SigmaxWebSocketClient}, their defaults and their validation. */
import type { BatchOption } from './batch.js';
import type { ClientEvents } from './events.js';

/** The part of the WebSocket API the client uses (browser `WebSocket`, `ws`, mock-socket). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: destroy the socket without a closing handshake. */
  terminate?: () => void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Where the client logs when given one; it is silent otherwise. */
export interface Logger {
  debug?(message: string, ...args: unknown[]): void;
  info?(message: string, ...args: unknown[]): void;
  warn?(message: string, ...args: unknown[]): void;
  error?(message: string, ...args: unknown[]): void;
}

/** What `listen()` does when its buffer is full. */
export type OverflowPolicy = 'error' | 'drop-oldest';

/** Options of `new SigmaxWebSocketClient(options)`. Durations are in milliseconds. */
export interface ClientOptions {
  /** Server URL, e.g. `ws://localhost:8000/api/ws`; can also be given to `connect()`. */
  url?: string | undefined;
  /** API key, sent as the `api_key` query parameter. */
  apiKey?: string | undefined;
  /** Reconnect by itself (with backoff) after losing a connection; with `retryFirstConnect`, also retry the first `connect()`. @default true */
  autoReconnect?: boolean | undefined;
  /** With `autoReconnect`, `connect()` retries transient failures (unreachable, 1006, 1011–1013, `CONNECT_TIMEOUT`) with the backoff and resolves on the first open; `false`: the first failure rejects. @default true */
  retryFirstConnect?: boolean | undefined;
  /** Aborting it ends the client, like `disconnect()`; a pending `connect()` rejects with `ClosedError` `ABORTED`. */
  signal?: AbortSignal | undefined;
  /** Smallest wait before a reconnect attempt, and the base of the exponential backoff. @default 1000 */
  minReconnectDelay?: number | undefined;
  /** Largest wait before a reconnect attempt. @default 60000 */
  maxReconnectDelay?: number | undefined;
  /** Retries after a loss (or after a failed first attempt of `connect()`) before giving up with `RECONNECT_FAILED`. @default Infinity */
  maxReconnectAttempts?: number | undefined;
  /** A connection must stay open this long before the backoff attempt count resets (a flapping server keeps backing off). @default 5000 */
  healthyAfter?: number | undefined;
  /** Send a `ping` this often; 0 turns the heartbeat off. @default 30000 */
  pingInterval?: number | undefined;
  /** Declare the connection dead (close 4000, reconnect) when nothing arrives this long after a ping; must be > 0. @default 10000 */
  pingTimeout?: number | undefined;
  /** Give up opening a connection (socket open + `connected` event) after this long; must be > 0. @default 10000 */
  connectTimeout?: number | undefined;
  /** Reject a command, ping or subscription request that has no reply after this long; must be > 0. @default 10000 */
  commandTimeout?: number | undefined;
  /** Resume from the last received event on reconnect when the server supports it (PROTOCOL.md Part B 4). @default true */
  resume?: boolean | undefined;
  /**
   * Ask for batched frames (PROTOCOL.md Part B 7: several events per frame; handlers and `listen()` still see single
   * events, in order): `batch=1` is added to the URL (a server without the feature ignores it); `{ maxDelayMs }`
   * also lets the server wait up to that long (it caps it) for fuller frames; `false` asks for one event per frame.
   * @default true
   */
  batch?: BatchOption | undefined;
  /** Default buffer bound of each `listen()` iterator, in events. @default 1000 */
  listenBufferSize?: number | undefined;
  /** Default overflow policy of `listen()`: `error` fails the iterator with `ListenOverflowError`; `drop-oldest` drops the oldest buffered event and counts it in `stats().eventsDropped`. @default 'error' */
  listenOverflow?: OverflowPolicy | undefined;
  /** WebSocket implementation. @default the global `WebSocket` in browsers, `ws` in Node (via isomorphic-ws) */
  WebSocket?: WebSocketConstructor | undefined;
  /** Logger; the client writes nothing when absent. */
  logger?: Logger | undefined;
  /** Listeners registered before the first connect, so none misses an early event. */
  listeners?: { [K in keyof ClientEvents]?: ClientEvents[K] } | undefined;
  /** Randomness for the backoff jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}

/** Argument of `connect()`; each field defaults to the client's option. */
export interface ConnectOptions {
  url?: string | undefined;
  apiKey?: string | undefined;
  /** Aborting it while `connect()` is pending rejects it with `ClosedError` `ABORTED` and ends the client. */
  signal?: AbortSignal | undefined;
}

/** Defaults of the numeric and boolean options. */
export const CLIENT_DEFAULTS = {
  autoReconnect: true,
  retryFirstConnect: true,
  minReconnectDelay: 1000,
  maxReconnectDelay: 60_000,
  maxReconnectAttempts: Infinity,
  healthyAfter: 5000,
  pingInterval: 30_000,
  pingTimeout: 10_000,
  connectTimeout: 10_000,
  commandTimeout: 10_000,
  resume: true,
  batch: true as BatchOption,
  listenBufferSize: 1000,
  listenOverflow: 'error' as OverflowPolicy,
};

export type ResolvedOptions = typeof CLIENT_DEFAULTS & Omit<ClientOptions, keyof typeof CLIENT_DEFAULTS>;

function describe(v: unknown): string {
  return `${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${v === null ? 'null' : typeof v})`;
}

function fail(name: string, expected: string, v: unknown): never {
  throw new TypeError(`Expected option \`${name}\` to be ${expected}, got ${describe(v)}`);
}

const KNOWN = new Set([...Object.keys(CLIENT_DEFAULTS), 'url', 'apiKey', 'WebSocket', 'logger', 'listeners', 'random', 'signal']);

/** Merges defaults and validates; throws a `TypeError` that quotes the bad value, or names an unknown option. */
export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options);
  for (const k of Object.keys(options)) if (!KNOWN.has(k)) throw new TypeError(`Unknown option \`${k}\` (known: ${[...KNOWN].join(', ')})`);
  const o = { ...CLIENT_DEFAULTS } as ResolvedOptions;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  for (const k of ['minReconnectDelay', 'maxReconnectDelay', 'maxReconnectAttempts', 'healthyAfter', 'pingInterval', 'pingTimeout', 'connectTimeout', 'commandTimeout', 'listenBufferSize'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (v === Infinity && k !== 'maxReconnectAttempts')) {
      fail(k, 'a non-negative finite number', v);
    }
  }
  // 0 would not mean "no timeout": every connect or request would time out at once.
  for (const k of ['pingTimeout', 'connectTimeout', 'commandTimeout'] as const) if (!o[k]) fail(k, 'a positive number', o[k]);
  if (o.maxReconnectDelay < o.minReconnectDelay) fail('maxReconnectDelay', `>= minReconnectDelay (${o.minReconnectDelay})`, o.maxReconnectDelay);
  if (o.listenBufferSize < 1) fail('listenBufferSize', 'at least 1', o.listenBufferSize);
  if (o.signal !== undefined && typeof o.signal?.addEventListener !== 'function') fail('signal', 'an AbortSignal', o.signal);
  for (const k of ['autoReconnect', 'retryFirstConnect', 'resume'] as const) if (typeof o[k] !== 'boolean') fail(k, 'a boolean', o[k]);
  const b = o.batch;
  if (typeof b !== 'boolean') {
    if (typeof b !== 'object' || b === null) fail('batch', 'a boolean or { maxDelayMs }', b);
    const ms = b.maxDelayMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) fail('batch.maxDelayMs', 'a non-negative finite number', ms);
  }
  if (o.listenOverflow !== 'error' && o.listenOverflow !== 'drop-oldest') fail('listenOverflow', "'error' or 'drop-oldest'", o.listenOverflow);
  for (const k of ['url', 'apiKey'] as const) if (o[k] !== undefined && typeof o[k] !== 'string') fail(k, 'a string', o[k]);
  for (const k of ['WebSocket', 'random'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') fail(k, 'a function', o[k]);
  return o;
}
