/** Parameters of {@link backoffDelay}. */
export interface BackoffPolicy {
  /** Smallest wait in ms; also the base of the exponential. */
  minDelay: number;
  /** Largest wait in ms. */
  maxDelay: number;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Wait before reconnect attempt `attempt` (0 = first retry): exponential backoff with full jitter.
 *
 * The ceiling doubles per attempt, `cap = min(maxDelay, minDelay * 2^(attempt + 1))`, and the wait is
 * uniform in `[minDelay, cap]`. So even the first retry is spread over `[min, 2·min]` (a fleet
 * kicked off by a server restart does not come back in lockstep), and at the cap the wait stays
 * uniform in `[min, max]` instead of collapsing to `max`. Never below `minDelay`, never above `maxDelay`.
 */
export function backoffDelay(attempt: number, { minDelay, maxDelay, random = Math.random }: BackoffPolicy): number {
  const cap = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt + 1, 52));
  const lo = Math.min(minDelay, cap);
  return Math.round(lo + random() * (cap - lo));
}
