/** A bounded queue exposed as an async iterator: the engine behind `listen()`. */
import { ListenOverflowError, type SigmaxError } from './errors.js';
import type { OverflowPolicy } from './options.js';

type Waiter<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };

/** One `listen()` iterator's buffer. The client pushes into it; the consumer pulls with `for await`. */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #limit: number;
  readonly #policy: OverflowPolicy;
  readonly #onEnd: () => void;
  readonly #onDrop: () => void;
  /** Pending `next()` calls, oldest first (a consumer may call `next()` again before the last one settled). */
  readonly #waiters: Waiter<T>[] = [];
  #error: SigmaxError | undefined;
  #done = false;

  /** `onDrop` is called for each event the `drop-oldest` policy drops. */
  constructor(limit: number, policy: OverflowPolicy, onEnd: () => void, onDrop: () => void) {
    this.#limit = limit;
    this.#policy = policy;
    this.#onEnd = onEnd;
    this.#onDrop = onDrop;
  }

  /** Adds an item; applies the overflow policy when the buffer is full. */
  push(item: T): void {
    if (this.#done) return;
    const w = this.#waiters.shift();
    if (w) return w.resolve({ value: item, done: false });
    if (this.#items.length >= this.#limit) {
      if (this.#policy === 'error') {
        this.end(new ListenOverflowError('LISTEN_OVERFLOW', `listen() buffer overflow: more than ${this.#limit} events were not consumed`));
        return;
      }
      this.#items.shift();
      this.#onDrop();
    }
    this.#items.push(item);
  }

  /** Ends the iterator: buffered items are still delivered, then `error` is thrown if given, else it completes. */
  end(error?: SigmaxError): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    // An overflow discards the backlog: the consumer must learn of it now, not after 1000 stale events.
    if (error instanceof ListenOverflowError) this.#items.length = 0;
    this.#onEnd();
    // Waiting means the buffer is empty: the first waiter gets the error (if any), the others `done`.
    for (const w of this.#waiters.splice(0)) this.#settle(w);
  }

  #settle(w: Waiter<T>): void {
    const e = this.#error;
    this.#error = undefined;
    if (e) w.reject(e);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      if (this.#done) this.#settle(w);
      else this.#waiters.push(w);
    });
  }

  /** Called by `break`: stops listening and releases the buffer. */
  return(): Promise<IteratorResult<T>> {
    this.#items.length = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
