/**
 * The application's handlers: registration (checked at run time), fan-out, and where errors end up. A throwing
 * handler never stops the others; an error nobody listens to is logged, or printed once per code.
 */
import { EventEmitter } from 'eventemitter3';
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

export class Handlers {
  readonly #ee = new EventEmitter();
  readonly #wrapped = new WeakMap<Function, Map<string, Function>>();
  readonly #printed = new Set<string>();
  readonly #logger: Logger | undefined;

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
  }

  /** Registers `handler`; returns its remover. @throws TypeError for an unknown event name or a non-function. */
  add<K extends ClientEventName>(type: K, handler: ClientEvents[K], once = false): () => void {
    if (!EVENT_NAMES.has(type)) throw new TypeError(`Unknown event name ${JSON.stringify(type)} (known: ${[...EVENT_NAMES].join(', ')})`);
    if (typeof handler !== 'function') throw new TypeError(`Expected the \`${type}\` handler to be a function, got ${handler === null ? 'null' : typeof handler}`);
    const ctx = {};
    const fn = this.#wrap(type, handler);
    this.#ee[once ? 'once' : 'on'](type, fn as never, ctx);
    return () => void this.#ee.removeListener(type, fn as never, ctx);
  }

  remove(type: string, handler: Function): void {
    const fn = this.#wrapped.get(handler)?.get(type);
    if (fn) this.#ee.removeListener(type, fn as never);
  }

  emit<K extends ClientEventName>(type: K, arg: Parameters<ClientEvents[K]>[0]): void {
    if (type === 'error') {
      this.log('error', String(arg));
      if (!this.#logger && !this.#ee.listenerCount('error')) printUnhandled(arg as SigmaxError, this.#printed);
    }
    this.#ee.emit(type, arg as never);
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, ...args: unknown[]): void {
    this.#logger?.[level]?.(`[sigmax-ws] ${message}`, ...args);
  }

  /** One wrapper per handler and event (so `off()` finds it) that reports what the handler throws as `HANDLER_ERROR`. */
  #wrap(type: string, handler: Function): Function {
    let byType = this.#wrapped.get(handler);
    if (!byType) this.#wrapped.set(handler, (byType = new Map()));
    let fn = byType.get(type);
    if (!fn) {
      fn = (arg: unknown) => {
        try {
          handler(arg);
        } catch (cause) {
          const err = new SigmaxError('HANDLER_ERROR', `A \`${type}\` handler threw: ${String(cause)}`, { cause });
          if (type !== 'error') this.emit('error', err);
          else if (this.#logger) this.log('error', err.message, cause);
          else printUnhandled(err, this.#printed);
        }
      };
      byType.set(type, fn);
    }
    return fn;
  }
}
