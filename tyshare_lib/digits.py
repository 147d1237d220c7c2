"""scikit-learn's bundled 8 × 8 handwritten digits as tensors (no network): the data of several chapters.

1,797 images of the digits 0–9 (UCI "Optical Recognition of Handwritten Digits", shipped inside
scikit-learn), 64 pixels each with integer values 0–16, scaled here to [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

from .checks import ArgumentError, check_int, check_real
from .device import resolve_device

N_CLASSES = 10
SIDE = 8  # images are SIDE × SIDE


@lru_cache(maxsize=1)
def _load() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    data = load_digits()
    X = torch.tensor(data.data, dtype=torch.float32) / 16.0  # (1797, 64) in [0, 1]
    y = torch.tensor(data.target, dtype=torch.int64)  # (1797,)
    return X, y


def load_digits_tensors(device: str | torch.device | None = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits: pixels ``(1797, 64)`` float32 in [0, 1] and labels ``(1797,)`` int64, on ``device``."""
    dev = resolve_device(device)
    X, y = _load()
    return X.to(dev), y.to(dev)


@dataclass(frozen=True)
class DigitSplit:
    """A seeded train/test split of the digits; pixels ``(n, 64)`` in [0, 1], labels int64."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @staticmethod
    def images(X: torch.Tensor) -> torch.Tensor:
        """Rows of 64 pixels as ``(n, 8, 8)`` images."""
        return X.reshape(-1, SIDE, SIDE)


def split_digits(test_fraction: float = 0.3, seed: int = 0, classes: list[int] | tuple[int, ...] | None = None,
                 device: str | torch.device | None = "cpu") -> DigitSplit:
    """A seeded split, stratified by class: ``test_fraction`` of each class is held out.

    ``classes`` keeps only those digits (labels unchanged), e.g. ``range(7)`` for the Siamese chapter's
    seen classes.
    """
    test_fraction = check_real("test_fraction", test_fraction, low=0.0)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    if classes is None:
        classes = range(N_CLASSES)
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise ArgumentError(f"classes must be a list of digits 0-9 or None, got {type(classes).__name__}")
    classes = [check_int("classes[i]", c, low=0, high=N_CLASSES - 1) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct digits 0-9, at least one, got {classes}")
    X, y = _load()
    g = torch.Generator().manual_seed(seed)
    train_idx, test_idx = [], []
    for c in classes:
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = max(1, round(test_fraction * len(idx)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    train = torch.cat(train_idx)[torch.randperm(sum(len(i) for i in train_idx), generator=g)]
    test = torch.cat(test_idx)[torch.randperm(sum(len(i) for i in test_idx), generator=g)]
    dev = resolve_device(device)
    return DigitSplit(X[train].to(dev), y[train].to(dev), X[test].to(dev), y[test].to(dev))
