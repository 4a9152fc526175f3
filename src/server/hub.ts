/**
 * The subscription index and the fan-out of committed events.
 * Each event is serialised once per dispatch (once per distinct symbol set for
 * a symbol-filtered `market_update`) and reaches each session at most once.
 */
import { SubscriptionTopic, normalizeSymbol } from '../protocol/index.js';
import type { SequencedEvent } from './log/types.js';

/** What the hub needs from a session. */
export interface Subscriber {
  topics: Set<string> | null;
  symbols: Set<string> | null;
  deliver(event: SequencedEvent, payload: Buffer): void;
}

const ALL = SubscriptionTopic.ALL;
const MARKET = 'market_update';

function addTo<S>(index: Map<string, Set<S>>, key: string, s: S): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(s);
}

function removeFrom<S>(index: Map<string, Set<S>>, key: string, s: S): void {
  const set = index.get(key);
  if (set?.delete(s) && set.size === 0) index.delete(key);
}

/** Whether `s` receives every event of `topic` in full (via `all` or the topic itself). */
function takesWhole(s: Subscriber, topic: string): boolean {
  return s.topics !== null && (s.topics.has(ALL) || s.topics.has(topic));
}

function symbolOf(data: unknown): string | undefined {
  const sym = typeof data === 'object' && data !== null ? (data as { symbol?: unknown }).symbol : undefined;
  return typeof sym === 'string' ? normalizeSymbol(sym) : undefined;
}

export class Hub {
  readonly #byTopic = new Map<string, Set<Subscriber>>();
  readonly #bySymbol = new Map<string, Set<Subscriber>>();
  readonly #partAOnly: boolean;
  #subscriptions = 0;
  #lastSeq = 0;

  constructor(partAOnly: boolean) {
    this.#partAOnly = partAOnly;
  }

  /** Total subscriptions (topics + symbols) over all sessions. */
  get subscriptionCount(): number {
    return this.#subscriptions;
  }

  /** Seq of the last dispatched event. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Forgets the last dispatched seq (the event log started a new sequence). */
  resetPosition(): void {
    this.#lastSeq = 0;
  }

  /** Topics with at least one subscriber. */
  topicsInUse(): string[] {
    return [...this.#byTopic.keys()];
  }

  /** Symbols with at least one subscriber. */
  symbolsInUse(): string[] {
    return [...this.#bySymbol.keys()];
  }

  subscribe(s: Subscriber, topics: readonly string[], symbols: readonly string[]): void {
    for (const t of topics) {
      if (!(s.topics ??= new Set()).has(t)) {
        s.topics.add(t);
        addTo(this.#byTopic, t, s);
        this.#subscriptions++;
      }
    }
    for (const sym of symbols) {
      if (!(s.symbols ??= new Set()).has(sym)) {
        s.symbols.add(sym);
        addTo(this.#bySymbol, sym, s);
        this.#subscriptions++;
      }
    }
  }

  unsubscribe(s: Subscriber, topics: readonly string[], symbols: readonly string[]): void {
    for (const t of topics) {
      if (s.topics?.delete(t)) {
        removeFrom(this.#byTopic, t, s);
        this.#subscriptions--;
      }
    }
    for (const sym of symbols) {
      if (s.symbols?.delete(sym)) {
        removeFrom(this.#bySymbol, sym, s);
        this.#subscriptions--;
      }
    }
    if (s.topics?.size === 0) s.topics = null;
    if (s.symbols?.size === 0) s.symbols = null;
  }

  /** Removes every subscription of `s` (on disconnect). */
  removeAll(s: Subscriber): void {
    this.unsubscribe(s, s.topics ? [...s.topics] : [], s.symbols ? [...s.symbols] : []);
  }

  /**
   * Wire form of an event, with `data` replaced when given (filtered market entries). Built by
   * concatenation from the bytes serialised at publish (`event.json`), so the frame is what was
   * published; key order `type, data, timestamp, topic, seq` (Part-A-only: `type, data, timestamp`).
   */
  encode(event: SequencedEvent, data?: unknown): Buffer {
    // The whole frame is built once per event object and kept on it: live fan-out, the live events
    // queued during a replay and every replay from the memory log reuse it.
    const whole = data === undefined && !this.#partAOnly; // Part A frames differ: not cached
    if (whole && event.frame) return event.frame;
    const json = data === undefined ? (event.json ?? JSON.stringify(event.data)) : JSON.stringify(data);
    const head = `{"type":${JSON.stringify(event.type)},"data":${json},"timestamp":${JSON.stringify(event.timestamp)}`;
    const frame = Buffer.from(this.#partAOnly ? `${head}}` : `${head},"topic":${JSON.stringify(event.topic)},"seq":${event.seq}}`);
    if (whole) event.frame = frame;
    return frame;
  }

  /** Sends a committed event to every matching session, exactly once each. */
  dispatch(event: SequencedEvent): void {
    this.#lastSeq = event.seq;
    const topic = event.topic;
    let whole: Buffer | undefined;
    const all = this.#byTopic.get(ALL);
    if (all) for (const s of all) s.deliver(event, (whole ??= this.encode(event)));
    const byTopic = this.#byTopic.get(topic);
    if (byTopic) for (const s of byTopic) if (!s.topics!.has(ALL)) s.deliver(event, (whole ??= this.encode(event)));
    if (this.#bySymbol.size === 0) return;

    if (event.type === MARKET && Array.isArray(event.data)) {
      this.#dispatchMarket(event, event.data);
      return;
    }
    const sym = symbolOf(event.data);
    const bySymbol = sym === undefined ? undefined : this.#bySymbol.get(sym);
    if (bySymbol) for (const s of bySymbol) if (!takesWhole(s, topic)) s.deliver(event, (whole ??= this.encode(event)));
  }

  /** Symbol subscribers of a `market_update` get only their entries; one payload per distinct entry set. */
  #dispatchMarket(event: SequencedEvent, entries: unknown[]): void {
    let picks: Map<Subscriber, number[]> | undefined;
    entries.forEach((entry, i) => {
      const sym = symbolOf(entry);
      const set = sym === undefined ? undefined : this.#bySymbol.get(sym);
      if (!set) return;
      for (const s of set) {
        if (takesWhole(s, event.topic)) continue;
        picks ??= new Map();
        const list = picks.get(s);
        if (list) list.push(i);
        else picks.set(s, [i]);
      }
    });
    if (!picks) return;
    const payloads = new Map<string, Buffer>();
    for (const [s, idx] of picks) {
      const key = idx.join(',');
      let payload = payloads.get(key);
      if (!payload) payloads.set(key, (payload = this.encode(event, idx.map((i) => entries[i]))));
      s.deliver(event, payload);
    }
  }

  /** The payload `s` should get for `event` (used by replay), or `undefined` if it does not match. */
  payloadFor(s: Subscriber, event: SequencedEvent): Buffer | undefined {
    if (takesWhole(s, event.topic)) return this.encode(event);
    if (!s.symbols) return undefined;
    if (event.type === MARKET && Array.isArray(event.data)) {
      const mine = event.data.filter((e) => {
        const sym = symbolOf(e);
        return sym !== undefined && s.symbols!.has(sym);
      });
      return mine.length ? this.encode(event, mine) : undefined;
    }
    const sym = symbolOf(event.data);
    return sym !== undefined && s.symbols.has(sym) ? this.encode(event) : undefined;
  }
}
