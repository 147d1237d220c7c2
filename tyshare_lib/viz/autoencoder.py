"""Figures of the tied-autoencoder chapter (book/autoencoder.ipynb): the reconstructions explorer over the
bottleneck size k, principal angles during training, WWᵀ for the tied and untied twins, learned filters.

Three layers as everywhere in the book: ``compute_*`` (numbers only), ``figure_*`` (plotly) and
``reconstruction_explorer`` (one slider, static frames in the book, live in a notebook).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..autoencoder import Autoencoder, TrainResult, principal_angles, reconstruction_error
from ..device import cpu_threads
from ..checks import ArgumentError, check_int, check_tensor
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, SHARED, TASK_A, TASK_B, styled

SIDE = 8  # the digits are 8 × 8
TIED_COLOUR, UNTIED_COLOUR, PCA_COLOUR = SHARED, TASK_B, OKABE_ITO["black"]
ROW_NAMES = ("digit", "tied AE", "PCA")
# A grey scale for pixels (ink dark on white), with GAP (below every pixel) drawn as a light frame between
# images; and a colour-blind-safe diverging scale for weights.
GAP = -0.1
GREYS = [[0.0, "#c8c8c8"], [0.0909, "#c8c8c8"], [0.0910, "#ffffff"], [1.0, "#000000"]]  # zmin = GAP, zmax = 1
DIVERGING = "PuOr"


# ----------------------------------------------------------------------------- compute
def _numpy(t) -> np.ndarray:
    return t.detach().cpu().to(torch.float64).numpy() if isinstance(t, torch.Tensor) else np.asarray(t, float)


def mosaic(rows: Sequence[np.ndarray], gap: float = GAP) -> np.ndarray:
    """Tile images: ``rows[r]`` is (n, 64) pixels, drawn as n 8 × 8 images side by side, rows stacked,
    one ``gap`` pixel between images. Returns a 2-D array for a heatmap, top row first."""
    rows = [np.asarray(r, float).reshape(-1, SIDE, SIDE) for r in rows]
    if not rows or any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("rows must be a non-empty list of arrays holding the same number of images")
    n = len(rows[0])
    out = np.full((len(rows) * (SIDE + 1) - 1, n * (SIDE + 1) - 1), gap)
    for i, r in enumerate(rows):
        for j, img in enumerate(r):
            out[i * (SIDE + 1): i * (SIDE + 1) + SIDE, j * (SIDE + 1): j * (SIDE + 1) + SIDE] = img
    return out


@dataclass(frozen=True)
class ReconstructionSweep:
    """Everything the explorer shows, for every bottleneck size k (numbers only, float64 numpy)."""

    ks: list[int]  # bottleneck sizes with a tied model, 1 … 16
    originals: np.ndarray  # (n_show, 64) the test digits shown, pixels in [0, 1]
    tied_images: np.ndarray  # (len(ks), n_show, 64) their tied-AE reconstructions
    pca_images: np.ndarray  # (len(ks), n_show, 64) their PCA reconstructions
    tied_test: np.ndarray  # (len(ks),) held-out MSE per pixel
    pca_test: np.ndarray  # (len(ks),)
    untied_ks: list[int]  # the sizes with an untied twin
    untied_test: np.ndarray  # (len(untied_ks),)

    def index(self, k: int) -> int:
        """Position of k in ``ks``."""
        if k not in self.ks:
            raise ValueError(f"k must be one of {self.ks}, got {k!r}")
        return self.ks.index(k)


def compute_sweep(X_test: torch.Tensor, mean: torch.Tensor, tied: Mapping[int, Autoencoder],
                  untied: Mapping[int, Autoencoder], pca_components: np.ndarray,
                  show: Sequence[int] = (0, 1, 2, 3, 4, 5)) -> ReconstructionSweep:
    """Reconstructions and held-out errors of trained models for every k (autoencoder chapter).

    ``X_test`` is centred (the training ``mean`` removed, as the models were trained); ``pca_components``
    (≥ max k, 64) are the principal directions, e.g. scikit-learn's ``PCA.components_``. The images
    shown have the mean added back and are clipped to [0, 1].
    """
    check_tensor("X_test", X_test, ndim=2)
    check_tensor("mean", mean, ndim=1)
    for name, models in (("tied", tied), ("untied", untied)):
        if not isinstance(models, Mapping) or not all(isinstance(m, Autoencoder) for m in models.values()):
            raise ArgumentError(f"{name} must map bottleneck sizes to Autoencoder models")
    if not tied:
        raise ValueError("tied must hold at least one model")
    comps = np.asarray(pca_components, float)
    ks = sorted(tied)
    if comps.ndim != 2 or comps.shape[0] < max(ks) or comps.shape[1] != X_test.shape[1]:
        raise ValueError(f"pca_components must be ({max(ks)} or more, {X_test.shape[1]}), got {comps.shape}")
    show = [check_int(f"show[{i}]", s, low=0, high=X_test.shape[0] - 1) for i, s in enumerate(show)]
    with cpu_threads(X_test.device):
        return _sweep(X_test, mean, tied, untied, comps, ks, show)


def _sweep(X_test, mean, tied, untied, comps, ks, show) -> ReconstructionSweep:
    X = _numpy(X_test)
    mu = _numpy(mean)
    tied_images, pca_images, tied_test, pca_test = [], [], [], []
    for k in ks:
        model = tied[k]
        with torch.no_grad():
            rec = _numpy(model(X_test[show].to(next(model.parameters()).device, next(model.parameters()).dtype)))
        V = comps[:k]  # (k, 64)
        pca_rec = X @ V.T @ V  # (n, 64): projection onto the top-k directions
        tied_images.append(np.clip(rec + mu, 0, 1))
        pca_images.append(np.clip(pca_rec[show] + mu, 0, 1))
        tied_test.append(reconstruction_error(model, X_test))
        pca_test.append(float(((pca_rec - X) ** 2).mean()))
    untied_ks = sorted(untied)
    return ReconstructionSweep(
        ks=ks, originals=np.clip(X[show] + mu, 0, 1), tied_images=np.array(tied_images),
        pca_images=np.array(pca_images), tied_test=np.array(tied_test), pca_test=np.array(pca_test),
        untied_ks=untied_ks, untied_test=np.array([reconstruction_error(untied[k], X_test) for k in untied_ks]))


def compute_angle_history(result: TrainResult, components: np.ndarray) -> np.ndarray:
    """The largest principal angle (degrees) between the encoder's row space and the top-k principal
    directions at every checkpoint of a run recorded with ``keep_weights=True``."""
    if not isinstance(result, TrainResult):
        raise ArgumentError(f"result must be a TrainResult, got {type(result).__name__}")
    if not result.weights:
        raise ValueError("result holds no weights: train with keep_weights=True")
    k = result.weights[0].shape[0]
    basis = torch.as_tensor(np.asarray(components, float)[:k].T)  # (64, k)
    return np.array([float(principal_angles(W.T, basis).max()) for W in result.weights])


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values 1, 2, 5 × 10ⁿ within [lo, hi] (a little beyond): plotly's own ticks on a log axis spanning
    less than a decade label 0.06, 0.065 and 0.07 on top of each other, and its digits between decades are small
    (18 px in projector mode)."""
    return [m * 10.0 ** e for e in range(-8, 4) for m in (1, 2, 5) if lo / 1.15 <= m * 10.0 ** e <= hi * 1.15]


# ----------------------------------------------------------------------------- the explorer
_MOSAIC, _ERR_TIED, _ERR_UNTIED, _ERR_PCA, _NOW = range(5)


def _sweep_patch(sweep: ReconstructionSweep, k: int) -> Patch:
    i = sweep.index(k)
    z = np.round(mosaic([sweep.originals, sweep.tied_images[i], sweep.pca_images[i]]), 3)  # smaller frames
    return Patch(traces={_MOSAIC: dict(z=z),
                         _NOW: dict(x=[k, k], y=[float(sweep.tied_test[i]), float(sweep.pca_test[i])])},
                 layout=dict(title=dict(text=f"k = {k}: held-out MSE tied {sweep.tied_test[i]:.4f}, "
                                             f"PCA {sweep.pca_test[i]:.4f}")))


def figure_reconstructions(sweep: ReconstructionSweep, k: int = 4) -> go.Figure:
    """Test digits, their tied-AE and PCA reconstructions at bottleneck k, and held-out error against k."""
    if not isinstance(sweep, ReconstructionSweep):
        raise ArgumentError(f"sweep must be a ReconstructionSweep, got {type(sweep).__name__}")
    sweep.index(k)
    # The images get the larger share: in projector mode (one short screen) they are what the room must see.
    fig = make_subplots(rows=2, cols=1, row_heights=[0.58, 0.42], vertical_spacing=0.2,
                        subplot_titles=("Rows: digit, tied AE, PCA", "Held-out error against k"))
    n = len(sweep.originals)
    fig.add_trace(go.Heatmap(z=mosaic([sweep.originals] * 3), colorscale=GREYS, zmin=GAP, zmax=1, showscale=False,
                             hoverinfo="skip", xgap=0, ygap=0), 1, 1)  # 0
    fig.add_trace(go.Scatter(x=sweep.ks, y=sweep.tied_test, name="tied AE", mode="lines+markers",
                             line=dict(color=TIED_COLOUR, width=4), marker=dict(size=8)), 2, 1)  # 1
    fig.add_trace(go.Scatter(x=sweep.untied_ks, y=sweep.untied_test, name="untied AE", mode="markers",
                             marker=dict(color=UNTIED_COLOUR, size=16, symbol="diamond-open",
                                         line=dict(width=3))), 2, 1)  # 2
    fig.add_trace(go.Scatter(x=sweep.ks, y=sweep.pca_test, name="PCA", mode="lines",
                             line=dict(color=PCA_COLOUR, width=2, dash="dash")), 2, 1)  # 3
    fig.add_trace(go.Scatter(x=[k, k], y=[0, 0], mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(width=3, color=TASK_A))), 2, 1)  # 4
    rows_at = [i * (SIDE + 1) + (SIDE - 1) / 2 for i in range(3)]
    fig.update_yaxes(autorange="reversed", scaleanchor="x", tickvals=rows_at, ticktext=list(ROW_NAMES),
                     showgrid=False, zeroline=False, ticks="", row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="",
                     range=[-0.5, n * (SIDE + 1) - 1.5], row=1, col=1)
    fig.update_xaxes(title_text="bottleneck size k", dtick=2, row=2, col=1)
    errors = np.concatenate([sweep.tied_test, sweep.pca_test, sweep.untied_test])
    fig.update_yaxes(title_text="MSE per pixel", type="log", row=2, col=1,
                     tickvals=_log_ticks(float(errors.min()), float(errors.max())))
    # The legend sits in the error panel's empty top-right corner (the curves fall with k), clear of the
    # book's slider below the figure.
    styled(fig, height=700, legend=dict(x=1, xanchor="right", y=0.4, yanchor="top", bgcolor="rgba(255,255,255,0.85)"),
           margin=dict(l=90, t=90, b=150))
    fig.update_xaxes(ticks="", row=1, col=1)  # styled() draws tick marks; the images have none
    fig.update_yaxes(ticks="", row=1, col=1)
    apply_patch(fig, _sweep_patch(sweep, k))
    return fig


def reconstruction_explorer(sweep: ReconstructionSweep, k: int = 4) -> Explorer:
    """The chapter's explorer: a slider over the bottleneck size k; every frame precomputed (no training)."""
    import ipywidgets as widgets

    fig = figure_reconstructions(sweep, k)
    slider = widgets.SelectionSlider(options=list(sweep.ks), value=k, description="k",
                                     continuous_update=True, layout=widgets.Layout(width="95%"))
    return Explorer(fig, update=lambda k: _sweep_patch(sweep, k), controls={"k": slider}, static_control="k",
                    static_values=list(sweep.ks), slider_prefix="k = ",
                    live_layout=dict(height=620, margin_b=70))


# ----------------------------------------------------------------------------- static figures
def figure_angles(histories: Mapping[int, tuple[Sequence[int], np.ndarray]]) -> go.Figure:
    """Largest principal angle to the top-k principal subspace against the L-BFGS iteration, one line per k."""
    palette = [OKABE_ITO[c] for c in ("orange", "sky", "green", "blue", "vermillion", "purple", "black")]
    fig = go.Figure()
    for (k, (steps, angles)), colour in zip(histories.items(), palette):
        fig.add_trace(go.Scatter(x=list(steps), y=np.maximum(angles, 1e-6), name=f"k = {k}",
                                 line=dict(color=colour, width=3)))
    styled(fig, height=460, title="Tied encoder → PCA subspace", xaxis_title="L-BFGS iteration",
           yaxis_title="largest angle (degrees)", legend=dict(orientation="h", y=-0.25))
    fig.update_yaxes(type="log", exponentformat="power", dtick=1)  # decades only: no small digits between them
    return fig


def figure_gram(W_tied: torch.Tensor, W_untied: torch.Tensor) -> go.Figure:
    """WWᵀ of the tied and the untied encoder side by side: the identity for tied, not for untied."""
    grams = []
    for name, W in (("W_tied", W_tied), ("W_untied", W_untied)):
        check_tensor(name, W, ndim=2)
        W = _numpy(W)
        grams.append(W @ W.T)
    lim = max(1.0, max(float(np.abs(g).max()) for g in grams))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=("tied: W Wᵀ", "untied: W Wᵀ"))
    for c, g in enumerate(grams, start=1):
        fig.add_trace(go.Heatmap(z=g, zmin=-lim, zmax=lim, colorscale=DIVERGING, showscale=c == 2,
                                 colorbar=dict(len=0.8, thickness=15),
                                 hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"), 1, c)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if c == 1 else c}", title_text="code unit",
                         row=1, col=c)
        fig.update_xaxes(title_text="code unit", row=1, col=c)
    styled(fig, height=420, margin=dict(t=70, b=60))
    return fig


def figure_filters(W_tied: torch.Tensor, W_untied: torch.Tensor, per_row: int = 8) -> go.Figure:
    """The encoder's rows as 8 × 8 images: the tied and untied sigmoid autoencoders' filters."""
    per_row = check_int("per_row", per_row, low=1)
    panels = []
    for name, W in (("W_tied", W_tied), ("W_untied", W_untied)):
        check_tensor(name, W, ndim=2)
        W = _numpy(W)
        if W.shape[1] != SIDE * SIDE:
            raise ValueError(f"{name} must have 64 columns (8 × 8 pixels), got {W.shape[1]}")
        W = W / np.abs(W).max(axis=1, keepdims=True)  # each filter on its own scale, sign kept
        rows = [W[i:i + per_row] for i in range(0, len(W), per_row)]
        if len(rows[-1]) < per_row:
            rows[-1] = np.vstack([rows[-1], np.zeros((per_row - len(rows[-1]), W.shape[1]))])
        panels.append(mosaic(rows, gap=0.0))  # 0 is the diverging scale's white
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.12, subplot_titles=("tied encoder rows", "untied encoder rows"))
    for r, z in enumerate(panels, start=1):
        fig.add_trace(go.Heatmap(z=z, zmin=-1, zmax=1, colorscale=DIVERGING, showscale=False, hoverinfo="skip"), r, 1)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if r == 1 else r}", showticklabels=False,
                         showgrid=False, ticks="", row=r, col=1)
        fig.update_xaxes(showticklabels=False, showgrid=False, ticks="", row=r, col=1)
    styled(fig, height=520, margin=dict(l=30, r=30, t=60, b=20))
    return fig


def figure_twins(errors: Mapping[str, tuple[float, float]]) -> go.Figure:
    """Training and held-out MSE per model (bars), e.g. {"tied": (train, test), "untied": ..., "PCA": ...}."""
    names = list(errors)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[errors[n][0] for n in names], name="train", marker_color=OKABE_ITO["sky"]))
    fig.add_trace(go.Bar(x=names, y=[errors[n][1] for n in names], name="held-out", marker_color=OKABE_ITO["orange"]))
    styled(fig, height=400, barmode="group", yaxis_title="MSE per pixel", legend=dict(orientation="h", y=-0.2),
           title="Same budget, same code size")
    return fig
