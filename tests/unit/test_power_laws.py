"""Measured laws: exponents with jackknife intervals, log exponents, ratio growth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.power_laws import fit_exponent, fit_log_exponent, ratio_growth
from theorycheck.results import Verdict

T = np.array([25.0, 50.0, 100.0, 200.0, 400.0, 800.0])


def test_exact_power_law_is_recovered_with_a_tiny_interval() -> None:
    y = 0.3 * T**-0.7
    fit = fit_exponent(T, y, 1e-9 * y)
    assert fit.value == pytest.approx(-0.7, abs=1e-12)
    assert fit.jackknife_stderr < 1e-12 and fit.propagated_stderr > 0
    assert fit.ci_low < -0.7 < fit.ci_high and fit.ci_high - fit.ci_low < 1e-7
    assert fit.local_slopes == pytest.approx([-0.7] * 5)


def test_log_power_held_and_measured() -> None:
    y = 0.4 * np.log(T) / T
    fit = fit_exponent(T, y, np.zeros_like(y), log_power=1.0)
    assert fit.value == pytest.approx(-1.0, abs=1e-12) and fit.held == 1.0
    b = fit_log_exponent(T, y, np.zeros_like(y), exponent=-1.0)
    assert b.value == pytest.approx(1.0, abs=1e-12) and b.name == "log_exponent"


def test_curvature_shows_in_the_jackknife_not_in_the_propagated_error() -> None:
    """log³T/T with log T held: the misfit of a line is scatter, reported as such."""
    y = np.log(T) ** 3 / T
    fit = fit_exponent(T, y, 1e-9 * y, log_power=1.0)
    assert fit.jackknife_stderr > 1e3 * fit.propagated_stderr
    assert fit.stderr == fit.jackknife_stderr
    assert max(fit.local_slopes) - min(fit.local_slopes) > 0.1  # local slopes drift


def test_noisy_points_do_not_dominate() -> None:
    """Unweighted: one point with a tiny error bar does not carry the fit."""
    rng = np.random.default_rng(3)
    y = T**-1.0 * np.exp(rng.normal(0.0, 0.02, T.size))
    errors = 0.02 * y
    errors[3] = 1e-12 * y[3]
    fit = fit_exponent(T, y, errors)
    assert abs(fit.value + 1.0) < 0.05
    assert fit.ci_low < -1.0 < fit.ci_high


def test_ratio_growth_and_its_verdict() -> None:
    flat = ratio_growth(np.log(T) / T, np.zeros(T.size), np.log(T) / T)
    assert flat.growth == pytest.approx(1.0) and flat.judge(1.1) is Verdict.PASS
    slow = ratio_growth(T**-0.5, 1e-6 * T**-0.5, np.log(T) / T)
    assert slow.growth == pytest.approx(math.sqrt(800 / 25) / (math.log(800) / math.log(25)))
    assert slow.judge(1.44) is Verdict.FAIL
    falling = ratio_growth(T**-2.0, np.zeros(T.size), 1.0 / T)
    assert falling.growth == 1.0 and falling.spread > 1.0  # faster than the rate is fine
    vague = ratio_growth([1.0, 1.2], [0.6, 0.6], [1.0, 1.0])
    assert vague.growth_high is None and vague.judge(1.5) is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(("call", "match"), [
    (lambda: fit_exponent([1.0, 2.0], [1.0, 0.5], [0.0, 0.0]), r"`x` must have at least 3"),
    (lambda: fit_exponent([1.0, 2.0, 2.0], [1.0, 0.5, 0.2], [0, 0, 0]),
     r"`x` must be strictly increasing"),
    (lambda: fit_exponent([1.0, 2.0, 3.0], [1.0, 0.0, 0.2], [0, 0, 0]), r"`values` must be > 0"),
    (lambda: fit_exponent([1.0, 2.0, 3.0], [1.0, 0.5, 0.2], [0, -1, 0]),
     r"`stderrs` must be >= 0"),
    (lambda: fit_exponent([1.0, 2.0, 3.0], [1.0, 0.5, 0.2], [0, 0, 0], log_power=1.0),
     r"`log_base` must be > 1"),
    (lambda: fit_exponent([2.0, 3.0, 4.0], [1.0, 0.5, 0.2], [0, 0, 0], confidence=1.0),
     r"`confidence` must be < 1"),
    (lambda: fit_log_exponent([1.0, 2.0, 3.0], [1.0, 0.5, 0.2], [0, 0, 0], exponent=-1.0),
     r"`x` must be > 1 for a log exponent"),
    (lambda: ratio_growth([1.0], [0.0], [1.0]), r"`rates` must have at least 2 points"),
    (lambda: ratio_growth([1.0, -1.0], [0.0, 0.0], [1.0, 1.0]), r"must be > 0"),
    (lambda: ratio_growth([1.0, 2.0], [0.0, 0.0], [1.0, 1.0]).judge(0.5),
     r"`max_growth` must be >= 1"),
])
def test_bad_input_is_named(call: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        call()  # type: ignore[operator]


def test_non_finite_input_is_rejected() -> None:
    with pytest.raises(NonFiniteError, match="`values`"):
        fit_exponent([2.0, 3.0, 4.0], [1.0, math.nan, 0.2], [0, 0, 0])
