"""tyshare_lib.viz.siamese: ROC panels, the learned space, and the pair explorer (static frames and live, headless)."""
import numpy as np
import pytest
import torch

from tyshare_lib.digits import load_digits_tensors, split_digits
from tyshare_lib.siamese import BranchConfig, make_branch, pair_distances, roc_curve, sample_pairs, SiameseNetwork, \
    train_siamese
from tyshare_lib.viz import siamese as viz
from tyshare_lib.viz.siamese import _HIST_DIFF, _HIST_SAME, _IMG_1, _IMG_2, _PAIR, _THRESHOLD

CONFIG = BranchConfig(64, 16, 4)


@pytest.fixture(scope="module")
def setup():
    seen = split_digits(classes=range(7))
    X, y = load_digits_tensors()
    X_new, y_new = X[y >= 7], y[y >= 7]
    net = SiameseNetwork(make_branch(CONFIG, seed=0, device="cpu"))
    train_siamese(net, seen.X_train, seen.y_train, steps=30, batch_size=64)
    gallery = viz.make_gallery(net, torch.cat([seen.X_test, X_new]), torch.cat([seen.y_test, y_new]), range(7))
    P = sample_pairs(y_new, 200, seed=2)
    d = pair_distances(net, X_new, P)
    background = (d[P.same == 1].numpy(), d[P.same == 0].numpy())
    return dict(seen=seen, X_new=X_new, y_new=y_new, net=net, gallery=gallery, pairs=P, background=background)


def test_compute_rocs_agrees_with_the_library(setup):
    P, X = setup["pairs"], setup["X_new"]
    rocs = viz.compute_rocs({"Siamese (tied)": setup["net"], "raw pixels": None}, X, P)
    assert rocs["Siamese (tied)"].auc == roc_curve(pair_distances(setup["net"], X, P), P.same).auc
    pixels = (X[P.first] - X[P.second]).norm(dim=1)
    assert rocs["raw pixels"].auc == pytest.approx(roc_curve(pixels, P.same).auc)


def test_figure_roc_draws_every_curve_and_the_threshold(setup):
    P, X = setup["pairs"], setup["X_new"]
    rocs = viz.compute_rocs({"Siamese (tied)": setup["net"], "raw pixels": None}, X, P)
    fig = viz.figure_roc({"A": rocs, "B": rocs}, threshold=0.5)
    names = [tr.name for tr in fig.data if tr.name]
    assert sum("AUC" in n for n in names) == 4 and any("threshold" in n for n in names)
    mark = next(tr for tr in fig.data if tr.name and "threshold" in tr.name)
    d = pair_distances(setup["net"], X, P)
    tpr = float(((d <= 0.5) & (P.same == 1)).sum() / (P.same == 1).sum())
    assert mark.y[0] == pytest.approx(tpr)
    # the x axis is named under the bottom panel only (stacked panels share it); every panel names its y axis
    assert fig.layout.xaxis2.title.text and not fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def _distance_to_polyline(px, py, xs, ys):
    """Euclidean distance from each point (px, py) to the polyline through (xs, ys)."""
    p = np.stack([px, py], 1)[:, None, :]
    a = np.stack([xs[:-1], ys[:-1]], 1)[None]
    b = np.stack([xs[1:], ys[1:]], 1)[None]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-18), 0, 1)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1).min(1)


def test_a_roc_is_drawn_with_few_points_close_to_the_full_curve():
    rng = np.random.default_rng(0)
    same = rng.random(5000) < 0.3
    roc = roc_curve(torch.tensor(rng.normal(0, 1, 5000) - 1.2 * same), torch.tensor(same.astype(np.int64)))
    fpr, tpr = roc.fpr.numpy(), roc.tpr.numpy()
    x, y = viz.roc_points_drawn(fpr, tpr)
    assert len(fpr) > 4000 and len(x) < 700  # a point per distinct distance, and what is drawn
    assert (x[0], y[0], x[-1], y[-1]) == (fpr[0], tpr[0], fpr[-1], tpr[-1])
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)  # a subset, in order: still monotone
    gap = _distance_to_polyline(fpr, tpr, x, y)
    assert gap.max() < 2 * viz.ROC_TOLERANCE  # within ~1 px of a 400-px panel everywhere
    same_x, same_y = viz.roc_points_drawn(fpr, tpr, tolerance=0)  # no tolerance: every point
    assert len(same_x) == len(fpr)
    with pytest.raises(ValueError, match="fpr and tpr must be 1-D"):
        viz.roc_points_drawn(fpr, tpr[:-1])
    with pytest.raises(ValueError, match="tolerance"):
        viz.roc_points_drawn(fpr, tpr, tolerance=-1)


def test_embedding_projection_keeps_distances_in_its_plane(setup):
    s = setup["seen"]
    emb = viz.compute_embedding_2d(setup["net"], s.X_test, s.y_test, setup["X_new"], setup["y_new"])
    assert emb.seen.shape == (len(s.y_test), 2) and emb.unseen.shape == (len(setup["y_new"]), 2)
    assert 0 < emb.explained <= 1
    assert abs(emb.seen[:, 0].mean() * len(emb.seen) + emb.unseen[:, 0].mean() * len(emb.unseen)) < 1e-6  # centred
    fig = viz.figure_embedding(emb)
    assert {a.text for a in fig.layout.annotations} == {"Digits 0–6 (seen)", "Digits 7–9 (never seen)"}
    labels = {tr.text[0] for tr in fig.data if tr.mode == "text"}
    assert labels == {f"<b>{c}</b>" for c in range(10)}


def test_compute_pair_is_the_network_distance(setup):
    g, net = setup["gallery"], setup["net"]
    X = torch.tensor(g.images.reshape(-1, 64), dtype=torch.float32)
    with torch.no_grad():
        d = net(X[[3]], X[[400]]).item()
    v = viz.compute_pair(g, 3, 400, threshold=d + 0.01)
    assert v.distance == pytest.approx(d, rel=1e-5) and v.same
    assert not viz.compute_pair(g, 3, 400, threshold=d - 0.01).same
    assert viz.compute_pair(g, 5, 5, 0.1).distance < 1e-5


def test_pick_digits(setup):
    g = setup["gallery"]
    picks = viz.pick_digits(g, [1, 7, 7])
    assert [g.labels[p] for p in picks] == [1, 7, 7] and len(set(picks)) == 3
    assert g.seen[picks[0]] and not g.seen[picks[1]]
    with pytest.raises(ValueError, match="labels"):
        viz.pick_digits(g, [11])


def _explorer(setup, **kw):
    g = setup["gallery"]
    picks = viz.pick_digits(g, [1, 3, 7, 7, 8])
    return viz.pair_explorer(g, 0.5, setup["background"], picks, **kw), picks


def test_static_frames_show_each_pair(setup):
    ex, picks = _explorer(setup)
    fig = ex.static_figure()
    g = setup["gallery"]
    assert len(fig["frames"]) == len(picks) ** 2
    assert len(fig["layout"]["updatemenus"][0]["buttons"]) == len(picks)
    # short names on the slider and the menu (a phone's width), the digit primed when it repeats
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == ["1", "3", "7", "7′", "8"]
    assert fig["layout"]["updatemenus"][0]["buttons"][3]["label"] == "first digit: 7′"
    frame = fig["frames"][len(picks) + 2]  # first = picks[1], second = picks[2]
    d = viz.compute_pair(g, picks[1], picks[2], 0.5).distance
    assert f"d = {d:.2f}" in frame["layout"]["title"]["text"]
    image = next(tr for tr, i in zip(frame["data"], frame["traces"]) if i == _IMG_2)
    assert np.allclose(np.array(image["z"])[::-1], g.images[picks[2]].round(3))


def test_live_explorer_follows_the_controls(setup):
    ex, picks = _explorer(setup)
    g = setup["gallery"]
    _ = ex.widget
    fw = ex.figure_widget
    for first, second in [(picks[2], picks[3]), (0, len(g) - 1), (10, 10)]:
        ex.set(first=first, second=second)
        v = viz.compute_pair(g, first, second, 0.5)
        assert fw.data[_PAIR].x[0] == pytest.approx(min(v.distance, fw.layout.xaxis3.range[1]))
        assert np.allclose(np.array(fw.data[_IMG_1].z)[::-1], g.images[first].round(3))
        assert np.allclose(np.array(fw.data[_IMG_2].z)[::-1], g.images[second].round(3))
        verdict = "same" if v.same else "different"
        assert f"<b>{verdict}</b>" in fw.layout.title.text
        assert fw.layout.title.text.startswith(f"{viz._named(g, first)} vs {viz._named(g, second)}: ")
        assert f"a {g.labels[first]} (#{first}" in fw.layout.title.text
    assert fw.data[_PAIR].x[0] < 1e-5 and "same" in fw.layout.title.text  # a digit with itself
    assert fw.data[_THRESHOLD].x[0] == 0.5
    assert len(fw.data[_HIST_SAME].x) == len(setup["background"][0])
    assert len(fw.data[_HIST_DIFF].x) == len(setup["background"][1])


def test_smooth_and_losses_figure():
    assert viz.smooth([1.0, 3.0, 5.0], window=2).tolist() == [1.0, 2.0, 4.0]
    fig = viz.figure_losses({"Siamese (tied)": torch.tensor([1.0, 0.5]), "untied twin": torch.tensor([2.0, 1.0])})
    assert [tr.name for tr in fig.data] == ["Siamese (tied)", "untied twin"]
    with pytest.raises(ValueError, match="window"):
        viz.smooth([1.0], window=0)


def test_bad_arguments_are_refused(setup):
    g = setup["gallery"]
    with pytest.raises(ValueError, match="second"):
        viz.compute_pair(g, 0, len(g), 0.5)
    with pytest.raises(ValueError, match="threshold"):
        viz.compute_pair(g, 0, 1, -1.0)
    with pytest.raises(TypeError, match="gallery"):
        viz.compute_pair("gallery", 0, 1, 0.5)
    with pytest.raises(ValueError, match="picks"):
        viz.pair_explorer(g, 0.5, setup["background"], [3, 3])
    with pytest.raises(TypeError, match="model"):
        viz.compute_rocs({"x": torch.nn.Linear(2, 2)}, setup["X_new"], setup["pairs"])
    with pytest.raises(TypeError, match="panels"):
        viz.figure_roc({})
    with pytest.raises(TypeError, match="model"):
        viz.make_gallery(torch.nn.Linear(64, 2), setup["X_new"], setup["y_new"], range(7))
    ex, _ = _explorer(setup)
    with pytest.raises(ValueError, match="first"):
        ex.set(first=len(g))  # beyond the slider
