"""tyshare_lib.checks: every check names the argument, says what is allowed, and lets good values through."""
import math

import pytest
import torch

from tyshare_lib.checks import (ArgumentError, check_bool, check_choice, check_finite_array, check_finite_tensor, check_int,
                                check_real, check_tensor)


def test_good_values_pass_through():
    assert check_finite_array("z", [[1, 2]], 2).dtype == float
    t = torch.ones(2, 3)
    assert check_real("x", 2) == 2.0 and check_real("x", math.inf, allow_inf=True) == math.inf
    assert check_int("n", 3, low=1, high=3) == 3
    assert check_choice("mode", "a", ("a", "b")) == "a"
    assert check_bool("flag", False) is False
    assert check_tensor("t", t, ndim=2) is t and check_finite_tensor("t", t, ndim=2) is t


@pytest.mark.parametrize("call, error, match", [
    (lambda: check_real("lr", "big"), TypeError, "lr must be a real number"),
    (lambda: check_real("lr", math.nan), ValueError, "lr must not be NaN"),
    (lambda: check_real("lr", -math.inf, allow_inf=True), ValueError, "lr must be a finite number or"),
    (lambda: check_real("lr", -1, low=0), ValueError, "lr must be >= 0"),
    (lambda: check_int("n", True), TypeError, "n must be an int"),
    (lambda: check_int("n", 5, high=4), ValueError, r"n must be in \[-inf, 4\]"),
    (lambda: check_choice("mode", "c", ("a", "b")), ValueError, r"mode must be one of \['a', 'b'\]"),
    (lambda: check_choice("mode", ["a"], ("a", "b")), TypeError, "mode must be one of"),  # unhashable
    (lambda: check_choice("mode", {"a": 1}, {"a": 0}), ValueError, "mode must be one of"),
    (lambda: check_bool("flag", "no"), TypeError, "flag must be True or False"),
    (lambda: check_bool("flag", 1), TypeError, "flag must be True or False"),
    (lambda: check_tensor("t", [1.0]), TypeError, "t must be a torch.Tensor"),
    (lambda: check_tensor("t", torch.ones(3), ndim=2), ValueError, "t must be 2-D"),
    (lambda: check_tensor("t", torch.ones(3, dtype=torch.long)), TypeError, "t must be a floating-point"),
    (lambda: check_tensor("t", torch.tensor([math.nan])), ValueError, "t must not contain NaN"),
    (lambda: check_finite_tensor("t", torch.tensor([1.0, math.inf])), ValueError, "t must be finite"),
    (lambda: check_finite_tensor("t", torch.tensor([-math.inf])), ValueError, "t must be finite"),
    (lambda: check_finite_tensor("t", torch.ones(0, 3)), ValueError, "t must not be empty"),
    (lambda: check_finite_tensor("t", torch.tensor([math.nan])), ValueError, "t must not contain NaN"),
    (lambda: check_finite_array("z", [[1.0, math.inf]]), ValueError, "z must be finite"),
    (lambda: check_finite_array("z", [1.0, 2.0], 2), ValueError, "z must be a 2-D array of real numbers, got shape"),
    (lambda: check_finite_array("z", "abc"), ArgumentError, "z must be an array of real numbers, got str"),
])
def test_bad_values_are_refused_naming_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_argument_error_is_both_kinds():
    assert issubclass(ArgumentError, TypeError) and issubclass(ArgumentError, ValueError)
    assert check_finite_tensor("t", torch.ones(0, 3), nonempty=False).shape == (0, 3)
