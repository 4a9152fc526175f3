// Subscribers of the `latency` and `batch` sections, in a process of their own (never the bench orchestrator's),
// started by `startReceivers()` of lib.mjs. Each subscriber is a plain TCP socket that does the WebSocket upgrade
// handshake itself (RFC 6455) and reads through net's `onread` (one preallocated buffer per socket, no stream
// machinery), so that the receiving side costs as little as it can and the bench measures the server:
// - latency: the receive time is taken first thing in the read callback, before any frame is parsed;
// - counting (`countText`): the events of each frame are counted (occurrences of `countText`, e.g. a batch
//   frame holds many), without decoding it.
// The same receivers serve raw `ws` and sigmax-ws. Driven over IPC: open, collect, counted, close.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { serveCalls } from './lib.mjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const STAMP = Buffer.from('"t=');
const sockets = [];
/** Counting mode: events and frames counted over every socket; `goal` resolves `counted` once `events` reaches it. */
const totals = { events: 0, frames: 0 };
let goal = null;

/** One client frame (masked, FIN), opcode 1 = text, 10 = pong. */
function clientFrame(opcode, payload) {
  const body = Buffer.from(payload);
  if (body.length > 125) throw new Error('frame too long for this receiver');
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + body.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | body.length;
  mask.copy(out, 2);
  for (let i = 0; i < body.length; i++) out[6 + i] = body[i] ^ mask[i & 3];
  return out;
}

class Receiver {
  constructor(port, path, warmup, capacity, countText) {
    this.warmup = warmup;
    this.needle = countText ? Buffer.from(countText) : null;
    this.counting = false; // set once subscribed
    this.stamped = 0; // stamped events received
    this.samples = new Float64Array(capacity); // ms, after the warm-up (preallocated: no garbage per frame)
    this.n = 0;
    this.pending = null; // bytes of an incomplete frame
    this.upgraded = false;
    this.waiters = [];
    this.key = randomBytes(16).toString('base64');
    this.socket = net.connect({
      port,
      host: '127.0.0.1',
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(64 * 1024),
        callback: (nread, buf) => {
          const now = process.hrtime.bigint(); // first: the time these bytes were read
          this.#read(now, buf, nread);
        },
      },
    });
    this.socket.on('error', (err) => this.#notify(err));
    this.socket.on('connect', () => {
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
  }

  /** Resolves when a frame containing `text` arrives (or, with `null`, once upgraded). */
  waitFor(text) {
    return new Promise((resolve, reject) => this.waiters.push({ text, resolve, reject }));
  }

  #notify(err, payload) {
    this.waiters = this.waiters.filter((w) => {
      if (err) w.reject(err);
      else if (w.text === null ? payload === undefined : payload?.includes(w.text)) w.resolve();
      else return true;
      return false;
    });
  }

  #read(now, buf, nread) {
    // The read buffer is reused by the next read: copy only what is left incomplete.
    let data = buf.subarray(0, nread);
    if (this.pending) data = Buffer.concat([this.pending, data]);
    this.pending = null;
    let off = 0;
    if (!this.upgraded) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return void (this.pending = Buffer.from(data));
      const head = data.toString('latin1', 0, end);
      const accept = createHash('sha1').update(this.key + GUID).digest('base64');
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(accept)) {
        this.#notify(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      this.upgraded = true;
      this.#notify(null);
      off = end + 4;
    }
    while (off < data.length) {
      if (data.length - off < 2) break;
      const opcode = data[off] & 0x0f;
      let len = data[off + 1] & 0x7f;
      let hdr = 2;
      if (len === 126) {
        if (data.length - off < 4) break;
        len = data.readUInt16BE(off + 2);
        hdr = 4;
      } else if (len === 127) {
        if (data.length - off < 10) break;
        len = Number(data.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      if (data.length - off < hdr + len) break;
      const start = off + hdr;
      off = start + len;
      if (opcode === 9) this.socket.write(clientFrame(10, data.subarray(start, off)));
      else if (opcode === 1 || opcode === 0) this.#frame(now, data, start, off);
    }
    if (off < data.length) this.pending = Buffer.from(data.subarray(off));
  }

  #frame(now, data, start, end) {
    if (this.counting) return this.#count(data, start, end);
    const i = data.indexOf(STAMP, start);
    if (i < 0 || i >= end) {
      if (this.waiters.length) this.#notify(undefined, data.toString('utf8', start, end));
      return;
    }
    // The stamp's digits, read without allocating (nanoseconds since boot: exact in a double for 100+ days).
    let t = 0;
    for (let k = i + 3; k < end && data[k] >= 0x30 && data[k] <= 0x39; k++) t = t * 10 + (data[k] - 0x30);
    if (this.stamped++ >= this.warmup && this.n < this.samples.length) this.samples[this.n++] = (Number(now) - t) / 1e6;
  }

  #count(data, start, end) {
    let k = 0;
    for (let i = data.indexOf(this.needle, start); i !== -1 && i < end; i = data.indexOf(this.needle, i + this.needle.length)) k++;
    if (k === 0) return;
    totals.frames++;
    totals.events += k;
    if (goal && totals.events >= goal.events) {
      goal.resolve();
      goal = null;
    }
  }
}

const handlers = {
  /**
   * Opens `n` subscribers; with `subscribe`, sends it (a text frame) on each and waits for `subscribedText`.
   * With `countText`, they then count events instead of taking latency samples.
   */
  open: async ({ port, path, n, warmup = 0, capacity = 0, subscribe, subscribedText, countText }) => {
    for (let i = 0; i < n; i += 50) {
      const group = [];
      for (let j = i; j < Math.min(n, i + 50); j++) {
        const r = new Receiver(port, path, warmup, capacity, countText);
        sockets.push(r);
        group.push(r.waitFor(null).then(async () => {
          if (subscribe) {
            const ok = r.waitFor(subscribedText);
            r.socket.write(clientFrame(1, subscribe));
            await ok;
          }
          r.counting = Boolean(countText);
        }));
      }
      await Promise.all(group);
    }
    return {};
  },
  /** Waits (up to `timeoutMs`) until each socket has `perSocket` samples; returns them all, and the counts. */
  collect: async ({ perSocket, timeoutMs }) => {
    const deadline = Date.now() + timeoutMs;
    while (sockets.some((r) => r.n < perSocket) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const samples = [];
    for (const r of sockets) for (let k = 0; k < r.n; k++) samples.push(r.samples[k]);
    // A socket with more stamped events than sent would show as missing ones in the orchestrator's total.
    const extra = sockets.reduce((n, r) => n + Math.max(0, r.stamped - r.warmup - r.n), 0);
    return { samples, short: sockets.filter((r) => r.n < perSocket).length + extra, sockets: sockets.length };
  },
  /** Counting mode: resolves with the totals once `events` were counted, or after `timeoutMs` (whatever was counted). */
  counted: async ({ events, timeoutMs }) => {
    if (totals.events < events) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        goal = { events, resolve: () => (clearTimeout(t), resolve()) };
      });
      goal = null;
    }
    return { ...totals };
  },
  close: async () => {
    for (const r of sockets) r.socket.destroy();
    sockets.length = 0;
    setImmediate(() => process.disconnect());
    return {};
  },
};

serveCalls(handlers);
