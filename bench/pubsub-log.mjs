// Baseline for the publish-cost benchmark: an EventLog that fans events out across instances with
// plain Redis PUBLISH/SUBSCRIBE, as SIGMAX 2.0 does — no shared sequence, no history, no resume.
// (Each instance numbers what it receives locally, so the server's wire format stays the same.)
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { EVENT_TOPIC } from '../dist/index.js';

export class PubSubLog {
  epoch = `pubsub-${randomBytes(4).toString('hex')}`;
  #pub;
  #sub;
  #seq = 0;
  constructor(url, channel) {
    this.url = url;
    this.channel = channel;
  }
  async start(onEvent) {
    this.#pub = createClient({ url: this.url });
    this.#sub = this.#pub.duplicate();
    this.#pub.on('error', () => {});
    this.#sub.on('error', () => {});
    await Promise.all([this.#pub.connect(), this.#sub.connect()]);
    await this.#sub.subscribe(this.channel, (raw) => {
      const e = JSON.parse(raw);
      onEvent({ ...e, topic: EVENT_TOPIC[e.type], seq: ++this.#seq });
    });
  }
  async append(events) {
    // Pipelined: node-redis writes concurrent commands without waiting for each reply.
    await Promise.all(events.map((e) => this.#pub.publish(this.channel, `{"type":"${e.type}","data":${e.json ?? JSON.stringify(e.data)},"timestamp":"${e.timestamp}"}`)));
    return events.map(() => ({ seq: 0, duplicate: false }));
  }
  async readAfter() {
    return { ok: false, reason: 'unavailable' };
  }
  status() {
    return { backend: 'redis', connected: this.#pub?.isReady ?? false, epoch: this.epoch, lastSeq: this.#seq };
  }
  async close() {
    await Promise.allSettled([this.#sub?.quit(), this.#pub?.quit()]);
  }
}
