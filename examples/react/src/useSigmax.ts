/**
 * `useSigmax`: one SIGMAX client per component tree, connected while the component is mounted.
 * Returns the connection state, the last events (newest first), the last error and the client itself
 * (for commands: `client.getPortfolio()`). Changing `url`, `topics` or `symbols` reconnects.
 */
import { useEffect, useState } from 'react';
import { SigmaxWebSocketClient, type ClientOptions, type ClientState, type PublishedEventType, type SigmaxError, type SigmaxEvent, type TopicName } from 'sigmax-ws';

export interface UseSigmaxOptions extends Omit<ClientOptions, 'url' | 'listeners'> {
  topics?: TopicName[];
  symbols?: string[];
  /** Keep only these event types. @default every published event */
  types?: PublishedEventType[];
  /** How many events to keep. @default 50 */
  limit?: number;
}

export function useSigmax(url: string, { topics = ['all'], symbols = [], types, limit = 50, ...options }: UseSigmaxOptions = {}) {
  const [client, setClient] = useState<SigmaxWebSocketClient>();
  const [state, setState] = useState<ClientState>('idle');
  const [events, setEvents] = useState<SigmaxEvent[]>([]);
  const [error, setError] = useState<SigmaxError>();
  const subs = JSON.stringify([topics, symbols, types]);

  useEffect(() => {
    let active = true; // false once unmounted: a late rejection (CLIENT_CLOSED) is not an error to show
    const c = new SigmaxWebSocketClient({ ...options, url });
    c.on('state', ({ to }) => active && setState(to));
    c.on('error', (err) => active && setError(err));
    c.on('*', (event) => {
      if (!types || types.includes(event.type)) setEvents((prev) => [event, ...prev].slice(0, limit));
    });
    c.on('gap', () => setEvents([])); // events may have been missed: start over (refetch derived state here)
    void c.subscribe({ topics, symbols }); // recorded now, sent on connect and after every reconnect
    c.connect().catch((err: SigmaxError) => active && setError(err));
    setClient(c);
    return () => {
      active = false;
      void c.disconnect(); // also under StrictMode's double mount: nothing is left running
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- options are read once per connection
  }, [url, subs, limit]);

  return { client, state, events, error };
}
