"""tyshare_lib.autoencoder: the tie is real, counts, principal angles, the trainer, PCA, bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from tyshare_lib.autoencoder import (Autoencoder, AutoencoderConfig, count_parameters, gradient_parts,
                                     orthonormality_error, pca_basis, principal_angles, reconstruction_error,
                                     reset_parameters, train_autoencoder, train_bottlenecks)
from tyshare_lib.digits import split_digits


@pytest.fixture(scope="module")
def digits():
    s = split_digits(test_fraction=0.3, seed=0)
    mean = s.X_train.mean(0)
    return s.X_train - mean, s.X_test - mean


# ----------------------------------------------------------------------------- the tie
def test_tied_model_has_no_decoder_weight():
    m = Autoencoder(10, 3, tied=True, device="cpu")
    names = [n for n, _ in m.named_parameters()]
    assert names == ["encoders.0.weight", "encoders.0.bias", "decoder_biases.0"]
    assert m.decoders is None
    assert m.decoder_weight().data_ptr() == m.encoder.weight.data_ptr()
    untied = Autoencoder(10, 3, tied=False, device="cpu")
    assert "decoders.0.weight" in dict(untied.named_parameters())
    assert untied.decoder_weight().data_ptr() != untied.encoder.weight.data_ptr()


def test_write_to_encoder_is_read_by_decoder():
    torch.manual_seed(0)
    m = Autoencoder(6, 2, tied=True, device="cpu")
    h = torch.randn(4, 2)
    before = m.decode(h)
    with torch.no_grad():
        m.encoder.weight[1, 3] += 2.0
    after = m.decode(h)
    # only output pixel 3 reads W[:, 3]; it moves by 2·h[:, 1]
    assert torch.allclose(after[:, 3] - before[:, 3], 2.0 * h[:, 1])
    assert torch.equal(torch.cat([after[:, :3], after[:, 4:]], 1), torch.cat([before[:, :3], before[:, 4:]], 1))
    assert m.decoder_weight()[3, 1] == m.encoder.weight[1, 3]


def test_untied_write_is_not_read_by_decoder():
    m = Autoencoder(6, 2, tied=False, device="cpu")
    h = torch.randn(4, 2)
    before = m.decode(h)
    with torch.no_grad():
        m.encoder.weight += 1.0
    assert torch.equal(m.decode(h), before)


def test_forward_matches_formula():
    torch.manual_seed(1)
    for act, f in (("linear", lambda t: t), ("sigmoid", torch.sigmoid), ("relu", torch.relu)):
        m = Autoencoder(7, 3, tied=True, activation=act, device="cpu")
        with torch.no_grad():
            m.encoder.bias.normal_()
            m.decoder_biases[0].normal_()
        x = torch.randn(5, 7)
        W, b, c = m.encoder.weight, m.encoder.bias, m.decoder_biases[0]
        assert torch.allclose(m(x), f(x @ W.T + b) @ W + c, atol=1e-6)


def test_deep_tied_mirrors_each_layer():
    torch.manual_seed(2)
    m = Autoencoder(8, [5, 3], tied=True, activation="sigmoid", device="cpu")
    x = torch.randn(4, 8)
    (W1, b1), (W2, b2) = [(l.weight, l.bias) for l in m.encoders]
    c1, c2 = m.decoder_biases
    h1 = torch.sigmoid(x @ W1.T + b1)
    code = torch.sigmoid(h1 @ W2.T + b2)
    g1 = torch.sigmoid(code @ W2 + c2)  # decoder layer 2 uses W2ᵀ
    assert torch.allclose(m(x), g1 @ W1 + c1, atol=1e-6)


def test_gradient_is_sum_of_uses_and_matches_formula():
    torch.manual_seed(3)
    X = torch.rand(20, 9, dtype=torch.float64)
    m = Autoencoder(9, 4, tied=True, device="cpu", dtype=torch.float64)
    with torch.no_grad():
        m.encoder.bias.normal_()
        m.decoder_biases[0].normal_()
    parts = gradient_parts(m, X)
    # autograd on the tied model, independently of gradient_parts
    m.zero_grad()
    F.mse_loss(m(X), X).backward()
    assert torch.allclose(m.encoder.weight.grad, parts.tied)
    assert torch.allclose(parts.tied, parts.encoder_use + parts.decoder_use)
    W, b, c = m.encoder.weight.detach(), m.encoder.bias.detach(), m.decoder_biases[0].detach()
    H = X @ W.T + b
    R = H @ W + c - X
    s = 2 / X.numel()
    assert torch.allclose(parts.encoder_use, s * W @ R.T @ X)
    assert torch.allclose(parts.decoder_use, s * H.T @ R)
    assert parts.encoder_use.norm() > 1e-3 and parts.decoder_use.norm() > 1e-3  # both uses matter


def test_gradient_parts_for_deep_and_sigmoid():
    torch.manual_seed(4)
    X = torch.rand(10, 8, dtype=torch.float64)
    m = Autoencoder(8, [5, 3], tied=True, activation="sigmoid", device="cpu", dtype=torch.float64)
    parts = gradient_parts(m, X)
    assert torch.allclose(parts.tied, parts.encoder_use + parts.decoder_use)
    with pytest.raises(ValueError, match="model must be tied"):
        gradient_parts(Autoencoder(8, 3, tied=False, device="cpu"), X.float())


def test_untied_step_changes_only_its_own_matrices():
    m = Autoencoder(6, 2, tied=False, device="cpu")
    assert len(list(m.parameters())) == 4
    t = Autoencoder(6, 2, tied=True, device="cpu")
    assert len(list(t.parameters())) == 3  # the tied matrix is listed (and stepped) once


# ----------------------------------------------------------------------------- counts
@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=2, max_size=5), tied=st.booleans(),
       act=st.sampled_from(["linear", "sigmoid", "relu"]))
def test_count_matches_module(sizes, tied, act):
    m = Autoencoder(sizes[0], sizes[1:], tied=tied, activation=act, device="cpu")
    assert sum(p.numel() for p in m.parameters()) == count_parameters(sizes, tied) == m.config.num_parameters


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 100), h=st.integers(1, 100))
def test_count_formulas_of_the_issue(n, h):
    assert count_parameters([n, h], True) == n * h + h + n
    assert count_parameters([n, h], False) == 2 * n * h + h + n


def test_hinton_salakhutdinov_count():
    sizes = [784, 1000, 500, 250, 30]
    assert count_parameters(sizes, True) == 1_420_814
    assert count_parameters(sizes, False) == 2_837_314
    assert sum(p.numel() for p in Autoencoder(784, sizes[1:], tied=True, device="cpu").parameters()) == 1_420_814


# ----------------------------------------------------------------------------- principal angles
@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), p=st.integers(1, 5), q=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_principal_angles_equal_scipy(n, p, q, seed):
    g = np.random.default_rng(seed)
    A, B = g.standard_normal((n, min(p, n))), g.standard_normal((n, min(q, n)))
    ours = principal_angles(torch.tensor(A), torch.tensor(B)).numpy()
    # scipy resolves an angle of 0 only to about 1e-8 rad (5.7e-7°): when the subspaces must meet (p + q > n)
    # its smallest angle is ~8.5e-7° where ours is ~1e-14°. 1e-5° still tells any real difference.
    assert np.allclose(ours, np.degrees(subspace_angles(A, B)), atol=1e-5)


def test_principal_angles_known_cases():
    e = torch.eye(3, dtype=torch.float64)
    assert principal_angles(e[:, :1], e[:, 1:2]).tolist() == [90.0]
    assert torch.allclose(principal_angles(e[:, :2], e[:, :2] @ torch.tensor([[2.0, 1.0], [0.0, 3.0]], dtype=torch.float64)),
                          torch.zeros(2, dtype=torch.float64), atol=1e-12)
    theta = 0.3
    v = torch.tensor([[np.cos(theta)], [np.sin(theta)], [0.0]])
    assert principal_angles(e[:, :1], v).item() == pytest.approx(np.degrees(theta), abs=1e-10)
    # tiny angles survive (the arcsin branch): 1e-9 rad
    w = torch.tensor([[1.0], [1e-9], [0.0]], dtype=torch.float64)
    assert principal_angles(e[:, :1], w).item() == pytest.approx(np.degrees(1e-9), rel=1e-6)
    # largest first; rank-deficient input counts its rank only
    A = torch.cat([e[:, :2], e[:, :1]], 1)
    assert principal_angles(A, e[:, 1:]).tolist() == pytest.approx([90.0, 0.0], abs=1e-9)


def test_principal_angles_of_orthonormal_bases_are_zero():
    Q, _ = torch.linalg.qr(torch.randn(10, 4, dtype=torch.float64))
    M = torch.randn(4, 4, dtype=torch.float64)
    assert principal_angles(Q, Q @ M).max() < 1e-6


def test_pca_basis_matches_sklearn(digits):
    X_train, _ = digits
    ours = pca_basis(X_train, 5)
    theirs = PCA(5).fit(X_train.numpy()).components_
    assert np.allclose(np.abs(ours.numpy() @ theirs.T), np.eye(5), atol=1e-4)
    assert orthonormality_error(ours) < 1e-12


def test_orthonormality_error():
    assert orthonormality_error(torch.eye(3)[:2]) == 0.0
    assert orthonormality_error(2 * torch.eye(2)) == 3.0


# ----------------------------------------------------------------------------- training
def test_training_lowers_the_loss_and_is_seeded(digits):
    X_train, _ = digits
    results = []
    for _ in range(2):
        m = Autoencoder(64, 4, tied=True, device="cpu")
        results.append((train_autoencoder(m, X_train[:300], steps=20, record_every=5, seed=3), m))
    (r1, m1), (r2, m2) = results
    assert r1.steps == [0, 5, 10, 15, 20]
    assert r1.losses[-1] < 0.6 * r1.losses[0]
    assert torch.equal(r1.losses, r2.losses) and torch.equal(m1.encoder.weight, m2.encoder.weight)
    r3 = train_autoencoder(Autoencoder(64, 4, tied=True, device="cpu"), X_train[:300], steps=20, seed=4)
    assert not torch.equal(r1.losses, r3.losses)


def test_adam_minibatch_training_lowers_the_loss(digits):
    X_train, _ = digits
    m = Autoencoder(64, 8, tied=False, activation="relu", device="cpu")
    r = train_autoencoder(m, X_train, steps=60, optimizer="adam", batch_size=64, record_every=60, seed=0)
    assert r.losses[-1] < 0.7 * r.losses[0]


def test_tied_linear_lands_on_pca(digits):
    """The chapter's claim at a small k: angle ≈ 0, WWᵀ ≈ I, error = PCA's."""
    X_train, _ = digits
    m = Autoencoder(64, 3, tied=True, device="cpu")
    r = train_autoencoder(m, X_train, steps=60, keep_weights=True, record_every=20)
    basis = torch.tensor(PCA(3).fit(X_train.numpy()).components_, dtype=torch.float64)
    assert principal_angles(r.weights[0].T, basis.T).max() > 45  # a random start
    assert principal_angles(m.encoder.weight.T, basis.T).max() < 0.5
    assert orthonormality_error(m.encoder.weight) < 1e-3
    Xn = X_train.numpy()
    pca_err = float(np.mean((Xn @ basis.numpy().T @ basis.numpy() - Xn) ** 2))
    assert reconstruction_error(m, X_train) == pytest.approx(pca_err, rel=1e-4)


def test_keep_weights_and_reset(digits):
    X_train, _ = digits
    m = Autoencoder(64, 2, tied=False, device="cpu")
    r = train_autoencoder(m, X_train[:100], steps=7, record_every=3, keep_weights=True)
    assert r.steps == [0, 3, 6, 7] and len(r.weights) == 4 and len(r.losses) == 4
    reset_parameters(m, seed=0)
    assert torch.equal(m.decoders[0].weight, m.encoder.weight.t())  # twins start at the same function
    assert m.encoder.bias.abs().sum() == 0


def test_train_bottlenecks(digits):
    X_train, _ = digits
    runs = train_bottlenecks(X_train[:200], [1, 3], steps=5)
    assert sorted(runs) == [1, 3] and runs[3][0].encoder.weight.shape == (3, 64)


# ----------------------------------------------------------------------------- bad input
def test_bad_sizes_and_choices():
    with pytest.raises(ValueError, match="n_inputs"):
        Autoencoder(0, 3)
    with pytest.raises(ValueError, match=r"n_hidden\[0\]"):
        Autoencoder(5, 0)
    with pytest.raises(ValueError, match="n_hidden"):
        Autoencoder(5, [])
    with pytest.raises(TypeError, match="n_hidden"):
        Autoencoder(5, "3")
    with pytest.raises(TypeError, match="n_inputs"):
        Autoencoder(5.0, 3)
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(5, 3, activation="tanh")
    with pytest.raises(TypeError, match="tied"):
        Autoencoder(5, 3, tied="yes")
    with pytest.raises(ValueError, match="device"):
        Autoencoder(5, 3, device="tpu")
    with pytest.raises(TypeError, match="dtype"):
        Autoencoder(5, 3, device="cpu", dtype=torch.int64)
    with pytest.raises(ValueError, match="activation"):
        AutoencoderConfig(5, 3, activation="softmax")
    with pytest.raises(TypeError, match="sizes"):
        count_parameters([5], True)
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        count_parameters([5, -1], True)
    with pytest.raises(TypeError, match="tied"):
        count_parameters([5, 2], 1)


def test_bad_training_arguments(digits):
    X_train, _ = digits
    m = Autoencoder(64, 2, device="cpu")
    with pytest.raises(TypeError, match="model"):
        train_autoencoder("model", X_train)
    with pytest.raises(ValueError, match="X"):
        train_autoencoder(m, X_train[:, :10])
    with pytest.raises(TypeError, match="X"):
        train_autoencoder(m, X_train.long())
    with pytest.raises(ValueError, match="steps"):
        train_autoencoder(m, X_train, steps=-1)
    with pytest.raises(ValueError, match="optimizer"):
        train_autoencoder(m, X_train, optimizer="sgd")
    with pytest.raises(ValueError, match="lr"):
        train_autoencoder(m, X_train, lr=0.0)
    with pytest.raises(ValueError, match="batch_size"):
        train_autoencoder(m, X_train, batch_size=10)  # L-BFGS is full batch
    with pytest.raises(ValueError, match="record_every"):
        train_autoencoder(m, X_train, record_every=0)
    with pytest.raises(ValueError, match=r"ks\[0\]"):
        train_bottlenecks(X_train, [0])
    with pytest.raises(TypeError, match="ks"):
        train_bottlenecks(X_train, 3)
    with pytest.raises(ValueError, match="k"):
        pca_basis(X_train, 65)


def test_bad_angle_arguments():
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(torch.eye(3), torch.eye(4))
    with pytest.raises(ValueError, match="A must be 2-D"):
        principal_angles(torch.ones(3), torch.eye(3))
    with pytest.raises(TypeError, match="B"):
        principal_angles(torch.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="non-zero column"):
        principal_angles(torch.zeros(3, 2), torch.eye(3))
