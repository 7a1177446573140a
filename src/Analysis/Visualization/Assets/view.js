// MixLens views: head view, model view, neuron view and method view of one text, drawn on canvas from the JSON
// document in #mixlens-data (format "mixlens-view" v2, written by ViewJson.cs). No network, no libraries.
'use strict';
(async function () {
  const t0 = performance.now();
  const data = JSON.parse(document.getElementById('mixlens-data').textContent);
  if (data.format !== 'mixlens-view' || data.version !== 2) throw new Error('mixlens: unsupported view data ' + data.format + ' v' + data.version);

  const n = data.tokens.length, L = data.layers, H = data.heads, dh = data.headSize;
  const isPair = data.segments.some(s => s === 1);
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const $ = id => document.getElementById(id);

  // ---- data decoding ------------------------------------------------------------------------------------------
  function bytesOf(base64) {
    if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(base64);
    const bin = atob(base64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  // Each block is cut into one chunk per layer; a chunk is raw DEFLATE (ViewJson.cs) inflated by the browser's own
  // DecompressionStream, or stored as it is ("none"). Chunks are decoded when a view first needs them.
  async function inflate(base64, compression) {
    const packed = bytesOf(base64);
    if (compression === 'none') return packed;
    if (compression !== 'deflate-raw') throw new Error('mixlens: unknown compression ' + compression);
    if (typeof DecompressionStream !== 'function') throw new Error('mixlens: this browser has no DecompressionStream; use a current Chromium, Firefox or Safari');
    const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // A QuantizedTensor (see QuantizedTensor.cs): v = min_s + q (max_s - min_s) / (2^bits - 1), decoded per slice.
  function QTensor(block, name) {
    this.name = name;
    this.shape = block.shape;
    this.sliceLength = block.shape.slice(block.shape.length - block.sliceRank).reduce((a, b) => a * b, 1);
    this.bits = block.bits;
    this.levels = Math.pow(2, block.bits) - 1;
    this.min = block.min;
    this.max = block.max;
    this.compression = block.compression;
    this.packed = block.chunks;
    this.chunkLength = block.shape.slice(1).reduce((a, b) => a * b, 1) * block.bits / 8;
    this.slicesPerChunk = this.min.length / block.chunks.length;
    this.chunks = new Array(block.chunks.length).fill(null);
    this.loading = new Array(block.chunks.length).fill(null);
    this.cache = new Map();
  }
  QTensor.prototype.load = function (c) {
    if (this.chunks[c]) return Promise.resolve();
    if (!this.loading[c]) {
      this.loading[c] = inflate(this.packed[c], this.compression).then(bytes => {
        if (bytes.length !== this.chunkLength) throw new Error('mixlens: ' + this.name + ' chunk ' + c + ' has ' + bytes.length + ' bytes, expected ' + this.chunkLength);
        this.chunks[c] = bytes;
        this.packed[c] = null;
      });
    }
    return this.loading[c];
  };
  QTensor.prototype.slice = function (s) {
    let out = this.cache.get(s);
    if (out) return out;
    const c = Math.floor(s / this.slicesPerChunk), b = this.chunks[c];
    if (!b) throw new Error('mixlens: ' + this.name + ' chunk ' + c + ' is not decoded yet');
    const len = this.sliceLength, lo = this.min[s], step = (this.max[s] - lo) / this.levels;
    const first = (s - c * this.slicesPerChunk) * len;
    out = new Float32Array(len);
    if (this.bits === 8) {
      for (let k = 0; k < len; k++) out[k] = lo + b[first + k] * step;
    } else {
      for (let k = 0, at = 2 * first; k < len; k++, at += 2) out[k] = lo + (b[at] | (b[at + 1] << 8)) * step;
    }
    this.cache.set(s, out);
    return out;
  };

  const attention = new QTensor(data.attention, 'attention');   // [L, H, n, n]
  const query = new QTensor(data.query, 'query');               // [L, n, d]
  const key = new QTensor(data.key, 'key');                     // [L, n, d]
  // Matrix methods ([L, n, n]: heatmaps per layer) and token methods ([1, n]: one score per token, a saliency bar).
  const decoded = data.methods.map(m => {
    const scores = new QTensor(m.scores, m.name);
    const slices = scores.min.length;
    let lo = Infinity, hi = -Infinity;
    for (let s = 0; s < slices; s++) { lo = Math.min(lo, scores.min[s]); hi = Math.max(hi, scores.max[s]); }
    if (m.signed) { hi = Math.max(Math.abs(lo), Math.abs(hi)); lo = -hi; }   // a diverging scale centred on 0
    if (!(hi > lo)) hi = lo + 1;
    return { name: m.name, description: m.description, kind: m.kind, signed: m.signed, scores, lo, hi };
  });
  const methods = decoded.filter(m => m.kind === 'matrix');
  const tokenMethods = decoded.filter(m => m.kind === 'tokens');
  const allLayers = t => Array.from({ length: L }, (_, l) => [t, l]);
  const attn = (l, h) => attention.slice(l * H + h);

  // ---- colours ------------------------------------------------------------------------------------------------
  // viridis: degree-6 polynomial fit to matplotlib's table (same coefficients as Viridis.cs).
  const VC = [[0.2777273272234177, 0.005407344544966578, 0.3340998053353061], [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659], [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105], [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832]];
  const LUT = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    for (let k = 0; k < 3; k++) {
      let v = 0;
      for (let c = 6; c >= 0; c--) v = v * t + VC[c][k];
      LUT[3 * i + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  const lutIndex = t => (t > 0 ? (t < 1 ? Math.round(t * 255) : 255) : 0);
  const cssColour = t => { const i = 3 * lutIndex(t); return 'rgb(' + LUT[i] + ',' + LUT[i + 1] + ',' + LUT[i + 2] + ')'; };
  const textOn = t => (lutIndex(t) > 150 ? '#000' : '#fff');
  // Diverging scale for signed scores: ColorBrewer PuOr (purple = negative, near-white = 0, orange = positive), safe
  // under the common colour-vision deficiencies; t in [-1, 1].
  const PUOR = [[94, 60, 153], [178, 171, 210], [247, 247, 247], [253, 184, 99], [230, 97, 1]];
  function divergingRgb(t) {
    const x = (Math.max(-1, Math.min(1, t)) + 1) * 2, k = Math.min(3, Math.floor(x)), f = x - k;
    return PUOR[k].map((c, i) => Math.round(c + f * (PUOR[k + 1][i] - c)));
  }
  const divergingColour = t => 'rgb(' + divergingRgb(t).join(',') + ')';
  const divergingText = t => (Math.abs(t) > 0.6 ? '#fff' : '#000');
  // One colour per head: Okabe-Ito and Paul Tol's bright/muted palettes (distinct under common colour-vision deficiencies).
  const HEAD_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000',
    '#882255', '#44AA99', '#999933', '#AA4499', '#332288', '#117733', '#DDCC77', '#CC6677'];
  const headColour = h => HEAD_COLOURS[h % HEAD_COLOURS.length];

  // ---- state ----------------------------------------------------------------------------------------------------
  const state = { view: 'head', layer: 0, token: -1, hover: -1, heads: new Array(H).fill(true), filter: 'all',
    neuronHead: 0, saliencyMethod: 0, modelDetail: null, methodDetail: null };
  const fmt = v => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toFixed(4));
  const tokenLabel = i => data.tokens[i];

  // ---- shared helpers -------------------------------------------------------------------------------------------
  function sizeCanvas(canvas, w, h) {
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  // An n x n matrix as an n x n canvas (one pixel per cell), coloured by viridis over [lo, hi].
  function matrixCanvas(values, lo, hi, target) {
    const c = target || document.createElement('canvas');
    c.width = n; c.height = n;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(n, n), px = img.data, scale = 255 / (hi - lo || 1);
    for (let k = 0; k < n * n; k++) {
      let q = Math.round((values[k] - lo) * scale);
      q = q < 0 ? 0 : q > 255 ? 255 : q;
      px[4 * k] = LUT[3 * q]; px[4 * k + 1] = LUT[3 * q + 1]; px[4 * k + 2] = LUT[3 * q + 2]; px[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return c;
  }

  function legend(container, lo, hi, title, width, diverging) {
    const bw = width || 160;
    const wrap = document.createElement('span');
    wrap.className = 'legend';
    wrap.setAttribute('role', 'img');
    wrap.setAttribute('aria-label', diverging
      ? title + ': diverging colour scale from ' + fmt(lo) + ' (purple, negative) through 0 (white) to ' + fmt(hi) + ' (orange, positive)'
      : title + ': viridis colour scale from ' + fmt(lo) + ' (dark purple) to ' + fmt(hi) + ' (yellow)');
    const label = document.createElement('span');
    label.textContent = title;
    const a = document.createElement('span'); a.textContent = fmt(lo);
    const bar = document.createElement('canvas');
    const ctx = sizeCanvas(bar, bw, 12);
    for (let x = 0; x < bw; x++) {
      const t = x / (bw - 1);
      ctx.fillStyle = diverging ? divergingColour(2 * t - 1) : cssColour(t);
      ctx.fillRect(x, 0, 1, 12);
    }
    const b = document.createElement('span'); b.textContent = fmt(hi);
    wrap.append(label, a, bar, b);
    container.append(wrap);
    return wrap;
  }

  const tooltip = $('tooltip');
  function showTip(ev, text) {
    tooltip.textContent = text;
    tooltip.hidden = false;
    tooltip.style.left = (ev.clientX + 12) + 'px';
    tooltip.style.top = (ev.clientY + 12) + 'px';
  }
  const hideTip = () => { tooltip.hidden = true; };

  // Cell (row, column) of an n x n heatmap under the mouse.
  function cellAt(ev, canvas) {
    const r = canvas.getBoundingClientRect();
    const col = Math.floor((ev.clientX - r.left) / r.width * n), row = Math.floor((ev.clientY - r.top) / r.height * n);
    return row >= 0 && row < n && col >= 0 && col < n ? [row, col] : null;
  }

  // ---- controls -------------------------------------------------------------------------------------------------
  const layerSelect = $('layer-select'), tokenSelect = $('token-select');
  for (let l = 0; l < L; l++) layerSelect.add(new Option('layer ' + l, String(l)));
  tokenSelect.add(new Option('none', '-1'));
  for (let i = 0; i < n; i++) tokenSelect.add(new Option(i + ': ' + tokenLabel(i), String(i)));
  const neuronHeadSelect = $('neuron-head-select');
  for (let h = 0; h < H; h++) neuronHeadSelect.add(new Option('head ' + h, String(h)));
  const saliencySelect = $('saliency-method-select');
  methods.forEach((m, k) => saliencySelect.add(new Option(m.name, String(k))));
  if (isPair) $('pair-filter-label').hidden = false;

  layerSelect.addEventListener('change', () => { state.layer = +layerSelect.value; render(); });
  tokenSelect.addEventListener('change', () => selectToken(+tokenSelect.value));
  $('pair-filter').addEventListener('change', e => { state.filter = e.target.value; render(); });
  neuronHeadSelect.addEventListener('change', () => { state.neuronHead = +neuronHeadSelect.value; render(); });
  saliencySelect.addEventListener('change', () => { state.saliencyMethod = +saliencySelect.value; render(); });

  function selectToken(i) {
    state.token = i >= 0 && i < n ? i : -1;
    tokenSelect.value = String(state.token);
    render();
  }
  function setLayer(l) { state.layer = l; layerSelect.value = String(l); }

  // Tabs: roving tabindex, arrow keys move between them (WAI-ARIA tabs pattern).
  const tabs = Array.from(document.querySelectorAll('[role=tab]'));
  function showView(view, focus) {
    state.view = view;
    for (const tab of tabs) {
      const on = tab.dataset.view === view;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      $(tab.getAttribute('aria-controls')).hidden = !on;
      if (on && focus) tab.focus();
    }
    $('pair-filter-label').hidden = !(isPair && view === 'head');
    $('neuron-head-label').hidden = view !== 'neuron';
    $('saliency-method-label').hidden = view !== 'method' || methods.length === 0;
    return render();
  }
  tabs.forEach((tab, k) => {
    tab.addEventListener('click', () => showView(tab.dataset.view, false));
    tab.addEventListener('keydown', e => {
      let to = -1;
      if (e.key === 'ArrowRight') to = (k + 1) % tabs.length;
      else if (e.key === 'ArrowLeft') to = (k + tabs.length - 1) % tabs.length;
      else if (e.key === 'Home') to = 0;
      else if (e.key === 'End') to = tabs.length - 1;
      if (to >= 0) { e.preventDefault(); showView(tabs[to].dataset.view, true); }
    });
  });

  // Arrow keys on a focused canvas move the selected token.
  function tokenKeys(canvas) {
    canvas.addEventListener('keydown', e => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowRight') selectToken(state.token < 0 ? 0 : Math.min(n - 1, state.token + 1));
      else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') selectToken(state.token < 0 ? 0 : Math.max(0, state.token - 1));
      else if (e.key === 'Home') selectToken(0);
      else if (e.key === 'End') selectToken(n - 1);
      else if (e.key === 'Escape') selectToken(-1);
      else return;
      e.preventDefault();
    });
  }

  // ---- head view ------------------------------------------------------------------------------------------------
  const headToggles = $('head-toggles');
  const toggleButtons = [];
  for (let h = 0; h < H; h++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'head-toggle';
    b.setAttribute('role', 'switch');
    b.dataset.head = String(h);
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = headColour(h);
    b.append(sw, document.createTextNode('head ' + h));
    b.addEventListener('click', () => { state.heads[h] = !state.heads[h]; render(); });
    b.addEventListener('dblclick', () => { state.heads.fill(false); state.heads[h] = true; render(); });
    headToggles.append(b);
    toggleButtons.push(b);
  }
  for (const [label, value] of [['all heads', true], ['no heads', false]]) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'head-toggle';
    b.textContent = label;
    b.addEventListener('click', () => { state.heads.fill(value); render(); });
    headToggles.append(b);
  }

  const headCanvas = $('head-canvas');
  const rowH = n > 128 ? 13 : 18, labelW = 120, gap = 300, topPad = 8;
  const headRowY = i => topPad + i * rowH + rowH / 2;
  function inFilter(i, side) {
    if (!isPair || state.filter === 'all') return true;
    const want = state.filter[side] === 'A' ? 0 : 1;
    return data.segments[i] === want;
  }

  function drawHead() {
    const blockW = 6, w = 2 * labelW + gap + H * blockW + 8, h = topPad * 2 + n * rowH;
    const ctx = sizeCanvas(headCanvas, w, h);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, w, h);
    const xl = labelW, xr = labelW + gap;
    const focus = state.hover >= 0 ? state.hover : state.token;
    let lines = 0;
    ctx.lineWidth = n > 128 ? 1 : 2;
    const buckets = 16, minWeight = focus >= 0 ? 0.5 / 255 : 0.02;
    for (let hd = 0; hd < H; hd++) {
      if (!state.heads[hd]) continue;
      const A = attn(state.layer, hd);
      const paths = Array.from({ length: buckets }, () => new Path2D());
      const used = new Uint8Array(buckets);
      const from = focus >= 0 ? [focus] : Array.from({ length: n }, (_, i) => i);
      for (const i of from) {
        if (!inFilter(i, 0)) continue;
        const y0 = headRowY(i), row = i * n;
        for (let j = 0; j < n; j++) {
          const a = A[row + j];
          if (a < minWeight || !inFilter(j, 1)) continue;
          const b = Math.min(buckets - 1, Math.floor(a * buckets));
          paths[b].moveTo(xl, y0);
          paths[b].lineTo(xr, headRowY(j));
          used[b] = 1;
          lines++;
        }
      }
      ctx.strokeStyle = headColour(hd);
      for (let b = 0; b < buckets; b++) {
        if (!used[b]) continue;
        ctx.globalAlpha = Math.min(1, (b + 1) / buckets * (focus >= 0 ? 1 : 0.8));
        ctx.stroke(paths[b]);
      }
    }
    ctx.globalAlpha = 1;
    ctx.font = (rowH > 14 ? 13 : 11) + 'px ui-monospace, monospace';
    ctx.textBaseline = 'middle';
    for (let i = 0; i < n; i++) {
      const y = headRowY(i), segB = data.segments[i] === 1;
      for (const side of [0, 1]) {
        const selected = side === 0 && i === focus;
        const dim = !inFilter(i, side);
        if (selected) { ctx.fillStyle = '#ffd6ea'; ctx.fillRect(side ? xr + 2 : 0, y - rowH / 2, labelW - 2, rowH); }
        ctx.fillStyle = dim ? '#bbb' : segB ? '#1f5fbf' : '#1b1b1f';
        ctx.textAlign = side ? 'left' : 'right';
        ctx.fillText(tokenLabel(i), side ? xr + 6 : xl - 6, y, labelW - 8);
      }
    }
    // BertViz's per-head boxes: beside each key token, one box per head whose opacity is the focus token's attention to it.
    if (focus >= 0) {
      const xb = xr + labelW;
      for (let hd = 0; hd < H; hd++) {
        if (!state.heads[hd]) continue;
        const A = attn(state.layer, hd);
        ctx.fillStyle = headColour(hd);
        for (let j = 0; j < n; j++) {
          if (!inFilter(j, 1)) continue;
          ctx.globalAlpha = Math.min(1, A[focus * n + j]);
          ctx.fillRect(xb + hd * blockW, headRowY(j) - rowH / 2 + 1, blockW - 1, rowH - 2);
        }
      }
      ctx.globalAlpha = 1;
    }
    headCanvas.dataset.lines = String(lines);
    headCanvas.dataset.layer = String(state.layer);
    toggleButtons.forEach((b, k) => b.setAttribute('aria-checked', String(state.heads[k])));
    $('status').textContent = 'Layer ' + state.layer + ', ' + state.heads.filter(x => x).length + ' of ' + H + ' heads, ' +
      (focus >= 0 ? 'token ' + focus + ' "' + tokenLabel(focus) + '"' : 'all tokens (weights \u2265 0.02)') + ': ' + lines + ' lines.';
  }
  const headRowAt = ev => {
    const r = headCanvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    const i = Math.floor((y - topPad) / rowH);
    return x <= labelW + 10 && i >= 0 && i < n ? i : -1;
  };
  headCanvas.addEventListener('mousemove', ev => {
    const i = headRowAt(ev);
    if (i !== state.hover) { state.hover = i; drawHead(); }
  });
  headCanvas.addEventListener('mouseleave', () => { if (state.hover !== -1) { state.hover = -1; drawHead(); } });
  headCanvas.addEventListener('click', ev => { const i = headRowAt(ev); if (i >= 0) { state.hover = -1; selectToken(state.token === i ? -1 : i); } });
  tokenKeys(headCanvas);

  // ---- model view -----------------------------------------------------------------------------------------------
  const modelGrid = $('model-grid');
  const thumbSize = n <= 40 ? n * Math.ceil(80 / n) : 80;
  let modelBuilt = false;
  const thumbs = [];
  function buildModel() {
    if (modelBuilt) return;
    modelBuilt = true;
    legend($('model-legend'), 0, 1, 'attention probability');
    modelGrid.style.gridTemplateColumns = '60px repeat(' + H + ', ' + (thumbSize + 4) + 'px)';
    modelGrid.append(document.createElement('span'));
    for (let h = 0; h < H; h++) { const s = document.createElement('span'); s.className = 'grid-label'; s.textContent = 'head ' + h; modelGrid.append(s); }
    const scratch = document.createElement('canvas');
    for (let l = 0; l < L; l++) {
      const s = document.createElement('span'); s.className = 'grid-label'; s.textContent = 'layer ' + l; modelGrid.append(s);
      for (let h = 0; h < H; h++) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'thumb';
        b.setAttribute('aria-pressed', 'false');
        b.setAttribute('aria-label', 'layer ' + l + ' head ' + h + ': enlarge');
        b.dataset.layer = String(l); b.dataset.head = String(h);
        const c = document.createElement('canvas');
        c.width = thumbSize; c.height = thumbSize;
        c.style.width = thumbSize + 'px'; c.style.height = thumbSize + 'px';
        const ctx = c.getContext('2d');
        ctx.imageSmoothingEnabled = n > thumbSize;
        ctx.drawImage(matrixCanvas(attn(l, h), 0, 1, scratch), 0, 0, thumbSize, thumbSize);
        b.append(c);
        b.addEventListener('click', () => { state.modelDetail = [l, h]; setLayer(l); render(); });
        modelGrid.append(b);
        thumbs.push(b);
      }
    }
  }

  // A large heatmap with token labels (when they fit) and hover values.
  function drawDetail(canvas, values, lo, hi, selectedRow) {
    const cell = Math.max(2, Math.min(28, Math.floor(900 / n))), showLabels = cell >= 9;
    const margin = showLabels ? 90 : 4, size = cell * n;
    const ctx = sizeCanvas(canvas, margin + size + 4, margin + size + 4);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, margin + size + 4, margin + size + 4);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(matrixCanvas(values, lo, hi), margin, margin, size, size);
    if (showLabels) {
      ctx.fillStyle = '#1b1b1f';
      ctx.font = Math.min(12, cell) + 'px ui-monospace, monospace';
      ctx.textBaseline = 'middle';
      for (let i = 0; i < n; i++) {
        ctx.textAlign = 'right';
        ctx.fillText(tokenLabel(i), margin - 4, margin + (i + 0.5) * cell, margin - 6);
        ctx.save();
        ctx.translate(margin + (i + 0.5) * cell, margin - 4);
        ctx.rotate(-Math.PI / 2);
        ctx.textAlign = 'left';
        ctx.fillText(tokenLabel(i), 0, 0, margin - 6);
        ctx.restore();
      }
    }
    if (selectedRow >= 0) {
      ctx.strokeStyle = '#ff2d95'; ctx.lineWidth = 2;
      ctx.strokeRect(margin, margin + selectedRow * cell, size, cell);
    }
    canvas.onmousemove = ev => {
      const r = canvas.getBoundingClientRect();
      const j = Math.floor((ev.clientX - r.left - margin) / cell), i = Math.floor((ev.clientY - r.top - margin) / cell);
      if (i >= 0 && i < n && j >= 0 && j < n) showTip(ev, i + ' ' + tokenLabel(i) + ' \u2190 ' + j + ' ' + tokenLabel(j) + ': ' + fmt(values[i * n + j]));
      else hideTip();
    };
    canvas.onmouseleave = hideTip;
    canvas.onclick = ev => {
      const r = canvas.getBoundingClientRect();
      const i = Math.floor((ev.clientY - r.top - margin) / cell);
      if (i >= 0 && i < n) selectToken(i);
    };
  }

  function drawModel() {
    buildModel();
    const d = state.modelDetail;
    thumbs.forEach(b => b.setAttribute('aria-pressed', String(d !== null && +b.dataset.layer === d[0] && +b.dataset.head === d[1])));
    $('model-detail').hidden = d === null;
    if (d !== null) {
      $('model-detail-caption').textContent = 'Layer ' + d[0] + ', head ' + d[1] + ': attention probabilities (row: query token, column: key token)';
      drawDetail($('model-detail-canvas'), attn(d[0], d[1]), 0, 1, state.token);
    }
    $('status').textContent = L + ' layers \u00d7 ' + H + ' heads' + (d ? '; enlarged layer ' + d[0] + ' head ' + d[1] : '') + '.';
  }
  tokenKeys($('model-detail-canvas'));

  // ---- neuron view ----------------------------------------------------------------------------------------------
  const neuronCanvas = $('neuron-canvas');
  function drawNeuron() {
    const l = state.layer, hd = state.neuronHead, i = state.token >= 0 ? state.token : 0, d = H * dh;
    const Q = query.slice(l), K = key.slice(l), A = attn(l, hd);
    const q = Q.subarray(i * d + hd * dh, i * d + (hd + 1) * dh);
    const prod = new Float32Array(n * dh), score = new Float32Array(n);
    let mv = 1e-12, mp = 1e-12;
    for (let k = 0; k < dh; k++) mv = Math.max(mv, Math.abs(q[k]));
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dh; k++) {
        const kv = K[j * d + hd * dh + k], p = q[k] * kv;
        prod[j * dh + k] = p; s += p;
        mv = Math.max(mv, Math.abs(kv)); mp = Math.max(mp, Math.abs(p));
      }
      score[j] = s / Math.sqrt(dh);
    }
    let smin = Infinity, smax = -Infinity;
    for (let j = 0; j < n; j++) { smin = Math.min(smin, score[j]); smax = Math.max(smax, score[j]); }
    const leg = $('neuron-legends');
    leg.textContent = '';
    legend(leg, -mv, mv, 'q, k');
    legend(leg, -mp, mp, 'q \u00d7 k');

    const cw = dh > 64 ? 4 : dh > 32 ? 6 : 9, rh = n > 128 ? 12 : 16, lw = 110, barW = 110;
    const colK = lw + 8, colP = colK + dh * cw + 16, colS = colP + dh * cw + 16, colA = colS + barW + 16, colT = colA + barW + 8;
    const top = 2 * rh + 30;
    const w = colT + lw, h = top + n * rh + 8;
    const ctx = sizeCanvas(neuronCanvas, w, h);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#1b1b1f';
    ctx.textAlign = 'left';
    ctx.fillText('query q of "' + tokenLabel(i) + '" (token ' + i + '), layer ' + l + ', head ' + hd, 4, rh / 2 + 2);
    const cellColour = (v, m) => cssColour((v / m + 1) / 2);
    for (let k = 0; k < dh; k++) { ctx.fillStyle = cellColour(q[k], mv); ctx.fillRect(colK + k * cw, rh + 4, cw - 1, rh - 2); }
    const hy = top - 12;
    ctx.fillStyle = '#5b5b66';
    ctx.fillText('key k', colK, hy); ctx.fillText('q \u00d7 k', colP, hy);
    ctx.fillText('q\u00b7k/\u221ad', colS, hy); ctx.fillText('softmax', colA, hy);
    const zero = colS + barW * (smax > 0 && smin < 0 ? -smin / (smax - smin) : smin >= 0 ? 0 : 1);
    const span = Math.max(smax, 0) - Math.min(smin, 0) || 1;
    for (let j = 0; j < n; j++) {
      const y = top + j * rh;
      ctx.fillStyle = j === i ? '#c2185b' : data.segments[j] === 1 ? '#1f5fbf' : '#1b1b1f';
      ctx.textAlign = 'right';
      ctx.fillText(tokenLabel(j), lw, y + rh / 2, lw - 4);
      for (let k = 0; k < dh; k++) {
        ctx.fillStyle = cellColour(K[j * d + hd * dh + k], mv); ctx.fillRect(colK + k * cw, y + 1, cw - 1, rh - 2);
        ctx.fillStyle = cellColour(prod[j * dh + k], mp); ctx.fillRect(colP + k * cw, y + 1, cw - 1, rh - 2);
      }
      const sw = score[j] / span * barW;
      ctx.fillStyle = score[j] >= 0 ? '#0072B2' : '#D55E00';
      ctx.fillRect(Math.min(zero, zero + sw), y + 2, Math.abs(sw), rh - 4);
      const a = A[i * n + j];
      ctx.fillStyle = '#009E73';
      ctx.fillRect(colA, y + 2, a * barW, rh - 4);
      ctx.fillStyle = '#1b1b1f';
      ctx.textAlign = 'left';
      ctx.fillText(a.toFixed(3), colT, y + rh / 2);
    }
    neuronCanvas.dataset.token = String(i);
    neuronCanvas.dataset.head = String(hd);
    neuronCanvas.onmousemove = ev => {
      const r = neuronCanvas.getBoundingClientRect(), j = Math.floor((ev.clientY - r.top - top) / rh);
      if (j >= 0 && j < n) showTip(ev, tokenLabel(i) + ' \u2192 ' + tokenLabel(j) + ': score ' + fmt(score[j]) + ', softmax ' + fmt(A[i * n + j]));
      else hideTip();
    };
    neuronCanvas.onmouseleave = hideTip;
    $('status').textContent = 'Neuron view: layer ' + l + ', head ' + hd + ', query token ' + i + ' "' + tokenLabel(i) + '".';
  }
  tokenKeys(neuronCanvas);

  // ---- method view ----------------------------------------------------------------------------------------------
  const methodGrid = $('method-grid');
  const mapSize = Math.max(60, Math.min(180, Math.floor(1100 / Math.max(1, L))));
  let methodBuilt = false;
  const heatmaps = [];
  function buildMethods() {
    if (methodBuilt) return;
    methodBuilt = true;
    buildTokenScores();
    if (methods.length === 0) {
      if (tokenMethods.length === 0) methodGrid.textContent = 'No methods were requested (view --methods \u2026).';
      return;
    }
    methodGrid.style.gridTemplateColumns = '220px repeat(' + L + ', ' + (mapSize + 4) + 'px)';
    methodGrid.append(document.createElement('span'));
    for (let l = 0; l < L; l++) { const s = document.createElement('span'); s.className = 'grid-label'; s.textContent = 'layer ' + l; methodGrid.append(s); }
    methods.forEach((m, k) => {
      const head = document.createElement('div');
      head.className = 'method-head';
      head.dataset.method = m.name;
      const title = document.createElement('strong'); title.textContent = m.name;
      const desc = document.createElement('span'); desc.className = 'desc'; desc.textContent = m.description;
      head.append(title, desc, document.createElement('br'));
      legend(head, m.lo, m.hi, '', 90);
      methodGrid.append(head);
      for (let l = 0; l < L; l++) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'heatmap';
        b.dataset.method = m.name; b.dataset.layer = String(l);
        b.setAttribute('aria-pressed', 'false');
        b.setAttribute('aria-label', m.name + ', layer ' + l + ': select layer and enlarge');
        const c = matrixCanvas(m.scores.slice(l), m.lo, m.hi);
        c.style.width = mapSize + 'px'; c.style.height = mapSize + 'px';
        const mark = document.createElement('span');
        mark.className = 'row-mark';
        mark.hidden = true;
        b.append(c, mark);
        b.addEventListener('mousemove', ev => {
          const cell = cellAt(ev, c);
          if (cell) showTip(ev, m.name + ' L' + l + ': ' + cell[0] + ' ' + tokenLabel(cell[0]) + ' \u2190 ' + cell[1] + ' ' + tokenLabel(cell[1]) + ' = ' + fmt(m.scores.slice(l)[cell[0] * n + cell[1]]));
        });
        b.addEventListener('mouseleave', hideTip);
        b.addEventListener('click', ev => {
          const cell = ev.detail > 0 ? cellAt(ev, c) : null;
          state.methodDetail = [k, l];
          state.saliencyMethod = k; saliencySelect.value = String(k);
          setLayer(l);
          if (cell) selectToken(cell[0]); else render();
        });
        methodGrid.append(b);
        heatmaps.push({ button: b, mark, k, l });
      }
    });
  }

  // ---- token methods: one score per token (saliency, gradient x input, integrated gradients) ----------------------
  // A saliency bar per method over the input text: viridis over [min, max], or for signed scores the diverging scale
  // over [-max|s|, max|s|] (orange: evidence for the target class, purple: against it).
  const tokenBox = $('token-scores');
  const tokenRows = [];
  function tokenColour(m, v) {
    if (m.signed) { const t = v / m.hi; return [divergingColour(t), divergingText(t), divergingRgb(t)]; }
    const t = (v - m.lo) / (m.hi - m.lo), i = 3 * lutIndex(t);
    return [cssColour(t), textOn(t), [LUT[i], LUT[i + 1], LUT[i + 2]]];
  }
  let tokenBuilt = false;
  function buildTokenScores() {
    if (tokenBuilt) return;
    tokenBuilt = true;
    tokenBox.hidden = tokenMethods.length === 0;
    if (tokenMethods.length === 0) return;
    const caption = document.createElement('span');
    caption.className = 'caption';
    caption.textContent = 'One score per input token' + (data.target ? ', explaining class ' + data.target.id + ' "' + data.target.label + '"' : '') +
      '. Click a token to select it.';
    tokenBox.append(caption);
    for (const m of tokenMethods) {
      const row = document.createElement('div');
      row.className = 'token-row';
      row.dataset.method = m.name;
      const head = document.createElement('div');
      head.className = 'method-head';
      head.dataset.method = m.name;
      const title = document.createElement('strong'); title.textContent = m.name;
      const desc = document.createElement('span'); desc.className = 'desc'; desc.textContent = m.description;
      head.append(title, desc, document.createElement('br'));
      legend(head, m.lo, m.hi, '', 90, m.signed);
      const bar = document.createElement('div');
      bar.className = 'token-bar';
      bar.setAttribute('role', 'list');
      bar.setAttribute('aria-label', m.name + ': one score per token');
      const S = m.scores.slice(0), chips = [];
      for (let j = 0; j < n; j++) {
        const s = document.createElement('span');
        s.className = 'sal';
        s.setAttribute('role', 'listitem');
        s.textContent = tokenLabel(j);
        s.dataset.index = String(j);
        const [bg, fg] = tokenColour(m, S[j]);
        s.style.background = bg;
        s.style.color = fg;
        s.title = tokenLabel(j) + ': ' + fmt(S[j]);
        chips.push(s);
        bar.append(s);
        if (j + 1 < n && data.segments[j + 1] !== data.segments[j]) bar.append(document.createElement('br'));
        else bar.append(document.createTextNode(' '));
      }
      bar.addEventListener('click', ev => { const j = ev.target.dataset && ev.target.dataset.index; if (j !== undefined) selectToken(+j); });
      row.append(head, bar);
      tokenBox.append(row);
      tokenRows.push({ m, chips });
    }
  }
  function drawTokenScores() {
    for (const r of tokenRows) r.chips.forEach((c, j) => c.classList.toggle('selected', j === state.token));
  }

  function drawSaliency() {
    const box = $('saliency');
    box.textContent = '';
    box.hidden = methods.length === 0;
    if (methods.length === 0) return;
    const m = methods[state.saliencyMethod], l = state.layer, i = state.token;
    const caption = document.createElement('span');
    caption.className = 'caption';
    const values = new Float32Array(n);
    if (i >= 0) {
      const S = m.scores.slice(l);
      for (let j = 0; j < n; j++) values[j] = S[i * n + j];
      caption.textContent = 'Saliency: how much token ' + i + ' "' + tokenLabel(i) + '" draws on each input token (' + m.name + ', layer ' + l + '; colour scale ' + fmt(m.lo) + ' to ' + fmt(m.hi) + '). Click a token to select it.';
    } else {
      caption.textContent = 'Select a token (click one below, the Token list, or a heatmap row) to see what it draws on (' + m.name + ', layer ' + l + ').';
    }
    box.append(caption);
    const frag = document.createDocumentFragment();
    for (let j = 0; j < n; j++) {
      const s = document.createElement('span');
      s.className = 'sal' + (j === i ? ' selected' : '');
      s.textContent = tokenLabel(j);
      s.dataset.index = String(j);
      if (i >= 0) {
        const t = (values[j] - m.lo) / (m.hi - m.lo);
        s.style.background = cssColour(t);
        s.style.color = textOn(t);
        s.title = fmt(values[j]);
      }
      frag.append(s);
      if (j + 1 < n && data.segments[j + 1] !== data.segments[j]) frag.append(document.createElement('br'));
      else frag.append(document.createTextNode(' '));
    }
    box.append(frag);
  }
  $('saliency').addEventListener('click', ev => { const j = ev.target.dataset && ev.target.dataset.index; if (j !== undefined) selectToken(+j); });

  function drawMethods() {
    buildMethods();
    drawTokenScores();
    drawSaliency();
    for (const hm of heatmaps) {
      hm.button.setAttribute('aria-pressed', String(hm.l === state.layer && hm.k === state.saliencyMethod));
      hm.mark.hidden = state.token < 0;
      if (state.token >= 0) {
        hm.mark.style.top = (state.token / n * mapSize) + 'px';
        hm.mark.style.height = Math.max(2, mapSize / n) + 'px';
      }
    }
    const d = state.methodDetail;
    $('method-detail').hidden = d === null;
    if (d !== null) {
      const m = methods[d[0]];
      $('method-detail-caption').textContent = m.name + ', layer ' + d[1] + ' (row: output token, column: input token)';
      drawDetail($('method-detail-canvas'), m.scores.slice(d[1]), m.lo, m.hi, state.token);
    }
    $('status').textContent = methods.length + ' methods \u00d7 ' + L + ' layers: ' + methods.map(m => m.name).join(', ') +
      (tokenMethods.length ? '; ' + tokenMethods.length + ' per-token: ' + tokenMethods.map(m => m.name).join(', ') : '') + '.';
  }
  tokenKeys($('method-detail-canvas'));

  // ---- PNG export -----------------------------------------------------------------------------------------------
  // A grid of heatmaps (rows x cols), then one strip per token method ([1, n] cells across the grid's width).
  function compositeOfGrid(items, cols, size, rowLabels, colLabels, strips) {
    const lw = 150, top = 24, cell = size + 6, stripH = 24;
    strips = strips || [];
    const w = lw + Math.max(1, cols) * cell, h = top + rowLabels.length * cell + strips.length * (stripH + 6);
    const out = document.createElement('canvas');
    const ctx = sizeCanvas(out, w, h);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
    ctx.font = '12px system-ui, sans-serif'; ctx.fillStyle = '#1b1b1f'; ctx.textBaseline = 'middle';
    colLabels.forEach((s, c) => ctx.fillText(s, lw + c * cell, top / 2));
    rowLabels.forEach((s, r) => ctx.fillText(s, 4, top + r * cell + size / 2, lw - 8));
    ctx.imageSmoothingEnabled = n > size;
    for (const it of items) ctx.drawImage(it.canvas, lw + it.col * cell, top + it.row * cell, size, size);
    strips.forEach((m, r) => {
      const y = top + rowLabels.length * cell + r * (stripH + 6), S = m.scores.slice(0), cw = (w - lw - 6) / n;
      ctx.fillStyle = '#1b1b1f';
      ctx.fillText(m.name, 4, y + stripH / 2, lw - 8);
      for (let j = 0; j < n; j++) { ctx.fillStyle = tokenColour(m, S[j])[0]; ctx.fillRect(lw + j * cw, y, Math.max(1, cw - (cw > 4 ? 1 : 0)), stripH); }
    });
    return out;
  }
  function exportCanvas() {
    if (state.view === 'head') return headCanvas;
    if (state.view === 'neuron') return neuronCanvas;
    if (state.view === 'model') {
      buildModel();
      const items = thumbs.map(b => ({ canvas: b.querySelector('canvas'), row: +b.dataset.layer, col: +b.dataset.head }));
      return compositeOfGrid(items, H, thumbSize, Array.from({ length: L }, (_, l) => 'layer ' + l), Array.from({ length: H }, (_, h) => 'head ' + h));
    }
    buildMethods();
    const items = heatmaps.map(hm => ({ canvas: hm.button.querySelector('canvas'), row: hm.k, col: hm.l }));
    return compositeOfGrid(items, L, mapSize, methods.map(m => m.name), Array.from({ length: L }, (_, l) => 'layer ' + l), tokenMethods);
  }
  $('export-png').addEventListener('click', () => render().then(() => {
    const canvas = exportCanvas();
    canvas.toBlob(blob => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'mixlens-' + state.view + '-' + data.model + '.png';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      $('status').textContent = 'Saved ' + a.download + ' (' + canvas.width + ' \u00d7 ' + canvas.height + ' px).';
    }, 'image/png');
  }));

  // ---- render ---------------------------------------------------------------------------------------------------
  // The chunks a view needs: [tensor, layer] pairs.
  function needs() {
    if (state.view === 'head') return [[attention, state.layer]];
    if (state.view === 'model') return allLayers(attention);
    if (state.view === 'neuron') return [[attention, state.layer], [query, state.layer], [key, state.layer]];
    return [].concat(...methods.map(m => allLayers(m.scores)), tokenMethods.map(m => [m.scores, 0]));
  }
  let renderGeneration = 0, draws = 0;
  function render() {
    const generation = ++renderGeneration;
    const missing = needs().filter(([t, c]) => !t.chunks[c]);
    if (missing.length > 0) {
      $('status').textContent = 'Decoding ' + missing.length + ' layer block(s)\u2026';
      return Promise.all(missing.map(([t, c]) => t.load(c))).then(() => { if (generation === renderGeneration) return render(); }, fail);
    }
    hideTip();
    if (state.view === 'head') drawHead();
    else if (state.view === 'model') drawModel();
    else if (state.view === 'neuron') drawNeuron();
    else drawMethods();
    // For tests: which view was drawn last, and how many draws so far.
    document.documentElement.dataset.drawn = state.view;
    document.documentElement.dataset.draws = String(++draws);
    return Promise.resolve();
  }
  function fail(e) {
    $('status').textContent = 'The view could not be drawn: ' + e.message;
    throw e;
  }
  // After the first view is up, decode the rest in the background so that switching views is instant.
  async function prefetch() {
    for (const t of [attention, query, key].concat(decoded.map(m => m.scores)))
      for (let c = 0; c < t.chunks.length; c++) { await t.load(c); await new Promise(r => setTimeout(r, 0)); }
  }

  $('title').textContent = 'MixLens \u00b7 ' + data.model;
  $('subtitle').textContent = n + ' tokens, ' + L + ' layers, ' + H + ' heads \u00b7 ' + data.text + (isPair ? '  \u2016  ' + data.textPair : '');
  // Read-only hooks for tests and the console.
  window.mixlens = { data, state, exportCanvas, methods: decoded.map(m => m.name), tokenMethods: tokenMethods.map(m => m.name), tokens: data.tokens };
  await showView('head', false);
  requestAnimationFrame(() => {
    const done = performance.now();
    // renderMs: from this script's start; readyAt: from navigation start (performance.timeOrigin).
    document.documentElement.dataset.renderMs = (done - t0).toFixed(1);
    document.documentElement.dataset.readyAt = done.toFixed(1);
    setTimeout(() => prefetch().catch(fail), 0);
  });
})().catch(e => {
  const p = document.getElementById('status');
  if (p) p.textContent = 'The view could not be drawn: ' + e.message;
  throw e;
});
