/**
 * `sigmax-ws/server`: the SIGMAX WebSocket reference server (Node only).
 * @packageDocumentation
 */
export { SigmaxServer, type PublishOptions, type ConnectionInfo } from './server.js';
export type { WsStats } from './stats.js';
export { loadConfigFromEnv, unknownEnvVars, closestName, KNOWN_ENV_VARS, DEFAULTS, type SigmaxServerOptions, type Logger, type Authenticate } from './config.js';
export { SigmaxServerError, ConfigError, InvalidEventError, ServerClosedError, EventLogUnavailableError } from './errors.js';
export { MemoryEventLog, type MemoryEventLogOptions } from './log/memory.js';
export type { EventLog, NewEvent, SequencedEvent, HistoryRead, AppendResult } from './log/types.js';
