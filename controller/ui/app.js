// The Switchyard dashboard: the cluster's GPUs by leaf switch, the queue with its reasons, and
// each job's placement, staging and log. Everything it shows comes from the controller's API
// (/v1/cluster, /v1/jobs/ID, /v1/jobs/ID/logs) with the session token `sy dashboard` put in the
// address, and live through the /v1/events WebSocket. Plain script: no build step, no libraries.
'use strict';

const LOG_TAIL_BYTES = 65536;
const LOG_FOLLOW_MS = 2000;

const state = {
  token: null,
  cluster: null,   // the latest view from /v1/cluster or /v1/events
  route: { view: 'cluster' },
  updates: 0,      // views received over the WebSocket
  job: null,       // the job page's job
  log: { id: null, next: 0, text: '', timer: null },
  socket: null,
  retryMs: 1000,
  fatal: null,     // a message that ends the session (bad token)
};

// ---- small helpers -------------------------------------------------------------------------

// Builds an element; strings become text nodes, so user input (job names) is never parsed as HTML.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function jobColor(id) {
  const n = parseInt(String(id).replace('_', ''), 10) || 0;
  return `hsl(${Math.round((n * 137.508) % 360)}, 62%, 58%)`;
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function when(text) {
  if (!text) return '-';
  const d = new Date(text);
  return isNaN(d) ? text : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function bar(done, total) {
  const pct = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  const fill = el('span');
  fill.style.width = `${pct.toFixed(1)}%`;
  return el('span', { class: 'bar', role: 'progressbar', 'aria-valuenow': pct.toFixed(0) }, fill);
}

function badge(s) { return el('span', { class: `badge ${s}` }, s); }

function ringText(link, gbps) {
  if (typeof gbps !== 'number') return 'no ring inside a node (one GPU per node)';
  return `ring ${link || '-'} at ${gbps} GB/s (its slowest link)`;
}

// ---- the API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = (body.error && body.error.message) || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body;
}

// ---- routing -------------------------------------------------------------------------------

// "#/" is the cluster, "#/jobs/12" a job; "?token=T" after either hands the page its session,
// which it keeps in sessionStorage and takes out of the address bar.
function readAddress() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const token = new URLSearchParams(query || '').get('token');
  if (token) {
    sessionStorage.setItem('sy-token', token);
    history.replaceState(null, '', `#${path || '/'}`);
  }
  state.token = sessionStorage.getItem('sy-token');
  const job = (path || '/').match(/^\/jobs\/([0-9]+(?:_[0-9]+)?)$/);
  state.route = job ? { view: 'job', id: job[1] } : { view: 'cluster' };
}

function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  document.body.dataset.view = state.route.view;
}

function showFatal(message) {
  state.fatal = message;
  document.getElementById('live').className = 'live off';
  document.getElementById('live').textContent = 'offline';
  show(el('h1', {}, 'Switchyard'), el('p', { class: 'error', id: 'fatal' }, message),
    el('p', { class: 'note' }, 'Run ', el('code', {}, 'sy dashboard'),
      ' on a machine that reaches the controller: it prints this page\u2019s address with a ' +
      'session token in it.'));
}

// ---- the cluster view ----------------------------------------------------------------------

function renderSummary(c) {
  const t = c.totals;
  const jobs = Object.entries(t.jobs).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
  document.getElementById('summary').textContent =
    `${t.allocated} of ${t.gpus} GPUs in use on ${t.nodes} node${t.nodes === 1 ? '' : 's'}` +
    (jobs ? ` \u00b7 ${jobs}` : '');
  document.getElementById('viewer').textContent =
    `${c.viewer.user}${c.viewer.admin ? ' (admin)' : ''}`;
}

function gpuCell(node, gpu) {
  const j = gpu.job;
  const where = `GPU ${gpu.index} of ${node.name}${gpu.model ? ` (${gpu.model})` : ''}`;
  if (!j) {
    return el('span', { class: 'gpu free', 'aria-label': `${where}: free`,
      data: { gpu: `${node.name}/${gpu.index}`, job: '', tip: `${where}\nfree` } });
  }
  const ring = ringText(j.ring_link, j.ring_gbps);
  if (j.other) {
    return el('span', { class: 'gpu other', 'aria-label': `${where}: another user\u2019s job, ${ring}`,
      data: { gpu: `${node.name}/${gpu.index}`, job: 'other', link: j.ring_link || '',
        tip: [where, 'another user\u2019s job', ring].join('\n') } });
  }
  const tip = [where, `job ${j.id} \u00b7 ${j.name}`, `user ${j.user}`, `${j.state}, ${ring}`];
  const cell = el('a', {
    class: 'gpu', href: `#/jobs/${j.id}`, 'aria-label': tip.join(', '),
    data: { gpu: `${node.name}/${gpu.index}`, job: j.id, user: j.user, link: j.ring_link || '',
      tip: tip.join('\n') },
  }, String(gpu.index));
  cell.style.background = jobColor(j.id);
  return cell;
}

function renderGrid(c) {
  const leaves = c.leaves.map((leaf) => el('section', { class: 'leaf', data: { leaf: leaf.leaf || '' } },
    el('h3', {}, leaf.leaf ? `leaf ${leaf.leaf}` : 'outside the switch tree',
      leaf.spine ? el('span', { class: 'spine' }, `under ${leaf.spine}`) : null),
    el('div', { class: 'nodes' }, leaf.nodes.map((node) =>
      el('div', { class: 'node', data: { node: node.name, state: node.state },
        title: node.reason ? `${node.state}: ${node.reason}` : node.state },
      el('div', { class: 'node-head' }, el('b', {}, node.name), el('span', { class: 'state' }, node.state)),
      el('div', { class: 'gpus' }, node.gpus.map((g) => gpuCell(node, g))))))));
  const legend = el('div', { class: 'legend' },
    el('span', {}, el('span', { class: 'gpu free' }), 'free'),
    el('span', {}, el('span', { class: 'gpu other' }), 'another user\u2019s job'),
    el('span', {}, 'a colour per job; hover a GPU for its job, user and ring, click it for the job'));
  return [el('div', { class: 'leaves', id: 'grid' }, leaves), legend];
}

function queueWhy(j) {
  if (j.state === 'STAGING' && j.staging) {
    return el('span', {}, bar(j.staging.bytes_done, j.staging.bytes_total),
      `staging ${bytes(j.staging.bytes_done)} of ${bytes(j.staging.bytes_total)}`);
  }
  if (j.nodes.length) {
    return `${j.nodes.join(', ')}${j.ring_link ? ` \u00b7 ring ${j.ring_link}` : ''}` +
      (j.reason ? ` \u00b7 ${j.reason}` : '');
  }
  return j.reason || 'waiting for the next scheduling pass';
}

function renderQueue(c) {
  if (!c.queue.length) return [el('p', { class: 'note', id: 'queue' }, 'No jobs queued or running.')];
  const rows = c.queue.map((j) => {
    const swatch = el('span', { class: 'swatch' });
    if (j.nodes.length) swatch.style.background = jobColor(j.id);
    return el('tr', { data: { job: j.id, state: j.state } },
      el('td', {}, swatch, el('a', { href: `#/jobs/${j.id}` }, j.id)),
      el('td', {}, j.name), el('td', {}, j.user), el('td', {}, badge(j.state)),
      el('td', {}, String(j.gpus)), el('td', { class: 'why' }, queueWhy(j)),
      el('td', {}, when(j.submit_time)));
  });
  const table = el('table', { id: 'queue' },
    el('thead', {}, el('tr', {}, ['Job', 'Name', 'User', 'State', 'GPUs', 'Where, or why it waits',
      'Submitted'].map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
  const more = c.queue_more ? el('p', { class: 'note' }, `and ${c.queue_more} more (sy queue lists them all)`) : null;
  return [table, more];
}

function renderCluster() {
  const c = state.cluster;
  if (!c) return;
  renderSummary(c);
  if (state.route.view !== 'cluster') return;
  show(el('h2', {}, 'GPUs by leaf switch'), ...renderGrid(c), el('h2', {}, 'Queue'), ...renderQueue(c));
}

// ---- the job page --------------------------------------------------------------------------

function placementExplained(job) {
  const p = job.placement;
  if (!p) {
    return el('div', { class: 'panel explain', id: 'placement' },
      el('p', {}, 'Not placed yet. ', job.reason || ''));
  }
  const total = p.nodes.reduce((n, x) => n + x.gpus.length, 0);
  const lines = [
    el('p', {}, `${total} GPU${total === 1 ? '' : 's'} on ${p.nodes.length} node${p.nodes.length === 1 ? '' : 's'}: ` +
      p.nodes.map((n) => `${n.node} GPUs ${n.gpus.join(',')}`).join('; ') + '.'),
    el('p', {}, `Inside each node the all-reduce ${ringText(p.ring_link, p.ring_gbps)}.`),
  ];
  if (p.leaves && p.leaves.length) {
    lines.push(el('p', {}, p.leaves.length === 1
      ? `Every node sits under one leaf switch (${p.leaves[0]}): traffic between nodes crosses one switch.`
      : `The nodes span ${p.leaves.length} leaf switches (${p.leaves.join(', ')}).`));
  }
  if (p.backfilled) {
    lines.push(el('p', {}, 'Backfilled: it started ahead of a bigger waiting job because it ends before that job\u2019s reserved start.'));
  }
  lines.push(el('p', { class: 'note' }, `Chosen by the ${p.profile || '?'} profile; each scorer rated this placement from 0 to 100:`));
  const scores = el('table', { class: 'scores' }, el('tbody', {},
    Object.entries(p.scores || {}).map(([name, v]) =>
      el('tr', {}, el('td', {}, name), el('td', {}, String(v)), el('td', {}, bar(v, 100))))));
  return el('div', { class: 'panel explain', id: 'placement' }, lines, scores);
}

function stagingPanel(job) {
  if (!job.staging || !job.staging.length) return el('p', { class: 'note', id: 'staging' }, 'No datasets to stage.');
  return el('table', { id: 'staging' },
    el('thead', {}, el('tr', {}, ['Dataset', 'Node', 'State', 'Progress', 'Files'].map((h) => el('th', {}, h)))),
    el('tbody', {}, job.staging.map((o) => el('tr', {},
      el('td', {}, `${o.dataset}@${String(o.version).slice(0, 12)}`), el('td', {}, o.node),
      el('td', {}, o.state, o.error ? el('div', { class: 'error' }, `${o.error.kind}: ${o.error.message}`) : null),
      el('td', {}, bar(o.bytes_done, o.bytes_total), `${bytes(o.bytes_done)} of ${bytes(o.bytes_total)}`),
      el('td', {}, `${o.files_done} of ${o.files_total}`)))));
}

function renderJob() {
  const job = state.job;
  if (!job || state.route.view !== 'job') return;
  const facts = [['User', job.user], ['State', badge(job.state)], ['GPUs', String(job.gpus)],
    ['Submitted', when(job.submit_time)], ['Started', when(job.start_time)],
    ['Ended', when(job.end_time)], ['Exit code', job.exit_code === null ? '-' : String(job.exit_code)],
    ['Why', job.reason || '-'], ['Command', (job.spec.command || []).join(' ')]];
  const events = el('ol', { class: 'events' }, (job.events || []).map((e) =>
    el('li', {}, el('b', {}, `${e.from || 'new'} \u2192 ${e.to}`), ` ${e.event} at ${when(e.time)}`,
      e.reason ? ` \u00b7 ${e.reason}` : '')));
  const log = el('pre', { class: 'log', id: 'log' }, state.log.text || '(no output yet)');
  show(el('p', {}, el('a', { href: '#/' }, '\u2190 cluster')),
    el('h1', { data: { job: job.job_id || String(job.id) } }, `Job ${job.job_id || job.id} \u00b7 ${job.name}`),
    el('dl', { class: 'facts panel' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    el('h2', {}, 'Placement'), placementExplained(job),
    el('h2', {}, 'Staging'), stagingPanel(job),
    el('h2', {}, 'Log (its last lines, following)'), log,
    el('h2', {}, 'Events'), events);
  log.scrollTop = log.scrollHeight;
}

async function loadJob() {
  const id = state.route.id;
  try {
    const job = await api(`/v1/jobs/${encodeURIComponent(id)}`);
    if (state.route.view !== 'job' || state.route.id !== id) return;
    state.job = job;
    await followLog(job);
    renderJob();
  } catch (e) {
    if (e.status === 401) return showFatal(e.message);
    show(el('p', {}, el('a', { href: '#/' }, '\u2190 cluster')), el('p', { class: 'error' }, `Job ${id}: ${e.message}`));
  }
}

// The log's last lines first, then what follows, as `sy logs -f` does.
async function followLog(job) {
  const log = state.log;
  if (log.id !== job.id) Object.assign(log, { id: job.id, next: 0, text: '', started: false });
  const path = log.started ? `offset=${log.next}` : `tail=${LOG_TAIL_BYTES}`;
  const slice = await api(`/v1/jobs/${job.id}/logs?${path}`);
  log.started = true;
  log.text = (log.text + slice.text).slice(-4 * LOG_TAIL_BYTES);
  log.next = slice.next;
  clearTimeout(log.timer);
  const ended = ['COMPLETED', 'FAILED', 'CANCELLED'].includes(job.state);
  if (!ended || slice.text) log.timer = setTimeout(() => { if (state.route.view === 'job') loadJob(); }, LOG_FOLLOW_MS);
}

// ---- live updates --------------------------------------------------------------------------

function setLive(on, text) {
  const live = document.getElementById('live');
  live.className = `live ${on ? 'on' : 'off'}`;
  live.textContent = text;
}

// What changed since the last message: nodes (by name) whose cells changed, and the totals
// and the queue when they did. Nodes that come or go bring a whole view instead.
function applyDelta(cluster, delta) {
  if (delta.nodes) {
    const byName = new Map(delta.nodes.map((n) => [n.name, n]));
    for (const leaf of cluster.leaves) {
      leaf.nodes = leaf.nodes.map((n) => byName.get(n.name) || n);
    }
  }
  if (delta.totals) cluster.totals = delta.totals;
  if (delta.queue) {
    cluster.queue = delta.queue;
    cluster.queue_more = delta.queue_more;
  }
}

function connect() {
  if (state.fatal) return;
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(`${scheme}${location.host}/v1/events`);
  state.socket = socket;
  socket.onopen = () => socket.send(JSON.stringify({ token: state.token }));
  socket.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.type === 'error') {
      showFatal(msg.message);
      return;
    }
    if (msg.type === 'cluster') {
      state.cluster = msg.cluster;
    } else if (msg.type === 'cluster_delta' && state.cluster) {
      applyDelta(state.cluster, msg);
    } else {
      return;
    }
    state.retryMs = 1000;
    state.updates++;
    document.body.dataset.updates = String(state.updates);
    setLive(true, 'live');
    renderCluster();
    if (state.route.view === 'job') loadJob();
  };
  socket.onclose = () => {
    if (state.fatal) return;
    setLive(false, 'reconnecting');
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(30000, state.retryMs * 2);
  };
}

async function route() {
  readAddress();
  if (!state.token) return showFatal('This page needs a session token.');
  if (state.route.view === 'job') {
    state.job = null;
    show(el('p', { class: 'note' }, `Loading job ${state.route.id}\u2026`));
    return loadJob();
  }
  if (state.cluster) return renderCluster();
  try {
    state.cluster = await api('/v1/cluster');
    renderCluster();
  } catch (e) {
    if (e.status === 401) return showFatal(e.message);
    show(el('p', { class: 'error' }, e.message));
  }
}

// The hover card of a GPU cell: where it is, the job holding it, its user and its ring.
function hoverCards() {
  const tip = document.getElementById('tip');
  document.addEventListener('mouseover', (e) => {
    const cell = e.target.closest && e.target.closest('.gpu[data-tip]');
    if (!cell) { tip.hidden = true; return; }
    const [first, ...rest] = cell.dataset.tip.split('\n');
    tip.replaceChildren(el('b', {}, first), ...rest.map((line) => el('div', {}, line)));
    const box = cell.getBoundingClientRect();
    tip.style.left = `${Math.min(box.right + 8, window.innerWidth - 300)}px`;
    tip.style.top = `${box.bottom + 6}px`;
    tip.dataset.gpu = cell.dataset.gpu;
    tip.hidden = false;
  });
}

window.addEventListener('hashchange', route);
hoverCards();
route().then(connect);
