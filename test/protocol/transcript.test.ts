import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseClientFrame, parseServerFrame } from '../../src/protocol/index.js';

const file = fileURLToPath(new URL('../fixtures/sigmax2-transcript.jsonl', import.meta.url));
const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { dir: 'in' | 'out'; frame: string; step: string });

describe('SIGMAX 2.0 transcript', () => {
  it('holds 83 frames', () => {
    expect(lines).toHaveLength(83);
  });

  it.each(lines.filter((l) => l.dir === 'in').map((l, i) => [i, l.step, l.frame] as const))(
    'accepts server frame %i (%s) as a known, valid event',
    (_i, _step, frame) => {
      const r = parseServerFrame(frame);
      expect(r.ok && r.known, JSON.stringify(r)).toBe(true);
    },
  );

  it('classifies the client frames the old server refused as invalid, and the rest as valid', () => {
    const refused = new Set(['subscribe_no_data', 'command_no_data', 'invalid_json', 'unknown_type', 'json_array']);
    for (const l of lines.filter((x) => x.dir === 'out')) {
      const r = parseClientFrame(l.frame);
      const isHeartbeatReply = l.frame.replace(/\s/g, '') === '{"type":"pong"}';
      expect(r.ok, `${l.step}: ${JSON.stringify(r)}`).toBe(isHeartbeatReply || !refused.has(l.step));
    }
  });
});
