"""Exact TV of DDIM / DDPM outputs when the score carries a controlled error (claims STAB-*).

Setting (derivation)
--------------------
Data ``X_0 = 0`` (a point mass; a legitimate target of Theorem 1, which assumes nothing about
``p_data``) in R^d, so ``p_{X_t} = N(0, (1-ᾱ_t) I_d)`` and every coordinate is data-free — the
coordinates that carry the ambient dimension in THEORY §4-§5.  The score error acts along one
unit vector v (:mod:`theorycheck.score_errors`); by isotropy v can be any unit vector, and the
law of ``Y_1`` factorises into the coordinate ``⟨v, Y_1⟩`` and the ``d-1`` orthogonal ones,
which see the exact score ``-y/(1-ᾱ_t)``:

* ``⟨v, Y_1⟩`` (the *perturbed block*) follows the 1-d chain
  ``y ← (y + η_t(-y/(1-ᾱ_t) + e(y)) + σ_t Z)/sqrt(α_t)``.  For a constant offset ``e = a`` the
  chain is linear and Gaussian: mean ``m_{t-1} = ((1-η_t/(1-ᾱ_t)) m_t + η_t a)/sqrt(α_t)``,
  ``m_T = 0``, and the variance of :func:`theorycheck.split.orthogonal_variance`; its TV against
  ``N(0, 1-ᾱ_1)`` is :func:`~theorycheck.divergences.gaussian.tv_gaussian_1d` (exact).  For
  ``e = a sin(ωy)`` the density is propagated by the k = 1 grid quadrature
  (:func:`~theorycheck.divergences.grid.tv_kl_1d`, tolerance = two-resolution difference).
* the other ``d-1`` coordinates are ``N(0, v_1 I)`` against ``N(0, (1-ᾱ_1) I)``: exact
  :func:`~theorycheck.divergences.gaussian.tv_isotropic`.

The full-d TV of the product is bracketed by ``max(TV_v, TV_rest) ≤ TV ≤ TV_v + TV_rest``
(both bounds reported).  ``ΔTV = TV_v(e) - TV_v(0)`` is the increase caused by the score error
on its own block (the rest does not depend on the error).

DDPM bound.  For a stochastic design the two reverse chains (exact and perturbed score) have
Gaussian kernels with the same covariance ``σ_t²/α_t`` and means differing by
``η_t e_t(y)/sqrt(α_t)``, so the chain rule of KL gives exactly
``KL(path_exact ‖ path_perturbed) = Σ_{t=2..T} η_t²/(2σ_t²) E_{Y_t}[e_t(Y_t)²]`` with ``Y_t``
the exact chain, here ``N(0, v_t)`` (the exact variance recursion), and
``E sin²(ωY) = (1 - e^{-2ω²v_t})/2``.  Pinsker and the data-processing inequality then give
``TV(p_{X_1}, p_{Y_1}) ≤ TV_exact + sqrt(KL/2)``: a d-free bound in terms of the ℓ2 error only.

References
----------
.. [1] G. Li, Y. Wei, Y. Chi, Y. Chen, arXiv:2408.02320, Theorem 1 (seed talk
   ``001_eb8c0ca338f9e410.txt``).
.. [2] THEORY.md §4-§6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from theorycheck.designs import CoefficientDesign
from theorycheck.divergences.gaussian import tv_gaussian_1d, tv_isotropic
from theorycheck.divergences.grid import tv_kl_1d
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.schedules import Schedule
from theorycheck.score_errors import (
    ConstantOffset,
    ScoreErrorMeasures,
    SinePerturbation,
    score_error_measures,
    unit_direction,
)
from theorycheck.split import orthogonal_variance
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["PerturbedRun", "perturbed_run", "point_mass_target"]

FloatArray = NDArray[np.float64]

#: Grid tolerance asked of the k = 1 quadrature; a point whose tolerance ends above
#: 1 % of its ΔTV is reported unresolved by the claims.
_GRID_TOLERANCE = 1e-5
_GRID_MAX_POINTS = 2**14


def point_mass_target(ambient_dim: int) -> SubspaceGaussianMixture:
    """Data ``X_0 = 0`` in R^d (k = 1 frame, atom at 0): ``p_{X_t} = N(0, (1-ᾱ_t) I_d)``."""
    return SubspaceGaussianMixture.create([1.0], [[0.0]], [[[0.0]]], ambient_dim=ambient_dim)


@dataclass(frozen=True, kw_only=True)
class PerturbedRun:
    """TV of one design with one perturbation (see the module docstring).

    Attributes
    ----------
    tv_block, tv_block_exact_score : Estimate
        TV of the perturbed coordinate, with the error and with the exact score.
    delta_tv : Estimate
        ``tv_block - tv_block_exact_score``.
    measures : ScoreErrorMeasures
        ``ε_score``, ``ε_Jacobi`` of the perturbation (exact).
    orthogonal_relative_error : float
        ``v_1/(1-ᾱ_1) - 1`` of the data-free coordinates (exact, mpmath).
    ddpm_kl_bound : float or None
        ``sqrt(KL_path/2)`` for stochastic designs, ``None`` for deterministic ones.
    """

    tv_block: Estimate
    tv_block_exact_score: Estimate
    delta_tv: Estimate
    measures: ScoreErrorMeasures
    orthogonal_relative_error: float
    ddpm_kl_bound: float | None

    def full_tv_bounds(self, ambient_dim: int) -> tuple[Estimate, Estimate]:
        """``(max(TV_v, TV_rest), TV_v + TV_rest)`` in R^d, ``d ≥ 2``."""
        if ambient_dim < 2:
            raise InvalidParameterError(f"`ambient_dim` must be >= 2 (got {ambient_dim})")
        rest = tv_isotropic(ambient_dim - 1, self.orthogonal_relative_error)
        lo = max(self.tv_block.value, rest.value)
        method = "product bound over the perturbed coordinate and d-1 exact Gaussian ones"
        err = self.tv_block.stderr + rest.stderr
        return (Estimate(value=lo, stderr=err, method="lower " + method,
                         error_kind=ErrorKind.TOLERANCE),
                Estimate(value=min(self.tv_block.value + rest.value, 1.0), stderr=err,
                         method="upper " + method, error_kind=ErrorKind.TOLERANCE))


def _offset_block_tv(design: CoefficientDesign, amplitude: float, final_variance: float
                     ) -> Estimate:
    sched = design.schedule
    q, eta, alpha = sched.one_minus_alpha_bar, design.eta, sched.alpha
    mean = 0.0
    for t in range(sched.num_steps, 1, -1):
        mean = ((1.0 - eta[t - 1] / q[t - 1]) * mean + eta[t - 1] * amplitude) / math.sqrt(
            alpha[t - 1])
    return tv_gaussian_1d(0.0, float(q[0]), mean, final_variance)


def _sine_block_tv(design: CoefficientDesign, pert: SinePerturbation) -> Estimate:
    sched = design.schedule
    q = sched.one_minus_alpha_bar
    a, omega = pert.amplitude, pert.frequency

    def score(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = -y / q[t - 1] + a * np.sin(omega * y)
        return out

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = -1.0 / q[t - 1] + a * omega * np.cos(omega * y)
        return out

    def log_density(y: FloatArray) -> FloatArray:
        out: FloatArray = -0.5 * y * y / q[0] - 0.5 * math.log(2.0 * math.pi * q[0])
        return out

    return tv_kl_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma, score=score,
                    score_derivative=score_derivative, target_log_density=log_density,
                    max_tolerance=_GRID_TOLERANCE, max_num_points=_GRID_MAX_POINTS)["tv"]


def _chain_variances(design: CoefficientDesign) -> FloatArray:
    """``v_t`` of a data-free coordinate under the exact score, t = 1..T (float64)."""
    sched = design.schedule
    q, eta, alpha = sched.one_minus_alpha_bar, design.eta, sched.alpha
    v = np.empty(sched.num_steps)
    v[-1] = 1.0
    for t in range(sched.num_steps, 1, -1):
        factor = 1.0 - eta[t - 1] / q[t - 1]
        v[t - 2] = (factor * factor * v[t - 1] + design.sigma_sq[t - 1]) / alpha[t - 1]
    return v


def _ddpm_bound(design: CoefficientDesign, pert: ConstantOffset | SinePerturbation) -> float:
    v = _chain_variances(design)
    total = 0.0
    for t in range(2, design.num_steps + 1):
        if isinstance(pert, ConstantOffset):
            mean_sq = pert.amplitude ** 2
        else:
            mean_sq = pert.amplitude ** 2 * 0.5 * -math.expm1(-2.0 * pert.frequency ** 2
                                                              * v[t - 1])
        total += design.eta[t - 1] ** 2 / (2.0 * design.sigma_sq[t - 1]) * mean_sq
    return math.sqrt(0.5 * total)


def perturbed_run(design: CoefficientDesign, *, amplitude: float,
                  frequency: float | None = None) -> PerturbedRun:
    """TV of ``design`` on the point-mass target with an offset (``frequency=None``) or a sine.

    Parameters
    ----------
    design : CoefficientDesign
    amplitude : float
        ``a`` (offset: any finite value; sine: ``≥ 0``).
    frequency : float, optional
        ``ω > 0`` for ``a sin(ω⟨v,x⟩) v``; ``None`` for the constant offset ``a v``.

    Returns
    -------
    PerturbedRun
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    sched: Schedule = design.schedule
    direction = unit_direction([0.0, 1.0])  # v ⟂ U = e_1; d-independent by isotropy
    target = point_mass_target(2)
    orth = orthogonal_variance(design)
    baseline = _offset_block_tv(design, 0.0, orth.final_variance)
    pert: ConstantOffset | SinePerturbation
    if frequency is None:
        pert = ConstantOffset(direction=direction, amplitude=amplitude)
        block = _offset_block_tv(design, pert.amplitude, orth.final_variance)
    else:
        pert = SinePerturbation(direction=direction, amplitude=amplitude, frequency=frequency)
        block = _sine_block_tv(design, pert)
    delta = Estimate(value=block.value - baseline.value, stderr=block.stderr + baseline.stderr,
                     method=f"{block.method} minus the exact-score value", error_kind=(
                         ErrorKind.EXACT if block.error_kind is ErrorKind.EXACT
                         and baseline.error_kind is ErrorKind.EXACT else ErrorKind.TOLERANCE))
    kl_bound = None if design.is_deterministic else _ddpm_bound(design, pert)
    return PerturbedRun(tv_block=block, tv_block_exact_score=baseline, delta_tv=delta,
                        measures=score_error_measures(pert, target, sched),
                        orthogonal_relative_error=orth.relative_error, ddpm_kl_bound=kl_bound)
