import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { useSigmax } from './useSigmax';

const url = new URLSearchParams(location.search).get('url') ?? 'ws://localhost:8000/api/ws';

function Trades() {
  const { state, events, error } = useSigmax(url, { topics: ['executions', 'alerts'], types: ['trade_executed', 'alert'] });
  return (
    <main style={{ font: '14px system-ui, sans-serif', margin: '2rem' }}>
      <p>
        State: <b data-testid="state">{state}</b>
        {error && <span data-testid="error"> — {error.code}</span>}
      </p>
      <ul data-testid="events">
        {events.map((e) => (
          <li key={`${e.seq}-${e.type}`}>
            {e.type === 'trade_executed' ? `trade ${e.data.action} ${e.data.size} ${e.data.symbol} @ ${e.data.filled_price} (${e.data.order_id})` : e.type === 'alert' ? `alert: ${e.data.message ?? ''}` : e.type}
          </li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Trades />
  </StrictMode>,
);
