"""tyshare_lib: the models, maths and explorers behind the book *Tied & Shared* (Deep Learning §7.9).

Chapters and their modules (each with its figures in ``viz.<module>``): soft tying (``tying``), tied
embeddings (``embeddings``), the tied autoencoder (``autoencoder``), multi-task tying (``multitask``),
distillation with hints (``distill``), sharing in CNNs (``conv``), across time (``recurrent``), across layers
(``albert``), Siamese twins (``siamese``), and tying becoming sharing (``continuum``). Shared by all:
``checks``, ``device``, ``digits``, ``progress``. Figures and widgets live in ``viz`` and import plotly and
ipywidgets; the maths modules need only torch (and scikit-learn for the digits). Importing the package loads
only the first chapters' modules; import the others by name (``from tyshare_lib import siamese``).
"""
from . import albert, checks, conv, tying
from .device import default_device, resolve_device

__all__ = ["albert", "checks", "conv", "default_device", "resolve_device", "tying"]
__version__ = "0.1.0"
