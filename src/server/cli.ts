#!/usr/bin/env node
/**
 * `sigmax-ws-server`: runs the reference server from the command line.
 * Configuration from environment variables (README table) and flags; flags win.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { createCliLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './cli-logger.js';
import { announce, createWorkerServer, runPrimary, workerCount } from './cluster.js';
import { DEFAULTS, KNOWN_ENV_VARS, loadConfigFromEnv, unknownEnvVars, type Logger, type SigmaxServerOptions } from './config.js';
import { ConfigError } from './errors.js';
import { SigmaxServer } from './server.js';
import { SERVER_VERSION } from './version.js';

const HELP = `Usage: sigmax-ws-server [options]

Runs the SIGMAX WebSocket reference server (endpoint /api/ws).

Options:
  --port <n>            TCP port (env PORT, default 8000; 0 = a free port)
  --host <addr>         interface (env HOST, default 127.0.0.1; use 0.0.0.0 to accept remote clients)
  --no-demo             do not run the demo feed (env WS_DEMO=0)
  --workers <n>         worker processes sharing the port, or "auto" (env WS_WORKERS, default 1; needs REDIS_URL)
  --log-format <fmt>    text (default) or json: one JSON object per line (env WS_LOG_FORMAT)
  --log-level <level>   debug, info (default), warn or error (env WS_LOG_LEVEL)
  --verbose             same as --log-level debug
  -v, --version         print the version and exit
  -h, --help            show this help

Other settings come from the environment: REDIS_URL, WS_REDIS_PREFIX, WS_MAX_CONNECTIONS, WS_HEARTBEAT_INTERVAL,
WS_CONNECTION_TIMEOUT, CORS_ORIGINS, WS_API_KEYS, WS_PUBLISH_TOKEN, WS_DEMO, WS_HISTORY_SIZE,
WS_HISTORY_TTL, WS_MAX_MESSAGE_SIZE, WS_RATE_LIMIT, WS_MAX_SUBSCRIPTIONS, WS_MAX_BUFFERED_BYTES, WS_PATHS,
WS_REDIS_BRIDGE, WS_DASHBOARD, WS_WORKERS
(durations in seconds; fractions allowed). An unknown WS_* variable stops the server. See the README.
`;

/** The command-line flags (parseArgs's table; one line per flag). */
const FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'no-demo': { type: 'boolean' },
  workers: { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  verbose: { type: 'boolean' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

function fail(message: string, code = 2): never {
  process.stderr.write(`sigmax-ws-server: ${message}\n`);
  process.exit(code);
}

/** A flag's value, else the environment's, checked against `allowed`. */
function choice<T extends string>(flag: string, value: string | undefined, envName: string, allowed: readonly T[], fallback: T): T {
  const raw = value ?? process.env[envName]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    fail(`${value !== undefined ? `--${flag}` : envName} must be one of ${allowed.join(', ')}; got ${JSON.stringify(raw)} (--${flag})`);
  }
  return raw as T;
}

function parseOptions(): { options: SigmaxServerOptions; logger: Logger; workers: number } {
  let args;
  try {
    args = parseArgs({ options: FLAGS, strict: true }).values;
  } catch (err) {
    fail(`${(err as Error).message}\nRun with --help for usage.`);
  }
  if (args.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (args.version) {
    process.stdout.write(`${SERVER_VERSION}\n`);
    process.exit(0);
  }
  const unknown = unknownEnvVars(process.env);
  if (unknown.length > 0) {
    const lines = unknown.map(({ name, suggestion }) => `unknown environment variable ${name}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    fail(`${lines.join('\n')}\nKnown variables: ${KNOWN_ENV_VARS.join(', ')}`);
  }
  const format = choice<LogFormat>('log-format', args['log-format'], 'WS_LOG_FORMAT', LOG_FORMATS, 'text');
  const level = args.verbose ? 'debug' : choice<LogLevel>('log-level', args['log-level'], 'WS_LOG_LEVEL', LOG_LEVELS, 'info');
  const logger = createCliLogger(format, level);
  const env = loadConfigFromEnv(process.env);
  const opts: SigmaxServerOptions = { ...env, demo: env.demo ?? true, logger };
  if (args.port !== undefined) {
    const port = Number(args.port);
    if (!/^\d+$/.test(args.port) || port > 65535) fail(`--port must be an integer from 0 to 65535; got ${JSON.stringify(args.port)}`);
    opts.port = port;
  }
  if (args.host !== undefined) opts.host = args.host;
  if (args['no-demo']) opts.demo = false;
  return { options: opts, logger, workers: workerCount(args.workers, process.env, opts) };
}

async function main(): Promise<void> {
  let server: SigmaxServer;
  let logger: Logger;
  try {
    const parsed = parseOptions();
    logger = parsed.logger;
    if (parsed.workers > 1 && cluster.isPrimary) {
      const o = parsed.options;
      new SigmaxServer(o); // checks the options once, before forking (throws ConfigError); never listens
      return runPrimary({ workers: parsed.workers, demo: o.demo ?? DEFAULTS.demo, drainTimeoutMs: o.shutdownTimeout ?? DEFAULTS.shutdownTimeout, logger: parsed.logger });
    }
    server = cluster.isWorker ? createWorkerServer(parsed.options, parsed.workers) : new SigmaxServer(parsed.options);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // Installed before listening: a signal during startup (e.g. while Redis is tried) is a clean stop too.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`);
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
