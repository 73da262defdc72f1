"""Claim ONESTEP: one sampler step from the exact law costs TV ≍ sqrt(d)·|R_t - 1| (one-step lower bound).

The one-step lower bound of Liang, Huang & Chen (arXiv:2501.12982; docs/theory.md §4.1): started from
``X_t = Y_t``, one step of ``Y_{t-1} = (Y_t + η_t s_t(Y_t) + σ_t Z)/sqrt(α_t)`` can cost
``TV(X_{t-1}, Y_{t-1}) ≳ sqrt(d)·|R_t - 1|`` with ``R_t - 1`` the bracket of docs/theory.md §4.  The check
measures that TV *exactly* on a target whose one-step laws are Gaussian, and asks whether
``TV / (sqrt(d)|R_t - 1|)`` stays within a factor 2 over d, t and (perturbed) coefficients.

The Gaussian target (derivation)
--------------------------------
Data ``X_0 = U Z``, ``Z ~ N(0, v I_k)`` on a k-plane of R^d.  In U's frame ``X_t`` has independent
coordinates of variance ``c_i = c = ᾱ_t v + (1-ᾱ_t)`` (the k along U) or ``c_i = c_⊥ = 1-ᾱ_t``
(the ``d-k`` orthogonal ones).  The exact score is ``-x_i/c_i``, so a step from ``Y_t = X_t``
gives ``Y_{t-1,i} = ((1-η_t/c_i) X_{t,i} + σ_t Z_i)/sqrt(α_t)``, a Gaussian of variance
``((c_i-η_t)²/c_i + σ_t²)/α_t``, while the truth ``X_{t-1,i}`` has variance
``ᾱ_{t-1} v_i + 1-ᾱ_{t-1} = (c_i - (1-α_t))/α_t = (ᾱ_t v_i + α_t-ᾱ_t)/α_t`` (``v_i = v`` along
U, 0 orthogonally).  The relative variance error of coordinate ``i`` is therefore

    ε_i = ((c_i - η_t)²/c_i + σ_t²) / (ᾱ_t v_i + α_t - ᾱ_t) - 1,

and for ``v_i = 0`` (the orthogonal coordinates) ``ε_⊥ = R_t - 1`` exactly: the one-step
bracket *is* the relative variance error of a data-free coordinate.  Both laws are zero-mean and
diagonal in U's frame, so the TV depends only on two ``ε`` groups (k subspace coordinates,
``d-k`` orthogonal ones); it is the closed-form conditional factor of
:func:`theorycheck.divergences.gaussian.orthogonal_tv_factor` integrated over one gamma variable
(:func:`one_step_tv`).  Every ``ε`` is formed in mpmath from the schedule's and design's
high-precision values (no float64 subtraction), so ``|R_t - 1| ~ 1e-8`` keeps all its digits.

Constants.  For small ``ε`` the log-likelihood ratio is close to normal with variance
``Σ ε_i²/2``, so ``TV ≈ sqrt(Σ ε_i² / (4π))`` (docs/theory.md §4); hence

    TV / (sqrt(d)|R_t-1|) ≈ (1/sqrt(4π)) · sqrt((d-k)/d + k ε_sub² / (d (R_t-1)²)),

1/sqrt(4π) ≈ 0.282 when the d-dependent part dominates.  Saturation (TV ≤ 1) lowers the ratio
as ``sqrt(d)|R_t-1|`` approaches 1; the d-free subspace term raises it at small d and tiny
``|R_t - 1|``.  The one-step bound is a lower bound: the upper constant holds only where the bracket
term dominates that d-free term (see the diagnostic sweep in the check's notes).

References
----------
.. [1] J. Liang, Z. Huang, Y. Chen, arXiv:2501.12982, one-step lower bound (docs/theory.md §4.1).
.. [2] docs/theory.md §4-§5 (the one-step condition, the exact subspace split).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray
from scipy import special

from theorycheck._validation import check_int, check_real
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
from theorycheck.divergences.gaussian import orthogonal_tv_factor, tv_isotropic
from theorycheck.errors import InvalidParameterError
from theorycheck.fitting import judge_bounded_ratio
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import Schedule, two_phase

__all__ = ["OneStepVariances", "one_step_variances", "one_step_tv", "register"]

#: 1/sqrt(4π): small-ε limit of TV / (sqrt(m)|ε|) for a variance mismatch ε in m coordinates.
SMALL_EPS_RATIO = 1.0 / math.sqrt(4.0 * math.pi)

FloatArray = NDArray[np.float64]

_NUM_STEPS = 1000
#: Data N(0, v I_k) on a k-plane.  v ≠ 1 so that c_t = ᾱ_t v + 1-ᾱ_t varies with t (v = 1 makes
#: it constant and hides the v-dependence of the derivation); k = 2 keeps the check cheap.
_DATA_VARIANCE = 4.0
_INTRINSIC_DIM = 2
#: Regime: TV ≤ 1 saturates once sqrt(d)|R_t-1| ~ 1; points above this bound are not judged.
_SATURATION_BOUND = 1.0
#: Θ(1) with the factor stated: max ratio / min ratio ≤ 2.  The bracket term alone gives ratios
#: in [~0.277, 0.282] (saturation at sqrt(d)|R_t-1| ≤ 1 lowers by < 2 %, (d-k)/d by < 1 %); 2
#: leaves room for a d-free subspace error up to sqrt(3)× the bracket term (they add in
#: quadrature).  Beyond that the bracket no longer explains the measured TV.
_MAX_RATIO_SPREAD = 2.0
#: A TV counts as resolved when it exceeds its quadrature tolerance this many times.
_RESOLUTION_FACTOR = 100.0
#: |R_t - 1| at or below 10^-(dps - 10) is an exact zero computed at dps digits (as in COEF).
_IDENTITY_DIGITS_SLACK = 10
#: Control: the subspace score is that of data variance inflated by 50 % (c_i → 1.5 c_i).
_CONTROL_SCORE_FACTOR = 1.5
#: Boundary control: the same exact TVs judged against the nearest wrong law, sqrt(d)^1.1 |R_t-1|
#: (d-power 0.55 instead of 0.5).  Over the judged d ∈ 1e2..1e8 it multiplies the ratio's spread
#: by up to 10^(0.05·6) ≈ 2 (quick: 1.40 → 2.75, allowed 2).  Measured resolution (quick grid,
#: bisection on the power, seed-independent: exact TVs): d-power 0.527 FAILs, 0.526 passes.
_BOUNDARY_D_POWER = 0.55
_D_POWER = {Variant.CLAIM: 0.5, Variant.CONTROL: 0.5, Variant.BOUNDARY: _BOUNDARY_D_POWER}

_GRIDS: dict[str, dict[str, tuple[Any, ...]]] = {
    "quick": {"steps": (2, 500, 1000), "dims": (10**2, 10**4, 10**6, 10**8),
              "posterior_deltas": (1e-3, -1e-2), "ddim_deltas": (-1e-3, 1e-1),
              "tiny_deltas": (1e-6,)},
    "full": {"steps": (2, 100, 250, 400, 500, 600, 750, 1000),
             "dims": tuple(10**e for e in range(2, 9)),
             "posterior_deltas": (1e-3, -1e-3, 1e-2, -1e-2, 1e-1, -1e-1),
             "ddim_deltas": (1e-3, -1e-3, 1e-2, -1e-2, 1e-1, -1e-1),
             "tiny_deltas": (1e-6, -1e-6)},
}


@dataclass(frozen=True, kw_only=True)
class OneStepVariances:
    """Exact variances of ``X_{t-1}`` and of one sampler step ``Y_{t-1}`` from ``Y_t = X_t``.

    Attributes
    ----------
    t : int
        The step (``Y_t → Y_{t-1}``).
    intrinsic_dim : int
        k, the number of subspace coordinates.
    true_subspace, sampler_subspace : float
        Variances of ``X_{t-1}`` and ``Y_{t-1}`` along every column of U.
    true_orthogonal, sampler_orthogonal : float
        The same for every coordinate orthogonal to the data's plane.
    eps_subspace, eps_orthogonal : mpf
        Relative variance errors ``sampler/true - 1`` at the schedule's precision; the
        orthogonal one equals ``R_t - 1`` (the one-step bracket).
    """

    t: int
    intrinsic_dim: int
    true_subspace: float
    sampler_subspace: float
    true_orthogonal: float
    sampler_orthogonal: float
    eps_subspace: Any
    eps_orthogonal: Any


def one_step_variances(design: CoefficientDesign, t: int, *, data_variance: float,
                       intrinsic_dim: int, score_variance_factor: float = 1.0
                       ) -> OneStepVariances:
    """One step of ``design`` from the exact law of ``X_t`` for data ``U·N(0, v I_k)``.

    Parameters
    ----------
    design : CoefficientDesign
        Supplies ``η_t``, ``σ_t²`` and the schedule (all high precision).
    t : int
        Step, ``2 ≤ t ≤ T`` (at t = 1 the true ``X_0`` has no density on R^d).
    data_variance : float
        ``v > 0``, the data variance along each column of U.
    intrinsic_dim : int
        ``k ≥ 1``.
    score_variance_factor : float, optional
        ``f > 0``; the score along U is ``-x_i/(f c)`` (``f = 1``: exact).  Orthogonal
        coordinates always get the exact score.

    Returns
    -------
    OneStepVariances

    Notes
    -----
    ``Var Y_{t-1,i} = ((1 - η_t/(f c))² c + σ_t²)/α_t`` and ``Var X_{t-1,i} = (ᾱ_t v +
    α_t-ᾱ_t)/α_t`` with ``c = ᾱ_t v + 1-ᾱ_t`` (module docstring); ``v = 0``, ``f = 1`` gives
    the orthogonal coordinates.
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    t = check_int("t", t, minimum=2, maximum=design.num_steps)
    v = check_real("data_variance", data_variance, lower=0.0, lower_open=True)
    k = check_int("intrinsic_dim", intrinsic_dim, minimum=1)
    f = check_real("score_variance_factor", score_variance_factor, lower=0.0, lower_open=True)
    sched = design.schedule
    with mpmath.workdps(sched.dps):
        val = sched.mp_values(t)
        eta, sigma_sq = design.mp_coefficients(t)

        def variances(v: Any, factor: Any) -> tuple[Any, Any]:
            c = val.alpha_bar * v + val.one_minus_alpha_bar
            sampler = ((1 - eta / (factor * c)) ** 2 * c + sigma_sq) / val.alpha
            # ᾱ_{t-1} v + 1-ᾱ_{t-1} = (ᾱ_t v + α_t-ᾱ_t)/α_t: no cancellation.
            true = (val.alpha_bar * v + val.alpha_minus_alpha_bar) / val.alpha
            return true, sampler

        sub_true, sub_sampler = variances(mpmath.mpf(v), mpmath.mpf(f))
        orth_true, orth_sampler = variances(mpmath.mpf(0), mpmath.mpf(1))
        return OneStepVariances(
            t=t, intrinsic_dim=k, true_subspace=float(sub_true),
            sampler_subspace=float(sub_sampler), true_orthogonal=float(orth_true),
            sampler_orthogonal=float(orth_sampler), eps_subspace=sub_sampler / sub_true - 1,
            eps_orthogonal=orth_sampler / orth_true - 1)


def _tanh_sinh(level: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Nodes u, 1-u and weights of the tanh-sinh rule on (0, 1), step 2^-level, |x| ≤ 6."""
    x = np.arange(-6 * 2**level, 6 * 2**level + 1) / 2.0**level
    arg = math.pi * np.sinh(x)
    u, one_minus_u = special.expit(arg), special.expit(-arg)
    return u, one_minus_u, (math.pi / 2.0**level) * np.cosh(x) * u * one_minus_u


def _tv_two_groups(groups: list[tuple[int, Any]], rtol: float) -> Estimate:
    """TV between ``N(0, I)`` and ``N(0, diag)`` with ratio ``1+ε_j`` on ``m_j`` coordinates.

    Same method as :func:`theorycheck.divergences.gaussian.tv_diagonal` (which needs length-d
    arrays, impossible at d = 1e8): condition on the most influential group (largest
    ``|log(1+ε)| sqrt(m)``), whose exact factor is
    :func:`~theorycheck.divergences.gaussian.orthogonal_tv_factor`, and integrate it over the
    Gamma(m/2) quantiles of the other group by tanh-sinh, refining until two levels agree to
    ``rtol``; ``stderr`` is the last change.
    """
    live = [(m, e) for m, e in groups if e != 0]
    if not live:
        return Estimate(value=0.0, stderr=0.0, method="exact: equal laws")
    if len(live) == 1:
        return tv_isotropic(live[0][0], live[0][1])
    with mpmath.workdps(30):
        live.sort(key=lambda g: float(abs(mpmath.log1p(g[1])) * mpmath.sqrt(g[0])))
        (m_out, e_out), (m_in, e_in) = live
        h = 0.5 * m_out
        # h log(1+ε) - ε Y written as h·log1pmx(ε) - h ε (Y/h - 1): no large terms cancel.
        h_log1pmx, eps_out = float(h * (mpmath.log1p(e_out) - e_out)), float(e_out)
    previous, change = math.nan, math.inf
    for level in range(1, 9):
        u, one_minus_u, weights = _tanh_sinh(level)
        y = np.where(u <= 0.5, special.gammaincinv(h, np.minimum(u, 0.5)),
                     special.gammainccinv(h, np.minimum(one_minus_u, 0.5)))
        log_c = h_log1pmx - h * eps_out * (y / h - 1.0)
        value = float(np.sum(weights * orthogonal_tv_factor(log_c, m_in, e_in)))
        change, previous = abs(value - previous), value
        if level >= 3 and change <= rtol * value:
            break
    return Estimate(value=previous, stderr=max(change, 1e-15 * previous),
                    error_kind=ErrorKind.TOLERANCE,
                    method="exact Gaussian TV: orthogonal_tv_factor integrated over the other "
                           "group's Gamma quantiles (tanh-sinh)")


def one_step_tv(variances: OneStepVariances, ambient_dim: int, *, rtol: float = 1e-10
                ) -> Estimate:
    """Exact ``TV(X_{t-1}, Y_{t-1})`` in R^d from the one-step variances.

    Parameters
    ----------
    variances : OneStepVariances
        From :func:`one_step_variances`.
    ambient_dim : int
        ``d > k``.
    rtol : float, optional
        Relative tolerance of the quadrature.

    Returns
    -------
    Estimate
        ``stderr`` is the quadrature tolerance (0 when a closed form applies).

    Notes
    -----
    Both laws are zero-mean and diagonal in U's frame, so TV is that of ``N(0, I_d)`` against
    ``N(0, diag((1+ε_sub) I_k, (1+ε_⊥) I_{d-k}))``: two variance-ratio groups.
    """
    k = variances.intrinsic_dim
    d = check_int("ambient_dim", ambient_dim, minimum=k + 1)
    return _tv_two_groups([(k, variances.eps_subspace), (d - k, variances.eps_orthogonal)],
                          check_real("rtol", rtol, lower=1e-14, upper=1e-2))


def _perturbed(base: CoefficientDesign, delta: float, which: str) -> CoefficientDesign:
    """``base`` with ``σ_t²`` (``which="sigma_sq"``) or ``η_t`` (``"eta"``) times ``1+δ``."""
    with mpmath.workdps(base.schedule.dps):
        scale = 1 + mpmath.mpf(delta)
        pairs = [base.mp_coefficients(t) for t in range(1, base.num_steps + 1)]
        eta = [e * scale if which == "eta" else e for e, _ in pairs]
        sig = [s * scale if which == "sigma_sq" else s for _, s in pairs]
    return custom_design(base.schedule, eta=eta, sigma_sq=sig, name=f"{base.name}_{which}")


def _designs(schedule: Schedule, grid: dict[str, tuple[Any, ...]], variant: Variant
             ) -> list[tuple[str, CoefficientDesign, float, bool]]:
    """``(label, design, δ, judged)``; ``judged=False`` marks the tiny-δ diagnostic sweep."""
    post, ddim = make_design("ddpm_posterior", schedule), make_design("ddim", schedule)
    beta = make_design("ddpm_beta", schedule)
    if variant is Variant.CONTROL:
        return [("ddpm_posterior", post, 0.0, True), ("ddim", ddim, 0.0, True),
                ("ddpm_beta", beta, 0.0, True)]
    out = [("ddpm_beta", beta, 0.0, True),
           ("pf_euler", make_design("pf_euler", schedule), 0.0, True)]
    tiny = " (tiny δ, not judged)"
    for deltas, judged in ((grid["posterior_deltas"], True), (grid["tiny_deltas"], False)):
        out += [("ddpm_posterior·σ²(1+δ)" + ("" if judged else tiny),
                 _perturbed(post, d, "sigma_sq"), d, judged) for d in deltas]
    for deltas, judged in ((grid["ddim_deltas"], True), (grid["tiny_deltas"], False)):
        out += [("ddim·η(1+δ)" + ("" if judged else tiny), _perturbed(ddim, d, "eta"), d, judged)
                for d in deltas]
    return out


def _check(ctx: CheckContext) -> CheckOutcome:
    return _check_with_power(ctx, _D_POWER[ctx.variant])


def _check_with_power(ctx: CheckContext, d_power: float) -> CheckOutcome:
    """The check with TV judged against ``d^d_power·|R_t - 1|`` (0.5: the theorem's law); the
    regime (saturation at ``sqrt(d)|R_t-1| ≤ 1``) is always that of the theorem's law."""
    grid = _GRIDS[ctx.profile]
    schedule = two_phase(_NUM_STEPS)
    factor = _CONTROL_SCORE_FACTOR if ctx.variant is Variant.CONTROL else 1.0
    zero_threshold = 10.0 ** (-(schedule.dps - _IDENTITY_DIGITS_SLACK))
    points: list[MeasuredPoint] = []
    judged: list[tuple[float, float, float]] = []  # (tv, tolerance, sqrt(d)|R-1|)
    unexplained = 0
    diag_ratios: list[float] = []
    for label, design, delta, is_judged in _designs(schedule, grid, ctx.variant):
        cond = design.one_step_condition()
        for t in grid["steps"]:
            bracket = abs(cond.r_minus_one_mp[t - 2])
            bracket_zero = bool(bracket <= zero_threshold)
            var = one_step_variances(design, t, data_variance=_DATA_VARIANCE,
                                     intrinsic_dim=_INTRINSIC_DIM, score_variance_factor=factor)
            for d in grid["dims"]:
                rate = 0.0 if bracket_zero else math.sqrt(d) * float(bracket)
                law = 0.0 if bracket_zero else d ** d_power * float(bracket)
                tv = one_step_tv(var, d)
                resolved = tv.value > _RESOLUTION_FACTOR * tv.stderr
                saturated = rate > _SATURATION_BOUND
                role = ("saturated" if saturated else "unresolved" if not resolved else
                        "judged" if is_judged else "diagnostic (tiny δ)")
                estimates = {"tv": tv, "sqrt_d_abs_R_minus_one": Estimate(
                    value=rate, stderr=0.0, error_kind=ErrorKind.EXACT,
                    method=f"mpmath {schedule.dps} digits (one-step bracket)")}
                if rate > 0:
                    estimates["ratio"] = Estimate(
                        value=tv.value / law, stderr=tv.stderr / law,
                        error_kind=ErrorKind.TOLERANCE, method=f"tv / (d^{d_power:g}|R_t - 1|)")
                points.append(MeasuredPoint(
                    params={"d": d, "t": t, "design": label, "delta": delta,
                            "sqrt_d_abs_R_minus_one": rate, "role": role},
                    estimates=estimates))
                if role == "judged":
                    if rate == 0.0:
                        unexplained += 1
                    else:
                        judged.append((tv.value, tv.stderr, law))
                elif role.startswith("diagnostic"):
                    diag_ratios.append(tv.value / law)
    outcome = _verdict(points, judged, unexplained, diag_ratios)
    if d_power == 0.5:
        return outcome
    notes = [f"Boundary control: the TVs are judged against d^{d_power:g}|R_t-1| instead of "
             "sqrt(d)|R_t-1| (ratio and spread below refer to that law)."]
    summary = (f"boundary law d^{d_power:g}|R_t-1| (the ratio below is TV over it): "
               + outcome.summary)
    return dataclasses.replace(outcome, summary=summary, details={
        **outcome.details, "notes": notes + outcome.details["notes"]})


def _verdict(points: list[MeasuredPoint], judged: list[tuple[float, float, float]],
             unexplained: int, diag_ratios: list[float]) -> CheckOutcome:
    notes = [f"Regime: points with sqrt(d)|R_t-1| ≤ {_SATURATION_BOUND:g} (TV saturates at 1 "
             f"beyond) and TV > {_RESOLUTION_FACTOR:g}× its quadrature tolerance are judged; "
             f"target N(0, {_DATA_VARIANCE:g} I_{_INTRINSIC_DIM}) on a plane, two-phase (2, 4), "
             f"T = {_NUM_STEPS} (seed index convention); exact score unless stated."]
    details: dict[str, Any] = {"notes": notes, "plots": _PLOTS, "small_eps_ratio": SMALL_EPS_RATIO,
                               "max_ratio_spread": _MAX_RATIO_SPREAD,
                               "unexplained_points": unexplained}
    fits: dict[str, Any] = {}
    verdict, parts, measured = Verdict.INCONCLUSIVE, [], "n/a"
    c_lo = math.nan
    if len(judged) >= 2:
        tvs, tols, rates = (list(col) for col in zip(*judged, strict=True))
        check = judge_bounded_ratio(tvs, tols, rates, max_ratio_spread=_MAX_RATIO_SPREAD)
        fits["bounded_ratio"] = check.to_dict()
        lo, hi = min(check.ratios), max(check.ratios)
        c_lo = lo
        spread = "∞" if check.spread is None else f"{check.spread:.3f}"
        verdict, measured = check.verdict, f"ratio ∈ [{lo:.3g}, {hi:.3g}], spread {spread}"
        parts.append(f"TV / (sqrt(d)|R_t-1|) ∈ [{lo:.4g}, {hi:.4g}] over {len(judged)} judged "
                     f"points (spread {spread}, allowed {_MAX_RATIO_SPREAD:g}; small-ε limit "
                     f"1/sqrt(4π) = {SMALL_EPS_RATIO:.4f})")
    else:
        parts.append("fewer than 2 judged points with R_t ≠ 1")
    if unexplained:
        verdict = Verdict.FAIL
        measured = f"ratio unbounded at {unexplained} point(s); {measured}"
        parts.append(f"{unexplained} resolved point(s) have TV > 0 where the bracket is exactly 0 "
                     "(R_t = 1): TV not explained by sqrt(d)|R_t-1| (ratio unbounded)")
    if diag_ratios:
        lo, hi = min(diag_ratios), max(diag_ratios)
        details["tiny_delta_sweep"] = {"min_ratio": lo, "max_ratio": hi,
                                       "points": len(diag_ratios)}
        lower = "holds" if lo >= c_lo else "does NOT hold"
        upper = "holds" if hi <= _MAX_RATIO_SPREAD * c_lo else "fails"
        notes.append(
            f"Diagnostic, not judged: with |δ| = 1e-6 (|R_t-1| ≈ 3e-8) the ratio spans "
            f"[{lo:.3g}, {hi:.3g}] over {len(diag_ratios)} points.  The lower constant c_lo = "
            f"{c_lo:.3g} (the lower bound's side) {lower} there; the upper one {upper}.  Where it "
            "fails the d-free one-step error of the k data coordinates (ε_sub ~ u_t², which the "
            "bracket does not describe) exceeds the bracket term: Θ(sqrt(d)|R_t-1|) needs "
            "sqrt(d)|R_t-1| ≳ sqrt(k)|ε_sub|.")
    return CheckOutcome(verdict=verdict, summary="; ".join(parts), measured=measured,
                        points=tuple(points), fits=fits, details=details)


_PLOTS = [
    {"name": "tv-vs-bracket", "title": "One-step TV against sqrt(d)|R_t - 1| (exact)",
     "x": "sqrt_d_abs_R_minus_one", "y": "tv", "series": "design",
     "xlabel": "sqrt(d) |R_t - 1|", "ylabel": "TV(X_{t-1}, Y_{t-1})", "logx": True, "logy": True,
     "reference": {"slope": 1.0, "label": "slope 1 (one-step lower bound)"}},
]


def register(registry: Any) -> None:
    """Register ONESTEP."""
    registry.register(Claim(
        id="ONESTEP",
        title="One-step cost of the coefficient bracket (one-step lower bound)",
        source=Source(paper="Liang, Huang & Chen (one-step lower bound)", arxiv="2501.12982",
                      location="one-step lower bound (Theorem 4 of v2)"),
        statement=("Started from X_t = Y_t, one step costs TV(X_{t-1}, Y_{t-1}) = "
                   "Θ(sqrt(d)|R_t-1|) while sqrt(d)|R_t-1| ≤ 1: the ratio stays within a factor "
                   "2 over d, t, DDPM-β, PF-Euler and perturbed DDPM-posterior / DDIM coefficients."),
        latex=(r"c_{lo} \le \frac{\mathrm{TV}(X_{t-1},Y_{t-1})}{\sqrt d\,|R_t-1|} \le c_{hi},"
               r"\quad c_{hi}/c_{lo}\le 2,\quad R_t = \tfrac{1-\bar\alpha_t}{\alpha_t-\bar\alpha_t}"
               r"\big(1-\tfrac{\eta_t}{1-\bar\alpha_t}\big)^2+\tfrac{\sigma_t^2}"
               r"{\alpha_t-\bar\alpha_t}"),
        quantity=("exact TV between the Gaussian laws of X_{t-1} and of one sampler step from "
                  "X_t, data N(0, 4 I_2) on a 2-plane of R^d; variances in mpmath"),
        prediction=Prediction(
            kind="two_sided", value=SMALL_EPS_RATIO, tolerance=_MAX_RATIO_SPREAD,
            rationale=("small-ε asymptotics give 1/sqrt(4π) ≈ 0.282 times sqrt((d-k)/d + "
                       "k ε_sub²/(d(R_t-1)²)); saturation lowers, the d-free subspace error raises "
                       "it; factor 2 = 'Θ(1)' with the constant stated"),
            description="max/min of TV/(sqrt(d)|R_t-1|) ≤ 2 (≈ 1/sqrt(4π) expected)"),
        grids={p: (f"two-phase(2,4) T={_NUM_STEPS}; t ∈ {g['steps']}; d ∈ 1e2..1e8 "
                   f"({len(g['dims'])} values); DDPM-β, PF-Euler, DDPM-posterior σ²·(1+δ), "
                   f"δ ∈ {g['posterior_deltas']}, DDIM η·(1+δ), δ ∈ {g['ddim_deltas']}; "
                   f"diagnostic δ ∈ {g['tiny_deltas']}") for p, g in _GRIDS.items()},
        negative_control=("DDPM-posterior and DDIM (R_t = 1 exactly: no d-dependent cost "
                          "predicted) and DDPM-β, each with the subspace score of a 1.5× "
                          "inflated variance: a cost the bracket does not describe"),
        boundary_control=(f"the same exact TVs judged against sqrt(d)^1.1·|R_t-1| (d-power "
                          f"{_BOUNDARY_D_POWER:g}): the ratio's spread over d ∈ 1e2..1e8 goes "
                          "from 1.40 to 2.75 (allowed 2); the check's resolution is a d-power "
                          "0.527 (quick grid, by bisection)"),
        check=_check))
