// The SIGMAX WebSocket server mounted on an existing node:http server.
// `node examples/http.mjs` (PORT=0 picks a free port), then connect a client to the printed URL.
// The app keeps its own requests; SIGMAX takes the upgrades on /api/ws and adds GET /api/ws/stats and GET /health.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { SigmaxServer } from 'sigmax-ws/server';

const app = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`Hello from node:http (${req.url}); SIGMAX events on /api/ws\n`);
});
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
await once(app, 'listening');

const sigmax = new SigmaxServer({ demo: true });
await sigmax.attach(app); // after the app's own request listener is in place
console.log(sigmax.url);

async function stop() {
  await sigmax.close(); // closes the WebSocket clients (1001); the app's server stays ours to close
  app.close();
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
