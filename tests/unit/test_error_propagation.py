"""Exact orthogonal error propagation, zero-set / off-curve designs and crossover dimensions.

References are independent: the variance recursion of :mod:`theorycheck.split` (which iterates
``v_t``, not ``e_t``), the one-step bracket of :meth:`CoefficientDesign.one_step_condition`, the
exact chi-square TV, and closed forms derived by hand (telescoping products).
"""

from __future__ import annotations

import math

import mpmath
import pytest

from theorycheck.designs import (
    make_design,
    off_curve_design,
    zero_set_admissible_range,
    zero_set_design,
)
from theorycheck.divergences.gaussian import tv_isotropic
from theorycheck.error_propagation import (
    ddim_start_up_error,
    measured_crossover,
    posterior_start_up_error,
    predicted_crossover,
    propagate_orthogonal_error,
    small_error_tv_coefficient,
)
from theorycheck.errors import InvalidParameterError
from theorycheck.schedules import two_phase
from theorycheck.split import orthogonal_variance

T = 60


@pytest.fixture(scope="module")
def schedule():
    return two_phase(T)


@pytest.mark.parametrize("name", ["ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"])
def test_recursion_matches_variance_iteration(schedule, name: str) -> None:
    design = make_design(name, schedule)
    prop = propagate_orthogonal_error(design)
    ref = orthogonal_variance(design).relative_error_mp
    with mpmath.workdps(50):
        # R_t - 1 is zero only to ~1e-50 at 50 digits; T of them add up to ~1e-48 absolute.
        assert abs(prop.final_error_mp - ref) <= 1e-45 + 1e-35 * abs(ref)
    # e_1 = W_T e_T + Σ w_t (R_t - 1): the linear decomposition is exact.
    assert prop.start_up_part + prop.bracket_part == pytest.approx(prop.final_error, rel=1e-12)


def test_closed_forms_of_start_up_error(schedule) -> None:
    ddim = propagate_orthogonal_error(make_design("ddim", schedule))
    assert ddim.final_error == pytest.approx(ddim_start_up_error(make_design("ddim", schedule)),
                                             rel=1e-13)
    assert max(abs(r - 1.0) for r in ddim.rho) < 1e-13  # ρ_t = 1: never forgotten
    post_design = make_design("ddpm_posterior", schedule)
    post = propagate_orthogonal_error(post_design)
    assert post.final_error == pytest.approx(posterior_start_up_error(post_design), rel=1e-12)
    assert post.final_error < 1e-3 * ddim.final_error


def test_off_curve_bracket_is_exact(schedule) -> None:
    for p in (1, 2, 3):
        design = off_curve_design(schedule, c=0.7, p=p)
        cond = design.one_step_condition()
        betas = schedule.one_minus_alpha[1:]
        assert max(abs(r - 0.7 * b**p) for r, b in zip(cond.r_minus_one, betas, strict=True)
                   ) <= 1e-14 * 0.7 * max(betas) ** p
        # only σ² changed: ρ_t equals the posterior design's
        ref = propagate_orthogonal_error(make_design("ddpm_posterior", schedule)).rho
        assert max(abs(a - b) for a, b in zip(propagate_orthogonal_error(design).rho, ref,
                                              strict=True)) < 1e-15


def test_zero_set_family(schedule) -> None:
    posterior = make_design("ddpm_posterior", schedule)
    assert list(zero_set_design(schedule, lam=1.0).sigma_sq) == list(posterior.sigma_sq)
    for lam in (0.75, 2.0):
        assert zero_set_design(schedule, lam=lam).one_step_condition().max_abs < 1e-40
    lo, hi = zero_set_admissible_range(schedule)
    qs, gaps, betas = (schedule.one_minus_alpha_bar, schedule.alpha_minus_alpha_bar,
                       schedule.one_minus_alpha)
    ref_lo = max(1 / (1 + math.sqrt(g / q)) for g, q in zip(gaps[1:], qs[1:], strict=True))
    ref_hi = min((1 + math.sqrt(g / q)) * q / b
                 for g, q, b in zip(gaps[1:], qs[1:], betas[1:], strict=True))
    assert (lo, hi) == (pytest.approx(ref_lo, rel=1e-12), pytest.approx(ref_hi, rel=1e-12))
    assert 0.5 < lo < 0.75
    zero_set_design(schedule, lam=lo * (1 + 1e-9))  # just inside: exists


@pytest.mark.parametrize("m", [1, 2, 100, 10**6])
def test_small_error_coefficient_is_the_exact_limit(m: int) -> None:
    eps = 1e-7
    assert tv_isotropic(m, eps).value / eps == pytest.approx(small_error_tv_coefficient(m),
                                                             rel=1e-5)
    if m >= 100:
        assert small_error_tv_coefficient(m) == pytest.approx(math.sqrt(m / (4 * math.pi)),
                                                              rel=2e-3)


def test_crossover_measured_against_predicted() -> None:
    est = measured_crossover(0.01, 1e-5, 1)
    assert est is not None
    assert est.value == pytest.approx(predicted_crossover(0.01, 1e-5, 1), rel=2e-3)
    assert tv_isotropic(round(est.value) - 1, 1e-5).value == pytest.approx(0.01, rel=1e-5)
    assert measured_crossover(0.01, 0.0, 1) is None
    assert measured_crossover(0.5, 1e-12, 1) is None  # never reached below 1e12
    assert predicted_crossover(0.01, 0.0, 1) == math.inf


def test_bad_input(schedule) -> None:
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        propagate_orthogonal_error("ddim")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`initial_error` must be >"):
        propagate_orthogonal_error(make_design("ddim", schedule), initial_error=-1.0)
    with pytest.raises(InvalidParameterError, match="`lam` must be in the admissible range"):
        zero_set_design(schedule, lam=0.5)
    with pytest.raises(InvalidParameterError, match="`lam` must be >"):
        zero_set_design(schedule, lam=0.0)
    with pytest.raises(InvalidParameterError, match="`p` must be an integer in"):
        off_curve_design(schedule, c=1.0, p=0)
    with pytest.raises(InvalidParameterError, match=r"`c` = -1000000\.0 makes sigma_t"):
        off_curve_design(schedule, c=-1e6, p=1)
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck"):
        zero_set_admissible_range(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`subspace_tv` must be <"):
        measured_crossover(1.0, 1e-3, 1)
    with pytest.raises(InvalidParameterError, match="`subspace_tv` must be >"):
        predicted_crossover(0.0, 1e-3, 1)
    with pytest.raises(InvalidParameterError, match="`m` must be >= 1"):
        small_error_tv_coefficient(0)


def test_ddim_floor_boundary_control_is_its_own_variant_and_fails() -> None:
    """DDIM(η = 0.1) claimed to have DDIM's floor: TV_⊥/floor ≤ 0.836, outside [0.97, 1.03]."""
    from theorycheck.claims import default_registry
    from theorycheck.claims.types import CheckContext, Variant
    from theorycheck.results import Verdict

    claim = default_registry().get("DDIM-FLOOR")
    assert claim.variants == (Variant.CLAIM, Variant.CONTROL, Variant.BOUNDARY)
    assert "η = 0.1" in claim.boundary_control and "η = 0.1" not in claim.negative_control
    ctx = CheckContext(claim_id="DDIM-FLOOR", profile="quick", variant=Variant.BOUNDARY, seed=0)
    out = claim.check(ctx)
    assert out.verdict is Verdict.FAIL, out.summary
    assert {r["design"] for r in out.details["records"]} == {"ddim_eta(0.1)"}
    assert max(max(r["ratios"]) for r in out.details["records"]) == pytest.approx(0.836, abs=2e-3)
