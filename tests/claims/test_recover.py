"""Claim RECOVER: quick-profile PASS with the control FAILing, determinism per seed, and the
paths that must not PASS (unresolved slopes, an inexact subspace)."""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck.claims import _recover_experiments as rx
from theorycheck.claims import recover
from theorycheck.claims.registry import Registry
from theorycheck.claims.types import CheckContext, CheckOutcome, Variant
from theorycheck.designs import make_design
from theorycheck.fitting import judge_slope
from theorycheck.results import Verdict
from theorycheck.schedules import two_phase


def _run(variant: Variant) -> CheckOutcome:
    registry = Registry()
    recover.register(registry)
    ctx = CheckContext(claim_id="RECOVER", profile="quick", variant=variant, seed=0)
    return registry.get("RECOVER").check(ctx)


@pytest.fixture(scope="module")
def quick() -> dict[Variant, CheckOutcome]:
    return {v: _run(v) for v in (Variant.CLAIM, Variant.CONTROL)}


def test_registered_with_grids_and_rationale() -> None:
    registry = Registry()
    recover.register(registry)
    claim = registry.get("RECOVER")
    assert set(claim.grids) == {"quick", "full"}
    assert claim.prediction.rationale and claim.negative_control
    assert claim.docs.startswith("docs/theory.md#")


def test_quick_claim_passes_and_control_fails(quick: dict[Variant, CheckOutcome]) -> None:
    claim, control = quick[Variant.CLAIM], quick[Variant.CONTROL]
    assert claim.verdict is Verdict.PASS, claim.summary
    assert control.verdict is Verdict.FAIL, control.summary
    # The control fails on d-dependence: its KL grows roughly like (d - k)².
    fit = control.fits["KL vs d (Gaussian latent)"]
    assert fit["verdict"] == "FAIL" and fit["raw"]["ci_low"] > 1.0
    for outcome in (claim, control):
        assert outcome.points and outcome.details["plots"] and outcome.details["notes"]


def test_quick_numbers_follow_the_parametric_laws(quick: dict[Variant, CheckOutcome]) -> None:
    claim = quick[Variant.CLAIM]
    fits = claim.fits
    assert fits["noiseless PCA exact"]["max_sin_theta"] < 1e-12
    for name, slope in (("KL vs n", -1.0), ("TV vs n", -0.5), ("noisy PCA sin θ vs n", -0.5)):
        assert fits[name]["raw"]["ci_low"] <= slope <= fits[name]["raw"]["ci_high"], name
    # Wilks: 2n·KL/p_k ≈ 1 at every n of the sweep.
    ratios = [p.estimates["wilks_ratio"].value for p in claim.points
              if p.params["sweep"] == "n"]
    assert all(0.8 < r < 1.3 for r in ratios), ratios


def test_measurements_are_deterministic_per_seed() -> None:
    setting = rx.Setting.of(make_design("ddpm_posterior", two_phase(60)))
    kwargs = {"mean": np.array([0.3]), "cov": np.array([[0.7]]), "ambient_dim": 5,
              "num_samples": 50, "setting": setting, "estimator": "ambient", "num_repeats": 3,
              "num_mc": 200, "basis_seed": 1}
    a = rx.gaussian_latent_fits(rng=np.random.default_rng(4), **kwargs)
    b = rx.gaussian_latent_fits(rng=np.random.default_rng(4), **kwargs)
    assert a == b
    c = rx.gaussian_latent_fits(rng=np.random.default_rng(5), **kwargs)
    assert a != c
    mix = {"weights": np.array([0.5, 0.5]), "means": np.array([-1.0, 1.0]),
           "variances": np.array([0.2, 0.2]), "dims": (2, 6), "num_samples": 200,
           "num_components": 2, "setting": setting, "estimator": "structured", "num_mc": 500,
           "max_num_points": 2**12}
    first = rx.mixture_d_sweep(rng=np.random.default_rng(9), **mix)
    again = rx.mixture_d_sweep(rng=np.random.default_rng(9), **mix)
    assert first == again
    # Structured: the d = 2 and d = 6 results agree (the same latent fit, exact orthogonal part).
    assert first[2].kl == pytest.approx(first[6].kl, rel=1e-9)


def test_unresolved_or_inexact_cannot_pass() -> None:
    # One paired draw gives no interval: the slope judgement is INCONCLUSIVE, never PASS.
    fit = recover._paired_slope(np.array([2.0, 4.0, 8.0]), np.array([[1.0, 1.0, 1.0]]))
    assert not fit.usable
    assert judge_slope(fit, predicted=0.0, kind="two_sided", tolerance=0.05) \
        is Verdict.INCONCLUSIVE
    out = recover._Collector("structured")
    out.sines = [1e-15, 1e-3]
    recover._noiseless_angles(out)
    assert out.verdicts["noiseless PCA exact"] is Verdict.FAIL
    empty = recover._Collector("structured")
    recover._noiseless_angles(empty)
    assert empty.verdicts["noiseless PCA exact"] is Verdict.FAIL


def test_boundary_control_fails_on_an_n_to_the_minus_0_8_law() -> None:
    outcome = _run(Variant.BOUNDARY)
    assert outcome.verdict is Verdict.FAIL, outcome.summary
    fit = outcome.fits["KL vs n"]
    assert fit["verdict"] == "FAIL"
    # Between the n^-0.8 bias law and the band's edge -0.9: a near miss, not a gross fault.
    assert -0.9 < fit["raw"]["slope"] < -0.78
    assert set(outcome.fits) == {"KL vs n", "TV vs n"}  # the n sweep only
