/** Helpers of the Redis tests: reachability, unique prefixes, cleanup, wait-for, a private redis-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import type { SequencedEvent } from '../../src/server/log/types.js';
import { waitFor as pollUntil } from '../helpers/wait.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the shared test Redis answers `PING` (within 1 s). */
export async function isRedisUp(url = REDIS_URL): Promise<boolean> {
  const client = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Decides whether Redis tests run: they do when Redis answers; when it does not, they are
 * skipped with a printed reason, except under `CI=true`, where that is a failure.
 */
export async function redisAvailability(): Promise<boolean> {
  const up = await isRedisUp();
  if (!up && process.env.CI === 'true') throw new Error(`Redis is unreachable at ${REDIS_URL} and CI=true: Redis tests must run`);
  if (!up) process.stderr.write(`[redis tests] SKIPPED: no Redis at ${REDIS_URL} (set REDIS_URL or start redis-server)\n`);
  return up;
}

export const uniquePrefix = () => `test:${randomUUID()}`;

/** A plain client for test-side commands (publishing legacy messages, inspecting keys). */
export async function testClient(url = REDIS_URL) {
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => {});
  await client.connect();
  return client;
}
export type TestClient = Awaited<ReturnType<typeof testClient>>;

/** Deletes every key under `prefix` (`P:*` and the hash-tagged `{P}:*`; SCAN, never FLUSH). */
export async function deleteKeys(client: TestClient, prefix: string): Promise<void> {
  for (const match of [`${prefix}:*`, `{${prefix}}:*`]) {
    for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
      if (keys.length) await client.del(keys);
    }
  }
}

/** Polls `fn` until it returns truthy, at most `timeoutMs`. */
export function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  return pollUntil(fn, what, timeoutMs);
}

/** Collects what a log hands to `onEvent` and `onReset`. */
/**
 * Retries `attempt` (which must be refused with an `EventLogUnavailableError`-shaped error every time) until the
 * refusal is certain (`outcome: 'not_appended'`), and returns that error. Right after Redis goes away, an append
 * written to the command connection before it noticed the close was sent, so its outcome is `unknown`.
 */
export async function certainRefusal(attempt: () => Promise<unknown>, tries = 50): Promise<{ code?: string; outcome?: string }> {
  let err: { code?: string; outcome?: string; name?: string } = {};
  for (let i = 0; i < tries; i++) {
    err = await attempt().then(
      (r) => { throw new Error(`expected a refusal, got ${JSON.stringify(r)}`); },
      (e: unknown) => e as typeof err,
    );
    if (err.code !== 'EVENT_LOG_UNAVAILABLE') throw err;
    if (err.outcome === 'not_appended') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return err;
}

export class Recorder {
  readonly events: SequencedEvent[] = [];
  readonly resets: { epoch: string; reason: string }[] = [];
  readonly onEvent = (e: SequencedEvent) => void this.events.push(e);
  readonly onReset = (epoch: string, reason: string) => void this.resets.push({ epoch, reason });
  seqs = () => this.events.map((e) => e.seq);
}

/** A memory logger that records warnings (tests assert on them). */
export function memoryLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server on a free port (non-persistent unless `args` say otherwise), started and stopped by PID. */
export class PrivateRedis {
  #proc: ChildProcess | undefined;
  port = 0;

  /** `args`: extra redis-server arguments, e.g. `['--appendonly', 'yes', '--dir', tmp]` (later ones win). */
  constructor(readonly args: readonly string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], {
      stdio: 'ignore',
    });
    proc.on('error', () => {});
    this.#proc = proc;
    await waitFor(() => isRedisUp(this.url), 5000, `redis-server on port ${this.port}`);
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.#proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.#proc?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL'); // also ends a paused (SIGSTOP) process
    await exited;
  }
}
