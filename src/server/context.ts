/** What a session needs from its server: the seam that keeps sessions testable without `ws`. */
import type { EventDataMap } from '../protocol/index.js';
import type { ResolvedOptions } from './config.js';
import type { Hub } from './hub.js';
import type { EventLog } from './log/types.js';
import type { Session } from './session.js';

/** The part of a WebSocket a session uses (the `ws` WebSocket satisfies it). */
export interface SessionSocket {
  readonly readyState: number;
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number;
  send(data: Buffer | string, options: { binary: boolean }, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  /** Sends a protocol-level ping frame (browsers answer it by themselves). */
  ping?(): void;
}

/** `readyState` of an open socket (same value as `WebSocket.OPEN`). */
export const OPEN = 1;

/** Lifetime counters behind `GET /api/ws/stats`. */
export class Counters {
  connections = 0;
  disconnections = 0;
  messagesSent = 0;
  rejected = 0;
  slowConsumers = 0;
}

/** Server services shared by every session (one object per server, not per connection). */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly log: EventLog;
  readonly counters: Counters;
  readonly hub: Hub;
  /** `connected.data.features`. */
  readonly features: readonly string[];
  systemStatus(): EventDataMap['system_status'];
  portfolio(): EventDataMap['portfolio_update'];
  health(): Promise<EventDataMap['health_update']>;
  /** Called once when a session's socket has closed (`code`: the close code, when known). */
  sessionClosed(session: Session, code?: number): void;
  /**
   * Terminates `socket` if its close handshake has not completed shortly
   * (`drain`: shortly after it stops reading its backlog).
   */
  closeSoon(socket: SessionSocket, drain?: boolean): void;
}
