/** The callers of `connect()` waiting for the next open; each may bring an `AbortSignal`, whose listener lives as long as its wait. */
import type { SigmaxError } from './errors.js';
import type { OpenInfo } from './events.js';

interface Waiter {
  resolve(info: OpenInfo): void;
  reject(error: SigmaxError): void;
  off(): void;
}

export class OpenWaiters {
  #list: Waiter[] = [];

  /** A promise of the next open; `onAbort` runs when `signal` aborts while it waits. */
  add(signal: AbortSignal | undefined, onAbort: (signal: AbortSignal) => void): Promise<OpenInfo> {
    return new Promise<OpenInfo>((resolve, reject) => {
      const abort = (): void => signal && onAbort(signal);
      signal?.addEventListener('abort', abort);
      this.#list.push({ resolve, reject, off: () => signal?.removeEventListener('abort', abort) });
    });
  }

  /** Settles every waiter; returns how many there were. */
  settle(outcome: { info: OpenInfo } | { error: SigmaxError }): number {
    const list = this.#list.splice(0);
    for (const w of list) {
      w.off();
      if ('info' in outcome) w.resolve(outcome.info);
      else w.reject(outcome.error);
    }
    return list.length;
  }
}
