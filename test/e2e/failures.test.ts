import { describe, expect, it } from 'vitest';
import { AuthenticationError, ServerError, type CloseInfo, type GapInfo, type GapMarker, type SigmaxEvent } from '../../src/index.js';
import { newClient, startProxy, startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

describe('close codes', () => {
  it('1008 (authentication failed): connect() rejects with AuthenticationError and the client does not retry', async () => {
    const server = await startServer({ apiKeys: ['right'] });
    const client = newClient();
    const states: string[] = [];
    client.on('state', (s) => states.push(s.to));
    const err = await client.connect(server.url, 'wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    expect(client.state).toBe('closed');
    await new Promise((r) => setTimeout(r, 300)); // longer than the backoff: a retry would show
    expect(states).toEqual(['connecting', 'closed']);
    const ok = newClient({ apiKey: 'right' });
    expect((await ok.connect(server.url)).connectionId).toBeTruthy();
  });

  it('1001 (server shutting down): the client reconnects with backoff', async () => {
    const first = await startServer();
    const client = newClient();
    const closes: CloseInfo[] = [];
    client.on('close', (c) => closes.push(c));
    await client.connect(first.url);
    await first.close();
    await waitFor(() => closes.length, 'close');
    expect(closes[0]).toMatchObject({ code: 1001, willRetry: true });
    const second = await startServer({ port: first.port });
    await waitFor(() => client.state === 'open', 'reopen');
    expect(second.stats().active_connections).toBe(1);
  });

  it('1013 (MAX_CONNECTIONS_EXCEEDED): the client retries with backoff and gets in once a slot frees', async () => {
    const first = await startServer();
    const second = await startServer({ maxConnections: 1 });
    const proxy = await startProxy(first.port);
    const waiting = newClient({ minReconnectDelay: 100, maxReconnectDelay: 200 });
    await waiting.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    const closes: CloseInfo[] = [];
    waiting.on('close', (c) => closes.push(c));
    const hog = newClient();
    await hog.connect(second.url); // takes the only slot of `second`
    proxy.setTarget(second.port); // from now on `waiting` reconnects to the full server
    proxy.cutAll();
    await waitFor(() => closes.some((c) => c.code === 1013), 'a 1013 refusal', 5000);
    expect(closes.find((c) => c.code === 1013)).toMatchObject({ willRetry: true });
    expect(waiting.state).toBe('reconnecting');
    await hog.disconnect();
    await waitFor(() => waiting.state === 'open', 'waiting client admitted', 5000);
  });

  it('with retryFirstConnect: false, initial connect() to a full server rejects with ServerError MAX_CONNECTIONS_EXCEEDED', async () => {
    const server = await startServer({ maxConnections: 1 });
    await newClient().connect(server.url);
    const err = await newClient({ retryFirstConnect: false }).connect(server.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err).toMatchObject({ code: 'MAX_CONNECTIONS_EXCEEDED' });
  });

  it('initial connect() to a full server waits for a free slot (1013 is retried)', async () => {
    const server = await startServer({ maxConnections: 1 });
    const hog = newClient();
    await hog.connect(server.url);
    const closes: number[] = [];
    const waiting = newClient();
    waiting.on('close', (c) => closes.push(c.code));
    const p = waiting.connect(server.url);
    await waitFor(() => closes.includes(1013), 'a 1013 refusal');
    await hog.disconnect();
    expect((await p).connectionId).toBeTypeOf('string');
    expect(waiting.state).toBe('open');
  });
});

describe('half-open connection', () => {
  it('detects a proxy that silently stops forwarding: ping timeout → close 4000 → reconnect', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const client = newClient({ pingInterval: 200, pingTimeout: 300, connectTimeout: 500 });
    const closes: CloseInfo[] = [];
    client.on('close', (c) => closes.push(c));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    proxy.blackhole(true);
    await waitFor(() => closes.length, 'heartbeat close', 3000);
    expect(closes[0]).toMatchObject({ code: 4000, willRetry: true });
    proxy.blackhole(false);
    await waitFor(() => client.state === 'open', 'reconnect through the proxy', 5000);
    const got: string[] = [];
    client.on('trade_executed', (e) => got.push(e.data.order_id));
    await server.publish('trade_executed', trade(1));
    await waitFor(() => got.length, 'event after recovery');
  });
});

describe('Part-A-only peer', () => {
  it('works without capabilities: commands matched FIFO by type, events without seq, no false gap', async () => {
    const first = await startServer({ partAOnly: true });
    const client = newClient();
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    await client.subscribe({ topics: ['executions'] });
    const info = await client.connect(first.url);
    expect(info).toMatchObject({ protocol: undefined, features: [], epoch: undefined });
    const [status, portfolio, health, rtt, subs, unknown] = await Promise.all([
      client.getStatus(),
      client.getPortfolio(),
      client.getHealth(),
      client.ping(),
      client.getSubscriptions(),
      client.command('analyze').catch((e: unknown) => e),
    ]);
    expect(status).toBeTypeOf('object');
    expect(portfolio).toHaveProperty('total_value');
    expect(health).toHaveProperty('cpu_percent');
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(subs).toEqual(['executions']);
    expect(unknown).toMatchObject({ name: 'ServerError' });
    const got: SigmaxEvent[] = [];
    client.on('trade_executed', (e) => got.push(e));
    await first.publish('trade_executed', trade(1));
    await waitFor(() => got.length, 'event');
    expect(got[0]!.seq).toBeUndefined();
    await first.close();
    await startServer({ port: first.port, partAOnly: true });
    await waitFor(() => client.state === 'open' && client.stats().reconnects === 1, 'reconnect');
    expect(await client.getSubscriptions()).toEqual(['executions']);
    expect(gaps).toEqual([]);
    expect(client.position).toBeUndefined();
  });
});

describe('Part-A-only peer, replies out of order', () => {
  it('gives each error to its own request although the health reply comes late', async () => {
    const server = await startServer({ partAOnly: true, maxSubscriptions: 1 });
    const client = newClient();
    await client.connect(server.url);
    const [health, sub, unknown, status] = await Promise.all([
      client.getHealth(),
      client.subscribe({ topics: ['market', 'alerts'] }).catch((e: unknown) => e),
      client.command('analyze').catch((e: unknown) => e),
      client.getStatus(),
    ]);
    expect(health).toHaveProperty('cpu_percent');
    expect(sub).toMatchObject({ name: 'ServerError', code: 'TOO_MANY_SUBSCRIPTIONS' });
    expect(unknown).toMatchObject({ name: 'ServerError', code: 'UNKNOWN_COMMAND' });
    expect(status).toHaveProperty('running');
    expect(await client.getSubscriptions()).toEqual([]);
  });
});

describe('resume', () => {
  it('delivers events published while the client was away exactly once, in seq order', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const client = newClient({ connectTimeout: 500 });
    const seqs: number[] = [];
    client.on('trade_executed', (e) => seqs.push(e.seq!));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    for (let i = 1; i <= 5; i++) await server.publish('trade_executed', trade(i));
    await waitFor(() => seqs.length === 5, 'first five');
    proxy.blackhole(true); // nothing gets through while 6..25 are published: they can only come by resume
    proxy.cutAll();
    await waitFor(() => client.state === 'reconnecting', 'loss noticed');
    for (let i = 6; i <= 25; i++) await server.publish('trade_executed', trade(i));
    proxy.blackhole(false);
    await waitFor(() => client.stats().reconnects === 1, 'reconnected');
    for (let i = 26; i <= 30; i++) await server.publish('trade_executed', trade(i));
    await waitFor(() => seqs.length >= 30, 'all 30 events');
    const first = seqs[0]!;
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => first + i));
  });

  it('surfaces a gap when the in-memory server restarted (new epoch), then events flow', async () => {
    const first = await startServer();
    const client = newClient();
    const gaps: GapInfo[] = [];
    client.on('gap', (g) => gaps.push(g));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(first.url);
    const it = client.listen({ types: ['trade_executed'] });
    await first.publish('trade_executed', trade(1));
    expect((await it.next()).value).toMatchObject({ type: 'trade_executed' });
    const before = client.position!;
    await first.close();
    const second = await startServer({ port: first.port });
    const marker = (await it.next()).value as GapMarker;
    expect(marker).toMatchObject({ type: 'gap', epoch: before.epoch, seq: before.seq, reason: 'epoch_changed' });
    expect(gaps).toHaveLength(1);
    expect(marker.newEpoch).not.toBe(before.epoch);
    await second.publish('trade_executed', trade(2));
    expect((await it.next()).value).toMatchObject({ data: { order_id: 'o2' } });
  });
});

describe('outage longer than the history', () => {
  it('surfaces a history_exceeded gap (same epoch), then live events flow', async () => {
    const server = await startServer({ historySize: 3 });
    const proxy = await startProxy(server.port);
    const client = newClient({ connectTimeout: 500 });
    const it = client.listen({ types: ['trade_executed'] });
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    await server.publish('trade_executed', trade(1));
    const first = (await it.next()).value as SigmaxEvent<'trade_executed'>;
    proxy.blackhole(true);
    proxy.cutAll();
    await waitFor(() => client.state === 'reconnecting', 'loss noticed');
    for (let i = 2; i <= 10; i++) await server.publish('trade_executed', trade(i)); // 2..6 fall out of the history
    proxy.blackhole(false);
    const marker = (await it.next()).value as GapMarker;
    expect(marker).toMatchObject({ type: 'gap', seq: first.seq, reason: 'history_exceeded' });
    expect(marker.newEpoch).toBe(marker.epoch);
    expect(client.stats().reconnects).toBe(1);
    await server.publish('trade_executed', trade(11));
    const next = (await it.next()).value as SigmaxEvent<'trade_executed'>;
    expect(next.data.order_id).toBe('o11');
  });
});

describe('resume from the position in the subscribed reply', () => {
  it('after a gap, resumes a second outage although no event arrived in between', async () => {
    const first = await startServer();
    const proxy = await startProxy(first.port);
    const client = newClient({ connectTimeout: 500 });
    const gaps: GapInfo[] = [];
    const got: string[] = [];
    client.on('gap', (g) => gaps.push(g));
    client.on('trade_executed', (e) => got.push(e.data.order_id));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    await first.publish('trade_executed', trade(1));
    await waitFor(() => got.length === 1, 'first event');
    await first.close();
    const second = await startServer({ port: first.port });
    await waitFor(() => gaps.length === 1 && client.state === 'open', 'gap, then open on the new epoch');
    // The subscribed reply to `since` carried {epoch, seq}: the client holds a position on the new epoch already.
    expect(client.position?.epoch).not.toBe(gaps[0]!.epoch);
    proxy.blackhole(true); // nothing gets through until the events are published: they can only come by resume
    proxy.cutAll();
    await waitFor(() => client.state === 'reconnecting', 'loss noticed');
    for (let i = 2; i <= 4; i++) await second.publish('trade_executed', trade(i));
    proxy.blackhole(false);
    await waitFor(() => client.stats().reconnects === 2, 'reconnected');
    await waitFor(() => got.length === 4, 'the events published while away');
    expect(got).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(gaps).toHaveLength(1);
  });
});

describe('unreachable server', () => {
  it('with retryFirstConnect: false, initial connect() to a closed port rejects with ConnectionError CONNECTION_FAILED and leaves the client closed', async () => {
    const server = await startServer();
    const url = server.url;
    await server.close();
    const client = newClient({ retryFirstConnect: false });
    const err = await client.connect(url).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ConnectionError', code: 'CONNECTION_FAILED' });
    expect(client.state).toBe('closed');
  });
});

describe('resume before the first event', () => {
  it('a client that has received no event yet resumes its first outage', async () => {
    const server = await startServer();
    const proxy = await startProxy(server.port);
    const client = newClient({ connectTimeout: 500 });
    const got: string[] = [];
    const gaps: GapInfo[] = [];
    client.on('trade_executed', (e) => got.push(e.data.order_id));
    client.on('gap', (g) => gaps.push(g));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    expect(client.position).toBeDefined(); // adopted from the restoring subscribe's reply
    proxy.blackhole(true);
    proxy.cutAll();
    await waitFor(() => client.state === 'reconnecting', 'loss noticed');
    for (let i = 1; i <= 3; i++) await server.publish('trade_executed', trade(i));
    proxy.blackhole(false);
    await waitFor(() => client.stats().reconnects === 1, 'reconnected');
    await server.publish('trade_executed', trade(4));
    await waitFor(() => got.length === 4, 'all four');
    expect(got).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(gaps).toEqual([]);
  });
});
