"""The bundled digits loader: shapes, ranges, seeded and stratified splits, refused arguments."""
import pytest
import torch

from tyshare_lib.digits import DigitSplit, load_digits_tensors, split_digits


def test_all_digits_scaled_to_unit_interval():
    X, y = load_digits_tensors()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == torch.float32 and X.min() == 0.0 and X.max() == 1.0
    assert sorted(y.unique().tolist()) == list(range(10))


def test_split_is_seeded_disjoint_and_stratified():
    a, b, c = split_digits(seed=1), split_digits(seed=1), split_digits(seed=2)
    assert torch.equal(a.X_train, b.X_train) and not torch.equal(a.X_train, c.X_train)
    assert len(a.y_train) + len(a.y_test) == 1797
    train_rows = {tuple(r.tolist()) for r in a.X_train}
    overlap = sum(tuple(r.tolist()) in train_rows for r in a.X_test)
    assert overlap < 10  # the data set has a few duplicate images, never the same row twice
    for c_ in range(10):
        share = (a.y_test == c_).sum() / ((a.y_test == c_).sum() + (a.y_train == c_).sum())
        assert abs(share - 0.3) < 0.01


def test_classes_subset_and_images():
    s = split_digits(classes=[7, 8, 9])
    assert set(s.y_train.tolist()) == {7, 8, 9} == set(s.y_test.tolist())
    assert DigitSplit.images(s.X_test).shape == (len(s.X_test), 8, 8)


@pytest.mark.parametrize("kwargs, word", [(dict(test_fraction=1.0), "test_fraction"),
                                          (dict(test_fraction="a"), "test_fraction"),
                                          (dict(seed=-1), "seed"), (dict(classes=[3, 3]), "classes"),
                                          (dict(classes=[10]), "classes"), (dict(classes="0"), "classes")])
def test_bad_arguments_are_refused(kwargs, word):
    with pytest.raises((ValueError, TypeError), match=word):
        split_digits(**kwargs)
