/**
 * Bodies of `GET /` (the dashboard) and `GET /api/ws/asyncapi.json`, built once on first request.
 * The dashboard embeds the package's own browser client (the IIFE build `dist/sigmax-ws.browser.js`),
 * injected at build time by tsup (and by vitest when the server runs from source).
 */
import { asyncApiDocument } from '../../protocol/asyncapi.js';
import { renderDashboard } from './page.js';

declare const __SIGMAX_BROWSER_JS__: string | undefined;

let html: string | undefined;
let asyncApi: string | undefined;

/**
 * The dashboard page: one self-contained HTML document (inline client, script and styles) whose client
 * connects to `wsPath` (the server's first WebSocket path).
 */
export function dashboardHtml(wsPath = '/api/ws'): string {
  html ??= renderDashboard(typeof __SIGMAX_BROWSER_JS__ === 'string' ? __SIGMAX_BROWSER_JS__ : undefined);
  // The page's script has `location.host + '/api/ws'`; JSON.stringify keeps the path a safe JS string.
  return wsPath === '/api/ws' ? html : html.replace("location.host + '/api/ws'", `location.host + ${JSON.stringify(wsPath).replace(/</g, '\\u003c')}`);
}

/** The AsyncAPI 3.0 document, serialised. */
export function asyncApiJson(): string {
  asyncApi ??= JSON.stringify(asyncApiDocument(), null, 2);
  return asyncApi;
}

/** Security policy of the dashboard page: nothing but inline code and the server it came from. */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'";
