/** Errors you can't miss: with no `error` listener and no logger, they go to console.error (once per code). */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { SigmaxWebSocketClient, type ClientOptions } from '../../src/index.js';
import { MockSigmax, MockWS, connectTo, tick, useFakeTime } from '../helpers/mock-sigmax.js';

let server: MockSigmax;
let client: SigmaxWebSocketClient;
let spy: MockInstance<typeof console.error>;

function make(opts: ClientOptions = {}): SigmaxWebSocketClient {
  server = new MockSigmax();
  client = new SigmaxWebSocketClient({ WebSocket: MockWS, minReconnectDelay: 100, maxReconnectDelay: 200, pingInterval: 0, ...opts });
  return client;
}
const printed = (): string => spy.mock.calls.map((c) => c.map(String).join(' ')).join('\n');

beforeEach(() => {
  spy = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  spy.mockRestore();
});
useFakeTime(async () => {
  await client?.disconnect();
  server?.stop();
});

describe('unhandled errors', () => {
  it('a throwing handler is printed once with its code and a hint, and the other handlers still run', async () => {
    make();
    let other = 0;
    client.on('trade_executed', () => {
      throw new Error('boom');
    });
    client.on('trade_executed', () => other++);
    await connectTo(client, server);
    server.trade();
    server.trade();
    await tick();
    expect(other).toBe(2);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(printed()).toMatch(/HANDLER_ERROR/);
    expect(printed()).toMatch(/boom/);
    expect(printed()).toMatch(/on\('error'/);
  });

  it('RECONNECT_FAILED, an invalid frame and a server error frame are each printed', async () => {
    make({ maxReconnectAttempts: 1 });
    await connectTo(client, server);
    server.last.send('not json');
    server.reply(server.last, 'error', { error: 'slow down', code: 'RATE_LIMITED' });
    await tick();
    server.stop();
    server.kick(1006);
    await tick(2000);
    expect(client.state).toBe('closed');
    const out = printed();
    expect(out).toMatch(/INVALID_FRAME/);
    expect(out).toMatch(/RATE_LIMITED/);
    expect(out).toMatch(/RECONNECT_FAILED/);
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('an error listener silences the default', async () => {
    make();
    const seen: string[] = [];
    client.on('error', (e) => seen.push(e.code));
    await connectTo(client, server);
    server.last.send('not json');
    await tick();
    expect(seen).toEqual(['INVALID_FRAME']);
    expect(spy).not.toHaveBeenCalled();
  });

  it('a logger silences the default and receives the error', async () => {
    const logged: string[] = [];
    make({ logger: { error: (m: string) => logged.push(m) } });
    await connectTo(client, server);
    server.last.send('not json');
    await tick();
    expect(spy).not.toHaveBeenCalled();
    expect(logged.join('\n')).toMatch(/Invalid frame/);
  });
});
