"""Argument checks shared by every public function: fail early, name the argument, say what is allowed."""
from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Real
from typing import Any

import numpy as np
import torch


class ArgumentError(TypeError, ValueError):
    """A bad argument at a public boundary; both a TypeError and a ValueError, so either ``except`` catches it."""


def check_real(name: str, value: Any, *, low: float | None = None, allow_inf: bool = False) -> float:
    """Return ``value`` as a float, or raise if it is not a real number >= ``low`` (NaN never allowed)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ArgumentError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN")
    if math.isinf(value) and not (allow_inf and value > 0):
        allowed = "a finite number or float('inf')" if allow_inf else "a finite number"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` if it is an int in [low, high], else raise naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def check_choice(name: str, value: Any, allowed: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise listing the allowed values."""
    try:
        known = value in allowed
    except TypeError:  # an unhashable value (a list, a dict) cannot be a key of a dict or set of choices
        known = False
    if not known:
        raise ArgumentError(f"{name} must be one of {sorted(allowed, key=str)}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (not 0, 1, 'no' or None), else raise naming ``name``."""
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_tensor(name: str, value: Any, *, ndim: int | None = None) -> torch.Tensor:
    """Return ``value`` if it is a floating tensor of ``ndim`` dimensions with no NaN, else raise."""
    if not isinstance(value, torch.Tensor):
        raise ArgumentError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(value.shape)}")
    if not value.is_floating_point():
        raise ArgumentError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if torch.isnan(value).any():
        raise ValueError(f"{name} must not contain NaN")
    return value


def check_finite_tensor(name: str, value: Any, *, ndim: int | None = None, nonempty: bool = True) -> torch.Tensor:
    """:func:`check_tensor`, and also no ±inf and (``nonempty``) no dimension of size 0."""
    check_tensor(name, value, ndim=ndim)
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if torch.isinf(value).any():
        raise ValueError(f"{name} must be finite: it contains inf")
    return value


def check_finite_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """``value`` as a float numpy array of ``ndim`` dimensions (any, if None) with no NaN or ±inf, else raise
    (the numpy twin of :func:`check_finite_tensor`, for figure data)."""
    what = "an array" if ndim is None else f"a {ndim}-D array"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be {what} of real numbers, got {type(value).__name__}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {what} of real numbers, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite: it contains NaN or inf")
    return arr
