"""The chapters as a reader opens them in JupyterLab (issue: live notebooks that read as well as the book).

JupyterLab is started the way the README says (``jupyter lab --config=jupyter/jupyter_lab_config.py book/``),
on loopback, with fresh user settings and workspaces (nothing from the tester's home directory), over a copy
of ``book/`` (JupyterLab autosaves a notebook it has run). Chromium may reach 127.0.0.1 only.
"""
from __future__ import annotations

import json
import re
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, start_lab

NOTEBOOKS = sorted(p.name for p in (ROOT / "book").glob("*.ipynb"))
TOKEN = "tied-and-shared"
RAW_TARGET = re.compile(r"^\([\w.:-]+\)=$", re.M)
EXPLORER = "tying.ipynb"  # the chapter whose live explorer is presented in the slide view test


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Base URL of a JupyterLab server over a copy of book/, started with the repository's config."""
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "book", home / "book")
    try:
        proc, base, log = start_lab(home / "book", home, TOKEN)
    except RuntimeError as err:
        pytest.fail(str(err))
    try:
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
    # The notebook shows one empty cell until the file has loaded; every chapter starts with Markdown.
    page.wait_for_selector(".jp-Notebook .jp-MarkdownCell", timeout=60_000)


# One round trip per chapter: scroll the notebook a screen at a time; after each step wait until the cells in
# view are drawn and rendered, and read them (a cell cut by the edge of the view is read whole).
READ_ALL = """async nCells => {
  const outer = document.querySelector('.jp-WindowedPanel-outer');
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  // JupyterLab renders a Markdown cell when it first comes into view (until then it holds its source, and
  // the notebook may hold cells that are out of view): read and wait for the cells in view only.
  const inView = () => {
    const box = outer.getBoundingClientRect();
    return [...document.querySelectorAll('.jp-Notebook .jp-Cell')].filter(c => {
      const r = c.getBoundingClientRect(); return r.height > 0 && r.bottom > box.top && r.top < box.bottom; });
  };
  // Text the reader can see: a rendered Markdown cell keeps its source in a hidden editor, which must not count.
  const visibleText = cells => {
    const lines = [];
    for (const cell of cells) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.checkVisibility() && n.textContent.trim()) lines.push(n.textContent.trim());
      }
    }
    return lines.join('\\n');
  };
  // JupyterLab attaches a long notebook's cells a batch at a time: the end is the end once all are there
  const allThere = () => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= nCells;
  const atEnd = () => outer.scrollTop + outer.clientHeight >= outer.scrollHeight - 2;
  // jupyterlab-myst renders into a .myst widget and hides the editor (it does not set jp-mod-rendered)
  const rendered = c => c.classList.contains('jp-mod-rendered')
    || (c.querySelector('.jp-InputArea > .myst') !== null && c.querySelector('.jp-InputArea-editor.lm-mod-hidden') !== null);
  const ready = cells => (cells.length > 0 || atEnd()) && cells.every(c => !c.classList.contains('jp-MarkdownCell') || rendered(c));
  const seen = [], prose = [];
  const markdown = cells => cells.filter(c => c.classList.contains('jp-MarkdownCell'));
  outer.scrollTo(0, 0);
  for (let step = 0; step < 1000; step++) {
    await frame(); await frame();
    // still unrendered after 5 s: the raw text it shows is what the reader sees, and is checked
    for (const t0 = performance.now(); !ready(inView()) && performance.now() - t0 < 5000; ) await sleep(50);
    seen.push(visibleText(inView()));
    prose.push(visibleText(markdown(inView())));
    if (atEnd()) {
      if (allThere()) break;
      await sleep(100);  // more cells to come: read this screen again once they are attached
      continue;
    }
    outer.scrollBy(0, outer.clientHeight);
  }
  return {all: seen.join('\\n'), prose: prose.join('\\n')};
}"""


def n_cells(name: str) -> int:
    return len(json.loads((ROOT / "book" / name).read_text(encoding="utf-8"))["cells"])


def read_whole_notebook(page, name: str) -> dict[str, str]:
    """The visible text of every cell (``all``) and of the Markdown cells (``prose``): JupyterLab renders the
    cells as they come into view, so scroll."""
    return page.evaluate(READ_ALL, n_cells(name))


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


def wait_until_all_cells_ran(page, name: str, timeout_s: float = 300) -> None:
    """Wait until the last code cell shows an execution count. The kernel's status alone is no sign: it turns
    idle between the cells that "Run All Cells" queues, and a slider message sent then waits behind the rest."""
    last_prompt = ("n => { const o = document.querySelector('.jp-WindowedPanel-outer'); o.scrollTo(0, 1e9);"
                   " if (document.querySelectorAll('.jp-Notebook .jp-Cell').length < n) return 'not all cells attached';"
                   " const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].pop();"
                   " return p ? p.textContent.trim() : ''; }")
    deadline = time.monotonic() + timeout_s
    prompt = ""
    while time.monotonic() < deadline:
        prompt = page.evaluate(last_prompt, n_cells(name))
        if re.fullmatch(r"\[\d+\]:", prompt):
            return
        page.wait_for_timeout(500)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    raise AssertionError(f"the chapter did not finish running in {timeout_s} s (last prompt {prompt!r}); "
                         f"error outputs in view: {[e[-300:] for e in errors]}")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapter_reads_as_in_the_book(lab, lab_page, name):
    page = lab_page.page
    open_notebook(page, lab, name)
    text = read_whole_notebook(page, name)["prose"]  # code may quote MyST (a cell that runs the solutions)
    assert ":::{" not in text, f"{name}: raw MyST directive text is visible"
    assert not RAW_TARGET.findall(text), f"{name}: raw targets visible: {RAW_TARGET.findall(text)[:3]}"
    assert "{ref}" not in text and "{doc}" not in text, f"{name}: a raw cross-reference role is visible"
    assert re.search(r"Exercise\s+\d", text), f"{name}: no rendered exercise"
    # Solutions are folded until clicked (the reader ended at the end of the chapter, where they are).
    details = page.locator(".jp-Notebook details").filter(has_text="Solution to")
    assert details.count() >= 1, f"{name}: no folded solution in view at the end of the chapter"
    first = details.first
    assert first.evaluate("d => d.open") is False
    first.locator("summary").click()
    assert first.evaluate("d => d.open") is True
    assert page.locator(".Toastify__toast").count() == 0, f"{name}: a pop-up is shown"
    assert lab_page.blocked == [], f"{name}: requests left the machine: {lab_page.blocked[:3]}"


def test_news_is_off_from_the_repository_settings(lab):
    """The pop-up is off because of jupyter/overrides.json, not because the test was quick: the served
    setting (fresh user settings) says so."""
    with urllib.request.urlopen(f"{lab}/lab/api/settings/@jupyterlab/apputils-extension:notification"
                                f"?token={TOKEN}", timeout=30) as r:
        schema = json.load(r)["schema"]["properties"]  # the server applies overrides.json to the defaults
    defaults = {key: schema[key]["default"] for key in ("fetchNews", "checkForUpdates")}
    assert defaults == {"fetchNews": "false", "checkForUpdates": False}, defaults


def test_presentation_view_keeps_the_explorer_live(lab, lab_page):
    """The README's recipe for presenting a chapter: run it, then Simple Interface + Presentation Mode (large
    type, one document); the explorer's slider still recomputes its figure."""
    page = lab_page.page
    open_notebook(page, lab, EXPLORER)
    page.wait_for_function("document.body.innerText.includes('| Idle')", timeout=120_000)  # kernel ready
    run_command(page, "Run All Cells")
    wait_until_all_cells_ran(page, EXPLORER)
    run_command(page, "Simple Interface")
    run_command(page, "Presentation Mode")
    assert page.locator(".jp-LabShell.jp-mod-presentationMode").count() == 1
    cell = scroll_to_cell(page, "lambda_explorer(")
    handle = cell.locator(".noUi-handle").first
    handle.wait_for(timeout=60_000)
    figure = cell.locator(".jp-OutputArea .js-plotly-plot").first  # this explorer's figure only
    figure.locator(".gtitle").first.wait_for(timeout=60_000)
    # the title the reader sees: after a first move it is the overlay's (tyshare_lib/viz/live_figure.js), and the
    # figure's own is transparent
    seen = "f => [...f.querySelectorAll('.gtitle')].filter(t => getComputedStyle(t).opacity !== '0').map(t => t.textContent)"
    before = figure.evaluate(seen)
    assert len(before) == 1 and before[0].startswith("λ = "), before
    for _ in range(2):  # the first move splits the figure, the second redraws the overlay alone
        handle.focus()
        page.keyboard.press("ArrowRight")
        shown = json.dumps(before, ensure_ascii=False, separators=(",", ":"))  # as JSON.stringify writes it
        page.wait_for_function(f"([f, b]) => JSON.stringify(({seen})(f)) !== b",
                               arg=[figure.element_handle(), shown], timeout=30_000)
        after = figure.evaluate(seen)
        assert len(after) == 1 and after[0].startswith("λ = "), after
        before = after
    assert lab_page.blocked == [], f"requests left the machine: {lab_page.blocked[:3]}"
    # One idea at a time: the arrow left of a heading folds its section.
    page.evaluate("document.querySelector('.jp-WindowedPanel-outer').scrollTo(0, 0)")
    section = page.locator(".jp-MarkdownCell").filter(has=page.locator("h2")).first
    section.locator("h2").first.hover()
    section.locator(".jp-collapseHeadingButton").first.click()
    expect_hidden = section.locator(".jp-showHiddenCellsButton")
    expect_hidden.wait_for(timeout=10_000)
    assert re.search(r"\d+ cells? hidden", expect_hidden.inner_text()), expect_hidden.inner_text()
