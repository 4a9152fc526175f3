/**
 * Whether an upgrade request may become a session: origin, API key and the `authenticate` hook
 * (checked before the upgrade, so a slow hook holds no WebSocket), then the connection limit.
 */
import type { IncomingMessage } from 'node:http';
import { CloseCode, ErrorCode } from '../protocol/index.js';
import type { ResolvedOptions } from './config.js';
import { originAllowed } from './http.js';
import { matchesAnyKey } from './limits.js';

/** Why a connection is refused: the `error` code, the close code and a message. */
export interface Refusal {
  code: string;
  closeCode: number;
  message: string;
}

/** The outcome of the credential checks: a refusal, or the principal (`undefined` without a hook). */
export type Credentials = { refusal: Refusal } | { refusal?: undefined; principal: unknown };

const authFailed = (message: string): { refusal: Refusal } => ({
  refusal: { code: ErrorCode.AUTHENTICATION_FAILED, closeCode: CloseCode.POLICY_VIOLATION, message },
});

/** Origin (browsers only; none = allowed) and `api_key` (constant time); synchronous. */
function checkStatic(req: IncomingMessage, o: ResolvedOptions): Refusal | undefined {
  const origin = req.headers.origin;
  if (!originAllowed(origin, o.corsOrigins)) {
    return { code: ErrorCode.ORIGIN_NOT_ALLOWED, closeCode: CloseCode.POLICY_VIOLATION, message: `Origin ${origin} is not allowed` };
  }
  if (o.apiKeys?.length) {
    const key = new URL(req.url ?? '/', 'http://localhost').searchParams.get('api_key');
    if (!matchesAnyKey(key, o.apiKeys)) return authFailed(key === null ? 'Missing api_key' : 'Invalid api_key').refusal;
  }
  return undefined;
}

/**
 * Checks, in order: the `Origin`, the `api_key` query parameter, then the `authenticate` hook.
 * Synchronous (no promise) unless the hook has to run. A hook that throws, rejects or returns a
 * falsy value refuses the connection; `onHookError` hears what it threw.
 */
export function checkCredentials(req: IncomingMessage, o: ResolvedOptions, onHookError: (err: unknown) => void): Credentials | Promise<Credentials> {
  const refusal = checkStatic(req, o);
  if (refusal) return { refusal };
  const hook = o.authenticate;
  if (!hook) return { principal: undefined };
  const fromHook = (principal: unknown): Credentials => (principal ? { principal } : authFailed('Authentication failed'));
  const onError = (err: unknown): Credentials => {
    onHookError(err);
    return authFailed('Authentication failed');
  };
  try {
    const result = hook(req);
    return result instanceof Promise || (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function')
      ? Promise.resolve(result).then(fromHook, onError)
      : fromHook(result);
  } catch (err) {
    return onError(err);
  }
}

/** The connection limit; `undefined` when there is room. */
export function checkCapacity(o: ResolvedOptions, activeConnections: number): Refusal | undefined {
  if (activeConnections >= o.maxConnections) {
    return { code: ErrorCode.MAX_CONNECTIONS_EXCEEDED, closeCode: CloseCode.TRY_AGAIN_LATER, message: `Maximum connections (${o.maxConnections}) reached; try again later` };
  }
  return undefined;
}
