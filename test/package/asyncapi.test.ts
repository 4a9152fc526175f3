/** The AsyncAPI 3.0 document: generated from the zod schemas, valid for @asyncapi/parser, complete, and served by the server. */
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from '../../src/protocol/entry.js';
import { EVENT_TOPIC, SERVER_EVENT_TYPES, TOPICS, WSMessageType } from '../../src/protocol/index.js';
import { startServer, useHarness } from '../helpers/harness.js';

useHarness();

describe('AsyncAPI document', () => {
  it('validates with @asyncapi/parser, with no errors', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncApiDocument()));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    // Every message is reachable through an operation of the one channel.
    expect(document!.operations().length).toBe(Object.values(WSMessageType).length + SERVER_EVENT_TYPES.length + 1);
  });

  it('holds every client message, every server event with its payload, the topics and the batch frame', () => {
    const doc = asyncApiDocument() as any;
    const messages = doc.components.messages;
    for (const type of Object.values(WSMessageType)) expect(messages[`client.${type}`]?.payload.properties.type.const, type).toBe(type);
    for (const type of SERVER_EVENT_TYPES) {
      const payload = messages[`server.${type}`]?.payload;
      expect(payload?.properties.type.const, type).toBe(type);
      expect(payload.properties).toHaveProperty('data');
      expect(payload.properties).toHaveProperty('seq'); // Part B 4 envelope
    }
    // Field-level payloads come from the schemas (spot checks).
    expect(messages['server.trade_executed'].payload.properties.data.required).toEqual(['proposal_id', 'symbol', 'action', 'size', 'filled_price', 'order_id', 'status']);
    expect(messages['server.market_update'].payload.properties.data.type).toBe('array');
    expect(messages['client.subscribe'].payload.properties.data.properties).toHaveProperty('since');
    expect(messages['server.connected'].payload.properties.data.properties).toHaveProperty('features');
    for (const [type, topic] of Object.entries(EVENT_TOPIC)) expect(messages[`server.${type}`].tags).toEqual([{ name: `topic:${topic}` }]);
    expect(doc.components.schemas.Topic.enum).toEqual([...TOPICS]);
    expect(doc.components.schemas.ErrorCode.enum).toContain('SLOW_CONSUMER');
    // Part B 7
    const batch = messages['server.batch'].payload;
    expect(batch.properties.type.const).toBe('batch');
    const items = batch.properties.events.items.anyOf.map((s: any) => s.properties.type.const);
    expect(items.sort()).toEqual(Object.keys(EVENT_TOPIC).sort());
    expect(doc.channels.ws.bindings.ws.query.properties).toHaveProperty('batch');
  });

  it('is served at GET /api/ws/asyncapi.json', async () => {
    const server = await startServer();
    const res = await fetch(`http://127.0.0.1:${server.port}/api/ws/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(asyncApiDocument());
  });
});
