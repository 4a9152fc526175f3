/**
 * What reaches the application: published events (deduplicated by `seq`, with the stream position kept for
 * resume), gaps, and the `listen()` iterators that receive both.
 */
import { EVENT_TOPIC, type PublishedEventType, type StreamPosition, type TopicName } from '../protocol/index.js';
import { GapError, type SigmaxError } from './errors.js';
import type { GapInfo, GapMarker, SigmaxEvent } from './events.js';
import { EventQueue } from './listen.js';
import type { OverflowPolicy } from './options.js';

/** Options of `listen()`. */
export interface ListenOptions<T extends PublishedEventType = PublishedEventType> {
  /** Only these event types. @default every published type */
  types?: readonly T[] | undefined;
  /** Only events published on these topics. @default every topic */
  topics?: readonly TopicName[] | undefined;
  /** Ends the iterator when aborted: it completes normally, dropping what it had buffered. */
  signal?: AbortSignal | undefined;
  /** Buffer bound in events. @default the client's `listenBufferSize` (1000) */
  bufferSize?: number | undefined;
  /** What to do when the buffer is full. @default the client's `listenOverflow` ('error') */
  overflow?: OverflowPolicy | undefined;
  /** On a gap: yield a {@link GapMarker} (`yield`, whatever the filters) or end with a `GapError` (`throw`). @default 'yield' */
  gap?: 'yield' | 'throw' | undefined;
}

interface Sink {
  q: EventQueue<SigmaxEvent | GapMarker>;
  types: ReadonlySet<string> | undefined;
  topics: ReadonlySet<string> | undefined;
  throwOnGap: boolean;
}

/** Fan-out to handlers (through `emit`) and iterators; owner of the stream position. */
export class Delivery {
  readonly #sinks = new Set<Sink>();
  readonly #emit: (event: SigmaxEvent) => void;
  readonly #defaults: { bufferSize: number; overflow: OverflowPolicy };
  /** Epoch and `seq` of the last delivered event. */
  pos: StreamPosition | undefined;
  /** A resume from this position was not answered in time (see `restore.ts`). */
  unanswered: StreamPosition | undefined;
  delivered = 0;
  duplicates = 0;
  /** Events dropped by `drop-oldest` iterators. */
  dropped = 0;

  constructor(emit: (event: SigmaxEvent) => void, defaults: { bufferSize: number; overflow: OverflowPolicy }) {
    this.#emit = emit;
    this.#defaults = defaults;
  }

  /** A new iterator; already ended when `closed`. @throws TypeError on a bad `bufferSize` or `overflow`. */
  listen<T extends PublishedEventType>(options: ListenOptions<T>, closed: boolean): AsyncIterableIterator<SigmaxEvent<T> | GapMarker> {
    const { signal, bufferSize = this.#defaults.bufferSize, overflow = this.#defaults.overflow } = options;
    if (!(typeof bufferSize === 'number' && bufferSize >= 1)) throw new TypeError(`Expected listen() option \`bufferSize\` to be a number >= 1, got ${String(bufferSize)}`);
    if (overflow !== 'error' && overflow !== 'drop-oldest') throw new TypeError(`Expected listen() option \`overflow\` to be 'error' or 'drop-oldest', got ${String(overflow)}`);
    const abort = (): void => void q.return();
    const sink: Sink = {
      q: new EventQueue(bufferSize, overflow, () => {
        this.#sinks.delete(sink);
        signal?.removeEventListener('abort', abort);
      }, () => this.dropped++),
      types: options.types && new Set(options.types),
      topics: options.topics && new Set(options.topics.map((t) => t.toLowerCase())),
      throwOnGap: options.gap === 'throw',
    };
    const q = sink.q;
    this.#sinks.add(sink);
    if (signal?.aborted || closed) q.end();
    else signal?.addEventListener('abort', abort, { once: true });
    return q as EventQueue<SigmaxEvent<T> | GapMarker>;
  }

  /** Delivers a published event received on a connection of `epoch`, unless its `seq` was delivered already. */
  deliver(event: SigmaxEvent, epoch: string | undefined): void {
    if (epoch !== undefined && typeof event.seq === 'number') {
      if (this.pos && this.pos.epoch === epoch && event.seq <= this.pos.seq) {
        this.duplicates++;
        return;
      }
      this.pos = { epoch, seq: event.seq };
    }
    this.delivered++;
    this.#emit(event);
    const topic: string = typeof event.topic === 'string' ? event.topic : EVENT_TOPIC[event.type];
    for (const s of this.#sinks) {
      if ((!s.types || s.types.has(event.type)) && (!s.topics || s.topics.has(topic))) s.q.push(event);
    }
  }

  /**
   * A `subscribed` reply may carry `{epoch, seq}`: the position from which this connection receives every matching
   * event (the reference server sends it in answer to `since`, so also after a gap). With no position yet in the
   * connection's epoch, start from it, so a client that has received no event since can still resume what it misses.
   */
  adopt(data: { seq?: number | null; epoch?: string | null }, current: string | undefined): void {
    const { seq, epoch = current } = data;
    if (typeof seq === 'number' && epoch && epoch === current && this.pos?.epoch !== epoch) this.pos = { epoch, seq };
  }

  /**
   * Records a gap after `since`; iterators get a marker (or a `GapError`). Returns the gap for the `gap` event. The
   * position is then `keep` (none: the server's reply gives it).
   */
  gap(since: StreamPosition, newEpoch: string | undefined, keep?: StreamPosition): GapInfo {
    const info: GapInfo = { epoch: since.epoch, seq: since.seq, newEpoch, reason: newEpoch !== since.epoch ? 'epoch_changed' : 'history_exceeded' };
    this.pos = keep;
    for (const s of [...this.#sinks]) {
      if (s.throwOnGap) s.q.end(new GapError('EVENTS_MISSED', `Events after seq ${since.seq} of epoch ${since.epoch} may have been missed (${info.reason})`));
      else s.q.push({ type: 'gap', ...info });
    }
    return info;
  }

  /** Open iterators. */
  get iterators(): number {
    return this.#sinks.size;
  }

  /** Ends every iterator (throwing `error` if given); returns how many there were. */
  end(error?: SigmaxError): number {
    const sinks = [...this.#sinks];
    for (const s of sinks) s.q.end(error);
    return sinks.length;
  }
}
