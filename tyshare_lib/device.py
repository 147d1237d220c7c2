"""Where models run: CUDA, then Apple MPS, then CPU, unless TYSHARE_DEVICE says otherwise."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .checks import ArgumentError

ENV_VAR = "TYSHARE_DEVICE"


def default_device() -> torch.device:
    """The device every model and trainer uses when none is given (all chapters).

    ``TYSHARE_DEVICE`` (e.g. ``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the automatic choice,
    which is how the test-suite pins the CPU and how a GPU run is requested.
    """
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        return resolve_device(override, name=ENV_VAR)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None, *, name: str = "device") -> torch.device:
    """Turn ``device`` (None means :func:`default_device`) into a ``torch.device`` that exists here."""
    if device is None:
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise ArgumentError(f"{name} must be a str, a torch.device or None, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"{name} must name a device such as 'cpu', 'cuda' or 'mps', got {device!r}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}={device!r} asks for CUDA, but no CUDA device is available here")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"{name}={device!r} asks for Apple MPS, but it is not available here")
    if dev.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'mps', got {device!r}")
    return dev


@contextmanager
def cpu_threads(device: torch.device, n: int = 1) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads when ``device`` is the CPU, then restore the setting (every
    chapter's trainer).

    The book's models are small (matrices of a few thousand numbers): splitting each product over threads
    costs more synchronisation than it saves, and on a busy 2-core machine far more (measured here: 3-7× the
    CPU time with two threads while other jobs ran). On other devices the block runs unchanged.
    """
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
