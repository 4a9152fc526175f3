/**
 * A consumer of the package, type-checked with the minimum supported TypeScript (`typescript-min`, see
 * test/client/ts-min.test.ts) as well as the current one. Handler parameters must be inferred (not implicit `any`),
 * and typos must stay type errors.
 */
import { SigmaxWebSocketClient, connectSigmax, type SigmaxError } from '../../../src/index.js';

export async function consumer(): Promise<void> {
  const client = new SigmaxWebSocketClient({ listeners: { error: (e) => console.error(e.code) } });
  client.on('trade_executed', (e) => {
    const price: number = e.data.filled_price;
    const side: 'buy' | 'sell' = e.data.action;
    // @ts-expect-error: typo in a field name
    void e.data.filed_price;
    void price, side;
  });
  client.on('state', ({ from, to }) => void `${from}${to}`);
  client.on('error', (e: SigmaxError) => void e.code);
  await client.subscribe({ topics: ['executions'], symbols: ['BTC/USDT'] });
  // @ts-expect-error: not a topic
  await client.subscribe({ topics: ['execution'] });
  for await (const e of client.listen({ types: ['alert'] })) {
    if (e.type === 'gap') continue;
    void e.data.message;
  }
  const other = await connectSigmax({ url: 'ws://localhost:8000/api/ws', topics: ['alerts'] });
  const portfolio = await other.getPortfolio();
  void portfolio.total_value;
}
