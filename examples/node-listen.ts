/**
 * A Node bot that consumes events with a `for await` loop.
 *   SIGMAX_URL=ws://localhost:8000/api/ws SIGMAX_API_KEY=... npx tsx examples/node-listen.ts
 * (in your own project: `import { connectSigmax } from 'sigmax-ws'`)
 */
import { connectSigmax, ListenOverflowError } from '../src/index.js';

const client = await connectSigmax({
  url: process.env.SIGMAX_URL ?? 'ws://localhost:8000/api/ws',
  apiKey: process.env.SIGMAX_API_KEY,
  topics: ['executions', 'alerts'],
  symbols: ['BTC/USDT'],
  logger: console, // remove for a silent client
});

// Ctrl+C ends the loop (the iterator completes), then we disconnect and the process exits by itself.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

try {
  for await (const event of client.listen({ types: ['trade_executed', 'alert'], signal: stop.signal })) {
    if (event.type === 'gap') {
      // The server could not replay what we missed while away: refetch state.
      console.log(`missed events after seq ${event.seq} (${event.reason}); refetching portfolio`);
      console.log(await client.getPortfolio());
    } else if (event.type === 'trade_executed') {
      console.log(`${event.data.action} ${event.data.size} ${event.data.symbol} @ ${event.data.filled_price} (seq ${event.seq})`);
    } else {
      console.log(`alert: ${event.data.message ?? ''}`);
    }
  }
} catch (err) {
  if (err instanceof ListenOverflowError) console.error('the loop fell behind the event stream');
  else throw err;
} finally {
  await client.disconnect();
}
