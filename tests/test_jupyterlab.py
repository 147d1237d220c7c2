"""The chapters as a reader opens them in JupyterLab (issue: live notebooks that read as well as the book).

JupyterLab is started the way the README says (``jupyter lab --config=jupyter/jupyter_lab_config.py book/``),
on loopback, with fresh user settings and workspaces (nothing from the tester's home directory), over a copy
of ``book/`` (JupyterLab autosaves a notebook it has run). Chromium may reach 127.0.0.1 only.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

NOTEBOOKS = sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))
TOKEN = "tied-and-shared"
RAW_TARGET = re.compile(r"^\([\w.:-]+\)=$", re.M)
EXPLORER = "tying.ipynb"  # the chapter whose live explorer is presented in the slide view test
# Text the reader can see: a rendered Markdown cell keeps its source in a hidden editor, which must not count.
VISIBLE_TEXT = """(() => {
  const walker = document.createTreeWalker(document.querySelector('.jp-Notebook'), NodeFilter.SHOW_TEXT);
  const lines = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.checkVisibility() && n.textContent.trim()) lines.push(n.textContent.trim());
  }
  return lines.join('\\n');
})()"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Base URL of a JupyterLab server over a copy of book/, started with the repository's config."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "book", home / "book")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = open(home / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyter", "lab", f"--config={ROOT}/jupyter/jupyter_lab_config.py",
                             "--no-browser", f"--port={port}", f"--IdentityProvider.token={TOKEN}", "--allow-root",
                             f"--ServerApp.root_dir={home / 'book'}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api?token={TOKEN}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(home / 'server.log').read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def lab_page(chromium):
    from conftest import OfflinePage

    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    yield OfflinePage(context.new_page())
    context.close()


def open_notebook(page, base: str, name: str) -> None:
    # A workspace of its own: JupyterLab does not restore tabs from an earlier test.
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)


def scroll_to_cell(page, source_text: str):
    """Scroll the notebook until the code cell whose source contains ``source_text`` is drawn; return it."""
    page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollTo(0, 0)")
    cell = page.locator(".jp-CodeCell").filter(has=page.locator(".jp-InputArea", has_text=source_text)).first
    for _ in range(200):
        if cell.count():
            cell.scroll_into_view_if_needed()
            return cell
        page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollBy(0, 400)")
        page.wait_for_timeout(100)
    raise AssertionError(f"no code cell with {source_text!r}")


def run_command(page, label: str) -> None:
    """Run a JupyterLab command by its label from the command palette, as a teacher would."""
    page.keyboard.press("Control+Shift+C")
    search = page.locator(".jp-ModalCommandPalette input")
    search.fill(label)
    active = page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item.lm-mod-active")
    active.filter(has_text=label).wait_for(timeout=10_000)  # the best match is the command asked for
    page.keyboard.press("Enter")


def read_whole_notebook(page) -> str:
    """The rendered text of every cell: JupyterLab draws only the cells in view, so scroll through them."""
    seen: list[str] = []
    page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollTo(0, 0)")
    for _ in range(400):
        page.wait_for_timeout(100)
        try:  # a Markdown cell that has just scrolled into view shows its source until it is rendered
            page.wait_for_function("[...document.querySelectorAll('.jp-MarkdownCell')]"
                                   ".every(c => c.classList.contains('jp-mod-rendered'))", timeout=5000)
        except Exception:
            pass  # still unrendered after 5 s: the raw text it shows is what the reader sees, and is checked
        seen.append(page.evaluate(VISIBLE_TEXT))
        at_end = page.evaluate("(() => { const o = document.querySelector('.jp-WindowedPanel-outer');"
                               " const end = o.scrollTop + o.clientHeight >= o.scrollHeight - 2;"
                               " o.scrollBy(0, o.clientHeight * 0.8); return end; })()")
        if at_end:
            break
    return "\n".join(seen)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_reads_as_in_the_book(lab, lab_page, name):
    page = lab_page.page
    open_notebook(page, lab, name)
    text = read_whole_notebook(page)
    assert ":::{" not in text, f"{name}: raw MyST directive text is visible"
    assert not RAW_TARGET.findall(text), f"{name}: raw targets visible: {RAW_TARGET.findall(text)[:3]}"
    assert "{ref}" not in text and "{doc}" not in text, f"{name}: a raw cross-reference role is visible"
    assert re.search(r"Exercise\s+\d", text), f"{name}: no rendered exercise"
    # Solutions are folded until clicked.
    page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollTo(0, 1e9)")
    page.wait_for_timeout(800)
    details = page.locator(".jp-Notebook details").filter(has_text="Solution to")
    assert details.count() >= 1, f"{name}: no folded solution in view at the end of the chapter"
    first = details.first
    assert first.evaluate("d => d.open") is False
    first.locator("summary").click()
    assert first.evaluate("d => d.open") is True
    assert page.locator(".Toastify__toast").count() == 0, f"{name}: a pop-up is shown"
    assert lab_page.blocked == [], f"{name}: requests left the machine: {lab_page.blocked[:3]}"


def test_presentation_view_keeps_the_explorer_live(lab, lab_page):
    """The README's recipe for presenting a chapter: run it, then Simple Interface + Presentation Mode (large
    type, one document); the explorer's slider still recomputes its figure."""
    page = lab_page.page
    open_notebook(page, lab, EXPLORER)
    page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=120_000)  # kernel ready
    run_command(page, "Run All Cells")
    page.wait_for_function("document.body.innerText.includes('| Busy')", timeout=30_000)
    page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=240_000)
    run_command(page, "Simple Interface")
    run_command(page, "Presentation Mode")
    assert page.locator(".jp-LabShell.jp-mod-presentationMode").count() == 1
    cell = scroll_to_cell(page, "lambda_explorer(")
    handle = cell.locator(".noUi-handle").first
    handle.wait_for(timeout=60_000)
    title_js = "[...document.querySelectorAll('.jp-OutputArea .js-plotly-plot .gtitle')].map(t => t.textContent).join('|')"
    before = page.evaluate(title_js)
    assert before, "the explorer's figure is not drawn"
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{title_js} !== {before!r}", timeout=30_000)
    assert lab_page.blocked == [], f"requests left the machine: {lab_page.blocked[:3]}"
