/**
 * zod schemas of every frame in PROTOCOL.md: the single source of the protocol's types.
 * Objects are loose: unknown extra fields are accepted and kept (forward compatibility).
 */
import * as z from 'zod/mini';

const str = z.string();
const num = z.number();
const optStr = z.optional(z.nullable(z.string()));
const optNum = z.optional(z.nullable(z.number()));
const strList = z.array(z.string());

/** Position in an event log: `epoch` names the log, `seq` the last event received. */
export const StreamPositionSchema = z.looseObject({
  epoch: str,
  seq: z.int().check(z.minimum(0)),
});
export type StreamPosition = z.infer<typeof StreamPositionSchema>;

// ---------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------

const requestId = z.optional(z.string().check(z.maxLength(128)));

export const SubscriptionDataSchema = z.looseObject({
  topics: z.optional(z.array(z.unknown())),
  symbols: z.optional(z.array(z.unknown())),
  /** Part B 4: resume from this position. */
  since: z.optional(StreamPositionSchema),
});

export const SubscribeMessageSchema = z.looseObject({
  type: z.literal('subscribe'),
  data: SubscriptionDataSchema,
  request_id: requestId,
});
export const UnsubscribeMessageSchema = z.looseObject({
  type: z.literal('unsubscribe'),
  data: SubscriptionDataSchema,
  request_id: requestId,
});
const noDataMessage = <T extends string>(type: T) =>
  z.looseObject({ type: z.literal(type), data: z.optional(z.unknown()), request_id: requestId });
export const PingMessageSchema = noDataMessage('ping');
export const PongMessageSchema = noDataMessage('pong');
export const GetStatusMessageSchema = noDataMessage('get_status');
export const GetSubscriptionsMessageSchema = noDataMessage('get_subscriptions');
export const CommandMessageSchema = z.looseObject({
  type: z.literal('command'),
  data: z.looseObject({ command: z.string().check(z.minLength(1), z.maxLength(128)) }),
  request_id: requestId,
});

/** Any message a client may send. */
export const ClientMessageSchema = z.discriminatedUnion('type', [
  SubscribeMessageSchema,
  UnsubscribeMessageSchema,
  PingMessageSchema,
  PongMessageSchema,
  GetStatusMessageSchema,
  GetSubscriptionsMessageSchema,
  CommandMessageSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type SubscribeMessage = z.infer<typeof SubscribeMessageSchema>;
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

// ---------------------------------------------------------------------------
// Server → client: event data
// ---------------------------------------------------------------------------

export const ConnectedDataSchema = z.looseObject({
  message: z.optional(str),
  server_version: z.optional(str),
  connection_id: str,
  available_topics: z.optional(strList),
  instructions: z.optional(str),
  /** Part B 1. Absent from a Part A server. */
  protocol: z.optional(z.int()),
  features: z.optional(strList),
  /** Part B 4: names the event log. */
  epoch: z.optional(str),
});

export const SubscriptionResultSchema = z.looseObject({
  topics: strList,
  symbols: strList,
  message: z.optional(str),
  /** Part B 4: answer to `since`. */
  recovered: z.optional(z.boolean()),
  epoch: z.optional(str),
  /**
   * Part B 4, with `since`: the position (in `epoch`) from which this connection now receives
   * every matching event. Equal to `since.seq` when recovered; where live delivery stood when not.
   */
  seq: z.optional(z.int().check(z.minimum(0))),
});

export const PongDataSchema = z.looseObject({ message: z.optional(str) });

export const ErrorDataSchema = z.looseObject({
  error: str,
  code: str,
  details: z.optional(z.unknown()),
});

/** `system_status`: the system's status, or the reply to `get_subscriptions`. */
export const SystemStatusDataSchema = z.looseObject({
  initialized: z.optional(z.boolean()),
  running: z.optional(z.boolean()),
  paused: z.optional(z.boolean()),
  mode: optStr,
  risk_profile: optStr,
  uptime: optNum,
  subscriptions: z.optional(strList),
  count: optNum,
});

export const StatusChangeDataSchema = z.looseObject({});

export const ProposalCreatedDataSchema = z.looseObject({
  proposal_id: str,
  symbol: str,
  action: str,
  size: num,
  reason: optStr,
});

export const ProposalApprovedDataSchema = z.looseObject({
  proposal_id: str,
  approved_by: optStr,
  approved_at: optStr,
});

export const TradeExecutedDataSchema = z.looseObject({
  proposal_id: str,
  symbol: str,
  action: str,
  size: num,
  filled_price: num,
  order_id: str,
  status: str,
});

export const AnalysisUpdateDataSchema = z.looseObject({
  symbol: str,
  decision: str,
  confidence: num,
  bull_score: num,
  bear_score: num,
  reasoning: optStr,
});

export const MarketEntrySchema = z.looseObject({
  symbol: str,
  price: num,
  volume_24h: num,
  change_24h: num,
});
export const MarketUpdateDataSchema = z.array(MarketEntrySchema);

export const PositionSchema = z.looseObject({ symbol: str });
export const PortfolioUpdateDataSchema = z.looseObject({
  total_value: num,
  available_cash: num,
  positions: z.array(PositionSchema),
  total_pnl: num,
  total_pnl_percent: num,
});

export const HealthUpdateDataSchema = z.looseObject({
  cpu_percent: num,
  memory_percent: num,
  disk_percent: num,
  process_count: num,
});

export const AlertDataSchema = z.looseObject({
  message: optStr,
  level: optStr,
  symbol: optStr,
});

/** The `data` schema of each server event type. `ping` carries no data. */
export const EVENT_DATA_SCHEMAS = {
  connected: ConnectedDataSchema,
  subscribed: SubscriptionResultSchema,
  unsubscribed: SubscriptionResultSchema,
  ping: z.optional(z.unknown()),
  pong: z.optional(PongDataSchema),
  error: ErrorDataSchema,
  proposal_created: ProposalCreatedDataSchema,
  proposal_approved: ProposalApprovedDataSchema,
  trade_executed: TradeExecutedDataSchema,
  analysis_update: AnalysisUpdateDataSchema,
  system_status: SystemStatusDataSchema,
  status_change: StatusChangeDataSchema,
  market_update: MarketUpdateDataSchema,
  portfolio_update: PortfolioUpdateDataSchema,
  health_update: HealthUpdateDataSchema,
  alert: AlertDataSchema,
  warning: AlertDataSchema,
} as const;

type DataSchemas = typeof EVENT_DATA_SCHEMAS;
/** The `data` type of each server event type. */
export type EventDataMap = { [K in keyof DataSchemas]: z.infer<DataSchemas[K]> };
export type ServerEventType = keyof EventDataMap;

/** Envelope fields common to every server event. */
export const EnvelopeSchema = z.looseObject({
  type: str,
  data: z.optional(z.unknown()),
  /** ISO-8601; SIGMAX 2.0 omits the time zone. */
  timestamp: z.optional(str),
  connection_id: optStr,
  /** Part B 2: echo of the request's `request_id`. */
  request_id: optStr,
  /** Part B 4: topic and position of a published event. */
  topic: optStr,
  seq: z.optional(z.int().check(z.minimum(0))),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/**
 * The typed envelope fields. (`Omit<Envelope, …>` would lose them: `Envelope` has a string index signature,
 * so its `keyof` is `string` and `Omit` keeps only the index signature.)
 */
export interface EnvelopeFields {
  timestamp?: string | undefined;
  connection_id?: string | null | undefined;
  request_id?: string | null | undefined;
  topic?: string | null | undefined;
  seq?: number | undefined;
}

/** A server event of type `T`, fully typed. */
export type ServerEvent<T extends ServerEventType = ServerEventType> = {
  [K in T]: EnvelopeFields & { type: K; data: EventDataMap[K] };
}[T];

/** Every server event type whose `data` is validated. */
export const SERVER_EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as ServerEventType[];
