/**
 * The dashboard at `GET /` in headless Debian Chromium: it loads with no page error and no request beyond the
 * server, shows live demo-feed events within seconds with the counts, position, Redis and health state, and
 * its filters work. Leaves a screenshot in test-results/dashboard.png; with UPDATE_SCREENSHOT=1 in docs/dashboard.png
 * (the README shows it), so a plain test run leaves the work tree clean.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFromEnv } from '../../src/server/index.js';
import { newClient, startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumPath, launchChromium } from './chromium.js';

const executablePath = chromiumPath('dashboard test');
useHarness();

describe('dashboard switch', () => {
  it('GET / serves the page by default, 404 with dashboard: false or WS_DASHBOARD=0', async () => {
    const on = await startServer();
    const page = await fetch(`http://127.0.0.1:${on.port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('SigmaxWS'); // the embedded browser client build
    expect(html).not.toMatch(/(src|href)="https?:/); // self-contained
    const off = await startServer(loadConfigFromEnv({ WS_DASHBOARD: '0' }));
    expect((await fetch(`http://127.0.0.1:${off.port}/`)).status).toBe(404);
    const off2 = await startServer({ dashboard: false });
    expect((await fetch(`http://127.0.0.1:${off2.port}/`)).status).toBe(404);
  });
});

describe.skipIf(!executablePath)('dashboard in a real browser (headless Chromium)', () => {
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const foreign: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium(executablePath!);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('shows live demo events, counts, stream position, Redis and health state, with working filters', async () => {
    const server = await startServer({ demo: true });
    const origin = `http://127.0.0.1:${server.port}`;
    // Another client with subscriptions, so the counts are not only the page's own.
    const other = newClient();
    await other.subscribe({ topics: ['executions'], symbols: ['BTC/USDT', 'ETH/USDT'] });
    await other.connect(server.url);

    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith(`ws://127.0.0.1:${server.port}/`)) foreign.push(r.url());
    });
    await page.goto(`${origin}/`);

    const received = () => page.evaluate(() => (window as any).dashboard.received as number);
    await waitFor(async () => (await received()) >= 3, 'demo events on the dashboard', 10_000);
    await waitFor(() => page.evaluate(() => document.querySelectorAll('#events tr').length >= 3), 'event rows', 5000);
    expect(await page.textContent('#state')).toBe('open');
    await waitFor(async () => (await page.textContent('#k-conn')) === '2', 'connections count', 5000);
    // page: all; other: 1 topic + 2 symbols (polled every 2 s: it may first show a count from before the page's subscribe)
    await waitFor(async () => (await page.textContent('#k-subs')) === '4', 'subscriptions count', 5000);
    expect(await page.textContent('#k-redis')).toBe('in memory');
    expect(await page.textContent('#k-health')).toBe('ok');
    await waitFor(async () => /^#\d+$/.test((await page.textContent('#k-pos')) ?? ''), 'stream position', 5000);
    expect(await page.textContent('#k-epoch')).toBe(`epoch ${(await page.evaluate(() => (window as any).dashboard.client.position.epoch as string)).slice(0, 8)}`);
    expect(await page.textContent('#notices')).toContain('connected');
    await waitFor(() => page.evaluate(() => document.querySelectorAll('#chart rect').length > 0), 'chart bars', 5000);

    // A published trade shows; the filters narrow the table to it.
    await server.publish('trade_executed', trade(7, 'SOL/USDT'));
    await page.selectOption('#f-topic', 'executions');
    await page.fill('#f-symbol', 'sol/');
    await waitFor(() => page.evaluate(() => Array.from(document.querySelectorAll('#events tr')).some((r) => (r as HTMLElement).dataset.type === 'trade_executed')), 'filtered trade row', 5000);
    const types = await page.evaluate(() => Array.from(document.querySelectorAll('#events tr')).map((r) => [(r as HTMLElement).dataset.type, r.children[4]!.textContent]));
    expect(types.length).toBeGreaterThan(0);
    for (const [type, symbols] of types) {
      expect(type).toBe('trade_executed');
      expect(symbols).toContain('SOL/USDT');
    }

    // A server restart on the same port: a reconnect notice and the client back open.
    await page.selectOption('#f-topic', '');
    await page.fill('#f-symbol', '');
    await waitFor(async () => (await received()) >= 12, 'a few seconds of demo traffic for the chart', 15_000);
    mkdirSync(fileURLToPath(new URL('../../docs', import.meta.url)), { recursive: true });
    const shot = process.env.UPDATE_SCREENSHOT === '1' ? '../../docs/dashboard.png' : '../../test-results/dashboard.png';
    await page.screenshot({ path: fileURLToPath(new URL(shot, import.meta.url)) });

    await server.close();
    await waitFor(async () => (await page.textContent('#notices'))?.includes('reconnecting'), 'reconnect notice', 5000);
    await startServer({ port: server.port, demo: true });
    await waitFor(async () => (await page.textContent('#state')) === 'open', 'reopened after restart', 10_000);
    expect(await page.textContent('#notices')).toMatch(/could not resume|GAP/); // a new in-memory epoch
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.evaluate(() => (window as any).dashboard.client.disconnect());
  }, 60_000);
});
