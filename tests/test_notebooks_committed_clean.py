"""The chapters are committed as output-free notebooks in the shape tools/notebooks.py gives them, and every one
is in the table of contents."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import notebooks as shape  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries saved widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"book/{path.stem}" in toc


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_shape(path):
    """Targets start their cells, solutions are plain {solution} blocks, the first code cell is the guard."""
    nb = json.loads(path.read_text())
    assert shape.shaped(nb) == nb, f"{path.name} is out of shape: run `python tools/notebooks.py`"


def test_shaping_moves_a_mid_cell_target_and_ungates_a_solution():
    md = lambda text: {"cell_type": "markdown", "metadata": {}, "source": [text]}  # noqa: E731
    code = {"cell_type": "code", "metadata": {}, "source": ["x = 1"], "outputs": [], "execution_count": 3}
    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        md("Intro.\n\n(sec)=\n## Section"), code,
        md(":::{exercise}\n:label: ex\nDo it.\n:::\n\n:::{solution-start} ex\n:class: dropdown\n:::\n\nHow."),
        dict(code), md("Why.\n\n:::{solution-end}\n:::\n\nAfter.")]}
    out = shape.shaped(nb)["cells"]
    text = ["".join(c["source"]) for c in out]
    assert text[0] == "Intro." and text[1].startswith("(sec)=\n## Section")
    assert out[2]["source"] == shape._lines(shape.GUARD) and "remove-cell" in out[2]["metadata"]["tags"]
    assert text[4].startswith(":::{exercise}") and "solution-start" not in "".join(text)
    assert text[5] == ":::{solution} ex\n:class: dropdown\n\nHow.\n\nWhy.\n:::"
    assert out[6]["metadata"]["tags"] == ["hide-input"] and out[6]["execution_count"] is None
    assert text[7] == "After." and shape.shaped({**nb, "cells": out})["cells"] == out
