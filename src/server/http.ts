/**
 * The HTTP endpoints: `GET /api/ws/stats`, `GET /health`, `POST /api/events`,
 * CORS headers and `OPTIONS` preflight; 404 otherwise (or the application's
 * listeners, when mounted on an existing server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedOptions } from './config.js';
import { EventLogUnavailableError, InvalidEventError } from './errors.js';
import type { AppendResult } from './log/types.js';
import { secretEquals } from './limits.js';
import { asyncApiJson, DASHBOARD_CSP, dashboardHtml } from './dashboard/assets.js';

/** Most events accepted in one `POST /api/events`. */
export const MAX_EVENTS_PER_POST = 1000;

export interface HttpDeps {
  readonly options: ResolvedOptions;
  /** The stats body (a promise when gathered from several workers). */
  stats(): object | Promise<object>;
  /** Health body and whether the server can serve. */
  health(): { ok: boolean; body: object };
  /** Validates every input first, then appends them as one batch (all or none); throws InvalidEventError on a bad one. */
  publishMany(inputs: unknown[]): Promise<AppendResult[]>;
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

/** One HTTP route: the methods it allows (`*` = any) and its handler. */
export interface Route {
  methods: string;
  handle(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): void;
}

/**
 * The server's HTTP routes by exact path. Add a route with one `routes.set(path, { methods, handle })` line.
 * `POST /api/events` only when a publish token is set; every WebSocket path answers 426 to plain HTTP.
 */
export function buildRoutes(options: ResolvedOptions, mounted = false): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set('/api/ws/stats', {
    methods: 'GET, HEAD',
    handle: (deps, _req, res) => {
      Promise.resolve(deps.stats()).then(
        (body) => sendJson(res, 200, body),
        (err: unknown) => {
          deps.options.logger?.error('sigmax-ws: stats failed', err);
          sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
        },
      );
    },
  });
  // The dashboard only when standalone: mounted on an app's server, `/` is the app's.
  if (options.dashboard && !mounted) {
    const page = dashboardHtml(options.wsPaths[0]);
    routes.set('/', { methods: 'GET, HEAD', handle: (_deps, _req, res) => sendBody(res, 'text/html; charset=utf-8', page, { 'Content-Security-Policy': DASHBOARD_CSP }) });
  }
  routes.set('/api/ws/asyncapi.json', { methods: 'GET, HEAD', handle: (_deps, _req, res) => sendBody(res, 'application/json; charset=utf-8', asyncApiJson()) });
  routes.set('/health', {
    methods: 'GET, HEAD',
    handle: (deps, _req, res) => {
      const h = deps.health();
      sendJson(res, h.ok ? 200 : 503, h.body);
    },
  });
  const token = options.publishToken;
  if (token !== undefined) routes.set('/api/events', { methods: 'POST', handle: (deps, req, res) => handlePublish(deps, token, req, res) });
  for (const path of options.wsPaths) {
    routes.set(path, {
      methods: '*',
      handle: (_deps, _req, res) => sendJson(res, 426, { error: 'This endpoint speaks WebSocket; send an Upgrade request', code: 'UPGRADE_REQUIRED' }, { Upgrade: 'websocket' }),
    });
  }
  return routes;
}

/**
 * Builds the `request` listener. Requests for a path of `routes` are answered here; others go to
 * `next` (the application's listeners, when mounted on an existing server), or get a 404.
 */
export function createHttpHandler(
  deps: HttpDeps,
  routes: Map<string, Route> = buildRoutes(deps.options),
  next?: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = routes.get(path);
      if (!route && next) return next(req, res);
      serve(deps, route, path, req, res);
    } catch (err) {
      deps.options.logger?.error('sigmax-ws: HTTP handler failed', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
      else res.destroy();
    }
  };
}

function serve(deps: HttpDeps, route: Route | undefined, path: string, req: IncomingMessage, res: ServerResponse): void {
  setCors(req, res, deps.options.corsOrigins);
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
  if (!route) {
    sendJson(res, 404, { error: `Not found: ${path}`, code: 'NOT_FOUND' });
    return;
  }
  if (route.methods !== '*' && !route.methods.split(', ').includes(method)) {
    sendJson(res, 405, { error: `Method ${method} not allowed`, code: 'METHOD_NOT_ALLOWED' }, { Allow: route.methods });
    return;
  }
  route.handle(deps, req, res);
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
      (results) => sendJson(res, 202, { accepted: results.length, duplicates: results.filter((r) => r.duplicate).length, seqs: results.map((r) => r.seq) }),
      (err: unknown) => {
        if (err instanceof InvalidEventError) sendJson(res, 400, { error: err.message, code: 'INVALID_MESSAGE' });
        else if (err instanceof EventLogUnavailableError) {
          // None of the batch was appended ('not_appended'), or it may have been ('unknown'): a retry
          // of the same body with the same event ids is safe either way.
          sendJson(
            res,
            503,
            { error: err.message, code: err.code, outcome: err.outcome, retry_after_ms: err.retryAfterMs },
            { 'Retry-After': String(Math.ceil(err.retryAfterMs / 1000)) },
          );
        } else {
          deps.options.logger?.error('sigmax-ws: publish failed', err);
          sendJson(res, 503, { error: 'The event log is unavailable', code: 'INTERNAL_ERROR' });
        }
      },
    );
  });
}
