/**
 * A TCP proxy for failure tests: forwards 127.0.0.1:`port` to a target port, and can cut every connection
 * (`cutAll()`, the peers see a reset/close) or silently stop forwarding in both directions (`blackhole(true)`:
 * sockets stay open, bytes vanish — a half-open connection as a dead NAT or a pulled cable makes it).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  #server: Server | undefined;
  #target: number;
  #blackholed = false;
  readonly #pairs = new Set<[Socket, Socket]>();
  /** Connections accepted since start. */
  accepted = 0;

  constructor(targetPort: number) {
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

  /** New connections go to this port (existing ones are left alone). */
  setTarget(port: number): void {
    this.#target = port;
  }

  /** While on, bytes in both directions are silently discarded (connections stay open); new connections are held open but not forwarded. */
  blackhole(on: boolean): void {
    this.#blackholed = on;
  }

  /** Destroys every proxied connection on both sides. */
  cutAll(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    this.#pairs.clear();
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
    const upstream = connect(this.#target, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!this.#blackholed && !to.destroyed) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
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
