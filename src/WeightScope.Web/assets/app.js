// WeightScope viewer: plain JavaScript over the server's JSON API (see ViewerApi.cs). No framework, no build step,
// nothing fetched from any other host. Tensor data is asked for only when a tensor is selected, and only its own.
'use strict';

const $ = (id) => document.getElementById(id);
// The SVG namespace, taken from the page's own <svg> (the HTML parser puts it there), so no URL appears in the assets.
const SVG_NS = document.getElementById('svg-namespace').namespaceURI;
const MAX_ROWS = 2000; // table rows drawn at once; the search narrows the rest
// A view of a small tensor usually arrives within this time: its spinner would only flicker, so it waits this long.
const SPINNER_DELAY_MS = 300;
const TABS = ['tensors', 'tree', 'compare'];

const state = {
  session: null,
  tab: 'tensors',
  slot: 0,            // the file shown in the tensor table and tree
  lists: [],          // per slot: list --json
  sort: { key: 'index', asc: true },
  diff: null,         // diff --json, once loaded
  diffLoad: null,     // its request, shared by whoever waits for it
  current: null,      // the selection: { slot, index, pair } (pair: the diff pair's number, or null)
  work: null,         // AbortController of the selection's requests: a new selection cancels them
  viewWork: null,     // AbortController of the histogram and heatmap requests (also cancelled by Apply)
  location: '',       // the URL hash the page shows now (see "location" below)
};

// ----- helpers -----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

async function api(url, signal) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

// An image view (the heatmap PNG) as a data: URL (the CSP allows images from this server and data: only), fetched so
// that it can be cancelled like the JSON views and its error read.
async function image(url, signal) {
  const r = await fetch(url, { signal });
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try { message = (await r.json()).error || message; } catch { /* not JSON: the status says it */ }
    throw new Error(message);
  }
  const blob = await r.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

const aborted = (e, signal) => (signal && signal.aborted) || (e && e.name === 'AbortError');

function showError(e) {
  const p = $('error');
  p.textContent = e ? String(e.message || e) : '';
  p.hidden = !e;
}

const intFormat = new Intl.NumberFormat('en-US');
const count = (n) => intFormat.format(n);

const shapeText = (s) => `[${s.join(', ')}]`;

// A tensor name that a narrow column breaks after its dots, slashes and underscores (layer1.0.<wbr>conv1.<wbr>weight)
// before it breaks inside a word.
function nameText(name) {
  const parts = name.split(/(?<=[./_])/);
  const span = el('span', {});
  parts.forEach((p, i) => { if (i > 0) span.append(el('wbr', {})); span.append(p); });
  return span;
}

// Numbers exactly as the JSON gives them: the shortest text that reads back as the same double.
const num = (v) => (v === null || v === undefined ? '–' : String(v));

// Four significant digits, for reading: fixed from 1e-4 to 1e6, otherwise 1.235e-7 (trailing zeros dropped).
function round4(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v; // NaN, Infinity
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(4)));
  const [mantissa, exponent] = v.toExponential(3).split('e');
  return `${mantissa.replace(/\.?0+$/, '')}e${exponent.replace('+', '')}`;
}

// Compact numbers for tables and axes.
function short(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v; // NaN, Infinity
  if (v === 0) return '0';
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}

function tensorUrl(slot, index, view, params) {
  const q = params ? new URLSearchParams(params).toString() : '';
  return `/api/files/${slot}/tensors/${index}/${view}${q ? '?' + q : ''}`;
}

function tensorInfo(slot, index) {
  return state.lists[slot] ? state.lists[slot].tensors[index] : null;
}

async function list(slot) {
  if (!state.lists[slot]) state.lists[slot] = await api(`/api/files/${slot}/tensors`);
  return state.lists[slot];
}

// ----- waiting: a spinner in a section's status line while its request runs -----

// Shows "text" with a spinner in the status element: at once for a large tensor (its view is heavy work on the server),
// after SPINNER_DELAY_MS otherwise. Returns the function that ends the wait.
function waiting(status, large, text) {
  const line = el('div', { class: 'loading' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), ` ${text}`);
  line.hidden = !large;
  status.replaceChildren(line);
  const timer = large ? 0 : setTimeout(() => { line.hidden = false; }, SPINNER_DELAY_MS);
  return () => { clearTimeout(timer); line.remove(); };
}

// Runs job(signal) with a spinner in status; its failure (not a cancellation) is written there.
async function withSpinner(status, work, large, text, job) {
  const done = waiting(status, large, text);
  try {
    await job(work.signal);
  } catch (e) {
    if (!aborted(e, work.signal)) status.replaceChildren(el('p', { class: 'note failed' }, e.message));
  } finally {
    done();
  }
}

// A new AbortController for the selection (cancelling the previous selection's requests: the server stops a heavy
// computation nobody waits for any more).
function newWork() {
  if (state.work) state.work.abort();
  if (state.viewWork) state.viewWork.abort();
  state.work = new AbortController();
  state.viewWork = null;
  return state.work;
}

// ----- location: the URL's hash holds the tab, the file and the selection (#tab=tensors&file=1&tensor=fc.weight,
// #tab=compare&pair=fc.weight): a link or a reload returns to them, and each selection is a step back. -----

function hashOf() {
  const p = new URLSearchParams();
  p.set('tab', state.tab);
  if (state.session.comparing) p.set('file', String(state.slot));
  const c = state.current;
  if (c && c.pair !== null) p.set('pair', state.diff.tensors[c.pair].name_a);
  else if (c) {
    if (c.slot !== state.slot) p.set('file', String(c.slot));
    p.set('tensor', tensorInfo(c.slot, c.index).name);
  }
  return '#' + p.toString();
}

// Records the page's state in the URL: a new history entry (the back button returns here), or in place.
function remember(replace) {
  const h = hashOf();
  if (h === state.location) return;
  state.location = h;
  if (replace) history.replaceState(null, '', h);
  else history.pushState(null, '', h);
}

// Back, forward, or an edited hash: shows what the URL says.
async function followLocation() {
  if (location.hash === state.location) return;
  state.location = location.hash;
  try {
    await restore(new URLSearchParams(location.hash.slice(1)));
  } catch (e) {
    showError(e);
  }
}

async function restore(p) {
  showError(null);
  const comparing = state.session.comparing;
  const slot = comparing && p.get('file') === '1' ? 1 : 0;
  let tab = p.get('tab');
  if (!TABS.includes(tab) || (tab === 'compare' && !comparing)) tab = comparing ? 'compare' : 'tensors';
  await loadSlot(slot);
  selectTab(tab);
  const pair = p.get('pair');
  const tensor = p.get('tensor');
  if (pair !== null && comparing) {
    const d = await diffData();
    const row = d.tensors.find((t) => t.name_a === pair);
    if (!row) throw new Error(`no compared pair named '${pair}'`);
    openPair(row);
  } else if (tensor !== null) {
    const t = (await list(slot)).tensors.find((x) => x.name === tensor);
    if (!t) throw new Error(`no tensor named '${tensor}' in ${state.session.files[slot].file ?? 'the file'}`);
    openTensor(slot, t.index);
  } else {
    closePanel();
  }
}

// ----- start -----

async function start() {
  try {
    state.session = await api('/api/session');
    renderFiles();
    if (state.session.comparing) {
      document.querySelector('[data-tab="compare"]').hidden = false;
      $('slot-picker').hidden = false;
    }
    // Two files open on the compare view, unless the URL asks for something else.
    state.location = location.hash;
    await restore(new URLSearchParams(location.hash.slice(1)));
    remember(true);
  } catch (e) {
    showError(e);
  }
}

function renderFiles() {
  const box = $('files');
  box.replaceChildren();
  state.session.files.forEach((f, i) => {
    const t = f.totals;
    const dtypes = Object.entries(t.by_dtype).map(([k, g]) => `${k} ${count(g.params)}`).join(', ');
    box.append(el('div', { class: 'file', 'data-slot': String(i) },
      el('strong', {}, (state.session.comparing ? (i === 0 ? 'A: ' : 'B: ') : '') + (f.file ?? '(in memory)')),
      ` — ${f.format}${f.version ? ' ' + f.version : ''} · ${count(t.tensors)} tensors · ${count(t.params)} parameters · `,
      el('span', { class: 'size' }, t.size),
      dtypes ? el('span', { class: 'muted' }, ` · ${dtypes}`) : null));
  });
}

async function loadSlot(slot) {
  state.slot = slot;
  $('slot').value = String(slot);
  await list(slot);
  renderTable();
  if (!$('view-tree').hidden) await renderTree();
}

// ----- tensor table -----

function matcher(query) {
  const q = query.trim();
  if (!q) return () => true;
  if (/[*?]/.test(q)) {
    const re = new RegExp('^' + q.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
    return (name) => re.test(name);
  }
  const lower = q.toLowerCase();
  return (name) => name.toLowerCase().includes(lower);
}

function sortValue(t, key) {
  switch (key) {
    case 'shape': return t.params;
    case 'index': case 'params': case 'bytes': return t[key];
    default: return String(t[key] || '');
  }
}

function renderTable() {
  const data = state.lists[state.slot];
  const match = matcher($('search').value);
  const { key, asc } = state.sort;
  const rows = data.tensors.filter((t) => match(t.name));
  rows.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c = x < y ? -1 : x > y ? 1 : a.index - b.index;
    return asc ? c : -c;
  });
  const body = document.querySelector('#tensor-table tbody');
  const shown = rows.slice(0, MAX_ROWS);
  body.replaceChildren(...shown.map((t) => el('tr', { class: 'tensor-row', 'data-index': String(t.index), 'data-name': t.name },
    el('td', { class: 'num col-index' }, String(t.index)),
    el('td', { class: 'name' }, nameText(t.name)),
    el('td', { class: 'shape' }, shapeText(t.shape)),
    el('td', {}, t.stored_as ? `${t.dtype} (${t.stored_as})` : t.dtype),
    el('td', { class: 'col-role' }, t.role),
    el('td', { class: 'num' }, count(t.params)),
    el('td', { class: 'num size', 'data-bytes': String(t.bytes) }, t.size))));
  markSelected();
  $('count').textContent = rows.length > MAX_ROWS
    ? `${count(rows.length)} of ${count(data.tensors.length)} (showing the first ${count(MAX_ROWS)})`
    : `${count(rows.length)} of ${count(data.tensors.length)} tensors`;
  document.querySelectorAll('#tensor-table th').forEach((th) => {
    th.classList.toggle('sorted', th.dataset.key === key);
    th.classList.toggle('desc', th.dataset.key === key && !asc);
  });
}

function markSelected() {
  const c = state.current;
  document.querySelectorAll('.tensor-row.selected, .diff-row.selected').forEach((r) => r.classList.remove('selected'));
  if (!c) return;
  if (c.pair !== null) document.querySelector(`.diff-row[data-pair="${c.pair}"]`)?.classList.add('selected');
  else if (c.slot === state.slot) document.querySelector(`.tensor-row[data-index="${c.index}"]`)?.classList.add('selected');
}

// ----- module tree (children drawn when a node is first opened: large models stay fast) -----

async function renderTree() {
  const box = $('view-tree');
  const slot = state.slot;
  if (box.dataset.slot === String(slot)) return;
  box.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  const root = await api(`/api/files/${slot}/tree`);
  box.replaceChildren(treeNode(root, slot, true));
  box.dataset.slot = String(slot);
}

function treeNode(n, slot, open) {
  const label = n.path === '' ? (n.type || 'model') : n.name;
  const summary = el('summary', {},
    el('span', { class: 'node-name' }, label),
    n.type && n.path !== '' ? el('span', { class: 'node-type' }, ` (${n.type})`) : null,
    el('span', { class: 'node-params', 'data-params': String(n.params) }, ` ${count(n.params)} params`));
  const details = el('details', { class: 'node', 'data-path': n.path }, summary);
  let filled = false;
  const fill = () => {
    if (filled) return;
    filled = true;
    const items = el('ul', {});
    for (const [kind, tensors] of [['param', n.parameters], ['buffer', n.buffers]]) {
      for (const p of tensors) {
        if (p.tensor === null) {
          items.append(el('li', { class: 'muted' }, `${p.name}: None`));
          continue;
        }
        let link = el('span', { class: 'node-name' }, p.name);
        if (p.index !== undefined) {
          link = el('button', { type: 'button', class: `tensor-link ${kind}`, 'data-index': String(p.index) }, p.name);
          link.addEventListener('click', () => select(() => openTensor(slot, p.index)));
        }
        items.append(el('li', {}, link, ` ${p.dtype} ${shapeText(p.shape)} · ${count(p.params)}`, kind === 'buffer' ? el('span', { class: 'muted' }, ' buffer') : null));
      }
    }
    for (const c of n.children) items.append(el('li', {}, treeNode(c, slot, false)));
    details.append(items);
  };
  details.addEventListener('toggle', () => { if (details.open) fill(); });
  if (open) { details.open = true; fill(); }
  return details;
}

// ----- tensor panel -----

const STAT_ROWS = [
  ['count', 'count'], ['min', 'min'], ['max', 'max'], ['mean', 'mean'], ['std', 'std'], ['l1', 'L1'], ['l2', 'L2'],
  ['mean_abs', 'mean |w|'], ['zeros', 'zeros'], ['near_zero', '|w| < 1e-6'], ['nan', 'NaN'], ['pos_inf', '+Inf'], ['neg_inf', '−Inf'],
];
const COUNTS = new Set(['count', 'zeros', 'near_zero', 'nan', 'pos_inf', 'neg_inf']);

// A statistic rounded for reading; every digit in its title (hover) and data-full (what a copy takes).
function statCell(key, column, stats) {
  const td = el('td', { class: 'num', 'data-stat': key, 'data-column': column });
  const v = stats ? stats[key] : null;
  if (v === null || v === undefined) {
    td.textContent = '–';
    return td;
  }
  td.textContent = COUNTS.has(key) && typeof v === 'number' ? count(v) : round4(v);
  td.title = num(v);
  td.dataset.full = num(v);
  return td;
}

function renderStats(columns) {
  const table = $('stats');
  const head = el('tr', {}, el('th', {}, ''), ...columns.map((c) => el('th', { class: 'num' }, c.title)));
  const rows = STAT_ROWS.map(([key, label]) => el('tr', {}, el('th', {}, label), ...columns.map((c) => statCell(key, c.id, c.stats))));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

// What a copy of part of the page puts on the clipboard: rounded numbers replaced by every digit (data-full), table
// rows as tab-separated lines.
function copiedText(root) {
  root.querySelectorAll('[data-full]').forEach((e) => { e.textContent = e.dataset.full; });
  const rows = root.querySelectorAll('tr');
  if (rows.length === 0) return root.textContent;
  return [...rows].map((r) => [...r.children].map((c) => c.textContent.trim()).join('\t')).join('\n');
}

function onCopy(ev) {
  const selection = document.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
  const range = selection.getRangeAt(0);
  const common = range.commonAncestorContainer;
  const inside = (common.nodeType === Node.ELEMENT_NODE ? common : common.parentElement)?.closest('[data-full]');
  let text;
  if (inside) {
    text = inside.dataset.full; // part of one rounded number: all of it, every digit
  } else {
    const fragment = range.cloneContents();
    if (!fragment.querySelector('[data-full]')) return; // nothing rounded: the browser copies as usual
    text = copiedText(el('div', {}, fragment));
  }
  ev.clipboardData.setData('text/plain', text);
  ev.preventDefault();
}

async function copyStats() {
  const button = $('stats-copy');
  try {
    await navigator.clipboard.writeText(copiedText($('stats').cloneNode(true)));
    button.textContent = 'copied';
  } catch (e) {
    button.textContent = 'copy failed';
  }
  setTimeout(() => { button.textContent = 'copy'; }, 1500);
}

function clearViews() {
  for (const id of ['hist', 'heatmap', 'hist-status', 'heatmap-status', 'stats-status']) $(id).replaceChildren();
  $('values').textContent = '';
  $('hist-svg').hidden = true;
  $('stats-note').hidden = true;
}

function closePanel() {
  newWork();
  state.current = null;
  $('panel').hidden = true;
  markSelected();
}

// Runs a selection made by the user (a click): then records it in the URL, a step the back button returns from.
async function select(open) {
  try {
    await open();
    remember(false);
    // Stacked layout (narrow window): the panel is below the table; bring it into view.
    if (matchMedia('(max-width: 900px)').matches) $('panel').scrollIntoView({ block: 'start' });
  } catch (e) {
    showError(e);
  }
}

function isLarge(elements) {
  return elements > state.session.light_elements;
}

function openTensor(slot, index) {
  showError(null);
  const work = newWork();
  state.current = { slot, index, pair: null };
  const t = tensorInfo(slot, index);
  $('panel').hidden = false;
  $('panel-file-picker').hidden = true;
  $('panel-title').textContent = t.name;
  $('panel-meta').textContent = `${state.session.comparing ? (slot === 0 ? 'A' : 'B') + ' · ' : ''}#${index} · ${t.dtype}${t.stored_as ? ' (' + t.stored_as + ')' : ''} · ${shapeText(t.shape)} · ${t.role} · ${count(t.params)} values · ${t.size}`;
  clearViews();
  markSelected();
  renderStats([{ id: 'value', title: 'value', stats: null }]);
  const large = isLarge(t.params);
  withSpinner($('stats-status'), work, large, `computing statistics of ${count(t.params)} values…`, async (signal) => {
    const s = await api(tensorUrl(slot, index, 'stats'), signal);
    signal.throwIfAborted();
    renderStats([{ id: 'value', title: 'value', stats: s }]);
  });
  loadViews();
}

function openPair(row) {
  showError(null);
  const work = newWork();
  state.current = { slot: 0, index: row.index_a, pair: row.pair };
  $('panel').hidden = false;
  clearViews();
  markSelected();
  $('panel-title').textContent = row.name_a === row.name_b ? row.name_a : `${row.name_a} ↔ ${row.name_b}`;
  $('panel-meta').textContent = `A ${row.dtype_a} ${shapeText(row.shape_a)} · B ${row.dtype_b} ${shapeText(row.shape_b)}`
    + (row.compared ? ` · max |Δ| ${round4(row.max_abs_diff)} · cosine ${num(row.cosine)} · ${count(row.different_elements)} of ${count(row.elements)} elements differ` : ' · shapes differ');
  $('panel-file-picker').hidden = false;
  $('panel-file').value = '0';
  const columns = (p) => [{ id: 'a', title: 'A', stats: p && p.a }, { id: 'b', title: 'B', stats: p && p.b }, { id: 'delta', title: 'A − B', stats: p && p.delta }];
  renderStats(columns(null));
  const elements = tensorInfo(0, row.index_a)?.params ?? row.elements;
  withSpinner($('stats-status'), work, isLarge(elements), `computing A's, B's and A − B's statistics of ${count(elements)} values…`, async (signal) => {
    const p = await api(`/api/diff/pairs/${row.pair}`, signal);
    signal.throwIfAborted();
    renderStats(columns(p));
    if (p.delta_note) { $('stats-note').textContent = p.delta_note; $('stats-note').hidden = false; }
  });
  loadViews();
}

// The tensor the views (histogram, heatmap, values) are of: in a pair, A's or B's as picked.
function viewTarget() {
  const c = state.current;
  if (c.pair === null) return c;
  const row = state.diff.tensors[c.pair];
  return $('panel-file').value === '1' ? { slot: 1, index: row.index_b } : { slot: 0, index: row.index_a };
}

function sliceParam(params) {
  const s = $('slice').value.trim();
  if (s) params.slice = s;
  return params;
}

// The histogram and the heatmap of the selection (or of the pair's picked file), with the slice and bins asked for:
// requested as soon as a tensor is selected, cancelled by the next selection or the next Apply.
function loadViews() {
  if (!state.current) return;
  if (state.viewWork) state.viewWork.abort();
  const work = new AbortController();
  state.viewWork = work;
  state.work.signal.addEventListener('abort', () => work.abort(), { once: true });
  const { slot, index } = viewTarget();
  const t = tensorInfo(slot, index);
  const large = isLarge(t.params);
  $('hist').replaceChildren();
  $('heatmap').replaceChildren();
  $('hist-svg').hidden = true;
  $('values').textContent = '';
  const params = sliceParam({ bins: $('bins').value || '50' });
  withSpinner($('hist-status'), work, large, `binning ${count(t.params)} values…`, async (signal) => {
    const h = await api(tensorUrl(slot, index, 'hist', params), signal);
    signal.throwIfAborted();
    drawHistogram(h);
    const link = $('hist-svg');
    link.href = tensorUrl(slot, index, 'hist.svg', { ...params, log: $('hist-log').checked ? 'true' : 'false' });
    link.download = `${h.name}.svg`;
    link.hidden = false;
  });
  withSpinner($('heatmap-status'), work, large, `drawing the heatmap of ${count(t.params)} values…`, async (signal) => {
    const src = await image(tensorUrl(slot, index, 'heatmap.png', sliceParam({})), signal);
    signal.throwIfAborted();
    $('heatmap').replaceChildren(el('img', { alt: `heatmap of ${t.name}`, class: 'heatmap', src }));
  });
}

// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals up to max (at least 1: counts are whole).
function niceStep(max, ticks) {
  const raw = Math.max(1, max / ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return Math.max(1, (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power);
}

// Bars from the library's Histogram.Compute (edges and counts exactly as the API gives them), each with its range and
// count as a tooltip; a y axis of counts (0 to a round number at or above the tallest bar) and the range's ends below.
function drawHistogram(h) {
  const n = h.counts.length;
  const max = Math.max(1, ...h.counts);
  const step = niceStep(max, 5);
  const top = Math.ceil(max / step) * step;
  const ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  // As wide as its box (at most 560 px), so that its text keeps its size in a narrow window.
  const W = Math.max(240, Math.min(560, Math.floor($('hist').clientWidth) || 560));
  const H = 240, right = 10, above = 20, below = 34;
  const left = 14 + 7 * Math.max(...ticks.map((v) => count(v).length));
  const plot = H - above - below;
  const y = (v) => H - below - (v / top) * plot;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'histogram', role: 'img', 'aria-label': `histogram of ${h.name}` });
  const axis = svg('g', { class: 'y-axis' });
  for (const v of ticks) {
    axis.append(
      svg('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }),
      svg('line', { class: 'tick', x1: left - 4, x2: left, y1: y(v), y2: y(v) }),
      svg('text', { class: 'tick-label', x: left - 6, y: y(v) + 4, 'text-anchor': 'end', 'data-value': v }, count(v)));
  }
  axis.append(svg('line', { class: 'axis', x1: left, x2: left, y1: above, y2: H - below }));
  axis.append(svg('text', { class: 'axis-title', x: 2, y: 11 }, 'count'));
  chart.append(axis);
  const bw = (W - left - right) / n;
  h.counts.forEach((c, i) => {
    const bar = svg('rect', {
      class: 'bin', x: left + i * bw, y: y(c), width: Math.max(bw - (bw > 3 ? 1 : 0), 0.5), height: (c / top) * plot, 'data-count': c,
    });
    bar.append(svg('title', {}, `[${num(h.bins[i])}, ${num(h.bins[i + 1])}${i === n - 1 ? ']' : ')'}: ${count(c)}`));
    chart.append(bar);
  });
  chart.append(svg('line', { class: 'axis', x1: left, x2: W - right, y1: H - below, y2: H - below }));
  for (const [x, anchor, v] of [[left, 'start', h.bins[0]], [left + (W - left - right) / 2, 'middle', h.bins[n / 2]], [W - right, 'end', h.bins[n]]]) {
    if (v === undefined) continue; // an odd number of bins has no middle edge
    chart.append(svg('line', { class: 'tick', x1: x, x2: x, y1: H - below, y2: H - below + 4 }));
    chart.append(svg('text', { class: 'x-label', x, y: H - below + 16, 'text-anchor': anchor }, short(v)));
  }
  const extra = [];
  if (h.nan) extra.push(`${count(h.nan)} NaN`);
  if (h.pos_inf) extra.push(`${count(h.pos_inf)} +Inf`);
  if (h.neg_inf) extra.push(`${count(h.neg_inf)} −Inf`);
  const total = h.counts.reduce((a, b) => a + b, 0);
  $('hist').replaceChildren(chart, el('p', { class: 'muted' },
    `${count(total)} values in ${n} bins, max ${count(max)} per bin` + (extra.length ? `; not binned: ${extra.join(', ')}` : '')));
}

async function showValues(ev) {
  ev.preventDefault();
  showError(null);
  if (!state.current) return;
  const { slot, index } = viewTarget();
  const params = sliceParam({});
  const fields = { profile: 'profile', precision: 'precision', threshold: 'threshold', edgeitems: 'edgeitems', linewidth: 'linewidth', sci_mode: 'sci-mode' };
  for (const [name, id] of Object.entries(fields)) {
    const v = $(id).value.trim();
    if (v) params[name] = v;
  }
  const signal = state.work.signal;
  try {
    const r = await api(tensorUrl(slot, index, 'values', params), signal);
    $('values').textContent = r.text;
  } catch (e) {
    if (aborted(e, signal)) return;
    $('values').textContent = '';
    showError(e);
  }
}

// ----- compare view -----

function diffData() {
  if (!state.diffLoad) {
    state.diffLoad = api('/api/diff').then((d) => { state.diff = d; return d; });
    state.diffLoad.catch(() => { state.diffLoad = null; }); // a failure is asked again next time
  }
  return state.diffLoad;
}

async function renderCompare() {
  if (!state.diff) {
    const done = waiting($('diff-summary'), true, 'comparing (reads both files)…');
    try { await diffData(); } finally { done(); }
  }
  const d = state.diff;
  const s = d.summary;
  $('diff-summary').textContent = `${s.compared} compared: ${s.equal} equal, ${s.different} differ; ${s.only_in_a} only in A, ${s.only_in_b} only in B; `
    + `${s.shape_mismatches} shape mismatches, ${s.dtype_mismatches} dtype mismatches`
    + (d.stripped_prefix.a ? ` (prefix '${d.stripped_prefix.a}' stripped from A)` : '')
    + (d.stripped_prefix.b ? ` (prefix '${d.stripped_prefix.b}' stripped from B)` : '');
  const onlyDifferent = $('only-different').checked;
  const rows = [];
  for (const t of d.tensors) {
    const status = !t.compared ? 'mismatch' : !t.equal || t.dtype_a !== t.dtype_b ? 'changed' : 'equal';
    if (onlyDifferent && status === 'equal') continue;
    rows.push({ status, t, order: status === 'mismatch' ? Infinity : magnitude(t.max_abs_diff) });
  }
  for (const name of d.only_in_a) rows.push({ status: 'only-a', name, slot: 0, order: Infinity });
  for (const name of d.only_in_b) rows.push({ status: 'only-b', name, slot: 1, order: Infinity });
  rows.sort((x, y) => y.order - x.order);
  const body = document.querySelector('#diff-table tbody');
  body.replaceChildren(...rows.map((r) => {
    if (!r.t) {
      const tr = el('tr', { class: `diff-row ${r.status}`, 'data-status': r.status, 'data-name': r.name },
        el('td', {}, r.status === 'only-a' ? 'only in A' : 'only in B'), el('td', { class: 'name' }, nameText(r.name)),
        el('td', { colSpan: 6, class: 'muted' }, ''));
      tr.addEventListener('click', () => select(async () => {
        const t = (await list(r.slot)).tensors.find((x) => x.name === r.name);
        if (t) { await loadSlot(r.slot); openTensor(r.slot, t.index); }
      }));
      return tr;
    }
    const t = r.t;
    const name = t.name_a === t.name_b ? t.name_a : `${t.name_a} ↔ ${t.name_b}`;
    const tr = el('tr', { class: `diff-row ${r.status}`, 'data-status': r.status, 'data-name': t.name_a, 'data-pair': String(t.pair) },
      el('td', {}, r.status === 'mismatch' ? 'shape mismatch' : r.status),
      el('td', { class: 'name' }, nameText(name)),
      el('td', { class: 'col-shape' }, t.compared ? shapeText(t.shape_a) : `${shapeText(t.shape_a)} → ${shapeText(t.shape_b)}`),
      el('td', { class: 'num', 'data-value': t.compared ? String(t.max_abs_diff) : '', title: t.compared ? num(t.max_abs_diff) : '' }, t.compared ? short(t.max_abs_diff) : '–'),
      el('td', { class: 'num col-minor', title: t.compared ? num(t.mean_abs_diff) : '' }, t.compared ? short(t.mean_abs_diff) : '–'),
      el('td', { class: 'num col-minor', title: t.compared ? num(t.rel_l2) : '' }, t.compared ? short(t.rel_l2) : '–'),
      el('td', { class: 'num', title: t.compared ? num(t.cosine) : '' }, t.compared ? (t.cosine !== 1 && short(t.cosine) === '1' ? String(t.cosine) : short(t.cosine)) : '–'),
      el('td', { class: 'col-minor' }, t.compared ? (t.equal ? 'yes' : 'no') : '–'));
    tr.addEventListener('click', () => select(() => openPair(t)));
    return tr;
  }));
  markSelected();
}

function magnitude(v) {
  if (typeof v === 'number') return v;
  return v === 'NaN' || v === 'Infinity' ? Infinity : -Infinity;
}

// ----- wiring -----

function selectTab(tab) {
  state.tab = tab;
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
  $('view-tensors').hidden = tab !== 'tensors';
  $('view-tree').hidden = tab !== 'tree';
  $('view-compare').hidden = tab !== 'compare';
  const job = tab === 'tree' ? renderTree() : tab === 'compare' ? renderCompare() : null;
  if (job) job.catch(showError);
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => {
    selectTab(b.dataset.tab);
    remember(false);
  }));
  $('search').addEventListener('input', renderTable);
  $('slot').addEventListener('change', () => loadSlot(Number($('slot').value)).then(() => remember(false)).catch(showError));
  document.querySelectorAll('#tensor-table th').forEach((th) => th.addEventListener('click', () => {
    const key = th.dataset.key;
    state.sort = { key, asc: state.sort.key === key ? !state.sort.asc : true };
    renderTable();
  }));
  document.querySelector('#tensor-table tbody').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr.tensor-row');
    if (tr) select(() => openTensor(state.slot, Number(tr.dataset.index)));
  });
  $('only-different').addEventListener('change', () => renderCompare().catch(showError));
  $('views-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadViews(); });
  $('panel-file').addEventListener('change', loadViews);
  $('hist-log').addEventListener('change', () => {
    const link = $('hist-svg');
    if (link.href) link.href = link.href.replace(/log=(true|false)/, `log=${$('hist-log').checked}`);
  });
  $('values-form').addEventListener('submit', showValues);
  $('stats-copy').addEventListener('click', copyStats);
  document.addEventListener('copy', onCopy);
  window.addEventListener('popstate', followLocation);
  window.addEventListener('hashchange', followLocation);
  start();
});
