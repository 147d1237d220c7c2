"""tyshare_lib: the models, maths and explorers behind the book *Tied & Shared* (Deep Learning §7.9)."""
from . import checks, tying, viz
from .device import default_device, resolve_device

__all__ = ["checks", "default_device", "resolve_device", "tying", "viz"]
__version__ = "0.1.0"
