"""tyshare_lib: the models, maths and explorers behind the book *Tied & Shared* (Deep Learning §7.9).

Chapters and their modules (each with its figures in ``viz.<module>``): soft tying (``tying``), tied
embeddings (``embeddings``), the tied autoencoder (``autoencoder``), multi-task tying (``multitask``),
distillation with hints (``distill``), sharing in CNNs (``conv``), across time (``recurrent``), across layers
(``albert``), Siamese twins (``siamese``), and tying becoming sharing (``continuum``). Shared by all:
``checks``, ``device``, ``digits``, ``progress``. Figures and widgets live in ``viz`` and import plotly and
ipywidgets; the maths modules need only torch (and scikit-learn for the digits). ``theme("projector")`` gives every figure made
afterwards the projector look (``theme("default")`` switches back). Importing the package loads
only the first chapters' modules; import the others by name (``from tyshare_lib import siamese``).
"""
from . import albert, checks, conv, tying
from .device import default_device, resolve_device


def theme(name: str = "default") -> str:
    """Switch the look of every figure and explorer made after the call (``"projector"`` or ``"default"``);
    returns the previous one. See :func:`tyshare_lib.viz.style.theme`."""
    from .viz.style import theme as _theme  # plotly is imported only by those who draw

    return _theme(name)


__all__ = ["albert", "checks", "conv", "default_device", "resolve_device", "theme", "tying"]
__version__ = "0.1.0"
