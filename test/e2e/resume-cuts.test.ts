import { describe, expect, it } from 'vitest';
import type { GapInfo } from '../../src/index.js';
import { newClient, startProxy, startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

useHarness();

describe('resume under repeated cuts', () => {
  it('delivers every event exactly once, in seq order, across 20 connection cuts during a 2000-event stream', async () => {
    const server = await startServer({ historySize: 5000 });
    const proxy = await startProxy(server.port);
    const client = newClient({ minReconnectDelay: 10, maxReconnectDelay: 50, healthyAfter: 100 });
    const seqs: number[] = [];
    const gaps: GapInfo[] = [];
    client.on('trade_executed', (e) => seqs.push(e.seq!));
    client.on('gap', (g) => gaps.push(g));
    await client.subscribe({ topics: ['executions'] });
    await client.connect(`ws://127.0.0.1:${proxy.port}/api/ws`);
    const TOTAL = 2000;
    let cuts = 0;
    for (let i = 1; i <= TOTAL; i++) {
      await server.publish('trade_executed', trade(i));
      if (i % 100 === 50 && cuts < 20) {
        await waitFor(() => client.state === 'open', 'open before a cut');
        proxy.cutAll();
        cuts++;
      }
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 2)); // let the client reconnect between bursts
    }
    await waitFor(() => seqs.length >= TOTAL, `all ${TOTAL} events (have ${seqs.length})`, 15_000);
    expect(cuts).toBe(20);
    await waitFor(() => client.stats().reconnects === 20, 'the 20th reconnect');
    expect(gaps).toEqual([]);
    const first = seqs[0]!;
    expect(seqs).toEqual(Array.from({ length: TOTAL }, (_, i) => first + i));
  }, 30_000);
});
