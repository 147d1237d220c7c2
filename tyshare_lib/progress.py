"""One progress bar for every training loop in the book (``tqdm.auto``: a widget in notebooks, text elsewhere).

The bar is transient (``leave=False``): it shows while a model trains in a live notebook and is gone
when training ends, so the built book keeps no half-drawn bars. ``TYSHARE_PROGRESS=0`` turns bars off
(the test-suite and benchmarks do this).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

ENV_VAR = "TYSHARE_PROGRESS"
T = TypeVar("T")


def progress_enabled() -> bool:
    """False when ``TYSHARE_PROGRESS`` is ``0``/``false``/``no``/``off``."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in {"0", "false", "no", "off"}


def progress(iterable: Iterable[T], *, desc: str = "", total: int | None = None, show: bool | None = None,
             **kwargs: Any) -> Iterable[T]:
    """``iterable`` wrapped in a transient tqdm bar labelled ``desc`` (all chapters' trainers use it).

    ``show=None`` follows :func:`progress_enabled`; ``show=False`` returns ``iterable`` unchanged.
    """
    show = progress_enabled() if show is None else bool(show)
    if not show:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, **kwargs)
