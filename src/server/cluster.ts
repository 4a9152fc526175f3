/**
 * `sigmax-ws-server --workers N`: N worker processes serving one port with `node:cluster`.
 *
 * The primary forks the workers and does no network work itself: each worker runs a
 * `SigmaxServer` on the shared port, and all of them share the Redis event log (sequence,
 * history, fan-out), so an event published on any worker reaches every client once and a
 * client resumes on any worker. The primary restarts a worker that dies (with backoff,
 * bounded), drains every worker on SIGTERM/SIGINT, and answers the workers' requests for
 * the cluster-wide `GET /api/ws/stats` by collecting each worker's own stats over IPC.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger, SigmaxServerOptions } from './config.js';
import { ConfigError } from './errors.js';
import { SigmaxServer } from './server.js';
import type { WsStats } from './stats.js';

/** A worker's stats as the primary collected them. */
export type WorkerStats = WsStats & { worker: number; pid: number };

/** `GET /api/ws/stats` with `--workers`: the sums over the workers, then each worker's own stats. */
export type ClusterStats = WsStats & { workers_configured: number; workers: WorkerStats[] };

/** IPC messages between the primary and its workers (`sigmax` tells them from node:cluster's own). */
type Msg =
  | { sigmax: 'ready'; url: string }
  | { sigmax: 'stats?'; id: number } // worker -> primary: an HTTP client asked for stats
  | { sigmax: 'collect'; id: number } // primary -> workers: send your own stats
  | { sigmax: 'collected'; id: number; stats: WorkerStats }
  | { sigmax: 'stats'; id: number; body: ClusterStats }; // primary -> asking worker

/** IPC send callback: a channel that closed meanwhile (the peer is exiting) is not an error here. */
const ignore = () => {};
const post = (w: Worker, m: Msg) => w.send(m, undefined, ignore);

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && typeof (m as { sigmax?: unknown }).sigmax === 'string';

/** How long the primary waits for the workers' stats; a worker silent that long is left out. */
const COLLECT_TIMEOUT_MS = 1000;
/** A worker that lived this long counts as healthy: its restart count starts over. */
const HEALTHY_MS = 30_000;
/** Restarts of one worker in a row (each within HEALTHY_MS of its start) before the primary gives up. */
const MAX_RESTARTS = 5;
const restartDelay = (attempt: number) => Math.min(30_000, 500 * 2 ** attempt);

/**
 * Number of worker processes from `--workers` (or else `WS_WORKERS`): an integer >= 1, or `auto`
 * (one per core). More than one needs a Redis event log.
 * @throws {ConfigError} on a bad value, or workers > 1 without `redisUrl`.
 */
export function workerCount(flag: string | undefined, env: Record<string, string | undefined>, options: SigmaxServerOptions): number {
  const name = flag !== undefined ? '--workers' : 'WS_WORKERS';
  const raw = (flag ?? env.WS_WORKERS ?? '').trim();
  if (raw === '') return 1;
  const n = raw === 'auto' ? availableParallelism() : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 1024)) throw new ConfigError(`${name} must be an integer from 1 to 1024 or "auto"; got ${JSON.stringify(raw)}`, name);
  if (n > 1 && !options.redisUrl) {
    throw new ConfigError('--workers needs REDIS_URL so workers share one event log; set REDIS_URL or use --workers 1', name);
  }
  return n;
}

/** Sums the workers' stats (connections, counters, subscriptions), unions topics and symbols. */
export function aggregateStats(workers: WorkerStats[], configured: number): ClusterStats {
  const sum = (f: (s: WsStats) => number) => workers.reduce((a, s) => a + f(s), 0);
  const union = (f: (s: WsStats) => string[]) => [...new Set(workers.flatMap(f))].sort();
  return {
    active_connections: sum((s) => s.active_connections),
    total_connections_lifetime: sum((s) => s.total_connections_lifetime),
    total_disconnections_lifetime: sum((s) => s.total_disconnections_lifetime),
    total_messages_sent: sum((s) => s.total_messages_sent),
    subscriptions_count: sum((s) => s.subscriptions_count),
    topics: union((s) => s.topics),
    redis_enabled: workers.length > 0 && workers.every((s) => s.redis_enabled),
    max_connections: sum((s) => s.max_connections),
    symbols: union((s) => s.symbols),
    rejected_connections_lifetime: sum((s) => s.rejected_connections_lifetime),
    slow_consumers_lifetime: sum((s) => s.slow_consumers_lifetime),
    epoch: workers.find((s) => s.epoch !== null)?.epoch ?? null,
    last_seq: Math.max(0, ...workers.map((s) => s.last_seq)),
    uptime: Math.max(0, ...workers.map((s) => s.uptime)),
    workers_configured: configured,
    workers: [...workers].sort((a, b) => a.worker - b.worker),
  };
}

// ---------------------------------------------------------------------------
// Worker side
// ---------------------------------------------------------------------------

/**
 * In a worker: a `SigmaxServer` whose `GET /api/ws/stats` answers for the whole cluster
 * (asked of the primary; its own stats alone if the primary does not answer in time, with the
 * `configured` number of workers, so that `workers` shows the answer covers one of them),
 * and which answers the primary's collection requests with its own stats.
 */
export function createWorkerServer(options: SigmaxServerOptions, configured: number): SigmaxServer {
  const id = cluster.worker?.id ?? 0;
  const own = (): WorkerStats => ({ ...server.stats(), worker: id, pid: process.pid });
  const pending = new Map<number, (body: ClusterStats) => void>();
  let next = 0;
  const send = (m: Msg) => process.send?.(m, undefined, undefined, ignore);
  const httpStats = () =>
    new Promise<ClusterStats>((resolve) => {
      const rid = ++next;
      const timer = setTimeout(() => done(aggregateStats([own()], configured)), COLLECT_TIMEOUT_MS * 2);
      const done = (body: ClusterStats) => {
        clearTimeout(timer);
        pending.delete(rid);
        resolve(body);
      };
      pending.set(rid, done);
      send({ sigmax: 'stats?', id: rid });
    });
  const server = new SigmaxServer({ ...options, httpStats });
  process.on('message', (m: unknown) => {
    if (!isMsg(m)) return;
    if (m.sigmax === 'collect') send({ sigmax: 'collected', id: m.id, stats: own() });
    else if (m.sigmax === 'stats') pending.get(m.id)?.(m.body);
  });
  return server;
}

/** Tells that the server listens: the URL line on stdout, or, in a worker, a message to the primary (which prints it once). */
export function announce(url: string): void {
  if (cluster.isWorker) process.send?.({ sigmax: 'ready', url } satisfies Msg, undefined, undefined, ignore);
  else process.stdout.write(`${url}\n`);
}

// ---------------------------------------------------------------------------
// Primary side
// ---------------------------------------------------------------------------

interface Slot {
  index: number;
  worker: Worker | undefined;
  startedAt: number;
  everReady: boolean;
  restarts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface PrimaryOptions {
  workers: number;
  /** Whether the demo feed runs (in the first worker only: its events reach every worker through Redis). */
  demo: boolean;
  /** How long a worker may take to drain on shutdown before it is killed (ms). */
  drainTimeoutMs: number;
  /** Where the primary's own records go (the CLI's logger: its format and level). @default plain lines on stderr */
  logger?: Logger | undefined;
}

/**
 * Runs the primary: forks `workers` processes running this same CLI, prints the URL once they all
 * listen, restarts a worker that dies (backoff 0.5 s doubling to 30 s; gives up, stopping all,
 * after {@link MAX_RESTARTS} quick failures in a row), and on SIGTERM/SIGINT sends SIGTERM to every
 * worker (each closes its clients with 1001), waits for them and exits 0. A worker failing
 * before it ever listened stops everything with exit code 1.
 */
export function runPrimary({ workers, demo, drainTimeoutMs, logger }: PrimaryOptions): void {
  const err = (line: string) => (logger ? logger.warn(line) : process.stderr.write(`sigmax-ws-server: ${line}\n`));
  const slots: Slot[] = Array.from({ length: workers }, (_, index) => ({ index, worker: undefined, startedAt: 0, everReady: false, restarts: 0, timer: undefined }));
  let stopping = false;
  let announced = false;
  let exitCode = 0;
  let nextCollect = 0;

  const fork = (slot: Slot) => {
    slot.timer = undefined;
    slot.startedAt = Date.now();
    const w = cluster.fork(demo && slot.index === 0 ? {} : { WS_DEMO: '0' });
    slot.worker = w;
    w.on('message', (m: unknown) => isMsg(m) && onMessage(slot, w, m));
    w.on('error', ignore); // IPC errors of a dying worker; its 'exit' follows
    w.on('exit', (code, signal) => onExit(slot, w, code, signal));
  };

  const onMessage = (slot: Slot, w: Worker, m: Msg) => {
    if (m.sigmax === 'ready') {
      slot.everReady = true;
      if (!announced && !stopping && slots.every((s) => s.everReady)) {
        announced = true;
        process.stdout.write(`${m.url}\n`);
      }
    } else if (m.sigmax === 'stats?') {
      void collect().then((body) => w.isConnected() && post(w, { sigmax: 'stats', id: m.id, body }));
    }
  };

  const collect = (): Promise<ClusterStats> => {
    const id = ++nextCollect;
    const live = slots.flatMap((s) => (s.worker?.isConnected() ? [s.worker] : []));
    const got: WorkerStats[] = [];
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        for (const w of live) w.off('message', onReply);
        resolve(aggregateStats(got, workers));
      };
      const onReply = (m: unknown) => {
        if (isMsg(m) && m.sigmax === 'collected' && m.id === id && got.push(m.stats) === live.length) finish();
      };
      const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      for (const w of live) {
        w.on('message', onReply);
        post(w, { sigmax: 'collect', id });
      }
      if (live.length === 0) finish();
    });
  };

  const onExit = (slot: Slot, w: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== w) return;
    slot.worker = undefined;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (slots.every((s) => !s.worker)) process.exit(exitCode);
      return;
    }
    if (!slot.everReady) return shutdown(`worker ${slot.index + 1} exited (${how}) before listening`, 1);
    if (Date.now() - slot.startedAt > HEALTHY_MS) slot.restarts = 0;
    if (slot.restarts >= MAX_RESTARTS) return shutdown(`worker ${slot.index + 1} keeps failing (${how}); giving up`, 1);
    const delay = restartDelay(slot.restarts++);
    err(`worker ${slot.index + 1} (pid ${w.process.pid}) exited (${how}); restarting in ${delay} ms`);
    slot.timer = setTimeout(() => fork(slot), delay);
  };

  const shutdown = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    err(why);
    for (const s of slots) clearTimeout(s.timer);
    const live = slots.flatMap((s) => (s.worker ? [s.worker] : []));
    if (live.length === 0) process.exit(exitCode);
    for (const w of live) w.process.kill('SIGTERM');
    // Bounded: a worker that does not finish draining is killed (its 'exit' then ends the primary).
    setTimeout(() => {
      for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
    }, drainTimeoutMs + 5000).unref();
  };

  process.on('SIGINT', () => shutdown('SIGINT received, draining the workers', 0));
  process.on('SIGTERM', () => shutdown('SIGTERM received, draining the workers', 0));
  for (const slot of slots) fork(slot);
}
