// A swarm of idle WebSocket clients in its own process, for bench/connections.mjs (which raises its
// open-files limit). IPC: { cmd: 'open', url, n, addresses } -> { opened, failed, error };
// { cmd: 'close' } -> terminates every socket, answers, and exits.
import { once } from 'node:events';
import WebSocket from 'ws';

const sockets = [];

async function open({ url, n, addresses, batch = 500 }) {
  let failed = 0;
  let error;
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const options = { perMessageDeflate: false };
      if (addresses.length > 1) options.localAddress = addresses[j % addresses.length];
      const ws = new WebSocket(url, options);
      ws.on('message', () => {});
      sockets.push(ws);
      group.push(new Promise((resolve) => {
        ws.once('open', resolve);
        ws.once('error', (err) => {
          failed++;
          error ??= String(err.message ?? err);
          resolve();
        });
      }));
    }
    await Promise.all(group);
    if (failed) break;
  }
  for (const ws of sockets) ws.on('error', () => {});
  return { opened: sockets.length - failed, failed, error, fdLimit: Number(process.env.SIGMAX_FD_LIMIT) || undefined };
}

async function close() {
  await Promise.all(sockets.map((ws) => {
    if (ws.readyState === WebSocket.CLOSED) return undefined;
    const p = once(ws, 'close');
    ws.terminate();
    return p;
  }));
  return {};
}

process.on('message', async (m) => {
  try {
    const result = m.cmd === 'open' ? await open(m) : await close();
    process.send({ id: m.id, result });
    if (m.cmd === 'close') setImmediate(() => process.disconnect());
  } catch (e) {
    process.send({ id: m.id, error: String(e?.stack ?? e) });
  }
});
