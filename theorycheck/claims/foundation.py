"""Claims SCHED and COEF: the schedule properties and the one-step coefficient identity."""

from __future__ import annotations

from typing import Any

import mpmath

from theorycheck.claims.types import (
    CheckContext,
    CheckOutcome,
    Claim,
    MeasuredPoint,
    Prediction,
    Source,
    Variant,
)
from theorycheck.designs import CoefficientDesign, custom_design, make_design
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedule_checks import schedule_properties
from theorycheck.schedules import DEFAULT_DPS, two_phase

__all__ = ["register"]

_SCHED_GRID = {"quick": (100, 1000, 10_000), "full": (100, 300, 1000, 3000, 10_000, 100_000)}
_COEF_GRID = {"quick": (200, 2000), "full": (200, 1000, 5000, 20_000)}
# |R_t - 1| of an exact identity computed at `dps` digits sits at about 10^(-dps+1); a
# threshold of 10^(-dps+10) leaves 9 digits of room for the O(T) rounding of the recursion
# (T ≤ 2·10^4 contributes at most 5 digits) and is still 30 orders below float64 rounding.
_IDENTITY_DIGITS_SLACK = 10
#: The boundary control's deviation: R_t - 1 = 10^-38 exactly at every t ≥ 2, a hundred times
#: the identity threshold 10^-(dps-10) = 10^-40 (the check's resolution) at 50 digits.
_BOUNDARY_DEVIATION = "1e-38"


#: (c0, c1) per variant.  The boundary control (2, 3.85) breaks only ᾱ_T ≤ T^-2, and barely:
#: ᾱ_T / T^-2 = 1.015 at T = 1000 and 1.46 at T = 10^4 (0.92 for (2, 3.9), which passes).
_SCHED_CONSTANTS = {Variant.CLAIM: (2.0, 4.0), Variant.CONTROL: (4.0, 4.0),
                    Variant.BOUNDARY: (2.0, 3.85)}


def _sched_check(ctx: CheckContext) -> CheckOutcome:
    c0, c1 = _SCHED_CONSTANTS[ctx.variant]
    points = []
    all_pass = True
    worst_terminal = 0.0
    for index_convention in ("seed", "li_yan"):
        for num_steps in _SCHED_GRID[ctx.profile]:
            props = schedule_properties(two_phase(num_steps, c0=c0, c1=c1,
                                                  index=index_convention))
            all_pass &= props.passed
            estimates = {check.name: Estimate(value=check.value, stderr=0.0,
                                              method=f"exact (mpmath); bound {check.bound:.3g}",
                                              error_kind=ErrorKind.EXACT)
                         for check in props.checks}
            terminal = props.checks[-1]
            worst_terminal = max(worst_terminal, terminal.value / terminal.bound)
            points.append(MeasuredPoint(
                params={"T": num_steps, "c0": c0, "c1": c1, "index": index_convention,
                        "passed": props.passed,
                        "failed": [c.name for c in props.failures()]},
                estimates=estimates))
    verdict = Verdict.PASS if all_pass else Verdict.FAIL
    return CheckOutcome(
        verdict=verdict,
        summary=(f"(c0, c1) = ({c0:g}, {c1:g}): every property "
                 f"{'holds' if all_pass else 'does NOT hold'} on the grid (both index conventions)"),
        measured=f"max ᾱ_T / T^-2 = {worst_terminal:.3g}",
        points=tuple(points))


def _adaptive_designs(schedule: Any, variant: Variant) -> list[CoefficientDesign]:
    designs = [make_design("ddpm_posterior", schedule), make_design("ddim", schedule)]
    designs += [make_design("ddim_eta", schedule, eta=e) for e in (0.25, 0.5, 0.75)]
    if variant is Variant.CONTROL:
        # Deliberately wrong: DDPM with the posterior variance inflated by 0.1 %, claimed to be
        # on the zero set.  The identity check must catch it.
        post = make_design("ddpm_posterior", schedule)
        with mpmath.workdps(schedule.dps):
            sig = [post.mp_coefficients(t)[1] * mpmath.mpf("1.001")
                   for t in range(1, schedule.num_steps + 1)]
            eta = [post.mp_coefficients(t)[0] for t in range(1, schedule.num_steps + 1)]
        designs.append(custom_design(schedule, eta=eta, sigma_sq=sig,
                                     name="ddpm_posterior_inflated_0.1pct"))
    if variant is Variant.BOUNDARY:
        # Just barely wrong: σ_t² + ε(α_t - ᾱ_t) moves R_t - 1 by exactly ε (R is affine in σ²
        # with slope 1/(α_t - ᾱ_t)); ε = 1e-38 is 100× the identity threshold.
        post = make_design("ddpm_posterior", schedule)
        with mpmath.workdps(schedule.dps):
            eps = mpmath.mpf(_BOUNDARY_DEVIATION)
            q, beta = schedule.mp_one_minus_alpha_bar(), schedule.mp_one_minus_alpha()
            coeffs = [post.mp_coefficients(t) for t in range(1, schedule.num_steps + 1)]
            sig = [s + (eps * (q[t - 1] - beta[t - 1]) if t > 1 else 0)
                   for t, (_, s) in enumerate(coeffs, start=1)]
            eta = [e for e, _ in coeffs]
        designs.append(custom_design(schedule, eta=eta, sigma_sq=sig,
                                     name=f"ddpm_posterior_R_minus_1_{_BOUNDARY_DEVIATION}"))
    return designs


def _coef_check(ctx: CheckContext) -> CheckOutcome:
    from theorycheck import symbolic

    derived = symbolic.derive_all()
    symbolic_zero = all(derived[f"R_minus_one[{name}]"].expression == 0
                        for name in ("ddpm_posterior", "ddim", "ddim_eta"))
    points = []
    identity_ok = symbolic_zero
    closed_ok = True
    worst_identity = 0.0
    for num_steps in _COEF_GRID[ctx.profile]:
        schedule = two_phase(num_steps)
        threshold = 10.0 ** (-(schedule.dps - _IDENTITY_DIGITS_SLACK))
        for design in _adaptive_designs(schedule, ctx.variant):
            cond = design.one_step_condition()
            worst_identity = max(worst_identity, cond.max_abs)
            identity_ok &= cond.max_abs <= threshold
            points.append(MeasuredPoint(
                params={"T": num_steps, "design": design.describe(), "expected": "R_t - 1 = 0"},
                estimates={"max_abs_R_minus_one": Estimate(
                    value=cond.max_abs, stderr=0.0, error_kind=ErrorKind.EXACT,
                    method=f"mpmath {cond.dps} digits; identity threshold {threshold:.0e}")}))
        for name, expected in (("ddpm_beta", lambda u: u * u / (1 - u)),
                               ("pf_euler", lambda u: u * u / (4 * (1 - u)))):
            cond = make_design(name, schedule).one_step_condition()
            worst_rel = mpmath.mpf(0)
            with mpmath.workdps(schedule.dps):
                qs = schedule.mp_one_minus_alpha_bar()
                betas = schedule.mp_one_minus_alpha()
                for i, t in enumerate(range(2, num_steps + 1)):
                    u = betas[t - 1] / qs[t - 1]
                    want = expected(u)
                    rel = abs(cond.r_minus_one_mp[i] - want) / want
                    worst_rel = max(worst_rel, rel)
                ok = worst_rel <= mpmath.mpf(10) ** (-30) and min(cond.r_minus_one) > 0
            closed_ok &= bool(ok)
            points.append(MeasuredPoint(
                params={"T": num_steps, "design": name, "expected": "R_t - 1 = closed form > 0"},
                estimates={"max_abs_R_minus_one": Estimate(
                    value=cond.max_abs, stderr=0.0, error_kind=ErrorKind.EXACT,
                    method=f"mpmath {cond.dps} digits"),
                    "max_rel_dev_from_closed_form": Estimate(
                    value=float(worst_rel), stderr=0.0, error_kind=ErrorKind.EXACT,
                    method="mpmath against u²/(1-u) resp. u²/(4(1-u))")}))
    verdict = Verdict.PASS if (identity_ok and closed_ok) else Verdict.FAIL
    return CheckOutcome(
        verdict=verdict,
        summary=("R_t = 1 exactly for the designs claimed adaptive (sympy: identically; mpmath: "
                 f"max |R_t-1| = {worst_identity:.2e}); DDPM-β and PF-Euler off the zero set "
                 f"with the derived closed forms: {'yes' if closed_ok else 'NO'}"),
        measured=f"max |R_t - 1| = {worst_identity:.2e}",
        points=tuple(points),
        details={"symbolic_R_minus_one_zero": symbolic_zero,
                 "resolution": {"max_abs_R_minus_one":
                                10.0 ** (-(DEFAULT_DPS - _IDENTITY_DIGITS_SLACK)),
                                "note": "smallest |R_t - 1| the identity check detects "
                                        "(threshold 10^-(dps-10) at 50 digits)"}})


def register(registry: Any) -> None:
    """Register SCHED and COEF."""
    registry.register(Claim(
        id="SCHED",
        title="Schedule properties the proofs rely on",
        source=Source(paper="Li & Yan (two-phase schedule)", arxiv="2409.18959",
                      location="Lemma 14"),
        statement=("For the two-phase schedule with (c0, c1) = (2, 4): 1-α_t ≤ c1 log T/T, "
                   "(1-α_t)/(1-ᾱ_t) ≤ 8 c1 log T/T for t ≥ 2, and ᾱ_T ≤ T^-2."),
        latex=(r"1-\alpha_t \le \tfrac{c_1\log T}{T},\quad "
               r"\tfrac{1-\alpha_t}{1-\bar\alpha_t} \le 8\,\tfrac{c_1\log T}{T},\quad "
               r"\bar\alpha_T \le T^{-2}"),
        quantity="property ratios of the exact (mpmath) schedule, both index conventions",
        prediction=Prediction(kind="two_sided", value=1.0, tolerance=0.0,
                              rationale="exact computation: every property must hold",
                              description="all properties hold"),
        grids={p: f"T ∈ {_SCHED_GRID[p]}, index ∈ (seed, li_yan)" for p in _SCHED_GRID},
        negative_control="(c0, c1) = (4, 4): ᾱ_T ≈ e^-1·T^0 breaks ᾱ_T ≤ T^-2",
        boundary_control=("(c0, c1) = (2, 3.85): ᾱ_T / T^-2 = 1.015 at T = 1000 (ᾱ_T ≤ T^-2 "
                          "broken by 1.5 %; (2, 3.9) still satisfies it)"),
        check=_sched_check))
    registry.register(Claim(
        id="COEF",
        title="One-step coefficient condition (R_t = 1)",
        source=Source(paper="Liang, Huang & Chen (one-step lower bound); Li & Yan",
                      arxiv="2501.12982; 2405.14861", location="one-step lower bound (Theorem 4 of v2); "
                                                               "uniqueness"),
        statement=("R_t = 1 exactly for DDPM-posterior, DDIM and DDIM(η); R_t - 1 = u²/(1-u) for "
                   "DDPM-β and u²/(4(1-u)) for probability-flow Euler."),
        latex=(r"R_t = \tfrac{1-\bar\alpha_t}{\alpha_t-\bar\alpha_t}\big(1-\tfrac{\eta_t}"
               r"{1-\bar\alpha_t}\big)^2 + \tfrac{\sigma_t^2}{\alpha_t-\bar\alpha_t} = 1"),
        quantity="max_t |R_t - 1| in mpmath (50 digits) and the sympy simplification",
        prediction=Prediction(kind="two_sided", value=0.0, tolerance=1e-40,
                              rationale=("an identity: only rounding at 50 digits may remain; "
                                         "threshold 10^-(dps-10) leaves room for O(T) rounding"),
                              description="R_t - 1 ≡ 0 for adaptive designs"),
        grids={p: f"two-phase (2, 4), T ∈ {_COEF_GRID[p]}" for p in _COEF_GRID},
        negative_control="DDPM posterior variance inflated by 0.1 %, claimed adaptive",
        boundary_control=(f"DDPM posterior with σ_t² + ε(α_t - ᾱ_t), so R_t - 1 = ε = "
                          f"{_BOUNDARY_DEVIATION} exactly (100× the check's resolution 1e-40), "
                          "claimed adaptive"),
        check=_coef_check))
