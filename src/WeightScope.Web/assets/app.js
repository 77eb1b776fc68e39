// WeightScope viewer: plain JavaScript over the server's JSON API (see ViewerApi.cs). No framework, no build step,
// nothing fetched from any other host. Tensor data is asked for only when a tensor is opened or a view requested.
'use strict';

const $ = (id) => document.getElementById(id);
// The SVG namespace, taken from the page's own <svg> (the HTML parser puts it there), so no URL appears in the assets.
const SVG_NS = document.getElementById('svg-namespace').namespaceURI;
const MAX_ROWS = 2000; // table rows drawn at once; the search narrows the rest

const state = {
  session: null,
  slot: 0,            // the file shown in the tensor table and tree
  lists: [],          // per slot: list --json
  sort: { key: 'index', asc: true },
  diff: null,
  current: null,      // { slot, index, pair }
};

// ----- helpers -----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

function showError(e) {
  const p = $('error');
  p.textContent = e ? String(e.message || e) : '';
  p.hidden = !e;
}

const intFormat = new Intl.NumberFormat('en-US');
const count = (n) => intFormat.format(n);

function bytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

const shapeText = (s) => `[${s.join(', ')}]`;

// Numbers exactly as the JSON gives them: the shortest text that reads back as the same double.
const num = (v) => (v === null || v === undefined ? '–' : String(v));

// Compact numbers for tables (the panel shows full precision).
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

// ----- start -----

async function start() {
  try {
    state.session = await api('/api/session');
    renderFiles();
    if (state.session.comparing) {
      document.querySelector('[data-tab="compare"]').hidden = false;
      $('slot-picker').hidden = false;
    }
    await loadSlot(0);
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
      el('strong', {}, (state.session.comparing ? (i === 0 ? 'A: ' : 'B: ') : '') + f.file),
      ` — ${f.format}${f.version ? ' ' + f.version : ''} · ${count(t.tensors)} tensors · ${count(t.params)} parameters · ${bytes(t.bytes)}`,
      dtypes ? el('span', { class: 'muted' }, ` · ${dtypes}`) : null));
  });
}

async function loadSlot(slot) {
  state.slot = slot;
  if (!state.lists[slot]) state.lists[slot] = await api(`/api/files/${slot}/tensors`);
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
  const list = state.lists[state.slot];
  const match = matcher($('search').value);
  const { key, asc } = state.sort;
  const rows = list.tensors.filter((t) => match(t.name));
  rows.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    const c = x < y ? -1 : x > y ? 1 : a.index - b.index;
    return asc ? c : -c;
  });
  const body = document.querySelector('#tensor-table tbody');
  const shown = rows.slice(0, MAX_ROWS);
  body.replaceChildren(...shown.map((t) => {
    const tr = el('tr', { class: 'tensor-row', 'data-index': String(t.index), 'data-name': t.name },
      el('td', { class: 'num' }, String(t.index)),
      el('td', { class: 'name' }, t.name),
      el('td', {}, shapeText(t.shape)),
      el('td', {}, t.stored_as ? `${t.dtype} (${t.stored_as})` : t.dtype),
      el('td', {}, t.role),
      el('td', { class: 'num' }, count(t.params)),
      el('td', { class: 'num' }, bytes(t.bytes)));
    if (state.current && state.current.slot === state.slot && state.current.index === t.index) tr.classList.add('selected');
    return tr;
  }));
  $('count').textContent = rows.length > MAX_ROWS
    ? `${count(rows.length)} of ${count(list.tensors.length)} (showing the first ${count(MAX_ROWS)})`
    : `${count(rows.length)} of ${count(list.tensors.length)} tensors`;
  document.querySelectorAll('#tensor-table th').forEach((th) => {
    th.classList.toggle('sorted', th.dataset.key === key);
    th.classList.toggle('desc', th.dataset.key === key && !asc);
  });
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
    for (const [kind, list] of [['param', n.parameters], ['buffer', n.buffers]]) {
      for (const p of list) {
        if (p.tensor === null) {
          items.append(el('li', { class: 'muted' }, `${p.name}: None`));
          continue;
        }
        let link = el('span', { class: 'node-name' }, p.name);
        if (p.index !== undefined) {
          link = el('button', { type: 'button', class: `tensor-link ${kind}`, 'data-index': String(p.index) }, p.name);
          link.addEventListener('click', () => openTensor(slot, p.index));
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

function renderStats(columns) {
  const table = $('stats');
  const head = el('tr', {}, el('th', {}, ''), ...columns.map((c) => el('th', { class: 'num' }, c.title)));
  const rows = STAT_ROWS.map(([key, label]) => el('tr', {}, el('th', {}, label),
    ...columns.map((c) => el('td', { class: 'num', 'data-stat': key, 'data-column': c.id }, c.stats ? num(c.stats[key]) : '–'))));
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
}

function clearViews() {
  $('hist').replaceChildren();
  $('heatmap').replaceChildren();
  $('values').textContent = '';
  $('hist-svg').hidden = true;
  $('stats-note').hidden = true;
}

function tensorInfo(slot, index) {
  return state.lists[slot] ? state.lists[slot].tensors[index] : null;
}

async function openTensor(slot, index) {
  showError(null);
  state.current = { slot, index, pair: null };
  if (!state.lists[slot]) state.lists[slot] = await api(`/api/files/${slot}/tensors`);
  const t = tensorInfo(slot, index);
  $('panel').hidden = false;
  $('panel-file-picker').hidden = true;
  $('panel-title').textContent = t.name;
  $('panel-meta').textContent = `${state.session.comparing ? (slot === 0 ? 'A' : 'B') + ' · ' : ''}#${index} · ${t.dtype}${t.stored_as ? ' (' + t.stored_as + ')' : ''} · ${shapeText(t.shape)} · ${t.role} · ${count(t.params)} values · ${bytes(t.bytes)}`;
  clearViews();
  document.querySelectorAll('.tensor-row.selected').forEach((r) => r.classList.remove('selected'));
  if (slot === state.slot) document.querySelector(`.tensor-row[data-index="${index}"]`)?.classList.add('selected');
  renderStats([{ id: 'value', title: 'value', stats: null }]);
  try {
    const s = await api(tensorUrl(slot, index, 'stats'));
    if (state.current.slot === slot && state.current.index === index) renderStats([{ id: 'value', title: 'value', stats: s }]);
  } catch (e) {
    $('stats-note').textContent = e.message;
    $('stats-note').hidden = false;
  }
}

async function openPair(row) {
  showError(null);
  $('panel').hidden = false;
  clearViews();
  const a = row.index_a;
  const b = row.index_b;
  state.current = { slot: 0, index: a, pair: row.pair };
  $('panel-title').textContent = row.name_a === row.name_b ? row.name_a : `${row.name_a} ↔ ${row.name_b}`;
  $('panel-meta').textContent = `A ${row.dtype_a} ${shapeText(row.shape_a)} · B ${row.dtype_b} ${shapeText(row.shape_b)}`
    + (row.compared ? ` · max |Δ| ${num(row.max_abs_diff)} · cosine ${num(row.cosine)} · ${count(row.different_elements)} of ${count(row.elements)} elements differ` : ' · shapes differ');
  $('panel-file-picker').hidden = false;
  $('panel-file').value = '0';
  renderStats([{ id: 'a', title: 'A', stats: null }, { id: 'b', title: 'B', stats: null }, { id: 'delta', title: 'A − B', stats: null }]);
  try {
    const p = await api(`/api/diff/pairs/${row.pair}`);
    if (state.current.pair !== row.pair) return;
    renderStats([{ id: 'a', title: 'A', stats: p.a }, { id: 'b', title: 'B', stats: p.b }, { id: 'delta', title: 'A − B', stats: p.delta }]);
    if (p.delta_note) { $('stats-note').textContent = p.delta_note; $('stats-note').hidden = false; }
  } catch (e) {
    showError(e);
  }
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

async function showHistogram() {
  showError(null);
  const { slot, index } = viewTarget();
  const params = sliceParam({ bins: $('bins').value || '50' });
  try {
    const h = await api(tensorUrl(slot, index, 'hist', params));
    drawHistogram(h);
    const link = $('hist-svg');
    link.href = tensorUrl(slot, index, 'hist.svg', { ...params, log: $('hist-log').checked ? 'true' : 'false' });
    link.download = `${h.name}.svg`;
    link.hidden = false;
  } catch (e) {
    showError(e);
  }
}

// Bars from the library's Histogram.Compute (edges and counts exactly as the API gives them), each with its range and
// count as a tooltip.
function drawHistogram(h) {
  const W = 560, H = 220, left = 8, right = 8, top = 10, bottom = 34;
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'histogram');
  svg.setAttribute('role', 'img');
  const max = Math.max(1, ...h.counts);
  const n = h.counts.length;
  const bw = (W - left - right) / n;
  h.counts.forEach((c, i) => {
    const barH = (c / max) * (H - top - bottom);
    const r = document.createElementNS(SVG_NS, 'rect');
    r.setAttribute('class', 'bin');
    r.setAttribute('x', String(left + i * bw));
    r.setAttribute('y', String(H - bottom - barH));
    r.setAttribute('width', String(Math.max(bw - (bw > 3 ? 1 : 0), 0.5)));
    r.setAttribute('height', String(barH));
    r.setAttribute('data-count', String(c));
    const title = document.createElementNS(SVG_NS, 'title');
    title.textContent = `[${num(h.bins[i])}, ${num(h.bins[i + 1])}${i === n - 1 ? ']' : ')'}: ${count(c)}`;
    r.append(title);
    svg.append(r);
  });
  const axis = document.createElementNS(SVG_NS, 'line');
  for (const [k, v] of Object.entries({ x1: left, x2: W - right, y1: H - bottom, y2: H - bottom })) axis.setAttribute(k, String(v));
  axis.setAttribute('class', 'axis');
  svg.append(axis);
  for (const [x, anchor, v] of [[left, 'start', h.bins[0]], [W - right, 'end', h.bins[n]]]) {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(x));
    t.setAttribute('y', String(H - bottom + 16));
    t.setAttribute('text-anchor', anchor);
    t.textContent = short(v);
    svg.append(t);
  }
  const extra = [];
  if (h.nan) extra.push(`${count(h.nan)} NaN`);
  if (h.pos_inf) extra.push(`${count(h.pos_inf)} +Inf`);
  if (h.neg_inf) extra.push(`${count(h.neg_inf)} −Inf`);
  const total = h.counts.reduce((a, b) => a + b, 0);
  $('hist').replaceChildren(svg, el('p', { class: 'muted' },
    `${count(total)} values in ${n} bins, max ${count(max)} per bin` + (extra.length ? `; not binned: ${extra.join(', ')}` : '')));
}

function showHeatmap() {
  showError(null);
  const { slot, index } = viewTarget();
  const img = el('img', { alt: 'heatmap', class: 'heatmap' });
  img.addEventListener('error', async () => {
    // The image failed: ask again as JSON-speaking fetch to show the server's reason.
    try { await api(img.src); } catch (e) { showError(e); }
  });
  img.src = tensorUrl(slot, index, 'heatmap.png', sliceParam({}));
  $('heatmap').replaceChildren(img);
}

async function showValues(ev) {
  ev.preventDefault();
  showError(null);
  const { slot, index } = viewTarget();
  const params = sliceParam({});
  const fields = { profile: 'profile', precision: 'precision', threshold: 'threshold', edgeitems: 'edgeitems', linewidth: 'linewidth', sci_mode: 'sci-mode' };
  for (const [name, id] of Object.entries(fields)) {
    const v = $(id).value.trim();
    if (v) params[name] = v;
  }
  try {
    const r = await api(tensorUrl(slot, index, 'values', params));
    $('values').textContent = r.text;
  } catch (e) {
    $('values').textContent = '';
    showError(e);
  }
}

// ----- compare view -----

async function renderCompare() {
  if (!state.diff) {
    $('diff-summary').textContent = 'Comparing (reads both files)…';
    state.diff = await api('/api/diff');
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
        el('td', {}, r.status === 'only-a' ? 'only in A' : 'only in B'), el('td', { class: 'name' }, r.name),
        el('td', { colSpan: 6, class: 'muted' }, ''));
      tr.addEventListener('click', async () => {
        if (!state.lists[r.slot]) state.lists[r.slot] = await api(`/api/files/${r.slot}/tensors`);
        const t = state.lists[r.slot].tensors.find((x) => x.name === r.name);
        if (t) openTensor(r.slot, t.index);
      });
      return tr;
    }
    const t = r.t;
    const name = t.name_a === t.name_b ? t.name_a : `${t.name_a} ↔ ${t.name_b}`;
    const tr = el('tr', { class: `diff-row ${r.status}`, 'data-status': r.status, 'data-name': t.name_a, 'data-pair': String(t.pair) },
      el('td', {}, r.status === 'mismatch' ? 'shape mismatch' : r.status),
      el('td', { class: 'name' }, name),
      el('td', {}, t.compared ? shapeText(t.shape_a) : `${shapeText(t.shape_a)} → ${shapeText(t.shape_b)}`),
      el('td', { class: 'num', 'data-value': t.compared ? String(t.max_abs_diff) : '' }, t.compared ? short(t.max_abs_diff) : '–'),
      el('td', { class: 'num' }, t.compared ? short(t.mean_abs_diff) : '–'),
      el('td', { class: 'num' }, t.compared ? short(t.rel_l2) : '–'),
      el('td', { class: 'num' }, t.compared ? (t.cosine !== 1 && short(t.cosine) === '1' ? String(t.cosine) : short(t.cosine)) : '–'),
      el('td', {}, t.compared ? (t.equal ? 'yes' : 'no') : '–'));
    tr.addEventListener('click', () => openPair(t));
    return tr;
  }));
}

function magnitude(v) {
  if (typeof v === 'number') return v;
  return v === 'NaN' || v === 'Infinity' ? Infinity : -Infinity;
}

// ----- wiring -----

function selectTab(tab) {
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
  $('view-tensors').hidden = tab !== 'tensors';
  $('view-tree').hidden = tab !== 'tree';
  $('view-compare').hidden = tab !== 'compare';
  const job = tab === 'tree' ? renderTree() : tab === 'compare' ? renderCompare() : null;
  if (job) job.catch(showError);
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => selectTab(b.dataset.tab)));
  $('search').addEventListener('input', renderTable);
  $('slot').addEventListener('change', () => loadSlot(Number($('slot').value)).catch(showError));
  document.querySelectorAll('#tensor-table th').forEach((th) => th.addEventListener('click', () => {
    const key = th.dataset.key;
    state.sort = { key, asc: state.sort.key === key ? !state.sort.asc : true };
    renderTable();
  }));
  document.querySelector('#tensor-table tbody').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr.tensor-row');
    if (tr) openTensor(state.slot, Number(tr.dataset.index));
  });
  $('only-different').addEventListener('change', () => renderCompare().catch(showError));
  $('hist-button').addEventListener('click', showHistogram);
  $('heatmap-button').addEventListener('click', showHeatmap);
  $('values-form').addEventListener('submit', showValues);
  $('panel-file').addEventListener('change', clearViews);
  start();
});
