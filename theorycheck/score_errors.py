"""Controlled score errors and the error measures ε_score, ε_Jacobi of Li, Wei, Chi & Chen (arXiv:2408.02320).

A *perturbation* ``e_t(x)`` is added to an exact score, ``s_t = s*_t + e_t`` (use
:class:`theorycheck.scores.PerturbedScore`).  Two kinds separate the two error measures:

* :class:`ConstantOffset` ``e_t(x) = a·v``: ``ε_score = |a|`` exactly and **no Jacobian error**
  (``ε_Jacobi = 0``);
* :class:`SinePerturbation` ``e_t(x) = a·sin(ω⟨v, x⟩)·v``: smooth, with Jacobian
  ``a ω cos(ω⟨v, x⟩) v vᵀ``; choosing ``a`` by :func:`sine_amplitude_for_eps_score` keeps
  ``ε_score`` fixed while ``ε_Jacobi ≈ (2/π) a ω`` grows with ω — the ℓ2-small but rough error
  of the DDIM counterexample discussed by Li, Wei, Chi & Chen.

``v`` is a unit vector, in the data's subspace or orthogonal to it (or anything in between).

Error measures (main theorem of Li, Wei, Chi & Chen, arXiv:2408.02320; docs/theory.md#stab-ddim)::

    ε_score² = (1/T) Σ_{t=1..T} E_{X~p_{X_t}} ‖s_t(X) - s*_t(X)‖²,
    ε_Jacobi = (1/T) Σ_{t=1..T} E_{X~p_{X_t}} ‖∂s_t/∂x(X) - ∂s*_t/∂x(X)‖.

The statement we read does not name the matrix norm; every perturbation here has a rank-one Jacobian error
``c(x) v vᵀ`` whose operator, Frobenius and nuclear norms all equal ``|c(x)|``, so the choice
does not matter.  The average runs over ``t = 1..T`` as in that definition, although the
sampler of docs/theory.md §1 only evaluates ``s_2 .. s_T``.

Exact evaluation (:func:`score_error_measures`).  For a target ``X_0 = U Z`` with ``Z`` a
Gaussian mixture (:class:`~theorycheck.targets.SubspaceGaussianMixture`), ``W_t = ⟨v, X_t⟩``
is a one-dimensional mixture, component j ``N(m_j, c_j)`` with ``b = Uᵀv``,
``m_j = sqrt(ᾱ_t) bᵀμ_j`` and ``c_j = ᾱ_t bᵀΣ_j b + (1-ᾱ_t)`` (``‖v‖ = 1``).  Then

* ``E sin²(ωW) = (1 - Σ_j w_j cos(2ω m_j) e^{-2ω² c_j}) / 2`` (closed form);
* ``E|cos(ωW)| = 2/π + (4/π) Σ_{n≥1} (-1)^{n+1}/(4n²-1) · Σ_j w_j cos(2nω m_j) e^{-2n²ω² c_j}``
  (the Fourier series of ``|cos|``).  The series is summed until the Gaussian factor
  ``e^{-2N²ω² c_min}`` drops below 1e-17 (or to N = 10^5); since
  ``Σ_{n>N} 1/(4n²-1) = 1/(2(2N+1))``, the remaining terms are bounded by
  ``(2/π) e^{-2N²ω² c_min}/(2N+1)`` (by ``2/(π(2N+1))`` without the factor), which is the
  reported ``stderr`` (kind TOLERANCE).

:func:`score_error_measures_mc` is the Monte Carlo version (any target with ``sample_noisy``),
with standard errors, used as an independent check.

References
----------
.. [1] G. Li, Y. Wei, Y. Chi, Y. Chen, "A sharp convergence theory for the probability flow
   ODEs of diffusion models", arXiv:2408.02320, main theorem (docs/theory.md#stab-ddim).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._validation import check_finite_array, check_int, check_real, check_rng
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.schedules import Schedule
from theorycheck.targets import SubspaceGaussianMixture

__all__ = [
    "ConstantOffset",
    "SinePerturbation",
    "ScoreErrorMeasures",
    "score_error_measures",
    "score_error_measures_mc",
    "sine_amplitude_for_eps_score",
    "unit_direction",
]

FloatArray = NDArray[np.float64]

#: A direction must have unit norm to this relative accuracy (it is normalised by the caller
#: with :func:`unit_direction`; 1e-12 accepts float64 rounding of a normalisation).
UNIT_NORM_TOL = 1e-12
#: Terms of the |cos| Fourier series summed (tail bound 2/(π(2N+1)) ≈ 6e-6 before damping).
_COS_SERIES_TERMS = 100_000


def unit_direction(vector: ArrayLike) -> FloatArray:
    """``vector / ‖vector‖`` as a read-only float64 array, shape (d,); zero vectors are errors."""
    v = check_finite_array("direction", vector, ndim=1)
    norm = float(np.linalg.norm(v))
    if v.size == 0 or norm == 0.0:
        raise InvalidParameterError(f"`direction` must be a non-zero vector (got norm {norm})")
    out = v / norm
    out.flags.writeable = False
    return out


def _check_direction(direction: Any) -> FloatArray:
    v = check_finite_array("direction", direction, ndim=1)
    norm = float(np.linalg.norm(v)) if v.size else 0.0
    if abs(norm - 1.0) > UNIT_NORM_TOL:
        raise InvalidParameterError(
            f"`direction` must have unit norm within {UNIT_NORM_TOL:g} (got norm {norm!r}); "
            "use unit_direction()")
    v = v.copy()
    v.flags.writeable = False
    return v


def _check_points(x: Any, dim: int) -> FloatArray:
    arr = check_finite_array("x", x, ndim=2)
    if arr.shape[1] != dim:
        raise InvalidParameterError(f"`x` must have shape (n, {dim}) (got {arr.shape})")
    return arr


@dataclass(frozen=True, kw_only=True, eq=False)
class ConstantOffset:
    """``e_t(x) = a·v`` for every t: an ℓ2 error of size ``|a|`` with no Jacobian error.

    Parameters
    ----------
    direction : ndarray, shape (d,)
        Unit vector v.
    amplitude : float
        ``a ≥ 0``, finite (the size of the error; its sign is the direction's).
    """

    direction: FloatArray
    amplitude: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", _check_direction(self.direction))
        object.__setattr__(self, "amplitude", check_real("amplitude", self.amplitude, lower=0.0))

    def __call__(self, x: FloatArray, t: int) -> FloatArray:
        """``e_t(x)``, shape (n, d), for ``x`` of shape (n, d)."""
        arr = _check_points(x, self.direction.size)
        return np.broadcast_to(self.amplitude * self.direction, arr.shape).copy()

    def along(self, w: FloatArray) -> FloatArray:
        """``⟨v, e_t⟩`` as a function of ``w = ⟨v, x⟩``, shape (n,)."""
        return np.full(np.shape(w), self.amplitude)

    def along_derivative(self, w: FloatArray) -> FloatArray:
        """``d⟨v, e_t⟩/dw`` (zero), shape (n,)."""
        return np.zeros(np.shape(w))

    def jacobian_scale(self, w: FloatArray) -> FloatArray:
        """``c(x)`` of the rank-one Jacobian error ``c(x) v vᵀ`` (zero), shape (n,)."""
        return np.zeros(np.shape(w))


@dataclass(frozen=True, kw_only=True, eq=False)
class SinePerturbation:
    """``e_t(x) = a·sin(ω⟨v, x⟩)·v`` for every t: smooth, Jacobian error ``aω cos(ω⟨v,x⟩) v vᵀ``.

    Parameters
    ----------
    direction : ndarray, shape (d,)
        Unit vector v.
    amplitude : float
        ``a ≥ 0``, finite.
    frequency : float
        ``ω > 0``, finite.
    """

    direction: FloatArray
    amplitude: float
    frequency: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", _check_direction(self.direction))
        object.__setattr__(self, "amplitude", check_real("amplitude", self.amplitude, lower=0.0))
        object.__setattr__(self, "frequency", check_real("frequency", self.frequency, lower=0.0,
                                                         lower_open=True))

    def __call__(self, x: FloatArray, t: int) -> FloatArray:
        """``e_t(x)``, shape (n, d), for ``x`` of shape (n, d)."""
        arr = _check_points(x, self.direction.size)
        return self.along(arr @ self.direction)[:, None] * self.direction[None, :]

    def along(self, w: FloatArray) -> FloatArray:
        """``a sin(ω w)``, shape (n,)."""
        return self.amplitude * np.sin(self.frequency * np.asarray(w, dtype=np.float64))

    def along_derivative(self, w: FloatArray) -> FloatArray:
        """``a ω cos(ω w)``, shape (n,)."""
        return self.amplitude * self.frequency * np.cos(
            self.frequency * np.asarray(w, dtype=np.float64))

    def jacobian_scale(self, w: FloatArray) -> FloatArray:
        """``c(x) = aω cos(ω⟨v,x⟩)`` of the rank-one Jacobian error ``c(x) v vᵀ``, shape (n,)."""
        return self.along_derivative(w)


Perturbation = ConstantOffset | SinePerturbation


@dataclass(frozen=True, kw_only=True)
class ScoreErrorMeasures:
    """``ε_score`` and ``ε_Jacobi`` of a perturbation (Li, Wei, Chi & Chen, arXiv:2408.02320).

    Attributes
    ----------
    eps_score, eps_jacobi : Estimate
        Exact / quadrature values (stderr = tolerance) or Monte Carlo (stderr = one sigma).
    per_step_score_sq, per_step_jacobi : ndarray, shape (T,)
        ``E‖e_t(X_t)‖²`` and ``E‖∇e_t(X_t)‖`` for ``t = 1..T``.
    """

    eps_score: Estimate
    eps_jacobi: Estimate
    per_step_score_sq: FloatArray
    per_step_jacobi: FloatArray

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the per-step arrays are left out)."""
        return {"eps_score": self.eps_score.to_dict(), "eps_jacobi": self.eps_jacobi.to_dict()}


def _projected_mixture(target: SubspaceGaussianMixture, direction: FloatArray,
                       schedule: Schedule) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weights (m,), means (T, m), variances (T, m) of ``⟨v, X_t⟩`` for t = 1..T."""
    if target.ambient_dim != direction.size:
        raise InvalidParameterError(
            f"`direction` must have length d = {target.ambient_dim} (got {direction.size})")
    b = target.to_subspace(direction[None, :])[0]          # Uᵀv, shape (k,)
    mean0 = target.means @ b                               # bᵀμ_j
    var0 = np.einsum("i,jik,k->j", b, target.covariances, b)
    ab, q = schedule.alpha_bar[:, None], schedule.one_minus_alpha_bar[:, None]
    # ‖v‖ = 1: the noise along v has variance 1-ᾱ_t whatever part of v lies in the subspace.
    return target.weights, np.sqrt(ab) * mean0[None, :], ab * var0[None, :] + q


def _mean_cos(weights: FloatArray, means: FloatArray, variances: FloatArray,
              freq: float) -> FloatArray:
    """``E cos(freq·W)`` per row for the mixture rows ``(means, variances)``, shape (T,)."""
    out: FloatArray = np.sum(weights * np.cos(freq * means)
                             * np.exp(-0.5 * freq * freq * variances), axis=1)
    return out


def _mean_abs_cos(weights: FloatArray, means: FloatArray, variances: FloatArray,
                  freq: float) -> tuple[FloatArray, float]:
    """``E|cos(freq·W)|`` per row by the Fourier series of |cos|; returns (values, tail bound)."""
    total = np.full(means.shape[0], 2.0 / math.pi)
    c_min = float(np.min(variances))
    tail = 2.0 / (math.pi * (2 * _COS_SERIES_TERMS + 1))
    for n in range(1, _COS_SERIES_TERMS + 1):
        damp = math.exp(-2.0 * n * n * freq * freq * c_min)
        coef = (4.0 / math.pi) * (-1.0) ** (n + 1) / (4.0 * n * n - 1.0)
        total += coef * _mean_cos(weights, means, variances, 2.0 * n * freq)
        if damp < 1e-17:
            # Term m > n is below (4/π) e^{-2n²ω²c_min}/(4m²-1); Σ_{m>n} 1/(4m²-1) = 1/(2(2n+1)).
            tail = (2.0 / math.pi) * damp / (2 * n + 1)
            break
    return total, tail


def score_error_measures(perturbation: Perturbation, target: SubspaceGaussianMixture,
                         schedule: Schedule) -> ScoreErrorMeasures:
    """Exact ``ε_score`` and ``ε_Jacobi`` of ``perturbation`` under the target's noisy laws.

    Parameters
    ----------
    perturbation : ConstantOffset or SinePerturbation
    target : SubspaceGaussianMixture
        ``X_0 = U Z``; its ambient dimension must match the perturbation's direction.
    schedule : Schedule
        Supplies ``ᾱ_t``, ``1-ᾱ_t`` for t = 1..T.

    Returns
    -------
    ScoreErrorMeasures
        ``eps_score`` is exact (closed form; EXACT); ``eps_jacobi`` is exact for offsets and
        a truncated Fourier series with a rigorous tail bound (TOLERANCE) for sines.

    Notes
    -----
    See the module docstring for the formulas.
    """
    if not isinstance(target, SubspaceGaussianMixture):
        raise InvalidParameterError(
            f"`target` must be a SubspaceGaussianMixture (got {type(target).__name__})")
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a Schedule (got {type(schedule).__name__})")
    num_steps = schedule.num_steps
    if isinstance(perturbation, ConstantOffset):
        _projected_mixture(target, perturbation.direction, schedule)  # validates d
        a = perturbation.amplitude
        score_sq, jac = np.full(num_steps, a * a), np.zeros(num_steps)
        method = "exact: constant offset, ‖e‖ = |a|, ∇e = 0"
        return ScoreErrorMeasures(
            eps_score=Estimate(value=a, stderr=0.0, method=method),
            eps_jacobi=Estimate(value=0.0, stderr=0.0, method=method),
            per_step_score_sq=score_sq, per_step_jacobi=jac)
    if not isinstance(perturbation, SinePerturbation):
        raise InvalidParameterError("`perturbation` must be a ConstantOffset or "
                                    f"SinePerturbation (got {type(perturbation).__name__})")
    w, means, variances = _projected_mixture(target, perturbation.direction, schedule)
    a, omega = perturbation.amplitude, perturbation.frequency
    sin_sq = 0.5 * (1.0 - _mean_cos(w, means, variances, 2.0 * omega))
    abs_cos, tail = _mean_abs_cos(w, means, variances, omega)
    score_sq, jac = a * a * sin_sq, a * omega * abs_cos
    eps_score = math.sqrt(max(float(np.mean(score_sq)), 0.0))
    return ScoreErrorMeasures(
        eps_score=Estimate(value=eps_score, stderr=0.0,
                           method="exact: E sin²(ωW) = (1 - Σ w_j cos(2ωm_j) e^{-2ω²c_j})/2"),
        eps_jacobi=Estimate(value=float(np.mean(jac)), stderr=a * omega * tail,
                            error_kind=ErrorKind.TOLERANCE,
                            method="Fourier series of |cos| under the Gaussian mixture law of "
                                   "⟨v, X_t⟩, truncated with a rigorous tail bound"),
        per_step_score_sq=score_sq, per_step_jacobi=jac)


def score_error_measures_mc(perturbation: Perturbation, target: Any, schedule: Schedule, *,
                            rng: np.random.Generator, num_samples: int) -> ScoreErrorMeasures:
    """Monte Carlo ``ε_score`` and ``ε_Jacobi``: ``num_samples`` draws of ``X_t`` per step.

    Parameters
    ----------
    perturbation : ConstantOffset or SinePerturbation
    target : object
        Any target with ``sample_noisy(n, *, alpha_bar, one_minus_alpha_bar, rng)``.
    schedule : Schedule
    rng : numpy.random.Generator
    num_samples : int
        ``n ≥ 2`` per step.

    Returns
    -------
    ScoreErrorMeasures
        Kind STDERR.  ``ε_score``'s error is the delta method ``se(ε²)/(2ε)``.
    """
    check_rng("rng", rng)
    n = check_int("num_samples", num_samples, minimum=2)
    if not isinstance(perturbation, ConstantOffset | SinePerturbation):
        raise InvalidParameterError("`perturbation` must be a ConstantOffset or "
                                    f"SinePerturbation (got {type(perturbation).__name__})")
    v = perturbation.direction
    num_steps = schedule.num_steps
    score_sq, jac = np.empty(num_steps), np.empty(num_steps)
    var_sq, var_jac = np.empty(num_steps), np.empty(num_steps)
    for t in range(1, num_steps + 1):
        x = target.sample_noisy(n, alpha_bar=float(schedule.alpha_bar[t - 1]),
                                one_minus_alpha_bar=float(schedule.one_minus_alpha_bar[t - 1]),
                                rng=rng)
        err = perturbation(x, t)
        sq = np.sum(err * err, axis=1)
        # Rank-one Jacobian error c(x) v vᵀ: every unitarily invariant norm is |c(x)|.
        jn = np.abs(perturbation.jacobian_scale(x @ v))
        score_sq[t - 1], jac[t - 1] = sq.mean(), jn.mean()
        var_sq[t - 1], var_jac[t - 1] = sq.var(ddof=1) / n, jn.var(ddof=1) / n
    mean_sq = float(np.mean(score_sq))
    se_sq = math.sqrt(float(np.sum(var_sq))) / num_steps
    eps = math.sqrt(mean_sq)
    method = f"Monte Carlo, {n} draws of X_t per step"
    return ScoreErrorMeasures(
        eps_score=Estimate(value=eps, stderr=se_sq / (2 * eps) if eps > 0 else se_sq,
                           method=method, error_kind=ErrorKind.STDERR),
        eps_jacobi=Estimate(value=float(np.mean(jac)),
                            stderr=math.sqrt(float(np.sum(var_jac))) / num_steps,
                            method=method, error_kind=ErrorKind.STDERR),
        per_step_score_sq=score_sq, per_step_jacobi=jac)


def sine_amplitude_for_eps_score(eps_score: float, frequency: float, direction: ArrayLike,
                                 target: SubspaceGaussianMixture, schedule: Schedule) -> float:
    """The ``a ≥ 0`` for which ``a·sin(ω⟨v,x⟩)·v`` has the prescribed ``ε_score``.

    ``ε_score`` is proportional to ``a``, so ``a = ε / ε(a=1)`` (exact, closed form).

    Parameters
    ----------
    eps_score : float
        Target ``ε_score ≥ 0``, finite.
    frequency : float
        ``ω > 0``.
    direction : array_like, shape (d,)
        Unit vector v.
    target, schedule :
        As in :func:`score_error_measures`.
    """
    eps = check_real("eps_score", eps_score, lower=0.0)
    unit = SinePerturbation(direction=np.asarray(direction, dtype=np.float64), amplitude=1.0,
                            frequency=frequency)
    base = score_error_measures(unit, target, schedule).eps_score.value
    if base <= 0.0:
        raise InvalidParameterError(
            "`frequency` gives a perturbation with zero ℓ2 size under p_{X_t} (sin(ω⟨v,X_t⟩) "
            "vanishes almost surely); choose another frequency or direction")
    return eps / base
