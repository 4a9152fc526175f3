/**
 * The reconnecting client: an explicit state machine (the table below), the subscription registry (desired state,
 * restored on every open by `restore.ts`), event fan-out (`delivery.ts`, `handlers.ts`) and the API calls.
 */
import { type Envelope, type EventDataMap, type PublishedEventType, type ServerEvent, type StreamPosition } from '../protocol/index.js';
import { withBatchQuery } from './batch.js';
import { backoffDelay } from './backoff.js';
import { Connection } from './connection.js';
import { Delivery, type ListenOptions } from './delivery.js';
import { aborted, ClosedError, closedError, ConnectionError, type ServerError, type SigmaxError } from './errors.js';
import type { ClientEventName, ClientEvents, ClientState, ClientStats, CloseInfo, GapMarker, OpenInfo, SigmaxEvent } from './events.js';
import { Handlers } from './handlers.js';
import { classifyClose } from './policy.js';
import { resolveOptions, type ClientOptions, type ConnectOptions, type ResolvedOptions } from './options.js';
import { replyOf, Requests, SUBSCRIPTIONS, type CommandReply, type OnSettle } from './requests.js';
import { openAttempt, type AttemptHost } from './attempt.js';
import { syncChanges, type RestoreContext } from './restore.js';
import { changeSubscription, SubscriptionRegistry, type SubscriptionHost, type SubscriptionLists, type SubscriptionRequest, type SubscriptionResult } from './subscriptions.js';
import { watchPage } from './wake.js';
import { OpenWaiters } from './waiters.js';

/**
 * The allowed transitions. `connecting`: an attempt is in flight (socket, `connected`, restore); `reconnecting`: a
 * backoff wait between attempts. `connecting` and `open` own the socket, `open` the healthy timer, `reconnecting` the
 * backoff timer, every state but `idle`/`closed` the page and abort listeners; each is released on exit.
 */
const NEXT: Readonly<Record<ClientState, readonly ClientState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: ['connecting'],
};


/**
 * A reconnecting, typed client for the SIGMAX WebSocket API. See the README for semantics.
 * @example
 * const client = new SigmaxWebSocketClient({ apiKey });
 * await client.connect('ws://localhost:8000/api/ws');
 * await client.subscribe({ topics: ['executions'] });
 * client.on('trade_executed', (e) => showTrade(e.data));
 */
export class SigmaxWebSocketClient {
  readonly #o: ResolvedOptions;
  readonly #h: Handlers;
  readonly #requests = new Requests((e) => this.#h.emit('error', e));
  readonly #subs = new SubscriptionRegistry();
  readonly #delivery: Delivery;
  #state: ClientState = 'idle';
  #url = '';
  #conn: Connection | undefined;
  #info: OpenInfo | undefined;
  #attempt = 0;
  #opened = false;
  /** The timer the current state owns: backoff (`reconnecting`) or healthy (`open`). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #waiters = new OpenWaiters();
  #unwatch: (() => void) | undefined;
  readonly #subHost: SubscriptionHost = {
    subs: this.#subs,
    sender: () => (this.#state === 'open' ? (frame, expect, onSettle) => this.#request(frame, expect, onSettle) : undefined),
    adopt: (data) => this.#delivery.adopt(data, this.#info?.epoch),
    closed: () => this.#state === 'closed',
  };
  readonly #stats = { reconnects: 0, lastRtt: undefined as number | undefined, invalidFrames: 0 };
  readonly #attemptHost: AttemptHost;

  /** @throws TypeError when an option is invalid (the message quotes the value). */
  constructor(options?: ClientOptions) {
    this.#o = resolveOptions(options);
    this.#h = new Handlers(this.#o.logger);
    this.#delivery = new Delivery((e) => (this.#h.emit(e.type, e as never), this.#h.emit('*', e)), { bufferSize: this.#o.listenBufferSize, overflow: this.#o.listenOverflow });
    for (const [k, fn] of Object.entries(this.#o.listeners ?? {})) if (fn) this.#h.add(k as ClientEventName, fn as never);
    this.#attemptHost = {
      options: this.#o, handlers: this.#h, requests: this.#requests, subs: this.#subs, delivery: this.#delivery, stats: this.#stats,
      isCurrent: (conn) => this.#conn === conn,
      connected: (info) => void (this.#info = info),
      restored: (ctx, sent) => this.#restored(ctx, sent),
      lost: (code, reason, error, held) => this.#onLost(code, reason, error, held),
    };
  }

  /** Current state. */
  get state(): ClientState { return this.#state; }
  /** `connection_id` of the open connection. */
  get connectionId(): string | undefined { return this.#state === 'open' ? this.#info?.connectionId : undefined; }
  /** Where the client resumes from: epoch and `seq` of the last event delivered, or the position a `subscribed` reply gave; `undefined` before either. */
  get position(): StreamPosition | undefined {
    const pos = this.#delivery.pos;
    return pos && { ...pos };
  }
  /** Whether the state is `open`. */
  isConnected(): boolean { return this.#state === 'open'; }

  /**
   * Opens the connection; resolves once `connected` has arrived and recorded subscriptions are restored. While open,
   * at once; while connecting or reconnecting, with the next open. With `autoReconnect` and `retryFirstConnect`
   * (defaults), transient failures are retried with the backoff; rejects on a fatal one (1008, invalid URL), once
   * `maxReconnectAttempts` are spent (`RECONNECT_FAILED`), on `disconnect()` (`CLIENT_CLOSED`) or when `signal` aborts
   * (`ABORTED`). The client is then `closed`, nothing left running. Rejects with a `TypeError` without a URL.
   */
  connect(target?: string | ConnectOptions, apiKey?: string): Promise<OpenInfo> {
    const t: ConnectOptions = typeof target === 'object' && target ? target : { url: target, apiKey };
    if (this.#state === 'open' && this.#info) return Promise.resolve(this.#info);
    const gone = [t.signal, this.#o.signal].find((s) => s?.aborted);
    if (gone) return Promise.reject(aborted(gone));
    const starting = this.#state !== 'connecting' && this.#state !== 'reconnecting';
    const url = (t.url ?? this.#o.url) as string;
    if (starting && (typeof url !== 'string' || !url)) return Promise.reject(new TypeError(`Expected a WebSocket URL, got ${String(url)} (${typeof url})`));
    const p = this.#waiters.add(t.signal, (signal) => this.#finish('aborted', aborted(signal)));
    if (!starting) return p;
    const key = t.apiKey ?? this.#o.apiKey;
    this.#url = withBatchQuery(key ? `${url}${url.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(key)}` : url, this.#o.batch);
    this.#opened = false;
    this.#attempt = 0;
    if (!this.#to('connecting', 'connect()')) return p; // a `state` handler called disconnect()
    this.#watch();
    this.#open();
    return p;
  }

  /** Closes the connection and stops reconnecting, in any state. Idempotent. Pending calls and `connect()` reject with `ClosedError`; `listen()` iterators end. */
  disconnect(): Promise<void> {
    if (this.#state !== 'closed') this.#finish('disconnect()');
    return Promise.resolve();
  }

  /** Registers a handler; returns a function that removes exactly this registration (idempotent). @throws TypeError for an unknown event name or a handler that is not a function. */
  on<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): () => void { return this.#h.add(type, handler); }
  /** Registers a handler called at most once; returns its remover. @throws TypeError like `on()`. */
  once<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): () => void { return this.#h.add(type, handler, true); }
  /** Removes every registration of `handler` for `type`. */
  off<K extends ClientEventName>(type: K, handler: NoInfer<ClientEvents[K]>): void { this.#h.remove(type, handler); }

  /** Published events as an async iterator, optionally filtered by type and topic; bounded buffer; `break`, `signal` and `disconnect()` end it. A gap yields a {@link GapMarker}. */
  listen<T extends PublishedEventType = PublishedEventType>(options: ListenOptions<T> = {}): AsyncIterableIterator<SigmaxEvent<T> | GapMarker> {
    return this.#delivery.listen(options, this.#state === 'closed');
  }

  /**
   * Subscribes; resolves with the server's normalised lists and records them (restored on every reconnect). Invalid
   * input rejects with `ValidationError`, a refusal with `ServerError`; nothing is recorded then. While not open (or
   * lost before the reply) the wish is recorded and sent on (re)connect: it resolves with `queued: true`.
   */
  subscribe(request: SubscriptionRequest): Promise<SubscriptionResult> { return changeSubscription(this.#subHost, 'subscribe', request); }
  /** Unsubscribes; same rules as `subscribe`. */
  unsubscribe(request: SubscriptionRequest): Promise<SubscriptionResult> { return changeSubscription(this.#subHost, 'unsubscribe', request); }

  /** Sends a command and resolves with its reply's `data`; rejects with `ServerError` (e.g. `UNKNOWN_COMMAND`), `ProtocolError` (a reply of the wrong type) or `TimeoutError`. */
  command<N extends keyof CommandReply>(name: N, args?: Record<string, unknown>): Promise<EventDataMap[CommandReply[N]]>;
  command(name: string, args?: Record<string, unknown>): Promise<unknown>;
  async command(name: string, args: Record<string, unknown> = {}): Promise<unknown> {
    return (await this.#request({ type: 'command', data: { ...args, command: name } }, replyOf(name))).data;
  }
  /** The system status (`get_status` → `system_status`). */
  getStatus(): Promise<EventDataMap['system_status']> { return this.command('get_status'); }
  /** The portfolio (`get_portfolio` → `portfolio_update`). */
  getPortfolio(): Promise<EventDataMap['portfolio_update']> { return this.command('get_portfolio'); }
  /** The health metrics (`get_health` → `health_update`). */
  getHealth(): Promise<EventDataMap['health_update']> { return this.command('get_health'); }
  /** This connection's subscriptions as the server holds them, e.g. `['executions', 'symbol:BTC/USDT']`. */
  async getSubscriptions(): Promise<string[]> { return ((await this.#request({ type: 'get_subscriptions' }, SUBSCRIPTIONS)) as ServerEvent<'system_status'>).data.subscriptions ?? []; }
  /** Sends a `ping`; resolves with the round-trip time in ms (a heartbeat's `pong` never answers it). */
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

  /** The only place the state changes: releases what the old state owned, then emits `state`. Returns whether the state is still `to` (a handler may have called `disconnect()`). */
  #to(to: ClientState, reason: string): boolean {
    const from = this.#state;
    if (!NEXT[from].includes(to)) throw new Error(`sigmax-ws: no transition ${from} -> ${to}`);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (to === 'reconnecting' || to === 'closed') {
      this.#conn?.close(1000, 'client disconnect');
      this.#conn = undefined;
    }
    if (to === 'closed') {
      this.#unwatch?.();
      this.#unwatch = undefined;
    }
    this.#state = to;
    this.#h.log('debug', `state ${from} -> ${to} (${reason})`);
    this.#h.emit('state', { from, to, reason });
    return this.#state === to;
  }

  /** One attempt (state `connecting`). */
  #open(): void {
    try {
      this.#conn = openAttempt(this.#attemptHost, this.#url);
    } catch (cause) {
      this.#finish('connect failed', new ConnectionError('CONNECTION_FAILED', `Cannot open ${this.#url}: ${String(cause)}`, undefined, { cause }));
    }
  }

  /** The attempt's restore is done: open. */
  #restored(ctx: RestoreContext, sent: SubscriptionLists): void {
    const again = this.#opened;
    this.#opened = true;
    if (!this.#to('open', again ? 'reconnected' : 'connected')) return;
    this.#timer = setTimeout(() => ((this.#timer = undefined), (this.#attempt = 0)), this.#o.healthyAfter);
    syncChanges(ctx, sent);
    if (again) this.#stats.reconnects++;
    const info = ctx.info;
    this.#waiters.settle({ info });
    this.#h.emit('open', info);
    if (again && this.#state === 'open') this.#h.emit('reconnected', info);
  }

  /** The socket of the current attempt or connection closed: retry after a backoff, or end. */
  #onLost(code: number, reason: string, error: SigmaxError, held: ServerError | undefined): void {
    this.#conn = undefined;
    this.#requests.failAll(new ConnectionError('CONNECTION_LOST', 'The connection was lost before the reply', { code, reason }));
    const { fatal, failure } = classifyClose(code, reason, error, held);
    const retrying = this.#o.autoReconnect && !fatal && (this.#opened || this.#o.retryFirstConnect);
    const close: CloseInfo = { code, reason, willRetry: retrying && this.#attempt < this.#o.maxReconnectAttempts };
    this.#h.log('info', `closed ${code} ${reason}`);
    if (!close.willRetry) {
      const gaveUp = retrying ? new ConnectionError('RECONNECT_FAILED', `Gave up after ${this.#attempt} reconnect attempts`, { code, reason }, { cause: failure }) : undefined;
      return this.#finish(`close ${code}`, fatal ? failure : (gaveUp ?? (this.#opened ? undefined : failure)), close);
    }
    const delay = backoffDelay(this.#attempt++, { minDelay: this.#o.minReconnectDelay, maxDelay: this.#o.maxReconnectDelay, random: this.#o.random });
    if (!this.#to('reconnecting', `close ${code}`)) return;
    this.#timer = setTimeout(() => this.#retry(), delay);
    this.#h.emit('close', close);
    if (this.#state === 'reconnecting') this.#h.emit('reconnecting', { attempt: this.#attempt, delay });
  }

  #retry(): void { if (this.#to('connecting', `attempt ${this.#attempt}`)) this.#open(); }

  /** Ends the client (`closed`): settles every pending call, `connect()` and iterator, then emits `state`, `close` and `error` (which goes to exactly one channel). */
  #finish(reason: string, error?: SigmaxError, close?: CloseInfo): void {
    if (this.#state === 'closed') return;
    const quiet = !error || error instanceof ClosedError;
    this.#requests.failAll(error ?? closedError());
    const waiters = this.#waiters.settle({ error: error ?? closedError() });
    const iterators = this.#delivery.end(waiters || quiet ? undefined : error);
    this.#to('closed', reason);
    if (close) this.#h.emit('close', close);
    if (error && !quiet && !waiters && !iterators) this.#h.emit('error', error);
  }

  /** While active: a browser page coming back online or visible cuts a backoff short; the `signal` option ends the client. */
  #watch(): void {
    const s = this.#o.signal;
    const abort = () => s && this.#finish('aborted', aborted(s));
    s?.addEventListener('abort', abort);
    const unpage = watchPage(() => this.#state === 'reconnecting' && this.#retry());
    this.#unwatch = () => (unpage?.(), s?.removeEventListener('abort', abort));
  }

  // --- requests ----------------------------------------------------------------------------

  /** Public requests need an open connection. */
  #request(frame: { type: string; data?: object }, expect: string, onSettle?: OnSettle): Promise<ServerEvent | Envelope> {
    const conn = this.#conn;
    if (this.#state !== 'open' || !conn) return Promise.reject(this.#state === 'closed' ? closedError() : new ConnectionError('NOT_CONNECTED', `Not connected (state: ${this.#state})`));
    return this.#requests.send(conn, frame, expect, this.#o.commandTimeout, onSettle);
  }
}
