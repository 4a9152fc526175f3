/** The in-memory event log of a single server instance: a bounded ring buffer. */
import { randomBytes } from 'node:crypto';
import { EVENT_TOPIC } from '../../protocol/index.js';
import { serialise } from '../publish.js';
import { sequencedEvent } from './event.js';
import type { AppendResult, EventLog, HistoryRead, NewEvent, SequencedEvent } from './types.js';

/** Options of {@link MemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** Events retained for resume; `0` keeps none. @default 1000 */
  historySize?: number;
  /** How long (ms) an event is retained. @default 300000 */
  historyTtl?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

interface Retained {
  event: SequencedEvent;
  at: number;
  id: string | undefined;
}

/**
 * Orders events with a counter, retains the last `historySize` events younger
 * than `historyTtl`, and hands each appended event to `onEvent` synchronously.
 * Its epoch is a random id, so a restarted server starts a new epoch.
 */
export class MemoryEventLog implements EventLog {
  readonly epoch = randomBytes(8).toString('hex');
  readonly #size: number;
  readonly #ttl: number;
  readonly #now: () => number;
  // Ring buffer: #ring[(#head + i) % #size] for i < #count, oldest first.
  readonly #ring: (Retained | undefined)[];
  #head = 0;
  #count = 0;
  #lastSeq = 0;
  #onEvent: ((event: SequencedEvent) => void) | undefined;
  #closed = false;
  /** Ids of the retained events (idempotent appends within the history window). */
  readonly #ids = new Map<string, number>();

  constructor(options: MemoryEventLogOptions = {}) {
    this.#size = options.historySize ?? 1000;
    this.#ttl = options.historyTtl ?? 300_000;
    this.#now = options.now ?? Date.now;
    this.#ring = new Array<Retained | undefined>(this.#size);
  }

  async start(onEvent: (event: SequencedEvent) => void): Promise<void> {
    this.#onEvent = onEvent;
  }

  /**
   * Appends the batch, all or nothing: every event is serialised first (a failure appends none).
   * An id among the retained events (or earlier in the batch) resolves as a duplicate.
   */
  async append(events: readonly NewEvent[]): Promise<AppendResult[]> {
    if (this.#closed) throw new Error('MemoryEventLog is closed');
    const jsons = events.map((e) => e.json ?? serialise(e.type, e.data));
    this.#expire();
    const results: AppendResult[] = [];
    const fresh: SequencedEvent[] = [];
    events.forEach((e, i) => {
      const known = e.id === undefined ? undefined : this.#ids.get(e.id);
      if (known !== undefined) {
        results.push({ seq: known, duplicate: true });
        return;
      }
      const json = jsons[i]!;
      // The log keeps the bytes and its own copy, never the caller's object.
      const sequenced = sequencedEvent(e.type, EVENT_TOPIC[e.type], e.timestamp, ++this.#lastSeq, json);
      if (this.#size > 0) {
        if (this.#count === this.#size) this.#dropOldest();
        this.#ring[(this.#head + this.#count) % this.#size] = { event: sequenced, at: this.#now(), id: e.id };
        this.#count++;
        if (e.id !== undefined) this.#ids.set(e.id, sequenced.seq);
      }
      results.push({ seq: sequenced.seq, duplicate: false });
      fresh.push(sequenced);
    });
    for (const sequenced of fresh) this.#onEvent?.(sequenced);
    return results;
  }

  async readAfter(epoch: string, after: number, limit: number, maxBytes = Infinity): Promise<HistoryRead> {
    if (epoch !== this.epoch) return { ok: false, reason: 'epoch_mismatch' };
    this.#expire();
    // A position beyond the last seq was never handed out by this log.
    if (after > this.#lastSeq) return { ok: false, reason: 'epoch_mismatch' };
    if (after === this.#lastSeq) return { ok: true, events: [] };
    const oldest = this.#count > 0 ? this.#at(0).event.seq : this.#lastSeq + 1;
    if (after < oldest - 1) return { ok: false, reason: 'history_expired' };
    const events: SequencedEvent[] = [];
    let bytes = 0;
    for (let i = Math.max(0, after - oldest + 1); i < this.#count && events.length < limit && bytes < maxBytes; i++) {
      const event = this.#at(i).event;
      events.push(event);
      bytes += event.json?.length ?? 0;
    }
    return { ok: true, events };
  }

  status() {
    return { backend: 'memory' as const, connected: !this.#closed, epoch: this.epoch, lastSeq: this.#lastSeq };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#onEvent = undefined;
  }

  #at(i: number): Retained {
    return this.#ring[(this.#head + i) % this.#size] as Retained;
  }

  #dropOldest(): void {
    const id = this.#ring[this.#head]?.id;
    if (id !== undefined) this.#ids.delete(id);
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#size;
    this.#count--;
  }

  #expire(): void {
    const cutoff = this.#now() - this.#ttl;
    while (this.#count > 0 && this.#at(0).at < cutoff) this.#dropOldest();
  }
}
