"""Claims DFREE and AMBIENT, and the multi-dimension measurements they rely on.

* quick profile: each claim PASSes and its negative control FAILs (run once per module);
* determinism for a fixed seed (the two cheap controls are run a second time);
* :func:`measure_ambient_dims` and :func:`measure_leading_factors` equal :func:`measure` at the
  same dimension, number for number, and reject bad arguments by name.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from theorycheck.claims import _dimension_checks as chk
from theorycheck.claims.dimension import register
from theorycheck.claims.registry import Registry
from theorycheck.claims.types import CheckContext, CheckOutcome, Variant
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.experiments import (
    Measurement,
    measure,
    measure_ambient_dims,
    measure_leading_factors,
)
from theorycheck.results import Verdict
from theorycheck.schedules import two_phase
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

SEED = 20250611
FACTOR_A = ([0.3, 0.7], [-1.0, 1.0], [0.04, 0.09])
FACTOR_B = ([0.5, 0.5], [-1.2, 0.8], [0.1, 0.05])


def _run(claim_id: str, variant: Variant) -> CheckOutcome:
    registry = Registry()
    register(registry)
    ctx = CheckContext(claim_id=claim_id, profile="quick", variant=variant, seed=0)
    return registry.get(claim_id).check(ctx)


@pytest.fixture(scope="module")
def quick() -> dict[tuple[str, Variant], CheckOutcome]:
    return {(cid, v): _run(cid, v) for cid in ("DFREE", "AMBIENT")
            for v in (Variant.CLAIM, Variant.CONTROL)}


def test_registers_both_claims() -> None:
    registry = Registry()
    register(registry)
    assert registry.ids() == ("DFREE", "AMBIENT")
    for claim in registry.claims():
        assert claim.prediction.rationale and claim.negative_control
        assert set(claim.grids) == {"quick", "full"}


@pytest.mark.parametrize("claim_id", ["DFREE", "AMBIENT"])
def test_quick_claim_passes_and_control_fails(quick: dict[tuple[str, Variant], CheckOutcome],
                                              claim_id: str) -> None:
    claim, control = quick[(claim_id, Variant.CLAIM)], quick[(claim_id, Variant.CONTROL)]
    assert claim.verdict is Verdict.PASS, claim.summary
    assert control.verdict is Verdict.FAIL, control.summary
    for outcome in (claim, control):
        assert outcome.points and outcome.fits and outcome.details["plots"]
        for point in outcome.points:
            assert {"d", "T", "k", "design"} <= set(point.params)
            assert {"tv", "kl"} <= set(point.estimates)


def test_dfree_reaches_a_million_and_adaptive_curves_are_flat(
        quick: dict[tuple[str, Variant], CheckOutcome]) -> None:
    outcome = quick[("DFREE", Variant.CLAIM)]
    assert max(p.params["d"] for p in outcome.points) >= 10**6
    by_curve: dict[str, list[float]] = {}
    for p in outcome.points:
        if p.params["design"] == "ddpm_posterior":
            by_curve.setdefault(p.params["curve"], []).append(p.estimates["kl"].value)
    assert len(by_curve) == 3  # the three figure T's
    for kls in by_curve.values():
        assert max(kls) <= 1.01 * min(kls)
    # The β design's KL grows by orders of magnitude over the same grid (the figure's contrast).
    beta = [p.estimates["kl"].value for p in outcome.points if p.params["design"] == "ddpm_beta"
            and p.params["T"] == 500]
    assert max(beta) > 1e3 * min(beta)
    judged = [f for name, f in outcome.fits.items() if name.startswith("growth tv")]
    assert judged and all(f["verdict"] == "PASS" for f in judged)


def test_ambient_kl_grows_linearly_and_control_is_flat(
        quick: dict[tuple[str, Variant], CheckOutcome]) -> None:
    claim, control = quick[("AMBIENT", Variant.CLAIM)], quick[("AMBIENT", Variant.CONTROL)]
    for name, fit in claim.fits.items():
        if name.startswith("kl vs d"):
            assert abs(fit["raw"]["slope"] - 1.0) < chk.AMBIENT_KL_TOL
    for name, fit in control.fits.items():
        if name.startswith("kl vs d"):
            assert abs(fit["raw"]["slope"]) < 0.01
            assert fit["verdict"] == "FAIL"


@pytest.mark.parametrize("claim_id", ["DFREE", "AMBIENT"])
def test_check_is_deterministic(quick: dict[tuple[str, Variant], CheckOutcome],
                                claim_id: str) -> None:
    again = _run(claim_id, Variant.CONTROL)  # the controls are the cheap variants
    assert again.to_dict() == quick[(claim_id, Variant.CONTROL)].to_dict()


def test_combine_and_regime() -> None:
    assert chk.combine([Verdict.PASS, Verdict.PASS]) is Verdict.PASS
    assert chk.combine([Verdict.PASS, Verdict.INCONCLUSIVE]) is Verdict.INCONCLUSIVE
    assert chk.combine([Verdict.INCONCLUSIVE, Verdict.FAIL]) is Verdict.FAIL
    assert chk.combine([]) is Verdict.INCONCLUSIVE
    ddim = chk.SeriesResult(series=chk.Series(design="ddim", c1=4.0, num_steps=500,
                                              adaptive=True),
                            dims=(10,), measurements=(), intrinsic_dim=8, alpha_bar_final=1e-6)
    assert ddim.regime_limit() == pytest.approx((0.1 * 8 / 500 / 1e-6) ** 2)
    post = chk.SeriesResult(series=chk.Series(design="ddpm_posterior", c1=4.0, num_steps=500,
                                              adaptive=True),
                            dims=(10,), measurements=(), intrinsic_dim=8, alpha_bar_final=1e-6)
    assert math.isinf(post.regime_limit())


# --- experiments: many dimensions from one k-part --------------------------------------------

def _same(a: Measurement, b: Measurement) -> None:
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize("design_name", ["ddpm_beta", "ddim"])
def test_ambient_dims_equal_measure_k1(design_name: str) -> None:
    design = make_design(design_name, two_phase(40))
    weights, means, variances = FACTOR_A
    factor = SubspaceGaussianMixture.create(weights, np.array(means)[:, None],
                                            np.array(variances)[:, None, None])
    dims = (1, 5, 1000, 10**9)
    many = measure_ambient_dims(factor, design, dims, rng=np.random.default_rng(SEED))
    for d, got in zip(dims, many, strict=True):
        placed = SubspaceGaussianMixture.create(factor.weights, factor.means,
                                                factor.covariances, ambient_dim=d)
        _same(got, measure(placed, design, rng=np.random.default_rng(SEED)))
    assert many[0].values["tv"].value <= many[-1].values["tv"].value


def test_ambient_dims_equal_measure_product() -> None:
    design = make_design("ddpm_beta", two_phase(40))
    factors = [FACTOR_A, FACTOR_B, FACTOR_A]  # two equal factors share one grid
    target = ProductMixture.create(factors)
    dims = (3, 50, 10**6)
    many = measure_ambient_dims(target, design, dims, rng=np.random.default_rng(SEED),
                                num_samples=5000)
    for d, got in zip(dims, many, strict=True):
        placed = ProductMixture.create(factors, ambient_dim=d)
        _same(got, measure(placed, design, rng=np.random.default_rng(SEED), num_samples=5000))
        assert got.ambient_dim == d and got.intrinsic_dim == 3


def test_leading_factors_equal_measure() -> None:
    design = make_design("ddpm_posterior", two_phase(40))
    factors = [FACTOR_A, FACTOR_B, FACTOR_A, FACTOR_B]
    counts = (1, 2, 4)
    many = measure_leading_factors(ProductMixture.create(factors), design, counts,
                                   rng=np.random.default_rng(SEED), num_samples=5000)
    for n, got in zip(counts, many, strict=True):
        alone = measure(ProductMixture.create(factors[:n]), design,
                        rng=np.random.default_rng(SEED), num_samples=5000)
        _same(got, alone)
        assert got.ambient_dim == got.intrinsic_dim == n
    kls = [m.values["kl"].value for m in many]
    assert kls[0] < kls[1] < kls[2]


@pytest.mark.parametrize(("call", "match"), [
    (lambda t, d: measure_ambient_dims(t, d, (0,), rng=np.random.default_rng(0)),
     r"`ambient_dims\[0\]`"),
    (lambda t, d: measure_ambient_dims(t, d, (), rng=np.random.default_rng(0)),
     r"`ambient_dims` must have at least one entry"),
    (lambda t, d: measure_ambient_dims(t, d, (5,), rng=0),
     r"`rng` must be a numpy.random.Generator"),
    (lambda t, d: measure_leading_factors(t, d, (2, 1), rng=np.random.default_rng(0)),
     r"`num_factors` must be strictly increasing"),
    (lambda t, d: measure_leading_factors(t, d, (3,), rng=np.random.default_rng(0)),
     r"`num_factors\[0\]`"),
])
def test_multi_dimension_errors(call: Any, match: str) -> None:
    target = ProductMixture.create([FACTOR_A, FACTOR_B])
    design = make_design("ddim", two_phase(20))
    with pytest.raises(InvalidParameterError, match=match):
        call(target, design)


def test_multi_dimension_rejects_non_grid_targets() -> None:
    design = make_design("ddim", two_phase(20))
    joint = SubspaceGaussianMixture.create([1.0], np.zeros((1, 2)), np.eye(2)[None])
    with pytest.raises(InvalidParameterError, match=r"`target` must have k = 1 or be a "):
        measure_ambient_dims(joint, design, (4,), rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`target` must be a ProductMixture"):
        measure_leading_factors(joint, design, (1,), rng=np.random.default_rng(0))  # type: ignore[arg-type]


def test_ambient_boundary_control_fails_on_a_d_to_the_1_2_law(quick_results: dict[str, Any]
                                                               ) -> None:
    (claim,) = [c for c in quick_results["claims"] if c["id"] == "AMBIENT"]
    assert claim["boundary_control_verdict"] == "FAIL"
    (fit,) = claim["boundary_control_result"]["fits"].values()
    assert fit["verdict"] == "FAIL"
    assert 1.15 < fit["raw"]["slope"] < 1.25
    # The points carry the unscaled KLs: their own slope is the claim's 1.
    points = claim["boundary_control_result"]["points"]
    d = np.array([p["params"]["d"] for p in points], dtype=float)
    kl = np.array([p["estimates"]["kl"]["value"] for p in points])
    assert np.polyfit(np.log(d), np.log(kl), 1)[0] == pytest.approx(1.0, abs=0.05)
