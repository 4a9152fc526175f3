/** Small, allocation-free helpers for the per-connection limits and secret comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Token-bucket state, kept as two numbers on the session (no object per connection). */
export interface BucketState {
  tokens: number;
  tokensAt: number;
}

/**
 * Takes one token from the bucket, refilling it at `rate` tokens/s up to `burst`.
 * Returns false when the bucket is empty (the message is over the limit).
 * A `rate` of 0 disables the limit.
 */
export function takeToken(s: BucketState, rate: number, burst: number, now: number): boolean {
  if (rate <= 0) return true;
  const refilled = s.tokens + ((now - s.tokensAt) / 1000) * rate;
  s.tokens = refilled > burst ? burst : refilled;
  s.tokensAt = now;
  if (s.tokens < 1) return false;
  s.tokens -= 1;
  return true;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Compares two secrets in constant time (equal-length SHA-256 digests). */
export function secretEquals(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether `given` equals one of `keys`; compares against every key (no early exit). */
export function matchesAnyKey(given: string | null | undefined, keys: readonly string[]): boolean {
  if (typeof given !== 'string') return false;
  let ok = false;
  for (const k of keys) ok = secretEquals(given, k) || ok;
  return ok;
}
