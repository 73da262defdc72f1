"""K-component isotropic Gaussian mixtures in one dimension, and their exact grid error.

The family of Li, Cai & Wei (arXiv:2504.05300) is isotropic mixtures ``Σ_j w_j N(μ_j, s² I)``;
in one dimension (k = 1, the exact grid method) :func:`isotropic_mixture_1d` places ``K`` equal-
weight components of common standard deviation ``s`` at equally spaced means on
``[-half_width, half_width]``, so that the spacing ``2·half_width/(K-1)`` runs from well
separated (small K) to overlapping (large K) at fixed ``s``.

:func:`grid_tv_1d` measures ``TV(p_{X_1}, p_{Y_1})`` by grid quadrature
(:func:`theorycheck.divergences.grid.tv_kl_1d`) when the sampler uses the exact score of a
possibly *different* mixture ``model`` (a deliberate score error) while ``p_{X_1}`` is the true
target's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences.grid import tv_kl_1d
from theorycheck.errors import InvalidParameterError
from theorycheck.results import Estimate
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["isotropic_mixture_1d", "grid_tv_1d"]

FloatArray = NDArray[np.float64]


def isotropic_mixture_1d(num_components: int, *, component_sd: float, half_width: float = 1.0,
                         shift: float = 0.0, weight_tilt: float = 0.0) -> SubspaceGaussianMixture:
    """``Σ_j w_j N(μ_j + shift, s²)`` with ``μ_j`` equally spaced on ``[-a, a]``.

    Weights are equal, or tilted linearly: ``w_j ∝ 1 + τ(2j/(K-1) - 1)``, ``j = 0..K-1``.

    Parameters
    ----------
    num_components : int
        ``K ≥ 1`` (``K = 1``: one component at 0).
    component_sd : float
        ``s ≥ 0`` (0 gives atoms).
    half_width : float
        ``a > 0``.
    shift : float
        Common displacement of every mean (used to build a biased *model* score).
    weight_tilt : float
        ``τ`` in ``(-1, 1)`` (used to build a biased *model* score; 0: equal weights).

    Returns
    -------
    SubspaceGaussianMixture
        k = d = 1.
    """
    K = check_int("num_components", num_components, minimum=1, maximum=4096)
    s = check_real("component_sd", component_sd, lower=0.0)
    a = check_real("half_width", half_width, lower=0.0, lower_open=True)
    b = check_real("shift", shift)
    tau = check_real("weight_tilt", weight_tilt, lower=-1.0, upper=1.0, lower_open=True,
                     upper_open=True)
    means = (np.zeros(1) if K == 1 else np.linspace(-a, a, K)) + b
    weights = 1.0 + tau * (np.linspace(-1.0, 1.0, K) if K > 1 else np.zeros(1))
    return SubspaceGaussianMixture.create(weights / weights.sum(), means[:, None],
                                          np.full((K, 1, 1), s * s))


def grid_tv_1d(target: SubspaceGaussianMixture, design: CoefficientDesign, *,
               model: SubspaceGaussianMixture | None = None, max_tolerance: float = 1e-4,
               points_per_scale: float = 6.0) -> Estimate:
    """``TV(p_{X_1}, p_{Y_1})`` on the grid, the sampler using the exact score of ``model``.

    Parameters
    ----------
    target : SubspaceGaussianMixture
        k = 1 data law (defines ``p_{X_1}``).
    design : CoefficientDesign
    model : SubspaceGaussianMixture, optional
        k = 1 mixture whose exact score the sampler uses (default: ``target``, exact score).
    max_tolerance, points_per_scale :
        Passed to :func:`~theorycheck.divergences.grid.tv_kl_1d`.

    Returns
    -------
    Estimate
        ``TOLERANCE`` kind (difference of two grid resolutions).
    """
    for name, value in (("target", target), ("model", model if model is not None else target)):
        if not isinstance(value, SubspaceGaussianMixture) or value.intrinsic_dim != 1:
            raise InvalidParameterError(f"`{name}` must be a k = 1 SubspaceGaussianMixture")
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    sub = target.subspace_part()
    mod = (model if model is not None else target).subspace_part()
    sched = design.schedule
    ab, q = sched.alpha_bar, sched.one_minus_alpha_bar

    def score(t: int, y: FloatArray) -> FloatArray:
        return mod.score(y[:, None], alpha_bar=float(ab[t - 1]),
                         one_minus_alpha_bar=float(q[t - 1]))[:, 0]

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        return mod.score_jacobian(y[:, None], alpha_bar=float(ab[t - 1]),
                                  one_minus_alpha_bar=float(q[t - 1]))[:, 0, 0]

    def log_density(y: FloatArray) -> Any:
        return sub.log_density(y[:, None], alpha_bar=float(ab[0]),
                               one_minus_alpha_bar=float(q[0]))

    out = tv_kl_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma, score=score,
                   score_derivative=score_derivative, target_log_density=log_density,
                   max_tolerance=max_tolerance, points_per_scale=points_per_scale)
    return out["tv"]
