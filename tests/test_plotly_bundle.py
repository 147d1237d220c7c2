"""The served plotly.js bundle's one patch, seen working in Chromium (tools/build_plotly_bundle.sh).

A slider's first draw measures step labels to find the widest and the tallest; the patched bundle measures only
the candidates (the longest plain texts, up to 5, and the first label of the most lines), not every step. Each
measurement is a ``g.slider-labels``-class group put into plotly's hidden tester: we count them as they come.
"""
from __future__ import annotations

import json

import pytest

from conftest import serve
from tyshare_lib.sphinx_ext import PLOTLY_JS, STATIC

PAGE = f"""<!doctype html><html><head><script src="/{PLOTLY_JS}"></script></head><body><div id="gd"></div><script>
window.measured = [];
new MutationObserver(recs => {{ for (const r of recs) for (const n of r.addedNodes)
  if (n.nodeType === 1 && n.matches('g.slider-label-group')) window.measured.push(n); }})
  .observe(document.body, {{childList: true, subtree: true}});
</script></body></html>"""


@pytest.fixture(scope="module")
def bundle_page(chromium):
    base, server = serve(STATIC)
    page = chromium.new_page(viewport={"width": 1000, "height": 600})
    page.route(f"{base}/test.html", lambda route: route.fulfill(body=PAGE, content_type="text/html"))
    page.goto(f"{base}/test.html")
    yield page
    page.close()
    server.shutdown()


def _draw(page, labels: list[str]) -> dict:
    """Draw a figure with one slider of these step labels: the labels measured in plotly's tester, and the
    slider's drawn texts (the current value first, then the tick labels)."""
    steps = [{"label": lab, "method": "skip", "args": []} for lab in labels]
    return page.evaluate("""async (steps) => {
      window.measured = [];
      const gd = document.getElementById('gd');
      Plotly.purge(gd);
      await Plotly.newPlot(gd, [{x: [0, 1], y: [0, 1]}],
                           {width: 900, height: 400, sliders: [{steps, currentvalue: {prefix: 'n = '}}]});
      await new Promise(r => setTimeout(r, 0));  // the observer's last records
      return {measured: window.measured.filter(n => !gd.contains(n)).map(n => n.textContent),
              drawn: [...gd.querySelectorAll('.slider-group .slider-label')].map(t => t.textContent)};
    }""", steps)


def test_a_long_slider_measures_a_few_candidate_labels_not_every_step(bundle_page):
    labels = [str(i) for i in range(1, 197)]  # the convolution animation's 196 steps
    out = _draw(bundle_page, labels)
    # the longest labels (3 digits: 100..196), five spread over them, plus the first label of the most lines
    # (all have one: "1"); plotly.js draws the sliders twice (before and after the margins settle)
    assert set(out["measured"]) == {"100", "124", "148", "172", "196", "1"}, out["measured"]
    assert len(out["measured"]) <= 2 * 6
    # the slider still shows the current value and labels its ticks at a stride, from the first step
    current, ticks = out["drawn"][0], out["drawn"][1:]
    assert current == "n = 1" and ticks[:3] == ["1", "9", "17"] and len(ticks) == 25, out["drawn"]


def test_the_tallest_label_is_measured_even_when_it_is_not_the_longest(bundle_page):
    out = _draw(bundle_page, ["0.001", "0.01", "a<br>b", "10", "0.0001"])
    assert set(out["measured"]) == {"0.0001", "ab"}, out["measured"]  # "a<br>b" is drawn as two tspans
