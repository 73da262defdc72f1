"""The private validators' messages name the argument and the rule it broke."""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck._validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_real,
    check_rng,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError


@pytest.mark.parametrize(("value", "kwargs", "match"), [
    (2.5, {}, r"^`num_steps` must be an integer \(got 2\.5\)$"),
    ("10", {}, r"^`num_steps` must be an integer \(got '10'\)$"),
    (True, {}, r"^`num_steps` must be an integer \(got True\)$"),
    (None, {}, r"^`num_steps` must be an integer \(got None\)$"),
    (1, {"minimum": 2}, r"^`num_steps` must be >= 2 \(got 1\)$"),
    (11, {"maximum": 10}, r"^`num_steps` must be <= 10 \(got 11\)$"),
    (float("nan"), {}, r"^`num_steps` must be an integer \(got nan\)$"),
])
def test_check_int_messages(value, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        check_int("num_steps", value, **kwargs)


def test_check_int_accepts_integral_values():
    assert check_int("n", 3) == 3
    assert check_int("n", np.int64(7), minimum=7, maximum=7) == 7
    value = check_int("n", 4.0)
    assert value == 4 and type(value) is int


@pytest.mark.parametrize(("value", "kwargs", "error", "match"), [
    ("1", {}, InvalidParameterError, r"^`c1` must be a real number \(got '1'\)$"),
    (True, {}, InvalidParameterError, r"^`c1` must be a real number \(got True\)$"),
    (1j, {}, InvalidParameterError, r"^`c1` must be a real number \(got 1j\)$"),
    (float("nan"), {}, NonFiniteError, r"^`c1` must be finite \(got nan\)$"),
    (float("-inf"), {}, NonFiniteError, r"^`c1` must be finite \(got -inf\)$"),
    (0.0, {"lower": 0.0, "lower_open": True}, InvalidParameterError,
     r"^`c1` must be > 0\.0 \(got 0\.0\)$"),
    (-1, {"lower": 0.0}, InvalidParameterError, r"^`c1` must be >= 0\.0 \(got -1\.0\)$"),
    (1.0, {"upper": 1.0, "upper_open": True}, InvalidParameterError,
     r"^`c1` must be < 1\.0 \(got 1\.0\)$"),
    (2.0, {"upper": 1.0}, InvalidParameterError, r"^`c1` must be <= 1\.0 \(got 2\.0\)$"),
])
def test_check_real_messages(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_real("c1", value, **kwargs)


def test_check_real_accepts_closed_bounds():
    assert check_real("x", 0, lower=0.0) == 0.0
    assert check_real("x", np.float32(1.0), upper=1.0) == 1.0


@pytest.mark.parametrize(("value", "kwargs", "error", "match"), [
    ([[1.0, 2.0], [3.0]], {}, InvalidParameterError, r"^`x` must be an array of real numbers"),
    (["a"], {}, InvalidParameterError, r"^`x` must be an array of real numbers"),
    ([1.0, 2.0], {"ndim": 2}, InvalidParameterError,
     r"^`x` must be 2-dimensional \(got shape \(2,\)\)$"),
    (np.zeros((4, 2)), {"shape": (None, 3)}, InvalidParameterError,
     r"^`x` must have shape \(\*, 3\) \(got \(4, 2\)\)$"),
    (np.zeros(3), {"shape": (None, 3)}, InvalidParameterError,
     r"^`x` must have shape \(\*, 3\) \(got \(3,\)\)$"),
    ([[0.0, 1.0], [np.inf, 2.0]], {}, NonFiniteError,
     r"^`x` must be finite \(non-finite entry at flat index 2\)$"),
    ([np.nan], {}, NonFiniteError, r"^`x` must be finite \(non-finite entry at flat index 0\)$"),
])
def test_check_finite_array_messages(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_finite_array("x", value, **kwargs)


def test_check_finite_array_accepts_matching_shapes():
    out = check_finite_array("x", [[1, 2, 3]], ndim=2, shape=(None, 3))
    assert out.dtype == np.float64 and out.shape == (1, 3)


def test_check_choice_messages():
    assert check_choice("kind", "a", ("a", "b")) == "a"
    with pytest.raises(InvalidParameterError,
                       match=r"^`kind` must be one of 'a', 'b' \(got 'c'\)$"):
        check_choice("kind", "c", ("a", "b"))
    long_value = "x" * 100
    # reprs longer than 60 characters are cut to 57 and marked with "..."
    with pytest.raises(InvalidParameterError, match=r"\(got 'x{56}\.\.\.\)$"):
        check_choice("kind", long_value, ("a",))


def test_errors_are_value_errors():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(NonFiniteError, InvalidParameterError)


def test_check_rng_accepts_generators_only() -> None:
    gen = np.random.default_rng(0)
    assert check_rng("rng", gen) is gen
    for bad in (0, np.random.RandomState(0), None):
        with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
            check_rng("rng", bad)
