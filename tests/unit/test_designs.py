"""Tests of theorycheck.designs against the formulas of docs/theory.md §3-§4 evaluated independently.

The reference recomputes ``ᾱ_t`` (direct product), ``1-ᾱ_t`` and ``α_t-ᾱ_t`` (direct
subtraction) at 100 digits from the schedule's exact inputs ``β_t`` and evaluates each design in
its textbook form -- in particular ``ddim_eta``'s η in Song et al.'s *unsimplified* form
``(1-ᾱ) - sqrt((1-ᾱ)(α-ᾱ-σ²))``, which cancels a few digits but has 90 to spare at 100 digits.
"""

from __future__ import annotations

import dataclasses

import mpmath
import numpy as np
import pytest

from theorycheck.designs import (
    ADAPTIVE_DESIGNS,
    DESIGN_NAMES,
    CoefficientDesign,
    custom_design,
    make_design,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.schedules import cosine, linear, two_phase

REFERENCE_DPS = 100


def reference_quantities(schedule) -> dict[str, list]:
    with mpmath.workdps(REFERENCE_DPS):
        betas = [mpmath.mpf(b) for b in schedule.mp_one_minus_alpha()]
        alphas = [1 - b for b in betas]
        alpha_bar, product = [], mpmath.mpf(1)
        for alpha in alphas:
            product *= alpha
            alpha_bar.append(product)
        return {"beta": betas, "alpha": alphas,
                "q": [1 - ab for ab in alpha_bar],  # 1-ᾱ_t
                "gap": [a - ab for a, ab in zip(alphas, alpha_bar, strict=True)]}  # α_t-ᾱ_t


def reference_design(schedule, name: str, eta: float | None = None) -> tuple[list, list]:
    """(η_t, σ_t²) for t = 1..T from the docs/theory.md §3 table, at REFERENCE_DPS digits."""
    ref = reference_quantities(schedule)
    etas, sigmas_sq = [], []
    with mpmath.workdps(REFERENCE_DPS):
        for beta, q, gap in zip(ref["beta"], ref["q"], ref["gap"], strict=True):
            if name == "ddpm_posterior":
                eta_t, sig_t = beta, beta * gap / q
            elif name == "ddpm_beta":
                eta_t, sig_t = beta, beta
            elif name == "ddim":
                eta_t, sig_t = beta / (1 + mpmath.sqrt(gap / q)), mpmath.mpf(0)
            elif name == "ddim_eta":
                sig_t = mpmath.mpf(eta) ** 2 * beta * gap / q
                eta_t = q - mpmath.sqrt(q * (gap - sig_t))  # Song et al., unsimplified
            elif name == "pf_euler":
                eta_t, sig_t = beta / 2, mpmath.mpf(0)
            else:  # pragma: no cover - test bug
                raise AssertionError(name)
            etas.append(eta_t)
            sigmas_sq.append(sig_t)
    return etas, sigmas_sq


def reference_r_minus_one(schedule, etas, sigmas_sq) -> list:
    """docs/theory.md §4 bracket (1-ᾱ)/(α-ᾱ)·(1-η/(1-ᾱ))² + σ²/(α-ᾱ) - 1 for t = 2..T."""
    ref = reference_quantities(schedule)
    out = []
    with mpmath.workdps(REFERENCE_DPS):
        for t in range(2, schedule.num_steps + 1):
            q, gap = ref["q"][t - 1], ref["gap"][t - 1]
            eta, sig = mpmath.mpf(etas[t - 1]), mpmath.mpf(sigmas_sq[t - 1])
            out.append(q / gap * (1 - eta / q) ** 2 + sig / gap - 1)
    return out


def as_float(values) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def ulps(got: np.ndarray, want: np.ndarray) -> float:
    """Largest |got - want| in units of float64 spacing at ``want`` (0 where both are 0)."""
    diff = np.abs(got - want)
    spacing = np.spacing(np.abs(want))
    return float(np.max(np.where(diff == 0, 0.0, diff / spacing)))


DESIGN_CASES = [("ddpm_posterior", None), ("ddpm_beta", None), ("ddim", None),
                ("ddim_eta", 0.0), ("ddim_eta", 0.3), ("ddim_eta", 0.5), ("ddim_eta", 1.0),
                ("pf_euler", None)]


def design_id(case) -> str:
    name, eta = case
    return name if eta is None else f"{name}({eta:g})"


@pytest.fixture(scope="module")
def schedule_1000():
    return two_phase(1000)


@pytest.fixture(scope="module")
def schedules():
    return {"two_phase(200, 2, 4)": two_phase(200),
            "two_phase(300, 8, 16)": two_phase(300, c0=8.0, c1=16.0),
            "two_phase(200, li_yan)": two_phase(200, index="li_yan"),
            "linear(200)": linear(200, rescale=True),
            "cosine(200)": cosine(200)}


@pytest.mark.parametrize("case", DESIGN_CASES, ids=design_id)
def test_design_coefficients_are_correctly_rounded(schedules, case):
    name, eta = case
    for label, schedule in schedules.items():
        design = make_design(name, schedule, eta=eta)
        assert isinstance(design, CoefficientDesign)
        assert design.name == name and design.num_steps == schedule.num_steps
        assert design.params == ({} if eta is None else {"eta": eta})
        etas, sigmas_sq = reference_design(schedule, name, eta)
        # Computed at 50 digits and rounded once: the float64 tables must be the correctly
        # rounded reference values (a mismatch needs a ~1e-29 coincidence per entry).
        np.testing.assert_array_equal(design.eta, as_float(etas), err_msg=f"η, {label}")
        np.testing.assert_array_equal(design.sigma_sq, as_float(sigmas_sq),
                                      err_msg=f"σ², {label}")
        with mpmath.workdps(REFERENCE_DPS):
            sigmas = [mpmath.sqrt(s) for s in sigmas_sq]
        np.testing.assert_array_equal(design.sigma, as_float(sigmas), err_msg=f"σ, {label}")
        with mpmath.workdps(REFERENCE_DPS):
            for t in (1, 2, schedule.num_steps // 2, schedule.num_steps):
                eta_mp, sig_mp = design.mp_coefficients(t)
                assert abs(eta_mp - etas[t - 1]) <= abs(etas[t - 1]) * mpmath.mpf(10) ** -44
                assert abs(sig_mp - sigmas_sq[t - 1]) <= (
                    abs(sigmas_sq[t - 1]) * mpmath.mpf(10) ** -44)


def test_ddim_eta_interpolates_ddim_and_ddpm_posterior(schedule_1000):
    ddim = make_design("ddim", schedule_1000)
    posterior = make_design("ddpm_posterior", schedule_1000)
    eta0 = make_design("ddim_eta", schedule_1000, eta=0.0)
    eta1 = make_design("ddim_eta", schedule_1000, eta=1)
    assert ulps(eta0.eta, ddim.eta) <= 1
    assert ulps(eta0.sigma_sq, ddim.sigma_sq) <= 1
    assert ulps(eta1.eta, posterior.eta) <= 1
    assert ulps(eta1.sigma_sq, posterior.sigma_sq) <= 1
    # and in between, η_t and σ_t² move monotonically from one to the other
    mid = make_design("ddim_eta", schedule_1000, eta=0.5)
    assert np.all(ddim.eta[1:] <= mid.eta[1:]) and np.all(mid.eta[1:] <= posterior.eta[1:])
    assert np.all(mid.sigma_sq[1:] > 0)
    np.testing.assert_allclose(mid.sigma_sq, 0.25 * posterior.sigma_sq, rtol=1e-15, atol=0)


def test_step_one_coefficients(schedule_1000):
    beta1 = schedule_1000.one_minus_alpha[0]
    for name, eta in DESIGN_CASES:
        design = make_design(name, schedule_1000, eta=eta)
        # α_1 - ᾱ_1 = 0, so every design except the β-variance one has σ_1 = 0.
        assert design.sigma_sq[0] == (beta1 if name == "ddpm_beta" else 0.0)
        assert design.eta[0] == (beta1 / 2 if name == "pf_euler" else beta1)


@pytest.mark.parametrize("case", [c for c in DESIGN_CASES if c[0] in ADAPTIVE_DESIGNS],
                         ids=design_id)
def test_one_step_condition_holds_at_working_precision(schedule_1000, case):
    name, eta = case
    cond = make_design(name, schedule_1000, eta=eta).one_step_condition()
    assert cond.dps == 50
    np.testing.assert_array_equal(cond.steps, np.arange(2, 1001))
    assert cond.r_minus_one.shape == (999,) and len(cond.r_minus_one_mp) == 999
    # R_t = 1 exactly; at 50 digits the recursion and formulas leave ~1e-48.
    assert cond.max_abs <= 1e-40
    with mpmath.workdps(cond.dps):
        assert max(abs(v) for v in cond.r_minus_one_mp) <= mpmath.mpf(10) ** -40


def test_one_step_condition_holds_at_large_T_and_c0():
    schedule = two_phase(10_000, c0=8.0, c1=16.0)
    for name in ADAPTIVE_DESIGNS:
        eta = 0.7 if name == "ddim_eta" else None
        assert make_design(name, schedule, eta=eta).one_step_condition().max_abs <= 1e-40


@pytest.mark.parametrize(("name", "denominator"), [("ddpm_beta", 1), ("pf_euler", 4)])
def test_one_step_condition_fails_for_non_adaptive_designs(schedule_1000, name, denominator):
    cond = make_design(name, schedule_1000).one_step_condition()
    ref = reference_quantities(schedule_1000)
    with mpmath.workdps(REFERENCE_DPS):
        u = [ref["beta"][t - 1] / ref["q"][t - 1] for t in range(2, 1001)]
        want_mp = [ui**2 / (denominator * (1 - ui)) for ui in u]  # docs/theory.md §4, derived
    want = as_float(want_mp)
    assert np.all(cond.r_minus_one > 0)
    np.testing.assert_allclose(cond.r_minus_one, want, rtol=1e-12, atol=0)
    with mpmath.workdps(REFERENCE_DPS):
        assert max(abs(g / w - 1) for g, w in zip(cond.r_minus_one_mp, want_mp,
                                                   strict=True)) <= mpmath.mpf(10) ** -35
    assert cond.max_abs > 1e-6
    assert cond.max_abs == float(np.max(np.abs(cond.r_minus_one)))
    assert cond.r_minus_one[cond.worst_step - 2] == cond.max_abs


def test_one_step_condition_matches_theory_bracket_for_arbitrary_design(schedule_1000):
    # An arbitrary (non-adaptive) custom design: the library's R_t - 1 must equal the
    # docs/theory.md §4 bracket evaluated independently at 100 digits.
    beta = schedule_1000.one_minus_alpha
    design = custom_design(schedule_1000, eta=0.9 * beta, sigma_sq=0.5 * beta, name="odd")
    assert design.name == "odd" and design.params == {}
    want_mp = reference_r_minus_one(schedule_1000, list(design.eta), list(design.sigma_sq))
    cond = design.one_step_condition()
    with mpmath.workdps(REFERENCE_DPS):
        worst = max(abs(g - w) / max(abs(w), mpmath.mpf(10) ** -30)
                    for g, w in zip(cond.r_minus_one_mp, want_mp, strict=True))
    assert worst <= mpmath.mpf(10) ** -35


def test_any_point_on_the_R_equals_one_curve_passes(schedule_1000):
    # docs/theory.md §4: R_t = 1 on the curve σ² = (α-ᾱ) - (1-ᾱ-η)²/(1-ᾱ); pick η half-way between
    # DDIM and DDPM-posterior and pass mpf values (taken as exact) to custom_design.
    ddim = make_design("ddim", schedule_1000)
    posterior = make_design("ddpm_posterior", schedule_1000)
    sched = schedule_1000
    etas, sigmas_sq = [], []
    with mpmath.workdps(sched.dps):
        for t in range(1, sched.num_steps + 1):
            values = sched.mp_values(t)
            eta_t = (ddim.mp_coefficients(t)[0] + posterior.mp_coefficients(t)[0]) / 2
            sig_t = values.alpha_minus_alpha_bar - (
                values.one_minus_alpha_bar - eta_t) ** 2 / values.one_minus_alpha_bar
            etas.append(eta_t)
            sigmas_sq.append(max(sig_t, mpmath.mpf(0)))  # t = 1: 0 up to rounding
    design = custom_design(sched, eta=etas, sigma_sq=sigmas_sq, name="curve")
    assert np.all(design.sigma_sq[1:] > 0)
    assert design.one_step_condition().max_abs <= 1e-40


def test_custom_design_from_float_tables_is_accurate_to_float64(schedule_1000):
    posterior = make_design("ddpm_posterior", schedule_1000)
    copy = custom_design(schedule_1000, eta=posterior.eta, sigma_sq=posterior.sigma_sq)
    np.testing.assert_array_equal(copy.eta, posterior.eta)
    np.testing.assert_array_equal(copy.sigma_sq, posterior.sigma_sq)
    # float64 rounding of η and σ² (≤ 1 ulp each) moves R_t - 1 by a few 1e-16 at most.
    assert copy.one_step_condition().max_abs <= 1e-14


def test_design_attributes(schedule_1000):
    for name, eta in DESIGN_CASES:
        design = make_design(name, schedule_1000, eta=eta)
        assert design.is_deterministic == (name in ("ddim", "pf_euler") or eta == 0.0)
        for table in (design.eta, design.sigma_sq, design.sigma):
            assert table.shape == (1000,) and table.dtype == np.float64
            assert not table.flags.writeable
        # σ and σ² are each correctly rounded, and squaring rounds once more: ≤ 4 units of
        # roundoff (2^-53) between σ² and fl(σ)², relative.
        np.testing.assert_allclose(design.sigma**2, design.sigma_sq, rtol=4 * 2.0**-53, atol=0)
        assert design.describe() == (name if eta is None else f"ddim_eta(eta={eta})")
        with pytest.raises(dataclasses.FrozenInstanceError):
            design.name = "x"  # type: ignore[misc]
    with pytest.raises(InvalidParameterError, match="`t` must be <= 1000"):
        make_design("ddim", schedule_1000).mp_coefficients(1001)
    assert set(DESIGN_NAMES) == {"ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta", "pf_euler"}


# --------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small_schedule():
    return two_phase(10)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"eta": [0.1] * 9}, InvalidParameterError, r"`eta` must have length T=10 \(got 9\)"),
    ({"eta": [0.1] * 11}, InvalidParameterError, r"`eta` must have length T=10 \(got 11\)"),
    ({"sigma_sq": [0.1] * 3}, InvalidParameterError, r"`sigma_sq` must have length T=10 \(got 3\)"),
    ({"sigma_sq": [0.1] * 9 + [-1e-30]}, InvalidParameterError,
     r"`sigma_sq` must be >= 0 \(entry 9, t=10"),
    ({"eta": [0.1] * 9 + [float("nan")]}, NonFiniteError, r"`eta` must be finite \(entry 9"),
    ({"sigma_sq": [float("inf")] + [0.1] * 9}, NonFiniteError, r"`sigma_sq` must be finite"),
    ({"eta": "0.1"}, InvalidParameterError, "`eta` must be a 1-D array of numbers"),
    ({"sigma_sq": [None] * 10}, InvalidParameterError, "`sigma_sq` must contain only real numbers"),
])
def test_custom_design_rejects_bad_input(small_schedule, kwargs, error, match):
    kwargs = {"eta": [0.1] * 10, "sigma_sq": [0.1] * 10, **kwargs}
    with pytest.raises(error, match=match):
        custom_design(small_schedule, **kwargs)


def test_custom_design_rejects_non_schedule():
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck Schedule"):
        custom_design(np.ones(10), eta=[0.1] * 10, sigma_sq=[0.1] * 10)


@pytest.mark.parametrize(("name", "eta", "error", "match"), [
    ("ddpm", None, InvalidParameterError,
     r"`name` must be one of 'ddpm_posterior'.* \(got 'ddpm'\)"),
    ("ddim_eta", None, InvalidParameterError, "`eta` is required for the ddim_eta design"),
    ("ddim_eta", -0.1, InvalidParameterError, r"`eta` must be >= 0.0 \(got -0.1\)"),
    ("ddim_eta", 1.5, InvalidParameterError, r"`eta` must be <= 1.0 \(got 1.5\)"),
    ("ddim_eta", float("nan"), NonFiniteError, "`eta` must be finite"),
    ("ddim_eta", "0.5", InvalidParameterError, "`eta` must be a real number"),
    ("ddim", 0.5, InvalidParameterError,
     r"`eta` applies only to the ddim_eta design \(got name='ddim'\)"),
    ("ddpm_posterior", 0.0, InvalidParameterError, "`eta` applies only to the ddim_eta design"),
])
def test_make_design_rejects_bad_input(small_schedule, name, eta, error, match):
    with pytest.raises(error, match=match):
        make_design(name, small_schedule, eta=eta)


@pytest.mark.parametrize("schedule", [None, np.linspace(0.1, 0.2, 10), "two_phase"])
def test_make_design_rejects_non_schedule(schedule):
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck Schedule"):
        make_design("ddim", schedule)
