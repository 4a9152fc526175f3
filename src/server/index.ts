/**
 * `sigmax-ws/server`: the SIGMAX WebSocket reference server (Node only).
 * @packageDocumentation
 */
export { SigmaxServer, type PublishOptions } from './server.js';
export type { WsStats } from './stats.js';
export { loadConfigFromEnv, DEFAULTS, type SigmaxServerOptions, type Logger } from './config.js';
export { SigmaxServerError, ConfigError, InvalidEventError, ServerClosedError, EventLogUnavailableError } from './errors.js';
export { MemoryEventLog, type MemoryEventLogOptions } from './log/memory.js';
export type { EventLog, NewEvent, SequencedEvent, HistoryRead, AppendResult } from './log/types.js';
