#!/usr/bin/env bash
# Rebuild tyshare_lib/static/plotly-tyshare.min.js: plotly.js with only the trace types the book draws.
#
#   tools/build_plotly_bundle.sh            # the plotly.js version plotly.py bundles
#
# Needs node/npm and the npm registry (not needed to build or read the book: the result is committed).
# The book draws scatter, bar, heatmap and histogram traces (tests/test_sphinx_ext.py checks that every
# go.<Trace> in tyshare_lib/viz is registered here). Against the official cartesian partial bundle (1.5 MB) this
# one is 1.2 MB, and Chromium loads and runs it 2-3x faster on this machine (benchmarks/bench_pages.py,
# tyshare_lib/static/README.md): plotly.js's own dist wraps everything in one parenthesised factory that V8
# compiles eagerly, whereas an esbuild bundle leaves functions to be compiled when first called.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(python -c 'import plotly.offline as o; print(o.get_plotlyjs_version())')"
esbuild_version="0.28.2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y > /dev/null
npm install --no-audit --no-fund --ignore-scripts "plotly.js@$version" "esbuild@$esbuild_version" > npm.log 2>&1 \
  || { tail -20 npm.log; exit 1; }
# One patch to plotly.js's sources (asserted to apply: a release that moves the code fails here, loudly).
# A slider's first draw measures the label and the current-value text of every step to find the widest and the
# tallest; each measurement forces a layout of the whole page (plotly.js's Drawing.bBox). For the convolution
# chapter's 196-step animation that was 392 layouts, ~300 ms of its first draw. The patched findDimensions
# measures only the steps whose labels can be the widest (the longest plain texts, up to 5 spread over the
# slider) or the tallest (the first of the most lines). The book's step labels are numbers (digits of one width)
# and short words, so the result is the same; tests/test_sphinx_ext.py checks the patch is in the bundle.
python3 - node_modules/plotly.js/src/components/sliders/draw.js <<'PY'
import sys
path = sys.argv[1]
src = open(path, encoding="utf-8").read()
anchor = """    var sliderLabels = Drawing.tester.selectAll('g.' + constants.labelGroupClass)
        .data(sliderOpts._visibleSteps);
"""
assert src.count(anchor) == 1 and src.count("function findDimensions(gd, sliderOpts) {") == 1, "plotly.js moved"
src = src.replace(anchor, anchor.replace("sliderOpts._visibleSteps", "stepsToMeasure(sliderOpts._visibleSteps)"))
src = src.replace("function findDimensions(gd, sliderOpts) {", r"""// tyshare patch (tools/build_plotly_bundle.sh): measure the steps whose labels can be the widest or the
// tallest, not every step (each measurement forces a layout of the page).
function stepsToMeasure(steps) {
    var BR = /<br\s*\/?>/gi;
    var lines = function(s) { return (String(s.label).match(BR) || []).length; };
    var length = function(s) {
        return String(s.label).replace(BR, '\n').replace(/<[^>]*>/g, '').replace(/&[^;\s]+;/g, '_').length;
    };
    var maxLength = 0;
    var maxLines = 0;
    var i;
    for(i = 0; i < steps.length; i++) {
        maxLength = Math.max(maxLength, length(steps[i]));
        maxLines = Math.max(maxLines, lines(steps[i]));
    }
    var longest = steps.filter(function(s) { return length(s) === maxLength; });
    var picked = [];
    var n = Math.min(5, longest.length);
    for(i = 0; i < n; i++) picked.push(longest[Math.round(i * (longest.length - 1) / Math.max(1, n - 1))]);
    for(i = 0; i < steps.length; i++) if(lines(steps[i]) === maxLines) { picked.push(steps[i]); break; }
    return picked.filter(function(s, k) { return picked.indexOf(s) === k; });
}

function findDimensions(gd, sliderOpts) {""")
open(path, "w", encoding="utf-8").write(src)
PY
cat > entry.js <<'EOF'
'use strict';
// core registers scatter and every component (legend, sliders, menus, annotations, shapes, images, ...)
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/histogram'),
]);
module.exports = Plotly;
EOF
# The same settings as plotly.js's own esbuild-config.js, minus the plugins only WebGL/map traces need.
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --log-level=warning --outfile=bundle.js
out="$root/tyshare_lib/static/plotly-tyshare.min.js"
{
  # V8's explicit compile hint (Chrome 136+): compile every function while the file streams in, off the main
  # thread, instead of each on its first call while the first figure is drawn (-15-20 % to the first figure
  # here). It must be the file's first line.
  printf '//# allFunctionsCalledOnLoad\n'
  printf '/**\n* plotly.js (tyshare: scatter, bar, heatmap, histogram - minified; sliders measure fewer steps) v%s\n' "$version"
  printf '* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n'
  printf '* Built by tools/build_plotly_bundle.sh from the npm package plotly.js@%s with esbuild %s\n*/\n' \
    "$version" "$esbuild_version"
  cat bundle.js
} > "$out"
echo "$out: $(wc -c < "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1)"
