/**
 * The application's handlers: registration (checked at run time), fan-out, and where errors end up. A throwing
 * handler never stops the others; an error nobody listens to is logged, or printed once per code.
 */
import { EVENT_TOPIC } from '../protocol/index.js';
import { SigmaxError } from './errors.js';
import type { ClientEventName, ClientEvents } from './events.js';
import type { Logger } from './options.js';

const CONTROL_EVENTS = ['*', 'state', 'open', 'close', 'reconnecting', 'reconnected', 'gap', 'error', 'unknown'];
/** Every name `on()` accepts. */
export const EVENT_NAMES: ReadonlySet<string> = new Set([...Object.keys(EVENT_TOPIC), ...CONTROL_EVENTS]);

const HINTS: Record<string, string> = {
  HANDLER_ERROR: 'one of your event handlers threw; the other handlers and the client went on',
  RECONNECT_FAILED: 'the client gave up reconnecting and is closed; call connect() again to retry',
  INVALID_FRAME: 'the server sent a frame that is not valid protocol; it was dropped',
  UNEXPECTED_REPLY: 'the server answered a request with a reply of another type; the call rejected',
};

/**
 * The one sanctioned console use of the client: an error with no `error` listener and no logger is written to
 * `console.error` (once per code, so a faulty server cannot flood the console).
 */
function printUnhandled(err: SigmaxError, printed: Set<string>): void {
  if (printed.has(err.code)) return;
  printed.add(err.code);
  const hint = HINTS[err.code] ?? 'the server reported an error';
  console.error(`[sigmax-ws] ${err.code}: ${err.message}\n  hint: ${hint}. Add client.on('error', …) or a \`logger\` option to handle errors (this message is then no longer printed).`);
}

interface Registration {
  handler: Function;
  once: boolean;
}

/** A small typed emitter (copy-on-write lists: a handler added or removed during an emit takes effect at the next). */
export class Handlers {
  readonly #lists = new Map<string, readonly Registration[]>();
  readonly #printed = new Set<string>();
  readonly #logger: Logger | undefined;

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  /** Registers `handler`; returns its remover (idempotent). @throws TypeError for an unknown event name or a non-function. */
  add<K extends ClientEventName>(type: K, handler: ClientEvents[K], once = false): () => void {
    if (!EVENT_NAMES.has(type)) throw new TypeError(`Unknown event name ${JSON.stringify(type)} (known: ${[...EVENT_NAMES].join(', ')})`);
    if (typeof handler !== 'function') throw new TypeError(`Expected the \`${type}\` handler to be a function, got ${handler === null ? 'null' : typeof handler}`);
    const reg: Registration = { handler, once };
    this.#lists.set(type, [...(this.#lists.get(type) ?? []), reg]);
    return () => this.#drop(type, (r) => r === reg);
  }

  /** Removes every registration of `handler` for `type`. */
  remove(type: string, handler: Function): void {
    this.#drop(type, (r) => r.handler === handler);
  }

  emit<K extends ClientEventName>(type: K, arg: Parameters<ClientEvents[K]>[0]): void {
    const list = this.#lists.get(type) ?? [];
    if (type === 'error') {
      this.log('error', String(arg));
      if (!this.#logger && !list.length) printUnhandled(arg as SigmaxError, this.#printed);
    }
    for (const r of list) {
      if (r.once) this.#drop(type, (x) => x === r);
      this.#call(type, r.handler, arg);
    }
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, ...args: unknown[]): void {
    this.#logger?.[level]?.(`[sigmax-ws] ${message}`, ...args);
  }

  #drop(type: string, match: (r: Registration) => boolean): void {
    const list = this.#lists.get(type);
    if (list) this.#lists.set(type, list.filter((r) => !match(r)));
  }

  /** Calls a handler; what it throws is reported as `HANDLER_ERROR`, so it never keeps the others from running. */
  #call(type: string, handler: Function, arg: unknown): void {
    try {
      handler(arg);
    } catch (cause) {
      const err = new SigmaxError('HANDLER_ERROR', `A \`${type}\` handler threw: ${String(cause)}`, { cause });
      if (type !== 'error') this.emit('error', err);
      else if (this.#logger) this.log('error', err.message, cause);
      else printUnhandled(err, this.#printed);
    }
  }
}
