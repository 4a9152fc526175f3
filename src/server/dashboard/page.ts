/**
 * The dashboard page served at `GET /`: plain HTML, CSS and script, no framework, no request beyond the
 * server that serves it. It connects with the package's browser client (global `SigmaxWS`), subscribes to
 * `all`, and polls `/api/ws/stats` and `/health` every 2 s. It shows connections and subscriptions, events
 * per second by topic (inline SVG), the last events with topic and symbol filters, the stream position and
 * resume/gap notices, and the Redis and health state.
 */

const STYLE = `
:root { color-scheme: light dark; --bg: #0f1419; --card: #1a2129; --fg: #e6e9ec; --dim: #8b96a3; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --line: #2b3440; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 12px; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header .sp { flex: 1; }
a { color: #58a6ff; }
main { padding: 16px 20px; display: grid; gap: 16px; grid-template-columns: repeat(6, minmax(0, 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi .label span { text-transform: none; letter-spacing: 0; }
.kpi .label { color: var(--dim); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { font-size: 22px; font-weight: 600; margin-top: 4px; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wide { grid-column: span 4; } .side { grid-column: span 2; } .full { grid-column: 1 / -1; }
h2 { font-size: 13px; margin: 0 0 8px; color: var(--dim); text-transform: uppercase; letter-spacing: .04em; }
.pill { padding: 2px 10px; border-radius: 999px; font-size: 12px; font-weight: 600; background: var(--line); }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); }
#legend { display: flex; flex-wrap: wrap; gap: 10px; font-size: 12px; color: var(--dim); margin-top: 6px; }
#legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
#notices { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow: auto; font-size: 12px; }
#notices li { padding: 4px 0; border-bottom: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.sum { white-space: normal; color: var(--dim); }
th { color: var(--dim); font-weight: 500; }
.filters { display: flex; gap: 8px; margin-bottom: 8px; }
select, input { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; font: inherit; }
@media (max-width: 900px) { main { grid-template-columns: repeat(2, minmax(0, 1fr)); } .wide, .side, .full { grid-column: 1 / -1; } }
`;

const BODY = `
<header><h1>SIGMAX · sigmax-ws</h1><span id="state" class="pill">connecting</span><span class="sp"></span>
<a href="/api/ws/asyncapi.json">AsyncAPI</a><a href="/api/ws/stats">stats</a><a href="/health">health</a></header>
<main>
<div class="card kpi"><div class="label">Connections</div><div class="value" id="k-conn">–</div></div>
<div class="card kpi"><div class="label">Subscriptions</div><div class="value" id="k-subs">–</div></div>
<div class="card kpi"><div class="label">Events/s</div><div class="value" id="k-rate">0</div></div>
<div class="card kpi"><div class="label">Stream position <span id="k-epoch"></span></div><div class="value" id="k-pos" title="seq of the last event">–</div></div>
<div class="card kpi"><div class="label">Redis</div><div class="value" id="k-redis">–</div></div>
<div class="card kpi"><div class="label">Health</div><div class="value" id="k-health">–</div></div>
<section class="card wide"><h2>Events per second by topic (last 30 s)</h2><svg id="chart" viewBox="0 0 600 160" width="100%" height="160" preserveAspectRatio="none" role="img" aria-label="events per second by topic"></svg><div id="legend"></div></section>
<section class="card side"><h2>Connection, resume and gaps</h2><ul id="notices"></ul></section>
<section class="card full"><h2>Last events</h2>
<div class="filters"><select id="f-topic"><option value="">all topics</option></select><input id="f-symbol" placeholder="symbol, e.g. BTC/USDT" size="18"></div>
<table><thead><tr><th>time</th><th>seq</th><th>topic</th><th>type</th><th>symbol</th><th>summary</th></tr></thead><tbody id="events"></tbody></table></section>
</main>`;

// The page's own script: plain ES2020 for the browser, run after the embedded client defined `SigmaxWS`.
const SCRIPT = String.raw`
(() => {
  const W = window.SigmaxWS;
  const $ = (id) => document.getElementById(id);
  const COLORS = { proposals: '#a371f7', executions: '#3fb950', analysis: '#58a6ff', status: '#8b96a3', market: '#d29922', portfolio: '#39c5cf', health: '#f778ba', alerts: '#f85149' };
  const TOPICS = Object.keys(COLORS);
  const WINDOW = 30, KEEP = 300, SHOW = 60;
  const buckets = new Map(); // second -> { topic: count }
  const events = [];
  const dash = { received: 0, notices: 0, error: undefined };
  window.dashboard = dash;

  for (const t of TOPICS) $('f-topic').append(new Option(t, t));
  $('legend').innerHTML = TOPICS.map((t) => '<span><i style="background:' + COLORS[t] + '"></i>' + t + '</span>').join('');

  const text = (el, value, cls) => { el.textContent = value; el.className = 'value' + (cls ? ' ' + cls : ''); };
  const symbolsOf = (e) => Array.isArray(e.data) ? e.data.map((d) => d && d.symbol).filter(Boolean) : (e.data && typeof e.data.symbol === 'string' ? [e.data.symbol] : []);
  const num = (v, d = 2) => typeof v === 'number' ? v.toLocaleString(undefined, { maximumFractionDigits: d }) : '';
  function summary(e) {
    const d = e.data || {};
    switch (e.type) {
      case 'market_update': return (Array.isArray(d) ? d : []).slice(0, 4).map((m) => m.symbol + ' ' + num(m.price) + ' (' + num(m.change_24h) + '%)').join('  ');
      case 'trade_executed': return d.action + ' ' + num(d.size, 6) + ' @ ' + num(d.filled_price) + ' ' + d.status;
      case 'proposal_created': return d.action + ' ' + num(d.size, 6) + (d.reason ? ' — ' + d.reason : '');
      case 'proposal_approved': return 'proposal ' + d.proposal_id + ' approved' + (d.approved_by ? ' by ' + d.approved_by : '');
      case 'analysis_update': return d.decision + ' (confidence ' + num(d.confidence) + ')';
      case 'portfolio_update': return 'value ' + num(d.total_value) + ', P&L ' + num(d.total_pnl) + ' (' + num(d.total_pnl_percent) + '%)';
      case 'health_update': return 'cpu ' + num(d.cpu_percent, 1) + '%, mem ' + num(d.memory_percent, 1) + '%';
      case 'system_status': return [d.mode, d.running ? 'running' : 'stopped', d.paused ? 'paused' : ''].filter(Boolean).join(', ');
      default: return d.message || JSON.stringify(d).slice(0, 120);
    }
  }

  function notice(message, cls) {
    const li = document.createElement('li');
    li.textContent = new Date().toLocaleTimeString() + '  ' + message;
    if (cls) li.className = cls;
    $('notices').prepend(li);
    while ($('notices').children.length > 50) $('notices').lastChild.remove();
    dash.notices++;
  }

  function renderEvents() {
    const topic = $('f-topic').value, symbol = $('f-symbol').value.trim().toUpperCase();
    const rows = [];
    for (let i = events.length - 1; i >= 0 && rows.length < SHOW; i--) {
      const e = events[i];
      if (topic && e.topic !== topic) continue;
      const syms = symbolsOf(e);
      if (symbol && !syms.some((s) => s.toUpperCase().includes(symbol))) continue;
      const tr = document.createElement('tr');
      const time = e.timestamp ? new Date(e.timestamp).toLocaleTimeString() : '';
      for (const [v, cls] of [[time], [e.seq != null ? '#' + e.seq : ''], [e.topic || ''], [e.type], [syms.slice(0, 3).join(', ')], [summary(e), 'sum']]) {
        const td = document.createElement('td');
        td.textContent = v;
        if (cls) td.className = cls;
        tr.append(td);
      }
      tr.dataset.type = e.type;
      rows.push(tr);
    }
    $('events').replaceChildren(...rows);
  }

  function renderChart() {
    const now = Math.floor(Date.now() / 1000);
    for (const s of buckets.keys()) if (s <= now - WINDOW) buckets.delete(s);
    const series = TOPICS.map((t) => {
      const pts = [];
      for (let i = 0; i < WINDOW; i++) pts.push((buckets.get(now - WINDOW + 1 + i) || {})[t] || 0);
      return [t, pts];
    });
    // Stacked bars, one per second, coloured by topic.
    const totals = series[0][1].map((_, i) => series.reduce((a, [, pts]) => a + pts[i], 0));
    const max = Math.max(1, ...totals);
    const bw = 600 / WINDOW, h = (v) => (v / max) * 140;
    let svg = '<line x1="0" y1="155" x2="600" y2="155" stroke="#2b3440"/><text x="4" y="12" fill="#8b96a3" font-size="11">' + max + '/s</text>';
    for (let i = 0; i < WINDOW; i++) {
      let top = 155;
      for (const [t, pts] of series) {
        if (!pts[i]) continue;
        top -= h(pts[i]);
        svg += '<rect x="' + (i * bw + 1).toFixed(1) + '" y="' + top.toFixed(1) + '" width="' + (bw - 2).toFixed(1) + '" height="' + h(pts[i]).toFixed(1) + '" fill="' + COLORS[t] + '"><title>' + t + ': ' + pts[i] + '/s</title></rect>';
      }
    }
    $('chart').innerHTML = svg;
    const last = buckets.get(now - 1) || {};
    text($('k-rate'), String(Object.values(last).reduce((a, b) => a + b, 0)));
  }

  function position(epoch, seq) {
    $('k-pos').textContent = '#' + seq;
    $('k-epoch').textContent = 'epoch ' + epoch.slice(0, 8);
  }

  function showPosition(p) {
    if (p) position(p.epoch, p.seq);
  }

  async function poll() {
    try {
      const [stats, health] = await Promise.all(['/api/ws/stats', '/health'].map((u) => fetch(u, { cache: 'no-store' }).then((r) => r.json())));
      text($('k-conn'), String(stats.active_connections));
      text($('k-subs'), String(stats.subscriptions_count));
      if (stats.epoch && !client.position) position(String(stats.epoch), stats.last_seq);
      const r = health.redis || {};
      text($('k-redis'), !r.enabled ? 'in memory' : r.connected ? 'connected' : 'unreachable', !r.enabled ? '' : r.connected ? 'ok' : 'bad');
      text($('k-health'), health.status || 'unknown', health.status === 'ok' ? 'ok' : 'warn');
    } catch (err) {
      text($('k-health'), 'unreachable', 'bad');
    }
  }

  const params = new URLSearchParams(location.search);
  const client = new W.SigmaxWebSocketClient({
    url: (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/ws',
    apiKey: params.get('api_key') || undefined,
    minReconnectDelay: 500,
    maxReconnectDelay: 5000,
  });
  dash.client = client;
  client.on('state', ({ to }) => { $('state').textContent = to; $('state').className = 'pill ' + (to === 'open' ? 'ok' : to === 'closed' ? 'bad' : 'warn'); });
  client.on('open', (info) => notice((info.recovered === true ? 'resumed without loss' : info.recovered === false ? 'reconnected, could not resume' : 'connected') + ' — epoch ' + (info.epoch || '?').slice(0, 8), info.recovered === false ? 'warn' : 'ok'));
  client.on('reconnecting', ({ attempt, delay }) => notice('reconnecting (attempt ' + (attempt + 1) + ') in ' + delay + ' ms', 'warn'));
  client.on('close', ({ code, reason }) => notice('connection closed ' + code + (reason ? ' ' + reason : ''), 'warn'));
  client.on('gap', (g) => notice('GAP: events may have been missed (' + g.reason + ', from ' + g.epoch.slice(0, 8) + ' #' + g.seq + ')', 'bad'));
  client.on('error', (err) => { dash.error = err.code; notice('error ' + err.code + ': ' + err.message, 'bad'); });
  client.on('*', (e) => {
    dash.received++;
    events.push(e);
    if (events.length > KEEP) events.splice(0, events.length - KEEP);
    const s = Math.floor(Date.now() / 1000), b = buckets.get(s) || {};
    b[e.topic || 'status'] = (b[e.topic || 'status'] || 0) + 1;
    buckets.set(s, b);
    showPosition(client.position);
    scheduleEvents();
  });
  let pending = false;
  const scheduleEvents = () => { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; renderEvents(); }); } };
  $('f-topic').onchange = renderEvents;
  $('f-symbol').oninput = renderEvents;

  client.subscribe({ topics: ['all'] });
  client.connect().catch((err) => notice('cannot connect: ' + err.message, 'bad'));
  poll();
  setInterval(poll, 2000);
  setInterval(renderChart, 1000);
  renderChart();
})();
`;

/** Renders the dashboard with `clientJs`, the IIFE browser build of the client (defines `SigmaxWS`). */
export function renderDashboard(clientJs: string | undefined): string {
  const script = clientJs
    ? `<script>${clientJs.replace(/<\/script/gi, '<\\/script')}</script>\n<script>${SCRIPT}</script>`
    : '<p style="padding:20px">The dashboard needs the browser client build, which this build of the server lacks (run <code>npm run build</code>).</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SIGMAX · sigmax-ws dashboard</title><style>${STYLE}</style></head>
<body>${BODY}
${script}
</body></html>
`;
}
