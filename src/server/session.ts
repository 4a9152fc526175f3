/**
 * One client connection: decodes its messages, answers them, and delivers events to it.
 * Written against {@link SessionSocket}, so it can be tested without `ws`.
 * Idle cost is this object alone: subscription Sets are created lazily, no timers, no closures.
 */
import {
  CloseCode,
  ErrorCode,
  PROTOCOL_VERSION,
  SYMBOL_PREFIX,
  TOPICS,
  decodeJson,
  normalizeSubscription,
  parseClientFrame,
  readRequestId,
  type ClientMessage,
  type StreamPosition,
} from '../protocol/index.js';
import { flushBatch, sendBatched, type BatchState } from './batch.js';
import { OPEN, type ServerContext, type SessionSocket } from './context.js';
import type { Subscriber } from './hub.js';
import { takeToken } from './limits.js';
import type { SequencedEvent } from './log/types.js';
import { resume } from './replay.js';
import { SERVER_VERSION } from './version.js';

export { SERVER_VERSION };

const TEXT = { binary: false } as const;

/** Replay in progress (Part B 4). `queue === null`: replaying (live events skipped); else buffering live events. */
export interface ReplayState {
  queue: SequencedEvent[] | null;
}

/** Live events buffered during the last history read; beyond this the replay falls back to reading the log. */
export const REPLAY_QUEUE_LIMIT = 10_000;

type SessionState = 'open' | 'closing' | 'closed';

/** A connection with more than this many × `rateLimitBurst` messages refused within one second is closed (1008). */
export const FLOOD_FACTOR = 10;

/** Keeps echoed client input short. */
const clip = (s: string, max = 200) => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The `request_id` of a text message that is refused unread (rate limit, size), when it is JSON and has one. */
function requestIdOf(buf: Buffer): string | undefined {
  const d = decodeJson(buf.toString('utf8'));
  return d.ok ? readRequestId(d.value) : undefined;
}

export class Session implements Subscriber {
  state: SessionState = 'open';
  topics: Set<string> | null = null;
  symbols: Set<string> | null = null;
  /** Time of the last inbound message (ms). */
  lastSeen: number;
  /** Token bucket of the rate limit. */
  tokens: number;
  tokensAt: number;
  /** Messages refused by the rate limit in the current flood window, and when that window started. */
  refused = 0;
  refusedSince = 0;
  /** Highest `seq` sent, or passed over by a replay; live events at or below it are dropped. */
  lastSent = 0;
  replay: ReplayState | null = null;
  /** Batched frames (Part B 7): set when the client asked with `batch=1`; see batch.ts. */
  batch: BatchState | null = null;

  /** When the connection was accepted (ms). */
  readonly openedAt: number;
  /** The peer's address, e.g. `127.0.0.1:51234`. */
  readonly remote: string | undefined;
  /** What the `authenticate` hook returned for this connection (`undefined` without a hook). */
  readonly principal: unknown;

  constructor(
    readonly socket: SessionSocket,
    readonly ctx: ServerContext,
    readonly id: string,
    info: { remote?: string | undefined; principal?: unknown } = {},
  ) {
    this.openedAt = this.lastSeen = this.tokensAt = Date.now();
    this.tokens = ctx.options.rateLimitBurst;
    this.remote = info.remote;
    this.principal = info.principal;
  }

  /** Sends `connected` then `system_status`. */
  open(): void {
    const { partAOnly } = this.ctx.options;
    const data: Record<string, unknown> = {
      message: 'Connected to SIGMAX WebSocket',
      server_version: SERVER_VERSION,
      connection_id: this.id,
      available_topics: TOPICS,
      instructions: "Send 'subscribe' message to start receiving updates",
    };
    if (!partAOnly) {
      data.protocol = PROTOCOL_VERSION;
      data.features = this.ctx.features;
      data.epoch = this.ctx.log.epoch;
    }
    this.reply('connected', data);
    this.reply('system_status', this.ctx.systemStatus());
  }

  /** Handles one inbound WebSocket message. Never throws. */
  receive(raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const now = Date.now();
    this.lastSeen = now;
    if (this.state !== 'open') return;
    const { options } = this.ctx;
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (buf.length > options.maxMessageSize) {
      // Its request_id is echoed, so the caller's request fails with the reason (the transport caps it at 2 × the limit).
      const message = `Message of ${buf.length} bytes exceeds the limit of ${options.maxMessageSize} bytes`;
      this.fail(ErrorCode.MESSAGE_TOO_LARGE, CloseCode.MESSAGE_TOO_BIG, message, false, isBinary ? undefined : requestIdOf(buf));
      return;
    }
    if (!takeToken(this, options.rateLimit, options.rateLimitBurst, now)) {
      this.#rateLimited(buf, isBinary, now);
      return;
    }
    let parsed: ReturnType<typeof parseClientFrame>;
    try {
      parsed = parseClientFrame(isBinary ? buf : buf.toString('utf8'));
    } catch {
      // e.g. a RangeError quoting a pathologically nested value: still the peer's fault, not ours.
      this.error(ErrorCode.INVALID_MESSAGE, 'The message could not be decoded (too deeply nested?)');
      return;
    }
    if (!parsed.ok) {
      this.error(parsed.issue.code, parsed.issue.message, parsed.request_id);
      return;
    }
    try {
      this.#handle(parsed.message);
    } catch (err) {
      this.ctx.options.logger?.error('sigmax-ws: error handling a message', err);
      this.error(ErrorCode.MESSAGE_PROCESSING_ERROR, 'The message could not be processed', parsed.message.request_id);
    }
  }

  /**
   * Answers a message refused by the rate limit with `RATE_LIMITED` (its `request_id` echoed, and
   * `details.retry_after_ms`). More than {@link FLOOD_FACTOR} × burst refusals within one second is a
   * flood: the connection is closed with 1008.
   */
  #rateLimited(buf: Buffer, isBinary: boolean, now: number): void {
    const { rateLimit, rateLimitBurst, logger } = this.ctx.options;
    if (now - this.refusedSince > 1000) {
      this.refused = 0;
      this.refusedSince = now;
    }
    if (++this.refused > FLOOD_FACTOR * rateLimitBurst) {
      logger?.warn('sigmax-ws: closing a connection flooding past the rate limit', { id: this.id, remote: this.remote, refused: this.refused - 1 });
      this.fail(ErrorCode.RATE_LIMITED, CloseCode.POLICY_VIOLATION, `Closed: more than ${FLOOD_FACTOR * rateLimitBurst} messages over the rate limit within one second`);
      return;
    }
    const rid = isBinary ? undefined : requestIdOf(buf);
    const retryAfterMs = Math.max(1, Math.ceil(((1 - this.tokens) / rateLimit) * 1000));
    this.error(ErrorCode.RATE_LIMITED, `Rate limit exceeded (${rateLimit} messages/s, burst ${rateLimitBurst}); retry in ${retryAfterMs} ms`, rid, {
      retry_after_ms: retryAfterMs,
    });
  }

  #handle(msg: ClientMessage): void {
    const rid = msg.request_id;
    switch (msg.type) {
      case 'ping':
        this.reply('pong', { message: 'pong' }, rid);
        return;
      case 'pong':
        return;
      case 'get_status':
        this.reply('system_status', this.ctx.systemStatus(), rid);
        return;
      case 'get_subscriptions': {
        const subs = [...(this.topics ?? []), ...[...(this.symbols ?? [])].map((s) => SYMBOL_PREFIX + s)];
        this.reply('system_status', { subscriptions: subs, count: subs.length }, rid);
        return;
      }
      case 'command':
        this.#command(msg.data.command, rid);
        return;
      case 'subscribe':
      case 'unsubscribe':
        this.#subscription(msg.type, msg.data.topics ?? [], msg.data.symbols ?? [], msg.type === 'subscribe' ? msg.data.since : undefined, rid);
        return;
    }
  }

  #command(name: string, rid: string | undefined): void {
    switch (name) {
      case 'get_status':
        this.reply('system_status', this.ctx.systemStatus(), rid);
        return;
      case 'get_portfolio':
        this.reply('portfolio_update', this.ctx.portfolio(), rid);
        return;
      case 'get_health':
        this.ctx.health().then(
          (h) => this.reply('health_update', h, rid),
          () => this.error(ErrorCode.INTERNAL_ERROR, 'Health metrics are unavailable', rid),
        );
        return;
      default:
        this.error(ErrorCode.UNKNOWN_COMMAND, `Unknown command: ${name}`, rid, { command: name, available: ['get_status', 'get_portfolio', 'get_health'] });
    }
  }

  #subscription(
    kind: 'subscribe' | 'unsubscribe',
    rawTopics: unknown[],
    rawSymbols: unknown[],
    since: StreamPosition | undefined,
    rid: string | undefined,
  ): void {
    const { maxSubscriptions, partAOnly } = this.ctx.options;
    const cap = maxSubscriptions + TOPICS.length;
    if (rawTopics.length + rawSymbols.length > cap) {
      const code = kind === 'subscribe' ? ErrorCode.TOO_MANY_SUBSCRIPTIONS : ErrorCode.INVALID_MESSAGE;
      this.error(code, `At most ${cap} topics and symbols per ${kind} request; got ${rawTopics.length + rawSymbols.length}`, rid);
      return;
    }
    // Non-strings are refused here: normalizeSubscription would quote them with String(), which can throw.
    const badTopic = rawTopics.find((t) => typeof t !== 'string');
    const badSymbol = badTopic === undefined ? rawSymbols.find((s) => typeof s !== 'string') : undefined;
    if (badTopic !== undefined || badSymbol !== undefined) {
      const [code, what, v] = badTopic !== undefined ? [ErrorCode.INVALID_TOPIC, 'topic', badTopic] : [ErrorCode.INVALID_SYMBOL, 'symbol', badSymbol];
      const kindOf = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
      this.error(code, `Invalid ${what}: expected a string, got ${kindOf}`, rid);
      return;
    }
    const n = normalizeSubscription(rawTopics, rawSymbols);
    if (!n.ok) {
      this.error(n.code, clip(n.message), rid, { invalid: clip(n.invalid) });
      return;
    }
    const { hub } = this.ctx;
    if (kind === 'unsubscribe') {
      hub.unsubscribe(this, n.topics, n.symbols);
      this.reply('unsubscribed', { topics: n.topics, symbols: n.symbols, message: `Unsubscribed from ${n.topics.length} topics and ${n.symbols.length} symbols` }, rid);
      return;
    }
    const added = n.topics.filter((t) => !this.topics?.has(t)).length + n.symbols.filter((s) => !this.symbols?.has(s)).length;
    const current = (this.topics?.size ?? 0) + (this.symbols?.size ?? 0);
    if (current + added > maxSubscriptions) {
      this.error(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `At most ${maxSubscriptions} subscriptions per connection; this request would make ${current + added}`, rid, {
        limit: maxSubscriptions,
      });
      return;
    }
    hub.subscribe(this, n.topics, n.symbols);
    const data = { topics: n.topics, symbols: n.symbols, message: `Subscribed to ${n.topics.length} topics and ${n.symbols.length} symbols` };
    if (since && !partAOnly) {
      if (this.replay === null) {
        // The reply is sent by resume() once it knows whether the position is covered.
        resume(this, since, (recovered, seq) => this.reply('subscribed', { ...data, recovered, epoch: this.ctx.log.epoch, seq }, rid));
      } else {
        // A replay is already running from another position: this one cannot be honoured exactly.
        this.reply('subscribed', { ...data, recovered: false, epoch: this.ctx.log.epoch, seq: this.lastSent }, rid);
      }
      return;
    }
    if (!partAOnly && this.replay === null) {
      // Where this connection now stands in the log: a client that has not received an event yet
      // can still resume from here after its first outage. (Not while a replay runs: its events are older.)
      this.reply('subscribed', { ...data, epoch: this.ctx.log.epoch, seq: Math.max(this.lastSent, hub.lastSeq) }, rid);
      return;
    }
    this.reply('subscribed', data, rid);
  }

  /** Hub → session: a committed live event and its payload for this session. */
  deliver(event: SequencedEvent, payload: Buffer): void {
    const r = this.replay;
    if (r) {
      if (r.queue) {
        if (r.queue.length < REPLAY_QUEUE_LIMIT) r.queue.push(event);
        else r.queue = null; // too many: go back to reading them from the log
      }
      return;
    }
    if (event.seq <= this.lastSent) return;
    this.lastSent = event.seq;
    this.sendEvent(payload);
  }

  /** Sends a published event's payload: held for a batch frame when batching, else written now. */
  sendEvent(payload: Buffer, cb?: (err?: Error) => void): boolean {
    return this.batch ? sendBatched(this, payload, cb) : this.write(payload, cb);
  }

  /** Sends a reply (or any non-sequenced frame) with `connection_id` and, in Part B, `request_id`. */
  reply(type: string, data: unknown, rid?: string): void {
    this.write(this.#frame(type, data, rid));
  }

  /** A reply frame: the envelope, and `request_id` echoed (Part B). */
  #frame(type: string, data: unknown, rid?: string): string {
    const frame: Record<string, unknown> = { type, data, timestamp: new Date().toISOString(), connection_id: this.id };
    if (rid !== undefined && !this.ctx.options.partAOnly) frame.request_id = rid;
    return JSON.stringify(frame);
  }

  /** Sends an `error` event; the connection stays. */
  error(code: string, message: string, rid?: string, details?: unknown): void {
    this.reply('error', details === undefined ? { error: message, code } : { error: message, code, details }, rid);
  }

  /**
   * Queues a frame unless the connection is closing. A connection whose unsent
   * backlog is over `maxBufferedBytes` is closed as a slow consumer instead.
   * Returns whether the frame was queued (`cb` is then called once it is written).
   */
  write(payload: Buffer | string, cb?: (err?: Error) => void): boolean {
    if (this.batch && this.batch.bytes > 0) flushBatch(this); // batched events go first: order is kept
    const socket = this.socket;
    if (this.state !== 'open' || socket.readyState !== OPEN) return false;
    if (socket.bufferedAmount > this.ctx.options.maxBufferedBytes) {
      // Nothing more goes behind the backlog but the reason and the close; the heartbeat gives the
      // peer time to read them as long as it reads at all (see Heartbeat.closeWhenDrained).
      this.ctx.counters.slowConsumers++;
      this.ctx.options.logger?.warn('sigmax-ws: closing a slow consumer', { id: this.id, remote: this.remote, buffered: socket.bufferedAmount });
      this.fail(ErrorCode.SLOW_CONSUMER, CloseCode.TRY_AGAIN_LATER, `Connection closed: more than ${this.ctx.options.maxBufferedBytes} bytes unsent (consumer too slow)`, true);
      return false;
    }
    socket.send(payload, TEXT, cb);
    this.ctx.counters.messagesSent++;
    return true;
  }

  /**
   * Sends `error` with `code`, then closes with `closeCode`; terminates if the close does not complete soon
   * (`drain`: not while the peer still reads its backlog).
   */
  fail(code: string, closeCode: number, message: string, drain = false, rid?: string): void {
    if (this.state !== 'open') return;
    const socket = this.socket;
    // The events it holds go out before the error, except when closing over a backlog (`drain`: it resumes them).
    if (!drain && this.batch && this.batch.bytes > 0) {
      flushBatch(this);
      if (this.state !== 'open') return; // that write closed it as a slow consumer
    }
    if (socket.readyState === OPEN) {
      socket.send(this.#frame('error', { error: message, code }, rid), TEXT);
      this.ctx.counters.messagesSent++;
    }
    this.state = 'closing';
    this.replay = null;
    socket.close(closeCode, code);
    this.ctx.closeSoon(socket, drain);
  }

  /** Closes without an error frame (server shutdown 1001, heartbeat timeout 4000). */
  close(code: number, reason: string): void {
    if (this.state !== 'open') return;
    if (this.batch && this.batch.bytes > 0) {
      flushBatch(this); // the events it holds go out before the close
      if (this.state !== 'open') return; // that write closed it as a slow consumer
    }
    this.state = 'closing';
    this.replay = null;
    this.socket.close(code, reason);
  }

  /** Socket → session: the socket is closed (with `code`, when known); drop all state. */
  closed(code?: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.replay = null;
    this.ctx.hub.removeAll(this);
    this.ctx.sessionClosed(this, code);
  }
}
