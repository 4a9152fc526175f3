/** The subscription registry: the topics and symbols the application wants, independent of any socket. */

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

/** Topics and symbols, as given to `subscribe` / `unsubscribe`. */
export interface SubscriptionRequest {
  topics?: readonly string[] | undefined;
  symbols?: readonly string[] | undefined;
}

/** The normalised lists a subscription call applied. `queued`: recorded while not connected, sent on (re)connect. */
export interface SubscriptionResult {
  topics: string[];
  symbols: string[];
  message?: string | undefined;
  queued?: boolean;
}
