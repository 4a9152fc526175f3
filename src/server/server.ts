/**
 * `SigmaxServer`: binds sessions, the hub, the event log, the heartbeat and the
 * HTTP endpoints to `node:http` + `ws`, and owns their lifecycle.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CloseCode, ErrorCode, Feature, WS_PATH, type EventDataMap, type PublishedEventType } from '../protocol/index.js';
import { admit } from './admission.js';
import { resolveOptions, type ResolvedOptions, type SigmaxServerOptions } from './config.js';
import { Counters, type ServerContext } from './context.js';
import { DemoFeed } from './demo.js';
import { ConfigError, ServerClosedError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { createHttpHandler } from './http.js';
import { Hub } from './hub.js';
import { MemoryEventLog } from './log/memory.js';
import type { EventLog, SequencedEvent } from './log/types.js';
import { Metrics } from './metrics.js';
import { parseEventInputs, validateEvent } from './publish.js';
import { Session } from './session.js';
import { buildHealth, buildStats, type StatsInput, type WsStats } from './stats.js';

type ServerState = 'idle' | 'starting' | 'listening' | 'closing' | 'closed';

const FEATURES = [Feature.REQUEST_ID, Feature.EXACTLY_ONCE, Feature.RESUME, Feature.CLOSE_CODES, Feature.LIMITS];
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
function onClose(this: TaggedSocket): void {
  this[kSession]?.closed();
}
function onError(): void {
  // A socket error is followed by 'close'; nothing else to do.
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
  #http: Server | undefined;
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
    this.#hub = new Hub(this.#opts.partAOnly);
    this.#heartbeat = new Heartbeat(this.#sessions, {
      intervalMs: this.#opts.heartbeatInterval,
      timeoutMs: this.#opts.connectionTimeout,
      closeGraceMs: CLOSE_GRACE_MS,
    });
  }

  /** The port listened on (the actual one when `port: 0`); 0 before `listen()`. */
  get port(): number {
    return this.#port;
  }

  /** WebSocket URL, e.g. `ws://127.0.0.1:8000/api/ws`. */
  get url(): string {
    const h = this.#opts.host;
    const host = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '[::1]' : h.includes(':') ? `[${h}]` : h;
    return `ws://${host}:${this.#port}${WS_PATH}`;
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
    try {
      this.#log = await this.#createLog();
      this.#ctx = this.#context(this.#log);
      await this.#log.start((event) => this.#onEvent(event));
      const http = createServer(
        createHttpHandler({
          options: o,
          stats: () => this.stats(),
          health: () => this.#health(),
          publishMany: (inputs) => this.#publishMany(inputs),
        }),
      );
      this.#http = http;
      this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: o.maxMessageSize * 2 });
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
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
        publish: (type, data) => this.publish(type, data),
        health: () => this.#metrics.health(),
        status: () => this.#systemStatus(),
        logger: o.logger,
      });
      this.#demo.start();
    }
    o.logger?.info(`sigmax-ws: listening on ${this.url}`);
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
      closeSoon: (socket) => this.#heartbeat.closeSoon(socket),
      sessionClosed: (session) => {
        if (this.#sessions.delete(session)) this.#counters.disconnections++;
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
    return { ...DEFAULT_STATUS, ...this.#lastStatus, running: this.#state === 'listening', uptime, timestamp: new Date().toISOString() };
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (this.#state !== 'listening' || !this.#wss) return abortHandshake(socket, 503, 'Service Unavailable');
    if (path !== WS_PATH) return abortHandshake(socket, 404, 'Not Found');
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    const ctx = this.#ctx;
    if (!ctx || this.#state !== 'listening') return this.#refuse(ws, ErrorCode.SERVER_SHUTTING_DOWN, CloseCode.GOING_AWAY, 'Server shutting down');
    const refusal = admit(req, this.#opts, this.#sessions.size);
    if (refusal) return this.#refuse(ws, refusal.code, refusal.closeCode, refusal.message);
    const session = new Session(ws, ctx, randomUUID());
    (ws as TaggedSocket)[kSession] = session;
    ws.on('message', onMessage);
    ws.on('ping', onControlFrame);
    ws.on('pong', onControlFrame);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.#sessions.add(session);
    this.#counters.connections++;
    try {
      session.open();
    } catch (err) {
      // e.g. a system_status published with data JSON cannot hold: end this connection, not the process.
      this.#opts.logger?.error('sigmax-ws: opening a session failed', err);
      session.fail(ErrorCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR, 'The connection could not be opened');
    }
  }

  /** Sends `error` with `code` and closes with `closeCode`; the connection never becomes a session. */
  #refuse(ws: WebSocket, code: string, closeCode: number, message: string): void {
    // A refused connection counts as a connection and, once closed, a disconnection
    // (so active = total - disconnections holds), and in rejected_connections_lifetime.
    const c = this.#counters;
    c.rejected++;
    c.connections++;
    this.#opts.logger?.debug(`sigmax-ws: refusing a connection: ${code}`);
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
   * Publishes an event: validated, committed to the event log (which gives it its
   * topic and seq), then delivered to every matching subscriber. Resolves once committed.
   * @throws {InvalidEventError} unknown type or data that fails the type's schema.
   * @throws {ServerClosedError} when not listening.
   */
  async publish<T extends PublishedEventType>(type: T, data: EventDataMap[T]): Promise<void> {
    validateEvent(type, data);
    await this.#append(type, data);
  }

  async #append(type: PublishedEventType, data: unknown): Promise<void> {
    if (this.#state !== 'listening' || !this.#log) throw new ServerClosedError();
    await this.#log.append({ type, data, timestamp: new Date().toISOString() });
  }

  async #publishMany(inputs: unknown[]): Promise<number> {
    const events = parseEventInputs(inputs);
    for (const e of events) await this.#append(e.type, e.data);
    return events.length;
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
