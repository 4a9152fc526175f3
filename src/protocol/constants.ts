/**
 * Wire constants of the SIGMAX WebSocket protocol (`PROTOCOL.md`).
 * Shared by the client and the server; browser-safe.
 */

/** Protocol version announced in `connected.data.protocol` (Part B 1): 4 since the server announces `batch`. */
export const PROTOCOL_VERSION = 4;

/** Path of the WebSocket endpoint. */
export const WS_PATH = '/api/ws';

/** Types of messages a client sends. */
export const WSMessageType = {
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  PING: 'ping',
  PONG: 'pong',
  COMMAND: 'command',
  GET_STATUS: 'get_status',
  GET_SUBSCRIPTIONS: 'get_subscriptions',
} as const;
export type WSMessageType = (typeof WSMessageType)[keyof typeof WSMessageType];

/** Types of events a server sends. */
export const WSEventType = {
  CONNECTED: 'connected',
  SUBSCRIBED: 'subscribed',
  UNSUBSCRIBED: 'unsubscribed',
  PING: 'ping',
  PONG: 'pong',
  ERROR: 'error',
  PROPOSAL_CREATED: 'proposal_created',
  PROPOSAL_APPROVED: 'proposal_approved',
  TRADE_EXECUTED: 'trade_executed',
  ANALYSIS_UPDATE: 'analysis_update',
  SYSTEM_STATUS: 'system_status',
  STATUS_CHANGE: 'status_change',
  MARKET_UPDATE: 'market_update',
  PORTFOLIO_UPDATE: 'portfolio_update',
  HEALTH_UPDATE: 'health_update',
  ALERT: 'alert',
  WARNING: 'warning',
} as const;
export type WSEventType = (typeof WSEventType)[keyof typeof WSEventType];

/** Subscription topics. `all` receives every published event. */
export const SubscriptionTopic = {
  ALL: 'all',
  PROPOSALS: 'proposals',
  EXECUTIONS: 'executions',
  ANALYSIS: 'analysis',
  STATUS: 'status',
  MARKET: 'market',
  PORTFOLIO: 'portfolio',
  HEALTH: 'health',
  ALERTS: 'alerts',
} as const;
export type SubscriptionTopic = (typeof SubscriptionTopic)[keyof typeof SubscriptionTopic];

/** A topic as `subscribe` accepts it: topics are case-insensitive, so `'executions'`, `'Executions'` and `'EXECUTIONS'`. */
export type TopicName = SubscriptionTopic | Capitalize<SubscriptionTopic> | Uppercase<SubscriptionTopic>;

/** Every valid topic, in the order SIGMAX 2.0 announces them. */
export const TOPICS: readonly SubscriptionTopic[] = Object.values(SubscriptionTopic);

/** Event types that are published to subscribers (as opposed to replies and control frames). */
export type PublishedEventType =
  | 'proposal_created'
  | 'proposal_approved'
  | 'trade_executed'
  | 'analysis_update'
  | 'system_status'
  | 'status_change'
  | 'market_update'
  | 'portfolio_update'
  | 'health_update'
  | 'alert'
  | 'warning';

/** The topic each published event type is routed to (PROTOCOL.md, "Events and the topics"). */
export const EVENT_TOPIC: Readonly<Record<PublishedEventType, Exclude<SubscriptionTopic, 'all'>>> = {
  proposal_created: 'proposals',
  proposal_approved: 'proposals',
  trade_executed: 'executions',
  analysis_update: 'analysis',
  system_status: 'status',
  status_change: 'status',
  market_update: 'market',
  portfolio_update: 'portfolio',
  health_update: 'health',
  alert: 'alerts',
  warning: 'alerts',
};

/** Whether `type` is an event type that can be published. */
export function isPublishedEventType(type: string): type is PublishedEventType {
  return Object.prototype.hasOwnProperty.call(EVENT_TOPIC, type);
}

/** Error codes carried in `error.data.code`. Part A codes first, then Part B. */
export const ErrorCode = {
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  INVALID_TOPIC: 'INVALID_TOPIC',
  INVALID_SYMBOL: 'INVALID_SYMBOL',
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  MESSAGE_PROCESSING_ERROR: 'MESSAGE_PROCESSING_ERROR',
  MAX_CONNECTIONS_EXCEEDED: 'MAX_CONNECTIONS_EXCEEDED',
  AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  // Part B additions
  RATE_LIMITED: 'RATE_LIMITED',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  SERVER_SHUTTING_DOWN: 'SERVER_SHUTTING_DOWN',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes used by the protocol (Part B 5). */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  /** Dead connection detected by the heartbeat. */
  HEARTBEAT_TIMEOUT: 4000,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Close codes after which a client must not reconnect by itself: the same
 * attempt would fail the same way (authentication failed, origin refused).
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCode.POLICY_VIOLATION]);

/** Whether a client should reconnect (with backoff) after a close with this code. */
export function isRetryableClose(code: number): boolean {
  return !FATAL_CLOSE_CODES.has(code);
}

/** Part B additions a server may announce in `connected.data.features`. */
export const Feature = {
  REQUEST_ID: 'request_id',
  EXACTLY_ONCE: 'exactly_once',
  RESUME: 'resume',
  CLOSE_CODES: 'close_codes',
  LIMITS: 'limits',
  BATCH: 'batch',
} as const;
export type Feature = (typeof Feature)[keyof typeof Feature];

/**
 * Batched frames (Part B 7): a client opts in with the query parameter `batch=1` (and may add
 * `batch_ms=N`); the server may then send `{"type": "batch", "events": [E1, ...]}`, each `Ei` the
 * event frame that would have been sent alone.
 */
export const BATCH_FRAME_TYPE = 'batch';
/** Query parameters of the WebSocket URL that ask for batched frames. */
export const BatchQuery = { BATCH: 'batch', BATCH_MS: 'batch_ms' } as const;
