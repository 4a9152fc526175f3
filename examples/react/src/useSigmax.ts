/**
 * `useSigmax`: one SIGMAX client per component tree, connected while the component is mounted.
 * Returns the connection state, the last events (newest first), the last error and the client itself
 * (for commands: `client.getPortfolio()`). Changing `url`, `topics` or `symbols` reconnects.
 */
import { useEffect, useState } from 'react';
import { SigmaxWebSocketClient, type ClientOptions, type ClientState, type SigmaxError, type SigmaxEvent } from 'sigmax-ws';

export interface UseSigmaxOptions extends Omit<ClientOptions, 'url' | 'listeners'> {
  topics?: string[];
  symbols?: string[];
  /** How many events to keep. @default 50 */
  limit?: number;
}

export function useSigmax(url: string, { topics = ['all'], symbols = [], limit = 50, ...options }: UseSigmaxOptions = {}) {
  const [client, setClient] = useState<SigmaxWebSocketClient>();
  const [state, setState] = useState<ClientState>('idle');
  const [events, setEvents] = useState<SigmaxEvent[]>([]);
  const [error, setError] = useState<SigmaxError>();
  const subs = JSON.stringify([topics, symbols]);

  useEffect(() => {
    const c = new SigmaxWebSocketClient({ ...options, url });
    c.on('state', ({ to }) => setState(to));
    c.on('error', setError);
    c.on('*', (event) => setEvents((prev) => [event, ...prev].slice(0, limit)));
    c.on('gap', () => setEvents([])); // events may have been missed: start over (refetch derived state here)
    void c.subscribe({ topics, symbols }); // recorded now, sent on connect and after every reconnect
    c.connect().catch(setError);
    setClient(c);
    return () => {
      void c.disconnect(); // also under StrictMode's double mount: nothing is left running
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- options are read once per connection
  }, [url, subs, limit]);

  return { client, state, events, error };
}
