import { describe, expect, it, onTestFinished } from 'vitest';
import { connectSigmax, type SigmaxEvent } from '../../src/index.js';
import { newClient, startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

describe('seed scenarios against the reference server', () => {
  it('1. basic connection: connect() resolves with the connection id and capabilities', async () => {
    const server = await startServer();
    const client = newClient();
    const info = await client.connect(server.url);
    expect(info.connectionId).toMatch(/.+/);
    expect(info.protocol).toBe(4);
    expect(info.features).toContain('resume');
    expect(info.epoch).toBeTypeOf('string');
    expect(client.state).toBe('open');
    await client.disconnect();
    expect(client.state).toBe('closed');
  });

  it('2. subscriptions: confirmed with normalised lists, rejected with the code, listed by the server', async () => {
    const server = await startServer();
    const client = newClient();
    await client.connect(server.url);
    expect(await client.subscribe({ topics: ['EXECUTIONS', 'market'], symbols: ['btc/usdt'] })).toMatchObject({ topics: ['executions', 'market'], symbols: ['BTC/USDT'] });
    // @ts-expect-error: not a topic (a type error too); checked at run time for untyped callers
    await expect(client.subscribe({ topics: ['bogus'] })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    expect((await client.getSubscriptions()).sort()).toEqual(['executions', 'market', 'symbol:BTC/USDT']);
    await client.unsubscribe({ topics: ['market'] });
    expect((await client.getSubscriptions()).sort()).toEqual(['executions', 'symbol:BTC/USDT']);
  });

  it('3. event reception: typed handlers, listen() and only the subscribed topics', async () => {
    const server = await startServer();
    const client = await connectSigmax({ url: server.url, topics: ['executions'], minReconnectDelay: 50 });
    onTestFinished(() => client.disconnect());
    const handled: string[] = [];
    const all: string[] = [];
    client.on('trade_executed', (e) => handled.push(e.data.order_id));
    client.on('*', (e) => all.push(e.type));
    const it = client.listen();
    await server.publish('alert', { message: 'not for us' });
    await server.publish('trade_executed', trade(1));
    const first = (await it.next()).value as SigmaxEvent<'trade_executed'>;
    expect(first.type).toBe('trade_executed');
    expect(first.data.filled_price).toBe(101);
    expect(first.topic).toBe('executions');
    expect(handled).toEqual(['o1']);
    expect(all).toEqual(['trade_executed']); // the alert was not for our topics
  });

  it('4. ping/pong: ping() resolves with the round-trip time', async () => {
    const server = await startServer();
    const client = newClient();
    await client.connect(server.url);
    const rtt = await client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(client.stats().lastRtt).toBe(rtt);
  });

  it('5. auto-reconnection: server stopped and restarted on the same port → subscriptions restored, events flow again', async () => {
    const first = await startServer();
    const port = first.port;
    const client = newClient();
    await client.subscribe({ topics: ['executions'], symbols: ['ETH/USDT'] });
    await client.connect(first.url);
    const got: string[] = [];
    client.on('trade_executed', (e) => got.push(e.data.order_id));
    await first.publish('trade_executed', trade(1));
    await waitFor(() => got.length === 1, 'first event');
    const reconnected = new Promise((r) => client.once('reconnected', r));
    await first.close();
    await waitFor(() => client.state === 'reconnecting', 'reconnecting');
    const second = await startServer({ port });
    await reconnected;
    expect((await client.getSubscriptions()).sort()).toEqual(['executions', 'symbol:ETH/USDT']);
    await second.publish('trade_executed', trade(2));
    await waitFor(() => got.length === 2, 'event after restart');
    expect(got).toEqual(['o1', 'o2']);
  });
});
