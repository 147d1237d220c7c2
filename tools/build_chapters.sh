#!/usr/bin/env bash
# Build only some chapters into their own folder, for quick looks while the whole book is being worked on:
#   tools/build_chapters.sh /tmp/out tying conv     ->  /tmp/out/_build/html/book/{tying,conv}.html
# The full book is still built with `jupyter-book build . --all -W` (README).
set -euo pipefail
out="$1"; shift
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
{ echo "format: jb-book"; echo "root: book/intro"; echo "chapters:"; for c in "$@"; do echo "  - file: book/$c"; done; } > "$out/_toc.yml"
cd "$root"
jupyter-book build . --all --toc "$out/_toc.yml" --path-output "$out" > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
echo "$out/_build/html"
