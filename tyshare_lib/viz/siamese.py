"""Figures of the Siamese chapter (book/siamese.ipynb): ROC curves, the learned space, the pair explorer.

Three layers as everywhere in the book: ``compute_*`` (numbers only), ``figure_*`` (plotly), and
``pair_explorer`` wiring two digit choices to one update, precomputed in the book and live in a notebook.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..checks import ArgumentError, check_finite_array, check_int, check_real, check_tensor
from ..siamese import Pairs, Roc, SiameseNetwork, TwinNetwork, pair_distances, pixel_distances, roc_curve
from .explorer import Explorer, Patch, apply_patch
from .style import OKABE_ITO, SHARED, TASK_A, TASK_B, styled, smooth

LOSS_WINDOW = 20  # training steps averaged in the loss curves

# One colour per method, the same in every figure of the chapter.
METHOD_COLOURS = {"Siamese (tied)": SHARED, "untied twin": TASK_B, "raw pixels": OKABE_ITO["grey"]}
METHOD_DASH = {"Siamese (tied)": "solid", "untied twin": "dash", "raw pixels": "dot"}
# Seven colours for the seen digits 0–6, three for the unseen 7–9 (drawn in their own panel).
SEEN_COLOURS = [OKABE_ITO[c] for c in ("orange", "sky", "green", "yellow", "blue", "vermillion", "purple")]
UNSEEN_COLOURS = [OKABE_ITO[c] for c in ("blue", "vermillion", "green")]


def _check_model(model: object) -> SiameseNetwork | TwinNetwork | None:
    if model is not None and not isinstance(model, (SiameseNetwork, TwinNetwork)):
        raise ArgumentError(f"each model must be a SiameseNetwork, a TwinNetwork or None (raw pixels), "
                            f"got {type(model).__name__}")
    return model


# ----------------------------------------------------------------------------- ROC
def compute_rocs(models: Mapping[str, SiameseNetwork | TwinNetwork | None], X: torch.Tensor,
                 pairs: Pairs) -> dict[str, Roc]:
    """The ROC of each model on ``pairs`` of rows of ``X``; a model of ``None`` is the raw-pixel distance."""
    if not isinstance(models, Mapping) or not models:
        raise ArgumentError("models must be a non-empty dict {name: model or None}")
    check_tensor("X", X, ndim=2)
    out = {}
    for name, model in models.items():
        d = pixel_distances(X, pairs) if _check_model(model) is None else pair_distances(model, X, pairs)
        out[name] = roc_curve(d, pairs.same)
    return out


def _threshold_point(roc: Roc, threshold: float) -> tuple[float, float]:
    """(FPR, TPR) of "same if d ≤ threshold": the last ROC point whose threshold is ≤ it."""
    k = int(torch.searchsorted(roc.thresholds, torch.tensor([threshold], dtype=torch.float64), right=True)) - 1
    return float(roc.fpr[k]), float(roc.tpr[k])


ROC_TOLERANCE = 0.003  # of the unit square: ~1 px of a book panel (a ROC of thousands of pairs, ~700 points)


def roc_points_drawn(fpr: np.ndarray, tpr: np.ndarray, tolerance: float = ROC_TOLERANCE) -> tuple[np.ndarray, np.ndarray]:
    """The points of a ROC curve worth drawing: the first, the last, and each that lies ``tolerance`` or more (in
    either coordinate) from the last one kept. A ROC has a point per distinct distance (thousands: hundreds of kB
    of the page, and plotly.js draws every one); the curve drawn stays within ~``tolerance`` of the full one (the
    skipped points lie in a square of that side after a kept one), and its AUC is computed from the full curve."""
    fpr, tpr = check_finite_array("fpr", fpr), check_finite_array("tpr", tpr)
    if fpr.shape != tpr.shape or fpr.ndim != 1 or fpr.size == 0:
        raise ValueError(f"fpr and tpr must be 1-D of one non-zero length, got shapes {fpr.shape} and {tpr.shape}")
    tolerance = check_real("tolerance", tolerance, low=0.0)
    keep = [0]
    for k in range(1, fpr.size - 1):
        if max(abs(fpr[k] - fpr[keep[-1]]), abs(tpr[k] - tpr[keep[-1]])) >= tolerance:
            keep.append(k)
    if fpr.size > 1:
        keep.append(fpr.size - 1)
    return fpr[keep], tpr[keep]


def figure_roc(panels: Mapping[str, Mapping[str, Roc]], threshold: float | None = None,
               marked: str = "Siamese (tied)") -> go.Figure:
    """ROC curves, one panel per set of pairs (``{panel title: {method: Roc}}``), AUC in each legend entry;
    ``threshold`` marks the ``marked`` method's operating point in every panel."""
    if not isinstance(panels, Mapping) or not panels:
        raise ArgumentError("panels must be a non-empty dict {title: {method: Roc}}")
    if threshold is not None:
        threshold = check_real("threshold", threshold)
    titles = list(panels)
    # panels stacked, not side by side: two square-ish ROC panels do not fit a phone's width with their labels
    fig = make_subplots(rows=len(titles), cols=1, subplot_titles=titles, vertical_spacing=0.3 / len(titles))
    for col, title in enumerate(titles, start=1):
        for name, roc in panels[title].items():
            if not isinstance(roc, Roc):
                raise ArgumentError(f"panels[{title!r}][{name!r}] must be a Roc, got {type(roc).__name__}")
            colour = METHOD_COLOURS.get(name, OKABE_ITO["black"])
            x, y = roc_points_drawn(roc.fpr.numpy(), roc.tpr.numpy())
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines",
                                     name=f"{name}: AUC {roc.auc:.3f}", legendgroup=f"{col}",
                                     legendgrouptitle_text=title if len(titles) > 1 else None,
                                     line=dict(color=colour, width=3, dash=METHOD_DASH.get(name, "solid")),
                                     hovertemplate="FPR %{x:.2f}, TPR %{y:.2f}<extra>" + html.escape(name) + "</extra>"),
                          col, 1)
        if threshold is not None and marked in panels[title]:
            x, y = _threshold_point(panels[title][marked], threshold)
            fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", showlegend=col == 1,
                                     name=f"threshold t = {threshold:.2f}", legendgroup="t",
                                     marker=dict(size=14, color=OKABE_ITO["black"], symbol="x"),
                                     hovertemplate="t: FPR %{x:.2f}, TPR %{y:.2f}<extra></extra>"), col, 1)
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(color="#bbb", width=1)), col, 1)
    n = len(titles)
    styled(fig, height=340 * n + 230, title="Verification ROC",
           legend=dict(orientation="h", y=-80 / (340 * n), x=0, yanchor="top"), margin=dict(t=80, b=230))
    # the x axis is named once, under the bottom panel: on a phone a title between panels sat on the next one's name
    fig.update_xaxes(range=[0, 1.02])  # the "1" tick inside, clear of a legend at the right
    fig.update_xaxes(title_text="different pairs accepted (FPR)", title_standoff=4, row=n, col=1)
    fig.update_yaxes(title_text="matching accepted (TPR)", range=[0, 1.02])
    return fig


# ----------------------------------------------------------------------------- the learned space
@dataclass(frozen=True)
class Embedding2D:
    """Embeddings projected onto their first two principal axes, for the seen and the unseen digits."""

    seen: np.ndarray  # (n_seen, 2)
    seen_labels: np.ndarray  # (n_seen,)
    unseen: np.ndarray  # (n_unseen, 2)
    unseen_labels: np.ndarray  # (n_unseen,)
    explained: float  # fraction of the embeddings' variance the two axes keep


@torch.no_grad()
def compute_embedding_2d(model: SiameseNetwork, X_seen: torch.Tensor, y_seen: torch.Tensor,
                         X_unseen: torch.Tensor, y_unseen: torch.Tensor) -> Embedding2D:
    """The branch's embeddings of both sets, projected by PCA (fitted on both together) onto two axes."""
    if not isinstance(model, SiameseNetwork):
        raise ArgumentError(f"model must be a SiameseNetwork, got {type(model).__name__}")
    for name, X in (("X_seen", X_seen), ("X_unseen", X_unseen)):
        check_tensor(name, X, ndim=2)
    dev = next(model.parameters()).device
    E = torch.cat([model.embed(X_seen.to(dev)), model.embed(X_unseen.to(dev))]).double().cpu()  # (n, E)
    E = E - E.mean(0)
    _, S, Vh = torch.linalg.svd(E, full_matrices=False)
    Z = (E @ Vh[:2].T).numpy()  # (n, 2)
    n = X_seen.shape[0]
    explained = float((S[:2] ** 2).sum() / (S ** 2).sum())
    return Embedding2D(Z[:n], y_seen.cpu().numpy(), Z[n:], y_unseen.cpu().numpy(), explained)


def figure_embedding(emb: Embedding2D) -> go.Figure:
    """Two panels on the same axes: the held-out seen digits by class; the unseen digits over them in grey."""
    if not isinstance(emb, Embedding2D):
        raise ArgumentError(f"emb must be an Embedding2D, got {type(emb).__name__}")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, shared_yaxes=True, vertical_spacing=0.1,
                        subplot_titles=("Digits 0–6 (seen)", "Digits 7–9 (never seen)"))
    for col, (Z, labels, classes, colours) in enumerate(
            [(emb.seen, emb.seen_labels, range(7), SEEN_COLOURS),
             (emb.unseen, emb.unseen_labels, range(7, 10), UNSEEN_COLOURS)], start=1):
        if col == 2:  # the seen digits as a grey backdrop: where do the new classes land?
            fig.add_trace(go.Scatter(x=emb.seen[:, 0], y=emb.seen[:, 1], mode="markers", showlegend=False,
                                       marker=dict(size=5, color="#d9d9d9"), hoverinfo="skip"), 2, 1)
        for c, colour in zip(classes, colours):
            Zc = Z[labels == c]
            if len(Zc) == 0:
                continue
            fig.add_trace(go.Scatter(x=Zc[:, 0], y=Zc[:, 1], mode="markers", name=str(c), showlegend=False,
                                       marker=dict(size=6, color=colour, opacity=0.7),
                                       hovertemplate=f"digit {c}<extra></extra>"), col, 1)
            centre = np.median(Zc, axis=0)  # the class's label sits at its median point
            fig.add_trace(go.Scatter(x=[centre[0]], y=[centre[1]], mode="text", text=[f"<b>{c}</b>"],
                                     showlegend=False, hoverinfo="skip",
                                     textfont=dict(size=15, color=OKABE_ITO["black"])), col, 1)
    styled(fig, height=820, title="The learned space", margin=dict(t=90, b=70))
    fig.update_xaxes(title_text="principal axis 1", row=2, col=1)
    fig.update_yaxes(title_text="principal axis 2")
    return fig


# ----------------------------------------------------------------------------- the pair explorer
@dataclass(frozen=True)
class Gallery:
    """Digits a reader can pair up: their images, labels, whether training saw their class, and embeddings."""

    images: np.ndarray  # (N, 8, 8) in [0, 1]
    labels: np.ndarray  # (N,) int
    seen: np.ndarray  # (N,) bool: was this digit's class among the training classes?
    embeddings: np.ndarray  # (N, E) float64, the branch's output (precomputed: no model call on a move)

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self, i: int) -> str:
        """'#12: a 7 (never seen)' — how a menu names digit ``i``."""
        return f"#{i}: a {self.labels[i]}" + ("" if self.seen[i] else " (unseen)")


@torch.no_grad()
def make_gallery(model: SiameseNetwork, X: torch.Tensor, y: torch.Tensor, seen_classes: Sequence[int]) -> Gallery:
    """Embed every row of ``X`` once (the explorer only looks distances up afterwards)."""
    if not isinstance(model, SiameseNetwork):
        raise ArgumentError(f"model must be a SiameseNetwork, got {type(model).__name__}")
    check_tensor("X", X, ndim=2)
    if X.shape[1] != 64:
        raise ValueError(f"X must hold 8 × 8 digits as rows of 64 pixels, got {X.shape[1]} columns")
    if not isinstance(y, torch.Tensor) or y.shape != (X.shape[0],):
        raise ValueError(f"y must be a tensor of {X.shape[0]} labels, one per row of X")
    dev = next(model.parameters()).device
    E = model.embed(X.to(dev, torch.float32)).double().cpu().numpy()
    labels = y.cpu().numpy()
    return Gallery(X.cpu().double().numpy().reshape(-1, 8, 8), labels,
                   np.isin(labels, list(seen_classes)), E)


@dataclass(frozen=True)
class PairVerdict:
    """One pair of gallery digits judged at a threshold."""

    first: int
    second: int
    distance: float
    threshold: float

    @property
    def same(self) -> bool:
        """The verdict: "same digit" when the distance is at most the threshold."""
        return self.distance <= self.threshold


def compute_pair(gallery: Gallery, first: int, second: int, threshold: float) -> PairVerdict:
    """The distance between two gallery digits' embeddings (a lookup, no model call) and the verdict."""
    if not isinstance(gallery, Gallery):
        raise ArgumentError(f"gallery must be a Gallery, got {type(gallery).__name__}")
    first = check_int("first", first, low=0, high=len(gallery) - 1)
    second = check_int("second", second, low=0, high=len(gallery) - 1)
    threshold = check_real("threshold", threshold, low=0.0)
    d = float(np.sqrt(((gallery.embeddings[first] - gallery.embeddings[second]) ** 2).sum() + 1e-12))
    return PairVerdict(first, second, d, threshold)


_IMG_1, _IMG_2, _HIST_SAME, _HIST_DIFF, _THRESHOLD, _PAIR = range(6)


def _named(gallery: Gallery, i: int) -> str:
    """'a 9 (#384, unseen)': digit ``i`` as the pair explorer's title names it."""
    return f"a {gallery.labels[i]} (#{i}{'' if gallery.seen[i] else ', unseen'})"


def _pair_patch(gallery: Gallery, v: PairVerdict, d_max: float) -> Patch:
    a, b = gallery.labels[v.first], gallery.labels[v.second]
    truth = a == b
    verdict = "same" if v.same else "different"
    right = "✓" if v.same == truth else "✗ wrong"
    sign = "≤" if v.same else ">"
    # which digits: in the title (a caption that wraps on a phone), not under the images, where a phone has no
    # room; one line on a projector, so that the figure, its caption and its slider share one screen
    title = (f"{_named(gallery, v.first)} vs {_named(gallery, v.second)}: "
             f"d = {v.distance:.2f} {sign} t = {v.threshold:.2f}, <b>{verdict}</b> {right}")
    x = min(v.distance, d_max)
    return Patch(traces={_IMG_1: dict(z=gallery.images[v.first][::-1].round(3).tolist()),  # row 0 at the top
                         _IMG_2: dict(z=gallery.images[v.second][::-1].round(3).tolist()),
                         # the label hangs inside the panel, on the side with room (clear of the axis on top)
                         _PAIR: dict(x=[x, x], text=["", "this pair"],
                                     textposition="bottom right" if x < 0.6 * d_max else "bottom left")},
                 layout=dict(title=dict(text=title)))


def figure_pair_explorer(gallery: Gallery, threshold: float, background: tuple[np.ndarray, np.ndarray],
                         first: int = 0, second: int = 1) -> go.Figure:
    """Both digits on top; below, the distances of matching and different unseen pairs, the threshold, and this
    pair's distance. ``background`` is (distances of matching pairs, of different pairs)."""
    d_same, d_diff = (np.asarray(b, dtype=float) for b in background)
    d_max = float(max(d_same.max(), d_diff.max(), threshold)) * 1.05
    fig = make_subplots(rows=2, cols=2, specs=[[{}, {}], [{"colspan": 2}, None]], row_heights=[0.55, 0.45],
                        vertical_spacing=0.25, horizontal_spacing=0.08, subplot_titles=("first digit", "second digit"))
    for col in (1, 2):
        fig.add_trace(go.Heatmap(z=np.zeros((8, 8)).tolist(), zmin=0, zmax=1, colorscale="Greys", showscale=False,
                                 hovertemplate="pixel %{z:.2f}<extra></extra>"), 1, col)
    bins = dict(start=0, end=d_max, size=d_max / 40)
    fig.add_trace(go.Histogram(x=d_same.round(4).tolist(), xbins=bins, name="matching pairs", histnorm="probability",
                               marker_color=SHARED, opacity=0.6), 2, 1)
    fig.add_trace(go.Histogram(x=d_diff.round(4).tolist(), xbins=bins, name="different pairs", histnorm="probability",
                               marker_color=TASK_A, opacity=0.6), 2, 1)
    counts = [np.histogram(d, bins=40, range=(0, d_max))[0] / max(len(d), 1) for d in (d_same, d_diff)]
    top = float(max(c.max() for c in counts)) * 1.15  # the lines span the panel's height
    fig.add_trace(go.Scatter(x=[threshold, threshold], y=[0, top], mode="lines", name="threshold t",
                             line=dict(color=OKABE_ITO["black"], width=2, dash="dash"), hoverinfo="skip"), 2, 1)
    fig.add_trace(go.Scatter(x=[0, 0], y=[0, top], mode="lines+text", name="this pair", showlegend=False,
                             text=["", "this pair"], textposition="bottom right", cliponaxis=False,
                             line=dict(color=TASK_B, width=4), hoverinfo="skip"), 2, 1)
    # Room above for the title and, in the book, the menu; the slider goes under the distance panel,
    # so that panel's axis is labelled on top; the legend sits in the top margin, between title and menu.
    styled(fig, height=720, barmode="overlay", margin=dict(t=185, b=50, l=70, r=30),
           title=dict(y=0.985, yanchor="top", x=0.02, xanchor="left"),
           legend=dict(orientation="h", x=0, xanchor="left", y=1 + 100 / (720 - 185 - 50), yanchor="bottom",
                       font=dict(size=14)))
    bare = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="", constrain="domain")
    for col in (1, 2):
        fig.update_xaxes(**bare, row=1, col=col)
        fig.update_yaxes(**bare, scaleanchor=f"x{'' if col == 1 else col}", row=1, col=col)
    fig.update_xaxes(title_text="distance (pairs of 7–9)", range=[0, d_max], side="top",
                     title_standoff=6, row=2, col=1)
    fig.update_yaxes(title_text="share of pairs", row=2, col=1)
    fig.update_yaxes(range=[0, top * 1.12], row=2, col=1)
    apply_patch(fig, _pair_patch(gallery, compute_pair(gallery, first, second, threshold), d_max))
    return fig


def pick_digits(gallery: Gallery, labels: Sequence[int]) -> list[int]:
    """Gallery indices for ``labels`` in order: the first digit of each label, the next one when it repeats."""
    used: list[int] = []
    for lab in labels:
        i = next((k for k in range(len(gallery)) if gallery.labels[k] == lab and k not in used), None)
        if i is None:
            raise ValueError(f"labels: the gallery holds no (further) digit {lab}")
        used.append(i)
    return used


def pair_explorer(gallery: Gallery, threshold: float, background: tuple[np.ndarray, np.ndarray],
                  picks: Sequence[int], first: int | None = None, second: int | None = None) -> Explorer:
    """The pair explorer: in the book a menu over ``picks`` for the first digit and a slider over them for the
    second; live, two sliders over the whole gallery."""
    import ipywidgets as widgets

    if not isinstance(gallery, Gallery):
        raise ArgumentError(f"gallery must be a Gallery, got {type(gallery).__name__}")
    threshold = check_real("threshold", threshold, low=0.0)
    picks = [check_int(f"picks[{k}]", p, low=0, high=len(gallery) - 1) for k, p in enumerate(picks)]
    if len(picks) < 2 or len(set(picks)) != len(picks):
        raise ValueError(f"picks must be at least two distinct gallery indices, got {picks}")
    first = picks[0] if first is None else check_int("first", first, low=0, high=len(gallery) - 1)
    second = picks[1] if second is None else check_int("second", second, low=0, high=len(gallery) - 1)
    fig = figure_pair_explorer(gallery, threshold, background, first, second)
    d_max = fig.layout.xaxis3.range[1]
    wide = widgets.Layout(width="95%")
    controls = {name: widgets.IntSlider(value=value, min=0, max=len(gallery) - 1, description=f"{name} digit #",
                                        layout=wide, style={"description_width": "8em"})
                for name, value in (("first", first), ("second", second))}
    names = short_names(gallery, picks)
    return Explorer(fig, update=lambda first, second: _pair_patch(gallery, compute_pair(gallery, first, second,
                                                                                           threshold), d_max),
                    controls=controls, static_control="second", static_values=picks,
                    static_labels=names, slider_prefix="second digit: ",
                    groups={"first": [(f"first digit: {n}", p) for n, p in zip(names, picks)]},
                    live_layout=dict(height=640, margin_t=90, margin_b=40))


def short_names(gallery: Gallery, picks: Sequence[int]) -> list[str]:
    """Slider and menu names for ``picks``: the digit, primed when it repeats ('7', "7′"); ten of them fit a
    phone's slider. The full description ('#384: a 9 (unseen)') is in the figure's title."""
    names, seen = [], {}
    for p in picks:
        lab = int(gallery.labels[p])
        names.append(f"{lab}{'′' * seen.get(lab, 0)}")
        seen[lab] = seen.get(lab, 0) + 1
    return names


# ----------------------------------------------------------------------------- training


def figure_losses(losses: Mapping[str, torch.Tensor]) -> go.Figure:
    """Training loss per step (running mean of 20 batches) of each model, on the same pairs."""
    if not isinstance(losses, Mapping) or not losses:
        raise ArgumentError("losses must be a non-empty dict {method: per-step losses}")
    fig = go.Figure()
    for name, v in losses.items():
        y = smooth(v, LOSS_WINDOW)
        fig.add_trace(go.Scatter(x=np.arange(1, len(y) + 1), y=y, name=name, mode="lines",
                                 line=dict(color=METHOD_COLOURS.get(name, OKABE_ITO["black"]), width=3,
                                           dash=METHOD_DASH.get(name, "solid"))))
    styled(fig, height=400, title="Training loss (same pairs)", xaxis_title="step",
           yaxis_title="contrastive loss", legend=dict(x=0.98, xanchor="right", y=0.98))
    fig.update_yaxes(type="log", dtick="D2")  # labels at 1, 2, 5 of each decade: 6, 7, 8, 9 ran together
    return fig
