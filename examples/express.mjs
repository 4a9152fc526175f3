// The SIGMAX WebSocket server in an Express app.
// `node examples/express.mjs` (PORT=0 picks a free port), then connect a client to the printed URL.
// Express keeps its routes; SIGMAX takes the upgrades on /api/ws and /ws, and answers GET /api/ws/stats
// and GET /health in front of the app (pass `httpRoutes: false` to leave every request to Express).
import { once } from 'node:events';
import { createServer } from 'node:http';
import express from 'express';
import { SigmaxServer } from 'sigmax-ws/server';

const app = express();
app.get('/', (_req, res) => res.send('Hello from Express; SIGMAX events on /api/ws'));
// Your own authentication: a token in a header or cookie, a JWT… Return a principal to admit.
/** @param {import('node:http').IncomingMessage} req */
const authenticate = (req) => (process.env.APP_TOKEN ? req.headers.authorization === `Bearer ${process.env.APP_TOKEN}` && { role: 'viewer' } : true);

const server = createServer(app);
const sigmax = new SigmaxServer({ server, wsPaths: ['/api/ws', '/ws'], authenticate, demo: true });
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
await once(server, 'listening');
await sigmax.listen(); // mounts on `server`: it does not listen on a port of its own
console.log(sigmax.url);

// From your routes: publish events to the WebSocket subscribers.
app.post('/orders/:id/filled', async (req, res) => {
  await sigmax.publish('trade_executed', {
    proposal_id: 'p1', symbol: 'BTC/USDT', action: 'buy', size: 0.1, filled_price: 95000, order_id: req.params.id, status: 'filled',
  });
  res.status(202).end();
});

async function stop() {
  await sigmax.close();
  server.close();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
