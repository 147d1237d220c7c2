// Methods added to plotly's FigureWidget view (the class that draws the figure in JupyterLab) by
// tyshare_lib/viz/explorer.py:_live_bundle(). This file is a class body fragment, not a module: each entry is a
// method; `__PLOTLY__` is replaced by the bundle's name for plotly.js. See explorer.py for why.
//
// The overlay: a key press on a live explorer moves a few traces (markers, bars, a small image) and changes the
// title. plotly.js redraws a whole figure for any data change, and the chapters' figures are big (subplots,
// contour lines, legends), so Python sends such a change, when it cannot move any axis, as an "animate" message
// marked `tyOverlay`. The first one splits the figure in two: the big figure keeps everything else, its axes and
// margins frozen where they are, the moving traces emptied (their legend entries stay) and its title transparent;
// a small figure laid exactly over it (same size, plot area, axes and categories, the axes drawn invisible) holds
// the moving traces, every trace plotly draws above them on their subplots, the shapes drawn above traces there,
// and the title. Every later such change redraws only the small figure (and, for a new range of a fixed axis,
// moves that axis in both), or, where it can, moves its elements without plotly.js (the quick move, below).
// Anything else (a change from Python, a zoom, a legend click, a resize, the pointer over the figure: hover needs
// the real traces) merges the two back.
_tyDefer(k, id) {
  var s = this;
  s._tyIds = s._tyIds || {};
  s._tyT = s._tyT || {};
  s._tyIds[k] = id;
  clearTimeout(s._tyT[k]);
  s._tyT[k] = setTimeout(function () {
    if (!s.el || !s.el._fullLayout) return;
    if (s._tyOv) return;  // split: the big figure's emptied traces are not Python's state (sent after the merge)
    k === 'L' ? s._sendLayoutDeltaNow(s._tyIds.L) : s._sendTraceDeltasNow(s._tyIds.T);
  }, __DELAY__);
}
_tyGet(obj, path) {
  var parts = path.split('.');
  for (var i = 0; i < parts.length; i++) {
    if (obj === null || obj === undefined) return undefined;
    obj = obj[parts[i]];
  }
  return obj;
}
_tyClone(x) {  // typed arrays (numpy arrays from Python) stay typed arrays
  if (x === undefined) return undefined;
  return typeof structuredClone === 'function' ? structuredClone(x) : JSON.parse(JSON.stringify(x));
}
_tyRank(t) {  // the order plotly.js draws a subplot's traces in: by zorder, by layer (images first), by index
  var layers = {image: 0, heatmap: 1, contour: 3, bar: 6, histogram: 6, box: 9, violin: 8};
  return ((t.zorder || 0) + 1000) * 1e9 + (t.type in layers ? layers[t.type] : 12) * 1e6 + t.index;
}
_tyOverlay(msg) {
  var P = __PLOTLY__, el = this.el, self = this;
  var data = this.model.get('_widget_data');
  var traces = this.model._normalize_trace_indexes(msg.style_traces);
  var styles = msg.style_data || [], lay = msg.layout_data || {};
  this._tyIds = this._tyIds || {};  // the edit this redraw answers: the report after the merge names it
  this._tyIds.L = msg.layout_edit_id;
  this._tyIds.T = msg.trace_edit_id;
  var keys = {};
  styles.forEach(function (s) { Object.keys(s || {}).forEach(function (k) { keys[k] = 1; }); });
  keys = Object.keys(keys);
  var values = function () {  // the changed properties' current values (the model holds them), as a restyle
    var st = {};
    keys.forEach(function (k) {
      st[k] = traces.map(function (i) {  // a property Python removed: null (plotly reads undefined as 'unchanged')
        var v = self._tyClone(self._tyGet(data[i], k));
        return v === undefined ? null : v;
      });
    });
    return st;
  };
  var ov = this._tyOv, moving = traces;
  if (ov && !traces.every(function (i) { return ov.moving.indexOf(i) >= 0; })) {  // more traces move: split anew
    moving = ov.moving.concat(traces.filter(function (i) { return ov.moving.indexOf(i) < 0; }));
    this._tyMerge();
    ov = null;
  }
  if (!ov && !this._tySplit(moving)) {  // cannot split (no figure yet): the whole figure, as plotly would
    P.update(el, Object.assign(values(), {_doNotReportToPy: true}), this._tyClone(lay), traces);
    return;
  }
  ov = this._tyOv;
  keys.forEach(function (k) { ov.keys[k] = 1; });
  Object.keys(lay).forEach(function (k) { ov.lkeys[k] = 1; });
  // a new range for a fixed axis (Python sends no other axis change here): the big figure's axis moves, and its
  // other traces on it; the small figure's below. The merge sets the model's values (lkeys) after the saved ones.
  var axes = {};
  Object.keys(lay).forEach(function (k) { if (/^[xy]axis\d*\./.test(k)) axes[k] = self._tyClone(lay[k]); });
  if (Object.keys(axes).length) this._tyOwn(function () { return P.relayout(el, axes); });
  // traces whose points or bars alone moved, with at most a new title: moved here, in the small figure's SVG
  var layKeys = Object.keys(lay);
  if (!Object.keys(axes).length && layKeys.every(function (k) { return k === 'title.text'; }) &&
      this._tyQuick(ov, traces, keys)) {
    if (layKeys.length && !this._tyQuickTitle(ov.div, lay['title.text'])) P.relayout(ov.div, this._tyClone(lay));
    ov.div.emit('tyshare_moved', {traces: traces});
    return;
  }
  ov.quick = {};  // plotly redraws the small figure (its calcdata anew): what a quick move remembered is gone
  // the small figure's own indices
  P.update(ov.div, values(), this._tyClone(lay), traces.map(function (i) { return ov.moving.indexOf(i); }));
}
// A quick move. plotly.js redraws a whole figure for any change of data, about 2.5 ms a scatter trace on this
// machine (defaults, calcdata, every element), more in JupyterLab's page; a key press of the unrolled RNN moves
// twelve. When every changed trace is a scatter trace whose x, y or text alone changed (its 'toself' fill too), a
// bar trace whose lengths (and the plain labels inside them) alone changed, on linear, log or category axes (no new
// category), or a heatmap on linear axes whose values (and the words of its labels) alone changed, the small
// figure's elements are moved here as plotly.js places them (Drawing.translatePoint: a marker translated to
// (c2p(x), c2p(y)), a label's x and y set there, its group keeping plotly's offset; one path per line segment, the
// fill their closed join; bar/plot.js's rectangle from s0 to s1, stacked as plotly stacks, and its label as
// _tyBarLabels says; the heatmap's picture as _tyQuickImage paints it; new words in plotly's text elements, as
// _tyRetext writes them), and the model's values go into the small figure's data, from which plotly redraws it
// whenever it next does. A trace it cannot move so (another fill, a shape other than linear, new rich text or new
// tags, per-point styles with points coming or going, a bar's label outside it, bars in new places, an element to
// copy missing) makes it return false before anything is touched: plotly redraws as before. The tests compare the
// two pixel for pixel (tests/test_live_overlay.py); lines of many nearly straight points may differ by a pixel's
// antialiasing, where plotly.js leaves some points out, until the next whole redraw.
_tyQuick(ov, traces, keys) {
  var gd = ov.div, self = this;
  if (!gd._fullLayout || !gd.calcdata) return false;
  if (!keys.every(function (k) { return k === 'x' || k === 'y' || k === 'text' || k === 'z'; })) return false;
  var data = this.model.get('_widget_data');
  ov.quick = ov.quick || {};
  var ctx = {data: data, moving: ov.moving, changed: traces.map(function (i) { return ov.moving.indexOf(i); })};
  var plans = [];
  for (var n = 0; n < traces.length; n++) {
    var j = ctx.changed[n];
    var plan = this._tyQuickPlan(gd, j, data[traces[n]] || {}, ov.quick[j], ctx);
    if (!plan) return false;
    plans.push(plan);
  }
  this._tyBarLabels(plans, gd._fullLayout);
  plans.forEach(function (plan) {
    self._tyQuickDraw(plan);
    ov.quick[plan.j] = {node: plan.node, valid: plan.valid};
    (plan.image ? ['z', 'text'] : ['x', 'y', 'text']).forEach(function (k) {  // (a property Python removed: gone too)
      if (k in plan.t) gd.data[plan.j][k] = self._tyClone(plan.t[k]); else delete gd.data[plan.j][k];
    });
  });
  return true;
}
_tyQuickTitle(gd, text) {
  // a title's new text, the same tags and lines as before around new words (see _tyRetext): written into plotly's
  // element, which keeps its place and anchor (Titles.draw places a title by its x, y and anchors, not by its
  // width). plotly's relayout would first rebuild the defaults of the whole small figure (13 ms of the tying
  // explorer's 16).
  var el = gd.querySelector('.g-gtitle > text.gtitle'), fl = gd._fullLayout;
  text = text === null || text === undefined ? '' : String(text);
  // (Titles.draw trims a title and fills in %{...} from layout.meta: such titles are plotly's)
  var edits = el && text && text === text.trim() && text.indexOf('%{') < 0 && fl.title && !fl.title.automargin &&
    this._tyRetext(el, text);
  if (!edits) return false;
  this._tyRetextApply(el, text, edits);
  gd.layout.title = Object.assign({}, typeof gd.layout.title === 'object' ? gd.layout.title : {}, {text: text});
  fl.title.text = text;
  return true;
}
_tyRetext(el, text) {
  // the edits that make plotly's text element `el` read `text`, when `text` has the same tags, in the same order,
  // as the text el was written from (its data-unformatted), and only the words between them differ: plotly's
  // svg_text_utils.buildSVGText writes one text node for each piece between two tags (an empty one too), in order,
  // into tspans made for the tags and the lines (<br>). Tags that add nodes of their own (sup, sub, links), entities,
  // newlines and LaTeX ($) are left to plotly. null: not so.
  var before = el.getAttribute('data-unformatted');
  if (before === null || typeof text !== 'string') return null;
  var TAG = /(<[^<>]*>)/, KNOWN = /^<\/?(b|i|s|u|em|span|br)( [^>]*)?>$/i, ODD = /[<>&$\r\n]/;
  var a = before.split(TAG), b = text.split(TAG);
  if (a.length !== b.length) return null;
  var pieces = [];
  for (var i = 0; i < a.length; i++) {
    if (i % 2) {
      if (a[i] !== b[i] || !KNOWN.test(a[i])) return null;
    } else {
      if (ODD.test(a[i]) || ODD.test(b[i])) return null;
      pieces.push([a[i], b[i]]);
    }
  }
  var nodes = [], walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) nodes.push(walk.currentNode);
  if (nodes.length !== pieces.length) return null;
  for (i = 0; i < nodes.length; i++) if (nodes[i].data !== pieces[i][0]) return null;
  return nodes.map(function (node, k) { return [node, pieces[k][1]]; });
}
_tyRetextApply(el, text, edits) {
  edits.forEach(function (e) { if (e[0].data !== e[1]) e[0].data = e[1]; });
  el.setAttribute('data-unformatted', text);
}
_tyIsArr(v) { return Array.isArray(v) || ArrayBuffer.isView(v); }
_tyPlain(text) {  // text that svg_text_utils.convertToTspans writes as it is: no tags, entities or line breaks
  return !/[<>&\n\r]/.test(text);
}
_tySame(a, b) {  // two arrays (or two undefined) with the same values
  if (a === b) return true;
  if (!this._tyIsArr(a) || !this._tyIsArr(b) || a.length !== b.length) return false;
  for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
_tyQuickPlan(gd, j, t, last, ctx) {
  var fd = (gd._fullData || [])[j], cd = (gd.calcdata || [])[j], fl = gd._fullLayout;
  var isArr = this._tyIsArr;
  if (!fd || fd.visible !== true || !cd || !cd[0]) return null;
  var node = last ? last.node : cd[0].node3 && cd[0].node3.node();
  if (!node || !node.isConnected) return null;
  var xa = fl[this._tyAxisName(fd.xaxis)], ya = fl[this._tyAxisName(fd.yaxis)];
  if (fd.type === 'bar') return this._tyQuickBars(gd, j, t, node, xa, ya, ctx);
  if (fd.type === 'heatmap') return this._tyQuickImage(gd, j, t, node, xa, ya);
  if (fd.type !== 'scatter' || 'z' in (t || {}) && !this._tySame(t.z, gd.data[j].z)) return null;
  var plain = function (a) { return a && (a.type === 'linear' || a.type === 'log' || a.type === 'category'); };
  var mode = fd.mode || '', marker = fd.marker || {}, line = fd.line || {};
  var hasLines = mode.indexOf('lines') >= 0, hasMarkers = mode.indexOf('markers') >= 0;
  var hasText = mode.indexOf('text') >= 0;
  // a fill: only 'toself' (its path the lines' path, closed), when no other trace fills to this one
  var fills = [].slice.call(node.querySelectorAll('g.fills path.js-fill'));
  var toself = fd.fill === 'toself' && fills.length === 1 && !fd._nexttrace;
  if (!plain(xa) || !plain(ya) || (fd.fill && fd.fill !== 'none' && !toself) ||
      ((hasLines || toself) && line.shape !== 'linear') ||
      fd.stackgroup || fd.ids || fd.texttemplate || fd.selectedpoints || marker.maxdisplayed > 0 ||
      marker.angleref === 'previous' || (fd.error_x || {}).visible || (fd.error_y || {}).visible) return null;
  var y = t.y, x = t.x;
  if (!isArr(y) || (x !== undefined && !isArr(x))) return null;
  var n = x === undefined ? y.length : Math.min(x.length, y.length);
  var textOf = function (i) {  // what plotly writes (Lib.extractOption): an array's entry, else the one text
    var v = isArr(t.text) ? t.text[i] : t.text;
    return (v || v === 0) ? String(v) : '';
  };
  // per-point styles: each element keeps its own, so points may not come, go or change places
  var font = fd.textfont || {}, mline = marker.line || {};
  var perPoint = [marker.color, marker.size, marker.symbol, marker.opacity, marker.angle, mline.color, mline.width,
                  fd.textposition, font.color, font.size, font.family, font.weight, font.style].some(isArr);
  var plotinfo = (fl._plots || {})[xa._id + ya._id] || {};
  var newCategory = function (a, c, v) {
    return a.type === 'category' && v !== null && v !== undefined && !isFinite(c);
  };
  var pts = [], valid = '';
  for (var i = 0; i < n; i++) {
    var cx = xa.d2c(x === undefined ? fd.x0 + i * fd.dx : x[i]), cy = ya.d2c(y[i]);
    if (newCategory(xa, cx, x === undefined ? 0 : x[i]) || newCategory(ya, cy, y[i])) return null;  // plotly adds it
    var px = xa.c2p(cx), py = ya.c2p(cy);
    var ok = isFinite(px) && isFinite(py);
    pts.push(ok ? {x: px, y: py, text: hasText ? textOf(i) : '',
                   shown: !plotinfo.layerClipId || (xa.isPtWithinRange({x: cx}) && ya.isPtWithinRange({y: cy}))}
                : null);
    valid += ok ? '1' : '0';
  }
  var before = last ? last.valid : cd.map(function (d) {
    return isFinite(xa.c2p(d.x)) && isFinite(ya.c2p(d.y)) ? '1' : '0';
  }).join('');
  if (perPoint && valid !== before) return null;
  var sel = function (css) { return [].slice.call(node.querySelectorAll(css)); };
  var plan = {j: j, t: t, node: node, pts: pts, valid: valid, lines: null, markers: null, texts: null, fill: null};
  if (hasLines || toself) {
    var segs = [], seg = [];
    pts.forEach(function (p) {
      if (p) seg.push(p.x + ',' + p.y);
      else if (!fd.connectgaps && seg.length) { segs.push(seg); seg = []; }
    });
    if (seg.length) segs.push(seg);
    var paths = segs.map(function (s) { return 'M' + s.join('L'); });
    if (hasLines) {
      plan.lines = {els: sel('g.lines > path.js-line'), d: paths};
      if (!plan.lines.els.length && segs.length) return null;
    }
    // scatter/plot.js: the segments joined by 'Z', closed; no segment: an empty path
    if (toself) plan.fill = {el: fills[0], d: paths.length ? paths.join('Z') + 'Z' : 'M0,0Z'};
  }
  var shown = pts.filter(function (p) { return p; });
  if (hasMarkers) {
    plan.markers = sel('g.points > path.point');
    if (!plan.markers.length && shown.length) return null;
  }
  if (hasText) {
    plan.texts = sel('g.text > g.textpoint');
    var withText = plan.texts.filter(function (g) { return g.querySelector('text'); }), needs = false;
    for (var k = 0; k < shown.length; k++) {
      var el = plan.texts[k] && plan.texts[k].querySelector('text');
      if (shown[k].text === (el ? el.getAttribute('data-unformatted') : '')) continue;
      if (!this._tyPlain(shown[k].text)) return null;  // new rich text: plotly's own converter
      needs = needs || !el;  // a label where none was: a copy of another, if all look alike
    }
    if (needs && (perPoint || !withText.length)) return null;
    plan.model = withText[0];
  }
  return plan;
}
_tyQuickBars(gd, j, t, node, xa, ya, ctx) {
  // bars whose lengths alone changed: each keeps its place (calcdata's p0, p1); its rectangle runs from s0 to s1,
  // s0 the base (0) or, stacked, the sum of the bars before it at its place, as bar/cross_trace_calc.js stacks them
  var fd = gd._fullData[j], fl = gd._fullLayout, cd = gd.calcdata[j], self = this, isArr = this._tyIsArr;
  var h = fd.orientation === 'h', sa = h ? xa : ya, pa = h ? ya : xa, sk = h ? 'x' : 'y', pk = h ? 'y' : 'x';
  var texts = [fd.text, t.text].reduce(function (all, v) { return all.concat(isArr(v) ? [].slice.call(v) : [v]); }, []);
  var hasText = fd.textposition !== 'none' && (fd.texttemplate || t.texttemplate ||  // a bar's label, then or now
                                               texts.some(function (v) { return v || v === 0; }));
  // labels inside the bars (the embeddings chapter's counts), in plain text: placed as bar/plot.js places them
  var inside = hasText && fd.textposition === 'inside' && !fd.texttemplate && !t.texttemplate &&
    texts.every(function (v) { return self._tyPlain(String(v)); });
  if (inside && (fl.uniformtext || {}).mode && gd._fullData.some(function (o) {  // one size for all the labels:
    return o.type === 'bar' && o.visible === true && ctx.changed.indexOf(o.index) < 0;  // all of them are placed
  })) return null;
  var mline = (fd.marker || {}).line || {};
  if (!sa || (sa.type !== 'linear' && sa.type !== 'log') || !pa || fl.barnorm || (hasText && !inside) || fd.ids ||
      (fd.base !== undefined && fd.base !== null) || (fd.marker || {}).cornerradius ||
      (fd.error_x || {}).visible || (fd.error_y || {}).visible) return null;
  var n = cd.length, sizes = t[sk];
  var els = [].slice.call(node.querySelectorAll('g.points > g.point > path'));
  if (!isArr(sizes) || sizes.length < n || els.length !== n) return null;
  if (!this._tySame(t[pk], gd.data[j][pk])) return null;  // new places: plotly's turn
  var stacked = fl.barmode === 'stack' || fl.barmode === 'relative';
  var up = [], down = [];
  for (var i = 0; i < n; i++) { up.push(0); down.push(0); }
  if (stacked) {
    var stack = gd._fullData.filter(function (o) {
      return o.type === 'bar' && o.visible === true && o.xaxis === fd.xaxis && o.yaxis === fd.yaxis &&
        o.orientation === fd.orientation;
    });
    for (var q = 0; q < stack.length; q++) {
      var o = stack[q], v = (ctx.data[ctx.moving[o.index]] || {})[sk];
      // every bar of the stack moves with it, in the same places
      if (ctx.changed.indexOf(o.index) < 0 || !isArr(v) || v.length < n ||
          !self._tySame((ctx.data[ctx.moving[o.index]] || {})[pk], t[pk])) return null;
      if (o.index >= j) continue;
      for (i = 0; i < n; i++) {
        var c = sa.d2c(v[i]);
        if (!isFinite(c)) continue;
        if (fl.barmode === 'relative' && c < 0) down[i] += c; else up[i] += c;
      }
    }
  }
  var d = [], labels = [];
  for (i = 0; i < n; i++) {
    var size = sa.d2c(sizes[i]), base = fl.barmode === 'relative' && size < 0 ? down[i] : up[i];
    var s0 = sa.c2p(base, true), s1 = sa.c2p(base + size, true);
    var p0 = pa.c2p(cd[i].p0, true), p1 = pa.c2p(cd[i].p1, true);
    var x0 = h ? s0 : p0, x1 = h ? s1 : p1, y0 = h ? p0 : s0, y1 = h ? p1 : s1;
    var width = cd[i].mlw !== undefined ? cd[i].mlw : mline.width;
    var blank = (s1 - s0 === 0 && !width) || ![x0, x1, y0, y1].every(isFinite);
    d.push(blank ? 'M0,0Z' : 'M' + x0 + ',' + y0 + 'V' + y1 + 'H' + x1 + 'V' + y0 + 'Z');  // a static plot's
    if (!inside) continue;
    var text = isArr(t.text) ? t.text[i] : t.text;
    text = (text || text === 0) ? String(text) : '';
    if (blank || x0 === x1 || y0 === y1) text = '';  // no label in an empty bar
    var el = els[i].parentNode.querySelector('text.bartext');
    if (text && !el) return null;  // a label where none was (plotly made it for an empty bar): plotly's turn
    if (text && !document.querySelector('#js-plotly-tester .js-reference-point')) return null;
    if (sa.type === 'log' && base <= 0) {  // a bar from 0 on a log axis: its label measured from the axis end
      var low = sa.range[0] < sa.range[1];
      if (h) x0 = low ? 0 : sa._length; else y0 = low ? sa._length : 0;
    }
    labels.push({el: el, text: text, x0: x0, x1: x1, y0: y0, y1: y1});
  }
  return {j: j, t: t, node: node, valid: null, bars: {els: els, d: d, labels: labels, h: h, fd: fd}};
}
_tyQuickImage(gd, j, t, node, xa, ya) {
  // a heatmap whose values (and the words of its labels) alone changed, drawn as heatmap/plot.js draws one with
  // square bricks: each value's colour on the trace's colour scale between zmin and zmax
  // (Colorscale.makeColorScaleFunc: d3's clamped piecewise-linear scale over [r, g, b, a], rgb rounded), painted
  // its 'fast' way (one canvas pixel a brick, the image pixelated) or its default way (a rectangle a brick, in
  // pixels rounded as plotly rounds them, less the gaps); labels as _tyHeatmapLabels says
  var fd = gd._fullData[j], cd0 = gd.calcdata[j][0], isArr = this._tyIsArr, self = this;
  var img = node.querySelector('image'), z = t.z;
  // heatmap/plot.js's way: 'fast' for evenly spaced bricks without gaps (where the browser pixelates images, as
  // here: plotly then marks the image so); values as they are (no gaps connected, no transposition, linear axes)
  var fast = !!fd._islinear && !fd.xgap && !fd.ygap;
  if (!img || fd.zsmooth || fd.zauto || fd.reversescale || fd.connectgaps || fd.transpose || xa.type !== 'linear' ||
      ya.type !== 'linear' || (fast && !/pixelated/.test(img.getAttribute('style') || '')) ||
      !isArr(fd.colorscale) || !isArr(z) || !isArr(cd0.z) ||
      z.length !== cd0.z.length || ['x', 'y', 'zmin', 'zmax'].some(function (k) {
        return !self._tySame(t[k], gd.data[j][k]);
      })) return null;
  var n = cd0.z[0].length, m = z.length, r, q;
  for (r = 0; r < m; r++) {
    if (!isArr(z[r]) || z[r].length !== n) return null;
    for (q = 0; q < n; q++) {
      var v = z[r][q];  // a number, or missing (a string plotly would read as a number: plotly's turn)
      if (v !== null && v !== undefined && typeof v !== 'number') return null;
    }
  }
  var colour = this._tyColourScale(fd);
  var labels = this._tyHeatmapLabels(gd, j, t, node, xa, ya, colour);
  if (!labels) return null;
  var edges = function (a, e) {  // heatmap/plot.js: the image's first and last defined edges, in pixels
    var lo, hi;
    for (var i = 0; lo === undefined && i < e.length - 1; i++) lo = a.c2p(e[i]);
    for (i = e.length - 1; hi === undefined && i > 0; i--) hi = a.c2p(e[i]);
    return hi < lo ? {lo: hi, hi: lo, rev: true} : {lo: lo, hi: hi, rev: false};
  };
  var ex = edges(xa, cd0.x), ey = edges(ya, cd0.y), xrev = ex.rev, yrev = ey.rev;
  var canvas = document.createElement('canvas');
  var drawnAs = function (left, top, width, height) {  // the image plotly drew is where this one goes
    return +img.getAttribute('width') === width && +img.getAttribute('height') === height &&
      +img.getAttribute('x') === left && +img.getAttribute('y') === top;
  };
  if (fast) {
    if (!drawnAs(ex.lo, ey.lo, Math.round(ex.hi - ex.lo), Math.round(ey.hi - ey.lo))) return null;
    canvas.width = n;
    canvas.height = m;
    var pixels = canvas.getContext('2d').createImageData(n, m);
    for (r = 0; r < m; r++) {
      for (q = 0; q < n; q++) {
        var at = ((yrev ? m - 1 - r : r) * n + (xrev ? n - 1 - q : q)) * 4, c = colour(z[r][q]);
        pixels.data[at] = c[0]; pixels.data[at + 1] = c[1]; pixels.data[at + 2] = c[2];
        pixels.data[at + 3] = Math.round(c[3] * 255);
      }
    }
    return {j: j, t: t, node: node, valid: null, image: {el: img, canvas: canvas, pixels: pixels, labels: labels}};
  }
  // the default way: the image at most half a plot off either side, a brick from edge to edge, gaps taken off
  var left = Math.max(-0.5 * xa._length, ex.lo), right = Math.min(1.5 * xa._length, ex.hi);
  var top = Math.max(-0.5 * ya._length, ey.lo), bottom = Math.min(1.5 * ya._length, ey.hi);
  var width = Math.round(right - left), height = Math.round(bottom - top);
  if (left >= xa._length || right <= 0 || top >= ya._length || bottom <= 0 || !(width > 0 && height > 0) ||
      !drawnAs(left, top, width, height)) return null;
  var clamp = function (v, hi) { return Math.max(0, Math.min(hi, v)); };
  var xpx = function (i) { return clamp(Math.round(xa.c2p(cd0.x[i]) - left), width); };
  var ypx = function (i) { return clamp(Math.round(ya.c2p(cd0.y[i]) - top), height); };
  var xGap = fd.xgap || 0, yGap = fd.ygap || 0, xGapLeft = Math.floor(xGap / 2), yGapTop = Math.floor(yGap / 2);
  canvas.width = width;
  canvas.height = height;
  var paint = canvas.getContext('2d'), yi = ypx(0), yb = [yi, yi], xb;
  for (r = 0; r < m; r++) {
    yb.reverse();
    yb[yrev ? 0 : 1] = ypx(r + 1);
    if (yb[0] === yb[1] || isNaN(yb[0]) || isNaN(yb[1])) continue;
    var xi = xpx(0);
    xb = [xi, xi];
    for (q = 0; q < n; q++) {
      xb.reverse();
      xb[xrev ? 0 : 1] = xpx(q + 1);
      if (xb[0] === xb[1] || isNaN(xb[0]) || isNaN(xb[1])) continue;
      paint.fillStyle = 'rgba(' + colour(z[r][q]).join(',') + ')';
      paint.fillRect(xb[0] + xGapLeft, yb[0] + yGapTop, xb[1] - xb[0] - xGap, yb[1] - yb[0] - yGap);
    }
  }
  return {j: j, t: t, node: node, valid: null, image: {el: img, canvas: canvas, pixels: null, labels: labels}};
}
_tyColourScale(fd) {
  // the trace's colour of a value: [r, g, b, alpha], rgb rounded (a missing value: transparent)
  var ctx = document.createElement('canvas').getContext('2d');
  var rgba = function (c) {  // [r, g, b, a], read back from a canvas
    ctx.fillStyle = '#000';
    ctx.fillStyle = c;
    var v = ctx.fillStyle;
    var hex = function (k) { return parseInt(v.slice(k, k + 2), 16); };
    if (v.charAt(0) === '#') return [hex(1), hex(3), hex(5), 1];
    var parts = v.replace(/[^\d.,]/g, '').split(',').map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  var lo = fd.zmin, hi = fd.zmax, scale = fd.colorscale;
  var domain = scale.map(function (sc) { return lo + sc[0] * (hi - lo); });
  var range = scale.map(function (sc) { return rgba(sc[1]); });
  return function (v) {
    if (typeof v !== 'number' || !isFinite(v)) return [0, 0, 0, 0];
    var k = domain.length - 1, i = 1;
    while (i < k && domain[i] <= v) i++;  // d3.bisect(domain, v, 1, k)
    var a = domain[i - 1], b = domain[i] - a || 1 / (domain[i] - a), f = Math.max(0, Math.min(1, (v - a) / b));
    return range[i - 1].map(function (c0, q) {
      var c = c0 * (1 - f) + range[i][q] * f;
      return q < 3 ? Math.round(c) : c;
    });
  };
}
_tyHeatmapLabels(gd, j, t, node, xa, ya, colour) {
  // a heatmap's labels (texttemplate '%{text}', a fixed font size): heatmap/plot.js writes one at the centre of each
  // brick in the plot whose text is not empty, its lines centred there; each keeps its place when it keeps its
  // number of lines and its tags (_tyRetext), and its colour, when the font's is 'auto', contrasts with its brick's
  // (Color.contrast: white where white contrasts more than the default line colour #444, by WCAG's ratio; a missing
  // value's label, on the plot's background: plotly's turn). [] when there are none, before and after; null:
  // plotly's turn. `colour`: the trace's colour scale (_tyColourScale).
  var fd = gd._fullData[j], cd0 = gd.calcdata[j][0], isArr = this._tyIsArr;
  var els = [].slice.call(node.querySelectorAll('g.heatmap-label > text'));
  if (!fd.texttemplate) return els.length ? null : [];  // (its text is only for hovering: written into its data)
  var font = fd.textfont || {};
  if (fd.texttemplate !== '%{text}' || typeof font.size !== 'number' || !isArr(t.text)) return null;
  var centre = function (e, i, c) { return c ? c[i] : (e[i] + e[i + 1]) / 2; };
  var lum = function (c) {  // WCAG's relative luminance of [r, g, b] in 0-255
    var lin = c.slice(0, 3).map(function (v) {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  };
  var ratio = function (a, b) { return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  var white = 1, line = lum([68, 68, 68]);
  var auto = !font.color || font.color === 'auto';
  var labels = [], m = cd0.z.length, n = cd0.z[0].length;
  for (var r = 0; r < m; r++) {
    if (!cd0.yCenter && r + 1 === m && cd0.y[r + 1] === undefined) continue;
    var y = Math.round(ya.c2p(centre(cd0.y, r, cd0.yCenter)));
    if (0 > y || y > ya._length) continue;
    for (var q = 0; q < n; q++) {
      if (!cd0.xCenter && q + 1 === n && cd0.x[q + 1] === undefined) continue;
      var x = Math.round(xa.c2p(centre(cd0.x, q, cd0.xCenter)));
      if (0 > x || x > xa._length) continue;
      var text = isArr(t.text[r]) ? t.text[r][q] : undefined;
      if (text === undefined || text === null || text === false || text === '') continue;
      if (typeof text !== 'string') return null;  // a number: formatted by plotly
      var el = els[labels.length], d = el && el.parentNode.__data__;
      if (!d || d.x !== x || d.y !== y) return null;  // (its lines: _tyRetext keeps their number, the <br> tags)
      var edits = this._tyRetext(el, text);
      if (!edits) return null;
      var fill = null;
      if (auto) {
        var v = t.z[r][q], c = colour(v);
        if (typeof v !== 'number' || !isFinite(v)) return null;  // on the plot's background: plotly's turn
        var L = lum(Math.round(c[3]) === 1 ? c : [255, 255, 255]);  // (alpha rounded to 0: Color.contrast's white)
        fill = ratio(L, white) > ratio(L, line) ? 'rgb(255, 255, 255)' : 'rgb(68, 68, 68)';
      }
      labels.push({el: el, text: text, edits: edits, fill: fill});
    }
  }
  return labels.length === els.length ? labels : null;
}
_tyBarLabels(plans, fl) {
  // bar/plot.js toMoveInsideBar and Lib.getTextTransform, for bars with square corners: each label rotated by 90
  // degrees when it fits its bar better so ('auto'), shrunk to fit ('constraintext'), at the bar's end, middle or
  // start ('insidetextanchor'), 3 px in; then uniform_text.js: with layout.uniformtext, every label at the size of
  // the smallest one shown, those smaller than its minsize hidden ('hide')
  var PAD = 3, placed = [], uniform = fl.uniformtext || {};
  var tester = document.getElementById('js-plotly-tester');
  var measure = function (el) {  // Drawing.bBox: a copy at (0, 0), untransformed, in plotly's tester
    var copy = el.cloneNode(true);
    copy.removeAttribute('transform');
    [copy].concat([].slice.call(copy.querySelectorAll('tspan.line'))).forEach(function (e) {
      e.setAttribute('x', 0);
      e.setAttribute('y', 0);
    });
    tester.appendChild(copy);
    var r = copy.getBoundingClientRect(), ref = tester.querySelector('.js-reference-point').getBoundingClientRect();
    tester.removeChild(copy);
    return {x: r.left - ref.left, y: r.top - ref.top, width: r.width, height: r.height};
  };
  plans.forEach(function (plan) {
    if (!plan.bars) return;
    var h = plan.bars.h, fd = plan.bars.fd;
    plan.bars.labels.forEach(function (label) {
      var el = label.el, x0 = label.x0, x1 = label.x1, y0 = label.y0, y1 = label.y1;
      if (!label.text) { if (el) el.remove(); return; }
      if (el.getAttribute('data-unformatted') !== label.text) {
        el.textContent = label.text;
        el.setAttribute('data-unformatted', label.text);
      }
      el.style.display = '';  // (svg_text_utils.convertToTspans shows a label hidden last time, before it is measured)
      var bb = measure(el), w = bb.width, ht = bb.height;
      if (w <= 0 || ht <= 0) { el.remove(); return; }
      var lx = Math.abs(x1 - x0), ly = Math.abs(y1 - y0);
      var pad = lx > 2 * PAD && ly > 2 * PAD ? PAD : 0;
      lx -= 2 * pad; ly -= 2 * pad;
      var angle = fd.textangle, rotate = angle === 'auto' ? 0 : (angle || 0);
      if (angle === 'auto' && !(w <= lx && ht <= ly) && (w > lx || ht > ly) &&
          (!(w > ly || ht > lx) || ((w < ht) !== (lx < ly)))) rotate += 90;
      var a = Math.PI / 180 * rotate, sin = Math.abs(Math.sin(a)), cos = Math.abs(Math.cos(a));
      var tx = w * cos + ht * sin, ty = w * sin + ht * cos;
      var constrained = fd.constraintext === 'both' || fd.constraintext === 'inside';
      var tr = {el: el, rotate: rotate, scale: constrained ? Math.min(1, lx / tx, ly / ty) : 1,
                textX: (bb.x + bb.x + w) / 2, textY: bb.y + ht / 2, targetX: (x0 + x1) / 2, targetY: (y0 + y1) / 2,
                anchorX: 0, anchorY: 0, fontSize: parseFloat(el.style.fontSize)};
      var anchor = fd.insidetextanchor || 'end';
      if (anchor === 'start' || anchor === 'end') {
        var extra = (h ? tx : ty) / 2, dir = h ? (x0 < x1 ? 1 : -1) : (y0 < y1 ? 1 : -1);
        var sign = anchor === 'start' ? -1 : 1;
        if (h) { tr.targetX = anchor === 'start' ? x0 + dir * pad : x1 - dir * pad; tr.anchorX = sign * dir * extra; }
        else { tr.targetY = anchor === 'start' ? y0 + dir * pad : y1 - dir * pad; tr.anchorY = sign * dir * extra; }
      }
      placed.push(tr);
    });
  });
  if (uniform.mode) {
    var smallest = Infinity;
    placed.forEach(function (tr) {
      var size = tr.scale * tr.fontSize;
      tr.hide = size < uniform.minsize;
      if (!tr.hide) smallest = Math.min(smallest, Math.max(size, uniform.minsize));
    });
    placed.forEach(function (tr) { tr.scale = uniform.mode === 'hide' && tr.hide ? 0 : smallest / tr.fontSize; });
  }
  placed.forEach(function (tr) {
    var scale = !tr.scale ? 0 : Math.min(tr.scale, 1);
    var dx = tr.targetX - scale * (tr.textX + tr.anchorX), dy = tr.targetY - scale * (tr.textY + tr.anchorY);
    tr.el.setAttribute('transform', (dx || dy ? 'translate(' + dx + ',' + dy + ')' : '') +
      (scale !== 1 ? 'scale(' + scale + ')' : '') +
      (tr.rotate ? 'rotate(' + tr.rotate + ' ' + tr.textX + ' ' + tr.textY + ')' : ''));
    tr.el.style.display = scale ? '' : 'none';
  });
}
_tyQuickDraw(plan) {
  // elements for the points, as many as plotly's joins make: copies of the first, or the last ones removed
  var fit = function (els, count, parent) {
    while (els.length > count) els.pop().remove();
    while (els.length < count) {
      var copy = els[0].cloneNode(true);
      parent.appendChild(copy);
      els.push(copy);
    }
    return els;
  };
  if (plan.image) {
    if (plan.image.pixels) plan.image.canvas.getContext('2d').putImageData(plan.image.pixels, 0, 0);
    var url = plan.image.canvas.toDataURL('image/png');
    plan.image.el.setAttributeNS('http://www.w3.org/1999/xlink', 'xlink:href', url);
    var self = this;
    plan.image.labels.forEach(function (label) {
      self._tyRetextApply(label.el, label.text, label.edits);
      if (label.fill) label.el.style.fill = label.fill;
    });
    return;
  }
  if (plan.bars) {  // (their labels: _tyBarLabels, all bars' together)
    plan.bars.els.forEach(function (el, k) { el.setAttribute('d', plan.bars.d[k]); });
    return;
  }
  var shown = plan.pts.filter(function (p) { return p; });
  if (plan.fill) plan.fill.el.setAttribute('d', plan.fill.d);
  if (plan.lines) {
    var lines = plan.lines;
    if (lines.els.length) {
      fit(lines.els, lines.d.length, lines.els[0].parentNode).forEach(function (el, k) {
        el.setAttribute('d', lines.d[k]);
      });
    }
  }
  if (plan.markers && plan.markers.length) {
    fit(plan.markers, shown.length, plan.markers[0].parentNode).forEach(function (el, k) {
      el.setAttribute('transform', 'translate(' + shown[k].x + ',' + shown[k].y + ')');
      if (shown[k].shown) el.removeAttribute('display'); else el.setAttribute('display', 'none');
    });
  }
  if (plan.texts && (plan.texts.length || !shown.length)) {
    var groups = plan.texts, parent = (groups[0] || plan.model || {}).parentNode;
    while (groups.length > shown.length) groups.pop().remove();
    while (groups.length < shown.length) {
      var g = plan.model.cloneNode(true);
      parent.appendChild(g);
      groups.push(g);
    }
    groups.forEach(function (g, k) {
      var p = shown[k], el = g.querySelector('text');
      if (!p.text) { if (el) el.remove(); return; }
      if (!el) {
        el = plan.model.querySelector('text').cloneNode(true);
        g.setAttribute('transform', plan.model.getAttribute('transform'));
        g.appendChild(el);
      }
      if (el.getAttribute('data-unformatted') !== p.text) {
        el.textContent = p.text;
        el.setAttribute('data-unformatted', p.text);
      }
      el.setAttribute('x', p.x);
      el.setAttribute('y', p.y);
      el.querySelectorAll('tspan.line').forEach(function (ts) {
        ts.setAttribute('x', p.x);
        ts.setAttribute('y', p.y);
      });
      if (p.shown) g.removeAttribute('display'); else g.setAttribute('display', 'none');
    });
  }
}
_tySplit(moving) {
  var P = __PLOTLY__, el = this.el, fl = el._fullLayout, fd = el._fullData, self = this;
  if (!fl || !fl._size || !fd) return false;
  var data = this.model.get('_widget_data'), layout = this.model.get('_widget_layout');
  var sub = function (t) { return (t.xaxis || 'x') + (t.yaxis || 'y'); };
  // what plotly draws above a moving trace on its subplot goes into the small figure too, drawn above it there
  var lowest = {};
  moving.forEach(function (i) {
    var r = self._tyRank(fd[i]), s = sub(fd[i]);
    if (!(s in lowest) || r < lowest[s]) lowest[s] = r;
  });
  fd.forEach(function (t, j) {
    if (moving.indexOf(j) < 0 && t.visible === true && sub(t) in lowest && self._tyRank(t) > lowest[sub(t)]) {
      moving = moving.concat([j]);
    }
  });
  moving = moving.slice().sort(function (a, b) { return a - b; });
  var relay = {}, saved = {}, axes = [];
  var keep = function (p) {
    var v = self._tyGet(el.layout, p);
    saved[p] = v === undefined ? null : self._tyClone(v);
  };
  Object.keys(fl).forEach(function (k) {
    if (/^[xy]axis\d*$/.test(k) && fl[k] && Array.isArray(fl[k].range)) axes.push(k);
  });
  axes.forEach(function (k) {
    relay[k + '.range'] = fl[k].range.slice();
    relay[k + '.autorange'] = false;
    keep(k + '.range');
    keep(k + '.autorange');
  });
  var s0 = fl._size;  // the plot area stays where it is, whatever the legend does
  ['l', 'r', 't', 'b'].forEach(function (m) { relay['margin.' + m] = s0[m]; keep('margin.' + m); });
  relay['margin.autoexpand'] = false;
  keep('margin.autoexpand');
  relay['title.font.color'] = 'rgba(0,0,0,0)';
  keep('title.font.color');
  // shapes drawn above the traces, on a subplot of the small figure: drawn there, hidden here
  var shapes = [];
  (fl.shapes || []).forEach(function (sh, k) {
    var xa = (sh.xref || 'x').split(' ')[0], ya = (sh.yref || 'y').split(' ')[0];
    if (sh.visible === false || sh.layer === 'below' || !((xa + ya) in lowest)) return;
    shapes.push(self._tyClone((layout.shapes || [])[k] || {}));
    relay['shapes[' + k + '].visible'] = false;
    keep('shapes[' + k + '].visible');
  });
  // the big figure: each moving scatter or bar keeps its legend entry and categories, its values become gaps;
  // any other trace is hidden
  var st = {_doNotReportToPy: true, x: [], y: [], visible: []}, emptied = {};
  moving.forEach(function (i) {
    var t = fd[i] || {}, kind = t.type || 'scatter';
    var dim = null;
    if (/^(scatter|bar)$/.test(kind)) {
      var yCat = (fl[self._tyAxisName(t.yaxis || 'y')] || {}).type === 'category';
      dim = (kind === 'bar' && t.orientation === 'h') || yCat ? 'x' : 'y';
    }
    var gaps = function (d) {
      var n = ((data[i] || {})[d] || []).length || 1, out = [];
      for (var j = 0; j < n; j++) out.push(null);
      return out;
    };
    st.x.push(dim === 'x' ? gaps('x') : undefined);
    st.y.push(dim === 'y' ? gaps('y') : undefined);
    st.visible.push(dim ? undefined : false);
    emptied[i] = dim ? [dim] : ['visible'];
  });
  this._tyOwn(function () { return P.update(el, st, relay, moving); });
  fl = el._fullLayout;
  // the small figure: same size, plot area, axes and categories, nothing but the moving traces, the traces and
  // shapes above them, and the title
  var L = this._tyClone(layout);
  axes.forEach(function (k) {
    var a = {range: fl[k].range.slice(), autorange: false, visible: false, automargin: false, type: fl[k].type};
    if (fl[k].type === 'category' || fl[k].type === 'multicategory') {
      a.categoryorder = 'array';
      a.categoryarray = (fl[k]._categories || []).slice();
    }
    L[k] = Object.assign({}, L[k] || {}, a);
  });
  var s = fl._size;
  L.margin = {l: s.l, r: s.r, t: s.t, b: s.b, pad: 0, autoexpand: false};
  L.width = fl.width; L.height = fl.height; L.autosize = false;
  L.paper_bgcolor = 'rgba(0,0,0,0)'; L.plot_bgcolor = 'rgba(0,0,0,0)';
  L.showlegend = false;
  ['annotations', 'images', 'sliders', 'updatemenus'].forEach(function (k) { L[k] = []; });
  L.shapes = shapes;
  var D = moving.map(function (i) { return Object.assign(self._tyClone(data[i]), {showlegend: false}); });
  var div = document.createElement('div');
  div.className = 'tyshare-live-overlay';
  div.style.cssText = 'position:absolute;left:0;top:0;pointer-events:none';
  var legend = el.querySelector('.legend');  // plotly draws the legend above the traces: a hole in the overlay
  if (legend && fl.showlegend) {
    var b = legend.getBoundingClientRect(), e = el.getBoundingClientRect();
    var x = b.left - e.left, y = b.top - e.top;
    div.style.clipPath = 'path(evenodd, "M0 0H' + fl.width + 'V' + fl.height + 'H0Z M' + x + ' ' + y + 'h' +
      b.width + 'v' + b.height + 'h' + (-b.width) + 'Z")';
  }
  if (getComputedStyle(el).position === 'static') el.style.position = 'relative';
  el.appendChild(div);
  P.newPlot(div, D, L, {staticPlot: true, displayModeBar: false, responsive: false});
  this._tyOv = {div: div, moving: moving, emptied: emptied, saved: saved, keys: {}, lkeys: {}};
  if (!this._tyListening) {  // the reader's hand on the big figure: the two merge back first
    this._tyListening = true;
    el.on('plotly_relayout', function (ev) { if (!self._tyBusy) self._tyMerge(ev || {}); });
    el.on('plotly_restyle', function (ev) { if (!self._tyBusy) self._tyMerge({}, ev); });
    el.addEventListener('mousemove', function () { if (self._tyOv) self._tyMerge(); });  // hover, a drag
  }
  return true;
}
_tyMerge(userLayout, userStyle) {
  // the big figure gets back every moving trace's current values, its axes, shapes and title; the overlay goes.
  // Values a reader has just set (a zoom: userLayout; a legend click: userStyle) are left as they are.
  var ov = this._tyOv, P = __PLOTLY__, self = this;
  if (!ov) return false;
  this._tyOv = null;
  ov.div.remove();  // not purged: a redraw of it may still be under way (plotly.js ends one in a promise)
  var data = this.model.get('_widget_data'), layout = this.model.get('_widget_layout');
  var userEdit = (userStyle && userStyle[0]) || {}, userTraces = (userStyle && userStyle[1]) || [];
  var st = {_doNotReportToPy: true}, keys = Object.assign({}, ov.keys);
  ov.moving.forEach(function (i) { ov.emptied[i].forEach(function (k) { keys[k] = 1; }); });
  Object.keys(keys).forEach(function (k) {
    st[k] = ov.moving.map(function (i) {
      if (k in userEdit && userTraces.indexOf(i) >= 0) return undefined;  // the reader's click on this trace
      var v = self._tyClone(self._tyGet(data[i], k));
      return v === undefined ? null : v;
    });
  });
  var relay = {};
  Object.keys(ov.saved).forEach(function (k) { relay[k] = ov.saved[k]; });
  Object.keys(ov.lkeys).forEach(function (k) {
    var v = self._tyClone(self._tyGet(layout, k));
    relay[k] = v === undefined ? null : v;
  });
  Object.keys(userLayout || {}).forEach(function (k) {  // 'xaxis.range[0]' and the like: the axis is the reader's
    var axis = k.split('.')[0];
    if (!/^[xy]axis\d*$/.test(axis)) return;
    Object.keys(relay).forEach(function (r) { if (r.split('.')[0] === axis) delete relay[r]; });
  });
  this._tyOwn(function () { return P.update(self.el, st, relay, ov.moving); });
  var ids = this._tyIds || {};  // the reports held back while the figure was split
  if ('L' in ids) this._tyDefer('L', ids.L);
  if ('T' in ids) this._tyDefer('T', ids.T);
  return true;
}
_tyOwn(call) {  // a change of the big figure made here, not by the reader: its events do not merge the two back
  var self = this;
  this._tyBusy = (this._tyBusy || 0) + 1;
  var done = function () { self._tyBusy--; };
  var result;
  try { result = call(); } catch (err) { done(); throw err; }
  Promise.resolve(result).then(done, done);
}
_tyAxisName(id) { return id.charAt(0) + 'axis' + id.slice(1); }
