/** What a closed socket means for the client: fatal (never retried) or transient, and the error it stands for. */
import { isRetryableClose } from '../protocol/index.js';
import { AuthenticationError, type ServerError, type SigmaxError } from './errors.js';

/** Server codes that refuse a client for good (they come with close 1008). */
export const FATAL_SERVER_CODES: readonly string[] = ['AUTHENTICATION_FAILED', 'ORIGIN_NOT_ALLOWED'];

/**
 * Fatal: close 1008, an HTTP 401/403 on upgrade, or an `error` frame with a fatal code before the close (`held`).
 * Everything else is transient: unreachable, reset, 1006, 1011, 1012, 1013, `CONNECT_TIMEOUT`, heartbeat 4000.
 */
export function classifyClose(code: number, reason: string, error: SigmaxError, held: ServerError | undefined): { fatal: boolean; failure: SigmaxError } {
  if (isRetryableClose(code) && error.code !== 'AUTHENTICATION_FAILED' && !(held && FATAL_SERVER_CODES.includes(held.code))) return { fatal: false, failure: held ?? error };
  const message = held?.message ?? `Refused by the server (close ${code}${reason ? `: ${reason}` : ''})`;
  return { fatal: true, failure: new AuthenticationError(held?.code ?? 'AUTHENTICATION_FAILED', message, held?.details) };
}
