/**
 * One WebSocket, from open to close: waits for `connected` (with a timeout), parses and validates
 * every frame, keeps the heartbeat, answers server pings. It never reconnects: that is the client's job.
 */
import { CloseCode, Feature, decodeJson, serialize, validateServerEvent, type Envelope, type EventDataMap, type ServerEvent, type ServerFrameResult } from '../protocol/index.js';
import { isBatchFrame, unpackBatch } from './batch.js';
import { ConnectionError, ServerError, TimeoutError, type SigmaxError } from './errors.js';
import { FATAL_SERVER_CODES } from './policy.js';
import type { WebSocketConstructor, WebSocketLike } from './options.js';

const noop = (): void => {};
const heldFrame = (e: ServerError): ServerEvent => ({ type: 'error', data: { code: e.code, error: e.message, details: e.details } });
const OPEN = 1;

/** Callbacks of a {@link Connection}; `onClose` is called at most once, and never after `close()`. */
export interface ConnectionHandlers {
  onConnected(data: EventDataMap['connected']): void;
  /** Every valid frame other than `connected`, server `ping` and the `error` frames held for the close. */
  onFrame(event: ServerEvent | Envelope, known: boolean): void;
  onInvalid(raw: unknown, message: string): void;
  /** `held`: the server's `error` frame that announced this close (sent before `connected`, or with a fatal code). */
  onClose(code: number, reason: string, error: SigmaxError, held: ServerError | undefined): void;
  /** The frame of each heartbeat ping (the client tags it so its `pong` never answers a user's `ping()`). */
  heartbeat?(): object;
}

export interface ConnectionTimings {
  connectTimeout: number;
  pingInterval: number;
  pingTimeout: number;
}

/** A single socket. Owns the connect, ping and dead-peer timers; clears all of them when it ends. */
export class Connection {
  #ws: WebSocketLike | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #deadTimer: ReturnType<typeof setTimeout> | undefined;
  #cause: unknown;
  #held: ServerError | undefined;
  /** Whether the server speaks only Part A (no `request_id` echo): replies are then matched by type. */
  byType = true;
  readonly #h: ConnectionHandlers;
  readonly #t: ConnectionTimings;

  constructor(Ctor: WebSocketConstructor, url: string, timings: ConnectionTimings, handlers: ConnectionHandlers) {
    this.#h = handlers;
    this.#t = timings;
    const ws = new Ctor(url);
    this.#ws = ws;
    this.#connectTimer = setTimeout(
      () => this.#fail(CloseCode.HEARTBEAT_TIMEOUT, 'connect timeout', new TimeoutError('CONNECT_TIMEOUT', `No \`connected\` event within ${timings.connectTimeout} ms`)),
      timings.connectTimeout,
    );
    ws.onerror = (ev) => {
      this.#cause = (ev as { error?: unknown }).error ?? ev;
    };
    ws.onclose = (ev) => {
      const cause = this.#cause;
      const msg = cause instanceof Error ? cause.message : '';
      const code = /: 40[13]$/.test(msg) ? 'AUTHENTICATION_FAILED' : this.#connectTimer !== undefined ? 'CONNECTION_FAILED' : 'CONNECTION_LOST';
      this.#fail(ev.code, ev.reason, new ConnectionError(code, `Connection closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})${msg ? `: ${msg}` : ''}`, ev, { cause }), false);
    };
    ws.onmessage = (ev) => this.#onMessage(ev.data);
  }

  /** Sends a frame if the socket is open; returns whether it was sent. */
  send(frame: object): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(serialize(frame));
    return true;
  }

  /** Ends the connection as lost (the client reconnects): the server did not answer what the connection needs. */
  drop(reason: string, error: SigmaxError): void {
    if (!this.#ws) return;
    this.#teardown(CloseCode.NORMAL, reason);
    this.#h.onClose(1006, reason, error, undefined);
  }

  /** Closes the socket without notifying the handlers. Idempotent. */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    this.#teardown(code, reason);
  }

  /** Every inbound frame: any frame counts as a sign of life; then it is decoded into the event(s) it carries. */
  #onMessage(raw: unknown): void {
    if (this.#deadTimer !== undefined) {
      clearTimeout(this.#deadTimer);
      this.#deadTimer = undefined;
    }
    const d = decodeJson(raw);
    // Part B 7: a batch is unpacked into its events, each handled as a frame of its own.
    if (d.ok && isBatchFrame(d.value)) return unpackBatch(d.value.events, (r, rawEvent) => this.#onParsed(r, rawEvent));
    this.#onParsed(d.ok ? validateServerEvent(d.value) : d, raw);
  }

  #onParsed(r: ServerFrameResult, raw: unknown): void {
    if (!this.#ws) return; // closed by a handler of an earlier event of the same batch: the rest is discarded
    if (!r.ok) return this.#h.onInvalid(raw, r.issue.message);
    this.#onEvent(r.event, r.known);
  }

  /** One decoded event: control frames are handled here, the rest goes to the client. */
  #onEvent(ev: ServerEvent | Envelope, known: boolean): void {
    if (ev.type === 'ping' && known) {
      this.send({ type: 'pong' });
    } else if (ev.type === 'connected' && known && this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
      this.#startHeartbeat();
      this.byType = !(ev.data as EventDataMap['connected']).features?.includes(Feature.REQUEST_ID);
      const held = this.#held;
      this.#held = undefined;
      if (held) this.#h.onFrame(heldFrame(held), true); // not followed by a close: an ordinary error
      this.#h.onConnected(ev.data as EventDataMap['connected']);
    } else if (ev.type === 'error' && known && ev.request_id == null && (this.#connectTimer !== undefined || FATAL_SERVER_CODES.includes((ev.data as EventDataMap['error']).code))) {
      const d = ev.data as EventDataMap['error'];
      this.#held = new ServerError(d.code, d.error, d.details); // the close that follows reports it (one channel)
    } else {
      this.#h.onFrame(ev, known);
    }
  }

  #startHeartbeat(): void {
    const { pingInterval, pingTimeout } = this.#t;
    if (!pingInterval) return;
    this.#pingTimer = setInterval(() => {
      this.send(this.#h.heartbeat?.() ?? { type: 'ping' });
      this.#deadTimer ??= setTimeout(
        () => this.#fail(CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout', new ConnectionError('CONNECTION_LOST', `Nothing received within ${pingTimeout} ms of a ping`, { code: CloseCode.HEARTBEAT_TIMEOUT, reason: 'heartbeat timeout' })),
        pingTimeout,
      );
    }, pingInterval);
  }

  /** Ends the connection on our side (timeout) or records the peer's close, then notifies once. */
  #fail(code: number, reason: string, error: SigmaxError, closeSocket = true): void {
    if (!this.#ws) return;
    this.#teardown(code, reason, closeSocket);
    this.#h.onClose(code, reason, error, this.#held);
  }

  #teardown(code: number, reason: string, closeSocket = true): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = undefined;
    clearTimeout(this.#connectTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadTimer);
    this.#connectTimer = this.#pingTimer = this.#deadTimer = undefined;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = noop; // a late error on a discarded socket must not be unhandled
    if (!closeSocket) return;
    try {
      if (ws.readyState === OPEN) ws.close(code, reason);
      else ws.close();
    } catch {
      /* already closing */
    }
    // `ws` keeps a closing socket (and the process) alive until the peer answers; a discarded socket needs no goodbye.
    try {
      ws.terminate?.();
    } catch {
      /* nothing left to free */
    }
  }
}
