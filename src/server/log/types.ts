import type { PublishedEventType } from '../../protocol/index.js';

/** An event as it is published, before the log gives it a position. */
export interface NewEvent {
  type: PublishedEventType;
  /** The payload. A log never keeps this object: it keeps `json` (and a parsed copy of it). */
  data: unknown;
  /** ISO-8601 time of publication. */
  timestamp: string;
  /**
   * Idempotency id: an event whose id the log already appended (within its history window)
   * is not appended again; its append resolves as a duplicate. A log makes one when absent.
   */
  id?: string | undefined;
  /** `data` serialised once, at publish (see `prepareEvent`); the log serialises it when absent. */
  json?: string | undefined;
}

/** An event once the log has given it a topic and a position (`seq`, grows by one per event). */
export interface SequencedEvent {
  type: PublishedEventType;
  /** A copy of the published data (parsed from `json`), never the publisher's object. */
  data: unknown;
  timestamp: string;
  topic: string;
  seq: number;
  /** `data` as serialised at publish: what fan-out and replay send (when absent, `data` is serialised). */
  json?: string | undefined;
  /** The whole event frame, built once by the hub (a cache: never set by a log). */
  frame?: Buffer | undefined;
}

/** What {@link EventLog.append} says of each event of a batch. */
export interface AppendResult {
  /** The event's seq (for a duplicate: the seq it got when first appended, 0 if not known any more). */
  seq: number;
  /** The id was appended before: this call appended nothing for it. */
  duplicate: boolean;
}

/** Answer of {@link EventLog.readAfter}. */
export type HistoryRead =
  /** `events`: retained events with `seq > after`, in order, at most `limit` (and about `maxBytes`). */
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
  /** Names the log; changes when the log is new (restart of an in-memory server, Redis flushed or diverged). */
  readonly epoch: string;
  /** Connects/starts; `onEvent` receives committed events from then on. */
  start(onEvent: (event: SequencedEvent) => void): Promise<void>;
  /**
   * Orders and retains a batch, all or nothing; each event is then handed to `onEvent` (on every
   * instance). Resolves with one result per event, in order.
   * @throws {EventLogUnavailableError} the log cannot take the batch now (none of it is appended,
   *   or — `outcome: 'unknown'` — it may have been: retry with the same ids).
   */
  append(events: readonly NewEvent[]): Promise<AppendResult[]>;
  /** Retained events after `after` in `epoch`, oldest first, at most `limit` events and (but at least one) about `maxBytes` of data. */
  readAfter(epoch: string, after: number, limit: number, maxBytes?: number): Promise<HistoryRead>;
  /** For `/health` and stats. */
  status(): { backend: 'memory' | 'redis'; connected: boolean; epoch: string; lastSeq: number };
  close(): Promise<void>;
}
