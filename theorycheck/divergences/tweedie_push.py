"""A sampler that is wrong by ``δ · E[X_0 | Y_2]`` at its last step, measured by grid quadrature.

The boundary controls of the rate claims need a sampler that is exact except for an error of
a *prescribed size* that decays like a chosen power of ``T``: the last step (``t = 2``) adds
``δ_T · E[X_0 | Y_2 = y]``, with the posterior mean from the score by Tweedie,

    ``E[X_0 | X_t = y] = (y + (1-ᾱ_t) s_t(y)) / sqrt(ᾱ_t)``,

which vanishes on data-free coordinates (there ``s_t(y) = -y/(1-ᾱ_t)``), so the fault lives on
the subspace, like a sampler that is d-free but slow.  The output error is ``TV ≈ c·δ_T`` and
``KL ≈ c'·δ_T²``; ``δ_T = c/√T`` gives a TV decaying like ``T^{-1/2}``.

In one dimension the faulty last step is the generic step with the *effective score*

    ``s̃_2(y) = s_2(y) + (sqrt(α_2) δ / η_2) · E[X_0 | X_2 = y]``,

since ``(y + η_2 s̃_2(y)) / sqrt(α_2) = (y + η_2 s_2(y)) / sqrt(α_2) + δ E[X_0 | X_2 = y]``;
the density of ``Y_1`` then comes from :func:`theorycheck.divergences.grid.propagate_density_1d`
at two resolutions, exactly as for the exact sampler (tolerance = difference + truncation).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences.grid import grid_divergences, propagate_density_1d, suggest_grid_1d
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["pushed_divergences_1d"]

FloatArray = NDArray[np.float64]
ScoreFn = Callable[[int, FloatArray], FloatArray]


def _pushed_scores(factor: SubspaceGaussianMixture, design: CoefficientDesign, delta: float
                   ) -> tuple[ScoreFn, ScoreFn, ScoreFn, ScoreFn,
                              Callable[[FloatArray], FloatArray]]:
    """Exact score and derivative, the pushed ones (push at t = 2), and ``log p_{X_1}``."""
    sched = design.schedule
    ab, q = sched.alpha_bar, sched.one_minus_alpha_bar
    push = math.sqrt(float(sched.alpha[1])) * delta / float(design.eta[1])

    def exact(t: int, y: FloatArray) -> FloatArray:
        return factor.score(y[:, None], alpha_bar=float(ab[t - 1]),
                            one_minus_alpha_bar=float(q[t - 1]))[:, 0]

    def exact_derivative(t: int, y: FloatArray) -> FloatArray:
        return factor.score_jacobian(y[:, None], alpha_bar=float(ab[t - 1]),
                                     one_minus_alpha_bar=float(q[t - 1]))[:, 0, 0]

    def score(t: int, y: FloatArray) -> FloatArray:
        s = exact(t, y)
        if t != 2:
            return s
        return s + push * (y + float(q[1]) * s) / math.sqrt(float(ab[1]))

    def score_derivative(t: int, y: FloatArray) -> FloatArray:
        ds = exact_derivative(t, y)
        if t != 2:
            return ds
        return ds + push * (1.0 + float(q[1]) * ds) / math.sqrt(float(ab[1]))

    def log_density(y: FloatArray) -> FloatArray:
        return factor.log_density(y[:, None], alpha_bar=float(ab[0]),
                                  one_minus_alpha_bar=float(q[0]))

    return exact, exact_derivative, score, score_derivative, log_density


def pushed_divergences_1d(factor: SubspaceGaussianMixture, design: CoefficientDesign, *,
                          delta: float, max_num_points: int = 2**16) -> dict[str, Estimate]:
    """``TV(p_{X_1}, p_{Y_1})`` and ``KL(p_{X_1}‖p_{Y_1})`` of the pushed sampler, k = d = 1.

    Parameters
    ----------
    factor : SubspaceGaussianMixture
        A one-dimensional target (``k = d = 1``).
    design : CoefficientDesign
        The (exact) coefficients; ``η_2 > 0`` is required (the push rides on the score term).
    delta : float
        ``δ_T``, the weight of ``E[X_0 | Y_2]`` added at the last step, in ``[-0.5, 0.5]``
        (negative: the output is pulled towards the origin; either sign is an error of size
        ``|δ_T|``, and the sign that adds to the sampler's own bias is the harder one to miss).
    max_num_points : int, optional
        Cap on the fine grid's cells (the coarse grid has half).

    Returns
    -------
    dict
        ``"tv"`` and ``"kl"``: :class:`Estimate` of kind TOLERANCE (``|fine - coarse|`` plus
        the fine grid's truncation tolerance).
    """
    if not isinstance(factor, SubspaceGaussianMixture) or factor.ambient_dim != 1:
        raise InvalidParameterError("`factor` must be a one-dimensional SubspaceGaussianMixture "
                                    f"(got {type(factor).__name__})")
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(f"`design` must be a CoefficientDesign (got "
                                    f"{type(design).__name__})")
    delta = check_real("delta", delta, lower=-0.5, upper=0.5)
    max_num_points = check_int("max_num_points", max_num_points, minimum=64)
    if design.schedule.num_steps < 2 or not float(design.eta[1]) > 0.0:
        raise InvalidParameterError("`design` must have T >= 2 and eta_2 > 0 for a push at the "
                                    "last step")
    exact, dexact, score, dscore, logp = _pushed_scores(factor, design, delta)
    # The grid is the exact sampler's (the push moves mass by O(δ), far inside its span).
    span, n = suggest_grid_1d(score=exact, score_derivative=dexact, target_log_density=logp,
                              points_per_scale=8.0, max_num_points=max_num_points // 2)
    sched = design.schedule
    levels: list[dict[str, Estimate]] = []
    for cells in (n, 2 * n):
        grid = propagate_density_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma,
                                    score=score, score_derivative=dscore, span=span,
                                    num_points=cells)
        levels.append(grid_divergences(model=grid, target_log_density=logp))
    coarse, fine = levels
    method = (f"grid quadrature k=1, two resolutions, last step + δ·E[X0|Y2] (δ={delta:.3g}); "
              "tolerance = |fine - coarse| + truncation")
    out: dict[str, Any] = {}
    for key in ("tv", "kl"):
        out[key] = Estimate(value=fine[key].value,
                            stderr=abs(fine[key].value - coarse[key].value) + fine[key].stderr,
                            method=method, error_kind=ErrorKind.TOLERANCE)
    return out
