/** Shared e2e setup: reference servers and clients that are all closed after each test. */
import { afterEach } from 'vitest';
import { SigmaxServer, type SigmaxServerOptions } from '../../src/server/index.js';
import { SigmaxWebSocketClient, type ClientOptions } from '../../src/index.js';
import { TcpProxy } from './tcp-proxy.js';

const servers = new Set<SigmaxServer>();
const clients = new Set<SigmaxWebSocketClient>();
const proxies = new Set<TcpProxy>();

/** Registers the afterEach cleanup; call once at the top of a test file. */
export function useHarness(): void {
  afterEach(async () => {
    await Promise.all([...clients].map((c) => c.disconnect()));
    await Promise.all([...proxies].map((p) => p.close()));
    await Promise.all([...servers].map((s) => s.close()));
    clients.clear();
    proxies.clear();
    servers.clear();
  });
}

/** A listening reference server on 127.0.0.1 (port 0 unless given). */
export async function startServer(opts: Partial<SigmaxServerOptions> = {}): Promise<SigmaxServer> {
  const s = new SigmaxServer({ port: 0, host: '127.0.0.1', ...opts });
  servers.add(s);
  await s.listen();
  return s;
}

/** A client with short backoff, closed after the test. */
export function newClient(opts: ClientOptions = {}): SigmaxWebSocketClient {
  const c = new SigmaxWebSocketClient({ minReconnectDelay: 50, maxReconnectDelay: 200, ...opts });
  clients.add(c);
  return c;
}

/** A started TCP proxy to `targetPort`, closed after the test. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const p = new TcpProxy(targetPort);
  proxies.add(p);
  await p.start();
  return p;
}

/** `trade_executed` data number `n`. */
export const trade = (n: number, symbol = 'BTC/USDT') => ({ proposal_id: `p${n}`, symbol, action: 'buy' as const, size: 1, filled_price: 100 + n, order_id: `o${n}`, status: 'filled' as const });
