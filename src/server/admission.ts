/** Whether an upgraded WebSocket may become a session: origin, API key, connection limit. */
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

/**
 * Checks, in order: the `Origin` (browsers only; none = allowed), the `api_key`
 * query parameter (constant-time), and the connection limit.
 * Returns `undefined` when the connection is admitted.
 */
export function admit(req: IncomingMessage, o: ResolvedOptions, activeConnections: number): Refusal | undefined {
  const origin = req.headers.origin;
  if (!originAllowed(origin, o.corsOrigins)) {
    return { code: ErrorCode.ORIGIN_NOT_ALLOWED, closeCode: CloseCode.POLICY_VIOLATION, message: `Origin ${origin} is not allowed` };
  }
  if (o.apiKeys?.length) {
    const key = new URL(req.url ?? '/', 'http://localhost').searchParams.get('api_key');
    if (!matchesAnyKey(key, o.apiKeys)) {
      return { code: ErrorCode.AUTHENTICATION_FAILED, closeCode: CloseCode.POLICY_VIOLATION, message: key === null ? 'Missing api_key' : 'Invalid api_key' };
    }
  }
  if (activeConnections >= o.maxConnections) {
    return { code: ErrorCode.MAX_CONNECTIONS_EXCEEDED, closeCode: CloseCode.TRY_AGAIN_LATER, message: `Maximum connections (${o.maxConnections}) reached; try again later` };
  }
  return undefined;
}
