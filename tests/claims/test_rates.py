"""Claims RATE-TV, RATE-LY and RATE-KL: verdicts at the quick profile, determinism, helpers."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from theorycheck.claims import _rate_experiments as rx
from theorycheck.claims.rates import LOG_POWER, register
from theorycheck.claims.registry import Registry
from theorycheck.claims.types import CheckContext, CheckOutcome, Variant
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.experiments import measure
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import two_phase

CLAIM_IDS = ("RATE-TV", "RATE-LY", "RATE-KL")


def _run(claim_id: str, variant: Variant, seed: int = 0) -> CheckOutcome:
    registry = Registry()
    register(registry)
    ctx = CheckContext(claim_id=claim_id, profile="quick", variant=variant, seed=seed)
    return registry.get(claim_id).check(ctx)


@functools.cache
def _cached_run(claim_id: str, variant: Variant) -> CheckOutcome:
    """Each (claim, variant) once per test session; the tests below only read it."""
    return _run(claim_id, variant)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_claim_passes(claim_id: str) -> None:
    outcome = _cached_run(claim_id, Variant.CLAIM)
    assert outcome.verdict is Verdict.PASS, outcome.summary
    assert all(v == "PASS" for v in outcome.details["series_verdicts"].values())
    json.dumps(outcome.to_dict())  # JSON-ready, no NaN objects
    for point in outcome.points:
        assert set(point.params) >= {"T", "k", "design", "target"}
        assert set(point.estimates) == {"tv", "kl"}
        # Resolved by a wide margin: quadrature tolerance or MC error far below the value.
        assert point.estimates["tv"].stderr <= 0.05 * point.estimates["tv"].value
    for name, fit in outcome.fits.items():
        assert {"raw", "corrected"} <= fit.keys(), name
        if "_vs_T[" in name and "diagnostic" not in name:
            assert fit["log_factor_power"] == LOG_POWER
            # Dividing by log³T steepens a T-slope; the raw fit is always reported beside it.
            assert fit["corrected"]["slope"] < fit["raw"]["slope"]


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_negative_control_fails(claim_id: str) -> None:
    outcome = _cached_run(claim_id, Variant.CONTROL)
    assert outcome.verdict is Verdict.FAIL, outcome.summary
    # The control fails on its T-scans (the floor or growth it was built to have) ...
    t_verdicts = [v for n, v in outcome.details["series_verdicts"].items() if "_vs_T[" in n]
    assert "FAIL" in t_verdicts
    # ... and every point carries the deliberate fault in its design label.
    assert all("[" in p.params["design"] for p in outcome.points)


def test_tv_is_log_t_over_t_on_both_targets() -> None:
    """The measured law behind the verdict: TV ∝ log T / T (log¹-corrected slope ≈ -1)."""
    fits = _cached_run("RATE-TV", Variant.CLAIM).fits
    diagnostics = [f["corrected"]["slope"] for n, f in fits.items()
                   if n.startswith("tv_vs_T[") and "diagnostic" in n]
    assert len(diagnostics) == 4
    assert all(-1.1 < s < -0.9 for s in diagnostics), diagnostics


def test_li_yan_looseness_is_reported() -> None:
    details = _cached_run("RATE-LY", Variant.CLAIM).details
    ratios = details["looseness"]["ratios"]
    assert ratios["decreasing_in_T"] and ratios["decreasing_in_k"]
    assert ratios["tv_sqrtT_over_k2"]["max"] > ratios["tv_sqrtT_over_k2"]["min"] > 0
    margins = details["looseness"]["slope_margins"]
    assert margins and all(m["raw_minus_bound"] < 0 for m in margins.values())


def test_kl_is_additive_over_product_coordinates() -> None:
    points = _cached_run("RATE-KL", Variant.CLAIM).points
    k_scan = {p.params["k"]: p.estimates["kl"] for p in points if "k_scan" in p.params}
    assert sorted(k_scan) == [1, 2, 3, 4]
    for k, est in k_scan.items():
        assert est.value == pytest.approx(k * k_scan[1].value, rel=1e-12)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_check_is_deterministic(claim_id: str) -> None:
    """Run twice with the same seed: identical records.  k = 1 points may come from the memo
    (a pure function of the point), the Monte Carlo points (k > 1) are recomputed."""
    first = _cached_run(claim_id, Variant.CLAIM)
    assert _run(claim_id, Variant.CLAIM).to_dict() == first.to_dict()


def test_randomness_enters_only_through_point_rng() -> None:
    """Another seed moves the Monte Carlo TV of products and nothing else."""
    first = _cached_run("RATE-KL", Variant.CLAIM)
    other = _run("RATE-KL", Variant.CLAIM, seed=1)
    for a, b in zip(first.points, other.points, strict=True):
        assert a.params == b.params
        assert a.estimates["kl"] == b.estimates["kl"]
        if a.params["k"] == 1:
            assert a.estimates["tv"] == b.estimates["tv"]
        else:
            assert a.estimates["tv"].error_kind is ErrorKind.STDERR
            assert a.estimates["tv"].value != b.estimates["tv"].value
            assert abs(a.estimates["tv"].value - b.estimates["tv"].value) < 5 * np.hypot(
                a.estimates["tv"].stderr, b.estimates["tv"].stderr)


def test_memoised_k1_point_equals_a_fresh_measurement() -> None:
    spec = rx.PointSpec(target=rx.MIXTURE, intrinsic_dim=1, design="ddim", num_steps=25)
    tv, kl = rx.measure_point(spec, np.random.default_rng(123))
    fresh = measure(rx._build_target(spec), make_design("ddim", two_phase(25)),
                    rng=np.random.default_rng(7))
    assert (tv, kl) == (fresh.values["tv"], fresh.values["kl"])
    assert tv.error_kind is ErrorKind.TOLERANCE


@pytest.mark.parametrize(("kind", "size"), [("sigma_sq_factor", 1.5), ("eta_factor", 1.1),
                                            ("sigma_sq_offset", 4e-3)])
def test_faults_change_exactly_the_named_coefficient(kind: str, size: float) -> None:
    fault = rx.Fault(kind=kind, size=size)
    spec = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddpm_posterior",
                        num_steps=30, fault=fault)
    wrong = rx._build_design(spec)
    right = make_design("ddpm_posterior", two_phase(30))
    if kind == "eta_factor":
        np.testing.assert_allclose(wrong.eta, size * right.eta, rtol=1e-15)
        np.testing.assert_array_equal(wrong.sigma_sq, right.sigma_sq)
    elif kind == "sigma_sq_factor":
        np.testing.assert_allclose(wrong.sigma_sq, size * right.sigma_sq, rtol=1e-15)
        np.testing.assert_array_equal(wrong.eta, right.eta)
    else:
        np.testing.assert_allclose(wrong.sigma_sq[1:], right.sigma_sq[1:] + size, rtol=1e-15)
        assert wrong.sigma_sq[0] == right.sigma_sq[0]  # σ_1 is never used by the sampler
    assert spec.design_label() == f"ddpm_posterior[{fault.label()}]"


def test_fault_kind_is_validated() -> None:
    with pytest.raises(InvalidParameterError, match=r"`kind` must be one of"):
        rx.Fault(kind="score_bias", size=1.0).label()


def _est(value: float, stderr: float) -> Estimate:
    return Estimate(value=value, stderr=stderr, method="test", error_kind=ErrorKind.TOLERANCE)


def test_judge_series_excludes_unresolved_points_by_the_stated_rule() -> None:
    x = [25.0, 50.0, 100.0, 200.0, 400.0]
    values = [0.5 / t for t in x]
    estimates = [_est(v, 1e-6 * v) for v in values]
    estimates[-1] = _est(values[-1], 0.06 * values[-1])  # error > 5 % of the value
    judged = rx.judge_series("s", x, estimates, predicted=-1.0, tolerance=0.15,
                             log_factor_power=0.0, min_points=4, max_ci_width=0.5)
    assert judged.x_used == (25.0, 50.0, 100.0, 200.0)
    assert len(judged.unresolved) == 1 and judged.unresolved[0].startswith("x=400")
    assert judged.verdict is Verdict.PASS
    too_few = rx.judge_series("s", x, estimates, predicted=-1.0, tolerance=0.15,
                              log_factor_power=0.0, min_points=5, max_ci_width=0.5)
    assert too_few.verdict is Verdict.INCONCLUSIVE and too_few.fit is None


def test_judge_series_fails_a_floor_after_the_log_correction() -> None:
    x = [25.0, 50.0, 100.0, 200.0, 400.0, 800.0]
    estimates = [_est(0.1, 1e-9) for _ in x]
    judged = rx.judge_series("floor", x, estimates, predicted=-1.0, tolerance=0.15,
                             log_factor_power=LOG_POWER, min_points=4, max_ci_width=0.5)
    assert judged.verdict is Verdict.FAIL
    assert judged.fit is not None and judged.fit.raw.slope == pytest.approx(0.0, abs=1e-12)
    # Dividing by log³T alone gives a flat curve the slope of -3·log(log T) on log T: ≈ -0.63.
    expected = -LOG_POWER * np.polyfit(np.log(x), np.log(np.log(x)), 1)[0]
    assert judged.fit.corrected.slope == pytest.approx(expected, rel=1e-9)
    assert -0.7 < expected < -0.55


def test_combine_verdicts() -> None:
    p, f, i = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE
    assert rx.combine_verdicts([p, p]) is p
    assert rx.combine_verdicts([p, i]) is i
    assert rx.combine_verdicts([i, f, p]) is f


def test_registration_and_descriptions() -> None:
    registry = Registry()
    register(registry)
    assert registry.ids() == CLAIM_IDS
    for claim in registry.claims():
        described = claim.describe()
        json.dumps(described)
        assert described["prediction"]["kind"] == "upper"
        assert set(described["grids"]) == {"quick", "full"}
        assert claim.source.seed_file.endswith(".txt")
    with pytest.raises(InvalidParameterError, match="already registered"):
        register(registry)
