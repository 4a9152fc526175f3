#!/usr/bin/env node
/**
 * `sigmax-ws-server`: runs the reference server from the command line.
 * Configuration from environment variables (README table) and flags; flags win.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { announce, createWorkerServer, runPrimary, workerCount } from './cluster.js';
import { loadConfigFromEnv, resolveOptions, type SigmaxServerOptions } from './config.js';
import { ConfigError } from './errors.js';
import { SigmaxServer } from './server.js';

const HELP = `Usage: sigmax-ws-server [options]

Runs the SIGMAX WebSocket reference server (endpoint /api/ws).

Options:
  --port <n>     TCP port (env PORT, default 8000; 0 = a free port)
  --host <addr>  interface (env HOST, default 127.0.0.1; use 0.0.0.0 to accept remote clients)
  --no-demo      do not run the demo feed (env WS_DEMO=0)
  --workers <n>  worker processes sharing the port, or "auto" (env WS_WORKERS, default 1; needs REDIS_URL)
  --verbose      log diagnostics to stderr
  -h, --help     show this help

Other settings come from the environment: REDIS_URL, WS_REDIS_PREFIX, WS_MAX_CONNECTIONS, WS_HEARTBEAT_INTERVAL,
WS_CONNECTION_TIMEOUT, CORS_ORIGINS, WS_API_KEYS, WS_PUBLISH_TOKEN, WS_DEMO, WS_HISTORY_SIZE,
WS_HISTORY_TTL, WS_MAX_MESSAGE_SIZE, WS_RATE_LIMIT, WS_MAX_SUBSCRIPTIONS, WS_MAX_BUFFERED_BYTES
(durations in seconds; fractions allowed). See the README.
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`sigmax-ws-server: ${message}\n`);
  process.exit(code);
}

function parseOptions(): { opts: SigmaxServerOptions; workers: number } {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'no-demo': { type: 'boolean' },
        workers: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\nRun with --help for usage.`);
  }
  if (args.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const env = loadConfigFromEnv(process.env);
  const opts: SigmaxServerOptions = { ...env, demo: env.demo ?? true };
  if (args.port !== undefined) {
    const port = Number(args.port);
    if (!/^\d+$/.test(args.port) || port > 65535) fail(`--port must be an integer from 0 to 65535; got ${JSON.stringify(args.port)}`);
    opts.port = port;
  }
  if (args.host !== undefined) opts.host = args.host;
  if (args['no-demo']) opts.demo = false;
  if (args.verbose) {
    const log = (level: string) => (msg: string, ...rest: unknown[]) => process.stderr.write(`[${level}] ${msg}${rest.length ? ' ' + rest.map(String).join(' ') : ''}\n`);
    opts.logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  }
  return { opts, workers: workerCount(args.workers, process.env, opts) };
}

async function main(): Promise<void> {
  let server: SigmaxServer;
  try {
    const { opts, workers } = parseOptions();
    if (workers > 1 && cluster.isPrimary) {
      const { demo, shutdownTimeout } = resolveOptions(opts); // checked once, before forking
      return runPrimary({ workers, demo, drainTimeoutMs: shutdownTimeout });
    }
    server = cluster.isWorker ? createWorkerServer(opts) : new SigmaxServer(opts);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // Installed before listening: a signal during startup (e.g. while Redis is tried) is a clean stop too.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sigmax-ws-server: ${signal} received, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => fail(`shutdown failed: ${(err as Error).message}`, 1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await server.listen();
  } catch (err) {
    if (stopping) return; // closed by a signal while starting; stop() exits
    fail(`cannot listen: ${(err as Error).message}`, 1);
  }
  if (!stopping) announce(server.url);
}

main().catch((err: unknown) => fail(`unexpected error: ${(err as Error)?.stack ?? String(err)}`, 1));
