// Methods added to plotly's FigureWidget view (the class that draws the figure in JupyterLab) by
// tyshare_lib/viz/explorer.py:_live_bundle(). This file is a class body fragment, not a module: each entry is a
// method; `__PLOTLY__` is replaced by the bundle's name for plotly.js. See explorer.py for why.
//
// The overlay: a key press on a live explorer moves a few traces (markers, bars, a small image) and changes the
// title. plotly.js redraws a whole figure for any data change, and the chapters' figures are big (subplots,
// contour lines, legends), so Python sends such a change, when it cannot move any axis, as an "animate" message
// marked `tyOverlay`. The first one splits the figure in two: the big figure keeps everything else, its axes
// frozen where they are, the moving traces emptied (their legend entries stay) and its title transparent; a
// small figure laid exactly over it (same size, same plot area, same frozen axes, drawn invisible) holds the
// moving traces and the title. Every later such change redraws only the small figure. Anything else (a change
// from Python that may move an axis, a zoom, a legend click, a resize) first merges the two back.
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
_tyAxisName(id) { return id.charAt(0) + 'axis' + id.slice(1); }
_tyClone(x) { return x === undefined ? undefined : JSON.parse(JSON.stringify(x)); }
_tyOverlay(msg) {
  var P = __PLOTLY__, el = this.el, self = this;
  var data = this.model.get('_widget_data'), layout = this.model.get('_widget_layout');
  var traces = this.model._normalize_trace_indexes(msg.style_traces);
  var styles = msg.style_data || [], lay = msg.layout_data || {};
  var keys = {};
  styles.forEach(function (s) { Object.keys(s || {}).forEach(function (k) { keys[k] = 1; }); });
  keys = Object.keys(keys);
  var ov = this._tyOv, moving = traces;
  if (ov && !traces.every(function (i) { return ov.moving.indexOf(i) >= 0; })) {  // more traces move: split anew
    moving = ov.moving.concat(traces.filter(function (i) { return ov.moving.indexOf(i) < 0; }));
    this._tyMerge();
    ov = null;
  }
  if (!ov && !this._tySplit(moving)) {  // cannot split (no figure yet): the whole figure, as plotly would
    var st = {_doNotReportToPy: true};
    keys.forEach(function (k) { st[k] = traces.map(function (i) { return self._tyClone(self._tyGet(data[i], k)); }); });
    P.update(el, st, this._tyClone(lay), traces);
    return;
  }
  ov = this._tyOv;
  keys.forEach(function (k) { ov.keys[k] = 1; });
  Object.keys(lay).forEach(function (k) { ov.lkeys[k] = 1; });
  var st2 = {};  // every moving trace's current values (the model holds them), by the overlay's own indices
  keys.forEach(function (k) { st2[k] = traces.map(function (i) { return self._tyClone(self._tyGet(data[i], k)); }); });
  P.update(ov.div, st2, this._tyClone(lay), traces.map(function (i) { return ov.moving.indexOf(i); }));
}
_tySplit(moving) {
  var P = __PLOTLY__, el = this.el, fl = el._fullLayout, self = this;
  if (!fl || !fl._size || !el._fullData) return false;
  var data = this.model.get('_widget_data'), layout = this.model.get('_widget_layout');
  moving = moving.slice().sort(function (a, b) { return a - b; });
  var relay = {}, saved = {}, axes = [];
  Object.keys(fl).forEach(function (k) {
    if (/^[xy]axis\d*$/.test(k) && fl[k] && Array.isArray(fl[k].range)) axes.push(k);
  });
  axes.forEach(function (k) {
    relay[k + '.range'] = fl[k].range.slice();
    relay[k + '.autorange'] = false;
    [k + '.range', k + '.autorange'].forEach(function (p) {
      var v = self._tyGet(el.layout, p);
      saved[p] = v === undefined ? null : self._tyClone(v);
    });
  });
  var s0 = fl._size;  // the plot area stays where it is, whatever the legend does
  ['l', 'r', 't', 'b'].forEach(function (m) { relay['margin.' + m] = s0[m]; });
  relay['margin.autoexpand'] = false;
  ['margin.l', 'margin.r', 'margin.t', 'margin.b', 'margin.autoexpand', 'title.font.color'].forEach(function (p) {
    var v = self._tyGet(el.layout, p);
    saved[p] = v === undefined ? null : self._tyClone(v);
  });
  relay['title.font.color'] = 'rgba(0,0,0,0)';
  // the big figure: each moving scatter or bar keeps its legend entry and categories, its values become gaps;
  // an image is hidden
  var st = {_doNotReportToPy: true, x: [], y: [], visible: []}, emptied = {};
  moving.forEach(function (i) {
    var t = el._fullData[i] || {}, kind = t.type || 'scatter';
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
  this._tyBusy = true;
  try { P.update(el, st, relay, moving); } finally { this._tyBusy = false; }
  fl = el._fullLayout;
  // the small figure: same size, plot area and axes, nothing but the moving traces and the title
  var L = this._tyClone(layout);
  axes.forEach(function (k) {
    L[k] = Object.assign({}, L[k] || {}, {range: fl[k].range.slice(), autorange: false, visible: false,
                                          automargin: false});
  });
  var s = fl._size;
  L.margin = {l: s.l, r: s.r, t: s.t, b: s.b, pad: 0, autoexpand: false};
  L.width = fl.width; L.height = fl.height; L.autosize = false;
  L.paper_bgcolor = 'rgba(0,0,0,0)'; L.plot_bgcolor = 'rgba(0,0,0,0)';
  L.showlegend = false;
  ['annotations', 'shapes', 'images', 'sliders', 'updatemenus'].forEach(function (k) { L[k] = []; });
  var D = moving.map(function (i) { return Object.assign(self._tyClone(data[i]), {showlegend: false}); });
  var div = document.createElement('div');
  div.className = 'tyshare-live-overlay';
  div.style.cssText = 'position:absolute;left:0;top:0;pointer-events:none';
  if (getComputedStyle(el).position === 'static') el.style.position = 'relative';
  el.appendChild(div);
  P.newPlot(div, D, L, {staticPlot: true, displayModeBar: false, responsive: false});
  this._tyOv = {div: div, moving: moving, emptied: emptied, saved: saved, keys: {}, lkeys: {}};
  if (!this._tyListening) {  // a zoom, a pan, a legend click on the big figure: the two merge back first
    this._tyListening = true;
    el.on('plotly_relayout', function (ev) { if (!self._tyBusy) self._tyMerge(ev || {}); });
    el.on('plotly_restyle', function (ev) { if (!self._tyBusy) self._tyMerge({}, ev); });
  }
  return true;
}
_tyMerge(userLayout, userStyle) {
  // the big figure gets back every moving trace's current values, its axes and its title; the overlay goes.
  // Values a reader has just set (a zoom: userLayout; a legend click: userStyle) are left as they are.
  var ov = this._tyOv, P = __PLOTLY__, self = this;
  if (!ov) return false;
  this._tyOv = null;
  ov.div.remove();  // not purged: a redraw of it may still be under way (plotly.js ends one in a promise)
  var data = this.model.get('_widget_data'), layout = this.model.get('_widget_layout');
  var skipStyle = (userStyle && userStyle[0]) || {};
  var st = {_doNotReportToPy: true}, keys = Object.assign({}, ov.keys);
  ov.moving.forEach(function (i) { ov.emptied[i].forEach(function (k) { keys[k] = 1; }); });
  Object.keys(keys).forEach(function (k) {
    if (k in skipStyle) return;
    st[k] = ov.moving.map(function (i) {
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
    Object.keys(relay).forEach(function (r) { if (r.split('.')[0] === axis) delete relay[r]; });
  });
  this._tyBusy = true;
  try { P.update(this.el, st, relay, ov.moving); } finally { this._tyBusy = false; }
  var ids = this._tyIds || {};  // the reports held back while the figure was split
  if ('L' in ids) this._tyDefer('L', ids.L);
  if ('T' in ids) this._tyDefer('T', ids.T);
  return true;
}
