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
  #waiter: Waiter<T> | undefined;
  #error: SigmaxError | undefined;
  #done = false;
  /** Events dropped by the `drop-oldest` policy. */
  dropped = 0;

  constructor(limit: number, policy: OverflowPolicy, onEnd: () => void) {
    this.#limit = limit;
    this.#policy = policy;
    this.#onEnd = onEnd;
  }

  /** Adds an item; applies the overflow policy when the buffer is full. */
  push(item: T): void {
    if (this.#done) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.#limit) {
      if (this.#policy === 'error') {
        this.end(new ListenOverflowError('LISTEN_OVERFLOW', `listen() buffer overflow: more than ${this.#limit} events were not consumed`));
        return;
      }
      this.#items.shift();
      this.dropped++;
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
    if (this.#waiter) this.#settle(this.#waiter);
  }

  #settle(w: Waiter<T>): void {
    this.#waiter = undefined;
    const e = this.#error;
    this.#error = undefined;
    if (e) w.reject(e);
    else w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    if (this.#done) {
      const e = this.#error;
      this.#error = undefined;
      return e ? Promise.reject(e) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
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
