/**
 * `SigmaxServer`: binds sessions, the hub, the event log, the heartbeat and the
 * HTTP endpoints to `node:http` + `ws`, and owns their lifecycle.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, Feature, type EventDataMap, type EventInputMap, type PublishedEventType } from '../protocol/index.js';
import { checkCapacity, checkCredentials, type Credentials, type Refusal } from './admission.js';
import { batchFromUrl } from './batch.js';
import { resolveOptions, type ResolvedOptions, type SigmaxServerOptions } from './config.js';
import { Counters, type ServerContext } from './context.js';
import { DemoFeed } from './demo.js';
import { ConfigError, ServerClosedError, SigmaxServerError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { buildRoutes, createHttpHandler, type HttpDeps } from './http.js';
import { Hub } from './hub.js';
import { MemoryEventLog } from './log/memory.js';
import type { AppendResult, EventLog, NewEvent, SequencedEvent } from './log/types.js';
import { Metrics } from './metrics.js';
import { parseEventInputs, prepareEvent } from './publish.js';
import { Session } from './session.js';
import { buildHealth, buildStats, type StatsInput, type WsStats } from './stats.js';

type ServerState = 'idle' | 'starting' | 'listening' | 'closing' | 'closed';

/** Options of {@link SigmaxServer.publish}. */
export interface PublishOptions {
  /**
   * Idempotency id (1–200 characters): the same id within the history window is appended once;
   * a retry resolves with `duplicate: true`. Give one to retry safely after an error. @default a fresh id
   */
  id?: string | undefined;
}

const FEATURES = [Feature.REQUEST_ID, Feature.EXACTLY_ONCE, Feature.RESUME, Feature.CLOSE_CODES, Feature.LIMITS, Feature.BATCH];
const DEFAULT_STATUS = { initialized: true, running: true, paused: false, mode: 'paper', risk_profile: 'conservative' };
const EMPTY_PORTFOLIO = { total_value: 0, available_cash: 0, positions: [], total_pnl: 0, total_pnl_percent: 0 };
/** How long a refused or failed socket may take to complete its close handshake. */
const CLOSE_GRACE_MS = 1000;

// Listeners shared by every socket (no closure per connection); the session rides on the socket.
const kSession = Symbol('sigmax.session');
type TaggedSocket = WebSocket & { [kSession]?: Session };
function onMessage(this: TaggedSocket, data: RawData, isBinary: boolean): void {
  this[kSession]?.receive(data, isBinary);
}
/** WebSocket-level ping/pong frames count as activity too (non-browser clients may use them). */
function onControlFrame(this: TaggedSocket): void {
  const s = this[kSession];
  if (s) s.lastSeen = Date.now();
}
function onClose(this: TaggedSocket, code: number): void {
  this[kSession]?.closed(code);
}
function onError(): void {
  // A socket error is followed by 'close'; nothing else to do.
}

/** `address:port` of the peer of `req`. */
function remoteOf(req: IncomingMessage): string | undefined {
  const { remoteAddress, remotePort } = req.socket;
  if (remoteAddress === undefined) return undefined;
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}

/** What `server.connections()` tells about one open connection. */
export interface ConnectionInfo {
  id: string;
  /** `address:port` of the peer. */
  remoteAddress: string | undefined;
  /** What the `authenticate` hook returned (`undefined` without a hook). */
  principal: unknown;
  connectedAt: Date;
  topics: string[];
  symbols: string[];
}

function abortHandshake(socket: Duplex, status: number, text: string): void {
  socket.on('error', onError);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The SIGMAX WebSocket reference server (PROTOCOL.md Part A, and Part B unless `partAOnly`).
 *
 * @example
 * const server = new SigmaxServer({ port: 0 });
 * await server.listen();
 * await server.publish('trade_executed', { proposal_id: 'p1', symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 1, order_id: 'o1', status: 'filled' });
 * await server.close();
 */
export class SigmaxServer {
  readonly #opts: ResolvedOptions;
  #state: ServerState = 'idle';
  #http: Server | HttpsServer | undefined;
  /** The application's HTTP server we are mounted on (`server` option or `attach()`). */
  #external: Server | HttpsServer | undefined;
  #unmount: (() => void) | undefined;
  readonly #wsPaths: Set<string>;
  /** Upgrade requests waiting for the `authenticate` hook. */
  readonly #authenticating = new Set<Duplex>();
  #wss: WebSocketServer | undefined;
  #log: EventLog | undefined;
  #ctx: ServerContext | undefined;
  #demo: DemoFeed | undefined;
  #port = 0;
  #startedAt = Date.now();
  #listening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;
  #lastStatus: EventDataMap['system_status'] | undefined;
  #lastPortfolio: EventDataMap['portfolio_update'] | undefined;
  readonly #sessions = new Set<Session>();
  readonly #refused = new Set<WebSocket>();
  readonly #counters = new Counters();
  readonly #hub: Hub;
  readonly #heartbeat: Heartbeat;
  readonly #metrics = new Metrics();

  /** @throws {ConfigError} when an option is invalid. */
  constructor(options: SigmaxServerOptions = {}) {
    this.#opts = resolveOptions(options);
    this.#external = this.#opts.server;
    this.#wsPaths = new Set(this.#opts.wsPaths);
    this.#hub = new Hub(this.#opts.partAOnly);
    this.#heartbeat = new Heartbeat(this.#sessions, {
      intervalMs: this.#opts.heartbeatInterval,
      timeoutMs: this.#opts.connectionTimeout,
      closeGraceMs: CLOSE_GRACE_MS,
    });
  }

  /** The port listened on (the actual one when `port: 0`, or the mounted server's); 0 before `listen()`. */
  get port(): number {
    if (this.#external) {
      const a = this.#external.address();
      return typeof a === 'object' && a ? a.port : 0;
    }
    return this.#port;
  }

  /** WebSocket URL of the first of `wsPaths`, e.g. `ws://127.0.0.1:8000/api/ws`. */
  get url(): string {
    let h = this.#opts.host;
    if (this.#external) {
      const a = this.#external.address();
      h = typeof a === 'object' && a ? a.address : '127.0.0.1';
    }
    const host = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
    const scheme = this.#external && 'setSecureContext' in this.#external ? 'wss' : 'ws';
    return `${scheme}://${host}:${this.port}${this.#opts.wsPaths[0]}`;
  }

  /**
   * Mounts the server on an existing HTTP(S) server (same as the `server` option, then `listen()`):
   * upgrades on `wsPaths` become connections, other upgrades and requests are left to the application,
   * and the HTTP routes are answered in front of the application's request listeners (unless
   * `httpRoutes: false`). Call it after the application has added its own request listener.
   */
  attach(server: Server | HttpsServer): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new SigmaxServerError('attach() must be called instead of listen(), before it', 'ALREADY_STARTED'));
    if (this.#external && this.#external !== server) return Promise.reject(new SigmaxServerError('Already mounted on another server (option server)', 'ALREADY_STARTED'));
    this.#external = server;
    return this.listen();
  }

  /** The open connections: id, peer address, principal, subscriptions. */
  connections(): ConnectionInfo[] {
    return [...this.#sessions].map((s) => ({
      id: s.id,
      remoteAddress: s.remote,
      principal: s.principal,
      connectedAt: new Date(s.openedAt),
      topics: [...(s.topics ?? [])],
      symbols: [...(s.symbols ?? [])],
    }));
  }

  /** Epoch of the event log (undefined before `listen()`). */
  get epoch(): string | undefined {
    return this.#log?.epoch;
  }

  /** Starts the event log and listens. Resolves when listening; rejects (and cleans up) on failure. */
  listen(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') return Promise.reject(new ServerClosedError('The server was closed; create a new one'));
    return (this.#listening ??= this.#start());
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    const o = this.#opts;
    const deps: HttpDeps = {
      options: o,
      stats: () => o.httpStats?.() ?? this.stats(),
      health: () => this.#health(),
      publishMany: (inputs) => this.#publishMany(inputs),
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head);
    try {
      this.#log = await this.#createLog();
      this.#ctx = this.#context(this.#log);
      await this.#log.start((event) => this.#onEvent(event));
      this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: o.maxMessageSize * 2 });
      if (this.#external) this.#mount(this.#external, deps, onUpgrade);
      else await this.#listenOwn(createServer(createHttpHandler(deps)), onUpgrade);
    } catch (err) {
      this.#state = 'closed';
      await this.#log?.close().catch(() => undefined);
      throw err;
    }
    if (this.#state !== 'starting') return; // close() was called meanwhile
    this.#state = 'listening';
    this.#startedAt = Date.now();
    this.#heartbeat.start();
    if (o.demo) {
      this.#demo = new DemoFeed({
        publish: async (type, data) => void (await this.publish(type, data)),
        health: () => this.#metrics.health(),
        status: () => this.#systemStatus(),
        logger: o.logger,
      });
      this.#demo.start();
    }
    o.logger?.info(this.#external ? `sigmax-ws: mounted on ${this.#opts.wsPaths.join(', ')}` : `sigmax-ws: listening on ${this.url}`);
  }

  /** Takes the upgrades of `http` on our paths, and answers our routes in front of the application's listeners. */
  #mount(http: Server | HttpsServer, deps: HttpDeps, onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void {
    http.on('upgrade', onUpgrade);
    if (!this.#opts.httpRoutes) {
      this.#unmount = () => http.off('upgrade', onUpgrade);
      return;
    }
    const app = http.listeners('request') as RequestListener[];
    const next: RequestListener | undefined = app.length ? (req, res) => app.forEach((l) => l.call(http, req, res)) : undefined;
    const handler = createHttpHandler(deps, buildRoutes(this.#opts, true), next);
    http.removeAllListeners('request');
    http.on('request', handler);
    this.#unmount = () => {
      http.off('upgrade', onUpgrade);
      if (!http.listeners('request').includes(handler)) return;
      http.off('request', handler);
      for (const l of app) http.on('request', l);
    };
  }

  async #listenOwn(http: Server, onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<void> {
    const o = this.#opts;
    this.#http = http;
    http.on('upgrade', onUpgrade);
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port, o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    http.on('error', (err) => o.logger?.error('sigmax-ws: HTTP server error', err));
    const addr = http.address();
    this.#port = typeof addr === 'object' && addr ? addr.port : o.port;
  }

  async #createLog(): Promise<EventLog> {
    const o = this.#opts;
    if (o.eventLog) return o.eventLog;
    if (o.redisUrl) {
      const { RedisEventLog } = await import('./log/redis.js').catch((err: unknown) => {
        // `redis` is an optional peer dependency: installed only by those who use Redis.
        const code = (err as { code?: string } | null)?.code;
        if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]redis['"]/.test(String((err as Error).message))) {
          throw new ConfigError('REDIS_URL (redisUrl) is set but the optional package `redis` is not installed: run `npm install redis`', 'redisUrl');
        }
        throw err;
      });
      return new RedisEventLog({
        url: o.redisUrl,
        keyPrefix: o.redisKeyPrefix,
        bridge: o.redisBridge,
        historySize: o.historySize,
        historyTtl: o.historyTtl,
        logger: o.logger,
        // The log's seqs stopped continuing (new epoch, or events skipped): the epoch and seqs
        // clients hold are void, so make them reconnect; resuming then answers recovered:false.
        onReset: (epoch, reason) => {
          o.logger?.warn(`sigmax-ws: event log reset (${reason}, epoch ${epoch}): reconnecting ${this.#sessions.size} clients`);
          this.#hub.resetPosition();
          for (const s of this.#sessions) {
            s.close(CloseCode.GOING_AWAY, 'Event log reset; reconnect and resume');
            this.#heartbeat.closeSoon(s.socket);
          }
        },
      });
    }
    return new MemoryEventLog({ historySize: o.historySize, historyTtl: o.historyTtl });
  }

  #context(log: EventLog): ServerContext {
    return {
      options: this.#opts,
      log,
      hub: this.#hub,
      counters: this.#counters,
      features: FEATURES,
      systemStatus: () => this.#systemStatus(),
      portfolio: () => this.#lastPortfolio ?? this.#demo?.portfolio() ?? EMPTY_PORTFOLIO,
      health: () => this.#metrics.health(),
      closeSoon: (socket, drain) => this.#heartbeat.closeSoon(socket, drain),
      sessionClosed: (session, code) => {
        if (this.#sessions.delete(session)) {
          this.#counters.disconnections++;
          this.#opts.logger?.info('sigmax-ws: connection closed', {
            id: session.id,
            remote: session.remote,
            code: code ?? null,
            duration_ms: Date.now() - session.openedAt,
            active: this.#sessions.size,
          });
        }
        if (this.#sessions.size === 0) this.#allClosed?.();
      },
    };
  }

  #onEvent(event: SequencedEvent): void {
    if (event.type === 'system_status') this.#lastStatus = event.data as EventDataMap['system_status'];
    else if (event.type === 'portfolio_update') this.#lastPortfolio = event.data as EventDataMap['portfolio_update'];
    try {
      this.#hub.dispatch(event);
    } catch (err) {
      this.#opts.logger?.error('sigmax-ws: dispatch failed', err);
    }
  }

  #systemStatus(): EventDataMap['system_status'] {
    const uptime = Math.round((Date.now() - this.#startedAt) / 10) / 100;
    const last = this.#lastStatus;
    // agents and trading: always present, as SIGMAX 2.0 sends them ({} until a published status fills them).
    return {
      ...DEFAULT_STATUS,
      ...last,
      running: this.#state === 'listening',
      uptime,
      agents: last?.agents ?? {},
      trading: last?.trading ?? {},
      timestamp: new Date().toISOString(),
    };
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!this.#wsPaths.has(path)) {
      // Mounted: another upgrade listener of the application's (e.g. its own WebSocket) handles it.
      if (this.#external && this.#external.listenerCount('upgrade') > 1) return;
      return abortHandshake(socket, 404, 'Not Found');
    }
    if (this.#state !== 'listening' || !this.#wss) return abortHandshake(socket, 503, 'Service Unavailable');
    const creds = checkCredentials(req, this.#opts, (err) =>
      this.#opts.logger?.warn('sigmax-ws: the authenticate hook failed; refusing the connection', { remote: remoteOf(req), error: String(err) }),
    );
    if (!(creds instanceof Promise)) return this.#upgrade(req, socket, head, creds);
    // Held at the HTTP stage while the hook runs; the client sends nothing before the 101.
    socket.on('error', onError);
    this.#authenticating.add(socket);
    void creds.then((c) => {
      this.#authenticating.delete(socket);
      if (this.#state !== 'listening' || socket.destroyed) return void socket.destroy();
      this.#upgrade(req, socket, head, c);
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, creds: Credentials): void {
    this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req, creds));
  }

  #accept(ws: WebSocket, req: IncomingMessage, creds: Credentials): void {
    const ctx = this.#ctx;
    const o = this.#opts;
    if (!ctx || this.#state !== 'listening') {
      return this.#refuse(ws, req, { code: ErrorCode.SERVER_SHUTTING_DOWN, closeCode: CloseCode.GOING_AWAY, message: 'Server shutting down' });
    }
    if (creds.refusal) return this.#refuse(ws, req, creds.refusal);
    const full = checkCapacity(o, this.#sessions.size);
    if (full) return this.#refuse(ws, req, full);
    const session = new Session(ws, ctx, randomUUID(), { remote: remoteOf(req), principal: creds.principal });
    if (!o.partAOnly) session.batch = batchFromUrl(req.url); // Part B 7: `batch=1`, `batch_ms=N`
    (ws as TaggedSocket)[kSession] = session;
    ws.on('message', onMessage);
    ws.on('ping', onControlFrame);
    ws.on('pong', onControlFrame);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.#sessions.add(session);
    this.#counters.connections++;
    o.logger?.info('sigmax-ws: connection opened', { id: session.id, remote: session.remote, path: (req.url ?? '/').split('?')[0], active: this.#sessions.size });
    try {
      session.open();
    } catch (err) {
      // e.g. a system_status published with data JSON cannot hold: end this connection, not the process.
      o.logger?.error('sigmax-ws: opening a session failed', err);
      session.fail(ErrorCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR, 'The connection could not be opened');
    }
  }

  /** Sends `error` with the refusal's code and closes with its close code; the connection never becomes a session. */
  #refuse(ws: WebSocket, req: IncomingMessage, { code, closeCode, message }: Refusal): void {
    // A refused connection counts as a connection and, once closed, a disconnection
    // (so active = total - disconnections holds), and in rejected_connections_lifetime.
    const c = this.#counters;
    c.rejected++;
    c.connections++;
    this.#opts.logger?.info('sigmax-ws: connection refused', { remote: remoteOf(req), code, close_code: closeCode, reason: message });
    ws.on('error', onError);
    ws.once('close', () => {
      this.#refused.delete(ws);
      c.disconnections++;
    });
    this.#refused.add(ws);
    ws.send(JSON.stringify({ type: 'error', data: { error: message, code }, timestamp: new Date().toISOString() }));
    c.messagesSent++;
    ws.close(closeCode, code);
    if (this.#state === 'listening') this.#heartbeat.closeSoon(ws);
    else ws.terminate(); // shutting down: the heartbeat that would enforce the close grace is stopped
  }

  /**
   * Publishes an event: validated and serialised (once), committed to the event log (which gives
   * it its topic and seq), then delivered to every matching subscriber. Resolves once committed,
   * with its seq; `duplicate: true` when `options.id` was already appended (nothing appended again).
   * @throws {InvalidEventError} unknown type, data that fails the type's schema or that JSON cannot hold (e.g. a BigInt), bad id.
   * @throws {EventLogUnavailableError} the shared log (Redis) cannot take it now; retry with the same `id`.
   * @throws {ServerClosedError} when not listening.
   */
  async publish<T extends PublishedEventType>(type: T, data: EventInputMap[T], options: PublishOptions = {}): Promise<AppendResult> {
    const [result] = await this.#append([prepareEvent(type, data, options.id)]);
    return result!;
  }

  async #append(events: NewEvent[]): Promise<AppendResult[]> {
    if (this.#state !== 'listening' || !this.#log) throw new ServerClosedError();
    return this.#log.append(events);
  }

  /** Validates every input, then appends them as one batch: all or none. */
  async #publishMany(inputs: unknown[]): Promise<AppendResult[]> {
    return this.#append(parseEventInputs(inputs));
  }

  /** Counters and state, as served by `GET /api/ws/stats`. */
  stats(): WsStats {
    return buildStats(this.#statsInput());
  }

  #statsInput(): StatsInput {
    return {
      activeConnections: this.#sessions.size,
      maxConnections: this.#opts.maxConnections,
      counters: this.#counters,
      hub: this.#hub,
      log: this.#log?.status(),
      startedAt: this.#startedAt,
    };
  }

  #health(): { ok: boolean; body: object } {
    return buildHealth({ ...this.#statsInput(), state: this.#state, redisConfigured: Boolean(this.#opts.redisUrl) });
  }

  /**
   * Graceful shutdown: stops accepting, closes every client with 1001 (terminating
   * those that do not complete the close within `shutdownTimeout`), stops all
   * timers, closes the event log and the HTTP server. Idempotent.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  async #shutdown(): Promise<void> {
    const starting = this.#listening;
    this.#state = 'closing';
    await starting?.catch(() => undefined);
    this.#state = 'closing';
    this.#demo?.stop();
    this.#heartbeat.stop();
    this.#unmount?.(); // mounted: give the application its listeners back; its server stays open
    for (const socket of this.#authenticating) socket.destroy();
    this.#authenticating.clear();
    const http = this.#http;
    const httpClosed = http ? new Promise<void>((resolve) => http.close(() => resolve())) : Promise.resolve();
    http?.closeIdleConnections();
    for (const s of this.#sessions) s.close(CloseCode.GOING_AWAY, 'Server shutting down');
    for (const ws of this.#refused) ws.terminate();
    if (this.#sessions.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#allClosed = resolve;
        timer = setTimeout(resolve, this.#opts.shutdownTimeout);
      });
      clearTimeout(timer);
      if (this.#sessions.size > 0) {
        // Terminated sockets emit 'close' promptly; wait for it so the bookkeeping is final.
        const closed = new Promise<void>((resolve) => (this.#allClosed = resolve));
        for (const s of this.#sessions) s.socket.terminate();
        await closed;
      }
      this.#allClosed = undefined;
    }
    this.#heartbeat.terminateClosing();
    http?.closeAllConnections();
    await httpClosed;
    this.#wss?.close();
    await this.#log?.close().catch((err: unknown) => this.#opts.logger?.warn('sigmax-ws: closing the event log failed', err));
    this.#state = 'closed';
  }
}
