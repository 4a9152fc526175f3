// The SIGMAX WebSocket server in a Fastify app.
// `node examples/fastify.mjs` (PORT=0 picks a free port), then connect a client to the printed URL.
// Fastify keeps its routes; SIGMAX takes the upgrades on /api/ws on `fastify.server`, and answers
// GET /api/ws/stats and GET /health in front of Fastify (pass `httpRoutes: false` to leave them to Fastify).
import Fastify from 'fastify';
import { SigmaxServer } from 'sigmax-ws/server';

const fastify = Fastify();
fastify.get('/', async () => ({ hello: 'fastify', events: '/api/ws' }));

const sigmax = new SigmaxServer({ server: fastify.server, demo: true });
fastify.addHook('onClose', () => sigmax.close()); // fastify.close() closes the WebSocket clients too

await fastify.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
await sigmax.listen(); // after fastify.listen(): Fastify's request listener is in place
console.log(sigmax.url);

const stop = () => fastify.close();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
