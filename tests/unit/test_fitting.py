"""Tests of theorycheck.fitting: weighted log-log slopes, their intervals and the verdicts.

Reference slopes come from constructions with a known exponent (exact power laws, ``log(T)/T``)
and, for the weighted fit itself, from ``numpy.polyfit`` with weights.  Random data come from
seeded Generators; the seeds are in the assertion messages.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.fitting import (
    LineFit,
    RatioCheck,
    SlopeFit,
    fit_slope,
    judge_bounded_ratio,
    judge_slope,
    pairwise_slopes,
)
from theorycheck.results import Verdict

T_GRID = 2.0 ** np.arange(4, 13)  # 16 .. 4096, nine points
COVERAGE_SEEDS = range(100)


def _line_fit(ci_low: float, ci_high: float) -> LineFit:
    """A usable fit with a hand-set interval, for the verdict branches."""
    mid = 0.5 * (ci_low + ci_high)
    return LineFit(usable=True, slope=mid, intercept=0.0, slope_stderr=(ci_high - mid) / 2,
                   ci_low=ci_low, ci_high=ci_high, confidence=0.95, chi2=1.0, dof=3,
                   birge_ratio=0.5, ci_method="t", points_used=(0, 1, 2, 3, 4), excluded=(),
                   exclusion_reasons=())


def _json_roundtrip(record: Any) -> dict[str, Any]:
    text = json.dumps(record.to_dict(), allow_nan=False)
    out: dict[str, Any] = json.loads(text)
    return out


# --------------------------------------------------------------------------- fit_slope

@pytest.mark.parametrize("slope", [-1.0, -0.5, 1.0, 2.5])
def test_exact_power_law_recovers_slope(slope: float) -> None:
    fit = fit_slope(T_GRID, 3.7 * T_GRID ** slope, np.zeros_like(T_GRID))
    raw = fit.raw
    assert raw.usable and raw.slope is not None and raw.slope_stderr is not None
    # Exact data: rounding only, weights from RELATIVE_ERROR_FLOOR = 1e-12.
    assert abs(raw.slope - slope) < 1e-12
    assert raw.intercept is not None and abs(raw.intercept - math.log(3.7)) < 1e-11
    assert raw.slope_stderr < 1e-11
    assert raw.ci_method == "t" and raw.dof == T_GRID.size - 2
    assert raw.points_used == tuple(range(T_GRID.size)) and raw.excluded == ()
    assert raw.num_used == T_GRID.size
    assert fit.corrected == raw  # log_factor_power = 0: nothing to divide out


def test_weighted_fit_matches_numpy_polyfit() -> None:
    rng = np.random.default_rng(7)
    x = np.geomspace(10, 1e4, 7)
    values = x ** -0.8 * np.exp(0.1 * rng.standard_normal(x.size))
    rel = rng.uniform(0.01, 0.2, x.size)
    raw = fit_slope(x, values, rel * values).raw
    slope_ref, intercept_ref = np.polyfit(np.log(x), np.log(values), 1, w=1.0 / rel)
    assert raw.slope is not None and raw.intercept is not None
    assert raw.slope == pytest.approx(slope_ref, rel=1e-12, abs=1e-12)
    assert raw.intercept == pytest.approx(intercept_ref, rel=1e-12, abs=1e-12)


def test_noisy_power_law_ci_covers_truth() -> None:
    """5% noise with correct stderrs: the 95% CI covers slope -1 in >= 90 of 100 seeds."""
    x = np.geomspace(10, 1e4, 8)
    truth = 2.0 * x ** -1.0
    u = np.log(x)
    misses, stderr_ratios = [], []
    for seed in COVERAGE_SEEDS:
        rng = np.random.default_rng(seed)
        values = truth * (1.0 + 0.05 * rng.standard_normal(x.size))
        raw = fit_slope(x, values, 0.05 * truth).raw
        assert raw.ci_low is not None and raw.ci_high is not None and raw.slope_stderr
        if not raw.ci_low <= -1.0 <= raw.ci_high:
            misses.append(seed)
        weights = (values / (0.05 * truth)) ** 2  # 1/σ_log², σ_log = stderr / value
        u_mean = np.sum(weights * u) / np.sum(weights)
        propagated = 1.0 / math.sqrt(np.sum(weights * (u - u_mean) ** 2))
        stderr_ratios.append(raw.slope_stderr / propagated)
    assert len(misses) <= 10, f"CI missed slope -1 for seeds {misses}"
    # ... and not by being uselessly wide: Birge scaling only inflates, and modestly here.
    assert min(stderr_ratios) >= 1.0 - 1e-12 and np.mean(stderr_ratios) < 1.5


def test_log_corrected_slope_on_log_t_over_t() -> None:
    values = np.log(T_GRID) / T_GRID
    fit = fit_slope(T_GRID, values, np.zeros_like(T_GRID), log_factor_power=1.0)
    assert fit.corrected.slope is not None and fit.raw.slope is not None
    assert abs(fit.corrected.slope + 1.0) < 1e-12
    assert fit.raw.slope > -1.0
    # Raw: exact data off a power law, so chi2/dof is huge and the Birge ratio widens the CI,
    # yet it still excludes -1: the log factor is visible, as docs/theory.md §8 wants reported.
    assert fit.raw.ci_method == "t+birge" and fit.raw.birge_ratio is not None
    assert fit.raw.ci_low is not None and fit.raw.ci_low > -1.0
    assert fit.log_factor_source == "x" and fit.log_factor_power == 1.0


def test_log_factor_of_other_variable() -> None:
    k = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    num_steps = 100.0 * k**2
    values = k * np.log(num_steps) ** 2
    fit = fit_slope(k, values, 0.01 * values, log_factor_power=2.0, log_factor_of=num_steps)
    assert fit.corrected.slope is not None and fit.raw.slope is not None
    assert abs(fit.corrected.slope - 1.0) < 1e-12 and fit.raw.slope > 1.1
    assert fit.log_factor_source == "log_factor_of"


def test_birge_ratio_scales_stderr_exactly() -> None:
    x = np.geomspace(1, 1e3, 6)
    wiggle = np.array([1, -1, 1, -1, 1, -1]) * 0.1
    values = x ** -1.0 * np.exp(wiggle)
    raw = fit_slope(x, values, 0.01 * values).raw
    u = np.log(x)
    propagated = 0.01 / math.sqrt(np.sum((u - u.mean()) ** 2))
    assert raw.chi2 is not None and raw.birge_ratio is not None
    assert raw.birge_ratio == pytest.approx(math.sqrt(raw.chi2 / 4), rel=1e-12)
    assert raw.birge_ratio > 1 and raw.ci_method == "t+birge"
    assert raw.slope_stderr == pytest.approx(propagated * raw.birge_ratio, rel=1e-12)
    half = stats.t.ppf(0.975, 4) * raw.slope_stderr
    assert raw.ci_high is not None and raw.slope is not None
    assert raw.ci_high - raw.slope == pytest.approx(half, rel=1e-12)


def test_two_points_use_propagated_error_and_normal_quantile() -> None:
    x, values = np.array([10.0, 100.0]), np.array([0.1, 0.01])
    raw = fit_slope(x, values, 0.02 * values, min_points=2).raw
    assert raw.usable and raw.dof == 0 and raw.birge_ratio is None
    assert raw.ci_method == "normal-2pt"
    stderr = math.sqrt(2) * 0.02 / math.log(10.0)
    assert raw.slope == pytest.approx(-1.0, abs=1e-12)
    assert raw.slope_stderr == pytest.approx(stderr, rel=1e-12)
    assert raw.ci_high == pytest.approx(-1.0 + stats.norm.ppf(0.975) * stderr, rel=1e-12)


def test_floor_exclusion() -> None:
    x = np.array([10.0, 100.0, 1e3, 1e4, 1e5, 1e6])
    values = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1.5e-5, 1e-5])
    stderrs = np.array([0.0, 0.0, 0.0, 0.0, 3e-6, 0.0])
    fit = fit_slope(x, values, stderrs, floor=1e-5)
    # index 4: 1.5e-5 - 2*3e-6 = 0.9e-5 <= floor; index 5: at the floor.
    assert fit.raw.excluded == (4, 5) and fit.raw.points_used == (0, 1, 2, 3)
    assert all("floor" in reason for reason in fit.raw.exclusion_reasons)
    assert fit.raw.slope is not None and abs(fit.raw.slope + 1.0) < 1e-12
    assert fit.corrected.excluded == (4, 5)


def test_unresolved_points_are_excluded_not_raised() -> None:
    x = np.geomspace(10, 1e5, 5)
    values = np.array([0.1, 0.0, 1e-3, -1e-4, 1e-5])
    stderrs = np.array([0.0, 0.0, 6e-4, 0.0, 0.0])
    raw = fit_slope(x, values, stderrs).raw
    assert raw.excluded == (1, 2, 3) and raw.points_used == (0, 4)
    assert raw.exclusion_reasons == ("value <= 0 (unresolved)",
                                     "relative error >= 0.5 (unresolved)",
                                     "value <= 0 (unresolved)")
    assert not raw.usable  # 2 < min_points = 3


def test_too_few_points_is_unusable_and_inconclusive() -> None:
    fit = fit_slope([10.0, 100.0], [0.1, 0.01], [0.0, 0.0])
    for line in (fit.raw, fit.corrected):
        assert not line.usable and "min_points=3" in line.note
        assert line.slope is None and line.ci_low is None and line.chi2 is None
        for kind in ("upper", "two_sided", "lower"):
            assert judge_slope(line, predicted=-1.0, kind=kind, tolerance=0.5) \
                is Verdict.INCONCLUSIVE
    data = _json_roundtrip(fit)
    assert data["raw"]["slope"] is None and data["raw"]["num_used"] == 2


def test_single_distinct_x_is_unusable() -> None:
    raw = fit_slope([5.0, 5.0, 5.0], [1.0, 1.1, 0.9], [0.01, 0.01, 0.01]).raw
    assert not raw.usable and "distinct" in raw.note


def test_slope_fit_to_dict_is_json_ready() -> None:
    fit = fit_slope(T_GRID, np.log(T_GRID) / T_GRID, 0.01 / T_GRID, log_factor_power=1.0)
    data = _json_roundtrip(fit)
    assert set(data) == {"raw", "corrected", "log_factor_power", "log_factor_source", "floor"}
    assert data["corrected"]["points_used"] == list(range(T_GRID.size))
    assert isinstance(data["raw"]["exclusion_reasons"], list)


def test_records_are_frozen_and_keyword_only() -> None:
    fit = fit_slope(T_GRID, 1 / T_GRID, np.zeros_like(T_GRID))
    assert isinstance(fit, SlopeFit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.raw.slope = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        SlopeFit(fit.raw, fit.raw, 0.0, "x", 0.0)  # type: ignore[call-arg]


@pytest.mark.parametrize("changes", [{"slope": None}, {"ci_low": math.nan}])
def test_usable_line_fit_rejects_missing_or_nan_numbers(changes: dict[str, Any]) -> None:
    with pytest.raises(NonFiniteError, match="LineFit numbers must be finite if usable"):
        dataclasses.replace(_line_fit(-1.1, -0.9), **changes)


def test_unusable_line_fit_rejects_numbers() -> None:
    with pytest.raises(NonFiniteError, match=r"else None \(usable=False"):
        dataclasses.replace(_line_fit(-1.1, -0.9), usable=False)


# --------------------------------------------------------------------------- pairwise_slopes

def test_pairwise_slopes_and_errors() -> None:
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    values = np.array([1.0, 0.1, 0.1, 10.0])
    out = pairwise_slopes(x, values, 0.05 * values)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out[:, 0], [-1.0, 0.0, 2.0], atol=1e-14)
    np.testing.assert_allclose(out[:, 1], math.sqrt(2) * 0.05 / math.log(10.0), rtol=1e-14)
    exact = pairwise_slopes(x, values)
    assert exact.shape == (3, 2) and np.all(exact[:, 1] == 0.0)


# --------------------------------------------------------------------------- judge_slope

@pytest.mark.parametrize(("kind", "ci", "expected"), [
    ("upper", (-1.2, -0.95), Verdict.PASS),
    ("upper", (-0.85, -0.7), Verdict.FAIL),
    ("upper", (-1.0, -0.8), Verdict.INCONCLUSIVE),
    ("lower", (-1.05, -0.9), Verdict.PASS),
    ("lower", (-1.5, -1.2), Verdict.FAIL),
    ("lower", (-1.2, -1.0), Verdict.INCONCLUSIVE),
    ("two_sided", (-1.05, -0.95), Verdict.PASS),
    ("two_sided", (-0.85, -0.75), Verdict.FAIL),
    ("two_sided", (-1.25, -1.15), Verdict.FAIL),
    ("two_sided", (-1.05, -0.85), Verdict.INCONCLUSIVE),
])
def test_judge_slope_branches(kind: Any, ci: tuple[float, float], expected: Verdict) -> None:
    fit = _line_fit(*ci)
    assert judge_slope(fit, predicted=-1.0, kind=kind, tolerance=0.1) is expected


def test_judge_slope_ci_width_limit() -> None:
    wide = _line_fit(-3.0, -2.0)  # disjoint from -1 ± 0.1 but wider than 2·tolerance
    assert judge_slope(wide, predicted=-1.0, kind="two_sided", tolerance=0.1) \
        is Verdict.INCONCLUSIVE
    assert judge_slope(wide, predicted=-1.0, kind="two_sided", tolerance=0.1,
                       max_ci_width=5.0) is Verdict.FAIL
    assert judge_slope(wide, predicted=-1.0, kind="upper", tolerance=0.1) is Verdict.PASS
    assert judge_slope(wide, predicted=-1.0, kind="upper", tolerance=0.1,
                       max_ci_width=0.5) is Verdict.INCONCLUSIVE


def test_judge_slope_on_fits_raw_fails_corrected_passes() -> None:
    """RATE-TV shape: TV ~ log(T)/T passes "slope <= -1 up to logs" only after correction."""
    rng = np.random.default_rng(11)
    values = np.log(T_GRID) / T_GRID * (1 + 0.01 * rng.standard_normal(T_GRID.size))
    fit = fit_slope(T_GRID, values, 0.01 * values, log_factor_power=1.0)
    kw: dict[str, Any] = {"predicted": -1.0, "kind": "upper", "tolerance": 0.05}
    assert judge_slope(fit.corrected, **kw) is Verdict.PASS, "seed 11"
    assert judge_slope(fit.raw, **kw) is Verdict.FAIL, "seed 11"


# --------------------------------------------------------------------------- judge_bounded_ratio

def test_bounded_ratio_pass_fail_inconclusive() -> None:
    rates = 1.0 / T_GRID
    ok = judge_bounded_ratio(2.0 * rates * (1 + 0.1 * np.sin(T_GRID)), 0.01 * rates, rates,
                             max_ratio_spread=2.0)
    assert isinstance(ok, RatioCheck) and ok.verdict is Verdict.PASS
    assert ok.spread is not None and ok.spread_low is not None and ok.spread_high is not None
    assert ok.spread_low <= ok.spread <= ok.spread_high <= 2.0
    fast = judge_bounded_ratio(rates**2, 0.01 * rates**2, rates, max_ratio_spread=10.0)
    assert fast.verdict is Verdict.FAIL and fast.spread_low is not None
    assert fast.spread_low > 10.0
    noisy = judge_bounded_ratio(rates, 0.6 * rates, rates, max_ratio_spread=2.0)
    assert noisy.verdict is Verdict.INCONCLUSIVE and noisy.spread_high is None
    assert noisy.spread_low == 1.0 and noisy.spread == 1.0
    assert _json_roundtrip(noisy)["verdict"] == "INCONCLUSIVE"


def test_bounded_ratio_surely_unbounded_is_fail() -> None:
    check = judge_bounded_ratio([1.0, -1.0], [0.01, 0.01], [1.0, 1.0], max_ratio_spread=100.0)
    assert check.verdict is Verdict.FAIL
    assert check.spread is None and check.spread_low is None and check.spread_high is None
    assert _json_roundtrip(check)["spread_low"] is None


# --------------------------------------------------------------------------- error paths

GOOD_X = [10.0, 100.0, 1000.0]
GOOD_V = [0.1, 0.01, 0.001]
GOOD_E = [0.0, 0.0, 0.0]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"values": [0.1, 0.01]}, InvalidParameterError, r"`values` must have shape \(3\)"),
    ({"stderrs": [0.0]}, InvalidParameterError, r"`stderrs` must have shape \(3\)"),
    ({"x": [[10.0, 100.0, 1000.0]]}, InvalidParameterError, "`x` must be 1-dimensional"),
    ({"x": [10.0, 0.0, 1000.0]}, InvalidParameterError, r"`x` must be > 0 \(got 0.0 at index 1"),
    ({"x": [10.0, math.inf, 1000.0]}, NonFiniteError, "`x` must be finite"),
    ({"values": [0.1, math.nan, 0.001]}, NonFiniteError, "`values` must be finite"),
    ({"stderrs": [0.0, -1e-3, 0.0]}, InvalidParameterError, "`stderrs` must be >= 0"),
    ({"floor": -1.0}, InvalidParameterError, "`floor` must be >= 0.0"),
    ({"min_points": 1}, InvalidParameterError, "`min_points` must be >= 2"),
    ({"confidence": 1.0}, InvalidParameterError, "`confidence` must be < 1.0"),
    ({"confidence": 0.0}, InvalidParameterError, "`confidence` must be > 0.0"),
    ({"log_factor_power": math.nan}, NonFiniteError, "`log_factor_power` must be finite"),
    ({"x": [1.0, 10.0, 100.0], "log_factor_power": 1.0}, InvalidParameterError,
     r"`x` must be > 1 when `log_factor_power` != 0.*index 0"),
    ({"log_factor_of": [2.0, 0.5, 3.0], "log_factor_power": 1.0}, InvalidParameterError,
     r"`log_factor_of` must be > 1 when `log_factor_power` != 0.*index 1"),
    ({"log_factor_of": [2.0, 3.0]}, InvalidParameterError,
     r"`log_factor_of` must have shape \(3\)"),
])
def test_fit_slope_errors(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    args: dict[str, Any] = {"x": GOOD_X, "values": GOOD_V, "stderrs": GOOD_E}
    args.update(kwargs)
    x, values, stderrs = args.pop("x"), args.pop("values"), args.pop("stderrs")
    with pytest.raises(error, match=match):
        fit_slope(x, values, stderrs, **args)


@pytest.mark.parametrize(("x", "values", "match"), [
    ([10.0, 10.0, 100.0], GOOD_V, r"`x` must be strictly increasing \(got 10.0 at index 1"),
    ([100.0, 10.0, 1000.0], GOOD_V, "`x` must be strictly increasing"),
    (GOOD_X, [0.1, 0.0, 0.001], "`values` must be > 0 for pairwise slopes"),
    (GOOD_X, [0.1, 0.01], r"`values` must have shape \(3\)"),
])
def test_pairwise_slopes_errors(x: list[float], values: list[float], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        pairwise_slopes(x, values)


def test_pairwise_slopes_negative_stderr() -> None:
    with pytest.raises(InvalidParameterError, match="`stderrs` must be >= 0"):
        pairwise_slopes(GOOD_X, GOOD_V, [0.0, -1.0, 0.0])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": "both"}, "`kind` must be one of 'upper', 'two_sided', 'lower'"),
    ({"tolerance": -0.1}, "`tolerance` must be >= 0.0"),
    ({"max_ci_width": 0.0}, "`max_ci_width` must be > 0.0"),
    ({"predicted": math.inf}, "`predicted` must be finite"),
])
def test_judge_slope_errors(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"predicted": -1.0, "kind": "upper", "tolerance": 0.1}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        judge_slope(_line_fit(-1.1, -0.9), **args)


def test_judge_slope_rejects_non_line_fit() -> None:
    fit = fit_slope(T_GRID, 1 / T_GRID, np.zeros_like(T_GRID))
    with pytest.raises(InvalidParameterError, match="`fit` must be a LineFit \\(got SlopeFit"):
        judge_slope(fit, predicted=-1.0, kind="upper", tolerance=0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("values", "stderrs", "rates", "kwargs", "match"), [
    ([1.0, 1.0], [0.0, 0.0], [1.0, 0.0], {}, r"`rates` must be > 0 \(got 0.0 at index 1"),
    ([1.0], [0.0], [1.0], {}, "`rates` must have at least 2 points"),
    ([1.0, 1.0, 1.0], [0.0, 0.0], [1.0, 1.0, 1.0], {}, r"`stderrs` must have shape \(3\)"),
    ([1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 1.0], {}, r"`stderrs` must have shape \(2\)"),
    ([1.0], [0.0, 0.0], [1.0, 1.0], {}, r"`values` must have shape \(2\)"),
    ([1.0, 1.0], [0.0, -0.1], [1.0, 1.0], {}, "`stderrs` must be >= 0"),
    ([1.0, 1.0], [0.0, 0.0], [1.0, 1.0], {"max_ratio_spread": 0.5},
     "`max_ratio_spread` must be >= 1.0"),
    ([1.0, 1.0], [0.0, 0.0], [1.0, 1.0], {"confidence": 1.5}, "`confidence` must be < 1.0"),
])
def test_judge_bounded_ratio_errors(values: list[float], stderrs: list[float],
                                    rates: list[float], kwargs: dict[str, Any],
                                    match: str) -> None:
    args: dict[str, Any] = {"max_ratio_spread": 2.0}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        judge_bounded_ratio(values, stderrs, rates, **args)
