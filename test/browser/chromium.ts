/** Debian's chromium via playwright-core (never a downloaded browser): lookup, launch flags, and a tiny static server. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser } from 'playwright-core';

function findChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Path of Debian's chromium, or undefined (then the caller's suite is skipped, except under CI=true, where this throws). */
export function chromiumPath(suite: string): string | undefined {
  const path = findChromium();
  if (!path) {
    const why = `${suite}: \`chromium\` not found (install Debian chromium: apt-get install chromium)`;
    if (process.env.CI === 'true') throw new Error(`${why} — required in CI`);
    console.warn(`SKIPPED ${why}`);
  }
  return path;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Serves `files` (path → [content type, body]) on 127.0.0.1; `/` and unknown paths get `files['/']`. */
export async function serveStatic(files: Record<string, [string, string | Buffer]>): Promise<{ origin: string; close(): Promise<void> }> {
  const http: Server = createServer((req, res) => {
    const file = files[(req.url ?? '/').split('?')[0]!] ?? files['/'];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const addr = http.address();
  const origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return { origin, close: () => new Promise<void>((r) => http.close(() => r())) };
}
