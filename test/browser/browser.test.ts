/**
 * The browser bundle (client entry + dependencies, built for the browser) in headless Debian Chromium:
 * connects to the reference server with the native WebSocket, subscribes, receives events, survives a restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumPath, launchChromium } from './chromium.js';

const executablePath = chromiumPath('browser test');

useHarness();

const PAGE = `<!doctype html><meta charset="utf-8"><title>sigmax-ws browser test</title>
<script type="module">
  import * as sigmax from './sigmax-ws.js';
  window.sigmax = sigmax;
  window.ready = true;
</script>`;

describe.skipIf(!executablePath)('client in a real browser (headless Chromium)', () => {
  let dir = '';
  let http: Server;
  let origin = '';
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sigmax-browser-'));
    await build({
      entryPoints: [fileURLToPath(new URL('../../src/index.ts', import.meta.url))],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(dir, 'sigmax-ws.js'),
      logLevel: 'error',
    });
    const bundle = readFileSync(join(dir, 'sigmax-ws.js'));
    http = createServer((req, res) => {
      if (req.url === '/sigmax-ws.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      }
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const addr = http.address();
    origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    browser = await launchChromium(executablePath!);
    page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 10_000 });
    expect(errors).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('connects with the native WebSocket, subscribes, receives events, and survives a server restart', async () => {
    const first = await startServer();
    const state = await page.evaluate(async (url) => {
      const w = window as unknown as Record<string, any>;
      const { SigmaxWebSocketClient } = w.sigmax;
      const c = new SigmaxWebSocketClient({ minReconnectDelay: 50, maxReconnectDelay: 200 });
      w.client = c;
      w.got = [];
      c.on('trade_executed', (e: any) => w.got.push(e.data.order_id));
      await c.subscribe({ topics: ['executions'] });
      await c.connect(url);
      return c.state;
    }, first.url);
    expect(state).toBe('open');
    const got = () => page.evaluate(() => (window as unknown as { got: string[] }).got);
    await first.publish('trade_executed', trade(1));
    await waitFor(async () => (await got()).length === 1, 'first event in the browser');
    await first.close();
    const second = await startServer({ port: first.port });
    await waitFor(() => page.evaluate(() => (window as any).client.stats().reconnects === 1 && (window as any).client.state === 'open'), 'reconnect in the browser', 10_000);
    await second.publish('trade_executed', trade(2));
    await waitFor(async () => (await got()).length === 2, 'event after restart in the browser');
    expect(await got()).toEqual(['o1', 'o2']);
    await page.evaluate(() => (window as any).client.disconnect());
    expect(await page.evaluate(() => (window as any).client.state)).toBe('closed');
  }, 30_000);

  it('reconnects at once when the page comes back online, instead of waiting out the backoff', async () => {
    const first = await startServer();
    await page.evaluate(async (url) => {
      const w = window as unknown as Record<string, any>;
      const c = new w.sigmax.SigmaxWebSocketClient({ minReconnectDelay: 20_000, maxReconnectDelay: 30_000 });
      w.client2 = c;
      await c.connect(url);
    }, first.url);
    await first.close();
    await waitFor(() => page.evaluate(() => (window as any).client2.state === 'reconnecting'), 'reconnecting');
    await startServer({ port: first.port });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(() => page.evaluate(() => (window as any).client2.state === 'open'), 'reconnected on online', 5000);
    await page.evaluate(() => (window as any).client2.disconnect());
  }, 30_000);
});
