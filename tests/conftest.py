"""Shared fixtures: the CPU as device, the built book served on loopback, and an offline Chromium page."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The built book the browser tests read: _build/html, or another built copy named by TYSHARE_BUILT.
BUILT = (ROOT / os.environ["TYSHARE_BUILT"]).resolve() if os.environ.get("TYSHARE_BUILT") else ROOT / "_build" / "html"
CHROMIUM = os.environ.get("TYSHARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Unit tests run on the CPU unless the caller asks otherwise (the GPU check sets TYSHARE_DEVICE=cuda).
os.environ.setdefault("TYSHARE_DEVICE", "cpu")
# No progress bars in test output (the chapters show them in live notebooks).
os.environ.setdefault("TYSHARE_PROGRESS", "0")


def book_pages() -> list[str]:
    """Every page of the book, as its path under _build/html, in table-of-contents order (read from _toc.yml,
    so a new chapter is covered by the page tests without editing them)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    chapters = [c for part in toc.get("parts", []) for c in part["chapters"]] + toc.get("chapters", [])
    files = [toc["root"]] + [entry["file"] for entry in chapters]
    return [f"{f}.html" for f in files]


def start_lab(root_dir: Path, home: Path, token: str, pythonpath: str = ""):
    """A JupyterLab server over ``root_dir``, started with the repository's config and fresh settings under
    ``home`` (the JupyterLab tests and ``benchmarks/bench_lab.py``); returns (process, base URL, log file).
    ``pythonpath`` goes first on the kernels' path (e.g. another copy of tyshare_lib to time)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in [pythonpath, env.get("PYTHONPATH", "")] if p)
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", f"--config={ROOT}/jupyter/jupyter_lab_config.py",
                             "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}", "--allow-root",
                             f"--ServerApp.root_dir={root_dir}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{base}/api?token={token}", timeout=2)
            return proc, base, log
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    log.close()
    raise RuntimeError(f"JupyterLab did not start: {(home / 'server.log').read_text()[-2000:]}")


def _missing(reason: str):
    """In CI a missing prerequisite is a failure; on a developer's machine, a skip that says what to do."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def book_url():
    """Base URL of the built book, served from _build/html on 127.0.0.1."""
    if not (BUILT / "book" / "intro.html").exists():
        _missing("the book is not built: run `jupyter-book build . --all -W` first")
    url, server = serve(BUILT)
    yield url
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 in a daemon thread (the browser tests, benchmarks and tools share it);
    returns (base URL, server)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


class OfflinePage:
    """A Chromium page that may only reach 127.0.0.1; it records console errors and blocked requests."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.blocked: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        _missing(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    yield OfflinePage(context.new_page())
    context.close()
