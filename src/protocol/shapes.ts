/**
 * The shapes of every server event of PROTOCOL.md, declared once. From them come
 * the TypeScript types, the zod schemas (`schemas.ts`) and the compact validator
 * that the client runs on every inbound frame (`checkShape`), which keeps zod out
 * of browser bundles that only need the client.
 *
 * A shape is a kind (`'s'` string, `'n'` number, `'i'` non-negative integer, `'b'`
 * boolean, `'u'` anything), a one-element array `[shape]` (a list), or an object
 * of shapes. Object keys ending in `?` are optional and may be `null`. Objects are
 * loose: unknown extra fields are accepted and kept (forward compatibility).
 */

export type Kind = 's' | 'n' | 'i' | 'b' | 'u';
export type Shape = Kind | readonly [Shape] | { readonly [key: string]: Shape };

/**
 * A string field whose known values are `T`: typed as that literal union (so a typo in a comparison is a type
 * error), validated as a string at run time (so a value a newer server adds still arrives).
 */
export type Lit<T extends string> = 's' & { readonly __values: T };
const lit = <T extends string>(): Lit<T> => 's' as Lit<T>;

/** `trade_executed.action`, `proposal_created.action`. */
export type TradeAction = 'buy' | 'sell';
/** `analysis_update.decision`. */
export type AnalysisDecision = 'buy' | 'sell' | 'hold';
/** `trade_executed.status`. */
export type TradeStatus = 'filled' | 'partially_filled' | 'cancelled' | 'rejected';

type OptionalKey<K> = K extends `${infer B}?` ? B : never;
type RequiredKey<K> = K extends `${string}?` ? never : K;

/** Resolves an intersection into one object type (readable hovers and errors). */
type Flat<T> = { [K in keyof T]: T[K] } & {};

/**
 * The TypeScript type a shape describes. Object types list their known fields and nothing else: reading an
 * undeclared field is a type error (the run-time validator still keeps unknown extra fields).
 */
export type Infer<S> = S extends { readonly __values: infer U }
  ? U
  : S extends 's'
  ? string
  : S extends 'n' | 'i'
    ? number
    : S extends 'b'
      ? boolean
      : S extends 'u'
        ? unknown
        : S extends readonly [infer E]
          ? Infer<E>[]
          : S extends { readonly [key: string]: Shape }
            ? Flat<{ [K in keyof S as RequiredKey<K>]: Infer<S[K]> } & { [K in keyof S as OptionalKey<K>]?: Infer<S[K]> | null }>
            : never;

/**
 * What a publisher may send for a shape: the known fields (literal-union fields as plain strings) plus any extra
 * field (the protocol accepts extras). Looser than {@link Infer}, which is what a reader gets.
 */
export type InferInput<S> = S extends { readonly __values: string }
  ? string
  : S extends readonly [infer E]
    ? InferInput<E>[]
    : S extends Kind
      ? Infer<S>
      : S extends { readonly [key: string]: Shape }
        ? { [K in keyof S as RequiredKey<K>]: InferInput<S[K]> } & { [K in keyof S as OptionalKey<K>]?: InferInput<S[K]> | null } & { [key: string]: unknown }
        : never;

const KIND_NAMES: Record<Kind, string> = { s: 'string', n: 'number', i: 'non-negative integer', b: 'boolean', u: 'any' };

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Field = [name: string, optional: boolean, shape: Shape];
const fieldCache = new WeakMap<object, Field[]>();

/** An object shape's fields, parsed once. */
function fieldsOf(shape: { readonly [key: string]: Shape }): Field[] {
  let fields = fieldCache.get(shape);
  if (!fields) {
    fields = Object.keys(shape).map((k): Field => (k.endsWith('?') ? [k.slice(0, -1), true, shape[k]!] : [k, false, shape[k]!]));
    fieldCache.set(shape, fields);
  }
  return fields;
}

type Check = (v: unknown) => boolean;
const KIND_CHECKS: Record<Kind, Check> = {
  s: (v) => typeof v === 'string',
  n: (v) => typeof v === 'number',
  i: (v) => Number.isInteger(v) && (v as number) >= 0,
  b: (v) => typeof v === 'boolean',
  u: () => true,
};
const checkCache = new WeakMap<object, Check>();

/** The check of a shape, built once per shape (the hot path: no allocation, no lookup below the top level). */
function compile(shape: Shape): Check {
  if (typeof shape === 'string') return KIND_CHECKS[shape as Kind];
  let check = checkCache.get(shape);
  if (check) return check;
  if (Array.isArray(shape)) {
    const item = compile(shape[0] as Shape);
    check = (v) => Array.isArray(v) && v.every(item);
  } else {
    const fields = fieldsOf(shape as { readonly [key: string]: Shape }).map(([name, optional, sub]) => ({ name, optional, check: compile(sub) }));
    check = (v) => {
      if (!isObject(v)) return false;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i]!;
        const x = v[f.name];
        if (f.optional ? x != null && !f.check(x) : !f.check(x)) return false;
      }
      return true;
    };
  }
  checkCache.set(shape, check);
  return check;
}

/** Whether `value` conforms to `shape`. */
function conforms(shape: Shape, value: unknown): boolean {
  return compile(shape)(value);
}

/**
 * Checks `value` against `shape`; returns `undefined` when it conforms, otherwise
 * the first problem, e.g. `data.size: expected number`.
 */
export function checkShape(shape: Shape, value: unknown, path: string): string | undefined {
  return conforms(shape, value) ? undefined : explain(shape, value, path);
}

/** The first problem of a value that does not conform, with its path. */
function explain(shape: Shape, value: unknown, path: string): string | undefined {
  if (typeof shape === 'string') {
    return KIND_CHECKS[shape as Kind](value) ? undefined : `${path}: expected ${KIND_NAMES[shape as Kind]}`;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return `${path}: expected array`;
    for (let i = 0; i < value.length; i++) {
      const problem = explain(shape[0] as Shape, value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isObject(value)) return `${path}: expected object`;
  for (const key in shape) {
    const sub = (shape as Record<string, Shape>)[key] as Shape;
    if (key.endsWith('?')) {
      const name = key.slice(0, -1);
      const v = value[name];
      if (v == null) continue;
      const problem = explain(sub, v, `${path}.${name}`);
      if (problem) return problem;
    } else {
      const problem = explain(sub, value[key], `${path}.${key}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The shapes
// ---------------------------------------------------------------------------

/** Position in an event log: `epoch` names the log, `seq` the last event received. */
export const STREAM_POSITION = { epoch: 's', seq: 'i' } as const;

/** `data` of each server event type. `ping` carries none. */
export const EVENT_DATA_SHAPES = {
  connected: {
    connection_id: 's',
    'message?': 's',
    'server_version?': 's',
    'available_topics?': ['s'],
    'instructions?': 's',
    /** Part B 1; absent from a Part A server. */
    'protocol?': 'i',
    'features?': ['s'],
    /** Part B 4: names the event log. */
    'epoch?': 's',
  },
  subscribed: {
    topics: ['s'],
    symbols: ['s'],
    'message?': 's',
    /** Part B 4: answer to `since`. */
    'recovered?': 'b',
    'epoch?': 's',
    /** Part B 4: the position from which this connection receives every matching event. */
    'seq?': 'i',
  },
  unsubscribed: { topics: ['s'], symbols: ['s'], 'message?': 's' },
  ping: 'u',
  pong: 'u',
  error: { error: 's', code: 's', 'details?': 'u' },
  proposal_created: { proposal_id: 's', symbol: 's', action: lit<TradeAction>(), size: 'n', 'reason?': 's' },
  proposal_approved: { proposal_id: 's', 'approved_by?': 's', 'approved_at?': 's' },
  trade_executed: {
    proposal_id: 's',
    symbol: 's',
    action: lit<TradeAction>(),
    size: 'n',
    filled_price: 'n',
    order_id: 's',
    status: lit<TradeStatus>(),
  },
  analysis_update: {
    symbol: 's',
    decision: lit<AnalysisDecision>(),
    confidence: 'n',
    bull_score: 'n',
    bear_score: 'n',
    'reasoning?': 's',
  },
  /** The system's status, or the reply to `get_subscriptions` (`subscriptions`, `count`). */
  system_status: {
    'initialized?': 'b',
    'running?': 'b',
    'paused?': 'b',
    'mode?': 's',
    'risk_profile?': 's',
    'uptime?': 'n',
    /** SIGMAX 2.0: agent name → its status object. */
    'agents?': {},
    /** SIGMAX 2.0: the trading engine's state. */
    'trading?': {},
    'subscriptions?': ['s'],
    'count?': 'n',
    /** SIGMAX 2.0 also sends a `timestamp`. */
    'timestamp?': 's',
  },
  status_change: {},
  market_update: [{ symbol: 's', price: 'n', volume_24h: 'n', change_24h: 'n' }],
  portfolio_update: {
    total_value: 'n',
    available_cash: 'n',
    positions: [{ symbol: 's', 'size?': 'n', 'value?': 'n' }],
    total_pnl: 'n',
    total_pnl_percent: 'n',
  },
  health_update: { cpu_percent: 'n', memory_percent: 'n', disk_percent: 'n', process_count: 'n' },
  alert: { 'message?': 's', 'level?': 's', 'symbol?': 's' },
  warning: { 'message?': 's', 'level?': 's', 'symbol?': 's' },
} as const;

/** Envelope fields common to every server event. */
export const ENVELOPE = {
  type: 's',
  'data?': 'u',
  /** ISO-8601; SIGMAX 2.0 omits the time zone. */
  'timestamp?': 's',
  'connection_id?': 's',
  /** Part B 2: echo of the request's `request_id`. */
  'request_id?': 's',
  /** Part B 4: topic and position of a published event. */
  'topic?': 's',
  'seq?': 'i',
} as const;

type DataShapes = typeof EVENT_DATA_SHAPES;
/** The `data` type of each server event type. */
export type EventDataMap = { [K in keyof DataShapes]: Infer<DataShapes[K]> };
export type ServerEventType = keyof EventDataMap;
/** What a server may publish as the `data` of each event type (extra fields and unlisted string values allowed). */
export type EventInputMap = { [K in keyof DataShapes]: InferInput<DataShapes[K]> };
export type StreamPosition = Infer<typeof STREAM_POSITION>;
/** Any well-formed server event envelope (also of types this version does not know, hence open to any field). */
export type Envelope = Infer<typeof ENVELOPE> & { [key: string]: unknown };

/** The typed envelope fields of a server event. */
export interface EnvelopeFields {
  timestamp?: string | null;
  connection_id?: string | null;
  request_id?: string | null;
  topic?: string | null;
  seq?: number | null;
}

/** A server event of type `T`, fully typed. */
export type ServerEvent<T extends ServerEventType = ServerEventType> = {
  [K in T]: EnvelopeFields & { type: K; data: EventDataMap[K] };
}[T];

/** Every server event type whose `data` is validated. */
export const SERVER_EVENT_TYPES = Object.keys(EVENT_DATA_SHAPES) as ServerEventType[];
