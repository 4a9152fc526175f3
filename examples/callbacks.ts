/**
 * Per-event callbacks and lifecycle events.
 *   SIGMAX_URL=ws://localhost:8000/api/ws npx tsx examples/callbacks.ts
 */
import { SigmaxWebSocketClient, WSEventType } from '../src/index.js';

const client = new SigmaxWebSocketClient({
  apiKey: process.env.SIGMAX_API_KEY,
  pingInterval: 15_000,
  // Registered before the first connect, so none misses an early event.
  listeners: {
    state: ({ from, to, reason }) => console.log(`state ${from} -> ${to} (${reason})`),
    reconnecting: ({ attempt, delay }) => console.log(`reconnect attempt ${attempt} in ${delay} ms`),
    gap: (gap) => console.warn(`events may have been missed after seq ${gap.seq}: ${gap.reason}`),
    error: (err) => console.error(`[${err.code}] ${err.message}`),
  },
});

const offTrades = client.on(WSEventType.TRADE_EXECUTED, (event) => {
  const { symbol, action, size, filled_price } = event.data;
  console.log(`trade: ${action} ${size} ${symbol} @ ${filled_price}`);
});
client.on(WSEventType.MARKET_UPDATE, (event) => {
  for (const m of event.data) console.log(`${m.symbol} ${m.price} (${m.change_24h}%)`);
});

await client.subscribe({ topics: ['executions', 'market'] }); // recorded now, sent on connect
await client.connect(process.env.SIGMAX_URL ?? 'ws://localhost:8000/api/ws');

setTimeout(() => {
  offTrades(); // idempotent
  void client.disconnect();
}, 60_000);
