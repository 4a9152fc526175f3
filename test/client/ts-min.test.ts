/**
 * The minimum supported TypeScript (README, "Compatibility"): a consumer file type-checks with that exact compiler,
 * installed as the `typescript-min` dev dependency. Below it (5.0–5.3, no `NoInfer`), handler parameters would be
 * implicit `any`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('minimum TypeScript', () => {
  it('type-checks a consumer with TypeScript 5.4.5 (typo lines are still errors)', () => {
    const pkg = JSON.parse(readFileSync(`${root}node_modules/typescript-min/package.json`, 'utf8')) as { version: string };
    expect(pkg.version).toBe('5.4.5');
    const r = spawnSync(process.execPath, [`${root}node_modules/typescript-min/bin/tsc`, '-p', `${root}test/client/consumer/tsconfig.json`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 90_000);
});
