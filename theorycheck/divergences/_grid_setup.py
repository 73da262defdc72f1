"""Argument checks and grid choice for the k = 1 grid quadrature (private; see :mod:`.grid`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_finite_array, check_real
from theorycheck.errors import InvalidParameterError, NonFiniteError

__all__ = [
    "START_RADIUS",
    "LogDensityFn",
    "ScoreFn",
    "call_checked",
    "call_log_density",
    "check_schedule",
    "check_span",
    "combine_extents",
    "extent_from_log_density",
    "extent_from_probe",
    "extent_from_score",
    "fill_grid",
    "monotone_map",
    "target_on_cells",
]

FloatArray = NDArray[np.float64]
ScoreFn = Callable[[int, FloatArray], FloatArray]
LogDensityFn = Callable[[FloatArray], FloatArray]

#: ``N(0, 1)`` has mass 1e-21 beyond ±9.5: the start ``Y_T`` is covered to far below rounding.
START_RADIUS = 9.5
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(8)


def check_schedule(alpha: object, eta: object, sigma: object
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    alpha_arr = check_finite_array("alpha", alpha, ndim=1)
    num_steps = alpha_arr.shape[0]
    if num_steps < 2:
        raise InvalidParameterError(f"`alpha` must have length T >= 2 (got {num_steps})")
    eta_arr = check_finite_array("eta", eta, shape=(num_steps,))
    sigma_arr = check_finite_array("sigma", sigma, shape=(num_steps,))
    if np.any(alpha_arr <= 0.0) or np.any(alpha_arr > 1.0):
        bad = int(np.flatnonzero((alpha_arr <= 0.0) | (alpha_arr > 1.0))[0])
        raise InvalidParameterError(
            f"`alpha` must lie in (0, 1] (got {alpha_arr[bad]} at t={bad + 1})")
    if np.any(sigma_arr < 0.0):
        bad = int(np.flatnonzero(sigma_arr < 0.0)[0])
        raise InvalidParameterError(
            f"`sigma` must be >= 0 (got {sigma_arr[bad]} at t={bad + 1})")
    return alpha_arr, eta_arr, sigma_arr


def call_checked(fn: ScoreFn, name: str, t: int, y: FloatArray) -> FloatArray:
    out = np.asarray(fn(t, y), dtype=np.float64)
    if out.shape != y.shape:
        raise InvalidParameterError(
            f"`{name}` must return an array of the input's shape {y.shape} (got {out.shape} "
            f"at t={t})")
    if not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise NonFiniteError(f"`{name}` returned a non-finite value at t={t}, y={y[bad]!r}")
    return out


def call_log_density(fn: LogDensityFn, name: str, y: FloatArray) -> FloatArray:
    out = np.asarray(fn(y), dtype=np.float64)
    if out.shape != y.shape:
        raise InvalidParameterError(
            f"`{name}` must return an array of the input's shape {y.shape} (got {out.shape})")
    if not np.all(np.isfinite(out)):
        bad = int(np.flatnonzero(~np.isfinite(out))[0])
        raise NonFiniteError(f"`{name}` returned a non-finite value at y={y[bad]!r}")
    return out


def extent_from_probe(probe: FloatArray, log_density: FloatArray, concavity: FloatArray,
                        points_per_scale: float) -> tuple[float, float, float]:
    """(lower, upper, spacing) from ``log p`` and ``-(log p)''`` sampled on ``probe``.

    Only concavity sets the scale: for a Gaussian mixture ``-(log p)'' ≤ max_j 1/v_j`` (the
    between-component variance term is ≥ 0), with near equality at the narrowest component,
    while the large *positive* curvature where the dominant component switches is a feature
    of ``log p`` only — the density there is a sum of smooth bumps and needs no extra cells.
    """
    top = float(np.max(log_density))
    # 46 nats = relative density 1e-20: beyond it the mass is far below the 1e-10 budget.
    support = np.flatnonzero(log_density >= top - 46.0)
    if support[0] == 0 or support[-1] == probe.size - 1:
        raise InvalidParameterError(
            f"`span` must be given explicitly: the density is not negligible at the probe "
            f"range ends ±{probe[-1]:g}")
    lo, hi = float(probe[support[0] - 1]), float(probe[support[-1] + 1])
    # 25 nats = relative density 1.4e-11: the region whose resolution affects 1e-10 results.
    bulk = log_density >= top - 25.0
    scale = 1.0 / math.sqrt(max(float(np.max(concavity[bulk])), 1e-300))
    return lo, hi, min(scale, 1.0) / points_per_scale


def combine_extents(extents: list[tuple[float, float, float]], spacing: float, max_num_points: int
             ) -> tuple[tuple[float, float], int]:
    lo = min((e[0] for e in extents), default=0.0)
    hi = max((e[1] for e in extents), default=0.0)
    spacing = min([spacing, *(e[2] for e in extents)])
    # Every Y_t lies between the start N(0,1) and the target: sqrt(ᾱ)X + sqrt(1-ᾱ)Z has its
    # right end below sqrt(x_max² + z_max²) (Cauchy–Schwarz), likewise on the left.
    upper = math.hypot(max(hi, 0.0), START_RADIUS) + 0.5
    lower = -math.hypot(max(-lo, 0.0), START_RADIUS) - 0.5
    num_points = math.ceil((upper - lower) / spacing)
    if num_points > max_num_points:
        raise InvalidParameterError(
            f"`max_num_points` must be >= {num_points} to resolve the density (smallest scale "
            f"≈ {spacing:.3g} × points per scale on a span of {upper - lower:.3g}); a uniform "
            f"grid cannot handle such a peaked target (got {max_num_points})")
    return (lower, upper), num_points


def extent_from_score(score: ScoreFn, score_derivative: ScoreFn, probe: FloatArray,
                      points_per_scale: float) -> tuple[float, float, float]:
    """Extent from the score at ``t = 2``: ``log p = ∫ s_2`` (trapezoid), concavity ``-s_2'``."""
    s = call_checked(score, "score", 2, probe)
    ds = call_checked(score_derivative, "score_derivative", 2, probe)
    step = float(probe[1] - probe[0])
    log_p = np.concatenate(([0.0], np.cumsum(0.5 * step * (s[1:] + s[:-1]))))
    return extent_from_probe(probe, log_p, -ds, points_per_scale)


def extent_from_log_density(log_density: LogDensityFn, probe: FloatArray,
                            points_per_scale: float) -> tuple[float, float, float]:
    """Extent from a log density; concavity from second differences on the probe grid."""
    log_p = call_log_density(log_density, "target_log_density", probe)
    step = float(probe[1] - probe[0])
    concavity = np.zeros_like(log_p)
    concavity[1:-1] = -(log_p[2:] - 2.0 * log_p[1:-1] + log_p[:-2]) / step**2
    return extent_from_probe(probe, log_p, concavity, points_per_scale)


def monotone_map(score: ScoreFn, score_derivative: ScoreFn, t: int, eta_t: float,
                 inv_sqrt_alpha: float
                 ) -> Callable[[FloatArray], tuple[FloatArray, FloatArray]]:
    """``y ↦ (φ_t(y), φ_t'(y))``, raising if ``φ_t' ≤ 0`` at any evaluation point."""

    def phi(y: FloatArray) -> tuple[FloatArray, FloatArray]:
        s = call_checked(score, "score", t, y)
        ds = call_checked(score_derivative, "score_derivative", t, y)
        slope = (1.0 + eta_t * ds) * inv_sqrt_alpha
        if np.any(slope <= 0.0):
            bad = int(np.flatnonzero(slope <= 0.0)[0])
            raise InvalidParameterError(
                f"the map φ_t(y) = (y + η_t s_t(y))/sqrt(α_t) must be increasing: "
                f"φ_t'(y) = {slope[bad]:.4g} <= 0 at t={t}, y={y[bad]:.6g} "
                f"(η_t = {eta_t:.4g}; check `eta` and `score_derivative`)")
        return (y + eta_t * s) * inv_sqrt_alpha, slope

    return phi


def target_on_cells(points: FloatArray, spacing: float, target_log_density: LogDensityFn
                    ) -> tuple[FloatArray, FloatArray]:
    """Target cell masses (8-point Gauss–Legendre per cell) and ``log p`` at the centres."""
    if not callable(target_log_density):
        raise InvalidParameterError("`target_log_density` must be callable")
    nodes = points[:, None] + 0.5 * spacing * _GAUSS_NODES[None, :]
    log_p_nodes = call_log_density(target_log_density, "target_log_density",
                                   nodes.ravel()).reshape(nodes.shape)
    # Exact for polynomials of degree 15 on each cell: far below rounding for a density
    # resolved by the grid (≥ 8 cells per standard deviation).
    masses = 0.5 * spacing * (np.exp(log_p_nodes) @ _GAUSS_WEIGHTS)
    log_p = call_log_density(target_log_density, "target_log_density", points)
    return masses, log_p


def check_span(span: object) -> tuple[float, float]:
    """``(lower, upper)`` with ``lower < upper``, both finite."""
    if not (isinstance(span, tuple | list) and len(span) == 2):
        raise InvalidParameterError(f"`span` must be a pair (lower, upper) (got {span!r})")
    lower, upper = check_real("span[0]", span[0]), check_real("span[1]", span[1])
    if not upper > lower:
        raise InvalidParameterError(f"`span` must have lower < upper (got {span!r})")
    return lower, upper


def fill_grid(span: tuple[float, float] | None, num_points: int | None,
               auto: tuple[tuple[float, float], int]) -> tuple[tuple[float, float], int]:
    """Fill what the caller left out; a given span keeps the suggested spacing."""
    if span is None:
        return auto[0], auto[1] if num_points is None else num_points
    lower, upper = check_span(span)
    spacing = (auto[0][1] - auto[0][0]) / auto[1]
    return (lower, upper), math.ceil((upper - lower) / spacing)
