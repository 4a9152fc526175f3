/**
 * `sigmax-ws/server`: the SIGMAX WebSocket reference server (Node only).
 * @packageDocumentation
 */
export { SigmaxServer } from './server.js';
export type { WsStats } from './stats.js';
export { loadConfigFromEnv, DEFAULTS, type SigmaxServerOptions, type Logger } from './config.js';
export { SigmaxServerError, ConfigError, InvalidEventError, ServerClosedError } from './errors.js';
export { MemoryEventLog, type MemoryEventLogOptions } from './log/memory.js';
export type { EventLog, NewEvent, SequencedEvent, HistoryRead } from './log/types.js';
