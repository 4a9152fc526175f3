/**
 * disconnect() and connect() called from inside the client's own event handlers, disconnect() in every state,
 * and the browser hooks (online / visibilitychange): nothing may keep running or be left registered.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SigmaxWebSocketClient, type ClientOptions } from '../../src/index.js';
import { MockSigmax, MockWS, tick, connectTo } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;

function make(opts: ClientOptions = {}): SigmaxWebSocketClient {
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, minReconnectDelay: 100, maxReconnectDelay: 1000, pingInterval: 0, ...opts });
  return client;
}

async function open(opts: ClientOptions = {}): Promise<SigmaxWebSocketClient> {
  make(opts);
  await connectTo(client, server);
  return client;
}

beforeEach(() => {
  vi.useFakeTimers();
  server = new MockSigmax();
});
afterEach(async () => {
  await client?.disconnect();
  server.stop();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('disconnect() from inside a handler', () => {
  it('in a close handler: the client stays closed and schedules no reconnect', async () => {
    await open();
    client.on('close', () => void client.disconnect());
    server.kick(1001);
    await tick(5);
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    await tick(5000);
    expect(server.sockets).toHaveLength(1);
  });

  it('in a state handler on reconnecting: no backoff timer is left behind', async () => {
    await open();
    client.on('state', (s) => {
      if (s.to === 'reconnecting') void client.disconnect();
    });
    server.kick(1001);
    await tick(5);
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    await tick(5000);
    expect(server.sockets).toHaveLength(1);
  });

  it('in a state handler on open: the healthy-uptime timer is not left behind, connect() is rejected', async () => {
    make({ listeners: { state: (s) => s.to === 'open' && void client.disconnect() } });
    const p = client.connect(server.url).catch((e: unknown) => e);
    await tick();
    expect(await p).toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(client.state).toBe('closed');
    await tick(10); // let mock-socket finish its own close callbacks
    expect(vi.getTimerCount()).toBe(0);
  });

  it('in a gap handler: the client does not reopen', async () => {
    make();
    await client.subscribe({ topics: ['executions'] });
    await connectTo(client, server);
    server.trade(3);
    await tick();
    server.opts.recovered = false;
    client.on('gap', () => void client.disconnect());
    server.kick(1001);
    await tick(1000);
    expect(client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('connect() from a state handler on closed', () => {
  it('starts a new connection that the closing one does not reject', async () => {
    await open();
    let again: Promise<unknown> | undefined;
    client.on('state', (s) => {
      if (s.to === 'closed' && !again) again = client.connect(server.url).catch((e: unknown) => e);
    });
    await client.disconnect();
    await tick();
    expect(await again).toMatchObject({ connectionId: 'c1' });
    expect(client.state).toBe('open');
  });
});

describe('disconnect() in the idle state', () => {
  it('ends listen() iterators made before the first connect, and connect() still works afterwards', async () => {
    make();
    const it = client.listen();
    const pending = it.next();
    await client.disconnect();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(client.state).toBe('closed');
    expect(client.stats().iterators).toBe(0);
    const p = client.connect(server.url);
    await tick();
    await expect(p).resolves.toMatchObject({ connectionId: 'c0' });
  });
});

describe('browser hooks', () => {
  /** A fake `window` and `document` that count their listeners. */
  function stubPage(): { window: EventTarget; document: EventTarget & { visibilityState: string }; count: () => number } {
    let n = 0;
    const counted = <T extends EventTarget>(t: T): T => {
      const add = t.addEventListener.bind(t);
      const remove = t.removeEventListener.bind(t);
      t.addEventListener = (...a: Parameters<typeof add>) => void (n++, add(...a));
      t.removeEventListener = (...a: Parameters<typeof remove>) => void (n--, remove(...a));
      return t;
    };
    const window = counted(new EventTarget());
    const document = Object.assign(counted(new EventTarget()), { visibilityState: 'visible' });
    vi.stubGlobal('window', window);
    vi.stubGlobal('document', document);
    return { window, document, count: () => n };
  }

  it('reconnects at once when the page comes back online or visible, and removes both listeners on disconnect', async () => {
    const page = stubPage();
    await open({ minReconnectDelay: 20_000, maxReconnectDelay: 30_000 });
    expect(page.count()).toBe(2);
    server.kick(1001);
    await tick();
    expect(client.state).toBe('reconnecting');
    page.window.dispatchEvent(new Event('online'));
    await tick();
    expect(client.state).toBe('open');
    server.kick(1001);
    await tick();
    page.document.visibilityState = 'hidden';
    page.document.dispatchEvent(new Event('visibilitychange'));
    await tick();
    expect(client.state).toBe('reconnecting');
    page.document.visibilityState = 'visible';
    page.document.dispatchEvent(new Event('visibilitychange'));
    await tick();
    expect(client.state).toBe('open');
    await client.disconnect();
    expect(page.count()).toBe(0);
    await tick(10); // let mock-socket finish its own close callbacks
    expect(vi.getTimerCount()).toBe(0);
  });

  it('removes both listeners when the first connect fails', async () => {
    const page = stubPage();
    server.opts.silent = true;
    const p = make({ connectTimeout: 100, retryFirstConnect: false }).connect(server.url).catch((e: unknown) => e);
    expect(page.count()).toBe(2);
    await tick(200);
    expect(await p).toMatchObject({ code: 'CONNECT_TIMEOUT' });
    expect(page.count()).toBe(0);
  });
});
