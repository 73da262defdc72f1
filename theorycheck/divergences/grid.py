"""Deterministic grid quadrature of the k = 1 sampler output, and TV / KL against the target.

The sampler of docs/theory.md §1 in one dimension is ``Y_T ~ N(0, 1)`` and, for ``t = T..2``,

    ``Y_{t-1} = φ_t(Y_t) + τ_t Z``,   ``φ_t(y) = (y + η_t s_t(y)) / sqrt(α_t)``,
    ``τ_t = σ_t / sqrt(α_t)``,

so the density of ``Y_{t-1}`` is the push-forward of that of ``Y_t`` through the monotone map
``φ_t`` followed by a convolution with ``N(0, τ_t²)``.  This module propagates the density of
``Y_t`` from ``t = T`` to ``t = 1`` on a uniform grid and compares it with the exact target
``p_{X_1}`` (docs/theory.md §6, first bullet).

Method (and why)
----------------
The state is the vector of **cell masses** ``M_j = ∫_{cell j} q``, not point values.

* *Deterministic part — conservative remap.*  New masses are differences of the old CDF at the
  preimages of the edges, ``M'_k = C(φ^{-1}(e_{k+1})) - C(φ^{-1}(e_k))``.  They telescope, so
  the remap conserves mass *by construction* (up to mass pushed across the grid ends, which
  is reported, and rounding).  ``C`` is exact at the edges (a cumulative sum) and is
  interpolated between them with degree 7, so one step errs by ``O(h^8 q^{(7)})``; the
  preimages come from Newton's method on ``φ_t`` (``φ_t'`` is given in closed form through the
  score derivative) to rounding level.  A naive push-forward of point values,
  ``q(φ^{-1}(x)) / φ'(φ^{-1}(x))`` with linear interpolation, is neither conservative nor
  accurate (measured on the 2-component test mixture, h = 0.018: mass drift 2.5e-3 at
  T = 400 and 5e-3 at T = 1000, and KL(p‖q) < 0 from T = 400 on).
* *Noise — exact spectral convolution.*  Cell averages of a band-limited density are samples
  of a band-limited function and averaging commutes with convolution, so multiplying their
  discrete Fourier coefficients by ``exp(-τ²ω²/2)`` is the exact Gaussian convolution for any
  ``τ`` (from 0 to far above ``h``).  The zero mode is untouched: mass is conserved.  The
  FFT grid is zero padded, so nothing wraps; mass leaving the grid is reported, never
  renormalised away.
* *Quadrature of the divergences.*  ``TV`` is computed from the cell masses of ``q - p``
  (the target's by 8-point Gauss–Legendre per cell): cells where ``q - p`` keeps its sign
  contribute ``|D_j|`` exactly, and crossing cells are split at the stationary point of the
  degree-7 CDF interpolant, so the kink of ``|q - p|`` costs nothing.  KL uses point values
  (10th-order deconvolution of the cell averages) in the Bregman form
  ``∫ p log(p/q) - p + q``, whose integrand is ≥ 0 and second order in ``q - p``: it equals
  KL for normalised densities and cannot come out negative.

Resolution requirements: the grid must resolve the sharpest density met on the way (spacing
≲ 1/8 of the smallest component standard deviation of ``p_{X_t}``) and span the mass of every
``Y_t``.  :func:`tv_kl_1d` checks both *a posteriori* by running two resolutions and reporting
the difference as the tolerance.  Densities narrower than about ``span / 10^5`` (point masses
smoothed by ``1-ᾱ_1 = T^{-c0}``) are out of reach of a uniform grid; use the change-of-variables
Monte Carlo of docs/theory.md §6 there.

References
----------
.. [1] G. Li and Y. Yan, "Adapting to unknown low-dimensional structures in score-based
   diffusion models", arXiv:2405.14861 (the samplers and the metrics ``TV(p_{X_1}, p_{Y_1})``).
.. [2] docs/theory.md §1 (conventions), §5 (the k-dimensional split), §6 (measuring the k = 1 part).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_finite_array, check_int, check_real
from theorycheck.divergences import _grid_ops
from theorycheck.divergences._grid_setup import (
    LogDensityFn,
    ScoreFn,
    call_log_density,
    check_schedule,
    check_span,
    combine_extents,
    extent_from_log_density,
    extent_from_score,
    fill_grid,
    monotone_map,
    target_on_cells,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import ErrorKind, Estimate

__all__ = [
    "GridDensity",
    "grid_divergences",
    "grid_expectation",
    "grid_log_ratio",
    "propagate_density_1d",
    "suggest_grid_1d",
    "tv_kl_1d",
]

FloatArray = NDArray[np.float64]

_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, kw_only=True, eq=False)
class GridDensity:
    """A density on a uniform grid of cells (here the density of the sampler output ``Y_1``).

    Attributes
    ----------
    points : ndarray, shape (n,)
        Cell centres ``c_j = lower + (j + 1/2) h``.
    weights : ndarray, shape (n,)
        Quadrature weights (all ``h``): ``∫ f ≈ Σ f(points) · weights`` (midpoint rule, which
        is spectrally accurate for smooth integrands that vanish at the grid ends).
    log_density : ndarray, shape (n,)
        ``log q(points)``; at unresolved points (see ``resolved``) it is
        ``log(resolution_floor)``.
    mass_defect : float
        ``|Σ cell_masses - 1|``: mass lost across the grid ends plus rounding.  Never hidden by
        renormalisation.
    method : str
        Description of the method and grid.
    edges : ndarray, shape (n + 1,)
        Cell edges ``e_j = lower + j h``.
    cell_masses : ndarray, shape (n,)
        ``∫_{e_j}^{e_{j+1}} q`` — the conserved state of the propagation.
    density : ndarray, shape (n,)
        Point values ``q(points)`` (may hold rounding noise of either sign where
        ``resolved`` is false).
    resolved : ndarray of bool, shape (n,)
        ``density > resolution_floor``.
    resolution_floor : float
        Absolute error level of ``density`` (FFT rounding, the zero-mass grid ends); values
        below it are noise.
    """

    points: FloatArray
    weights: FloatArray
    log_density: FloatArray
    mass_defect: float
    method: str
    edges: FloatArray = field(repr=False)
    cell_masses: FloatArray = field(repr=False)
    density: FloatArray = field(repr=False)
    resolved: NDArray[np.bool_] = field(repr=False)
    resolution_floor: float = 0.0

    def __post_init__(self) -> None:
        # Private read-only copies: freezing the caller's own arrays would be a side effect.
        for name in ("points", "weights", "log_density", "edges", "cell_masses", "density"):
            object.__setattr__(self, name, np.array(getattr(self, name), dtype=np.float64))
        object.__setattr__(self, "resolved", np.array(self.resolved, dtype=bool))
        n = self.points.shape[0] if self.points.ndim == 1 else -1
        if n < 2:
            raise InvalidParameterError(f"`points` must be 1-dimensional with >= 2 entries "
                                        f"(got shape {self.points.shape})")
        for name in ("weights", "log_density", "cell_masses", "density", "resolved"):
            if getattr(self, name).shape != (n,):
                raise InvalidParameterError(
                    f"`{name}` must have shape ({n},) (got {getattr(self, name).shape})")
        if self.edges.shape != (n + 1,):
            raise InvalidParameterError(
                f"`edges` must have shape ({n + 1},) (got {self.edges.shape})")
        if not np.all(self.weights > 0):
            raise InvalidParameterError("`weights` must be > 0")
        for name in ("points", "weights", "log_density", "edges", "cell_masses", "density"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise NonFiniteError(f"`{name}` of a GridDensity must be finite")
        for name in ("points", "weights", "log_density", "edges", "cell_masses", "density",
                     "resolved"):
            getattr(self, name).setflags(write=False)


def suggest_grid_1d(*, score: ScoreFn | None = None,
                    score_derivative: ScoreFn | None = None,
                    target_log_density: LogDensityFn | None = None,
                    points_per_scale: float = 10.0, probe_radius: float = 64.0,
                    max_num_points: int = 2**18) -> tuple[tuple[float, float], int]:
    """Grid span and number of cells resolving the start ``N(0,1)`` and the target.

    Parameters
    ----------
    score, score_derivative : callable ``(t, y) -> ndarray``, optional
        Used at ``t = 2`` (the last step and the sharpest score): the log density implied by
        the score is its cumulative integral, its concavity is ``-s_2'``.
    target_log_density : callable ``y -> ndarray``, optional
        ``log p_{X_1}``; curvature from second differences on the probe grid.
    points_per_scale : float
        Cells per smallest local standard deviation ``1/sqrt(-(log p)'')`` in the bulk
        (where the density exceeds ``e^{-25}`` times its maximum).
    probe_radius : float
        Half-width of the probe grid (16385 points).
    max_num_points : int
        Raise if more cells would be needed.

    Returns
    -------
    span : tuple of float
        ``(lower, upper)``: covers ``N(0,1)`` to ``|y| ≤ 9.5`` and, by the Cauchy–Schwarz bound
        ``sqrt(ᾱ)x + sqrt(1-ᾱ)z ≤ sqrt(x² + z²)``, every intermediate ``p_{X_t}``.
    num_points : int
        Number of cells.
    """
    pps = check_real("points_per_scale", points_per_scale, lower=1.0)
    radius = check_real("probe_radius", probe_radius, lower=0.0, lower_open=True)
    max_n = check_int("max_num_points", max_num_points, minimum=16)
    if (score is None) != (score_derivative is None):
        raise InvalidParameterError(
            "`score` and `score_derivative` must be given together (got only one)")
    probe = np.linspace(-radius, radius, 16385)
    extents = []
    if score is not None and score_derivative is not None:
        extents.append(extent_from_score(score, score_derivative, probe, pps))
    if target_log_density is not None:
        extents.append(extent_from_log_density(target_log_density, probe, pps))
    # The start N(0, 1) has scale 1.
    return combine_extents(extents, 1.0 / pps, max_n)


def propagate_density_1d(*, alpha: object, eta: object, sigma: object, score: ScoreFn,
                         score_derivative: ScoreFn,
                         span: tuple[float, float] | None = None,
                         num_points: int | None = None,
                         points_per_scale: float = 10.0,
                         max_num_points: int = 2**18) -> GridDensity:
    r"""Density of the k = 1 sampler output ``Y_1`` on a uniform grid, conserving mass.

    Parameters
    ----------
    alpha, eta, sigma : array_like, shape (T,)
        ``α_t``, ``η_t``, ``σ_t`` at index ``t-1`` for ``t = 1..T``; only ``t = T..2`` are
        used.  ``0 < α_t ≤ 1``, ``σ_t ≥ 0`` (``σ ≡ 0`` gives a deterministic sampler).
    score, score_derivative : callable ``(t, y) -> ndarray``
        ``s_t(y)`` and ``s_t'(y)`` for ``t`` in ``2..T`` and ``y`` of shape (m,); outputs of
        shape (m,).  Only called with finite ``y``.
    span : tuple of float, optional
        ``(lower, upper)`` of the grid; default from :func:`suggest_grid_1d` (score only).
    num_points : int, optional
        Number of cells ``n``; default from :func:`suggest_grid_1d`.
    points_per_scale, max_num_points :
        Passed to :func:`suggest_grid_1d` when ``span`` or ``num_points`` is ``None``.

    Returns
    -------
    GridDensity
        Cell masses, point values and the mass defect of ``Y_1``.

    Raises
    ------
    InvalidParameterError
        Bad shapes or values, or a map ``φ_t`` that is not increasing on the grid
        (``φ_t' = (1 + η_t s_t') / sqrt(α_t) ≤ 0``).
    NonFiniteError
        Non-finite input or score value (the message names the step).

    Notes
    -----
    Step ``t``:  ``M ← remap(M, φ_t^{-1}(edges))`` then ``M ← M * N(0, τ_t²)`` with
    ``φ_t(y) = (y + η_t s_t(y))/sqrt(α_t)`` and ``τ_t = σ_t/sqrt(α_t)``.  Error per step
    ``O(h^8 q^{(7)})`` (remap) plus ``O(exp(-π² s²/(2h²)))`` (aliasing of a density of scale
    ``s``); mass is conserved to rounding (≈1e-14 over 1000 steps) plus what leaves the grid.
    See the module docstring for why.
    """
    alpha_arr, eta_arr, sigma_arr = check_schedule(alpha, eta, sigma)
    if not callable(score) or not callable(score_derivative):
        raise InvalidParameterError("`score` and `score_derivative` must be callable")
    if span is None or num_points is None:
        auto = suggest_grid_1d(score=score, score_derivative=score_derivative,
                               points_per_scale=points_per_scale, max_num_points=max_num_points)
        span, num_points = fill_grid(span, num_points, auto)
    lower, upper = check_span(span)
    n = check_int("num_points", num_points, minimum=16)
    h = (upper - lower) / n
    edges = np.asarray(lower + h * np.arange(n + 1), dtype=np.float64)
    masses = _grid_ops.normal_cell_masses(edges)
    noisy_steps = 0
    boundary_mass = max(abs(float(masses[0])), abs(float(masses[-1])))
    num_steps = alpha_arr.shape[0]
    for t in range(num_steps, 1, -1):
        inv_sqrt_alpha = 1.0 / math.sqrt(alpha_arr[t - 1])
        eta_t = float(eta_arr[t - 1])
        phi = monotone_map(score, score_derivative, t, eta_t, inv_sqrt_alpha)
        phi_edges, slope_edges = phi(edges)
        if np.any(np.diff(phi_edges) <= 0.0):
            bad = int(np.flatnonzero(np.diff(phi_edges) <= 0.0)[0])
            raise InvalidParameterError(
                f"the map φ_t must be increasing on the grid: φ_t(e_{bad + 1}) <= φ_t(e_{bad}) "
                f"at t={t}, y={edges[bad]:.6g} (check `eta` and `score`)")
        positions = (_grid_ops.preimages(phi, t, edges, phi_edges, slope_edges) - lower) / h
        masses = _grid_ops.remap_masses(masses, positions)
        tau = float(sigma_arr[t - 1]) * inv_sqrt_alpha
        if tau > 0.0:
            masses = _grid_ops.gaussian_smooth_masses(masses, tau / h)
            noisy_steps += 1
        boundary_mass = max(boundary_mass, abs(float(masses[0])), abs(float(masses[-1])))
    return _density_from_masses(edges, masses, noisy_steps, boundary_mass / h,
                                f"finite-volume CDF remap (degree 7) + spectral Gaussian "
                                f"convolution, k=1, T={num_steps}, n={n}, h={h:.4g}, "
                                f"span=[{lower:.4g}, {upper:.4g}]")


def _density_from_masses(edges: FloatArray, masses: FloatArray, noisy_steps: int,
                         boundary_density: float, method: str) -> GridDensity:
    h = float(edges[1] - edges[0])
    density = _grid_ops.cell_averages_to_point_values(masses / h)
    peak = float(np.max(density))
    if not (np.all(np.isfinite(density)) and peak > 0.0):
        raise NonFiniteError("the propagated density is non-finite or identically zero")
    # Two absolute error levels below which point values are not trusted:
    # * every FFT leaves rounding of a few ulps of the peak in every cell; later smoothing damps
    #   it, and the tests measure ≈ 0.2 eps·peak after 1000 steps, so 16 eps·peak is a ≥ 80×
    #   margin (deterministic runs have no FFT and keep relative accuracy);
    # * the grid ends count as zero mass, a kink of the size of the largest density ever seen
    #   in an end cell; the reconstruction spreads errors of that size inward (≈ 1× measured),
    #   hence the factor 100.
    floor = max(16.0 * _EPS * peak if noisy_steps else 0.0, 100.0 * boundary_density,
                float(np.finfo(np.float64).tiny))
    resolved = density > floor
    log_density = np.log(np.where(resolved, density, floor))
    points = 0.5 * (edges[1:] + edges[:-1])
    return GridDensity(points=points, weights=np.full(points.size, h), log_density=log_density,
                       mass_defect=abs(float(np.sum(masses)) - 1.0), method=method,
                       edges=edges, cell_masses=masses, density=density, resolved=resolved,
                       resolution_floor=floor)


def _check_model(model: object) -> GridDensity:
    if not isinstance(model, GridDensity):
        raise InvalidParameterError(
            f"`model` must be a GridDensity (got {type(model).__name__})")
    if not np.allclose(model.weights, model.weights[0], rtol=1e-12, atol=0.0):
        raise InvalidParameterError("`model` must live on a uniform grid (equal `weights`)")
    return model


def grid_divergences(*, model: GridDensity, target_log_density: LogDensityFn
                     ) -> dict[str, Estimate]:
    r"""TV and both KLs between the target ``p`` and a grid density ``q`` (one resolution).

    Parameters
    ----------
    model : GridDensity
        ``q`` (e.g. from :func:`propagate_density_1d`).
    target_log_density : callable ``y -> ndarray``
        Normalised ``log p(y)`` (here ``log p_{X_1}``), vectorised over ``y`` of shape (m,).

    Returns
    -------
    dict
        ``"tv"``: ``½∫|p - q|``; ``"kl"``: ``KL(p‖q) = KL(p_{X_1}‖p_{Y_1})``;
        ``"kl_reverse"``: ``KL(q‖p)``.  Each an :class:`Estimate` of kind ``TOLERANCE`` whose
        ``stderr`` bounds the truncation and rounding terms only — mass outside the grid and
        the unresolved rounding floor (see Notes) — *not* the discretisation error; use
        :func:`tv_kl_1d` for that.

    Notes
    -----
    ``TV = ½ Σ_j |D_j|`` with ``D_j`` the cell masses of ``q - p``, crossing cells split at
    the stationary point of the CDF interpolant (see ``_grid_ops.total_variation_of_cells``).
    KL in Bregman form on the cell centres,
    ``KL(p‖q) = Σ_j h [p log(p/q) - p + q]``, ``KL(q‖p) = Σ_j h [q log(q/p) - q + p]``:
    each term is ≥ 0 and, for normalised densities, the extra ``-p + q`` integrates to zero.
    Where ``q`` is below the rounding floor ``f`` it is taken as ``f`` in ``KL(p‖q)`` and as 0
    in ``KL(q‖p)``; the uncertainty ``h[p(1 + |log(p/f)|) + f]`` (forward) and
    ``h f (1 + |log(f/p)|)`` (reverse, the largest change of ``q log(q/p) - q`` over
    ``q ∈ [0, f]``) of those cells is added to the tolerance, as is the mass outside the grid
    ``defect_q + defect_p``.  TV's tolerance is ``½(defect_q + defect_p) + f·span``.
    """
    grid = _check_model(model)
    target_masses, log_p = target_on_cells(grid.points, float(grid.weights[0]),
                                           target_log_density)
    h = float(grid.weights[0])
    target_defect = abs(float(np.sum(target_masses)) - 1.0)
    outside = grid.mass_defect + target_defect
    floor = grid.resolution_floor
    span = float(grid.edges[-1] - grid.edges[0])
    total, crossings = _grid_ops.total_variation_of_cells(grid.cell_masses - target_masses)
    tv_tol = 0.5 * outside + floor * span
    p = np.exp(log_p)
    log_q = grid.log_density
    q = np.exp(log_q)
    unresolved = ~grid.resolved
    forward_terms = p * (log_p - log_q) - p + q
    # Unresolved q is most likely far below the floor: estimate q log(q/p) - q + p by its
    # q → 0 limit p (the tolerance covers any q in [0, floor]).
    reverse_terms = np.where(unresolved, p, q * (log_q - log_p) - q + p)
    forward_tail = h * float(np.sum(
        p[unresolved] * (1.0 + np.abs(log_p[unresolved] - log_q[unresolved])) + floor))
    reverse_tail = h * float(np.sum(
        floor * (1.0 + np.abs(log_q[unresolved] - log_p[unresolved]))))
    method = f"grid quadrature k=1 ({crossings} crossing cells); {grid.method}"
    return {
        "tv": Estimate(value=0.5 * total, stderr=tv_tol, method=method,
                       error_kind=ErrorKind.TOLERANCE),
        "kl": Estimate(value=h * float(np.sum(forward_terms)), stderr=outside + forward_tail,
                       method=method, error_kind=ErrorKind.TOLERANCE),
        "kl_reverse": Estimate(value=h * float(np.sum(reverse_terms)),
                               stderr=outside + reverse_tail, method=method,
                               error_kind=ErrorKind.TOLERANCE),
    }


def grid_expectation(model: GridDensity, values: object) -> float:
    r"""``E_q[f] ≈ Σ_j f(c_j) q(c_j) h`` for ``values = f(model.points)``, shape (n,).

    Spectrally accurate for smooth ``f`` (midpoint rule); unresolved cells count as ``q = 0``.
    This is the hook for products with an isotropic Gaussian orthogonal part (docs/theory.md §5): with
    ``g`` from ``theorycheck.divergences.gaussian.orthogonal_tv_factor(log_ratio_k, m, eps)``
    and ``log_ratio_k = grid_log_ratio(model, target_log_density)``,
    ``TV = grid_expectation(model, g)``.
    """
    grid = _check_model(model)
    vals = check_finite_array("values", values, shape=(grid.points.shape[0],))
    q = np.where(grid.resolved, grid.density, 0.0)
    return float(np.sum(vals * q * grid.weights))


def grid_log_ratio(model: GridDensity, target_log_density: LogDensityFn) -> FloatArray:
    """``log p(c_j) - log q(c_j)`` at the grid points, shape (n,)."""
    grid = _check_model(model)
    if not callable(target_log_density):
        raise InvalidParameterError("`target_log_density` must be callable")
    log_p = call_log_density(target_log_density, "target_log_density", grid.points)
    out: FloatArray = log_p - grid.log_density
    return out


def tv_kl_1d(*, alpha: object, eta: object, sigma: object, score: ScoreFn,
             score_derivative: ScoreFn, target_log_density: LogDensityFn,
             max_tolerance: float = 1e-6, span: tuple[float, float] | None = None,
             num_points: int | None = None, points_per_scale: float = 8.0,
             max_num_points: int = 2**16) -> dict[str, Estimate]:
    r"""``TV``, ``KL(p_{X_1}‖p_{Y_1})`` and ``KL(p_{Y_1}‖p_{X_1})`` with an honest tolerance.

    Runs :func:`propagate_density_1d` + :func:`grid_divergences` with ``n`` and ``2n`` cells on
    the same span and reports the finer value with tolerance ``|fine - coarse| + fine.stderr``.
    While some tolerance exceeds ``max_tolerance`` the grid is refined again (``n ← 2n``)
    unless that would exceed ``max_num_points``; then the estimate is returned with its large
    tolerance (the method string says so) and the caller decides (e.g. INCONCLUSIVE).

    Parameters
    ----------
    alpha, eta, sigma, score, score_derivative :
        As in :func:`propagate_density_1d`.
    target_log_density : callable ``y -> ndarray``
        Normalised ``log p_{X_1}``.
    max_tolerance : float
        Refine until every tolerance is at most this.
    span, num_points : optional
        Coarse grid; default from :func:`suggest_grid_1d` (score and target).
    points_per_scale, max_num_points :
        Coarse resolution and the refinement cap.

    Returns
    -------
    dict
        Keys ``"tv"``, ``"kl"`` (``KL(p_{X_1}‖p_{Y_1})``), ``"kl_reverse"``; :class:`Estimate`
        of kind ``TOLERANCE``.

    Notes
    -----
    The difference of two resolutions over-estimates the error of the finer one for a
    convergent high-order method (the coarse error dominates it), so the tolerance is
    conservative as long as both grids resolve the density; a grid that does not shows up as
    a large difference.
    """
    tol_cap = check_real("max_tolerance", max_tolerance, lower=0.0, lower_open=True)
    cap = check_int("max_num_points", max_num_points, minimum=32)
    alpha_arr, eta_arr, sigma_arr = check_schedule(alpha, eta, sigma)
    if span is None or num_points is None:
        auto = suggest_grid_1d(score=score, score_derivative=score_derivative,
                               target_log_density=target_log_density,
                               points_per_scale=points_per_scale, max_num_points=cap // 2)
        span, num_points = fill_grid(span, num_points, auto)
    check_span(span)
    n = check_int("num_points", num_points, minimum=16)
    if 2 * n > cap:
        raise InvalidParameterError(
            f"`max_num_points` must be >= 2 * num_points = {2 * n} (got {cap})")

    def run(cells: int) -> dict[str, Estimate]:
        model = propagate_density_1d(alpha=alpha_arr, eta=eta_arr, sigma=sigma_arr,
                                     score=score, score_derivative=score_derivative,
                                     span=span, num_points=cells)
        return grid_divergences(model=model, target_log_density=target_log_density)

    coarse = run(n)
    while True:
        fine = run(2 * n)
        tolerance = {key: abs(fine[key].value - coarse[key].value) + fine[key].stderr
                     for key in fine}
        if max(tolerance.values()) <= tol_cap or 4 * n > cap:
            break
        coarse, n = fine, 2 * n
    note = "" if max(tolerance.values()) <= tol_cap else (
        f" [tolerance above max_tolerance={tol_cap:.3g} at the cap max_num_points={cap}]")
    return {key: Estimate(value=fine[key].value, stderr=tolerance[key],
                          method=f"{fine[key].method}; tolerance |n={2 * n} - n={n}|{note}",
                          error_kind=ErrorKind.TOLERANCE)
            for key in fine}
