"""tyshare_lib.viz.autoencoder: the k explorer's numbers, its static frames and live widget (headless), figures."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from tyshare_lib.autoencoder import Autoencoder, reconstruction_error, train_autoencoder, train_bottlenecks
from tyshare_lib.digits import split_digits
from tyshare_lib.viz import autoencoder as viz
from tyshare_lib.viz.autoencoder import _ERR_TIED, _MOSAIC, _NOW, SIDE


@pytest.fixture(scope="module")
def setting():
    s = split_digits(test_fraction=0.3, seed=0)
    mean = s.X_train.mean(0)
    X_train, X_test = s.X_train - mean, s.X_test - mean
    ks = [1, 2, 3]
    tied = {k: m for k, (m, _) in train_bottlenecks(X_train, ks, steps=40, keep_weights=True, record_every=10).items()}
    untied = {2: train_bottlenecks(X_train, [2], tied=False, steps=40)[2][0]}
    pca = PCA(3).fit(X_train.numpy())
    sweep = viz.compute_sweep(X_test, mean, tied, untied, pca.components_, show=[0, 1, 2])
    return dict(X_train=X_train, X_test=X_test, mean=mean, tied=tied, untied=untied, pca=pca, sweep=sweep)


def test_mosaic_layout():
    a = np.arange(2 * 64).reshape(2, 64) / 200
    m = viz.mosaic([a, a])
    assert m.shape == (2 * SIDE + 1, 2 * SIDE + 1)
    assert np.array_equal(m[:SIDE, SIDE + 1:], a[1].reshape(SIDE, SIDE))
    assert (m[SIDE] == viz.GAP).all() and (m[:, SIDE] == viz.GAP).all()
    with pytest.raises(ValueError, match="rows"):
        viz.mosaic([a, a[:1]])


def test_sweep_numbers_agree_with_the_library(setting):
    sw, X_test, mean = setting["sweep"], setting["X_test"], setting["mean"]
    assert sw.ks == [1, 2, 3] and sw.untied_ks == [2]
    for i, k in enumerate(sw.ks):
        assert sw.tied_test[i] == pytest.approx(reconstruction_error(setting["tied"][k], X_test))
        V = setting["pca"].components_[:k]
        Xn = X_test.numpy()
        assert sw.pca_test[i] == pytest.approx(float(np.mean((Xn @ V.T @ V - Xn) ** 2)), rel=1e-6)
        with torch.no_grad():
            rec = setting["tied"][k](X_test[:3]) + mean
        assert np.allclose(sw.tied_images[i], np.clip(rec.numpy(), 0, 1), atol=1e-6)
    assert np.allclose(sw.originals, (X_test[:3] + mean).numpy(), atol=1e-6)
    assert np.all(np.diff(sw.pca_test) < 0)  # more components, less error
    assert np.allclose(sw.tied_test, sw.pca_test, rtol=0.02)  # trained tied linear AE ≈ PCA


def test_static_frames_hold_each_k(setting):
    sw = setting["sweep"]
    fig = viz.reconstruction_explorer(sw, k=2).static_figure()
    assert [f["name"] for f in fig["frames"]] == ["1", "2", "3"]
    for frame, k in zip(fig["frames"], sw.ks):
        i = sw.index(k)
        assert f"k = {k}:" in frame["layout"]["title"]["text"]
        z = np.array(next(d for d, t in zip(frame["data"], frame["traces"]) if t == _MOSAIC)["z"], dtype=float)
        # the middle row of the mosaic is the tied reconstruction of the first digit
        assert np.allclose(z[SIDE + 1: 2 * SIDE + 1, :SIDE], sw.tied_images[i][0].reshape(SIDE, SIDE), atol=1e-3)


def test_live_widget_follows_the_slider(setting):
    sw = setting["sweep"]
    ex = viz.reconstruction_explorer(sw, k=1)
    _ = ex.widget
    shown = []
    for k in [1, 3, 2]:
        ex.set(k=k)
        fw = ex.figure_widget
        i = sw.index(k)
        assert fw.data[_NOW].x[0] == k
        assert fw.data[_NOW].y[0] == pytest.approx(sw.tied_test[i])
        z = np.array(fw.data[_MOSAIC].z, dtype=float)
        assert np.allclose(z[2 * (SIDE + 1): 3 * (SIDE + 1) - 1, :SIDE], sw.pca_images[i][0].reshape(SIDE, SIDE), atol=1e-3)
        shown.append(fw.data[_NOW].y[0])
    assert shown[0] > shown[2] > shown[1]  # error falls with k: k=1 > k=2 > k=3
    assert list(ex.figure_widget.data[_ERR_TIED].y) == pytest.approx(list(sw.tied_test))


def test_explorer_refuses_bad_input(setting):
    sw = setting["sweep"]
    with pytest.raises(ValueError, match="k must be one of"):
        viz.reconstruction_explorer(sw, k=7)
    ex = viz.reconstruction_explorer(sw, k=1)
    with pytest.raises(ValueError, match="k"):
        ex.set(k=9)
    with pytest.raises(TypeError, match="sweep"):
        viz.figure_reconstructions("sweep")


def test_compute_sweep_refuses_bad_input(setting):
    X_test, mean, tied = setting["X_test"], setting["mean"], setting["tied"]
    comps = setting["pca"].components_
    with pytest.raises(TypeError, match="tied"):
        viz.compute_sweep(X_test, mean, {1: "model"}, {}, comps)
    with pytest.raises(ValueError, match="tied must hold"):
        viz.compute_sweep(X_test, mean, {}, {}, comps)
    with pytest.raises(ValueError, match="pca_components"):
        viz.compute_sweep(X_test, mean, tied, {}, comps[:2])
    with pytest.raises(ValueError, match=r"show\[0\]"):
        viz.compute_sweep(X_test, mean, tied, {}, comps, show=[10_000])
    with pytest.raises(ValueError, match="mean"):
        viz.compute_sweep(X_test, mean[None], tied, {}, comps)


def test_angle_history_falls(setting):
    s = split_digits(test_fraction=0.3, seed=0)
    X_train = s.X_train - s.X_train.mean(0)
    m = Autoencoder(64, 2, device="cpu")
    r = train_autoencoder(m, X_train, steps=40, record_every=10, keep_weights=True)
    angles = viz.compute_angle_history(r, setting["pca"].components_)
    assert len(angles) == len(r.steps) == 5
    assert angles[0] > 45 and angles[-1] < 1.0
    fig = viz.figure_angles({2: (r.steps, angles)})
    assert fig.data[0].name == "k = 2" and fig.layout.yaxis.type == "log"
    with pytest.raises(ValueError, match="keep_weights"):
        viz.compute_angle_history(train_autoencoder(m, X_train[:50], steps=1), setting["pca"].components_)
    with pytest.raises(TypeError, match="result"):
        viz.compute_angle_history("run", setting["pca"].components_)


def test_static_figures(setting):
    tied, untied = setting["tied"][2], setting["untied"][2]
    g = viz.figure_gram(tied.encoder.weight, untied.encoder.weight)
    assert np.allclose(np.array(g.data[0].z), np.eye(2), atol=0.05)  # tied: WWᵀ ≈ I
    assert not np.allclose(np.array(g.data[1].z), np.eye(2), atol=0.05)
    f = viz.figure_filters(torch.randn(5, 64), torch.randn(16, 64), per_row=4)
    assert len(f.data) == 2 and np.array(f.data[0].z).shape == (2 * SIDE + 1, 4 * SIDE + 3)
    with pytest.raises(ValueError, match="64 columns"):
        viz.figure_filters(torch.randn(5, 10), torch.randn(5, 64))
    t = viz.figure_twins({"tied": (1.0, 2.0), "untied": (0.5, 1.5)})
    assert list(t.data[1].y) == [2.0, 1.5]
