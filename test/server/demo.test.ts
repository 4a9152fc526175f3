import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_DATA_SCHEMAS } from '../../src/protocol/index.js';
import { DEMO_CADENCE, DemoFeed } from '../../src/server/demo.js';

describe('DemoFeed (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes every topic at its cadence with valid data, and stop() clears every timer', async () => {
    vi.useFakeTimers();
    const published: { type: string; data: unknown }[] = [];
    let seed = 1;
    const feed = new DemoFeed({
      publish: async (type, data) => void published.push({ type, data }),
      health: async () => ({ cpu_percent: 1, memory_percent: 2, disk_percent: 3, process_count: 4 }),
      status: () => ({ running: true, uptime: 1 }),
      random: () => ((seed = (seed * 16807) % 2147483647) / 2147483647),
    });
    feed.start();
    await vi.advanceTimersByTimeAsync(60_000);
    const count = (t: string) => published.filter((p) => p.type === t).length;
    expect(count('market_update')).toBe(60_000 / DEMO_CADENCE.market);
    expect(count('portfolio_update')).toBe(60_000 / DEMO_CADENCE.portfolio);
    expect(count('system_status')).toBe(60_000 / DEMO_CADENCE.status);
    expect(count('health_update')).toBe(60_000 / DEMO_CADENCE.health);
    for (const t of ['analysis_update', 'proposal_created', 'proposal_approved', 'trade_executed']) expect(count(t), t).toBeGreaterThan(0);
    expect(count('alert') + count('warning'), 'alerts').toBeGreaterThan(0); // every topic carries traffic
    for (const p of published) {
      const r = EVENT_DATA_SCHEMAS[p.type as keyof typeof EVENT_DATA_SCHEMAS].safeParse(p.data);
      expect(r.success, `${p.type}: ${JSON.stringify(p.data)}`).toBe(true);
    }
    const market = published.find((p) => p.type === 'market_update')!.data as { symbol: string }[];
    expect(market.map((m) => m.symbol)).toHaveLength(5);
    feed.stop();
    expect(vi.getTimerCount()).toBe(0);
    const n = published.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(published.length).toBe(n);
  });
});
