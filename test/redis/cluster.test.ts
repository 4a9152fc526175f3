/** `sigmax-ws-server --workers 2`: two worker processes on one port, sharing the Redis event log. */
import { createServer, request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, runCli, urlLine, type CliRun } from '../helpers/cli.js';
import { REDIS_URL, deleteKeys, redisAvailability, testClient, uniquePrefix, waitFor, type TestClient } from './helpers.js';
import { WsRecorder } from './ws-client.js';
import { createWorkerServer } from '../../src/server/cluster.js';

const redisUp = await redisAvailability();
const TOKEN = 'cluster-test-token';

let cli = '';
let removeCli = () => {};
const runs: CliRun[] = [];
const clients: WsRecorder[] = [];

beforeAll(async () => {
  ({ cli, remove: removeCli } = await buildCli('cluster-test'));
}, 60_000);
afterAll(() => removeCli());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  // Killing the primary ends its workers too (node:cluster workers exit when the primary's IPC channel goes).
  for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
});

/**
 * One HTTP request on a connection of its own (so that the primary hands each to the next worker).
 * Bounded: a connection handed to a worker at the moment it dies is never answered.
 */
function http(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: text ? { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` } : {} },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
      },
    );
    req.setTimeout(3000, () => req.destroy(new Error(`${method} ${path}: no answer in 3 s`)));
    req.on('error', reject);
    req.end(text);
  });
}

describe('--workers without Redis', () => {
  it.each([
    [['--workers', '2'], {}, /--workers needs REDIS_URL so workers share one event log; set REDIS_URL or use --workers 1/],
    [[], { WS_WORKERS: '3' }, /--workers needs REDIS_URL/],
    [['--workers', 'many'], { REDIS_URL }, /--workers must be an integer/],
    [[], { WS_WORKERS: '0', REDIS_URL }, /WS_WORKERS must be an integer/],
  ])('refuses %j %j with a clear message and exit code 2', async (args, env, message) => {
    const r = runCli(cli, ['--port', '0', '--no-demo', ...args], env);
    runs.push(r);
    expect((await r.exited).code).toBe(2);
    expect(r.stderr()).toMatch(message);
    expect(r.stdout()).toBe('');
  });
});

describe('a worker whose primary does not answer the stats request', () => {
  it('serves its own stats, saying how many workers are configured (the list shows which ones it covers)', async () => {
    const server = createWorkerServer({ port: 0, host: '127.0.0.1', demo: false, dashboard: false }, 3);
    await server.listen();
    try {
      const { status, body } = await http(server.port, 'GET', '/api/ws/stats');
      expect(status).toBe(200);
      expect(body).toMatchObject({ workers_configured: 3, active_connections: 0 });
      expect((body as { workers: unknown[] }).workers).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!redisUp)('sigmax-ws-server --workers 2 on Redis', () => {
  let redis: TestClient;
  let prefix = '';

  beforeAll(async () => {
    redis = await testClient();
  });
  afterAll(() => redis?.destroy());
  afterEach(async () => {
    if (prefix) await deleteKeys(redis, prefix);
  });

  /** Starts 2 workers; resolves once both answer in the stats. */
  async function startCluster(): Promise<{ r: CliRun; url: string; port: number; stats: () => Promise<any> }> {
    prefix = uniquePrefix();
    const r = runCli(cli, ['--workers', '2', '--port', '0', '--no-demo'], {
      REDIS_URL,
      WS_REDIS_PREFIX: prefix,
      WS_PUBLISH_TOKEN: TOKEN,
      WS_HISTORY_SIZE: '1000',
    });
    runs.push(r);
    const url = await urlLine(r, 40_000); // three Node processes starting on a busy machine
    expect(r.stdout()).toBe(`${url}\n`); // one URL line for the cluster, not one per worker
    const port = Number(new URL(url).port);
    const stats = async () => (await http(port, 'GET', '/api/ws/stats')).body;
    await waitFor(async () => (await stats()).workers.length === 2, 10_000, 'both workers in the stats');
    return { r, url, port, stats };
  }

  /** Which worker holds each of `n` connections: waits until the per-worker counts add up to `n`. */
  async function perWorker(stats: () => Promise<any>, n: number): Promise<Map<number, number>> {
    const s = await waitFor(async () => {
      const b = await stats();
      return b.active_connections === n ? b : undefined;
    }, 10_000, `${n} active connections`);
    return new Map(s.workers.map((w: any) => [w.worker, w.active_connections]));
  }

  const trade = (n: number) => ({ type: 'trade_executed', data: { proposal_id: `p${n}`, symbol: 'BTC/USDT', action: 'buy', size: 1, filled_price: 100, order_id: `o${n}`, status: 'filled' } });
  const orderIds = (c: WsRecorder) => c.events('trade_executed').map((f) => f.data.order_id as string);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `o${from + i}`);

  /** POSTs trades `from`..`to`, one request (and connection) each, in order. */
  async function publish(port: number, from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) expect((await http(port, 'POST', '/api/events', trade(n))).status).toBe(202);
  }

  it('events published on either worker reach clients on both; resume holds across workers; stats sum the workers', async () => {
    const { url, port, stats } = await startCluster();

    // Clients on both workers (the primary hands connections out in turn; bounded).
    for (let i = 0; i < 4 || [...(await perWorker(stats, clients.length)).values()].some((n) => n === 0); i++) {
      if (i >= 20) throw new Error('all connections landed on one worker');
      clients.push(await WsRecorder.subscribed(url));
    }
    const counts = await perWorker(stats, clients.length);
    expect([...counts.values()].every((n) => n > 0)).toBe(true);

    // 20 POSTs on 20 connections, so both workers publish; every client gets all of them, in order, once.
    await publish(port, 1, 20);
    for (const c of clients) {
      await waitFor(() => orderIds(c).length >= 20, 10_000, 'the 20 events');
      expect(orderIds(c)).toEqual(range(1, 20));
      const seqs = c.events().map((f) => f.seq!);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    const body = await stats();
    expect(body).toMatchObject({ active_connections: clients.length, workers_configured: 2, redis_enabled: true, last_seq: 20, topics: ['all'] });
    expect(body.workers.map((w: any) => w.active_connections).reduce((a: number, b: number) => a + b)).toBe(clients.length);
    expect(body.total_messages_sent).toBe(body.workers.reduce((a: number, w: any) => a + w.total_messages_sent, 0));
    expect(body.workers.every((w: any) => w.epoch === body.epoch)).toBe(true);

    // Resume: one client goes away, events are published meanwhile, and it resumes until it has
    // landed on the other worker (each resume must be lossless, whichever worker serves it).
    for (const c of clients.splice(0)) c.close();
    await perWorker(stats, 0);
    let c = await WsRecorder.subscribed(url);
    clients.push(c);
    const first = [...(await perWorker(stats, 1))].find(([, n]) => n === 1)![0];
    let published = 20;
    await publish(port, published + 1, published + 2);
    published += 2;
    await waitFor(() => orderIds(c).length === 2, 10_000, 'live events');
    let crossed = false;
    for (let attempt = 0; attempt < 8 && !crossed; attempt++) {
      // The primary hands connections to the workers in turn: one more connection now and then
      // shifts the turn, so the resumes below cannot all land on the same worker.
      if (attempt % 2 === 1) await stats();
      const last = c.events().at(-1)!;
      const since = { epoch: c.epoch, seq: last.seq! };
      const had = orderIds(c).at(-1)!;
      c.close();
      clients.splice(0);
      await perWorker(stats, 0);
      await publish(port, published + 1, published + 3);
      c = await WsRecorder.subscribed(url, since);
      clients.push(c);
      expect(c.frames.find((f) => f.type === 'subscribed')!.data.recovered).toBe(true);
      const missed = range(published + 1, published + 3);
      await waitFor(() => orderIds(c).length >= 3, 10_000, 'the replayed events');
      expect(orderIds(c)).toEqual(missed);
      expect(Number(had.slice(1))).toBe(published);
      published += 3;
      const holder = [...(await perWorker(stats, 1))].find(([, n]) => n === 1)![0];
      crossed = holder !== first;
    }
    expect(crossed).toBe(true);
  }, 90_000);

  it('SIGTERM on the primary drains every worker: clients see 1001, all workers exit, the primary exits 0', async () => {
    const { r, url, stats } = await startCluster();
    for (let i = 0; i < 4; i++) clients.push(await WsRecorder.subscribed(url));
    const counts = await perWorker(stats, 4);
    expect([...counts.values()].every((n) => n > 0)).toBe(true);
    const pids: number[] = (await stats()).workers.map((w: any) => w.pid);
    expect(pids).toHaveLength(2);

    r.child.kill('SIGTERM');
    expect(await Promise.all(clients.map((c) => c.waitClosed(10_000)))).toEqual([1001, 1001, 1001, 1001]);
    expect(await r.exited).toEqual({ code: 0, signal: null });
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor(() => pids.every((pid) => !alive(pid)), 5000, 'every worker gone');
  }, 60_000);

  it('a worker that cannot listen (port taken) stops the cluster: exit 1, no URL line', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      prefix = uniquePrefix();
      const port = (taken.address() as { port: number }).port;
      const r = runCli(cli, ['--workers', '2', '--port', String(port), '--no-demo'], { REDIS_URL, WS_REDIS_PREFIX: prefix });
      runs.push(r);
      expect(await r.exited).toEqual({ code: 1, signal: null });
      expect(r.stdout()).toBe('');
      expect(r.stderr()).toMatch(/EADDRINUSE/);
      expect(r.stderr()).toMatch(/worker \d exited \(code 1\) before listening/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 60_000);

  it('restarts a worker that dies, on the same port, and keeps serving', async () => {
    const { url, port, stats } = await startCluster();
    const before: { worker: number; pid: number }[] = (await stats()).workers;
    process.kill(before[0]!.pid, 'SIGKILL');
    const after = await waitFor(async () => {
      const b = await stats().catch(() => ({ workers: [] }));
      return b.workers.length === 2 && !b.workers.some((w: any) => w.pid === before[0]!.pid) ? b.workers : undefined;
    }, 15_000, 'the worker restarted');
    expect(after.map((w: any) => w.pid)).toContain(before[1]!.pid);
    for (let i = 0; i < 4; i++) clients.push(await WsRecorder.subscribed(url));
    expect([...(await perWorker(stats, 4)).values()].every((n) => n > 0)).toBe(true);
    await publish(port, 1, 4);
    for (const c of clients) await waitFor(() => orderIds(c).length === 4, 10_000, 'the events');
  }, 60_000);
});
