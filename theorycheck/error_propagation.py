"""Exact propagation of the orthogonal variance error, and the crossover dimension d*.

A data-free coordinate (orthogonal to the data's subspace) has variance ``v_t`` under the
sampler and ``1-ᾱ_t`` under the forward process.  Its relative error ``e_t = v_t/(1-ᾱ_t) - 1``
obeys, exactly (docs/theory.md §4),

    e_{t-1} = ρ_t e_t + (R_t - 1),      ρ_t = (1 - η_t/(1-ᾱ_t))² (1-ᾱ_t)/(α_t-ᾱ_t),

from ``e_T = ᾱ_T/(1-ᾱ_T)`` (the start ``Y_T ~ N(0, I)`` against ``Var X_T = 1-ᾱ_T``), so that

    e_1 = W_T e_T + Σ_{t=2}^{T} w_t (R_t - 1),   w_t = Π_{s=2}^{t-1} ρ_s,   W_T = Π_{s=2}^{T} ρ_s.

The recursion is linear in ``R_t - 1`` once ``η_t`` is fixed: a design that changes only
``σ_t²`` moves ``e_1`` by exactly ``Σ w_t ΔR_t``.  ``ρ_t = 1 - u_t`` (``u_t = (1-α_t)/(1-ᾱ_t)``)
for ``η_t = 1-α_t`` (contracting), ``ρ_t = 1`` for DDIM (the start-up mismatch ``e_T`` is carried
to the end), ``ρ_t > 1`` for probability-flow Euler.

The orthogonal part of the output law is ``N(0, (1-ᾱ_1)(1+e_1) I_m)`` against
``N(0, (1-ᾱ_1) I_m)``, ``m = d - k``; its TV is ``≈ |e_1| sqrt(m/(4π))`` for small ``e_1``
(exact: :func:`theorycheck.divergences.gaussian.tv_isotropic`).  Equating it to the subspace
error ``TV_k`` gives the *crossover dimension*

    d* = k + 4π (TV_k / e_1)²,

beyond which the d-dependent orthogonal error dominates.  :func:`predicted_crossover` is that
formula; :func:`measured_crossover` solves ``tv_isotropic(d - k, e_1) = TV_k`` exactly by
bisection in ``log d``.

References
----------
.. [1] J. Liang, Z. Huang, Y. Chen, arXiv:2501.12982, Theorem 5 (the one-step bracket R_t - 1).
.. [2] G. Li, Y. Yan, arXiv:2405.14861 (the coefficient design that makes R_t = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences.gaussian import tv_isotropic
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate

__all__ = ["ErrorPropagation", "propagate_orthogonal_error", "predicted_crossover",
           "small_error_tv_coefficient", "interpolated_crossing",
           "measured_crossover", "ddim_start_up_error", "posterior_start_up_error"]

FloatArray = NDArray[np.float64]

#: Largest ambient dimension the crossover search considers (tv_isotropic accepts m ≤ 1e12).
MAX_CROSSOVER_DIM = 10**12


@dataclass(frozen=True, kw_only=True)
class ErrorPropagation:
    """The exact orthogonal error recursion of one design, ``t = T..2``.

    Attributes
    ----------
    steps : ndarray of int, shape (T-1,)
        ``t = 2..T``.
    rho, r_minus_one, weights : ndarray, shape (T-1,)
        ``ρ_t``, ``R_t - 1`` and the weight ``w_t = Π_{s=2}^{t-1} ρ_s`` of ``R_t - 1`` in
        ``e_1`` (float64, rounded once from mpmath).
    initial_error : float
        ``e_T``.
    start_up_weight : float
        ``W_T = Π_{s=2}^{T} ρ_s``, the factor by which the start-up error reaches ``e_1``.
    final_error : float
        ``e_1``.
    final_error_mp : mpf
        ``e_1`` at the schedule's precision.
    start_up_part, bracket_part : float
        ``W_T e_T`` and ``Σ w_t (R_t - 1)``; they add up to ``e_1``.
    dps : int
    """

    steps: NDArray[np.int64] = field(repr=False)
    rho: FloatArray = field(repr=False)
    r_minus_one: FloatArray = field(repr=False)
    weights: FloatArray = field(repr=False)
    initial_error: float
    start_up_weight: float
    final_error: float
    final_error_mp: Any = field(repr=False)
    start_up_part: float
    bracket_part: float
    dps: int


def _readonly(values: list[Any]) -> FloatArray:
    arr = np.asarray([float(v) for v in values], dtype=np.float64)
    arr.setflags(write=False)
    return arr


def propagate_orthogonal_error(design: CoefficientDesign, *,
                               initial_error: float | None = None) -> ErrorPropagation:
    """Run ``e_{t-1} = ρ_t e_t + (R_t - 1)`` exactly (mpmath) for ``design``.

    Parameters
    ----------
    design : CoefficientDesign
    initial_error : float, optional
        ``e_T``; default ``ᾱ_T/(1-ᾱ_T)`` (start from ``N(0, I)``).  Must be > -1.

    Returns
    -------
    ErrorPropagation

    Notes
    -----
    ``e_1`` equals :func:`theorycheck.split.orthogonal_variance`'s ``relative_error`` (which
    iterates the variance itself) to the working precision; the unit tests check it.
    Cost ``O(T)`` mpmath operations, independent of ``d``.
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    sched = design.schedule
    betas, qs = sched.mp_one_minus_alpha(), sched.mp_one_minus_alpha_bar()
    abars = sched.mp_alpha_bar()
    with mpmath.workdps(sched.dps):
        if initial_error is None:
            e = abars[-1] / qs[-1]
        else:
            e = mpmath.mpf(check_real("initial_error", initial_error, lower=-1.0,
                                      lower_open=True))
        e_start = e
        rhos: list[Any] = []
        brackets: list[Any] = []
        for t in range(sched.num_steps, 1, -1):
            q, beta = qs[t - 1], betas[t - 1]
            gap = (1 - beta) * qs[t - 2]  # α_t - ᾱ_t without cancellation
            eta, sigma_sq = design.mp_coefficients(t)
            factor = (q - eta) / q
            rho = factor * factor * q / gap
            bracket = rho + sigma_sq / gap - 1  # R_t - 1 = ρ_t + σ_t²/(α_t-ᾱ_t) - 1
            e = rho * e + bracket
            rhos.append(rho)
            brackets.append(bracket)
        rhos.reverse()
        brackets.reverse()  # index t-2 now holds step t
        weights: list[Any] = []
        running = mpmath.mpf(1)
        for rho in rhos:
            weights.append(running)
            running *= rho
        bracket_part = mpmath.fsum(w * b for w, b in zip(weights, brackets, strict=True))
        steps = np.arange(2, sched.num_steps + 1, dtype=np.int64)
        steps.setflags(write=False)
        return ErrorPropagation(
            steps=steps, rho=_readonly(rhos), r_minus_one=_readonly(brackets),
            weights=_readonly(weights), initial_error=float(e_start),
            start_up_weight=float(running), final_error=float(e), final_error_mp=e,
            start_up_part=float(running * e_start), bracket_part=float(bracket_part),
            dps=sched.dps)


def ddim_start_up_error(design: CoefficientDesign) -> float:
    """Closed form of DDIM's ``e_1``: ``ᾱ_T/(1-ᾱ_T)`` (``ρ_t = R_t = 1`` for every t).

    DDIM satisfies ``R_t = 1`` with ``σ_t = 0``, so ``ρ_t = R_t = 1``: the start-up mismatch is
    never contracted, ``v_1/(1-ᾱ_1) = v_T/(1-ᾱ_T) = 1/(1-ᾱ_T)``.
    """
    sched = design.schedule
    with mpmath.workdps(sched.dps):
        return float(sched.mp_alpha_bar()[-1] / sched.mp_one_minus_alpha_bar()[-1])


def posterior_start_up_error(design: CoefficientDesign) -> float:
    """Closed form of ``e_1`` for the DDPM-posterior design from ``N(0, I)``.

    With ``η_t = 1-α_t`` and ``R_t = 1``, ``ρ_t = (α_t-ᾱ_t)/(1-ᾱ_t) = α_t (1-ᾱ_{t-1})/(1-ᾱ_t)``
    telescopes: ``Π_{t=2}^T ρ_t = (ᾱ_T/α_1)(1-ᾱ_1)/(1-ᾱ_T)``, hence
    ``e_1 = ᾱ_T²(1-ᾱ_1)/(α_1 (1-ᾱ_T)²)`` — the floor ``ᾱ_T/(1-ᾱ_T)`` contracted by
    ``≈ ᾱ_T (1-ᾱ_1)``.
    """
    sched = design.schedule
    with mpmath.workdps(sched.dps):
        abar_t, q_t = sched.mp_alpha_bar()[-1], sched.mp_one_minus_alpha_bar()[-1]
        q_1, alpha_1 = sched.mp_one_minus_alpha_bar()[0], 1 - sched.mp_one_minus_alpha()[0]
        return float(abar_t * abar_t * q_1 / (alpha_1 * q_t * q_t))


def small_error_tv_coefficient(m: int) -> float:
    """``lim_{e→0} TV(N(0, I_m), N(0, (1+e) I_m)) / |e| = h^h e^{-h} / Γ(h)``, ``h = m/2``.

    The two laws' densities cross where the Gamma(h) variable ``‖y‖²/2`` is within ``O(e)`` of
    its mode ``h``, so the TV is ``|e| h`` times the Gamma(h) density at ``h``.  For large m this
    is ``sqrt(m/(4π))`` (Stirling); at m = 1 it is ``sqrt(1/(2πe)) ≈ 0.242`` (not 0.282).
    """
    dim = check_int("m", m, minimum=1)
    h = 0.5 * dim
    return math.exp(h * math.log(h) - h - math.lgamma(h))


def predicted_crossover(subspace_tv: float, relative_error: float, intrinsic_dim: int) -> float:
    """``d* = k + 4π (TV_k / e_1)²`` (small-``e_1`` formula); ``inf`` when ``e_1 = 0``.

    Parameters
    ----------
    subspace_tv : float
        ``TV_k > 0``, the error of the k-dimensional part.
    relative_error : float
        ``e_1``.
    intrinsic_dim : int
        k.
    """
    tv = check_real("subspace_tv", subspace_tv, lower=0.0, lower_open=True)
    err = check_real("relative_error", relative_error)
    k = check_int("intrinsic_dim", intrinsic_dim, minimum=1)
    if err == 0.0:
        return math.inf
    return k + 4.0 * math.pi * (tv / err) ** 2


def measured_crossover(subspace_tv: float, relative_error: Any, intrinsic_dim: int, *,
                       rtol: float = 1e-6) -> Estimate | None:
    """Solve ``tv_isotropic(d - k, e_1) = TV_k`` for ``d`` exactly (bisection in ``log d``).

    Parameters
    ----------
    subspace_tv : float
        ``TV_k`` in ``(0, 1)``.
    relative_error : float or mpf
        ``e_1``.
    intrinsic_dim : int
    rtol : float
        Relative width of the final bracket in ``d``.

    Returns
    -------
    Estimate or None
        ``d*`` (real-valued: the crossing of the exact TV as a function of ``m = d - k``
        interpolated in ``log m``), with ``stderr`` the bracket half-width; ``None`` when the
        orthogonal TV stays below ``TV_k`` up to :data:`MAX_CROSSOVER_DIM` (or ``e_1 = 0``).
    """
    tv = check_real("subspace_tv", subspace_tv, lower=0.0, upper=1.0, lower_open=True,
                    upper_open=True)
    k = check_int("intrinsic_dim", intrinsic_dim, minimum=1)
    check_real("rtol", rtol, lower=1e-12, upper=0.1)
    if float(relative_error) == 0.0:
        return None

    def excess(m: float) -> float:
        return tv_isotropic(max(1, round(m)), relative_error).value - tv

    lo, hi = 1.0, float(MAX_CROSSOVER_DIM - k)
    if excess(hi) < 0:
        return None
    if excess(lo) >= 0:
        return Estimate(value=float(k + 1), stderr=0.0, method="crossing below d = k + 1",
                        error_kind=ErrorKind.EXACT)
    while hi / lo > 1.0 + rtol and hi - lo > 1.0:
        mid = math.sqrt(lo * hi)
        if excess(mid) < 0:
            lo = mid
        else:
            hi = mid
    return Estimate(value=k + math.sqrt(lo * hi), stderr=0.5 * (hi - lo),
                    error_kind=ErrorKind.TOLERANCE,
                    method="bisection in log d of the exact chi-square TV (tv_isotropic) "
                           "against TV_k")


def interpolated_crossing(dims: Any, orthogonal_tv: Any, subspace_tv: float) -> float | None:
    """First ``d`` where a measured orthogonal TV curve reaches ``subspace_tv``.

    Parameters
    ----------
    dims : sequence of int, increasing
    orthogonal_tv : sequence of float, same length
        Measured orthogonal TV at each d.
    subspace_tv : float
        The level to cross (> 0).

    Returns
    -------
    float or None
        Linear interpolation in log-log between the bracketing points (exact for a power law);
        ``None`` when the curve stays below the level.
    """
    d_list, tv_list = [float(d) for d in dims], [float(v) for v in orthogonal_tv]
    if len(d_list) != len(tv_list) or len(d_list) < 2:
        raise InvalidParameterError(
            "`dims` and `orthogonal_tv` must have the same length >= 2 "
            f"(got {len(d_list)} and {len(tv_list)})")
    level = check_real("subspace_tv", subspace_tv, lower=0.0, lower_open=True)
    for i in range(1, len(d_list)):
        lo, hi = tv_list[i - 1], tv_list[i]
        if 0.0 < lo < level <= hi:
            x0, x1 = math.log(d_list[i - 1]), math.log(d_list[i])
            y0, y1 = math.log(lo), math.log(hi)
            return math.exp(x0 + (math.log(level) - y0) * (x1 - x0) / (y1 - y0))
    return None
