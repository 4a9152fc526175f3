import { afterEach, describe, expect, it } from 'vitest';
import { SigmaxWebSocketClient, type SigmaxError, type StateChange, type WebSocketConstructor } from '../../src/index.js';

/** A socket that never opens: enough to drive the client into `connecting`. */
class SilentSocket {
  readyState = 0;
  onopen = null;
  onmessage = null;
  onclose = null;
  onerror = null;
  send(): void {}
  close(): void {
    this.readyState = 3;
  }
}
const WebSocket = SilentSocket as unknown as WebSocketConstructor;

let client: SigmaxWebSocketClient | undefined;
afterEach(async () => {
  await client?.disconnect();
  client = undefined;
});

describe('handlers', () => {
  it('a throwing handler is reported as HANDLER_ERROR and does not keep the other handlers from running', async () => {
    client = new SigmaxWebSocketClient({ WebSocket, connectTimeout: 60_000 });
    const seen: string[] = [];
    const errors: SigmaxError[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('state', () => {
      throw new Error('boom');
    });
    client.on('state', (s: StateChange) => seen.push(s.to));
    void client.connect('ws://127.0.0.1:9/api/ws').catch(() => {});
    expect(seen).toEqual(['connecting']);
    expect(errors.map((e) => e.code)).toEqual(['HANDLER_ERROR']);
    expect(errors[0]?.message).toMatch(/state.*boom/);
  });

  it('off(type, handler) and the returned remover both find a registered handler', async () => {
    client = new SigmaxWebSocketClient({ WebSocket, connectTimeout: 60_000 });
    const seen: string[] = [];
    const a = (s: StateChange) => seen.push(`a:${s.to}`);
    const b = (s: StateChange) => seen.push(`b:${s.to}`);
    client.on('state', a);
    const offB = client.on('state', b);
    client.off('state', a);
    offB();
    offB(); // idempotent
    void client.connect('ws://127.0.0.1:9/api/ws').catch(() => {});
    expect(seen).toEqual([]);
  });
});

describe('argument errors', () => {
  it('an unknown option throws a TypeError naming it', () => {
    expect(() => new SigmaxWebSocketClient({ pingIntervall: 5 } as never)).toThrow(/Unknown option `pingIntervall`/);
  });

  it('connect() without a URL rejects (it does not throw synchronously)', async () => {
    client = new SigmaxWebSocketClient({ WebSocket });
    let p: Promise<unknown> | undefined;
    expect(() => (p = client!.connect())).not.toThrow();
    await expect(p).rejects.toBeInstanceOf(TypeError);
  });
});
