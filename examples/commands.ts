/**
 * Request/reply: commands, subscriptions, ping, stats.
 *   SIGMAX_URL=ws://localhost:8000/api/ws npx tsx examples/commands.ts
 */
import { ServerError, SigmaxWebSocketClient, TimeoutError } from '../src/index.js';

const client = new SigmaxWebSocketClient({ commandTimeout: 5000 });
await client.connect(process.env.SIGMAX_URL ?? 'ws://localhost:8000/api/ws', process.env.SIGMAX_API_KEY);

try {
  console.log('subscribed:', await client.subscribe({ topics: ['portfolio'], symbols: ['eth/usdt'] }));
  console.log('server holds:', await client.getSubscriptions());
  const status = await client.getStatus();
  console.log(`running=${status.running} mode=${status.mode}`);
  const portfolio = await client.getPortfolio();
  console.log(`portfolio ${portfolio.total_value} (${portfolio.positions.length} positions)`);
  const health = await client.getHealth();
  console.log(`cpu ${health.cpu_percent}%`);
  console.log(`rtt ${await client.ping()} ms`);
  await client.command('analyze', { symbol: 'BTC/USDT' });
} catch (err) {
  if (err instanceof ServerError) console.log(`server refused: ${err.code} (${err.message})`);
  else if (err instanceof TimeoutError) console.log('no reply in time');
  else throw err;
} finally {
  console.log(client.stats());
  await client.disconnect();
}
