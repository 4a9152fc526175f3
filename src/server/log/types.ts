import type { PublishedEventType } from '../../protocol/index.js';

/** An event as it is published, before the log gives it a position. */
export interface NewEvent {
  type: PublishedEventType;
  data: unknown;
  /** ISO-8601 time of publication. */
  timestamp: string;
}

/** An event once the log has given it a topic and a position (`seq`, grows by one per event). */
export interface SequencedEvent extends NewEvent {
  topic: string;
  seq: number;
}

/** Answer of {@link EventLog.readAfter}. */
export type HistoryRead =
  /** `events`: retained events with `seq > after`, in order, at most `limit`. */
  | { ok: true; events: SequencedEvent[] }
  /** The position is not covered: another epoch, or older than what is retained. */
  | { ok: false; reason: 'epoch_mismatch' | 'history_expired' | 'unavailable' };

/**
 * The server's event log: it orders published events, keeps a bounded history,
 * and hands every committed event (from this instance or any other sharing the
 * log) to `onEvent`, exactly once and in `seq` order.
 *
 * Implementations: in memory (single instance) and Redis (shared by instances).
 */
export interface EventLog {
  /** Names the log; changes when the log is new (restart of an in-memory server, Redis flushed). */
  readonly epoch: string;
  /** Connects/starts; `onEvent` receives committed events from then on. */
  start(onEvent: (event: SequencedEvent) => void): Promise<void>;
  /** Orders and retains the event; it is then handed to `onEvent` (on every instance). */
  append(event: NewEvent): Promise<void>;
  /** Retained events after `after` in `epoch`, oldest first, at most `limit`. */
  readAfter(epoch: string, after: number, limit: number): Promise<HistoryRead>;
  /** For `/health` and stats. */
  status(): { backend: 'memory' | 'redis'; connected: boolean; epoch: string; lastSeq: number };
  close(): Promise<void>;
}
