"""Claims STAB-DDIM, STAB-ROUGH, STAB-DDPM: verdicts, controls, and the exact measurements."""

from __future__ import annotations

import math

import pytest

from theorycheck.claims._stability_experiments import perturbed_run
from theorycheck.claims.registry import Registry
from theorycheck.claims.stability import register
from theorycheck.claims.types import CheckContext, CheckOutcome, Variant
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.results import Verdict
from theorycheck.schedules import two_phase

IDS = ("STAB-DDIM", "STAB-ROUGH", "STAB-DDPM")


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, Variant], CheckOutcome]:
    registry = Registry()
    register(registry)
    return {(cid, v): registry.get(cid).check(CheckContext(claim_id=cid, profile="quick",
                                                           variant=v, seed=0))
            for cid in IDS for v in (Variant.CLAIM, Variant.CONTROL)}


@pytest.mark.parametrize("claim_id", IDS)
def test_quick_claim_passes_and_control_fails(outcomes, claim_id: str) -> None:
    assert outcomes[(claim_id, Variant.CLAIM)].verdict is Verdict.PASS, \
        outcomes[(claim_id, Variant.CLAIM)].summary
    assert outcomes[(claim_id, Variant.CONTROL)].verdict is Verdict.FAIL, \
        outcomes[(claim_id, Variant.CONTROL)].summary


def _boundary(claim_id: str) -> CheckOutcome:
    registry = Registry()
    register(registry)
    return registry.get(claim_id).check(CheckContext(claim_id=claim_id, profile="quick",
                                                     variant=Variant.BOUNDARY, seed=0))


def test_ddim_boundary_control_fails_at_its_resolution() -> None:
    from theorycheck.claims.stability import _ddim_boundary

    outcome = _boundary("STAB-DDIM")
    assert outcome.verdict is Verdict.FAIL, outcome.summary
    (fit,) = outcome.fits.values()
    assert fit["slope"] == pytest.approx(0.8, abs=1e-3)
    # The stated resolution (exact closed forms: seed-independent).
    ctx = CheckContext(claim_id="STAB-DDIM", profile="quick", variant=Variant.BOUNDARY, seed=0)
    assert _ddim_boundary(ctx, 0.899).verdict is Verdict.FAIL
    assert _ddim_boundary(ctx, 0.901).verdict is Verdict.PASS


def test_ddim_slopes_and_rough_gap(outcomes) -> None:
    fits = outcomes[("STAB-DDIM", Variant.CLAIM)].fits
    for family in ("free", "data"):
        assert fits[f"effect_tv_vs_eps_score_{family}"]["slope"] == pytest.approx(1.0, abs=0.02)
    rough = outcomes[("STAB-ROUGH", Variant.CLAIM)]
    ddim = [p.estimates["effect_tv"].value for p in rough.points
            if p.params["design"] == "ddim"]
    ddpm = [p.estimates["effect_tv"].value for p in rough.points
            if p.params["design"] == "ddpm_posterior"]
    assert ddim[-1] > 5 * ddim[0] and max(ddpm) < 0.01 * ddim[-1]
    for p in rough.points:
        if p.params["design"] == "ddpm_posterior":
            assert p.estimates["effect_tv"].value <= p.estimates["l2_bound"].value


def test_offset_closed_form_matches_grid_quadrature() -> None:
    """Grid quadrature (sine branch) against a closed form: at ω → 0, ``a sin(ωy) ≈ aω·y``.

    A linear score error keeps the chain Gaussian: its variance follows the exact recursion
    ``v ← (1 - η_t/(1-ᾱ_t) + η_t aω)² v / α_t`` and the TV is the 1-d Gaussian closed form.
    """
    sched = two_phase(60, c0=1, c1=3)
    design = make_design("ddim", sched)
    base = perturbed_run(design, amplitude=0.0)
    assert base.effect_tv.value == 0.0
    # a·sin(ωy) with ω = 1e-3 acts as the linear error (aω)·y: variance recursion in closed form.
    a, omega = 10.0, 1e-3
    run = perturbed_run(design, amplitude=a, frequency=omega)
    q, eta, alpha = sched.one_minus_alpha_bar, design.eta, sched.alpha
    v = 1.0
    for t in range(sched.num_steps, 1, -1):
        f = 1.0 - eta[t - 1] / q[t - 1] + eta[t - 1] * a * omega
        v = f * f * v / alpha[t - 1]
    from theorycheck.divergences.gaussian import tv_gaussian_1d

    expected = tv_gaussian_1d(0.0, float(q[0]), 0.0, v).value
    # sin(ωy) - ωy = O((ωy)³): relative effect below 1e-5 on |y| ≲ 10.
    assert run.tv_block.value == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_ddpm_bound_is_exact_kl_for_offsets() -> None:
    """Path KL of an offset: Σ η²a²/(2σ²), independent of the law of Y_t."""
    sched = two_phase(40, c0=1, c1=3)
    design = make_design("ddpm_posterior", sched)
    run = perturbed_run(design, amplitude=0.02)
    kl = sum(design.eta[t - 1] ** 2 * 0.02**2 / (2 * design.sigma_sq[t - 1])
             for t in range(2, 41))
    assert run.ddpm_kl_bound == pytest.approx(math.sqrt(kl / 2), rel=1e-12)
    assert run.effect_tv.value <= run.ddpm_kl_bound


def test_offset_effect_closed_form_matches_grid() -> None:
    """Data-free offset: the exact erf / Gaussian values against the paired grid quadrature.

    The data-direction path with an atom at 0 as the "mixture" runs the data-free chain through
    the grid (mixture score code, paired grids), so it must reproduce the closed forms.
    """
    from theorycheck.targets import SubspaceGaussianMixture

    sched = two_phase(60, c0=1, c1=3)
    design = make_design("ddim", sched)
    exact = perturbed_run(design, amplitude=0.01)
    atom = SubspaceGaussianMixture.create([1.0], [[0.0]], [[[0.0]]])
    grid = perturbed_run(design, amplitude=0.01, data=atom)
    assert grid.effect_tv.value == pytest.approx(exact.effect_tv.value, rel=1e-3)
    assert grid.tv_block.value == pytest.approx(exact.tv_block.value, rel=1e-3, abs=1e-5)


def test_deterministic() -> None:
    design = make_design("ddim", two_phase(40, c0=1, c1=3))
    one = perturbed_run(design, amplitude=0.01, frequency=4.0)
    two = perturbed_run(design, amplitude=0.01, frequency=4.0)
    assert one.tv_block == two.tv_block and one.measures.to_dict() == two.measures.to_dict()


def test_bad_input() -> None:
    design = make_design("ddim", two_phase(20, c0=1, c1=3))
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        perturbed_run("ddim", amplitude=0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`frequency` must be > 0"):
        perturbed_run(design, amplitude=0.1, frequency=-1.0)
    with pytest.raises(InvalidParameterError, match="`amplitude` must be >= 0"):
        perturbed_run(design, amplitude=-0.1)
    with pytest.raises(InvalidParameterError, match="`max_num_points` must be >= 64"):
        perturbed_run(design, amplitude=0.1, frequency=1.0, max_num_points=8)
    with pytest.raises(InvalidParameterError, match="`ambient_dim` must be >= 2"):
        perturbed_run(design, amplitude=0.1).full_tv_bounds(1)
    with pytest.raises(InvalidParameterError, match="`data` must be a one-dimensional"):
        perturbed_run(design, amplitude=0.1, data="mixture")  # type: ignore[arg-type]


def test_ddpm_boundary_control_fails_on_the_d_slope_only() -> None:
    outcome = _boundary("STAB-DDPM")
    assert outcome.verdict is Verdict.FAIL, outcome.summary
    # A 1.5e-3 variance error: ε_score-linearity and the ℓ2 bound still hold; d gives it away.
    assert outcome.fits["effect_tv_vs_eps_score"]["slope"] == pytest.approx(1.0, abs=0.01)
    assert "at 0 of" in outcome.summary
    assert 0.1 < outcome.fits["tv_vs_d"]["slope"] < 0.4


def test_rough_boundary_control_fails_just_below_the_break_threshold() -> None:
    outcome = _boundary("STAB-ROUGH")
    assert outcome.verdict is Verdict.FAIL, outcome.summary
    fit = outcome.fits["ddim_effect_tv_vs_omega_free"]
    # DDIM still grows with ω (slope > 0), but just too slowly: 2σ below the threshold.
    assert 0.15 < fit["end_to_end_slope"] + 2 * fit["stderr"] < fit["threshold"]
    assert "above its ℓ2 bound at 0 point(s)" in outcome.summary
