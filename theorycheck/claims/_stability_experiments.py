"""Exact TV of DDIM / DDPM outputs when the score carries a controlled error (claims STAB-*).

Setting (derivation)
--------------------
Data ``X_0 = 0`` (a point mass; a legitimate target of that theorem, which assumes nothing about
``p_data``) in R^d, so ``p_{X_t} = N(0, (1-ᾱ_t) I_d)`` and every coordinate is data-free — the
coordinates that carry the ambient dimension in docs/theory.md §4-§5.  The score error acts along one
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

*Data on the subspace* (``data`` given): ``X_0 = U Z`` with Z a 1-d Gaussian mixture, the error
acts along ``v = U`` (the data direction).  ``⟨v, Y_1⟩`` is then a nonlinear 1-d chain with
the mixture's exact score plus the error; both the offset and the sine go through the grid
quadrature, the exact-score chain on the same grid.  The other ``d-1`` coordinates are
data-free as before.

The full-d TV of the product is bracketed by ``max(TV_v, TV_rest) ≤ TV ≤ TV_v + TV_rest``
(both bounds reported).  The score error's own effect is
``TV(p_{Y_1}^{s*}, p_{Y_1}^{s*+e})``, the distance between the outputs with and without it
(the same in R^d: the other coordinates are unaffected).  By the triangle inequality it is
what the ε-terms of the theorem must bound; unlike the difference
``TV(p_{X_1}, p_{Y_1}^{s*+e}) - TV(p_{X_1}, p_{Y_1}^{s*})`` it does not mix the error with
the discretisation error (that difference is not even monotone: a shift can *reduce* the TV
of a law that is already off — measured: DDPM, data direction, ω = 1).  Offsets on data-free
coordinates: both chains are Gaussian with the same variance, ``effect = erf(|m_1|/(2 sqrt(2 v_1)))`` exactly.

DDPM bound.  For a stochastic design the two reverse chains (exact and perturbed score) have
Gaussian kernels with the same covariance ``σ_t²/α_t`` and means differing by
``η_t e_t(y)/sqrt(α_t)``, so the chain rule of KL gives exactly
``KL(path_exact ‖ path_perturbed) = Σ_{t=2..T} η_t²/(2σ_t²) E_{Y_t}[e_t(Y_t)²]`` with ``Y_t``
the exact chain, here ``N(0, v_t)`` (the exact variance recursion), and
``E sin²(ωY) = (1 - e^{-2ω²v_t})/2``.  Pinsker and the data-processing inequality then give
``TV(p_{X_1}, p_{Y_1}) ≤ TV_exact + sqrt(KL/2)``: a d-free bound in terms of the ℓ2 error only.
With mixture data the law of the exact chain is not closed form, and ``sin² ≤ 1`` is used
instead (still a rigorous bound, looser).

References
----------
.. [1] G. Li, Y. Wei, Y. Chi, Y. Chen, arXiv:2408.02320, main theorem (docs/theory.md#stab-ddim).
.. [2] docs/theory.md §4-§6.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences.gaussian import tv_gaussian_1d, tv_isotropic
from theorycheck.divergences.grid import (
    GridDensity,
    grid_divergences,
    propagate_density_1d,
    suggest_grid_1d,
)
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
ScoreFn = Callable[[int, FloatArray], FloatArray]



@dataclass(frozen=True, kw_only=True, eq=False)
class _BlockLaw:
    """The 1-d law of ``⟨v, X_t⟩``: its score, score derivative and log density at t = 1."""

    score: Callable[[int, FloatArray], FloatArray]
    score_derivative: Callable[[int, FloatArray], FloatArray]
    log_density: Callable[[FloatArray], FloatArray]


def _gaussian_block(sched: Schedule) -> _BlockLaw:
    q = sched.one_minus_alpha_bar

    def score(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = -y / q[t - 1]
        return out

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = np.full(y.shape, -1.0 / q[t - 1])
        return out

    def log_density(y: FloatArray) -> FloatArray:
        out: FloatArray = -0.5 * y * y / q[0] - 0.5 * math.log(2.0 * math.pi * q[0])
        return out

    return _BlockLaw(score=score, score_derivative=score_derivative, log_density=log_density)


def _mixture_block(factor: SubspaceGaussianMixture, sched: Schedule) -> _BlockLaw:
    ab, q = sched.alpha_bar, sched.one_minus_alpha_bar

    def score(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = factor.score(y[:, None], alpha_bar=float(ab[t - 1]),
                                       one_minus_alpha_bar=float(q[t - 1]))[:, 0]
        return out

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        out: FloatArray = factor.score_jacobian(y[:, None], alpha_bar=float(ab[t - 1]),
                                                one_minus_alpha_bar=float(q[t - 1]))[:, 0, 0]
        return out

    def log_density(y: FloatArray) -> FloatArray:
        out: FloatArray = factor.log_density(y[:, None], alpha_bar=float(ab[0]),
                                             one_minus_alpha_bar=float(q[0]))
        return out

    return _BlockLaw(score=score, score_derivative=score_derivative, log_density=log_density)


def point_mass_target(ambient_dim: int) -> SubspaceGaussianMixture:
    """Data ``X_0 = 0`` in R^d (k = 1 frame, atom at 0): ``p_{X_t} = N(0, (1-ᾱ_t) I_d)``."""
    return SubspaceGaussianMixture.create([1.0], [[0.0]], [[[0.0]]], ambient_dim=ambient_dim)


@dataclass(frozen=True, kw_only=True)
class PerturbedRun:
    """TV of one design with one perturbation (see the module docstring).

    Attributes
    ----------
    tv_block, tv_block_exact_score : Estimate
        ``TV(p_{X_1}, p_{Y_1})`` of the perturbed coordinate, with the error and with the exact
        score (the theorem's quantity).
    effect_tv : Estimate
        ``TV(p_{Y_1}^{exact score}, p_{Y_1}^{perturbed})``: what the score error alone does
        to the output (the other coordinates are unaffected, so this is also the full-d value).
    measures : ScoreErrorMeasures
        ``ε_score``, ``ε_Jacobi`` of the perturbation (exact).
    orthogonal_relative_error : float
        ``v_1/(1-ᾱ_1) - 1`` of the data-free coordinates (exact, mpmath).
    ddpm_kl_bound : float or None
        ``sqrt(KL_path/2)`` for stochastic designs, ``None`` for deterministic ones.
    amplitude : float
        ``a`` of the perturbation.
    frequency : float or None
        ``ω`` of a sine, ``None`` for an offset.
    """

    tv_block: Estimate
    tv_block_exact_score: Estimate
    effect_tv: Estimate
    measures: ScoreErrorMeasures
    orthogonal_relative_error: float
    ddpm_kl_bound: float | None
    amplitude: float
    frequency: float | None

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


def _offset_mean(design: CoefficientDesign, amplitude: float) -> float:
    """``m_1`` of the data-free chain with the score ``-y/(1-ᾱ_t) + a`` (float64 recursion)."""
    sched = design.schedule
    q, eta, alpha = sched.one_minus_alpha_bar, design.eta, sched.alpha
    mean = 0.0
    for t in range(sched.num_steps, 1, -1):
        mean = ((1.0 - eta[t - 1] / q[t - 1]) * mean + eta[t - 1] * amplitude) / math.sqrt(
            alpha[t - 1])
    return mean


def _paired_grid_tv(design: CoefficientDesign, law: _BlockLaw,
                    pert: ConstantOffset | SinePerturbation,
                    exact_chains: dict[tuple[Any, ...], GridDensity] | None,
                    law_key: Any, max_num_points: int) -> tuple[Estimate, Estimate, Estimate]:
    """Grid TVs of the 1-d chains with scores ``law`` and ``law + pert`` on one grid.

    Returns ``(effect, tv_perturbed, tv_exact)``: ``TV(Y_1^{exact}, Y_1^{perturbed}) =
    ½ Σ_j |M'_j - M_j|`` from the cell masses, and both chains' TV against ``p_{X_1}``.  The grid
    is refined (n → 2n) until two resolutions agree to ``max(1e-6, 3e-3·effect)`` (the claims
    need 1 %) or the cap is reached; the tolerance is the last difference plus the mass
    defects.  Grid sizes are the suggested ``n_0`` times powers of two, so the exact-score chain
    of a given size is computed once per ``exact_chains`` cache (keyed by design, law, grid).
    """
    sched = design.schedule

    def score(t: int, y: FloatArray) -> FloatArray:
        return law.score(t, y) + pert.along(y)

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        return law.score_derivative(t, y) + pert.along_derivative(y)

    span, n = suggest_grid_1d(score=law.score, score_derivative=law.score_derivative,
                              target_log_density=law.log_density, points_per_scale=8.0,
                              max_num_points=max_num_points // 2)
    if isinstance(pert, SinePerturbation):
        # At least 16 cells per period of the perturbation (n_0 times a power of two).
        need = (span[1] - span[0]) * pert.frequency * 16 / (2 * math.pi)
        while n < need and 2 * n <= max_num_points // 2:
            n *= 2
    cache: dict[tuple[Any, ...], GridDensity] = {} if exact_chains is None else exact_chains

    def chain(sc: ScoreFn, dsc: ScoreFn, cells: int) -> GridDensity:
        return propagate_density_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma,
                                    score=sc, score_derivative=dsc, span=span, num_points=cells)

    def run(cells: int) -> tuple[float, Estimate, Estimate, float]:
        key = (id(design), law_key, span, cells)
        if key not in cache:
            cache[key] = chain(law.score, law.score_derivative, cells)
        models = [cache[key], chain(score, score_derivative, cells)]
        effect = 0.5 * float(np.sum(np.abs(models[1].cell_masses - models[0].cell_masses)))
        return (effect,
                grid_divergences(model=models[1], target_log_density=law.log_density)["tv"],
                grid_divergences(model=models[0], target_log_density=law.log_density)["tv"],
                models[0].mass_defect + models[1].mass_defect)

    coarse = run(n)
    while True:
        fine = run(2 * n)
        tol = abs(fine[0] - coarse[0]) + fine[3]
        if tol <= max(1e-6, 3e-3 * fine[0]) or 4 * n > max_num_points:
            break
        coarse, n = fine, 2 * n
    method = (f"k = 1 grid quadrature, exact and perturbed chains on one grid (n = {2 * n}); "
              f"tolerance |n={2 * n} - n={n}|")
    effect = Estimate(value=fine[0], stderr=tol, method="½Σ|ΔM_j| over cell masses; " + method,
                      error_kind=ErrorKind.TOLERANCE)
    perturbed, exact = (Estimate(value=f.value, stderr=abs(f.value - c.value) + f.stderr,
                                 method=method, error_kind=ErrorKind.TOLERANCE)
                        for f, c in ((fine[1], coarse[1]), (fine[2], coarse[2])))
    return effect, perturbed, exact


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


def _ddpm_bound(design: CoefficientDesign, pert: ConstantOffset | SinePerturbation,
                data_free: bool) -> float:
    v = _chain_variances(design)
    total = 0.0
    for t in range(2, design.num_steps + 1):
        if isinstance(pert, ConstantOffset):
            mean_sq = pert.amplitude ** 2
        elif not data_free:
            mean_sq = pert.amplitude ** 2  # sin² ≤ 1: the exact chain's law is not closed form
        else:
            mean_sq = pert.amplitude ** 2 * 0.5 * -math.expm1(-2.0 * pert.frequency ** 2
                                                              * v[t - 1])
        total += design.eta[t - 1] ** 2 / (2.0 * design.sigma_sq[t - 1]) * mean_sq
    return math.sqrt(0.5 * total)


def perturbed_run(design: CoefficientDesign, *, amplitude: float,
                  frequency: float | None = None,
                  data: SubspaceGaussianMixture | None = None,
                  exact_chains: dict[tuple[Any, ...], GridDensity] | None = None,
                  max_num_points: int = 2**14) -> PerturbedRun:
    """TV of ``design`` with an offset (``frequency=None``) or a sine along one direction.

    Parameters
    ----------
    design : CoefficientDesign
    amplitude : float
        ``a ≥ 0``, finite.
    frequency : float, optional
        ``ω > 0`` for ``a sin(ω⟨v,x⟩) v``; ``None`` for the constant offset ``a v``.
    data : SubspaceGaussianMixture, optional
        A one-dimensional mixture (k = d = 1): data ``U Z`` and the error along U.  ``None``:
        data ``X_0 = 0`` and the error along a data-free direction.
    exact_chains : dict, optional
        Cache of exact-score grid densities, shared by the runs of one check (a plain local
        dict; the caller owns it, nothing is global).  Its keys hold ``id(design)``, so the
        designs must stay alive while the cache is used.
    max_num_points : int, optional
        Refinement cap of the grid (cells), ``≥ 64``; a point that reaches it keeps its larger
        tolerance (the claims then call it unresolved).

    Returns
    -------
    PerturbedRun
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    sched: Schedule = design.schedule
    cap = check_int("max_num_points", max_num_points, minimum=64)
    if data is None:
        direction = unit_direction([0.0, 1.0])  # v ⟂ U = e_1; d-independent by isotropy
        target = point_mass_target(2)
    else:
        if not (isinstance(data, SubspaceGaussianMixture) and data.ambient_dim == 1):
            raise InvalidParameterError(
                "`data` must be a one-dimensional SubspaceGaussianMixture (k = d = 1)")
        direction = unit_direction([1.0, 0.0])  # v = U = e_1, the data direction
        target = SubspaceGaussianMixture.create(data.weights, data.means, data.covariances,
                                                ambient_dim=2)
    orth = orthogonal_variance(design)
    pert: ConstantOffset | SinePerturbation
    if frequency is None:
        pert = ConstantOffset(direction=direction, amplitude=amplitude)
    else:
        pert = SinePerturbation(direction=direction, amplitude=amplitude, frequency=frequency)
    if data is None and frequency is None:
        mean = _offset_mean(design, pert.amplitude)
        q1, v1 = float(sched.one_minus_alpha_bar[0]), orth.final_variance
        baseline = tv_gaussian_1d(0.0, q1, 0.0, v1)
        block = tv_gaussian_1d(0.0, q1, mean, v1)
        effect = Estimate(value=math.erf(abs(mean) / (2.0 * math.sqrt(2.0 * v1))), stderr=0.0,
                          method="exact: two Gaussians of equal variance, erf(|Δm|/(2√2 σ))")
    else:
        law = _gaussian_block(sched) if data is None else _mixture_block(data, sched)
        law_key = None if data is None else id(data)
        effect, block, baseline = _paired_grid_tv(design, law, pert, exact_chains, law_key,
                                                  cap)
    kl_bound = None if design.is_deterministic else _ddpm_bound(design, pert, data is None)
    return PerturbedRun(tv_block=block, tv_block_exact_score=baseline, effect_tv=effect,
                        measures=score_error_measures(pert, target, sched),
                        orthogonal_relative_error=orth.relative_error, ddpm_kl_bound=kl_bound,
                        amplitude=pert.amplitude, frequency=frequency)
