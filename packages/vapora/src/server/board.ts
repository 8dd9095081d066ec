import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Caller, PolicySet } from '../core/auth.js';
import { microToCents, TASK_STATUSES } from '../core/model.js';
import type { VaporaService } from '../core/service.js';
import { budgetView } from '../core/views.js';

/**
 * The Kanban board served by `vapora serve` at `/`: one self-contained page (no build step, nothing fetched from
 * the internet), a token login kept in the tab's sessionStorage, data from /api/board and live updates pushed by
 * Server-Sent Events on /api/events (read with fetch, so the token travels in a header, never in a URL). The page
 * shows buttons only where the token's role may act; the API refuses anyway.
 */
export interface BoardOptions {
  svc: VaporaService;
  policy: PolicySet;
  callerOf: (req: import('fastify').FastifyRequest) => Caller;
  /** How often the store is checked for changes to push (ms). */
  pollMs?: number;
}

export const BOARD_PATHS = ['/', '/board', '/kanban'];

export function registerBoard(app: FastifyInstance, o: BoardOptions): void {
  const { svc } = o;
  const A = { config: { access: { action: 'read', kind: 'task' } } } as const;
  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE),
  );
  for (const p of ['/board', '/kanban']) app.get(p, async (_req, reply) => reply.redirect('/'));

  app.get('/api/board', A, async (req) => {
    const caller = o.callerOf(req);
    const can = async (action: 'read' | 'write' | 'approve' | 'assign', kind: 'task' | 'budget') =>
      (await o.policy.authorize(caller, action, kind)).allowed;
    const [tasks, approvals, runs, budgets, costs] = await Promise.all([
      svc.listTasks({}, caller),
      svc.listApprovals({}, caller),
      svc.listPipelines(caller),
      // The page shows budgets only to tokens the policies let read them, as GET /llm/budget does.
      can('read', 'budget').then((ok) => (ok ? svc.limitedBudgets() : [])),
      svc.store.listCosts({}),
    ]);
    const spent = new Map<string, number>();
    for (const c of costs) if (c.taskId) spent.set(c.taskId, (spent.get(c.taskId) ?? 0) + c.costMicrocents);
    const waiting = new Map(approvals.filter((a) => a.taskId).map((a) => [a.taskId as string, a]));
    const columns = Object.fromEntries(TASK_STATUSES.map((s) => [s, [] as unknown[]]));
    for (const t of tasks) {
      (columns[t.status] as unknown[]).push({
        id: t.id,
        title: t.title,
        type: t.type,
        role: t.role,
        agent: t.agentId,
        priority: t.priority,
        cost_cents: microToCents(spent.get(t.id) ?? 0),
        approval: waiting.get(t.id)?.id ?? null,
        error: t.error,
      });
    }
    const active = runs.runs.filter((r) => r.status === 'running' || r.status === 'rolling_back').slice(0, 10);
    return {
      me: {
        name: caller.name,
        role: caller.role,
        can_write: await can('write', 'task'),
        can_assign: await can('assign', 'task'),
        can_approve: await can('approve', 'task'),
      },
      columns,
      approvals: approvals.filter((a) => !a.taskId),
      runs: await Promise.all(active.map((r) => svc.pipelineStatus(r.id, caller))),
      budgets: budgets.map(budgetView),
    };
  });

  // One watcher for all open boards: a cheap stamp of the store, pushed as `change` when it moves.
  const clients = new Set<FastifyReply>();
  let last = '';
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const stamp = await svc.store.changeStamp().catch(() => last);
    if (stamp !== last) {
      last = stamp;
      for (const c of clients) c.raw.write(`event: change\ndata: ${JSON.stringify(stamp)}\n\n`);
    }
  };
  app.get('/api/events', A, async (_req, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(`retry: 1000\nevent: change\ndata: "hello"\n\n`);
    clients.add(reply);
    if (!timer) {
      last = await svc.store.changeStamp();
      timer = setInterval(() => void tick(), o.pollMs ?? 250);
      timer.unref();
    }
    const ping = setInterval(() => reply.raw.write(': ping\n\n'), 15_000);
    ping.unref();
    reply.raw.on('close', () => {
      clearInterval(ping);
      clients.delete(reply);
      if (clients.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    });
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    for (const c of clients) c.raw.end();
  });
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vapora board</title>
<style>
:root { --bg:#f6f7f9; --fg:#1b1f24; --muted:#57606a; --card:#fff; --line:#d0d7de; --accent:#0550ae;
  --ok:#1a7f37; --warn:#9a6700; --bad:#cf222e; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1rem; align-items:center; padding:.6rem 1rem; background:#24292f; color:#fff; }
header h1 { font-size:1rem; margin:0; }
header .me { margin-left:auto; font-size:.85rem; }
header button { background:transparent; color:#fff; border:1px solid #8c959f; border-radius:4px; cursor:pointer; }
#login { max-width:28rem; margin:4rem auto; background:var(--card); padding:1.5rem; border:1px solid var(--line); border-radius:6px; }
#login input { width:100%; padding:.5rem; font:inherit; margin:.5rem 0; }
#login p.err { color:var(--bad); }
main { padding:1rem; }
#budgets { display:flex; flex-wrap:wrap; gap:.75rem; margin-bottom:1rem; }
.gauge { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.4rem .6rem; min-width:11rem; }
.gauge .bar { height:.5rem; background:#eaeef2; border-radius:3px; overflow:hidden; margin-top:.25rem; }
.gauge .fill { height:100%; }
.normal .fill { background:var(--ok); } .near_threshold .fill { background:var(--warn); } .exceeded .fill { background:var(--bad); }
.gauge.exceeded { border-color:var(--bad); }
#board { display:grid; grid-template-columns:repeat(6, minmax(10rem, 1fr)); gap:.75rem; }
.col { background:#eaeef2; border-radius:6px; padding:.5rem; min-height:12rem; }
.col h2 { font-size:.8rem; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:.2rem .2rem .5rem; }
.col.over { outline:2px dashed var(--accent); }
.card { background:var(--card); border:1px solid var(--line); border-left:4px solid var(--line); border-radius:4px;
  padding:.45rem .55rem; margin-bottom:.5rem; }
.card[draggable=true] { cursor:grab; }
.card:focus { outline:2px solid var(--accent); outline-offset:1px; }
.card.high { border-left-color:var(--warn); } .card.critical { border-left-color:var(--bad); }
.card .t { font-weight:600; } .card .m { color:var(--muted); font-size:.8rem; }
.card .err { color:var(--bad); font-size:.8rem; }
.card button, .run button { margin:.35rem .3rem 0 0; font:inherit; font-size:.8rem; padding:.15rem .5rem; border-radius:4px; cursor:pointer; }
button.approve { background:var(--ok); color:#fff; border:1px solid var(--ok); }
button.reject { background:#fff; color:var(--bad); border:1px solid var(--bad); }
#runs h2 { font-size:.9rem; }
.run { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.5rem; margin-bottom:.6rem; }
.steps { display:flex; gap:.4rem; flex-wrap:wrap; margin-top:.3rem; }
.step { border:1px solid var(--line); border-radius:4px; padding:.2rem .45rem; font-size:.8rem; }
.step.done { border-color:var(--ok); } .step.running, .step.waiting { border-color:var(--accent); } .step.failed { border-color:var(--bad); }
#status { font-size:.8rem; color:var(--muted); }
.sr { position:absolute; left:-9999px; }
</style>
</head>
<body>
<header><h1>vapora</h1><span id="status"></span><span class="me" id="me"></span><button id="logout" hidden>Sign out</button></header>
<form id="login" hidden>
  <h2>Sign in</h2>
  <label for="token">API token (vapora token create; vapora init wrote one to .vapora/token)</label>
  <input id="token" type="password" autocomplete="off" required>
  <button type="submit">Open the board</button>
  <p class="err" id="loginerr" role="alert"></p>
</form>
<main id="app" hidden>
  <section id="budgets" aria-label="Budgets"></section>
  <section id="board" aria-label="Tasks by column"></section>
  <section id="runs" aria-label="Pipeline runs"></section>
  <p class="sr" id="live" aria-live="polite"></p>
</main>
<script>
(() => {
  const COLS = [['todo','To do'],['doing','Doing'],['awaiting_approval','Awaiting approval'],['review','Review'],['done','Done'],['failed','Failed']];
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem('vapora.token') || '';
  let me = null;
  let stream = null;
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
  async function api(method, path, body) {
    const r = await fetch(path, { method, headers: { authorization: 'Bearer ' + token, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const j = await r.json().catch(() => ({}));
    if (r.status === 401) { signOut('Your token was refused: ' + (j.error?.message || 'unauthorized')); throw new Error('unauthorized'); }
    if (!r.ok) throw new Error(j.error?.message || ('HTTP ' + r.status));
    return j;
  }
  function signOut(msg) {
    sessionStorage.removeItem('vapora.token'); token = ''; if (stream) stream.abort();
    $('app').hidden = true; $('logout').hidden = true; $('login').hidden = false; $('me').textContent = '';
    $('loginerr').textContent = msg || '';
  }
  function say(msg) { $('status').textContent = msg; $('live').textContent = msg; }
  function card(t, col) {
    const el = document.createElement('article');
    el.className = 'card ' + t.priority; el.tabIndex = 0; el.dataset.id = t.id; el.dataset.col = col;
    el.setAttribute('aria-label', t.title + ', ' + col.replace('_', ' '));
    const movable = me.can_write || me.can_assign;
    el.draggable = movable;
    el.innerHTML = '<div class="t">' + esc(t.title) + '</div><div class="m">' + esc(t.id) + ' · ' + esc(t.type) +
      (t.role ? ' · ' + esc(t.role) : '') + (t.agent ? ' · ' + esc(t.agent) : '') + ' · ' + esc(t.priority) +
      ' · ' + Number(t.cost_cents).toFixed(2) + '¢</div>' + (t.error ? '<div class="err">' + esc(t.error) + '</div>' : '');
    if (col === 'awaiting_approval' && me.can_approve) {
      const ok = document.createElement('button'); ok.className = 'approve'; ok.textContent = 'Approve';
      ok.onclick = () => decide(t.id, 'approve');
      const no = document.createElement('button'); no.className = 'reject'; no.textContent = 'Reject';
      no.onclick = () => decide(t.id, 'reject');
      el.append(ok, no);
    }
    el.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/plain', t.id); e.dataTransfer.effectAllowed = 'move'; });
    el.addEventListener('keydown', (e) => {
      if (!movable || (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft')) return;
      const i = COLS.findIndex(([k]) => k === col) + (e.key === 'ArrowRight' ? 1 : -1);
      if (i >= 0 && i < COLS.length) { e.preventDefault(); move(t.id, col, COLS[i][0]); }
    });
    return el;
  }
  async function decide(ref, what) {
    const reason = what === 'reject' ? prompt('Why reject it?') : '';
    if (what === 'reject' && reason === null) return;
    try { await api('POST', '/approvals/' + encodeURIComponent(ref) + '/' + what, reason ? { reason } : {}); say(what + 'd ' + ref); }
    catch (e) { say(e.message); }
    refresh();
  }
  async function move(id, from, to) {
    if (from === to) return;
    try {
      if (to === 'doing') await api('POST', '/tasks/' + encodeURIComponent(id) + '/assign', {});
      else await api('PUT', '/tasks/' + encodeURIComponent(id), { status: to });
      say('moved ' + id + ' to ' + to.replace('_', ' '));
    } catch (e) { say(e.message); }
    await refresh();
    document.querySelector('[data-id="' + CSS.escape(id) + '"]')?.focus();
  }
  function render(d) {
    // The board is rebuilt on every change (anyone's): the card a keyboard user is on keeps the focus.
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
    me = d.me;
    $('me').textContent = d.me.name + ' (' + d.me.role + ')';
    $('budgets').innerHTML = d.budgets.map((b) => {
      const p = b.ratio === null ? 100 : Math.min(100, Math.round(b.ratio * 100));
      return '<div class="gauge ' + b.state + '" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow="' + p + '" aria-label="' + esc(b.role) + ' budget">' +
        '<div><strong>' + esc(b.role) + '</strong> ' + esc(b.state.replace('_', ' ')) + ' · ' + (b.ratio === null ? '∞' : p + '%') + '</div>' +
        '<div class="bar"><div class="fill" style="width:' + p + '%"></div></div></div>';
    }).join('');
    const board = $('board'); board.innerHTML = '';
    for (const [key, label] of COLS) {
      const col = document.createElement('section'); col.className = 'col'; col.dataset.col = key;
      const cards = d.columns[key] || [];
      col.innerHTML = '<h2>' + label + ' (' + cards.length + ')</h2>';
      for (const t of cards) col.append(card(t, key));
      col.addEventListener('dragover', (e) => { if (me.can_write || me.can_assign) { e.preventDefault(); col.classList.add('over'); } });
      col.addEventListener('dragleave', () => col.classList.remove('over'));
      col.addEventListener('drop', (e) => {
        e.preventDefault(); col.classList.remove('over');
        const id = e.dataTransfer.getData('text/plain');
        const from = document.querySelector('[data-id="' + CSS.escape(id) + '"]')?.dataset.col;
        if (id && from) move(id, from, key);
      });
      board.append(col);
    }
    $('runs').innerHTML = d.runs.length ? '<h2>Pipeline runs</h2>' + d.runs.map((v) =>
      '<div class="run" data-run="' + esc(v.run.id) + '"><strong>' + esc(v.run.pipeline) + '</strong> ' + esc(v.run.id) + ' · ' + esc(v.run.status) +
      ' · ' + Number(v.cost_cents).toFixed(2) + '¢<div class="steps">' + v.steps.map((s) =>
        '<span class="step ' + esc(s.status) + '">' + (s.phase === 'rollback' ? '↩ ' : '') + esc(s.step) + ' · ' + esc(s.role) + ' · ' + esc(s.status) + '</span>').join('') +
      '</div></div>').join('') : '';
    for (const a of d.approvals) {
      if (!me.can_approve) continue;
      const run = document.querySelector('[data-run="' + CSS.escape(a.runId) + '"]');
      if (!run) continue;
      const ref = a.runId + '/' + a.stepId;
      const ok = document.createElement('button'); ok.className = 'approve'; ok.textContent = 'Approve ' + a.stepId; ok.onclick = () => decide(ref, 'approve');
      const no = document.createElement('button'); no.className = 'reject'; no.textContent = 'Reject ' + a.stepId; no.onclick = () => decide(ref, 'reject');
      run.append(ok, no);
    }
    if (focused) document.querySelector('[data-id="' + CSS.escape(focused) + '"]')?.focus();
  }
  async function refresh() {
    try { render(await api('GET', '/api/board')); } catch (e) { if (e.message !== 'unauthorized') say(e.message); }
  }
  async function listen() {
    stream = new AbortController();
    while (token) {
      try {
        const r = await fetch('/api/events', { headers: { authorization: 'Bearer ' + token }, signal: stream.signal });
        if (r.status === 401) return signOut('Your token was refused');
        const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = '';
        say('live');
        for (;;) {
          const { value, done } = await reader.read(); if (done) break;
          buf += dec.decode(value, { stream: true });
          let i; while ((i = buf.indexOf('\\n\\n')) >= 0) { const ev = buf.slice(0, i); buf = buf.slice(i + 2); if (ev.includes('event: change')) refresh(); }
        }
      } catch (e) { if (stream.signal.aborted) return; }
      say('reconnecting…'); await new Promise((r) => setTimeout(r, 1000));
    }
  }
  async function start() {
    $('login').hidden = true; $('app').hidden = false; $('logout').hidden = false;
    await refresh(); if (me) listen();
  }
  $('login').onsubmit = (e) => { e.preventDefault(); token = $('token').value.trim(); sessionStorage.setItem('vapora.token', token); start(); };
  $('logout').onclick = () => signOut('');
  window.vaporaBoardLoadedAt = Date.now();
  if (token) start(); else signOut('');
})();
</script>
</body>
</html>
`;
