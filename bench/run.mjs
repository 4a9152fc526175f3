// `npm run bench [-- section ...]`: measures sigmax-ws against baselines measured in the same run.
// Sections: bundle, decode, fanout, batch, memory, heartbeat, publish, reconnect, latency, connections. Medians of repeated runs; ratios against the baseline.
// Everything runs on loopback, bounded in count and time.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { batch } from './batch.mjs';
import { closeClients, fmt, marketUpdate, median, openClients, startServer } from './lib.mjs';
import { redisPublish } from './redis-publish.mjs';
import { connections } from './connections.mjs';
import { latency } from './latency.mjs';

const only = new Set(process.argv.slice(2));
const want = (name) => only.size === 0 || only.has(name);
const rows = [];
const report = (section, metric, value, baseline, budget) => {
  rows.push({ section, metric, value, baseline, budget });
  console.log(`${section.padEnd(10)} ${metric.padEnd(48)} ${value}${baseline ? `   | ${baseline}` : ''}${budget ? `   | budget ${budget}` : ''}`);
};
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms).unref())]);

async function bundle() {
  const sizes = async (contents) => {
    const out = await build({
      stdin: { contents, resolveDir: process.cwd(), loader: 'js' },
      bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
    });
    const code = out.outputFiles[0].contents;
    return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
  };
  const full = await sizes(`export * from './dist/index.js';`);
  const app = await sizes(`import { SigmaxWebSocketClient, WSEventType } from './dist/index.js'; globalThis.x = [SigmaxWebSocketClient, WSEventType];`);
  const zodOnly = await sizes(`import { parseServerFrame } from './dist/protocol.js'; globalThis.x = parseServerFrame;`);
  report('bundle', 'whole client entry (min / gzip)', `${fmt(full.min / 1024)} KB / ${fmt(full.gzip / 1024, 2)} KB`, 'every export of sigmax-ws');
  report('bundle', 'app importing the client (min / gzip)', `${fmt(app.min / 1024)} KB / ${fmt(app.gzip / 1024, 2)} KB`, '', '10 KB gzip');
  report('bundle', 'protocol codec alone (min / gzip)', `${fmt(zodOnly.min / 1024)} KB / ${fmt(zodOnly.gzip / 1024, 2)} KB`);
}

async function decode() {
  const { parseServerFrame } = await import('../dist/protocol.js');
  const frames = Array.from({ length: 1000 }, (_, i) => JSON.stringify(marketUpdate(5, i)));
  const rate = (fn) => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 300) for (const f of frames) { fn(f); n++; }
    return (n / (performance.now() - t0)) * 1000;
  };
  const base = [], ours = [];
  for (let r = 0; r < 5; r++) {
    base.push(rate((f) => JSON.parse(f)));
    ours.push(rate((f) => { if (!parseServerFrame(f).ok) throw new Error('invalid'); }));
  }
  const b = median(base), o = median(ours);
  report('decode', 'market_update parse+validate (frames/s)', `${fmt(o, 0)}/s`, `JSON.parse alone ${fmt(b, 0)}/s, ratio ${fmt(o / b, 2)}`);
}

async function fanoutOnce(kind, n, count) {
  const srv = await startServer(kind, { heartbeatInterval: 60_000, connectionTimeout: 120_000 });
  const url = `ws://127.0.0.1:${srv.port}/api/ws`;
  let received = 0;
  let done;
  const target = n * count;
  const finished = new Promise((r) => (done = r));
  const clients = await openClients(url, n, {
    onMessage: (buf) => {
      if (buf.includes('"market_update"') && ++received === target) done();
    },
  });
  if (kind === 'sigmax') {
    await Promise.all(clients.map((ws) => new Promise((resolve) => {
      const onMsg = (buf) => { if (buf.includes('"subscribed"')) { ws.off('message', onMsg); resolve(); } };
      ws.on('message', onMsg);
      ws.send(JSON.stringify({ type: 'subscribe', data: { topics: ['market'] } }));
    })));
  }
  const t0 = performance.now();
  await srv.call('publish', { count });
  await withTimeout(finished, 60_000, `fan-out ${kind}`);
  const wall = performance.now() - t0;
  const { cpuMs } = await srv.call('cpu');
  await closeClients(clients);
  await srv.stop();
  return { rate: (target / wall) * 1000, cpuUsPerMsg: (cpuMs * 1000) / target };
}

async function fanout() {
  const n = 1000, count = 200, runs = 3;
  const res = { raw: [], sigmax: [] };
  for (let r = 0; r < runs; r++) for (const kind of ['raw', 'sigmax']) res[kind].push(await fanoutOnce(kind, n, count));
  const rate = (k) => median(res[k].map((x) => x.rate));
  const cpu = (k) => median(res[k].map((x) => x.cpuUsPerMsg));
  report('fanout', `${n} subscribers x ${count} market_update: delivered/s`, `${fmt(rate('sigmax'), 0)}/s`,
    `raw ws ${fmt(rate('raw'), 0)}/s, ratio ${fmt(rate('sigmax') / rate('raw'), 2)}`, '>= 0.8');
  report('fanout', 'server CPU per delivered message', `${fmt(cpu('sigmax'), 2)} us`,
    `raw ws ${fmt(cpu('raw'), 2)} us, throughput ratio by CPU ${fmt(cpu('raw') / cpu('sigmax'), 2)}`, '>= 0.8');
}

async function memoryOnce(kind, n) {
  const srv = await startServer(kind, { heartbeatInterval: 60_000, connectionTimeout: 120_000 });
  const url = `ws://127.0.0.1:${srv.port}/api/ws`;
  const m0 = await srv.call('mem');
  const clients = await openClients(url, n);
  await new Promise((r) => setTimeout(r, 500));
  const m1 = await srv.call('mem');
  await closeClients(clients);
  await srv.stop();
  return { rss: (m1.rss - m0.rss) / n, heap: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / n };
}

async function memory() {
  const n = 5000, runs = 3;
  const res = { raw: [], sigmax: [] };
  for (let r = 0; r < runs; r++) for (const kind of ['raw', 'sigmax']) res[kind].push(await memoryOnce(kind, n));
  const m = (k, f) => median(res[k].map((x) => x[f]));
  report('memory', `RSS per idle connection (${n} connections)`, `${fmt(m('sigmax', 'rss') / 1024, 2)} KB`,
    `raw ws ${fmt(m('raw', 'rss') / 1024, 2)} KB, ratio ${fmt(m('sigmax', 'rss') / m('raw', 'rss'), 2)}`, '<= 1.5');
  report('memory', 'JS heap + external per idle connection', `${fmt(m('sigmax', 'heap') / 1024, 2)} KB`,
    `raw ws ${fmt(m('raw', 'heap') / 1024, 2)} KB, ratio ${fmt(m('sigmax', 'heap') / m('raw', 'heap'), 2)}`, '<= 1.5');
}

async function heartbeatOnce(kind, n, intervalMs) {
  const srv = await startServer(kind, { heartbeatInterval: intervalMs, connectionTimeout: 120_000 });
  const url = `ws://127.0.0.1:${srv.port}/api/ws`;
  const clients = await openClients(url, n, { batch: 500 });
  await new Promise((r) => setTimeout(r, 300));
  await srv.call('loopStart');
  await new Promise((r) => setTimeout(r, intervalMs * 2 + 200));
  const d = await srv.call('loopStop');
  await closeClients(clients);
  await srv.stop();
  return d;
}

async function heartbeat() {
  const n = 10_000, interval = 2000;
  const raw = await heartbeatOnce('raw', n, interval);
  const ours = await heartbeatOnce('sigmax', n, interval);
  report('heartbeat', `event-loop max delay, ${n} sockets, ${interval / 1000} s interval`, `${fmt(ours.maxMs, 1)} ms (p99 ${fmt(ours.p99Ms, 1)})`,
    `raw ws one-shot sweep ${fmt(raw.maxMs, 1)} ms (p99 ${fmt(raw.p99Ms, 1)})`, '<= 20 ms');
}

async function publishOnce(options, count) {
  const srv = await startServer('sigmax', options);
  const t0 = performance.now();
  await srv.call('publishAwait', { count, burst: 50 });
  await srv.call('delivered', { count });
  const wall = performance.now() - t0;
  await srv.stop();
  return (count / wall) * 1000;
}

/** Publish throughput (appended and handed to the fan-out, no subscribers) with and without the event log's work. */
async function publish() {
  const runs = 3;
  const pair = async (label, withOpts, withoutOpts, count, baselineName) => {
    const w = [], wo = [];
    for (let r = 0; r < runs; r++) {
      wo.push(await publishOnce(withoutOpts(r), count));
      w.push(await publishOnce(withOpts(r), count));
    }
    report('publish', `${label}: events/s (${count} events)`, `${fmt(median(w), 0)}/s`,
      `${baselineName} ${fmt(median(wo), 0)}/s, ratio ${fmt(median(w) / median(wo), 2)}`);
  };
  await pair('memory, sequence + history 1000', () => ({ historySize: 1000 }), () => ({ historySize: 0 }), 20_000, 'history off (WS_HISTORY_SIZE=0)');

  await redisPublish(report); // bench/redis-publish.mjs
}

/** Time from a killed server (restarted at once on the same port) to a client whose subscriptions are restored. */
async function reconnect() {
  const { SigmaxServer } = await import('../dist/server/index.js');
  const { SigmaxWebSocketClient } = await import('../dist/index.js');
  const once = async (minReconnectDelay) => {
    let server = new SigmaxServer({ port: 0, host: '127.0.0.1' });
    await server.listen();
    const port = server.port;
    const client = new SigmaxWebSocketClient({ url: server.url, minReconnectDelay });
    await client.connect();
    await client.subscribe({ topics: ['executions'], symbols: ['BTC/USDT'] });
    const restored = new Promise((resolve) => client.once('reconnected', resolve));
    const t0 = performance.now();
    await server.close();
    server = new SigmaxServer({ port, host: '127.0.0.1' });
    await server.listen();
    await withTimeout(restored, 30_000, 'reconnect');
    const ms = performance.now() - t0;
    const subs = await client.getSubscriptions();
    if (!subs.includes('executions') || !subs.includes('symbol:BTC/USDT')) throw new Error(`subscriptions not restored: ${subs}`);
    await client.disconnect();
    await server.close();
    return ms;
  };
  for (const delay of [1000, 100]) {
    const xs = [];
    for (let r = 0; r < 5; r++) xs.push(await once(delay));
    report('reconnect', `killed server -> subscriptions restored (minReconnectDelay ${delay})`, `${fmt(median(xs), 0)} ms`,
      `min ${fmt(Math.min(...xs), 0)} / max ${fmt(Math.max(...xs), 0)} ms over 5 runs`);
  }
}

const sections = { bundle, decode, fanout, batch: () => batch(report), memory, heartbeat, publish, reconnect, latency: () => latency(report), connections: () => connections(report) };
for (const [name, fn] of Object.entries(sections)) {
  if (!want(name)) continue;
  try {
    await fn();
  } catch (err) {
    report(name, 'FAILED', String(err?.message ?? err));
    process.exitCode = 1;
  }
}
