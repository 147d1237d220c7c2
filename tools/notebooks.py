"""Keep every chapter notebook in the shape the book, JupyterLab and a fresh clone need.

    python tools/notebooks.py          # rewrite book/*.ipynb in place
    python tools/notebooks.py --check  # change nothing; list what is out of shape, exit 1 if anything is

What it makes true of each ``book/*.ipynb`` (``tests/test_notebooks_committed_clean.py`` checks the same):

* no outputs, execution counts or saved widget state (the book runs every cell when it builds);
* every MyST target line ``(label)=`` begins its markdown cell: jupyterlab-myst hides a target and links
  ``{ref}`` to it only there, elsewhere the reader sees the raw line;
* exercises' solutions are plain ``:::{solution}`` blocks (folded with ``:class: dropdown``): sphinx-exercise's
  gated ``solution-start`` / ``solution-end`` pair, which lets a solution hold code cells, shows as raw text
  in JupyterLab (jupyterlab-myst does not know it). A gated solution is rewritten: its prose goes into one
  ``:::{solution}`` block, and its code cells follow it tagged ``hide-input`` (folded in the book as well);
* the first code cell is :data:`GUARD`: outside a clone of this repository (Colab, a JupyterHub, a
  student's own Jupyter) it says in one sentence how to get ``tyshare_lib`` instead of a bare
  ``ModuleNotFoundError``. It is tagged ``remove-cell``, so the built book does not show it.
"""
from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TARGET = re.compile(r"^\(([\w.:-]+)\)=\s*$")
GUARD_ID = "tyshare-guard"
GUARD = """\
try:
    import tyshare_lib  # the book's library: models, maths and explorers
except ModuleNotFoundError as err:  # e.g. on Colab or a JupyterHub, outside a clone of the book's repository
    raise ModuleNotFoundError(
        "This chapter needs tyshare_lib, the book's library: in a copy of the book's repository run "
        "`pip install -r requirements.txt` (or `pip install -e .`) in its root folder, then restart the kernel."
    ) from err"""


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def split_at_targets(cells: list[dict]) -> list[dict]:
    """Markdown cells split so that every ``(label)=`` line starts a cell."""
    out = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            out.append(cell)
            continue
        lines = "".join(cell["source"]).split("\n")
        cuts = [i for i, line in enumerate(lines) if TARGET.match(line) and i > 0]
        if not cuts:
            out.append(cell)
            continue
        pieces, start = [], 0
        for cut in cuts + [len(lines)]:
            text = "\n".join(lines[start:cut]).strip("\n")
            if text:
                pieces.append(text)
            start = cut
        first = dict(cell, source=_lines(pieces[0]))
        out.append(first)
        out.extend(_markdown(p) for p in pieces[1:])
    return out


SOLUTION_START = re.compile(r"^:::\{solution-start\}\s*(\S+)\s*$")
SOLUTION_END = re.compile(r"^:::\{solution-end\}\s*$")


def ungate_solutions(cells: list[dict]) -> list[dict]:
    """Gated solutions (``solution-start`` ... ``solution-end``) rewritten as one folded ``{solution}`` block,
    followed by the solution's code cells tagged ``hide-input``."""
    out: list[dict] = []
    block: dict | None = None  # the {solution} markdown cell being filled while inside a gated solution
    for cell in cells:
        if cell["cell_type"] == "code":
            if block is not None:
                tags = cell.setdefault("metadata", {}).setdefault("tags", [])
                if "hide-input" not in tags:
                    tags.append("hide-input")
            out.append(cell)
            continue
        if cell["cell_type"] != "markdown":
            out.append(cell)
            continue
        lines = "".join(cell["source"]).split("\n")
        keep: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            start = SOLUTION_START.match(line)
            if block is None and start:
                options, i = [], i + 1
                while i < len(lines) and lines[i].startswith(":") and lines[i].strip() != ":::":
                    options.append(lines[i])
                    i += 1
                i += 1  # the fence that closes the solution-start directive
                if keep and "".join(keep).strip():
                    out.append(dict(cell, source=_lines("\n".join(keep).strip("\n"))))
                keep = []
                block = {"cell_type": "markdown", "metadata": {}, "body": [], "head": [f":::{{solution}} {start.group(1)}", *options]}
                out.append(block)
                continue
            if block is not None and SOLUTION_END.match(line):
                i += 2 if i + 1 < len(lines) and lines[i + 1].strip() == ":::" else 1
                block["body"].append("\n".join(keep))
                keep, block = [], None
                continue
            keep.append(line)
            i += 1
        text = "\n".join(keep).strip("\n")
        if block is not None:
            block["body"].append(text)
        elif text:
            out.append(dict(cell, source=_lines(text)))
    for cell in out:
        if "body" in cell:
            body = "\n\n".join(b.strip("\n") for b in cell.pop("body") if b.strip())
            cell["source"] = _lines("\n".join(cell.pop("head")) + "\n\n" + body + "\n:::")
    return out


def with_guard(cells: list[dict]) -> list[dict]:
    """The cells with :data:`GUARD` as the first code cell (replacing an older copy of it)."""
    cells = [c for c in cells if c.get("id") != GUARD_ID and c.get("metadata", {}).get("name") != GUARD_ID]
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    guard = {"cell_type": "code", "execution_count": None, "id": GUARD_ID, "outputs": [],
             "metadata": {"name": GUARD_ID, "tags": ["remove-cell"]}, "source": _lines(GUARD)}
    return cells[:first_code] + [guard] + cells[first_code:]


def strip_outputs(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)


def shaped(nb: dict) -> dict:
    """A copy of notebook ``nb`` in the shape described in this module's docstring."""
    nb = copy.deepcopy(nb)
    strip_outputs(nb)
    nb["cells"] = with_guard(split_at_targets(ungate_solutions(nb["cells"])))
    if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5:
        for i, cell in enumerate(nb["cells"]):  # nbformat 4.5 wants a unique id on every cell
            cell.setdefault("id", f"cell-{i}")
        seen = set()
        for i, cell in enumerate(nb["cells"]):
            if cell["id"] in seen:
                cell["id"] = f"{cell['id']}-{i}"
            seen.add(cell["id"])
    return nb


def dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    unknown = [a for a in argv if a != "--check"]
    if unknown:
        print(__doc__)
        print(f"unknown arguments: {unknown}; the only option is --check")
        return 2
    check = "--check" in argv
    bad = []
    for path in sorted(BOOK.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = shaped(nb)
        if new != nb:
            bad.append(path.name)
            if not check:
                path.write_text(dump(new), encoding="utf-8")
    if bad:
        print(("out of shape: " if check else "rewrote: ") + ", ".join(bad))
        if check:
            print("run `python tools/notebooks.py` to fix")
    return 1 if (check and bad) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
