/**
 * The HTTP endpoints: `GET /api/ws/stats`, `GET /health`, `POST /api/events`,
 * CORS headers and `OPTIONS` preflight; 404 otherwise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WS_PATH } from '../protocol/index.js';
import type { ResolvedOptions } from './config.js';
import { InvalidEventError } from './errors.js';
import { secretEquals } from './limits.js';
import { asyncApiJson, DASHBOARD_CSP, dashboardHtml } from './dashboard/assets.js';

/** Most events accepted in one `POST /api/events`. */
export const MAX_EVENTS_PER_POST = 1000;

export interface HttpDeps {
  readonly options: ResolvedOptions;
  stats(): object;
  /** Health body and whether the server can serve. */
  health(): { ok: boolean; body: object };
  /** Validates every input first, then publishes them in order; throws InvalidEventError on a bad one. */
  publishMany(inputs: unknown[]): Promise<number>;
}

/** Whether `origin` (an `Origin` header value) is allowed by `corsOrigins`. */
export function originAllowed(origin: string | undefined, corsOrigins: readonly string[] | undefined): boolean {
  if (origin === undefined || corsOrigins === undefined || corsOrigins.length === 0) return true;
  return corsOrigins.includes('*') || corsOrigins.includes(origin);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendBody(res: ServerResponse, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache', ...headers });
  res.end(body);
}

function setCors(req: IncomingMessage, res: ServerResponse, corsOrigins: readonly string[] | undefined): void {
  const origin = req.headers.origin;
  if (corsOrigins === undefined || corsOrigins.length === 0 || corsOrigins.includes('*')) {
    res.setHeader('Access-Control-Allow-Origin', '*');
  } else if (origin !== undefined && corsOrigins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
  }
}

/** Builds the `request` listener of the HTTP server. */
export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      route(deps, req, res);
    } catch (err) {
      deps.options.logger?.error('sigmax-ws: HTTP handler failed', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
      else res.destroy();
    }
  };
}

function route(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): void {
  const { options } = deps;
  setCors(req, res, options.corsOrigins);
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';

  if (method === 'OPTIONS') {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization',
      'Access-Control-Max-Age': '600',
    });
    res.end();
    return;
  }
  const allow = (methods: string) => {
    if (methods.split(', ').includes(method)) return true;
    sendJson(res, 405, { error: `Method ${method} not allowed`, code: 'METHOD_NOT_ALLOWED' }, { Allow: methods });
    return false;
  };
  switch (path) {
    case '/':
      if (!options.dashboard) break;
      if (allow('GET, HEAD')) sendBody(res, 'text/html; charset=utf-8', dashboardHtml(), { 'Content-Security-Policy': DASHBOARD_CSP });
      return;
    case '/api/ws/asyncapi.json':
      if (allow('GET, HEAD')) sendBody(res, 'application/json; charset=utf-8', asyncApiJson());
      return;
    case '/api/ws/stats':
      if (allow('GET, HEAD')) sendJson(res, 200, deps.stats());
      return;
    case '/health':
      if (allow('GET, HEAD')) {
        const h = deps.health();
        sendJson(res, h.ok ? 200 : 503, h.body);
      }
      return;
    case '/api/events':
      if (options.publishToken === undefined) break;
      if (allow('POST')) handlePublish(deps, options.publishToken, req, res);
      return;
    case WS_PATH:
      sendJson(res, 426, { error: 'This endpoint speaks WebSocket; send an Upgrade request', code: 'UPGRADE_REQUIRED' }, { Upgrade: 'websocket' });
      return;
  }
  sendJson(res, 404, { error: `Not found: ${path}`, code: 'NOT_FOUND' });
}

function handlePublish(deps: HttpDeps, token: string, req: IncomingMessage, res: ServerResponse): void {
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  if (!m || !secretEquals(m[1]!.trim(), token)) {
    req.resume();
    sendJson(res, 401, { error: 'Missing or wrong bearer token', code: 'AUTHENTICATION_FAILED' }, { 'WWW-Authenticate': 'Bearer' });
    return;
  }
  const limit = deps.options.maxBodySize;
  const tooLarge = () => {
    // Stop reading the body; drop the connection once the answer is written.
    req.pause();
    res.once('finish', () => req.destroy());
    sendJson(res, 413, { error: `Body exceeds ${limit} bytes`, code: 'PAYLOAD_TOO_LARGE' }, { Connection: 'close' });
  };
  if (Number(req.headers['content-length'] ?? 0) > limit) return tooLarge();

  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  req.on('data', (chunk: Buffer) => {
    if (aborted) return;
    size += chunk.length;
    if (size > limit) {
      aborted = true;
      tooLarge();
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => {
    aborted = true;
  });
  req.on('end', () => {
    if (aborted) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      sendJson(res, 400, { error: `Invalid JSON: ${(err as Error).message}`, code: 'INVALID_MESSAGE' });
      return;
    }
    const inputs = Array.isArray(body) ? body : [body];
    if (inputs.length === 0 || inputs.length > MAX_EVENTS_PER_POST) {
      sendJson(res, 400, { error: `Send 1 to ${MAX_EVENTS_PER_POST} events; got ${inputs.length}`, code: 'INVALID_MESSAGE' });
      return;
    }
    deps.publishMany(inputs).then(
      (count) => sendJson(res, 202, { accepted: count }),
      (err: unknown) => {
        if (err instanceof InvalidEventError) sendJson(res, 400, { error: err.message, code: 'INVALID_MESSAGE' });
        else {
          deps.options.logger?.error('sigmax-ws: publish failed', err);
          sendJson(res, 503, { error: 'The event log is unavailable', code: 'INTERNAL_ERROR' });
        }
      },
    );
  });
}
