/**
 * The public surface: the main entry holds the client, its types, errors and constants (no internals, no
 * schemas, so no zod); `sigmax-ws/protocol` holds the schemas and codecs; errors are recognised across two
 * separately built copies of the package (as the ESM and CJS builds are) with `isSigmaxError`.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as main from '../../src/index.js';
import * as protocol from '../../src/protocol/entry.js';

const MAIN_EXPORTS = [
  'AuthenticationError', 'CLIENT_DEFAULTS', 'CloseCode', 'ClosedError', 'ConnectionError', 'EVENT_TOPIC', 'ErrorCode', 'Feature',
  'GapError', 'ListenOverflowError', 'PROTOCOL_VERSION', 'ProtocolError', 'ServerError', 'SigmaxError', 'SigmaxWebSocketClient',
  'SubscriptionTopic', 'TOPICS', 'TimeoutError', 'ValidationError', 'WSEventType', 'WSMessageType', 'WS_PATH', 'backoffDelay',
  'connectSigmax', 'isSigmaxError',
];

describe('public surface', () => {
  it('the main entry exports the client, its errors and constants, and nothing else', () => {
    expect(Object.keys(main).sort()).toEqual([...MAIN_EXPORTS].sort());
  });

  it('sigmax-ws/protocol exports the schemas and codecs, and no internals', () => {
    for (const name of ['EVENT_DATA_SCHEMAS', 'ClientMessageSchema', 'parseServerFrame', 'parseClientFrame', 'normalizeSubscription', 'asyncApiDocument', 'WSEventType']) {
      expect(protocol, name).toHaveProperty(name);
    }
    for (const name of ['isObject', 'checkShape', 'toZod', 'formatIssues']) expect(protocol, name).not.toHaveProperty(name);
    expect(protocol.EVENT_DATA_SCHEMAS.trade_executed.safeParse({ symbol: 1 }).success).toBe(false);
    expect(protocol.ClientMessageSchema.parse({ type: 'ping' })).toEqual({ type: 'ping' });
  });

  it('isSigmaxError recognises errors of another copy of the package (ESM and CJS builds), where instanceof fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigmax-surface-'));
    try {
      const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: join(dir, 'copy.cjs'), logLevel: 'error' });
      const copy = createRequire(import.meta.url)(join(dir, 'copy.cjs')) as typeof main;
      const foreign = new copy.TimeoutError('COMMAND_TIMEOUT', 'late');
      expect(foreign instanceof main.SigmaxError).toBe(false); // why the brand exists
      expect(main.isSigmaxError(foreign)).toBe(true);
      expect(copy.isSigmaxError(new main.ClosedError('CLIENT_CLOSED', 'closed'))).toBe(true);
      for (const v of [new Error('x'), { code: 'X' }, null, 'SigmaxError', Object.assign(new Error('x'), { name: 'SigmaxError' })]) {
        expect(main.isSigmaxError(v)).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
