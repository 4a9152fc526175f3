/**
 * The reconnecting client: the state machine, the subscription registry (desired state, replayed on every
 * open), the stream position (resume), event fan-out to handlers and `listen()` iterators, and the API calls.
 */
import { EventEmitter } from 'eventemitter3';
import WebSocket from 'isomorphic-ws';
import {
  Feature,
  isPublishedEventType,
  isRetryableClose,
  normalizeSubscription,
  type Envelope,
  type EventDataMap,
  type PublishedEventType,
  type ServerEvent,
  type StreamPosition,
} from '../protocol/index.js';
import { withBatchQuery } from './batch.js';
import { backoffDelay } from './backoff.js';
import { Connection } from './connection.js';
import { Delivery, type ListenOptions } from './delivery.js';
import { AuthenticationError, ClosedError, ConnectionError, ProtocolError, ServerError, SigmaxError, ValidationError } from './errors.js';
import type { ClientEventName, ClientEvents, ClientState, ClientStats, GapMarker, OpenInfo, SigmaxEvent } from './events.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions, type WebSocketConstructor } from './options.js';
import { Requests, SUBSCRIPTIONS } from './requests.js';
import { SubscriptionRegistry, type SubscriptionLists, type SubscriptionRequest, type SubscriptionResult } from './subscriptions.js';
import { watchPage } from './wake.js';

const COMMAND_REPLY = { get_status: 'system_status', get_portfolio: 'portfolio_update', get_health: 'health_update' } as const;
type CommandReply = typeof COMMAND_REPLY;
const FATAL_SERVER_CODES = ['AUTHENTICATION_FAILED', 'ORIGIN_NOT_ALLOWED'];

/**
 * A reconnecting, typed client for the SIGMAX WebSocket API. See the README for semantics.
 * @example
 * const client = new SigmaxWebSocketClient({ apiKey });
 * await client.connect('ws://localhost:8000/api/ws');
 * await client.subscribe({ topics: ['executions'] });
 * client.on('trade_executed', (e) => showTrade(e.data));
 */
export class SigmaxWebSocketClient {
  readonly #guards = new WeakMap<Function, Map<string, Function>>();
  readonly #o: ResolvedOptions;
  readonly #ee = new EventEmitter();
  readonly #requests = new Requests();
  readonly #subs = new SubscriptionRegistry();
  readonly #delivery: Delivery;
  #state: ClientState = 'idle';
  #url = '';
  #conn: Connection | undefined;
  #info: OpenInfo | undefined;
  #byType = true;
  #attempt = 0;
  #opened = false;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #healthyTimer: ReturnType<typeof setTimeout> | undefined;
  #waiters: { resolve: (i: OpenInfo) => void; reject: (e: SigmaxError) => void }[] = [];
  #held: ServerError | undefined;
  #restored: SubscriptionLists | undefined;
  #unwatch: (() => void) | undefined;
  #stats = { reconnects: 0, lastRtt: undefined as number | undefined, invalidFrames: 0 };

  /** @throws TypeError when an option is invalid (the message quotes the value). */
  constructor(options?: ClientOptions) {
    this.#o = resolveOptions(options);
    this.#delivery = new Delivery(
      (event) => {
        this.#emit(event.type, event as never);
        this.#emit('*', event);
      },
      { bufferSize: this.#o.listenBufferSize, overflow: this.#o.listenOverflow },
    );
    for (const [k, fn] of Object.entries(this.#o.listeners ?? {})) if (fn) this.#ee.on(k, this.#guard(k, fn) as never);
  }

  /** Current state. */
  get state(): ClientState {
    return this.#state;
  }
  /** `connection_id` of the open connection. */
  get connectionId(): string | undefined {
    return this.#state === 'open' ? this.#info?.connectionId : undefined;
  }
  /** Where the client resumes from: epoch and `seq` of the last event delivered, or the position a `subscribed` reply gave; `undefined` before either. */
  get position(): StreamPosition | undefined {
    const pos = this.#delivery.pos;
    return pos && { ...pos };
  }
  /** Whether the state is `open`. */
  isConnected(): boolean {
    return this.#state === 'open';
  }

  /**
   * Opens the connection; resolves once the server's `connected` event has arrived and recorded subscriptions are
   * restored. While already open, resolves at once; while connecting or reconnecting, with the next open.
   *
   * The first attempt is never retried, even with `autoReconnect`: when it fails, for whatever reason (refused,
   * unreachable, `CONNECT_TIMEOUT`, authentication failed, `MAX_CONNECTIONS_EXCEEDED`), the promise rejects with a
   * typed error and the client is `closed` with nothing left running, so a rejected `connect()` is never followed by
   * a connection made behind the caller's back. Recorded subscriptions and handlers are kept: call `connect()` again
   * to retry (with your own delay). `autoReconnect` covers every loss after the first successful open.
   * Rejects with a `TypeError` when no URL is given (here or in the options).
   */
  connect(url = this.#o.url, apiKey = this.#o.apiKey): Promise<OpenInfo> {
    if (this.#state === 'open' && this.#info) return Promise.resolve(this.#info);
    const p = new Promise<OpenInfo>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (this.#state === 'connecting' || this.#state === 'reconnecting') return p;
    if (typeof url !== 'string' || !url) {
      this.#waiters.length = 0;
      return Promise.reject(new TypeError(`Expected a WebSocket URL, got ${String(url)} (${typeof url})`));
    }
    this.#url = withBatchQuery(apiKey ? `${url}${url.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(apiKey)}` : url, this.#o.batch);
    this.#opened = false;
    this.#attempt = 0;
    if (!this.#setState('connecting', 'connect()')) return p; // a `state` handler called disconnect()
    this.#watchBrowser();
    this.#open();
    return p;
  }

  /**
   * Closes the connection and stops reconnecting, in any state (also `idle`). Idempotent. Pending calls and
   * `connect()` reject with `ClosedError`; `listen()` iterators end; every timer and listener is cleared.
   */
  disconnect(): Promise<void> {
    if (this.#state !== 'closed') this.#finish('disconnect()');
    return Promise.resolve();
  }

  /** Registers a handler; returns a function that removes exactly this registration (idempotent). */
  on<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): () => void {
    const ctx = {};
    const fn = this.#guard(type, handler);
    this.#ee.on(type, fn as never, ctx);
    return () => void this.#ee.removeListener(type, fn as never, ctx);
  }
  /** Registers a handler called at most once; returns its remover. */
  once<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): () => void {
    const ctx = {};
    const fn = this.#guard(type, handler);
    this.#ee.once(type, fn as never, ctx);
    return () => void this.#ee.removeListener(type, fn as never, ctx);
  }
  /** Removes every registration of `handler` for `type`. */
  off<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): void {
    this.#ee.removeListener(type, this.#guard(type, handler) as never);
  }

  /**
   * Published events as an async iterator, optionally filtered by type and topic. Each iterator has its own
   * bounded buffer; `break`, `signal` and `disconnect()` end it. A gap yields a {@link GapMarker} whatever the filters.
   */
  listen<T extends PublishedEventType = PublishedEventType>(options: ListenOptions<T> = {}): AsyncIterableIterator<SigmaxEvent<T> | GapMarker> {
    return this.#delivery.listen(options, this.#state === 'closed');
  }

  /**
   * Subscribes; resolves with the server's normalised lists, and records them (restored on every reconnect).
   * Invalid input rejects with `ValidationError`, a refusal by the server with `ServerError` (e.g.
   * `TOO_MANY_SUBSCRIPTIONS`); nothing is recorded then. While not open, or when the connection is lost before
   * the reply, the wish is recorded and sent on (re)connect: it resolves with `queued: true`.
   */
  async subscribe(request: SubscriptionRequest): Promise<SubscriptionResult> {
    return this.#changeSubscription('subscribe', request);
  }
  /** Unsubscribes; same rules as `subscribe`. */
  async unsubscribe(request: SubscriptionRequest): Promise<SubscriptionResult> {
    return this.#changeSubscription('unsubscribe', request);
  }

  /** Sends a command and resolves with its reply's `data`; rejects with `ServerError` (e.g. `UNKNOWN_COMMAND`) or `TimeoutError`. */
  command<N extends keyof CommandReply>(name: N, args?: Record<string, unknown>): Promise<EventDataMap[CommandReply[N]]>;
  command(name: string, args?: Record<string, unknown>): Promise<unknown>;
  async command(name: string, args: Record<string, unknown> = {}): Promise<unknown> {
    const expect = (COMMAND_REPLY as Record<string, string>)[name] ?? name;
    return (await this.#request({ type: 'command', data: { ...args, command: name } }, expect)).data;
  }
  /** The system status (`get_status` → `system_status`). */
  getStatus(): Promise<EventDataMap['system_status']> {
    return this.command('get_status');
  }
  /** The portfolio (`get_portfolio` → `portfolio_update`). */
  getPortfolio(): Promise<EventDataMap['portfolio_update']> {
    return this.command('get_portfolio');
  }
  /** The health metrics (`get_health` → `health_update`). */
  getHealth(): Promise<EventDataMap['health_update']> {
    return this.command('get_health');
  }
  /** This connection's subscriptions as the server holds them, e.g. `['executions', 'symbol:BTC/USDT']`. */
  async getSubscriptions(): Promise<string[]> {
    const ev = (await this.#request({ type: 'get_subscriptions' }, SUBSCRIPTIONS)) as ServerEvent<'system_status'>;
    return ev.data.subscriptions ?? [];
  }
  /** Sends a `ping`; resolves with the round-trip time in ms. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    await this.#request({ type: 'ping' }, 'pong');
    return (this.#stats.lastRtt = Math.round((performance.now() - t0) * 100) / 100);
  }

  /** Counters and the current position. */
  stats(): ClientStats {
    const d = this.#delivery;
    return { ...this.#stats, eventsReceived: d.delivered, duplicatesDropped: d.duplicates, eventsDropped: d.dropped, iterators: d.iterators, state: this.#state, connectionId: this.connectionId, position: this.position };
  }

  // --- state machine -------------------------------------------------------------------------

  /**
   * The only place the state changes: clears what the old state owned, then emits `state`. Returns whether the
   * state is still `to` afterwards (a handler may have called `disconnect()`); callers stop when it is not.
   */
  #setState(to: ClientState, reason: string): boolean {
    const from = this.#state;
    if (from === to) return true;
    if (from === 'reconnecting') {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
    }
    if (from === 'open') {
      clearTimeout(this.#healthyTimer);
      this.#healthyTimer = undefined;
    }
    this.#state = to;
    this.#log('debug', `state ${from} -> ${to} (${reason})`);
    this.#emit('state', { from, to, reason });
    return this.#state === to;
  }

  #open(): void {
    this.#held = undefined;
    const { connectTimeout, pingInterval, pingTimeout } = this.#o;
    try {
      const conn: Connection = new Connection((this.#o.WebSocket ?? WebSocket) as WebSocketConstructor, this.#url, { connectTimeout, pingInterval, pingTimeout }, {
        onConnected: (d) => this.#onConnected(conn, d),
        onFrame: (ev, known) => this.#onFrame(ev, known),
        onInvalid: (raw, message) => {
          this.#stats.invalidFrames++;
          this.#emit('error', new ProtocolError(`Invalid frame from server: ${message}`, raw));
        },
        onClose: (code, reason, error) => this.#onLost(code, reason, error),
      });
      this.#conn = conn;
    } catch (cause) {
      this.#finish('connect failed', new ConnectionError('CONNECTION_FAILED', `Cannot open ${this.#url}: ${String(cause)}`, undefined, { cause }));
    }
  }

  #onConnected(conn: Connection, d: EventDataMap['connected']): void {
    const features = d.features ?? [];
    this.#byType = !features.includes(Feature.REQUEST_ID);
    const info: OpenInfo = { connectionId: d.connection_id, protocol: d.protocol ?? undefined, features, epoch: d.epoch ?? undefined, recovered: undefined };
    this.#info = info;
    const { topics, symbols } = (this.#restored = this.#subs.snapshot());
    const delivery = this.#delivery;
    const since = this.#o.resume && features.includes(Feature.RESUME) && d.epoch ? delivery.pos : undefined;
    if (!since && delivery.pos && delivery.pos.epoch !== d.epoch) delivery.pos = undefined;
    if (!topics.length && !symbols.length) return this.#setOpen(info);
    this.#send(conn, { type: 'subscribe', data: since ? { topics, symbols, since } : { topics, symbols } }, 'subscribed').then(
      (ev) => {
        if (this.#conn !== conn) return;
        const r = (ev as ServerEvent<'subscribed'>).data.recovered ?? undefined;
        if (since) {
          info.recovered = r;
          if (r === false) this.#emit('gap', delivery.gap(since, d.epoch ?? undefined));
        }
        this.#adopt(ev);
        if (this.#conn === conn) this.#setOpen(info); // unless a `gap` handler called disconnect()
      },
      (err: SigmaxError) => {
        if (this.#conn !== conn) return;
        this.#emit('error', err);
        if (this.#conn === conn) this.#setOpen(info);
      },
    );
  }

  #setOpen(info: OpenInfo): void {
    const again = this.#opened;
    this.#opened = true;
    if (!this.#setState('open', again ? 'reconnected' : 'connected')) return;
    this.#healthyTimer = setTimeout(() => {
      this.#healthyTimer = undefined;
      this.#attempt = 0;
    }, this.#o.healthyAfter);
    this.#syncChangesMadeWhileRestoring();
    if (again) this.#stats.reconnects++;
    for (const w of this.#waiters.splice(0)) w.resolve(info);
    this.#emit('open', info);
    if (again && this.#state === 'open') this.#emit('reconnected', info);
  }

  /** Subscription calls made while the restoring `subscribe` was in flight are sent now. */
  #syncChangesMadeWhileRestoring(): void {
    const before = this.#restored;
    const conn = this.#conn;
    this.#restored = undefined;
    if (!before || !conn) return;
    const { added, removed } = this.#subs.diff(before);
    for (const [type, lists] of [['subscribe', added], ['unsubscribe', removed]] as const) {
      if (!lists.topics.length && !lists.symbols.length) continue;
      this.#send(conn, { type, data: lists }, `${type}d`).catch((e: SigmaxError) => {
        if (this.#conn === conn) this.#emit('error', e);
      });
    }
  }

  #onLost(code: number, reason: string, error: SigmaxError): void {
    this.#conn = undefined;
    this.#restored = undefined;
    this.#requests.failAll(new ConnectionError('CONNECTION_LOST', 'The connection was lost before the reply', { code, reason }));
    const held = this.#held;
    let fatal: SigmaxError | undefined;
    if (!isRetryableClose(code) || error.code === 'AUTHENTICATION_FAILED' || (held && FATAL_SERVER_CODES.includes(held.code))) {
      fatal = new AuthenticationError(held?.code ?? 'AUTHENTICATION_FAILED', held?.message ?? `Refused by the server (close ${code}${reason ? `: ${reason}` : ''})`, held?.details);
    }
    const failure = fatal ?? held ?? error;
    const willRetry = !fatal && this.#o.autoReconnect && this.#state !== 'connecting' && this.#attempt < this.#o.maxReconnectAttempts;
    this.#log('info', `closed ${code} ${reason}`);
    this.#emit('close', { code, reason, willRetry });
    if (this.#state === 'closed') return; // a `close` handler called disconnect()
    if (this.#state === 'connecting' || fatal) return this.#finish(`close ${code}`, failure);
    if (!willRetry) {
      return this.#finish(`close ${code}`, this.#o.autoReconnect ? new ConnectionError('RECONNECT_FAILED', `Gave up after ${this.#attempt} reconnect attempts`, { code, reason }, { cause: failure }) : undefined);
    }
    const delay = backoffDelay(this.#attempt++, { minDelay: this.#o.minReconnectDelay, maxDelay: this.#o.maxReconnectDelay, random: this.#o.random });
    if (!this.#setState('reconnecting', `close ${code}`)) return;
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#open();
    }, delay);
    this.#emit('reconnecting', { attempt: this.#attempt, delay });
  }

  /**
   * Ends the client (`closed`): closes the socket, settles every pending call and iterator, then emits `state`
   * (so a handler that calls `connect()` again starts afresh). `error` goes to exactly one channel.
   */
  #finish(reason: string, error?: SigmaxError): void {
    this.#conn?.close(1000, 'client disconnect');
    this.#conn = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    const closed = new ClosedError('CLIENT_CLOSED', 'The client was closed');
    this.#requests.failAll(error ?? closed);
    const waiters = this.#waiters.splice(0);
    for (const w of waiters) w.reject(error ?? closed);
    const iterators = this.#delivery.end(waiters.length ? undefined : error);
    this.#setState('closed', reason);
    if (error && !waiters.length && !iterators) this.#emit('error', error);
  }

  /** In browsers, a page coming back online or visible reconnects at once instead of waiting out the backoff. */
  #watchBrowser(): void {
    this.#unwatch ??= watchPage(() => {
      if (this.#backoffTimer === undefined) return;
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
      this.#open();
    });
  }

  // --- frames, events and requests -----------------------------------------------------------

  #onFrame(ev: ServerEvent | Envelope, known: boolean): void {
    // A reply with a request_id that nothing waits for answers a request that already timed out: it was reported then.
    if (this.#requests.settle(ev, this.#byType) || typeof ev.request_id === 'string') return;
    if (!known) return this.#emit('unknown', ev as Envelope);
    if (ev.type === 'error') {
      const d = (ev as ServerEvent<'error'>).data;
      const err = new ServerError(d.code, d.error, d.details);
      // An error that comes before a close is reported with the close (one channel).
      if (this.#state !== 'open' || FATAL_SERVER_CODES.includes(d.code)) this.#held = err;
      else this.#emit('error', err);
      return;
    }
    if (isPublishedEventType(ev.type)) this.#delivery.deliver(ev as SigmaxEvent, this.#info?.epoch);
  }

  /**
   * A `subscribed` reply may carry `{epoch, seq}`: the position from which this connection receives every matching
   * event (the reference server sends it in answer to `since`, so also after a gap). With no position yet in this
   * epoch, start from it, so a client that has received no event since can still resume what it misses.
   */
  #adopt(ev: ServerEvent | Envelope): void {
    const { seq, epoch = this.#info?.epoch } = ev.data as EventDataMap['subscribed'];
    if (typeof seq === 'number' && epoch && epoch === this.#info?.epoch && this.#delivery.pos?.epoch !== epoch) this.#delivery.pos = { epoch, seq };
  }

  async #changeSubscription(type: 'subscribe' | 'unsubscribe', req: SubscriptionRequest): Promise<SubscriptionResult> {
    const n = normalizeSubscription(req?.topics ?? [], req?.symbols ?? []);
    if (!n.ok) throw new ValidationError(n.code, n.message);
    const record = (): void => this.#subs.apply(type, n);
    const conn = this.#conn;
    if (this.#state !== 'open' || !conn) {
      record();
      return { topics: n.topics, symbols: n.symbols, queued: true };
    }
    try {
      const ev = (await this.#send(conn, { type, data: { topics: n.topics, symbols: n.symbols } }, type === 'subscribe' ? 'subscribed' : 'unsubscribed')) as ServerEvent<'subscribed'>;
      record();
      this.#adopt(ev);
      return { topics: ev.data.topics, symbols: ev.data.symbols, message: ev.data.message ?? undefined };
    } catch (e) {
      if (!(e instanceof ConnectionError) || e.code !== 'CONNECTION_LOST' || (this.#state as ClientState) === 'closed') throw e;
      record(); // lost before the reply: the wish is kept and restored on reconnect
      return { topics: n.topics, symbols: n.symbols, queued: true };
    }
  }

  /** Public requests need an open connection. */
  #request(frame: { type: string; data?: object }, expect: string): Promise<ServerEvent | Envelope> {
    const conn = this.#conn;
    if (this.#state !== 'open' || !conn) {
      return Promise.reject(this.#state === 'closed' ? new ClosedError('CLIENT_CLOSED', 'The client was closed') : new ConnectionError('NOT_CONNECTED', `Not connected (state: ${this.#state})`));
    }
    return this.#send(conn, frame, expect);
  }

  #send(conn: Connection, frame: { type: string; data?: object }, expect: string): Promise<ServerEvent | Envelope> {
    const { id, reply } = this.#requests.add(expect, this.#o.commandTimeout);
    if (!conn.send({ ...frame, request_id: id })) this.#requests.fail(id, new ConnectionError('NOT_CONNECTED', 'The socket is not open'));
    return reply;
  }

  #emit<K extends ClientEventName>(type: K, arg: Parameters<ClientEvents[K]>[0]): void {
    if (type === 'error') this.#log('error', String(arg));
    this.#ee.emit(type, arg as never);
  }

  /**
   * The registered form of a user handler: it catches what the handler throws (reported as `HANDLER_ERROR`), so one
   * throwing handler never keeps the others from running. One wrapper per handler and event, so `off()` finds it.
   */
  #guard(type: string, handler: Function): Function {
    let byType = this.#guards.get(handler);
    if (!byType) this.#guards.set(handler, (byType = new Map()));
    let fn = byType.get(type);
    if (!fn) {
      fn = (arg: unknown) => {
        try {
          handler(arg);
        } catch (cause) {
          if (type === 'error') this.#log('error', 'an error handler threw', cause);
          else this.#emit('error', new SigmaxError('HANDLER_ERROR', `A \`${type}\` handler threw: ${String(cause)}`, { cause }));
        }
      };
      byType.set(type, fn);
    }
    return fn;
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', message: string, ...args: unknown[]): void {
    this.#o.logger?.[level]?.(`[sigmax-ws] ${message}`, ...args);
  }
}
