/**
 * The client's compact validator (`checkShape`, via `validateServerEvent`) and the zod schemas derived from
 * the same shapes must agree on every input: checked on the SIGMAX 2.0 transcript and on systematic mutations.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_DATA_SCHEMAS, EVENT_DATA_SHAPES, validateServerEvent, type ServerEventType } from '../../src/protocol/index.js';

const file = fileURLToPath(new URL('../fixtures/sigmax2-transcript.jsonl', import.meta.url));
const recorded = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { dir: string; frame: string })
  .filter((l) => l.dir === 'in')
  .map((l) => JSON.parse(l.frame) as { type: ServerEventType; data: unknown });

const extra: { type: ServerEventType; data: unknown }[] = [
  { type: 'market_update', data: [{ symbol: 'BTC/USDT', price: 1, volume_24h: 2, change_24h: -1 }, { symbol: 'ETH/USDT', price: 3, volume_24h: 4, change_24h: 0.5 }] },
  { type: 'alert', data: { message: 'm', level: 'warning', symbol: 'BTC/USDT' } },
  { type: 'subscribed', data: { topics: ['all'], symbols: [], recovered: true, epoch: 'e', seq: 3 } },
  { type: 'connected', data: { connection_id: 'c', protocol: 3, features: ['resume'], epoch: 'e' } },
  { type: 'error', data: { error: 'x', code: 'INVALID_TOPIC', details: { invalid: 'x' } } },
];

const replacements: unknown[] = [42, -1, 1.5, 'text', true, null, undefined, [], [1], {}, { symbol: 7 }];

/** The event, then one mutation per (path, replacement): top-level fields and the fields of first list entries. */
function* mutations(data: unknown): Generator<unknown> {
  yield data;
  for (const r of replacements) yield r;
  const targets: [Record<string, unknown>, (copy: unknown) => Record<string, unknown>][] = [];
  if (Array.isArray(data) && data[0] && typeof data[0] === 'object') targets.push([data[0] as Record<string, unknown>, (c) => (c as Record<string, unknown>[])[0]!]);
  if (data && typeof data === 'object' && !Array.isArray(data)) {
    targets.push([data as Record<string, unknown>, (c) => c as Record<string, unknown>]);
    for (const [k, v] of Object.entries(data)) {
      if (Array.isArray(v) && v[0] && typeof v[0] === 'object') targets.push([v[0] as Record<string, unknown>, (c) => ((c as Record<string, unknown[]>)[k]!)[0] as Record<string, unknown>]);
    }
  }
  for (const [target, locate] of targets) {
    for (const key of Object.keys(target)) {
      for (const r of replacements) {
        const copy = structuredClone(data);
        const obj = locate(copy);
        if (r === undefined) delete obj[key];
        else obj[key] = r;
        yield copy;
      }
    }
  }
}

describe('shapes: compact validator and zod schemas agree', () => {
  const events = [...recorded, ...extra];

  it('covers every event type that has data', () => {
    const seen = new Set(events.map((e) => e.type));
    for (const type of Object.keys(EVENT_DATA_SHAPES)) {
      if (type !== 'ping' && type !== 'status_change' && type !== 'unsubscribed' && type !== 'warning') expect(seen, type).toContain(type);
    }
  });

  it('gives the same verdict on every recorded frame and every mutation of it', () => {
    let checked = 0;
    let refused = 0;
    for (const e of events) {
      for (const data of mutations(e.data)) {
        const compact = validateServerEvent({ type: e.type, data }).ok;
        const zod = EVENT_DATA_SCHEMAS[e.type].safeParse(data).success;
        expect(compact, `${e.type} ${JSON.stringify(data)}`).toBe(zod);
        checked++;
        if (!compact) refused++;
      }
    }
    // The mutations must actually exercise both verdicts.
    expect(checked).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(checked / 4);
  });
});
