"""tyshare_lib: the models, maths and explorers behind the book *Tied & Shared* (Deep Learning §7.9).

Chapters and their modules: soft tying (``tying``, ``viz.tying``), sharing in CNNs (``conv``,
``viz.conv``), ALBERT's cross-layer sharing (``albert``, ``viz.albert``). Figures and widgets live in
``viz`` and import plotly and ipywidgets; the maths modules need only torch.
"""
from . import albert, checks, conv, tying
from .device import default_device, resolve_device

__all__ = ["albert", "checks", "conv", "default_device", "resolve_device", "tying"]
__version__ = "0.1.0"
