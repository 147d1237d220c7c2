#!/usr/bin/env bash
# Refresh the vendored KaTeX: the book's formulas are typeset when the book is built (tyshare_lib/sphinx_math.py),
# so the reader's browser gets HTML, a stylesheet and fonts, and runs no maths script.
#
#   tools/vendor_katex.sh [version]        # default: the version vendored now
#
# Needs npm and the npm registry (not needed to build or read the book: the result is committed).
#   tyshare_lib/vendor/katex.min.js          run at build time, in an embedded V8 (mini-racer); never served
#   tyshare_lib/static/katex/katex.min.css   served; its @font-face rules keep only the woff2 fonts
#   tyshare_lib/static/katex/fonts/*.woff2   served, fetched by the browser only for the faces a page uses
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-0.19.1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack "katex@$version" > /dev/null 2>&1
tar xzf "katex-$version.tgz"
dist=package/dist
mkdir -p "$root/tyshare_lib/vendor" "$root/tyshare_lib/static/katex/fonts"
cp "$dist/katex.min.js" "$root/tyshare_lib/vendor/katex.min.js"
cp package/LICENSE "$root/tyshare_lib/vendor/KATEX_LICENSE"
cp package/LICENSE "$root/tyshare_lib/static/katex/LICENSE"
rm -f "$root/tyshare_lib/static/katex/fonts/"*
cp "$dist"/fonts/*.woff2 "$root/tyshare_lib/static/katex/fonts/"
# Every browser the book targets reads woff2: drop the woff and ttf fallbacks, whose files are not shipped.
python3 - "$dist/katex.min.css" "$root/tyshare_lib/static/katex/katex.min.css" <<'PY'
import re, sys
css = open(sys.argv[1], encoding="utf-8").read()
css, n = re.subn(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
assert n > 0 and ".woff)" not in css and ".ttf)" not in css, n
open(sys.argv[2], "w", encoding="utf-8").write(css)
PY
echo "KaTeX $version vendored: $(wc -c < "$root/tyshare_lib/vendor/katex.min.js") bytes of script (build time)," \
     "$(cat "$root"/tyshare_lib/static/katex/fonts/*.woff2 | wc -c) bytes of woff2 fonts"
