/**
 * One WebSocket, from open to close: waits for `connected` (with a timeout), parses and validates
 * every frame, keeps the heartbeat, answers server pings. It never reconnects: that is the client's job.
 */
import { CloseCode, decodeJson, serialize, validateServerEvent, type Envelope, type EventDataMap, type ServerEvent, type ServerFrameResult } from '../protocol/index.js';
import { isBatchFrame, unpackBatch } from './batch.js';
import { ConnectionError, TimeoutError, type SigmaxError } from './errors.js';
import type { WebSocketConstructor, WebSocketLike } from './options.js';

const noop = (): void => {};
const OPEN = 1;

/** Callbacks of a {@link Connection}; `onClose` is called at most once, and never after `close()`. */
export interface ConnectionHandlers {
  onConnected(data: EventDataMap['connected']): void;
  /** Every valid frame other than `connected` and server `ping`. */
  onFrame(event: ServerEvent | Envelope, known: boolean): void;
  onInvalid(raw: unknown, message: string): void;
  onClose(code: number, reason: string, error: SigmaxError): void;
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

  /** Closes the socket without notifying the handlers. Idempotent. */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    this.#teardown(code, reason);
  }

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
    if (!r.ok) return this.#h.onInvalid(raw, r.issue.message);
    const ev = r.event;
    if (ev.type === 'ping' && r.known) {
      this.send({ type: 'pong' });
    } else if (ev.type === 'connected' && r.known && this.#connectTimer !== undefined) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = undefined;
      this.#startHeartbeat();
      this.#h.onConnected(ev.data as EventDataMap['connected']);
    } else {
      this.#h.onFrame(ev, r.known);
    }
  }

  #startHeartbeat(): void {
    const { pingInterval, pingTimeout } = this.#t;
    if (!pingInterval) return;
    this.#pingTimer = setInterval(() => {
      this.send({ type: 'ping' });
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
    this.#h.onClose(code, reason, error);
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
