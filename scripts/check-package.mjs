// `npm run check:package` (and CI, after the build): checks the package as users get it, from `npm pack`.
// - the tarball holds what users need and nothing else (no sourcemaps, no dead files);
// - publint --strict and @arethetypeswrong/cli on the tarball are clean;
// - a client-only `npm install <tarball>` into an empty project pulls no redis/@redis/* and no zod, and
//   stays under 5 MB of node_modules (as `du -sk` counts it);
// - in that project: ESM and CJS load, errors are recognised across the two builds (isSigmaxError), the
//   main entry exposes no internals, `sigmax-ws/protocol` and `sigmax-ws/server` work without zod installed,
//   a Redis URL without `redis` installed fails with a message naming the package, the CLI runs, types
//   resolve under node10, node16 and bundler resolution, and a browser app bundle stays <= 10 KB gzip.
// Prints the figures; exits 1 on the first failed check. Uses the local npm cache first (--prefer-offline).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const MAX_INSTALL_KB = 5 * 1024;
const MAX_BUNDLE_GZIP = 10 * 1024;
const figures = [];
let failed = false;

function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failed = true;
}
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
function runOk(what, cmd, args, opts) {
  try {
    const out = run(cmd, args, opts);
    check(true, what);
    return out;
  } catch (err) {
    check(false, what, `${err.stdout ?? ''}${err.stderr ?? ''}`.trim().split('\n').slice(-25).join('\n'));
    return '';
  }
}

if (!existsSync(join(root, 'dist', 'index.js'))) {
  console.error('check-package: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'sigmax-pkg-'));
try {
  // 1. The tarball.
  const [pack] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root }));
  const tarball = join(work, pack.filename);
  const files = pack.files.map((f) => f.path);
  check(!files.some((f) => f.endsWith('.map')), 'tarball: no sourcemaps');
  check(!files.includes('dist/server/cli.cjs'), 'tarball: no dead dist/server/cli.cjs');
  for (const f of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.cjs', 'dist/protocol.js', 'dist/server/index.d.cts', 'dist/server/cli.js', 'dist/asyncapi.json', 'dist/sigmax-ws.browser.js', 'dist/sigmax-ws.browser.mjs']) {
    check(files.includes(f), `tarball: has ${f}`);
  }
  check(files.every((f) => /^(dist\/|LICENSE$|README\.md$|CHANGELOG\.md$|package\.json$|src\/protocol\/PROTOCOL\.md$)/.test(f)), 'tarball: only dist/, docs and package.json');
  figures.push(`tarball ${(pack.size / 1024).toFixed(1)} KB packed, ${(pack.unpackedSize / 1024).toFixed(1)} KB unpacked, ${files.length} files`);

  // 2. Linters.
  runOk('publint --strict', bin('publint'), ['--strict'], { cwd: root });
  runOk('attw (node10, node16 CJS/ESM, bundler)', bin('attw'), [tarball, '--exclude-entrypoints', './asyncapi.json'], { cwd: root });

  // 3. Client-only install into an empty project.
  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  const t0 = Date.now();
  runOk('npm install <tarball> (client only)', 'npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app });
  const installMs = Date.now() - t0;
  const nm = join(app, 'node_modules');
  const packages = readdirSync(nm)
    .filter((d) => !d.startsWith('.'))
    .flatMap((d) => (d.startsWith('@') ? readdirSync(join(nm, d)).map((s) => `${d}/${s}`) : [d]));
  const kb = Number(run('du', ['-sk', nm]).split('\t')[0]);
  check(!packages.some((p) => p === 'redis' || p.startsWith('@redis/') || p === 'zod'), 'install: no redis, @redis/* or zod', packages.join(', '));
  check(kb < MAX_INSTALL_KB, `install: node_modules < ${MAX_INSTALL_KB} KB`, `${kb} KB`);
  figures.push(`client-only install: ${packages.length} packages (${packages.join(', ')}), ${kb} KB node_modules (du -sk), ${installMs} ms`);

  // 4. Using it.
  writeFileSync(join(app, 'err.cjs'), `const { ClosedError } = require('sigmax-ws'); module.exports = new ClosedError('CLIENT_CLOSED', 'x');`);
  writeFileSync(
    join(app, 'smoke.mjs'),
    `
import { createRequire } from 'node:module';
import * as main from 'sigmax-ws';
import * as protocol from 'sigmax-ws/protocol';
import { SigmaxServer } from 'sigmax-ws/server';
const require = createRequire(import.meta.url);
const out = {};
const cjsError = require('./err.cjs');
out.crossBuild = main.isSigmaxError(cjsError) && require('sigmax-ws').isSigmaxError(new main.ClosedError('CLIENT_CLOSED', 'x')) && !main.isSigmaxError(new Error('x'));
out.internals = ['isObject', 'checkShape', 'toZod', 'EVENT_DATA_SCHEMAS', 'parseServerFrame', 'ClientMessageSchema'].filter((n) => n in main);
out.schemas = protocol.EVENT_DATA_SCHEMAS.trade_executed.safeParse({ symbol: 1 }).success === false && protocol.parseServerFrame('{"type":"pong","data":{}}').ok;
out.asyncapi = require('sigmax-ws/asyncapi.json').asyncapi;
const server = new SigmaxServer({ port: 0 });
await server.listen();
const client = await main.connectSigmax({ url: server.url });
out.connected = client.state;
await client.disconnect();
await server.close();
const redis = new SigmaxServer({ port: 0, redisUrl: 'redis://127.0.0.1:1' });
out.redisError = await redis.listen().then(() => 'listened', (e) => e.message);
console.log(JSON.stringify(out));
`,
  );
  const smoke = runOk('ESM + CJS + protocol + server, without zod or redis installed', process.execPath, ['smoke.mjs'], { cwd: app, timeout: 30_000 });
  if (smoke) {
    const r = JSON.parse(smoke.trim().split('\n').pop());
    check(r.crossBuild === true, 'isSigmaxError recognises errors of the CJS build from the ESM build and back');
    check(r.internals.length === 0, 'main entry exports no internals or schemas', r.internals.join(', '));
    check(r.schemas === true, 'sigmax-ws/protocol schemas and codecs work (zod bundled)');
    check(r.asyncapi === '3.0.0', 'sigmax-ws/asyncapi.json is AsyncAPI 3.0');
    check(r.connected === 'open', 'the Node client connects to sigmax-ws/server');
    check(/npm install redis/.test(r.redisError), 'redisUrl without `redis` installed names the package to install', r.redisError);
  }
  runOk('sigmax-ws-server --help', join(app, 'node_modules', '.bin', 'sigmax-ws-server'), ['--help'], { cwd: app });

  // 5. Types under each resolution mode.
  writeFileSync(
    join(app, 'types.ts'),
    `import { SigmaxWebSocketClient, isSigmaxError, type ServerEvent } from 'sigmax-ws';
import { EVENT_DATA_SCHEMAS, type ClientMessage } from 'sigmax-ws/protocol';
import { SigmaxServer, type SigmaxServerOptions } from 'sigmax-ws/server';
const c: SigmaxWebSocketClient = new SigmaxWebSocketClient();
const o: SigmaxServerOptions = { port: 0, dashboard: false };
const s = new SigmaxServer(o);
const t: number = EVENT_DATA_SCHEMAS.trade_executed.parse({}).filled_price;
const m: ClientMessage = { type: 'ping' };
const e: ServerEvent<'alert'> | undefined = undefined;
export { c, s, t, m, e, isSigmaxError };
`,
  );
  const types = ['--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), '--strict', '--noEmit', '--target', 'es2022'];
  for (const [module, resolution] of [
    ['commonjs', 'node10'],
    ['node16', 'node16'],
    ['esnext', 'bundler'],
  ]) {
    runOk(`types resolve (module ${module}, moduleResolution ${resolution})`, bin('tsc'), [...types, '--module', module, '--moduleResolution', resolution, 'types.ts'], { cwd: app });
  }

  // 6. A browser app bundle from the installed package.
  const out = await build({
    stdin: { contents: `import { SigmaxWebSocketClient, WSEventType } from 'sigmax-ws'; globalThis.x = [SigmaxWebSocketClient, WSEventType];`, resolveDir: app, loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const gz = gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
  check(gz <= MAX_BUNDLE_GZIP, `browser app bundle <= ${MAX_BUNDLE_GZIP} B gzip`, `${gz} B`);
  figures.push(`browser app bundle (esbuild, minified): ${(out.outputFiles[0].contents.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(2)} KB gzip`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
for (const f of figures) console.log(`figure: ${f}`);
console.log(failed ? 'check-package: FAILED' : 'check-package: all checks passed');
process.exit(failed ? 1 : 0);
