/** The bodies of `GET /api/ws/stats` and `GET /health`. */
import { TOPICS } from '../protocol/index.js';
import type { Counters } from './context.js';
import type { Hub } from './hub.js';
import type { EventLog } from './log/types.js';

/** `GET /api/ws/stats` (PROTOCOL.md fields first, then extras). */
export interface WsStats {
  active_connections: number;
  total_connections_lifetime: number;
  total_disconnections_lifetime: number;
  total_messages_sent: number;
  subscriptions_count: number;
  /** Topics with at least one subscriber. */
  topics: string[];
  /** Whether the Redis event log is in use and connected. */
  redis_enabled: boolean;
  max_connections: number;
  /** Symbols with at least one subscriber. */
  symbols: string[];
  /**
   * Upgrades refused (origin, authentication, connection limit). Each is also counted in
   * `total_connections_lifetime` and, once its socket closed, in `total_disconnections_lifetime`.
   */
  rejected_connections_lifetime: number;
  /** Connections closed because their unsent backlog passed `maxBufferedBytes`. */
  slow_consumers_lifetime: number;
  /** Epoch of the event log (`null` before `listen()`). */
  epoch: string | null;
  /** Seq of the last event in the log. */
  last_seq: number;
  /** Seconds since the server started listening. */
  uptime: number;
}

export interface StatsInput {
  activeConnections: number;
  maxConnections: number;
  counters: Counters;
  hub: Hub;
  log: ReturnType<EventLog['status']> | undefined;
  startedAt: number;
}

export function buildStats({ activeConnections, maxConnections, counters: c, hub, log, startedAt }: StatsInput): WsStats {
  return {
    active_connections: activeConnections,
    total_connections_lifetime: c.connections,
    total_disconnections_lifetime: c.disconnections,
    total_messages_sent: c.messagesSent,
    subscriptions_count: hub.subscriptionCount,
    topics: hub.topicsInUse(),
    redis_enabled: log?.backend === 'redis' && log.connected,
    max_connections: maxConnections,
    symbols: hub.symbolsInUse(),
    rejected_connections_lifetime: c.rejected,
    slow_consumers_lifetime: c.slowConsumers,
    epoch: log?.epoch ?? null,
    last_seq: log?.lastSeq ?? 0,
    uptime: Math.round((Date.now() - startedAt) / 1000),
  };
}

/** `GET /health`: 200 while listening (`status` 'ok', or 'degraded' when the log is disconnected), else 503. */
export function buildHealth(input: StatsInput & { state: string; redisConfigured: boolean }): { ok: boolean; body: object } {
  const { log, state } = input;
  const listening = state === 'listening';
  const degraded = log !== undefined && !log.connected;
  return {
    ok: listening,
    body: {
      status: !listening ? state : degraded ? 'degraded' : 'ok',
      uptime: Math.round((Date.now() - input.startedAt) / 1000),
      connections: input.activeConnections,
      max_connections: input.maxConnections,
      topics: TOPICS,
      log: log ? { backend: log.backend, connected: log.connected, epoch: log.epoch, last_seq: log.lastSeq } : null,
      redis: { enabled: input.redisConfigured, connected: log?.backend === 'redis' && log.connected },
    },
  };
}
