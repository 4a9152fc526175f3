/**
 * The server heartbeat: ONE timer for all connections. Each tick handles a
 * slice of the sessions, so a full pass (a `ping` to every live session, the
 * silence check for each) takes one heartbeat interval and no tick does much
 * work even with tens of thousands of sockets. Each ping is a JSON `ping` and a
 * protocol-level ping frame: browsers answer the latter by themselves, and its pong
 * counts as activity, so a page that ignores the JSON ping stays connected while alive.
 * It also terminates sockets whose close handshake did not complete within the
 * grace period, and slow consumers that stopped reading what is queued for them.
 */
import { CloseCode } from '../protocol/index.js';
import type { SessionSocket } from './context.js';
import type { Session } from './session.js';

/** Socket `readyState` values. */
const OPEN = 1;
const CLOSED = 3;

/**
 * Once everything queued for a draining socket has been handed to the kernel (`bufferedAmount` 0),
 * its progress is no longer visible: it gets this many close graces more to read the rest.
 */
export const KERNEL_DRAIN_GRACES = 10;

/** A slow consumer being closed: terminated only when its backlog stops draining. */
interface Draining {
  /** When to look at its progress again (ms). */
  checkAt: number;
  /** `bufferedAmount` at the last look. */
  buffered: number;
}

export interface HeartbeatOptions {
  /** Time for one pass over every session (ms). */
  intervalMs: number;
  /** A session silent for longer than this (ms) is terminated. */
  timeoutMs: number;
  /** How long a socket may take to complete its close handshake (ms). */
  closeGraceMs: number;
}

export class Heartbeat {
  readonly #sessions: Set<Session>;
  readonly #opts: HeartbeatOptions;
  readonly #tickMs: number;
  readonly #closing = new Map<SessionSocket, number>();
  readonly #draining = new Map<SessionSocket, Draining>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #iter: IterableIterator<Session> | undefined;
  #passStart = 0;
  /** Called with each session terminated for silence. */
  onTimeout: ((s: Session) => void) | undefined;

  constructor(sessions: Set<Session>, opts: HeartbeatOptions) {
    this.#sessions = sessions;
    this.#opts = opts;
    // Small slices: at most a few ms of work per tick even with tens of thousands of sockets.
    this.#tickMs = Math.min(250, Math.max(10, opts.intervalMs / 200));
  }

  start(): void {
    if (this.#timer) return;
    this.#passStart = Date.now();
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#iter = undefined;
  }

  /**
   * Terminates `socket` unless it has closed within the grace period. With `drain` (a slow
   * consumer, whose reason and close frame sit behind its backlog), the grace restarts each time
   * its backlog shrank: only a peer that reads nothing for a whole grace is terminated.
   */
  closeSoon(socket: SessionSocket, drain = false): void {
    const now = Date.now();
    if (drain) {
      this.#closing.delete(socket);
      this.#draining.set(socket, { checkAt: now + this.#opts.closeGraceMs, buffered: socket.bufferedAmount });
      return;
    }
    if (this.#draining.has(socket)) return;
    // Re-inserted at the end: the map stays in deadline order, so tick() only visits due entries.
    this.#closing.delete(socket);
    this.#closing.set(socket, now + this.#opts.closeGraceMs);
  }

  /** Terminates every socket still waiting for its close handshake (shutdown). */
  terminateClosing(): void {
    for (const socket of this.#closing.keys()) socket.terminate();
    for (const socket of this.#draining.keys()) socket.terminate();
    this.#closing.clear();
    this.#draining.clear();
  }

  /** Terminates the draining sockets that made no progress during their last grace. */
  #checkDraining(now: number): void {
    const grace = this.#opts.closeGraceMs;
    for (const [socket, d] of this.#draining) {
      if (socket.readyState === CLOSED) {
        this.#draining.delete(socket);
        continue;
      }
      if (now < d.checkAt) continue;
      const buffered = socket.bufferedAmount;
      if (buffered < d.buffered) {
        // It reads: another grace (a longer one once all is in the kernel, where progress is invisible).
        d.buffered = buffered;
        d.checkAt = now + (buffered === 0 ? grace * KERNEL_DRAIN_GRACES : grace);
        continue;
      }
      socket.terminate();
      this.#draining.delete(socket);
    }
  }

  /** One slice of work; public for tests. */
  tick(now = Date.now()): void {
    // Due entries only (deadline order), so a mass close (shutdown, log reset) is not rescanned every tick.
    for (const [socket, deadline] of this.#closing) {
      if (now < deadline) break;
      if (socket.readyState !== CLOSED) socket.terminate();
      this.#closing.delete(socket);
    }
    if (this.#draining.size > 0) this.#checkDraining(now);
    const size = this.#sessions.size;
    if (size === 0) return;
    const { intervalMs, timeoutMs } = this.#opts;
    const ticksPerPass = Math.max(1, Math.floor(intervalMs / this.#tickMs));
    let budget = Math.ceil(size / ticksPerPass);
    let ping: Buffer | undefined;
    while (budget-- > 0) {
      let next = this.#iter?.next();
      if (!next || next.done) {
        // At most one pass per interval.
        if (this.#iter && now - this.#passStart < intervalMs) return;
        this.#iter = this.#sessions.values();
        this.#passStart = now;
        next = this.#iter.next();
        if (next.done) return;
      }
      const s = next.value;
      if (s.state !== 'open') continue;
      if (now - s.lastSeen > timeoutMs) {
        s.close(CloseCode.HEARTBEAT_TIMEOUT, 'Connection timed out');
        s.socket.terminate();
        this.onTimeout?.(s);
        continue;
      }
      // A connection opened less than an interval ago needs no ping yet (it has just proven alive),
      // unless waiting one more pass would let it time out before it was ever pinged.
      if (s.openedAt > now - intervalMs && now - s.lastSeen + intervalMs < timeoutMs) continue;
      if (s.write((ping ??= Buffer.from(JSON.stringify({ type: 'ping', timestamp: new Date(now).toISOString() })))) && s.socket.readyState === OPEN) {
        s.socket.ping?.();
      }
    }
  }
}
