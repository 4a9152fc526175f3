/**
 * Errors thrown or emitted by the client. Every error is a {@link SigmaxError} with a stable
 * string `code`; subclasses add context. Each error reaches the application through exactly
 * one channel: the promise or iterator that awaits it, otherwise the client's `error` event.
 */

/** Brand of every {@link SigmaxError}, shared by every copy of the package (ESM, CJS, browser build). */
const BRAND: unique symbol = Symbol.for('sigmax-ws.error') as never;

/**
 * Whether `value` is a {@link SigmaxError} from any copy of this package. Prefer it to `instanceof`, which
 * fails when the error comes from another build (e.g. the CJS build while you import the ESM one).
 */
export function isSigmaxError(value: unknown): value is SigmaxError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Base class of every error the client produces. */
export class SigmaxError extends Error {
  /** Brand recognised by {@link isSigmaxError} (`Symbol.for('sigmax-ws.error')`). */
  declare readonly [BRAND]: true;
  override name = 'SigmaxError';
  /** Stable machine-readable code, e.g. `CONNECT_TIMEOUT` or a server code such as `INVALID_TOPIC`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  static {
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }
}

/** The connection could not be opened, was lost, or is not there (`CONNECTION_FAILED`, `CONNECTION_LOST`, `NOT_CONNECTED`, `RECONNECT_FAILED`). */
export class ConnectionError extends SigmaxError {
  override name = 'ConnectionError';
  /** WebSocket close code, when the error comes from a close. */
  readonly closeCode: number | undefined;
  /** WebSocket close reason, when the error comes from a close. */
  readonly closeReason: string | undefined;
  constructor(code: string, message: string, close?: { code: number; reason: string }, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = close?.code;
    this.closeReason = close?.reason;
  }
}

/** Something took longer than its timeout (`CONNECT_TIMEOUT`, `COMMAND_TIMEOUT`). */
export class TimeoutError extends SigmaxError {
  override name = 'TimeoutError';
}

/** The server answered with an `error` event; `code` is the server's code (e.g. `UNKNOWN_COMMAND`, `MAX_CONNECTIONS_EXCEEDED`). */
export class ServerError extends SigmaxError {
  override name = 'ServerError';
  /** `data.details` of the server's error, if any. */
  readonly details: unknown;
  constructor(code: string, message: string, details?: unknown) {
    super(code, message);
    this.details = details;
  }
}

/** The server refused the client by policy (close 1008): authentication failed or origin refused. The client does not retry. */
export class AuthenticationError extends ServerError {
  override name = 'AuthenticationError';
}

/** A subscription argument was invalid (`INVALID_TOPIC`, `INVALID_SYMBOL`); nothing was sent or recorded. */
export class ValidationError extends SigmaxError {
  override name = 'ValidationError';
}

/** The operation was cut short because `disconnect()` was called (`CLIENT_CLOSED`) or an `AbortSignal` aborted (`ABORTED`). */
export class ClosedError extends SigmaxError {
  override name = 'ClosedError';
}

/** @internal */
export const closedError = (): ClosedError => new ClosedError('CLIENT_CLOSED', 'The client was closed');
/** @internal */
export const aborted = (signal: AbortSignal): ClosedError => new ClosedError('ABORTED', 'Aborted by its AbortSignal', { cause: signal.reason });

/** A `listen()` iterator's buffer filled up because the consumer fell behind (`LISTEN_OVERFLOW`). */
export class ListenOverflowError extends SigmaxError {
  override name = 'ListenOverflowError';
}

/** Events may have been missed across a reconnect (`EVENTS_MISSED`); thrown by `listen({ gap: 'throw' })`. */
export class GapError extends SigmaxError {
  override name = 'GapError';
}

/**
 * The server broke the protocol: a frame that fails parsing or validation (`INVALID_FRAME`), or a reply of the wrong
 * type for its request (`UNEXPECTED_REPLY`). The connection stays open.
 */
export class ProtocolError extends SigmaxError {
  override name = 'ProtocolError';
  /** The frame as received (raw for `INVALID_FRAME`, decoded for `UNEXPECTED_REPLY`). */
  readonly frame: unknown;
  constructor(message: string, frame: unknown, code: 'INVALID_FRAME' | 'UNEXPECTED_REPLY' = 'INVALID_FRAME') {
    super(code, message);
    this.frame = frame;
  }
}
