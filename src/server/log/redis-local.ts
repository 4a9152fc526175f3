/**
 * The local fallback of the Redis event log: while Redis cannot be reached, events
 * published on this instance are sequenced here, under an epoch of their own
 * (`local-…`), so that no client mistakes them for positions in the shared log.
 */
import { randomUUID } from 'node:crypto';
import type { HistoryRead, SequencedEvent } from './types.js';

export class LocalFallbackLog {
  /** Names this fallback log; never equal to a Redis epoch. */
  readonly epoch = `local-${randomUUID()}`;
  #seq: number;
  readonly #events: { event: SequencedEvent; at: number }[] = [];

  /** Seqs start at `base + 1`. */
  constructor(
    readonly historySize: number,
    readonly historyTtl: number,
    base = 0,
  ) {
    this.#seq = base;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  /** Gives `event` the next seq and retains it (bounded by size; the fallback is meant to be short-lived). */
  append(event: Omit<SequencedEvent, 'seq'>): SequencedEvent {
    const sequenced: SequencedEvent = { ...event, seq: ++this.#seq };
    if (this.historySize > 0) {
      this.#events.push({ event: sequenced, at: Date.now() });
      if (this.#events.length > this.historySize) this.#events.shift();
    }
    return sequenced;
  }

  /** Same contract as `EventLog.readAfter`, over the events retained here. */
  readAfter(epoch: string, after: number, limit: number): HistoryRead {
    if (epoch !== this.epoch || after > this.#seq) return { ok: false, reason: 'epoch_mismatch' };
    if (after === this.#seq) return { ok: true, events: [] };
    const cutoff = Date.now() - this.historyTtl;
    const first = after + 1 - (this.#events[0]?.event.seq ?? Infinity);
    const entry = this.#events[first];
    if (first < 0 || !entry || entry.at < cutoff) return { ok: false, reason: 'history_expired' };
    return { ok: true, events: this.#events.slice(first, first + limit).map((e) => e.event) };
  }
}
