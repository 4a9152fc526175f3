/** Typed exceptions thrown by the server API. */

/** Base class of every error the server API throws. */
export class SigmaxServerError extends Error {
  override name = 'SigmaxServerError';
  constructor(
    message: string,
    /** Stable code, e.g. `CONFIG_INVALID`, `INVALID_EVENT`, `SERVER_CLOSED`. */
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A server option or environment variable has a bad value. */
export class ConfigError extends SigmaxServerError {
  override name = 'ConfigError' as const;
  constructor(
    message: string,
    /** The option or environment variable at fault. */
    readonly key: string,
  ) {
    super(message, 'CONFIG_INVALID');
  }
}

/** `publish()` was given an unknown event type or data that fails the type's schema. */
export class InvalidEventError extends SigmaxServerError {
  override name = 'InvalidEventError' as const;
  constructor(message: string) {
    super(message, 'INVALID_EVENT');
  }
}

/** The server is not listening (not started yet, or closed). */
export class ServerClosedError extends SigmaxServerError {
  override name = 'ServerClosedError' as const;
  constructor(message = 'The server is not listening') {
    super(message, 'SERVER_CLOSED');
  }
}

/**
 * The shared event log (Redis) cannot take the event now. `outcome` says whether it may have been
 * appended anyway: `'not_appended'` (Redis answered with an error — OOM, READONLY — or was not
 * reachable, so nothing was sent) or `'unknown'` (Redis did not answer in time, or the connection
 * was lost after the command was sent). Either way, retrying with the same event `id` is safe:
 * an id already appended resolves as a duplicate and is not appended again.
 */
export class EventLogUnavailableError extends SigmaxServerError {
  override name = 'EventLogUnavailableError' as const;
  constructor(
    message: string,
    readonly outcome: 'not_appended' | 'unknown',
    /** Suggested wait before retrying. */
    readonly retryAfterMs = 1000,
    options?: { cause?: unknown },
  ) {
    super(message, 'EVENT_LOG_UNAVAILABLE', options);
  }
}
