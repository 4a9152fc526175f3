/** Runs the `sigmax-ws-server` CLI built from the current sources (never a stale dist/) in a child process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Bundles `entries` (name → source path under the repository) under node_modules (so that their external
 * imports, ws and redis, resolve), into `outDir`: the current sources, never a stale dist/.
 */
export async function bundleSources(outDir: string, entries: Record<string, string>): Promise<void> {
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(root, path)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
}

/** A directory of its own under node_modules/.cache for `tag` and this process. */
export const cacheDir = (tag: string): string => join(root, 'node_modules', '.cache', `sigmax-${tag}-${process.pid}`);

/** Bundles src/server/cli.ts in a directory of its own per `tag` and process; `remove()` deletes it. */
export async function buildCli(tag: string): Promise<{ cli: string; remove: () => void }> {
  const outDir = cacheDir(tag);
  await bundleSources(outDir, { cli: 'src/server/cli.ts' });
  return { cli: join(outDir, 'cli.mjs'), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

/** Starts the CLI with only PATH and `env` in its environment; records its output. */
export function runCli(cli: string, args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The first stdout line (the server's URL), waited for. */
export async function urlLine(r: CliRun, timeoutMs = 15_000): Promise<string> {
  await waitFor(() => r.stdout().includes('\n') || r.child.exitCode !== null, 'the URL line', timeoutMs);
  if (!r.stdout().includes('\n')) throw new Error(`exited (${r.child.exitCode}) without a URL line; stderr: ${r.stderr()}`);
  return r.stdout().split('\n')[0]!;
}
