#!/usr/bin/env bash
# One prepared run on a lent CUDA machine (no network there): install the carried wheels (.gpu/wheels,
# made with `pip download` for its Python 3.12), then run the GPU checks, the unit tests and every
# notebook with TYSHARE_DEVICE=cuda. Results go to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-index --find-links .gpu/wheels plotly ipywidgets anywidget nbval ipykernel \
  nbclient nbformat tqdm scikit-learn hypothesis pyyaml 2>&1 | grep -v "^WARNING" | tail -3
export PYTHONPATH=$PWD TYSHARE_DEVICE=cuda
python3 benchmarks/gpu_check.py 2>&1 | tee "$OUT/gpu_check.txt"
python3 -m pytest tests -q -p no:cacheprovider -o addopts="" --ignore=tests/test_book_browser.py \
  --ignore=tests/test_sphinx_ext.py --ignore=tests/test_jupyterlab.py 2>&1 | tail -6 | tee "$OUT/unit.txt"
python3 -m pytest book -q -p no:cacheprovider -o addopts="--nbval-lax" 2>&1 | tail -6 | tee "$OUT/nbval.txt"
python3 benchmarks/bench.py notebooks 2>&1 | grep -v "^\[" | tee "$OUT/bench_notebooks.txt"
