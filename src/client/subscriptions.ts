/** The subscription registry (the topics and symbols the application wants, independent of any socket) and the subscription calls. */
import { normalizeSubscription, type EventDataMap, type TopicName } from '../protocol/index.js';
import { ConnectionError, ValidationError } from './errors.js';
import type { OnSettle } from './requests.js';

/** Topics and symbols, as lists. */
export interface SubscriptionLists {
  topics: string[];
  symbols: string[];
}

/** Desired state, replayed in one `subscribe` on every open. Holds normalised names only. */
export class SubscriptionRegistry {
  readonly #topics = new Set<string>();
  readonly #symbols = new Set<string>();

  /** Records a confirmed (or queued) `subscribe` / `unsubscribe`. */
  apply(type: 'subscribe' | 'unsubscribe', { topics, symbols }: SubscriptionLists): void {
    const op = type === 'subscribe' ? 'add' : 'delete';
    for (const t of topics) this.#topics[op](t);
    for (const s of symbols) this.#symbols[op](s);
  }

  /** A copy of the current lists. */
  snapshot(): SubscriptionLists {
    return { topics: [...this.#topics], symbols: [...this.#symbols] };
  }

  /** What was added to and removed from the registry since `before`. */
  diff(before: SubscriptionLists): { added: SubscriptionLists; removed: SubscriptionLists } {
    const now = this.snapshot();
    const minus = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
    return {
      added: { topics: minus(now.topics, before.topics), symbols: minus(now.symbols, before.symbols) },
      removed: { topics: minus(before.topics, now.topics), symbols: minus(before.symbols, now.symbols) },
    };
  }
}

/** Topics and symbols, as given to `subscribe` / `unsubscribe`. Only known topics type-check (`'executions'`, not `'execution'`). */
export interface SubscriptionRequest {
  topics?: readonly TopicName[] | undefined;
  symbols?: readonly string[] | undefined;
}

/** The normalised lists a subscription call applied. `queued`: recorded while not connected, sent on (re)connect. */
export interface SubscriptionResult {
  topics: string[];
  symbols: string[];
  message?: string | undefined;
  queued?: boolean;
}

/** What a subscription call needs from the client. */
export interface SubscriptionHost {
  subs: SubscriptionRegistry;
  /** Sends a request on the open connection (`onSettle` runs in the frame path, see `requests.ts`); `undefined` while not open. */
  sender(): ((frame: { type: string; data: object }, expect: string, onSettle: OnSettle) => Promise<{ data?: unknown }>) | undefined;
  /** Adopts the position a `subscribed` reply may carry. */
  adopt(data: EventDataMap['subscribed']): void;
  closed(): boolean;
}

/**
 * `subscribe` / `unsubscribe`: validated, then sent when open (recorded once confirmed), else recorded and
 * resolved with `queued: true` — also when the connection is lost before the reply.
 */
export async function changeSubscription(host: SubscriptionHost, type: 'subscribe' | 'unsubscribe', req: SubscriptionRequest): Promise<SubscriptionResult> {
  const n = normalizeSubscription(req?.topics ?? [], req?.symbols ?? []);
  if (!n.ok) throw new ValidationError(n.code, n.message);
  const queued = (): SubscriptionResult => (host.subs.apply(type, n), { topics: n.topics, symbols: n.symbols, queued: true });
  const send = host.sender();
  if (!send) return queued();
  try {
    // Recorded and its position adopted as the reply is handled, before the events that follow it.
    const confirmed: OnSettle = (ev) => void (ev && (host.subs.apply(type, n), host.adopt(ev.data as EventDataMap['subscribed'])));
    const { data } = (await send({ type, data: { topics: n.topics, symbols: n.symbols } }, `${type}d`, confirmed)) as { data: EventDataMap['subscribed'] };
    return { topics: data.topics, symbols: data.symbols, message: data.message ?? undefined };
  } catch (e) {
    if (!(e instanceof ConnectionError) || e.code !== 'CONNECTION_LOST' || host.closed()) throw e;
    return queued(); // lost before the reply: the wish is kept and restored on reconnect
  }
}
