import { describe, expect, it } from 'vitest';
import { backoffDelay, SigmaxWebSocketClient } from '../../src/index.js';

const policy = { minDelay: 1000, maxDelay: 60_000 };

describe('backoffDelay', () => {
  it('doubles its ceiling per attempt and caps it at maxDelay', () => {
    const top = (a: number) => backoffDelay(a, { ...policy, random: () => 1 });
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map(top)).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('never goes below minDelay', () => {
    for (const a of [0, 1, 5, 30, 1000]) expect(backoffDelay(a, { ...policy, random: () => 0 })).toBe(1000);
  });

  it('keeps full jitter at the cap (no lockstep): uniform in [min, max]', () => {
    let x = 0;
    const random = () => ((x = (x * 9301 + 49297) % 233280) / 233280);
    const ds = Array.from({ length: 2000 }, () => backoffDelay(40, { ...policy, random }));
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...ds)).toBeLessThanOrEqual(60_000);
    expect(Math.max(...ds) - Math.min(...ds)).toBeGreaterThan(50_000);
    expect(new Set(ds).size).toBeGreaterThan(1500);
  });

  it('spreads even the first retry over [min, 2·min]', () => {
    expect(backoffDelay(0, { ...policy, random: () => 0.5 })).toBe(1500);
  });
});

describe('option validation', () => {
  it.each([
    [{ pingInterval: -1 }, /`pingInterval`.*-1 \(number\)/],
    [{ connectTimeout: 'soon' }, /`connectTimeout`.*"soon" \(string\)/],
    [{ maxReconnectDelay: 10, minReconnectDelay: 100 }, /`maxReconnectDelay`/],
    [{ listenOverflow: 'drop' }, /`listenOverflow`.*"drop"/],
    [{ autoReconnect: 'yes' }, /`autoReconnect`/],
    [{ WebSocket: 42 }, /`WebSocket`.*42 \(number\)/],
    [{ commandTimeout: NaN }, /`commandTimeout`.*NaN/],
    [{ connectTimeout: 0 }, /`connectTimeout` to be a positive number, got 0/],
  ])('throws a TypeError quoting the bad value for %o', (opts, re) => {
    expect(() => new SigmaxWebSocketClient(opts as never)).toThrow(TypeError);
    expect(() => new SigmaxWebSocketClient(opts as never)).toThrow(re);
  });

  it('accepts maxReconnectAttempts: Infinity and the defaults', () => {
    expect(() => new SigmaxWebSocketClient({ maxReconnectAttempts: Infinity })).not.toThrow();
    expect(() => new SigmaxWebSocketClient()).not.toThrow();
  });
});
