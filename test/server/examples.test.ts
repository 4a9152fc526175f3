/** Runs examples/http.mjs, express.mjs and fastify.mjs: each serves its app and SIGMAX events to a real client. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SigmaxWebSocketClient, type SigmaxEvent } from '../../src/index.js';
import { bundleSources, cacheDir } from '../helpers/cli.js';
import { nextEvent, waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The examples import the package by name: a loader hook points `sigmax-ws/server` at a bundle of the
// current sources (never a stale dist/), built under node_modules so that its imports (ws, redis) resolve.
const outDir = cacheDir('examples-test');
const children = new Set<ChildProcess>();

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  await bundleSources(outDir, { server: 'src/server/index.ts' });
  const server = pathToFileURL(join(outDir, 'server.mjs')).href;
  writeFileSync(
    join(outDir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
       if (specifier === 'sigmax-ws/server') return { url: ${JSON.stringify(server)}, shortCircuit: true };
       return next(specifier, context);
     }\n`,
  );
  writeFileSync(join(outDir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(outDir, 'hooks.mjs')).href)});\n`);
}, 60_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

describe.each(['http', 'express', 'fastify'])('examples/%s.mjs', (name) => {
  it('serves the app, its SIGMAX routes, and events to a real client; stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(outDir, 'register.mjs')).href, join(root, 'examples', `${name}.mjs`)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = String(await waitFor(() => out.includes('\n') && out.split('\n')[0], `the URL line (stderr: ${err})`, 15_000)).trim();
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/api\/ws$/);
    const http = url.replace(/^ws/, 'http').replace(/\/api\/ws$/, '');
    const home = await fetch(`${http}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toMatch(new RegExp(name === 'http' ? 'node:http' : name, 'i'));
    expect((await (await fetch(`${http}/api/ws/stats`)).json()).active_connections).toBe(0);

    const client = new SigmaxWebSocketClient({ url, pingInterval: 0 });
    try {
      await client.subscribe({ topics: ['market'] });
      await client.connect();
      const event = await nextEvent<SigmaxEvent<'market_update'>>((h) => client.on('market_update', h), 'a market_update', 10_000);
      expect(event.data.length).toBeGreaterThan(0);
      expect(event.seq).toBeGreaterThan(0);
    } finally {
      await client.disconnect();
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 40_000);
});
