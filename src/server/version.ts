/**
 * The package version, read once from the package's own package.json at run time: it works from
 * `dist/` (ESM and CJS), from `src/` (tests) and from bundles placed under the package, without a
 * JSON import (which tsup and older Node versions handle differently).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'sigmax-ws';

function moduleDir(): string | undefined {
  // CJS build: __dirname; ESM: import.meta.url (an empty object in the CJS build).
  if (typeof __dirname === 'string') return __dirname;
  try {
    return dirname(fileURLToPath(import.meta.url));
  } catch {
    return undefined;
  }
}

function readVersion(): string {
  let dir = moduleDir();
  for (let i = 0; dir && i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir);
    dir = up === dir ? undefined : up;
  }
  return '0.0.0-unknown';
}

/** Version announced in `connected.data.server_version` and printed by `--version`. */
export const SERVER_VERSION: string = readVersion();
