"""The judging layer: predictions as data, power against the next-slower law, one combiner.

The review behind issue 10 found that the old RATE-TV check (one-sided slope of TV/log³T ≤ -0.85)
passed a synthetic C·T^{-1/2} law; the first tests reproduce that and show that the new check
FAILs it while passing the law the samplers actually follow (TV ≈ C·log T/T).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorycheck.claims.judging import (
    ExponentBound,
    Judgement,
    Law,
    RatioGrowthBound,
    RejectsSlowerLaw,
    Series,
    combine_verdicts,
    judge,
    render,
    resolution,
)
from theorycheck.claims.rates import RATE_TV
from theorycheck.errors import InvalidParameterError
from theorycheck.fitting import fit_slope, judge_slope
from theorycheck.results import ErrorKind, Estimate, Verdict

QUICK_T = (25, 50, 100, 200, 400, 800)


def _series(values: list[float], grid: tuple[int, ...] = QUICK_T, rel: float = 1e-9) -> Series:
    return Series(name="s", scan="T", num_steps=grid, intrinsic_dims=(1,) * len(grid),
                  estimates=tuple(Estimate(value=v, stderr=rel * v, method="synthetic",
                                           error_kind=ErrorKind.TOLERANCE) for v in values))


def _verdicts(series: Series) -> dict[str, Verdict]:
    preds = RATE_TV.t_predictions()
    return {p.kind: judge(series, p, preds).verdict for p in preds}


def test_the_old_check_passed_an_inverse_square_root_law() -> None:
    """Reproduces the review: dividing by log³T makes T^{-1/2} look like T^{-1.2}."""
    x = np.asarray(QUICK_T, dtype=float)
    fit = fit_slope(x, 0.3 * x**-0.5, 1e-9 * x**-0.5, log_factor_power=3.0, min_points=4)
    assert judge_slope(fit.corrected, predicted=-1.0, kind="upper", tolerance=0.15,
                       max_ci_width=0.5) is Verdict.PASS


@pytest.mark.parametrize("grid", [QUICK_T, (50, 100, 200, 400, 800, 1600, 3200)])
def test_the_new_check_fails_an_inverse_square_root_law(grid: tuple[int, ...]) -> None:
    x = np.asarray(grid, dtype=float)
    verdicts = _verdicts(_series(list(0.3 * x**-0.5), grid))
    assert verdicts["exponent"] is Verdict.FAIL
    assert verdicts["ratio_growth"] is Verdict.FAIL


@pytest.mark.parametrize("grid", [QUICK_T, (50, 100, 200, 400, 800, 1600, 3200)])
def test_the_new_check_passes_log_t_over_t_with_power(grid: tuple[int, ...]) -> None:
    x = np.asarray(grid, dtype=float)
    verdicts = _verdicts(_series(list(0.45 * np.log(x) / x), grid))
    assert set(verdicts.values()) == {Verdict.PASS}


def test_a_law_with_three_logs_is_not_passed() -> None:
    """The theorem's literal k·log³T/T has the local slope of T^{-1/2} on these grids: the check
    verifies the sharper measured law and says so rather than passing a look-alike."""
    x = np.asarray(QUICK_T, dtype=float)
    verdicts = _verdicts(_series(list(np.log(x) ** 3 / x)))
    assert Verdict.PASS not in (verdicts["exponent"], verdicts["ratio_growth"])


def test_resolution_is_the_smallest_detected_slowdown() -> None:
    x = np.asarray(QUICK_T, dtype=float)
    series = _series(list(0.45 * np.log(x) / x))
    exponent, growth, _ = RATE_TV.t_predictions()
    res = resolution(series, exponent)
    assert res is not None and 0.1 < res < 0.25
    slowed = series.scaled((x / x[0]) ** (res + 0.01), "slowed")
    assert judge(slowed, exponent).verdict is Verdict.FAIL
    barely = series.scaled((x / x[0]) ** (res - 0.01), "slowed")
    assert judge(barely, exponent).verdict is not Verdict.FAIL
    growth_res = resolution(series, growth)
    assert growth_res is not None and growth_res == pytest.approx(
        math.log(growth.max_growth(x)) / math.log(32.0), abs=0.01)


def test_power_check_is_inconclusive_when_the_slower_law_passes() -> None:
    """A check with a huge tolerance cannot tell 1/T from 1/√T: never PASS, never FAIL."""
    loose = ExponentBound(bound=-1.0, tolerance=0.8, log_power=1.0)
    power = RejectsSlowerLaw(bound=-1.0, log_power=1.0)
    x = np.asarray(QUICK_T, dtype=float)
    judged = judge(_series(list(np.log(x) / x)), power, (loose, power))
    assert judged.verdict is Verdict.INCONCLUSIVE
    assert judged.measured.startswith("cannot reject")


def test_unresolved_points_are_left_out_by_the_stated_rule() -> None:
    x = np.asarray(QUICK_T, dtype=float)
    series = _series(list(np.log(x) / x))
    noisy = Series(name="n", scan="T", num_steps=series.num_steps,
                   intrinsic_dims=series.intrinsic_dims,
                   estimates=(*series.estimates[:-1], Estimate(
                       value=series.estimates[-1].value, stderr=0.1 * series.estimates[-1].value,
                       method="mc", error_kind=ErrorKind.STDERR)))
    judged = judge(noisy, RATE_TV.t_predictions()[0])
    assert judged.evidence["x"] == [25.0, 50.0, 100.0, 200.0, 400.0]
    assert judged.evidence["unresolved"][0].startswith("T=800")
    too_few = _series([1.0, 0.5], (25, 50))
    assert judge(too_few, RATE_TV.t_predictions()[0]).verdict is Verdict.INCONCLUSIVE


def test_combine_verdicts_has_one_rule_including_empty() -> None:
    p, f, i = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE
    assert combine_verdicts([p, p]) is p
    assert combine_verdicts([p, i]) is i
    assert combine_verdicts([i, f, p]) is f
    assert combine_verdicts([]) is i


def test_render_builds_summary_and_headline_from_judgements() -> None:
    x = np.asarray(QUICK_T, dtype=float)
    series = _series(list(0.45 * np.log(x) / x))
    preds = RATE_TV.t_predictions()
    judgements = [judge(series, p, preds) for p in preds]
    outcome = render(judgements, label="TV ≈ C·k·log T/T", points=(), fits={}, details={})
    assert outcome.verdict is Verdict.PASS
    assert outcome.measured.startswith("TV ≈ C·k·log T/T: exponent -1.000 ± 0.000")
    assert "resolution" in outcome.summary and outcome.summary.endswith("→ PASS")
    assert len(outcome.details["judgements"]) == 3
    empty = render([], label="x", points=(), fits={}, details={})
    assert empty.verdict is Verdict.INCONCLUSIVE
    assert isinstance(judgements[0], Judgement) and judgements[0].to_dict()["verdict"] == "PASS"


def test_law_text_and_rate() -> None:
    law = Law(exponent=-0.5, log_power=3.0, k_power=2.0)
    assert law.text() == "k^2·log^3 T/√T"
    assert law.rate(100, 2) == pytest.approx(4 * math.log(100) ** 3 / 10)
    assert Law(exponent=-1.0, log_power=1.0).text() == "k·log T/T"


def test_series_validation() -> None:
    with pytest.raises(InvalidParameterError, match=r"`scan` must be 'T' or 'k'"):
        Series(name="s", scan="d", num_steps=(1,), intrinsic_dims=(1,),  # type: ignore[arg-type]
               estimates=())
    with pytest.raises(InvalidParameterError, match="must have one length"):
        Series(name="s", scan="T", num_steps=(1, 2), intrinsic_dims=(1,), estimates=())


def test_growth_allowance_is_in_log_powers() -> None:
    pred = RatioGrowthBound(law=Law(exponent=-1.0, log_power=1.0), extra_log_power=0.5)
    x = np.asarray(QUICK_T, dtype=float)
    assert pred.max_growth(x) == pytest.approx(math.sqrt(math.log(800) / math.log(25)))
