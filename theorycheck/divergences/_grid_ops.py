"""Kernels of the mass-conservative k = 1 grid quadrature (private; see :mod:`.grid`).

The state is the vector of *cell masses* ``M_j = ∫_{e_j}^{e_{j+1}} q`` on a uniform grid with
edges ``e_j = lower + j h``.  The cumulative distribution function is then known exactly at the
edges, ``C(e_j) = M_0 + … + M_{j-1}``, and everything here is built on one object: the local
degree-7 Lagrange interpolant of ``C`` through the eight edges ``e_{j-3} … e_{j+4}`` around cell
``j``.  Written relative to ``C(e_j)`` it is a combination of the seven cell masses
``M_{j-3} … M_{j+3}``::

    C(e_j + θh) - C(e_j) = Σ_{i=-3..3} W_i(θ) M_{j+i},      0 ≤ θ ≤ 1,
    W_i(θ) = Σ_{r ≥ max(i+1, 1)} L_r(θ)   (i ≥ 0),      W_i(θ) = -Σ_{r ≤ i} L_r(θ)   (i < 0),

with ``L_r`` the Lagrange basis on the offsets ``r = -3..4``.  ``W_i(0) = 0`` and
``W_i(1) = [i = 0]``, so the partial mass is exact at both edges, proportional to ``θ`` near the
left edge (relative accuracy in the tails, where the masses are tiny) and ``O(h^8 q^{(7)})``
accurate in between.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft
from scipy import special

from theorycheck.errors import NonFiniteError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

__all__ = [
    "PAD",
    "cell_averages_to_point_values",
    "gaussian_smooth_masses",
    "normal_cell_masses",
    "partial_mass",
    "preimages",
    "remap_masses",
    "total_variation_of_cells",
]

#: Zero cells padded on each side: the stencil of cell ``j`` reaches ``j ± 3`` and the edge
#: ``e_n`` (``j = n, θ = 0``) is a valid evaluation point.
PAD = 4
_EDGE_OFFSETS = np.arange(-3, 5)
_MASS_OFFSETS = np.arange(-3, 4)
_EPS = float(np.finfo(np.float64).eps)
#: Newton on ``φ_t`` stops when the residual is within 32 ulps of the edge it maps to: that is
#: the rounding level of evaluating ``φ_t`` itself, so no later iterate can do better.
_NEWTON_RTOL = 32.0 * _EPS
_NEWTON_MAX_ITER = 100   # bisection alone needs ≤ 60 halvings of a cell


def _partial_mass_coefficients() -> FloatArray:
    """Monomial coefficients ``coef[k, i]`` of ``W_i(θ) = Σ_k coef[k, i] θ^k``, shape (8, 7)."""
    basis = np.zeros((8, 8))
    for col, r in enumerate(_EDGE_OFFSETS):
        others = [int(s) for s in _EDGE_OFFSETS if s != r]
        denominator = float(np.prod([int(r) - s for s in others]))
        basis[:, col] = np.polynomial.polynomial.polyfromroots(others) / denominator
    coef = np.zeros((8, 7))
    for col, i in enumerate(_MASS_OFFSETS):
        if i >= 0:
            coef[:, col] = basis[:, i + 1 <= _EDGE_OFFSETS].sum(axis=1)
        else:
            coef[:, col] = -basis[:, i >= _EDGE_OFFSETS].sum(axis=1)
    return coef


_W_COEF = _partial_mass_coefficients()
_W_DERIV_COEF = _W_COEF[1:] * np.arange(1, 8)[:, None]   # d/dθ, shape (7, 7)


def _stencil(padded: FloatArray, cells: IntArray) -> FloatArray:
    """Masses ``M_{j-3} … M_{j+3}`` for each cell index ``j`` (indices into the unpadded grid)."""
    return padded[cells[:, None] + (PAD + _MASS_OFFSETS)[None, :]]


def _poly_rows(coef: FloatArray, theta: FloatArray) -> FloatArray:
    """Evaluate row ``m`` of ``coef`` (monomial, lowest degree first) at ``theta[m]``."""
    out = coef[:, -1].copy()
    for col in range(coef.shape[1] - 2, -1, -1):
        out *= theta
        out += coef[:, col]
    return out


def partial_mass(padded: FloatArray, cells: IntArray, theta: FloatArray) -> FloatArray:
    """``C(e_j + θh) - C(e_j)`` from the degree-7 CDF interpolant; shape (m,)."""
    return _poly_rows(_stencil(padded, cells) @ _W_COEF.T, theta)


def remap_masses(masses: FloatArray, positions: FloatArray) -> FloatArray:
    """Cell masses of the push-forward: ``M'_k = C(a_{k+1}) - C(a_k)``.

    Parameters
    ----------
    masses : ndarray, shape (n,)
        Current cell masses (zero outside the grid).
    positions : ndarray, shape (n + 1,)
        Preimages ``a_k = φ^{-1}(e_k)`` of the edges in cell units, ``(a_k - lower) / h``,
        nondecreasing; values outside ``[0, n]`` are clipped (no mass lives there).

    Returns
    -------
    ndarray, shape (n,)
        New cell masses.  They telescope: ``Σ M' = C(a_n) - C(a_0)``, so mass is conserved up
        to the mass the map pushes across the grid ends and rounding.

    Notes
    -----
    ``C(a) = C(e_j) + P_j(θ)``.  The whole-cell part ``C(e_{j'}) - C(e_j)`` is a left cumulative
    sum in the left half of the distribution and a right (reversed) cumulative sum in the right
    half, so both tails keep their relative accuracy (a single ``cumsum`` is ≈ 1 in the right
    tail and would leave only absolute accuracy 1e-16 there).
    """
    n = masses.size
    pos = np.clip(positions, 0.0, float(n))
    cells = np.minimum(np.floor(pos).astype(np.intp), n)
    theta = pos - cells
    padded = np.zeros(n + 2 * PAD)
    padded[PAD:PAD + n] = masses
    partial = partial_mass(padded, cells, theta)
    left = np.concatenate(([0.0], np.cumsum(masses)))
    right = np.concatenate((np.cumsum(masses[::-1])[::-1], [0.0]))
    lo_cell, hi_cell = cells[:-1], cells[1:]
    use_left = left[lo_cell] <= right[lo_cell]
    whole = np.where(use_left, left[hi_cell] - left[lo_cell], right[lo_cell] - right[hi_cell])
    return whole + (partial[1:] - partial[:-1])


def gaussian_smooth_masses(masses: FloatArray, std_in_cells: float) -> FloatArray:
    """Convolve the cell masses with ``N(0, (std_in_cells·h)²)``, spectrally; shape (n,).

    Notes
    -----
    For a density whose Fourier transform is negligible beyond the grid's Nyquist frequency
    the cell averages are samples of a band-limited function, and averaging over a cell
    commutes with convolution; multiplying the discrete Fourier coefficients by
    ``exp(-τ²ω²/2)`` is then the *exact* convolution.  The zero mode is left untouched, so
    mass is conserved up to rounding.  The signal is zero-padded by ``9 τ + 8`` cells on each
    side (Gaussian tail ``e^{-40}``), so nothing wraps around the periodic FFT grid; mass
    diffusing into the padding is dropped and shows up in the caller's mass defect.  The
    *increment* ``expm1(-τ²ω²/2)·M̂`` is transformed, not ``M̂`` itself, so that the rounding
    of a near-identity step (``τ ≪ h``) is relative to the tiny change it makes.
    """
    n = masses.size
    pad = math.ceil(9.0 * std_in_cells) + 8
    length = sp_fft.next_fast_len(n + 2 * pad, real=True)
    buffer = np.zeros(length)
    buffer[pad:pad + n] = masses
    spectrum = sp_fft.rfft(buffer)
    omega = 2.0 * np.pi * np.arange(spectrum.size) / length
    spectrum *= np.expm1(-0.5 * (std_in_cells * omega) ** 2)
    increment = sp_fft.irfft(spectrum, n=length)
    out: FloatArray = masses + increment[pad:pad + n]
    return out


def cell_averages_to_point_values(averages: FloatArray) -> FloatArray:
    """Point values at the cell centres from cell averages, 10th order; shape (n,).

    Notes
    -----
    With ``δ²`` the second difference on the cell grid, the cell-average operator is
    ``A = (δ/2) / arcsinh(δ/2)``, so ``q = [arcsinh(δ/2)/(δ/2)] ā``::

        q_j = (1 - δ²/24 + 3δ⁴/640 - 5δ⁶/7168 + 35δ⁸/294912) ā_j + O(h^10 q^{(10)}).

    The stencil is local (±4 cells), so unlike a spectral deconvolution it keeps relative
    accuracy in the tails.  Cells beyond the grid count as zero.
    """
    padded = np.zeros(averages.size + 2 * PAD)
    padded[PAD:PAD + averages.size] = averages
    coefficients = (1.0, -1.0 / 24.0, 3.0 / 640.0, -5.0 / 7168.0, 35.0 / 294912.0)
    out = coefficients[0] * averages
    power = padded
    for coefficient in coefficients[1:]:
        power = np.concatenate(([0.0], power[2:] - 2.0 * power[1:-1] + power[:-2], [0.0]))
        out = out + coefficient * power[PAD:PAD + averages.size]
    return out


def total_variation_of_cells(differences: FloatArray) -> tuple[float, int]:
    """``∫ |f|`` from the cell integrals ``D_j = ∫_{cell j} f`` of a smooth ``f``.

    Returns the integral and the number of cells in which ``f`` changes sign.

    Notes
    -----
    ``F(x) = ∫_{-∞}^x f`` is known exactly at the edges, and ``∫|f|`` is the total variation of
    ``F``.  In a cell where ``f`` keeps its sign the cell contributes ``|D_j|`` exactly.  In a
    cell where the derivative of the degree-7 interpolant of ``F`` changes sign, the
    stationary point ``θ*`` is found by bisection and the cell contributes
    ``|F(θ*) - F(e_j)| + |F(e_{j+1}) - F(θ*)|``.  Because ``F' = f = 0`` at the crossing, an
    error ``δ`` in its location costs only ``|f'| δ²/2``; the result is as accurate as the
    cell integrals themselves (the plain Riemann sum of ``|f|`` would lose ``O(h²|f'|)`` at
    every crossing).
    """
    n = differences.size
    padded = np.zeros(n + 2 * PAD)
    padded[PAD:PAD + n] = differences
    cells = np.arange(n, dtype=np.intp)
    stencil = _stencil(padded, cells)
    slope_left = stencil @ _W_DERIV_COEF[0]
    slope_right = stencil @ _W_DERIV_COEF.sum(axis=0)
    crossing = np.flatnonzero(slope_left * slope_right < 0.0)
    contributions = np.abs(differences)
    if crossing.size:
        local = stencil[crossing]
        deriv_coef = local @ _W_DERIV_COEF.T   # (m, 7): coefficients of F' in θ
        lo = np.zeros(crossing.size)
        hi = np.ones(crossing.size)
        sign_lo = np.sign(slope_left[crossing])
        # 60 halvings take θ* to 1e-18 cells; the value of F there is stationary anyway.
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            value = _poly_rows(deriv_coef, mid)
            same = np.sign(value) == sign_lo
            lo = np.where(same, mid, lo)
            hi = np.where(same, hi, mid)
        theta = 0.5 * (lo + hi)
        inner = partial_mass(padded, crossing, theta)
        contributions[crossing] = np.abs(inner) + np.abs(differences[crossing] - inner)
    return float(np.sum(contributions)), int(crossing.size)


def normal_cell_masses(edges: FloatArray) -> FloatArray:
    """Cell masses of ``N(0, 1)``, each tail from its own side (relative accuracy)."""
    left, right = edges[:-1], edges[1:]
    from_left = special.ndtr(right) - special.ndtr(left)
    from_right = special.ndtr(-left) - special.ndtr(-right)
    out: FloatArray = np.where(left >= 0.0, from_right, from_left)
    return out


def preimages(phi: Callable[[FloatArray], tuple[FloatArray, FloatArray]], t: int,
               edges: FloatArray, phi_edges: FloatArray, slope_edges: FloatArray) -> FloatArray:
    """``φ_t^{-1}(e_k)`` for edges inside ``φ_t(grid)``; ±inf outside (no mass there).

    Notes
    -----
    Safeguarded Newton: the root of ``φ(y) = e_k`` is bracketed by the grid edges around it
    (``φ`` is increasing), the bracket shrinks with the sign of every residual, and a Newton
    step that leaves it is replaced by bisection.  The first guess is the cubic Hermite
    interpolant of the inverse map through ``(φ(e_j), e_j)`` with slopes ``1/φ'(e_j)`` (error
    ``O(h^4)``).  After a Newton step ``δ`` the residual is at most
    ``max|φ''| δ² max φ' / (2 min φ')``; with ``max|φ''|`` taken as four times the largest secant
    slope of ``φ'`` on the grid, the step is accepted without another (costly) score
    evaluation when that bound is below the tolerance.
    """
    out = np.where(edges < phi_edges[0], -np.inf, np.inf)
    inside = np.flatnonzero((edges >= phi_edges[0]) & (edges <= phi_edges[-1]))
    if inside.size == 0:
        return out
    target = edges[inside]
    cell = np.clip(np.searchsorted(phi_edges, target, side="right") - 1, 0, edges.size - 2)
    lo, hi = edges[cell], edges[cell + 1]
    width = phi_edges[cell + 1] - phi_edges[cell]
    s = (target - phi_edges[cell]) / width
    h00, h10 = (1.0 + 2.0 * s) * (1.0 - s) ** 2, s * (1.0 - s) ** 2
    h01, h11 = s * s * (3.0 - 2.0 * s), s * s * (s - 1.0)
    y = np.clip(h00 * lo + h01 * hi + width * (h10 / slope_edges[cell]
                                                + h11 / slope_edges[cell + 1]), lo, hi)
    tol = _NEWTON_RTOL * (1.0 + np.abs(target))
    curvature = 4.0 * float(np.max(np.abs(np.diff(slope_edges)))) / float(edges[1] - edges[0])
    min_slope = float(np.min(slope_edges))
    for _ in range(_NEWTON_MAX_ITER):
        value, slope = phi(y)
        residual = value - target
        done = np.abs(residual) <= tol
        if np.all(done):
            break
        lo = np.where(residual < 0.0, y, lo)
        hi = np.where(residual > 0.0, y, hi)
        newton = np.where(done, y, y - residual / slope)
        ok = done | ((newton > lo) & (newton < hi))
        step = np.where(ok, y - newton, 0.0)
        y = np.where(ok, newton, 0.5 * (lo + hi))
        if np.all(ok) and np.all(curvature * step**2 * np.max(slope) <= 0.5 * min_slope * tol):
            break   # quadratic-convergence bound (see Notes)
        if np.all(done | (hi - lo <= 4.0 * _EPS * (1.0 + np.abs(y)))):
            break   # bracket down to a few ulps: nothing left to gain
    else:
        worst = float(np.max(np.abs(residual)))
        raise NonFiniteError(
            f"inverting the map φ_t by Newton's method did not converge at t={t} (residual "
            f"{worst:.3g}); `score_derivative` must be the derivative of `score`")
    out[inside] = y
    return out
