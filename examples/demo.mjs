// `npm run demo`: the reference server with its demo feed, and a client that prints every live event.
// One process, one command; Ctrl-C stops both. PORT=0 picks a free port (default 8000).
import { SigmaxServer } from 'sigmax-ws/server';
import { SigmaxWebSocketClient } from 'sigmax-ws';

const port = Number(process.env.PORT ?? 8000);
const server = new SigmaxServer({ port, host: process.env.HOST ?? '127.0.0.1', demo: true });
try {
  await server.listen();
} catch (err) {
  const e = /** @type {NodeJS.ErrnoException} */ (err);
  console.error(e.code === 'EADDRINUSE' ? `Port ${port} is in use: run \`PORT=0 npm run demo\` to pick a free port.` : String(e));
  process.exit(1);
}

const http = server.url.replace(/^ws/, 'http').replace(/\/api\/ws$/, '');
console.log(`SIGMAX demo server on ${server.url}  (stats: ${http}/api/ws/stats, health: ${http}/health)`);
console.log('Client subscribed to all topics; Ctrl-C to stop.\n');

const client = new SigmaxWebSocketClient({ url: server.url });
const info = await client.connect();
console.log(`connected  id=${info.connectionId}`);
await client.subscribe({ topics: ['all'] });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await client.disconnect();
  await server.close();
}
process.once('SIGINT', stop);
// `npm run demo | head`: stop quietly when the reader goes away.
process.stdout.on('error', (err) => (/** @type {NodeJS.ErrnoException} */ (err).code === 'EPIPE' ? stop() : Promise.reject(err)));
process.once('SIGTERM', stop);

/** @param {unknown} x @param {number} [d] */
const n = (x, d = 2) => Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** One line per event. @param {import('sigmax-ws').SigmaxEvent | import('sigmax-ws').GapMarker} e */
function describe(e) {
  switch (e.type) {
    case 'gap':
      return `events may have been missed after #${e.seq} (${e.reason}); refetch state`;
    case 'market_update':
      return e.data.map((m) => `${m.symbol} ${n(m.price)} (${m.change_24h >= 0 ? '+' : ''}${n(m.change_24h)}%)`).join('  ');
    case 'trade_executed':
      return `${e.data.action} ${e.data.size} ${e.data.symbol} @ ${n(e.data.filled_price)}  order ${e.data.order_id} ${e.data.status}`;
    case 'proposal_created':
      return `${e.data.proposal_id}: ${e.data.action} ${e.data.size} ${e.data.symbol}${e.data.reason ? ` (${e.data.reason})` : ''}`;
    case 'proposal_approved':
      return `${e.data.proposal_id} approved${e.data.approved_by ? ` by ${e.data.approved_by}` : ''}`;
    case 'analysis_update':
      return `${e.data.symbol} ${e.data.decision} confidence ${n(e.data.confidence)} bull ${n(e.data.bull_score)} bear ${n(e.data.bear_score)}`;
    case 'portfolio_update':
      return `value ${n(e.data.total_value)} cash ${n(e.data.available_cash)} pnl ${n(e.data.total_pnl)} (${n(e.data.total_pnl_percent)}%)`;
    case 'health_update':
      return `cpu ${n(e.data.cpu_percent, 1)}% mem ${n(e.data.memory_percent, 1)}% disk ${n(e.data.disk_percent, 1)}% processes ${e.data.process_count}`;
    case 'system_status':
      return `running=${e.data.running} mode=${e.data.mode} uptime=${n(e.data.uptime ?? 0, 0)}s`;
    case 'alert':
    case 'warning':
      return `${e.data.level ?? e.type}: ${e.data.message ?? ''}`;
    default:
      return JSON.stringify(e.data);
  }
}

for await (const e of client.listen()) {
  const time = new Date().toLocaleTimeString('en-GB', { hour12: false });
  const seq = e.type === 'gap' ? '-' : String(e.seq ?? '-');
  console.log(`${time}  #${seq.padEnd(5)} ${e.type.padEnd(17)} ${describe(e)}`);
}
console.log('\nstopped');
