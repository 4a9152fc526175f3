/**
 * A TCP proxy for failure tests: forwards 127.0.0.1:`port` to a target port, and can cut every connection
 * (`cutAll()`, the peers see a reset/close) or silently stop forwarding in both directions (`blackhole(true)`:
 * sockets stay open, bytes vanish — a half-open connection as a dead NAT or a pulled cable makes it).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  #server: Server | undefined;
  #target: number | (() => number);
  #blackholed = false;
  #dropReplies = false;
  readonly #pairs = new Set<[Socket, Socket]>();
  /** Connections whose bytes are discarded (see `freeze()`). */
  readonly #frozen = new WeakSet<Socket>();
  /** What each client sent (its first 64 KB), for `freezeWhere()`. */
  readonly #sent = new WeakMap<Socket, string>();
  /** Connections accepted since start. */
  accepted = 0;

  /** `target`: a port, or a function choosing the port of each new connection (e.g. among several servers). */
  constructor(targetPort: number | (() => number)) {
    this.#target = targetPort;
  }

  /** Listening port (after `start()`). */
  get port(): number {
    const a = this.#server?.address();
    if (!a || typeof a === 'string') throw new Error('TcpProxy is not started');
    return a.port;
  }

  /** Starts listening on 127.0.0.1 at `port` (0 = a free port). */
  start(port = 0): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  }

  /** New connections go to this port, or the port this function chooses (existing ones are left alone). */
  setTarget(port: number | (() => number)): void {
    this.#target = port;
  }

  /** While on, bytes in both directions are silently discarded (connections stay open); new connections are held open but not forwarded. */
  blackhole(on: boolean): void {
    this.#blackholed = on;
  }

  /** While on, bytes from the target back to the clients are discarded (requests still reach it): replies get lost. */
  dropReplies(on: boolean): void {
    this.#dropReplies = on;
  }

  /**
   * The connections open now go silent for good (bytes both ways discarded, sockets left open), while new ones are
   * forwarded: a host that vanished without a reset, e.g. the old primary after a failover to the same address.
   */
  freeze(): void {
    for (const [a] of this.#pairs) this.#frozen.add(a);
  }

  /** `freeze()` for the open connections whose client has sent `text` (any case, e.g. `SUBSCRIBE`) only; returns how many. */
  freezeWhere(text: string): number {
    let n = 0;
    for (const [a] of this.#pairs) {
      if (this.#sent.get(a)?.toLowerCase().includes(text.toLowerCase())) {
        this.#frozen.add(a);
        n++;
      }
    }
    return n;
  }

  /** Destroys every proxied connection on both sides. */
  cutAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
  }

  /** Number of proxied connections open now. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Destroys one proxied connection, chosen with `random` (in [0, 1)); returns whether there was one. */
  cutOne(random: () => number = Math.random): boolean {
    const pairs = [...this.#pairs];
    const pair = pairs[Math.floor(random() * pairs.length)];
    if (!pair) return false;
    this.#pairs.delete(pair);
    pair[0].destroy();
    pair[1].destroy();
    return true;
  }

  /** Cuts every connection and stops listening. Idempotent. */
  async close(): Promise<void> {
    this.cutAll();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.accepted++;
    const upstream = connect(typeof this.#target === 'function' ? this.#target() : this.#target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const forward = (from: Socket, to: Socket, replies: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (!this.#blackholed && !this.#frozen.has(client) && !(replies && this.#dropReplies) && !to.destroyed) to.write(chunk);
      });
    };
    client.on('data', (chunk: Buffer) => {
      const sent = this.#sent.get(client) ?? '';
      if (sent.length < 65_536) this.#sent.set(client, sent + chunk.toString('latin1'));
    });
    forward(client, upstream, false);
    forward(upstream, client, true);
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }
}
