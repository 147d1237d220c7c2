"""The live explorers' overlay (tyshare_lib/viz/live_figure.js), in Chromium without JupyterLab.

Two copies of one explorer are drawn by the patched FigureWidget front-end, each fed by its own Python
FigureWidget through a stand-in for the anywidget model: copy A with the overlay (the live explorers' default),
copy B without it (plotly redraws the whole figure on every change). After each move of the control, what the
reader sees in A must be what B shows: the moving point where B's axes put it, the same axes, the same legend,
the same title; and after a change the overlay cannot draw, a zoom or a resize, A is one figure again.
"""
import base64
import json

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.serializers import _py_to_js
from plotly.utils import PlotlyJSONEncoder

from tyshare_lib.viz.explorer import Explorer, Patch, _live_bundle, apply_patch

TRAITS = ["_py2js_addTraces", "_py2js_deleteTraces", "_py2js_moveTraces", "_py2js_restyle", "_py2js_relayout",
          "_py2js_update", "_py2js_animate", "_py2js_removeLayoutProps", "_py2js_removeTraceProps"]

# the anywidget model, as far as plotly's front-end uses it; one per view
STAND_IN = """
window.tyViews = {};
window.tyViewObjects = {};
window.tyRender = async function (esm, state, id) {
  const mod = await import(URL.createObjectURL(new Blob([esm], {type: 'text/javascript'})));
  const handlers = {};
  const model = {s: state, get(k) { return this.s[k]; }, on(ev, f) { (handlers[ev] = handlers[ev] || []).push(f); },
                 set(k, v) { this.s[k] = v; (handlers['change:' + k] || []).forEach(f => f());
                             if (k.startsWith('_js2py_')) this.reports = (this.reports || 0) + 1; },
                 save_changes() {}, send() {}, off() {}};
  // plotly's deserializer, as the bundle's own: "_undefined_" is undefined, a numpy buffer a typed array
  const TYPED = {float64: Float64Array, float32: Float32Array, int32: Int32Array, int16: Int16Array,
                 int8: Int8Array, uint32: Uint32Array, uint16: Uint16Array, uint8: Uint8Array};
  const walk = v => v === '_undefined_' ? undefined
    : Array.isArray(v) ? v.map(walk)
    : v && typeof v === 'object' ? ('buffer' in v && 'dtype' in v ? new TYPED[v.dtype](v.buffer)
                                    : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])))
    : v;
  const serializers = new Proxy({}, {get: () => ({deserialize: walk})});
  const figureModel = new mod.FigureModel(model, serializers);  // what mod.default()'s initialize and render do
  figureModel.initialize();
  const el = document.getElementById(id);
  const view = new mod.FigureView(figureModel, el);
  view.perform_render();
  window.tyViews[id] = model;
  window.tyViewObjects[id] = view;
  await new Promise(r => { const t = setInterval(() => { if (el._fullLayout) { clearInterval(t); r(); } }, 20); });
};
"""

# what the reader sees of the moving point, the image, the axes, the legend and the title of one view
LOOK = """id => {
  const root = document.getElementById(id), box = root.getBoundingClientRect();
  const ov = root.querySelector('.tyshare-live-overlay');  // inside the figure's element: its marks count too
  const rel = r => [r.left + r.width / 2 - box.left, r.top + r.height / 2 - box.top];
  const fl = root._fullLayout;
  const axes = {};
  for (const k of ['xaxis', 'yaxis', 'xaxis2', 'yaxis2']) axes[k] = fl[k].range.map(v => +v.toFixed(6));
  // the moving point: the only marker drawn in the point trace's colour
  const points = [...root.querySelectorAll('.scatterlayer path.point')]
    .filter(p => (p.style.fill || '').replace(/ /g, '') === 'rgb(213,94,0)').map(p => rel(p.getBoundingClientRect()));
  const images = [...root.querySelectorAll('.hm image')];
  const img = images.length === 1 ? images[0] : null;
  const title = [...root.querySelectorAll('.gtitle')].map(t => [t.textContent, getComputedStyle(t).opacity * getComputedStyle(t).fillOpacity]);
  return {overlay: !!ov, axes, size: [fl._size.l, fl._size.r, fl._size.t, fl._size.b],
          points, image: img ? rel(img.getBoundingClientRect()) : null,
          images: images.length, imageHref: img ? img.getAttribute('href') : '',
          legend: [...root.querySelectorAll('.legend .traces')].map(t => t.textContent),
          title};
}"""


def explorer():
    fig = go.Figure([go.Scatter(x=[0, 10], y=[0, 10], mode="lines", name="path"),
                     go.Scatter(x=np.array([1.0]), y=np.array([0.5]), mode="markers", name="point",  # typed arrays
                                marker=dict(color="rgb(213, 94, 0)", size=14)),
                     go.Heatmap(z=[[0, 1], [1, 0]], xaxis="x2", yaxis="y2", showscale=False)],
                    layout=dict(xaxis=dict(domain=[0, 0.55]), xaxis2=dict(domain=[0.7, 1]), yaxis2=dict(anchor="x2"),
                                height=420, title=dict(text="k = 1"), legend=dict(orientation="h")))

    def update(k, heat):
        return Patch(traces={1: dict(x=[k], y=[k / 2]), 2: dict(z=[[heat, 1], [1, 0]])},
                     layout=dict(title=dict(text=f"k = {k}")))

    return Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=20),
                                  "heat": widgets.IntSlider(value=0, min=0, max=3)}, "k", [0, 1])


def _plain(v):
    if isinstance(v, dict):
        if isinstance(v.get("buffer"), memoryview):  # a numpy array: its values, dtype and shape (as a buffer)
            return {"buffer": v["buffer"].tolist(), "dtype": v["dtype"], "shape": list(v["shape"])}
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _json(v):
    """A trait's value as the front-end receives it (plotly's serializer; the stand-in makes typed arrays)."""
    return json.loads(json.dumps(_plain(_py_to_js(v, None)), cls=PlotlyJSONEncoder))


class View:
    """One explorer's live figure, drawn in the page by the patched front-end; Python's messages forwarded."""

    def __init__(self, page, esm, element_id, overlay, make=None):
        self.page, self.id, self.log = page, element_id, []
        self.explorer = (make or explorer)()
        _ = self.explorer.widget
        self.explorer._live.overlay = overlay
        fw = self.explorer.figure_widget
        # every change, the resets to None after each message too: the front-end sees those as well
        fw.observe(lambda ch: self.log.append((ch["name"], ch["new"])), names=TRAITS)
        state = {"_widget_data": _json(fw._widget_data), "_widget_layout": _json(fw._widget_layout), "_config": {},
                 "_last_layout_edit_id": 0, "_last_trace_edit_id": 0, **{t: None for t in TRAITS}}
        page.evaluate("([esm, state, id]) => tyRender(esm, state, id)", [esm, state, element_id])

    def set(self, **values):
        """Move the controls; forward what Python sent; return the kinds of message."""
        self.explorer.set(**values)
        msgs, self.log = [(k, None if v is None else _json(v)) for k, v in self.log], []
        self.page.evaluate("([id, msgs]) => { for (const [k, v] of msgs) tyViews[id].set(k, v); }", [self.id, msgs])
        return [k for k, v in msgs if v is not None]

    def look(self):
        return self.page.evaluate(LOOK, self.id)


def pair(chromium, make, width=700):
    """A page with copy A (overlay) and copy B (whole redraws) of the explorer ``make()`` builds; returns
    (context, page, A, B, the page's uncaught errors)."""
    esm = _live_bundle()
    assert esm is not None, "plotly's widget bundle no longer has what the live figure patches, by name"
    context = chromium.new_context(viewport={"width": width + 200, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<html><body style='margin:0'><div id=a style='width:{width}px'></div>"
                     f"<div id=b style='width:{width}px'></div></body></html>")
    page.add_script_tag(content=STAND_IN)
    return (context, page, View(page, esm, "a", overlay=True, make=make),
            View(page, esm, "b", overlay=False, make=make), errors)


@pytest.fixture(scope="module")
def views(chromium):
    """The test explorer's two copies, shared by the tests below in order (each leaves the figure usable)."""
    context, page, a, b, errors = pair(chromium, explorer, width=800)
    yield page, a, b, errors
    context.close()


def same(a, b, tol=0.75):
    """A's look equals B's, positions within ``tol`` px; the moving point drawn once in each."""
    flat = {f"{k}[{i}]": v for k, r in a["axes"].items() for i, v in enumerate(r)}
    assert flat == pytest.approx({f"{k}[{i}]": v for k, r in b["axes"].items() for i, v in enumerate(r)}, abs=1e-6)
    assert a["size"] == b["size"]
    assert len(a["points"]) == len(b["points"]) == 1, (a["points"], b["points"])
    assert a["points"][0] == pytest.approx(b["points"][0], abs=tol)
    assert a["images"] == b["images"] == 1
    assert a["image"] == pytest.approx(b["image"], abs=tol)
    assert a["legend"] == b["legend"] == ["path", "point"]


def visible_title(look):
    return [text for text, opacity in look["title"] if float(opacity) > 0]


def test_the_overlay_draws_what_a_full_redraw_draws(views):
    page, a, b, errors = views
    for k, heat in [(2, 0), (3, 0), (3, 2), (8, 2), (4, 1)]:
        kinds_a, kinds_b = a.set(k=k, heat=heat), b.set(k=k, heat=heat)
        assert set(kinds_a) == {"_py2js_animate"} and set(kinds_b) == {"_py2js_update"}
        la, lb = a.look(), b.look()
        assert la["overlay"] and not lb["overlay"]
        same(la, lb)
        assert la["imageHref"] == lb["imageHref"]  # the same picture (its data URL), not only the same place
        assert visible_title(la) == visible_title(lb) == [f"k = {k}"]  # the overlay's; the big one's is hidden
    assert errors == []


def test_a_change_that_moves_an_axis_merges_the_overlay_back(views):
    page, a, b, errors = views
    a.set(k=5), b.set(k=5)
    assert a.look()["overlay"]
    assert a.set(k=15) == ["_py2js_update"]  # beyond the path: the axes grow
    b.set(k=15)
    la, lb = a.look(), b.look()
    assert not la["overlay"]
    same(la, lb)
    assert visible_title(la) == ["k = 15"]
    a.set(k=6), b.set(k=6)  # back inside: a full redraw again (the axes shrink), then the overlay
    assert a.set(k=7) == ["_py2js_animate"]
    b.set(k=7)
    la, lb = a.look(), b.look()
    assert la["overlay"]
    same(la, lb)
    assert errors == []


def test_a_zoom_on_the_figure_merges_the_overlay_back_and_keeps_the_zoom(views):
    page, a, b, errors = views
    a.set(k=4), b.set(k=4)
    assert a.look()["overlay"]
    plot = page.locator("#a .nsewdrag").first.bounding_box()  # the main figure's plot area, under the overlay
    x0, y0 = plot["x"] + plot["width"] * 0.1, plot["y"] + plot["height"] * 0.1
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + plot["width"] * 0.6, y0 + plot["height"] * 0.7, steps=5)
    page.mouse.up()
    la = a.look()
    assert not la["overlay"]
    assert la["axes"]["xaxis"] != b.look()["axes"]["xaxis"]  # the reader's zoom stays
    assert len(la["points"]) == 1 and visible_title(la) == ["k = 4"]
    page.mouse.dblclick(x0, y0)  # and a double click gives the axes back to plotly's autorange
    page.wait_for_timeout(400)
    assert a.look()["axes"] == b.look()["axes"]
    assert errors == []


def test_a_resize_merges_the_overlay_back(views):
    page, a, b, errors = views
    a.set(k=9), b.set(k=9)  # (not at the path's end: a marker there widens the autorange by its half-width,
    a.set(k=6), b.set(k=6)  # which the overlay's frozen axes keep until the figure is redrawn whole)
    assert a.look()["overlay"]
    page.evaluate("async () => { for (const id of ['a', 'b']) { document.getElementById(id).style.width = '640px';"
                  " await tyViewObjects[id].autosizeFigure(); } }")  # what JupyterLab asks of a resized view
    page.wait_for_timeout(300)
    la = a.look()
    assert not la["overlay"] and len(la["points"]) == 1
    a.set(k=8), b.set(k=8)  # and the next move splits the figure again, at its new size
    page.wait_for_timeout(100)
    la, lb = a.look(), b.look()
    assert la["overlay"]
    same(la, lb)
    assert errors == []


def test_no_report_to_python_while_split_and_one_after_the_merge(views):
    """The front-end's reports of the values plotly.js filled in would describe the big figure's emptied traces
    while it is split: they wait for the merge."""
    page, a, b, errors = views
    reports = "() => tyViews.a.reports || 0"
    a.set(k=3), b.set(k=3)
    a.set(k=4), b.set(k=4)
    assert a.look()["overlay"]
    page.wait_for_timeout(600)  # the quiet spell after which a report would go (250 ms), twice over
    held = page.evaluate(reports)
    a.set(k=5), b.set(k=5)
    page.wait_for_timeout(600)
    assert page.evaluate(reports) == held
    a.set(k=15), b.set(k=15)  # merged
    page.wait_for_timeout(600)
    assert not a.look()["overlay"] and page.evaluate(reports) > held
    assert errors == []


# ----------------------------------------------------------------------------- figures of other shapes
MARK = "rgb(0, 114, 178)"  # the moving marker's colour in the figures below

POINTS = """([id, colour]) => {
  const root = document.getElementById(id), box = root.getBoundingClientRect();
  return [...root.querySelectorAll('.scatterlayer path.point')]
    .filter(p => (p.style.fill || '').replace(/ /g, '') === colour.replace(/ /g, ''))
    .map(p => { const r = p.getBoundingClientRect(); return [r.left + r.width / 2 - box.left, r.top + r.height / 2 - box.top]; });
}"""


def masked_explorer():
    """An image with a white mask over one cell and a line across it, both drawn above the image by plotly."""
    fig = go.Figure([go.Heatmap(z=[[0, 1], [1, 0]], showscale=False),
                     go.Scatter(x=[-0.5, 0.5, 0.5, -0.5, -0.5], y=[-0.5, -0.5, 0.5, 0.5, -0.5], fill="toself",
                                fillcolor="white", mode="lines", line=dict(width=0), name="mask")],
                    layout=dict(height=400, title=dict(text="h = 0"), showlegend=False,
                                shapes=[dict(type="line", xref="x", yref="y", x0=-0.5, x1=1.5, y0=1, y1=1)]))
    return Explorer(fig, lambda h: Patch({0: dict(z=[[h, 1], [1, 0]])}, dict(title=dict(text=f"h = {h}"))),
                    {"h": widgets.IntSlider(value=0, max=5)}, "h", [0])


def test_what_plotly_draws_above_a_moving_trace_stays_above_it(chromium):
    """A moving image under a static mask and a line (a shape): the overlay takes both, drawn above the image."""
    context, page, a, b, errors = pair(chromium, masked_explorer)
    try:
        for h in (2, 3):
            assert a.set(h=h) == ["_py2js_animate"] and b.set(h=h) == ["_py2js_update"]
        order = page.evaluate("""id => {
          const root = document.getElementById(id);
          const drawn = sel => [...root.querySelectorAll(sel)].filter(e => e.getBoundingClientRect().width > 0);
          const img = drawn('.hm image'), mask = drawn('.scatterlayer path.js-fill'), line = drawn('.shapelayer path');
          const after = (x, y) => !!(x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING);
          return [img.length, mask.length, line.length,
                  img.length === 1 && mask.length === 1 && after(img[0], mask[0]),
                  img.length === 1 && line.length === 1 && after(img[0], line[0]),
                  !!root.querySelector('.tyshare-live-overlay')];
        }""", "a")
        assert order == [1, 1, 1, True, True, True], order  # one of each, the mask and the line after the image
    finally:
        context.close()
    assert errors == []


def category_explorer():
    """Bars over categories a, b, c and a marker that moves up and down at c, drawn over them."""
    fig = go.Figure([go.Bar(x=["a", "b", "c"], y=[3, 5, 4], name="bars"),
                     go.Scatter(x=["c"], y=np.array([1.0]), mode="markers", name="mark",
                                marker=dict(color=MARK, size=14))],
                    layout=dict(height=400, yaxis=dict(range=[0, 10]), title=dict(text="v = 1")))
    return Explorer(fig, lambda v: Patch({1: dict(y=[v])}, dict(title=dict(text=f"v = {v}"))),
                    {"v": widgets.IntSlider(value=1, max=9)}, "v", [1])


def moving_x_explorer():
    """A marker that moves along x at a height given once, as a numpy array (a typed array in the front-end)."""
    fig = go.Figure([go.Scatter(x=[0, 10], y=[0, 10], mode="lines", name="path"),
                     go.Scatter(x=np.array([1.0]), y=np.array([5.0]), mode="markers", name="mark",
                                marker=dict(color=MARK, size=14))],
                    layout=dict(height=400, title=dict(text="x = 1")))
    return Explorer(fig, lambda v: Patch({1: dict(x=[v])}, dict(title=dict(text=f"x = {v}"))),
                    {"v": widgets.IntSlider(value=1, max=20)}, "v", [1])


@pytest.mark.parametrize("make, values", [(category_explorer, (3, 6, 8, 4, 7)),
                                          (moving_x_explorer, (3, 6, 15, 4, 7))], ids=["categories", "typed-arrays"])
def test_the_overlay_places_a_marker_as_a_whole_redraw_does(chromium, make, values):
    """On a category axis (the small figure gets the big one's categories) and with the other coordinate a typed
    array (kept one through the split and the merge), before and after a merge."""
    context, page, a, b, errors = pair(chromium, make)
    try:
        for v in values:  # (the moving_x marker leaves the path at 15: a whole redraw, merged)
            a.set(v=v), b.set(v=v)
            pa, pb = page.evaluate(POINTS, ["a", MARK]), page.evaluate(POINTS, ["b", MARK])
            assert len(pa) == len(pb) == 1 and pa[0] == pytest.approx(pb[0], abs=0.75), (v, pa, pb)
        assert page.evaluate("() => !!document.querySelector('#a .tyshare-live-overlay')")
    finally:
        context.close()
    assert errors == []


def test_the_pointer_over_the_figure_merges_the_overlay_back(views):
    """Hover needs the real traces: the pointer over the figure gives them back."""
    page, a, b, errors = views
    a.set(k=3), b.set(k=3)
    a.set(k=4), b.set(k=4)
    assert a.look()["overlay"]
    plot = page.locator("#a .nsewdrag").first.bounding_box()
    page.mouse.move(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2)
    page.wait_for_timeout(200)
    la = a.look()
    assert not la["overlay"]
    same(la, b.look())
    page.mouse.move(0, 0)
    assert errors == []


def test_a_legend_click_while_split_keeps_every_other_trace(views):
    """A click on one trace's legend entry merges the overlay back; the moving image comes back too."""
    page, a, b, errors = views
    a.set(k=3, heat=1), b.set(k=3, heat=1)
    a.set(k=4, heat=2), b.set(k=4, heat=2)
    assert a.look()["overlay"]
    entry = page.locator("#a .legend .traces").first  # "path"
    entry.click()
    page.wait_for_timeout(900)  # plotly.js waits out a double click before it acts on a legend click
    la = a.look()
    assert not la["overlay"] and la["images"] == 1 and len(la["points"]) == 1
    assert page.evaluate("() => document.getElementById('a')._fullData[0].visible") == "legendonly"
    entry.click()  # and back, for the tests after this one
    page.mouse.move(0, 0)
    page.wait_for_timeout(900)
    assert errors == []


def test_a_new_range_of_a_fixed_axis_moves_both_figures_and_keeps_the_overlay(chromium):
    """The ALBERT counter's axis end steps up as its bars grow: a fixed axis's new range goes through the overlay,
    the big figure's axis (and what else it draws on it) and the small figure's together."""
    def make():
        fig = go.Figure(explorer().figure)
        fig.update_layout(xaxis=dict(range=[-1, 11], autorange=False), yaxis=dict(range=[-1, 11], autorange=False))

        def update(k, heat):
            return Patch(traces={1: dict(x=[k], y=[k / 2]), 2: dict(z=[[heat, 1], [1, 0]])},
                         layout=dict(title=dict(text=f"k = {k}"),
                                     xaxis=dict(range=[-1, 11 if k <= 10 else 21], autorange=False)))
        return Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=20),
                                      "heat": widgets.IntSlider(value=0, min=0, max=3)}, "k", [0, 1])

    context, page, a, b, errors = pair(chromium, make, width=800)
    try:
        for k in (2, 3, 12, 14, 4, 5):
            kinds_a = a.set(k=k)
            b.set(k=k)
            assert set(kinds_a) == {"_py2js_animate"}
            la, lb = a.look(), b.look()
            assert la["overlay"]
            same(la, lb)
            assert la["axes"]["xaxis"] == [-1, 11 if k <= 10 else 21]
            assert visible_title(la) == visible_title(lb) == [f"k = {k}"]
        a.set(k=13), b.set(k=13)  # the wider range again, then the two merge back (the pointer over the figure)
        plot = page.locator("#a .nsewdrag").first.bounding_box()
        page.mouse.move(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2)
        page.wait_for_timeout(200)
        la = a.look()
        assert not la["overlay"] and la["axes"]["xaxis"] == [-1, 21]
        same(la, b.look())
        assert errors == []
    finally:
        context.close()


# ----------------------------------------------------------------------------- the quick move
# Both copies' pictures, pixel by pixel: the number of pixels whose colour differs by more than a quarter of the range
DIFF = """async ([a, b]) => {
  const load = async s => {
    const bitmap = await createImageBitmap(await (await fetch('data:image/png;base64,' + s)).blob());
    const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  };
  const A = await load(a), B = await load(b);
  if (A.width !== B.width || A.height !== B.height) return -1;
  let n = 0;
  for (let i = 0; i < A.data.length; i += 4) {
    if (Math.max(Math.abs(A.data[i] - B.data[i]), Math.abs(A.data[i + 1] - B.data[i + 1]),
                 Math.abs(A.data[i + 2] - B.data[i + 2])) > 64) n++;
  }
  return n;
}"""

# what the small figure did since the last call: quick moves (live_figure.js), plotly.js redraws of its traces and
# plotly.js relayouts (its title, when the quick move cannot write it)
COUNT = """id => {
  const ov = document.querySelector('#' + id + ' .tyshare-live-overlay');
  if (!ov) return null;
  if (!ov.tyCount) {
    ov.tyCount = {quick: 0, plotly: 0, title: 0};
    ov.on('tyshare_moved', () => ov.tyCount.quick++);
    ov.on('plotly_update', () => ov.tyCount.plotly++);
    ov.on('plotly_relayout', () => ov.tyCount.title++);
  }
  const c = Object.assign({}, ov.tyCount);
  ov.tyCount.quick = ov.tyCount.plotly = ov.tyCount.title = 0;
  return c;
}"""


def pixels_differing(page):
    shots = [base64.b64encode(page.locator(f"#{i}").screenshot()).decode() for i in "ab"]
    return page.evaluate(DIFF, shots)


def walk(chromium, make, control, values, width=700, also=None):
    """Both copies of ``make()`` moved through ``values`` of ``control``: at each step copy A gets an overlay
    message, the two look the same pixel for pixel, and ``also(page, a, value)`` holds. Returns what the small
    figure did at each step ({value: COUNT}; the first step's counts nothing: COUNT starts listening there)."""
    context, page, a, b, errors = pair(chromium, make, width)
    try:
        counts = {}
        for v in values:
            assert a.set(**{control: v}) == ["_py2js_animate"]
            b.set(**{control: v})
            counts[v] = page.evaluate(COUNT, "a")
            assert pixels_differing(page) == 0, v
            if also:
                also(page, a, v)
    finally:
        context.close()
    assert errors == []
    return counts


def quick_after_the_first(counts):
    """Every step after the first a quick move, none a plotly redraw of the small figure."""
    later = list(counts.items())[1:]
    assert all(c == {"quick": 1, "plotly": 0, "title": 0} for _, c in later), counts


def quick_explorer():
    """Scatter traces of every kind the quick move takes: line segments between gaps, more of them as k grows;
    markers with labels at both ends, more as k grows; markers with a colour each, moving; a label in rich text
    that stays; points outside the axes (hidden); a log axis. At k = 7 a new label in rich text: plotly's turn,
    after k = 1 in the test below, when the coloured markers (moved quickly at k = 1) stay where they are: plotly
    redraws them from the small figure's data, which the quick move kept up to date."""
    def update(k):
        xs = [float(i) if i % 3 != 2 else None for i in range(k + 2)]
        labels = [f"s{i}" if i in (0, k) else " " for i in range(k + 1)]  # (" ": see viz/recurrent.py _UNNAMED)
        if k == 7:
            labels[k] = "s<sub>7</sub>"
        return Patch(traces={
            0: dict(x=xs, y=[(i % 4) + 1.0 if x is not None else None for i, x in enumerate(xs)]),
            1: dict(x=list(range(k + 1)), y=[0.5] * (k + 1), text=labels),
            2: dict(y=[5.0, 6.0 + k % 2, 12.0 if k % 2 else 7.0]),  # the third leaves the axes at odd k
            3: dict(x=[k / 2]),
            4: dict(y=np.logspace(0, -k, 8))},
            layout=dict(title=dict(text=f"k = {k}")))

    fig = go.Figure([go.Scatter(mode="lines", line=dict(color="rgb(230, 159, 0)", width=3), name="segments"),
                     go.Scatter(mode="markers+text", textposition="top center", marker=dict(size=14, color="white",
                                line=dict(width=2, color="#444")), cliponaxis=False, name="steps"),
                     go.Scatter(x=[2, 4, 6], y=[5, 6, 7], mode="markers", name="coloured",
                                marker=dict(size=16, color=["#D55E00", "#0072B2", "#009E73"])),
                     go.Scatter(x=[0.0], y=[3.0], mode="markers+text", text=["W<sub>x</sub>"],
                                textposition="middle right",
                                marker=dict(size=18, symbol="square", color=MARK), name="tensor"),
                     go.Scatter(x=np.arange(8.0), mode="lines+markers", xaxis="x2", yaxis="y2", name="decay")],
                    layout=dict(height=420, showlegend=False,
                                xaxis=dict(domain=[0, 0.6], range=[-1, 8.5], autorange=False),  # k = 9: outside
                                yaxis=dict(range=[-1, 9], autorange=False),
                                xaxis2=dict(domain=[0.7, 1], range=[-1, 8], autorange=False),
                                yaxis2=dict(anchor="x2", type="log", range=[-12, 1], autorange=False)))
    explorer = Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=9)}, "k", [1])
    apply_patch(explorer.figure, update(1))
    return explorer


def test_the_quick_move_draws_what_plotly_draws(chromium):
    """Every step of the quick move's figure, pixel for pixel as a whole redraw; moved by live_figure.js, not redrawn
    by plotly.js, except where it cannot (a new label in rich text), and from there on quick again."""
    def split_with_its_title(page, a, k):
        assert page.evaluate("() => !!document.querySelector('#a .tyshare-live-overlay')")
        assert visible_title(a.look()) == [f"k = {k}"]

    counts = walk(chromium, quick_explorer, "k", (2, 3, 4, 8, 9, 5, 0, 1, 7, 6), also=split_with_its_title)
    moved_by_plotly = {k for k, c in counts.items() if c and c["plotly"]}
    assert moved_by_plotly == {7}, counts
    assert all(c["quick"] == 1 for k, c in counts.items() if k not in (2, 7)), counts  # (2: the split's)


def test_the_unrolled_network_moves_quickly_as_plotly_draws_it(chromium):
    """The recurrent chapter's explorer (twelve traces move at each step): quick moves only, and the picture of a
    whole redraw, up and down in T (a node named at one T and unnamed at the next, and back)."""
    from tyshare_lib.viz import recurrent as viz_rec

    quick_after_the_first(walk(chromium, lambda: viz_rec.unrolled_explorer(T=5), "T", (6, 5, 4, 9, 3, 1, 2),
                               width=900))

def bars_explorer(barmode):
    """Bars whose lengths change, in the given mode: three stacked horizontal bars over categories (the ALBERT
    counter's), a zero-length one at k = 2, negative lengths at k = 6 ('relative' stacks them apart); a label
    beside them; vertical bars with a label each at k = 5 only, in each other's places at k = 0 (plotly's turn
    both); a title in two lines at k = 4."""
    def update(k):
        return Patch(traces={
            0: dict(x=[1.0 + k, 2.0, 0.0 if k == 2 else 1.5]),
            1: dict(x=[0.5 * k, -1.0 if k == 6 else 1.0, 2.0]),
            2: dict(x=[1.0, 0.25 * k, 1.0]),
            3: dict(x=[2.0 + 1.75 * k], text=[f"◀ {2 + 1.75 * k:.2f}"]),
            4: dict(x=[1, 0] if k == 0 else [0, 1], y=[k, 10 - k],
                    text=[str(k), str(10 - k)] if k == 5 else None)},
            layout=dict(title=dict(text=f"k = {k}" if k != 4 else "k = 4<br>in two lines")))

    fig = go.Figure([go.Bar(y=["a", "b", "c"], orientation="h", name=name) for name in ("one", "two", "three")]
                    + [go.Scatter(y=["c"], mode="text", textposition="middle right", cliponaxis=False, name="total"),
                       go.Bar(xaxis="x2", yaxis="y2", name="pair",
                              marker=dict(color=MARK, line=dict(width=2, color="black")))],
                    layout=dict(height=420, barmode=barmode, showlegend=False,
                                xaxis=dict(domain=[0, 0.6], range=[-3, 22], autorange=False),
                                xaxis2=dict(domain=[0.7, 1], range=[-0.6, 1.6], autorange=False),
                                yaxis2=dict(anchor="x2", range=[0, 11], autorange=False)))
    explorer = Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=9)}, "k", [1])
    apply_patch(explorer.figure, update(1))
    return explorer


@pytest.mark.parametrize("barmode", ["stack", "relative", "group"])
def test_the_quick_move_draws_bars_as_plotly_does(chromium, barmode):
    """Bars lengthen and shorten, stacked or side by side: pixel for pixel as a whole redraw; quick, except when a
    bar gets a label (k = 5) and the step after it (its label goes), and when two bars change places (k = 0); a
    title in two lines is plotly's to draw."""
    counts = walk(chromium, lambda: bars_explorer(barmode), "k", (2, 3, 4, 6, 5, 7, 1, 0))
    assert {k for k, c in counts.items() if c and c["plotly"]} == {5, 7, 0}, counts
    assert all(c["quick"] == 1 for k, c in counts.items() if k not in (2, 5, 7, 0)), counts

def labelled_bars_explorer(anchor):
    """Grouped bars with their counts inside (the embeddings chapter's), on a log axis, the labels one size
    (layout.uniformtext; hidden below its minsize) and anchored at ``anchor``: as k grows, some bars grow
    too short for their labels (shrunk, turned) and others long enough; one is too short for its label at
    k < 3 (hidden) and long enough after."""
    def update(k):
        one, two = [10.0 ** (1 + k / 3), 30.0, 10.0 ** (4 - k / 3)], [10.0 ** (k / 10 - 0.45), 10.0 ** (k / 2), 500.0]
        return Patch(traces={0: dict(y=one, text=[f"{v:,.0f} in all" for v in one]),
                             1: dict(y=two, text=[f"{v:,.1f} units" for v in two])},
                     layout=dict(title=dict(text=f"k = {k}")))

    fig = go.Figure([go.Bar(x=["a", "b", "c"], textposition="inside", insidetextanchor=anchor, name=name,
                            textfont=dict(size=16)) for name in ("one", "two")],
                    layout=dict(height=420, barmode="group", showlegend=False,
                                uniformtext=dict(mode="hide", minsize=11),
                                yaxis=dict(type="log", range=[-0.5, 5], autorange=False)))
    explorer = Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=9)}, "k", [1])
    apply_patch(explorer.figure, update(1))
    return explorer


@pytest.mark.parametrize("anchor", ["end", "middle", "start"])
def test_the_quick_move_places_labels_inside_bars_as_plotly_does(chromium, anchor):
    quick_after_the_first(walk(chromium, lambda: labelled_bars_explorer(anchor), "k", (2, 3, 5, 9, 6, 0, 1, 4)))

def image_explorer(reversed_rows):
    """A heatmap whose values change, on a fixed colour scale (the continuum chapter's filter): values beyond
    zmin and zmax, a missing one; rows upward or, as an image's, downward; a marker moving over it."""
    def update(k):
        z = [[(i * 5 + j - 12) * k / 20 for j in range(5)] for i in range(4)]
        z[1][2] = None if k % 2 else z[1][2]
        return Patch(traces={0: dict(z=z), 1: dict(x=[k / 2], y=[1.5])}, layout=dict(title=dict(text=f"k = {k}")))

    fig = go.Figure([go.Heatmap(z=[[0.0] * 5] * 4, zmin=-1.5, zmax=2.5, showscale=False,
                                colorscale=[[0, "#0072B2"], [0.3, "white"], [1, "rgb(213, 94, 0)"]]),
                     go.Scatter(mode="markers", marker=dict(size=14, color=MARK), name="mark")],
                    layout=dict(height=400, showlegend=False, xaxis=dict(range=[-0.5, 4.5], autorange=False),
                                yaxis=dict(range=[3.5, -0.5] if reversed_rows else [-0.5, 3.5], autorange=False)))
    explorer = Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=9)}, "k", [1])
    apply_patch(explorer.figure, update(1))
    return explorer


@pytest.mark.parametrize("reversed_rows", [False, True], ids=["rows-up", "rows-down"])
def test_the_quick_move_draws_an_image_as_plotly_does(chromium, reversed_rows):
    def same_picture(page, a, k):  # byte for byte
        hrefs = page.evaluate("""() => ['a', 'b'].map(id => [...document.querySelectorAll('#' + id + ' .hm image')]
          .map(e => e.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || e.getAttribute('href'))
          .filter(h => h))""")
        assert len(hrefs[0]) == 1 and hrefs[0] == hrefs[1], k

    quick_after_the_first(walk(chromium, lambda: image_explorer(reversed_rows), "k", (2, 3, 9, 0, 5, 8),
                               also=same_picture))


def labelled_image_explorer(reversed_rows, reversed_columns=False):
    """A heatmap drawn brick by brick (gaps between them, so plotly's default way, not the pixelated image), rows
    upward or downward, columns rightward or leftward, values beyond its scale, with two-line labels in rich text whose colour follows the brick's
    (dark and light bricks swap as k crosses 4); a filled polygon ('toself') that moves over it, in two pieces at
    k = 3; a title in rich text (a coloured mark, a bold number). At k = 7 a label takes a third line, at k = 0 the
    title takes another tag in place of one: plotly's turn, and again at the step after each (its elements were
    made for that step's text). At k = 8 and 9 one label is left out, not the same one: plotly's turn too."""
    def update(k):
        z = [[(3 * i + j - 4) * (k - 4) / 2 for j in range(3)] for i in range(3)]
        text = [[f"{v:.2f}<br>·<b>{j}</b>" for j, v in enumerate(row)] for row in z]
        if k == 7:
            text[1][1] += "<br>three"
        if k in (8, 9):
            text[2 if k == 8 else 0][2 if k == 8 else 0] = ""
        gap = k == 3
        x = [-0.4, k / 4, k / 4, None if gap else -0.4, -0.4, -0.4, -0.2]
        y = [-0.4, -0.4, 1.0, 1.0, 1.4, 2.2, 2.2]
        mark = "<i>■</i>" if k == 0 else "<span style='color:#D55E00'>■</span>"
        return Patch(traces={0: dict(z=z, text=text), 1: dict(x=x, y=y)},
                     layout=dict(title=dict(text=f"{mark} the product at k = <b>{k}</b>, summed")))

    fig = go.Figure([go.Heatmap(z=[[0.0] * 3] * 3, text=[[""] * 3] * 3, texttemplate="%{text}",
                                textfont=dict(size=13), xgap=2, ygap=2, zmin=-2, zmax=2, showscale=False,
                                colorscale=[[0, "#5E3C99"], [0.5, "#F7F7F7"], [1, "#B35806"]]),
                     go.Scatter(mode="lines", fill="toself", fillcolor="rgba(0, 158, 115, 0.5)",
                                line=dict(width=0), name="mask")],
                    layout=dict(height=420, showlegend=False,
                                xaxis=dict(range=[2.5, -0.5] if reversed_columns else [-0.5, 2.5], autorange=False),
                                yaxis=dict(range=[2.5, -0.5] if reversed_rows else [-0.5, 2.5], autorange=False)))
    explorer = Explorer(fig, update, {"k": widgets.IntSlider(value=1, min=0, max=9)}, "k", [1])
    apply_patch(explorer.figure, update(1))
    return explorer


@pytest.mark.parametrize("reversed_rows, reversed_columns", [(False, False), (True, False), (True, True)],
                         ids=["rows-up", "rows-down", "columns-leftward"])
def test_the_quick_move_draws_bricks_labels_a_fill_and_a_rich_title_as_plotly_does(chromium, reversed_rows,
                                                                                   reversed_columns):
    def label_colours(page, a, k):  # light labels on dark bricks, dark on light ones, in both copies
        fills = page.evaluate("""() => ['a', 'b'].map(id => [...document.querySelectorAll('#' + id + ' .heatmap-label text')]
          .map(t => getComputedStyle(t).fill))""")
        assert fills[0] == fills[1] and len(set(fills[0])) == (1 if k == 4 else 2), (k, fills)

    counts = walk(chromium, lambda: labelled_image_explorer(reversed_rows, reversed_columns), "k",
                  (2, 3, 5, 7, 6, 0, 4, 8, 9, 1),
                  also=label_colours)
    assert {k for k, c in counts.items() if c and c["plotly"]} == {7, 6, 8, 9, 1}, counts
    assert {k for k, c in counts.items() if c and c["title"]} == {0, 4}, counts  # (its bricks and fill: quick)
    assert all(c == {"quick": 1, "plotly": 0, "title": 0} for k, c in counts.items() if k in (3, 5)), counts


def test_the_convolution_explorer_moves_quickly_as_plotly_draws_it(chromium):
    """The convolution chapter's sliding kernel: the products' bricks and two-line labels, the mask over the output
    still to come, the window, the cell and the title in rich text all move without plotly.js, as it draws them."""
    from tyshare_lib.viz import conv as viz_conv

    quick_after_the_first(walk(chromium, lambda: viz_conv.kernel_explorer(size=8), "step", (2, 3, 6, 7, 20, 36, 1),
                               width=900))
