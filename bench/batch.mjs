// `batch` section of `npm run bench`: batched frames (PROTOCOL.md Part B 7).
// - fan-out to 1000 subscribers, events published in bursts of 50: our server with batch=1, against raw `ws` sending
//   each burst as one frame joining the same serialised events, and beside it our one-event-per-frame figure;
// - the client's decode + validate + dispatch of batches of 50 market_updates, against JSON.parse of the same bytes.
import { fmt, marketUpdate, median, startReceivers, startServer } from './lib.mjs';

/** Receiver processes of a fan-out run (bench/receivers.mjs): the subscribers' side, off the orchestrator, on every core. */
const RECEIVER_PROCS = 2;

/**
 * One fan-out run: `kind` 'raw' (coalesced), 'sigmax' (batch=1) or 'single' (sigmax, one event per frame). The `n`
 * subscribers are minimal WebSocket clients spread over RECEIVER_PROCS processes, which count the events of each frame
 * (occurrences of `"market_update"`: a batch frame holds many) without decoding it, so that the figure is the server's.
 */
async function fanoutOnce(kind, n, count, burst) {
  const srv = await startServer(kind === 'raw' ? 'raw' : 'sigmax', { heartbeatInterval: 60_000, connectionTimeout: 120_000 });
  const receivers = Array.from({ length: RECEIVER_PROCS }, startReceivers);
  try {
    const share = (i) => Math.floor(n / RECEIVER_PROCS) + (i < n % RECEIVER_PROCS ? 1 : 0);
    await Promise.all(receivers.map((r, i) => r.call('open', {
      port: srv.port,
      path: `/api/ws${kind === 'sigmax' ? '?batch=1' : ''}`,
      n: share(i),
      subscribe: kind === 'raw' ? undefined : JSON.stringify({ type: 'subscribe', data: { topics: ['market'] } }),
      subscribedText: '"subscribed"',
      countText: '"market_update"',
    })));
    const t0 = performance.now();
    await srv.call('publish', { count, burst, coalesce: kind === 'raw' });
    const got = await Promise.all(receivers.map((r, i) => r.call('counted', { events: share(i) * count, timeoutMs: 120_000 })));
    const wall = performance.now() - t0;
    const received = got.reduce((a, g) => a + g.events, 0);
    const frames = got.reduce((a, g) => a + g.frames, 0);
    if (received !== n * count) throw new Error(`batch fan-out ${kind}: ${received} of ${n * count} deliveries counted`);
    const { cpuMs } = await srv.call('cpu');
    return { rate: (received / wall) * 1000, cpuUsPerEvent: (cpuMs * 1000) / received, eventsPerFrame: received / frames };
  } finally {
    await Promise.all(receivers.map((r) => r.stop()));
    await srv.stop();
  }
}

async function fanout(report) {
  const n = 1000, burst = 50, runs = 3;
  const counts = { raw: 2000, sigmax: 2000, single: 400 };
  const res = { raw: [], sigmax: [], single: [] };
  for (let r = 0; r < runs; r++) for (const kind of ['raw', 'sigmax', 'single']) res[kind].push(await fanoutOnce(kind, n, counts[kind], burst));
  const m = (k, f) => median(res[k].map((x) => x[f]));
  const ours = m('sigmax', 'rate');
  report('batch', `${n} subscribers, bursts of ${burst}, batch=1: delivered/s`, `${fmt(ours, 0)}/s (${fmt(m('sigmax', 'eventsPerFrame'), 1)} events/frame)`,
    `raw ws, one joined frame per burst ${fmt(m('raw', 'rate'), 0)}/s, ratio ${fmt(ours / m('raw', 'rate'), 2)}`, '>= 0.7');
  report('batch', `same, one event per frame (no batch=1): delivered/s`, `${fmt(m('single', 'rate'), 0)}/s`,
    `batched / one-per-frame ${fmt(ours / m('single', 'rate'), 2)}`, '>= 5');
  report('batch', 'server CPU per delivered event, batch=1', `${fmt(m('sigmax', 'cpuUsPerEvent'), 2)} us`,
    `raw ws coalesced ${fmt(m('raw', 'cpuUsPerEvent'), 2)} us; one per frame ${fmt(m('single', 'cpuUsPerEvent'), 2)} us`);
}

/** The client's decode + validate + dispatch (to a `market_update` handler) of batch frames, vs JSON.parse of them. */
async function decode(report) {
  const { SigmaxWebSocketClient } = await import('../dist/index.js');
  const perFrame = 50, nFrames = 300;
  let seq = 0;
  const frames = Array.from({ length: nFrames }, () =>
    JSON.stringify({ type: 'batch', events: Array.from({ length: perFrame }, () => marketUpdate(5, ++seq)) }));
  const events = perFrame * nFrames;

  const open = async () => {
    let socket;
    class BenchSocket {
      readyState = 1;
      onopen = null; onmessage = null; onclose = null; onerror = null;
      constructor() { socket = this; }
      send() {}
      close() { this.readyState = 3; }
    }
    const c = new SigmaxWebSocketClient({ WebSocket: BenchSocket, pingInterval: 0 });
    let got = 0;
    c.on('market_update', () => { got++; });
    const opened = c.connect('ws://bench.invalid/api/ws');
    socket.onmessage({ data: JSON.stringify({ type: 'connected', data: { connection_id: 'c', protocol: 4, features: ['request_id', 'resume', 'batch'], epoch: 'e' }, timestamp: new Date().toISOString() }) });
    await opened;
    return { socket, got: () => got, close: () => c.disconnect() };
  };
  // Frame by frame, alternating which goes first, so load from other processes and GC hit both sides alike.
  // Each round uses a fresh client (its seqs would otherwise be dropped as duplicates); the first rounds warm up.
  const base = [], ours = [], ratios = [];
  for (let r = 0; r < 12; r++) {
    const c = await open();
    let p = 0, o = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      const t0 = performance.now();
      if (i % 2) JSON.parse(f); else c.socket.onmessage({ data: f });
      const t1 = performance.now();
      if (i % 2) c.socket.onmessage({ data: f }); else JSON.parse(f);
      const t2 = performance.now();
      if (i % 2) { p += t1 - t0; o += t2 - t1; } else { o += t1 - t0; p += t2 - t1; }
    }
    if (c.got() !== events) throw new Error(`dispatched ${c.got()} of ${events} events`);
    await c.close();
    if (r >= 2) { base.push((events / p) * 1000); ours.push((events / o) * 1000); ratios.push(p / o); }
  }
  const b = median(base), o = median(ours);
  report('batch', `client decode+validate+dispatch, batches of ${perFrame} market_update (events/s)`, `${fmt(o, 0)}/s`,
    `JSON.parse of the same frames ${fmt(b, 0)}/s, ratio (median of rounds) ${fmt(median(ratios), 2)}`, '>= 0.8');
}

/** The `batch` section; `report(section, metric, value, baseline, budget)` as in run.mjs. */
export async function batch(report, parts = ['decode', 'fanout']) {
  if (parts.includes('decode')) await decode(report);
  if (parts.includes('fanout')) await fanout(report);
}
