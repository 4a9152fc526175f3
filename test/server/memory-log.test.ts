import { describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../src/server/index.js';
import type { SequencedEvent } from '../../src/server/index.js';

const ev = (n: number) => ({ type: 'alert' as const, data: { message: `m${n}` }, timestamp: new Date(0).toISOString() });

async function filled(n: number, opts: ConstructorParameters<typeof MemoryEventLog>[0] = {}) {
  const log = new MemoryEventLog(opts);
  const seen: SequencedEvent[] = [];
  await log.start((e) => seen.push(e));
  for (let i = 1; i <= n; i++) await log.append([ev(i)]);
  return { log, seen };
}

describe('MemoryEventLog', () => {
  it('gives each appended event its topic and the next seq, and hands it to onEvent in order', async () => {
    const { log, seen } = await filled(3);
    expect(seen.map((e) => [e.seq, e.topic, e.data])).toEqual([
      [1, 'alerts', { message: 'm1' }],
      [2, 'alerts', { message: 'm2' }],
      [3, 'alerts', { message: 'm3' }],
    ]);
    expect(log.status()).toEqual({ backend: 'memory', connected: true, epoch: log.epoch, lastSeq: 3 });
  });

  it('has a fresh random epoch per instance', () => {
    expect(new MemoryEventLog().epoch).not.toBe(new MemoryEventLog().epoch);
  });

  it('reads retained events after a position, oldest first, at most limit', async () => {
    const { log } = await filled(10);
    const r = await log.readAfter(log.epoch, 3, 4);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    const tail = await log.readAfter(log.epoch, 8, 100);
    expect(tail.ok && tail.events.map((e) => e.seq)).toEqual([9, 10]);
    expect(await log.readAfter(log.epoch, 10, 100)).toEqual({ ok: true, events: [] });
    expect(await log.readAfter(log.epoch, 0, 2)).toMatchObject({ ok: true, events: [{ seq: 1 }, { seq: 2 }] });
  });

  it('refuses another epoch, and a position it never handed out', async () => {
    const { log } = await filled(2);
    expect(await log.readAfter('other', 0, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
    expect(await log.readAfter(log.epoch, 3, 10)).toEqual({ ok: false, reason: 'epoch_mismatch' });
  });

  it('is bounded by historySize: older positions are history_expired', async () => {
    const { log } = await filled(10, { historySize: 4 });
    expect(await log.readAfter(log.epoch, 5, 10)).toEqual({ ok: false, reason: 'history_expired' });
    const r = await log.readAfter(log.epoch, 6, 10);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([7, 8, 9, 10]);
  });

  it('keeps nothing with historySize 0, but the latest position is still covered', async () => {
    const { log } = await filled(3, { historySize: 0 });
    expect(await log.readAfter(log.epoch, 3, 10)).toEqual({ ok: true, events: [] });
    expect(await log.readAfter(log.epoch, 2, 10)).toEqual({ ok: false, reason: 'history_expired' });
  });

  it('drops events older than historyTtl', async () => {
    let now = 1000;
    const log = new MemoryEventLog({ historyTtl: 100, now: () => now });
    await log.start(() => undefined);
    await log.append([ev(1)]);
    now = 1050;
    await log.append([ev(2)]);
    now = 1120; // event 1 is 120 ms old, event 2 70 ms
    expect(await log.readAfter(log.epoch, 0, 10)).toEqual({ ok: false, reason: 'history_expired' });
    const r = await log.readAfter(log.epoch, 1, 10);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([2]);
    now = 1200;
    expect(await log.readAfter(log.epoch, 2, 10)).toEqual({ ok: true, events: [] });
    expect(await log.readAfter(log.epoch, 1, 10)).toEqual({ ok: false, reason: 'history_expired' });
  });

  it('refuses appends after close and stops delivering', async () => {
    const { log, seen } = await filled(1);
    await log.close();
    await expect(log.append([ev(2)])).rejects.toThrow(/closed/);
    expect(seen).toHaveLength(1);
  });

  it('keeps the bytes and its own copy, never the caller\'s object', async () => {
    const { log, seen } = await filled(0);
    const data = { message: 'original', nested: { v: 1 } };
    await log.append([{ type: 'alert', data, timestamp: new Date(0).toISOString() }]);
    data.message = 'mutated';
    data.nested.v = 2;
    const r = await log.readAfter(log.epoch, 0, 10);
    expect(r.ok && r.events[0]!.data).toEqual({ message: 'original', nested: { v: 1 } });
    expect(r.ok && r.events[0]!.json).toBe('{"message":"original","nested":{"v":1}}');
    expect(seen[0]!.data).not.toBe(data);
  });

  it('appends a batch all or nothing: one event JSON cannot hold (a BigInt) appends none', async () => {
    const { log, seen } = await filled(1);
    const bad = { type: 'alert' as const, data: { message: 'x', big: 1n }, timestamp: new Date(0).toISOString() };
    await expect(log.append([ev(2), bad, ev(3)])).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    expect(log.status().lastSeq).toBe(1);
    expect(seen.map((e) => e.seq)).toEqual([1]);
  });

  it('honours event ids within its window: the same id is appended once', async () => {
    const { log, seen } = await filled(0, { historySize: 3 });
    const once = { ...ev(1), id: 'x' };
    expect(await log.append([once, once])).toEqual([{ seq: 1, duplicate: false }, { seq: 1, duplicate: true }]);
    expect(await log.append([once])).toEqual([{ seq: 1, duplicate: true }]);
    expect(seen.map((e) => e.seq)).toEqual([1]);
    // once the event has left the history window, its id is forgotten
    await log.append([ev(2), ev(3), ev(4)]);
    expect(await log.append([once])).toEqual([{ seq: 5, duplicate: false }]);
  });

  it('bounds a page by bytes as well as by count (at least one event)', async () => {
    const { log } = await filled(0);
    await log.append(Array.from({ length: 5 }, (_, i) => ({ ...ev(i), data: { message: 'x'.repeat(1000) } })));
    const r = await log.readAfter(log.epoch, 0, 100, 2500);
    expect(r.ok && r.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    const one = await log.readAfter(log.epoch, 0, 100, 1);
    expect(one.ok && one.events.length).toBe(1);
  });
});
