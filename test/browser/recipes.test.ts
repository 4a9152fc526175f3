/**
 * The recipes, each run in headless Debian Chromium against a live reference server:
 * - examples/script.html: a classic <script> tag loading the IIFE build `dist/sigmax-ws.browser.js` from a CDN URL
 *   (answered here with the build made by scripts/browser-build.mjs, as tsup does; no network);
 * - examples/react: the `useSigmax` hook in a tiny Vite app, built with vite, mounted under StrictMode.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBrowserClient } from '../../scripts/browser-build.mjs';
import { startServer, trade, useHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { chromiumPath, launchChromium, serveStatic } from './chromium.js';

const executablePath = chromiumPath('recipes test');
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
useHarness();

describe.skipIf(!executablePath)('recipes in a real browser (headless Chromium)', () => {
  let browser: Browser;
  const statics: { close(): Promise<void> }[] = [];
  let reactDir = '';

  beforeAll(async () => {
    browser = await launchChromium(executablePath!);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(statics.map((s) => s.close()));
    if (reactDir) rmSync(reactDir, { recursive: true, force: true });
  });

  async function open(origin: string, path: string, wsUrl: string, setup?: (page: Page) => Promise<unknown>): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await setup?.(page);
    await page.goto(`${origin}${path}?url=${encodeURIComponent(wsUrl)}`);
    return { page, errors };
  }

  it('examples/script.html: the IIFE build from a <script> tag receives live events', async () => {
    const server = await startServer();
    const site = await serveStatic({ '/': ['text/html', readFileSync(join(examples, 'script.html'))] });
    statics.push(site);
    const iife = buildBrowserClient('iife');
    const cdn: string[] = [];
    const { page, errors } = await open(site.origin, '/script.html', server.url, (p) =>
      p.route('https://unpkg.com/**', (route) => {
        cdn.push(route.request().url());
        return route.fulfill({ contentType: 'text/javascript', body: iife });
      }),
    );
    expect(cdn).toEqual(['https://unpkg.com/sigmax-ws@0.1/dist/sigmax-ws.browser.js']);
    await waitFor(async () => (await page.textContent('#state')) === 'open', 'script page open', 10_000);
    await server.publish('trade_executed', trade(1));
    await server.publish('alert', { message: 'margin low' });
    await waitFor(async () => (await page.locator('#events li').count()) === 2, 'two events on the script page');
    expect(await page.locator('#events li').allTextContents()).toEqual(['alert: margin low', 'trade buy 1 BTC/USDT @ 101']);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('examples/react: useSigmax in a Vite-built app renders live events, and unmounting leaves no connection', async () => {
    reactDir = mkdtempSync(join(tmpdir(), 'sigmax-react-'));
    await build({ configFile: join(examples, 'react', 'vite.config.ts'), build: { outDir: reactDir, emptyOutDir: true }, logLevel: 'error' });
    const [js] = readdirSync(join(reactDir, 'assets')).filter((f) => f.endsWith('.js'));
    const site = await serveStatic({
      '/': ['text/html', readFileSync(join(reactDir, 'index.html'))],
      [`/assets/${js}`]: ['text/javascript', readFileSync(join(reactDir, 'assets', js!))],
    });
    statics.push(site);
    const server = await startServer();
    const { page, errors } = await open(site.origin, '/', server.url);
    await waitFor(async () => (await page.textContent('[data-testid=state]')) === 'open', 'react app open', 10_000);
    // StrictMode mounts twice: the first client was disconnected, only one connection remains.
    await waitFor(() => server.stats().active_connections === 1, 'one connection after StrictMode double mount');
    await server.publish('trade_executed', trade(1));
    await server.publish('trade_executed', trade(2, 'ETH/USDT'));
    await waitFor(async () => (await page.locator('[data-testid=events] li').count()) === 2, 'two events rendered').catch(async (err) => {
      throw new Error(`${err.message}: ${JSON.stringify(await page.locator('body').textContent())}`);
    });
    expect(await page.locator('[data-testid=events] li').allTextContents()).toEqual(['trade buy 1 ETH/USDT @ 102 (o2)', 'trade buy 1 BTC/USDT @ 101 (o1)']);
    expect(errors).toEqual([]);
    await page.close(); // unmounts (pagehide) or drops the socket: the server sees it go
    await waitFor(() => server.stats().active_connections === 0, 'no connection left after the page closed');
  }, 60_000);
});
