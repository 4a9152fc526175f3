import { SigmaxWebSocketClient } from './client.js';
import type { ClientOptions } from './options.js';
import type { SubscriptionRequest } from './subscriptions.js';

/** Options of {@link connectSigmax}: the client options plus the URL and what to subscribe to. */
export interface ConnectSigmaxOptions extends ClientOptions, SubscriptionRequest {
  url: string;
}

/**
 * Creates a client, records the subscriptions, connects, and resolves once the subscriptions are confirmed.
 * Rejects like `connect()` (the client is then closed, nothing left running).
 * @example
 * const client = await connectSigmax({ url: 'ws://localhost:8000/api/ws', topics: ['executions'] });
 */
export async function connectSigmax({ url, topics, symbols, ...options }: ConnectSigmaxOptions): Promise<SigmaxWebSocketClient> {
  const client = new SigmaxWebSocketClient({ ...options, url });
  if (topics?.length || symbols?.length) await client.subscribe({ topics, symbols });
  await client.connect();
  return client;
}
