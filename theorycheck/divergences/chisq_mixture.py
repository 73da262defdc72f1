"""Tail probabilities of weighted sums of chi-squares by Imhof's (1961) inversion formula.

For independent standard normals, a group ``j`` of ``ν_j`` coordinates contributes
``w_j Σ_l z_l² + 2 a_j z_1`` (weight ``w_j``, degrees of freedom ``ν_j``, linear coefficient
``a_j`` on one coordinate).  Completing the square, ``w_j χ²_{ν_j}(λ_j)`` with non-centrality
``λ_j = (a_j/w_j)²`` is this group plus the constant ``a_j²/w_j``; the linear form keeps
``w_j → 0`` (a pure normal term ``2 a_j z``) finite, which is the regime of nearly equal
variances with a mean shift.  For the centred sum ``Q = Σ_j [w_j(χ²_{ν_j} - ν_j) + 2 a_j z_j]``
Imhof's formula (Imhof 1961, Biometrika 48, eq. 3.2, with the mean removed) reads::

    P(Q > x) = 1/2 + (1/π) ∫_0^∞ sin θ(u) / (u ρ(u)) du,
    θ(u) = ½ Σ_j [ν_j (atan(w_j u) - w_j u) - a_j² w_j u³ / (1 + w_j² u²)] - ½ x u,
    log ρ(u) = Σ_j [ν_j/4 · log1p(w_j² u²) + ½ a_j² u² / (1 + w_j² u²)].

Everything is in log space, so a group of ``ν = 10⁹`` coordinates (the orthogonal complement of
a subspace target) is one group, never expanded.  ``[0, U_0]`` is integrated by adaptive
Gauss-Kronrod (:func:`scipy.integrate.quad`), ``U_0`` the first of ``2/sd(Q), 4/sd(Q), …,
64/sd(Q)`` where the truncation bound (Imhof's eq. 3.3, sharpened by convexity and extended
to the normal terms)::

    (1/π)|∫_U^∞ sin θ/(u ρ) du| ≤ 1/(π κ' ρ(U)),   κ' = ½ Σ_j ν_j w_j²U²/(1 + w_j²U²)

(or ``E_1(½ A U²)/(2π)``, ``A = Σ a_j²``, when every ``w_j = 0``) is ≤ ``atol/4``; there the
integral stops and the bound is the truncation error;
otherwise the tail ``[U_0, ∞)`` is written as ``sin(θ̃(u) - βu)/(uρ)`` with ``θ̃ → const`` and
``β = ½(Σ_{w≠0} ν_j w_j + Σ_{w≠0} a_j²/w_j + x)``, and integrated to infinity with QUADPACK's
Fourier-weighted rule (QAWF, ``quad(weight="cos"/"sin")``), which stays accurate over any
number of oscillations.  The stated error (``ErrorKind.TOLERANCE``) is the truncation bound (or
0 when the tail is integrated) plus quad's error estimates; a quad that does not converge raises
instead of returning a number.

References
----------
J. P. Imhof (1961), "Computing the distribution of quadratic forms in normal variables",
Biometrika 48(3/4), 419-426, eqs. (3.2) and (3.3).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, special

from theorycheck._validation import check_real
from theorycheck.errors import ConvergenceError, InvalidParameterError
from theorycheck.results import ErrorKind, Estimate

__all__ = ["QuadraticForm", "quadratic_form", "chisq_mixture_sf", "centered_sf"]

FloatArray = NDArray[np.float64]
_SMALL_T = 1e-3  # below this |w u| the series of atan(t) - t is used


@dataclass(frozen=True, kw_only=True)
class QuadraticForm:
    """``Q = Σ_j [w_j(χ²_{ν_j} - ν_j) + 2 a_j z_j]`` (centred: ``E[Q] = 0``).

    Attributes
    ----------
    weights : ndarray, shape (J,)
        ``w_j`` (any sign, 0 allowed for a pure normal term).
    dofs : ndarray, shape (J,)
        ``ν_j >= 1`` (float, so ``10⁹`` is one entry).
    linear : ndarray, shape (J,)
        ``a_j``.
    """

    weights: FloatArray
    dofs: FloatArray
    linear: FloatArray

    def theta(self, u: float) -> float:
        """``θ(u)`` without the ``-½ x u`` term."""
        t = self.weights * u
        small = np.abs(t) < _SMALL_T
        t2 = t * t
        series = -t * t2 * (1.0 / 3.0 - t2 / 5.0 + t2 * t2 / 7.0)
        atan_minus = np.where(small, series, np.arctan(t) - t)
        cubic = self.linear ** 2 * self.weights * u ** 3 / (1.0 + t2)
        return 0.5 * float(np.sum(self.dofs * atan_minus - cubic))

    def log_rho(self, u: float) -> float:
        """``log ρ(u)``."""
        t2 = (self.weights * u) ** 2
        return float(np.sum(0.25 * self.dofs * np.log1p(t2)
                            + 0.5 * self.linear ** 2 * u * u / (1.0 + t2)))

    def log_truncation_bound(self, upper: float) -> float:
        """``log`` of a bound on ``(1/π)|∫_U^∞ sin θ/(u ρ) du|`` at ``U = upper``.

        ``log(1 + w²u²)`` is convex in ``log u`` and ``a²u²/(1+w²u²)`` increases, so for
        ``u ≥ U``: ``ρ(u) ≥ ρ(U) (u/U)^κ'`` with ``κ' = ½ Σ_j ν_j r_j``,
        ``r_j = w_j²U²/(1 + w_j²U²)``, giving ``1/(π κ' ρ(U))``.  As ``U → ∞`` this is Imhof's
        bound (his eq. 3.3); for small ``wU`` it is much tighter.  With every ``w_j = 0`` the
        exact Gaussian integral ``E_1(½ A U²)/(2π)``, ``A = Σ a_j²``, is used.
        """
        t2 = (self.weights * upper) ** 2
        kappa = 0.5 * float(np.sum(self.dofs * t2 / (1.0 + t2)))
        if kappa > 0.0:
            return -self.log_rho(upper) - math.log(math.pi * kappa)
        big_a = float(np.sum(self.linear ** 2))
        return math.log(max(float(special.exp1(0.5 * big_a * upper ** 2)), 1e-300)) \
            - math.log(2.0 * math.pi)


def quadratic_form(weights: Sequence[float] | FloatArray, dofs: Sequence[float] | FloatArray,
                   linear: Sequence[float] | FloatArray | None = None) -> QuadraticForm:
    """Validate and build a centred :class:`QuadraticForm`.

    Raises
    ------
    InvalidParameterError
        Shapes differ or are empty, a value is not finite, a ``ν_j < 1``, or every term is
        zero (``Q ≡ 0`` has no continuous law).
    """
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    nu = np.atleast_1d(np.asarray(dofs, dtype=np.float64))
    a = np.zeros_like(w) if linear is None else np.atleast_1d(np.asarray(linear,
                                                                         dtype=np.float64))
    if w.ndim != 1 or w.size == 0 or nu.shape != w.shape or a.shape != w.shape:
        raise InvalidParameterError("`weights`, `dofs` and `linear` must be non-empty 1-D "
                                    f"arrays of one length (got {w.shape}, {nu.shape}, "
                                    f"{a.shape})")
    for name, arr in (("weights", w), ("dofs", nu), ("linear", a)):
        if not np.all(np.isfinite(arr)):
            raise InvalidParameterError(f"`{name}` must be finite (got {arr.tolist()})")
    if np.any(nu < 1.0):
        raise InvalidParameterError(f"`dofs` must be >= 1 (got {nu.tolist()})")
    if not np.any((w != 0.0) | (a != 0.0)):
        raise InvalidParameterError("`weights` and `linear` must not all be 0 (Q would be "
                                    "identically 0)")
    return QuadraticForm(weights=w, dofs=nu, linear=a)


def _oscillation(form: QuadraticForm, x: float) -> float:
    """``β`` with ``θ(u) - ½xu + βu → const`` as ``u → ∞`` (the asymptotic frequency)."""
    nz = form.weights != 0.0
    return 0.5 * (float(np.sum(form.dofs[nz] * form.weights[nz]))
                  + float(np.sum(form.linear[nz] ** 2 / form.weights[nz])) + x)


def centered_sf(form: QuadraticForm, x: float, *, atol: float = 1e-10) -> Estimate:
    """``P(Q > x)`` for the centred form ``Q`` (Imhof 1961, eq. 3.2).

    Parameters
    ----------
    form : QuadraticForm
    x : float
    atol : float
        Target absolute error (truncation bound + quadrature estimates).

    Returns
    -------
    Estimate
        ``ErrorKind.TOLERANCE``; ``stderr`` = (truncation bound at ``U_0``, or 0 when the tail
        is integrated, + quad's error estimates)/π.

    Raises
    ------
    InvalidParameterError
        ``x`` or ``atol`` invalid.
    ConvergenceError
        A quad call does not converge to ``atol`` (no number is returned then).

    Notes
    -----
    ``[0, U_0]`` by adaptive Gauss-Kronrod, then either the truncation bound at ``U_0`` or the
    Fourier-weighted tail ``[U_0, ∞)`` (module docstring).  Cost: milliseconds for a few
    groups; seconds when ``x`` sits thousands of standard deviations out (many oscillations
    on ``[0, U_0]``).
    """
    x = check_real("x", x)
    atol = check_real("atol", atol, lower=1e-15)
    sd = math.sqrt(float(np.sum(2.0 * form.dofs * form.weights ** 2 + 4.0 * form.linear ** 2)))
    log_tol = math.log(0.25 * atol)
    u0 = 2.0 / sd
    while u0 < 64.0 / sd and form.log_truncation_bound(u0) > log_tol:
        u0 *= 2.0

    def phase(u: float) -> float:
        return form.theta(u) - 0.5 * x * u

    def integrand(u: float) -> float:
        if u == 0.0:
            return -0.5 * x
        return math.sin(phase(u)) / u * math.exp(-form.log_rho(u))

    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        try:
            value, err = integrate.quad(integrand, 0.0, u0, epsabs=atol / 8, epsrel=0.0,
                                        limit=1000)
        except integrate.IntegrationWarning as exc:
            raise ConvergenceError(
                f"Imhof integral on [0, U_0] did not converge to `atol` = {atol:g}: {exc}"
            ) from exc
    bound = form.log_truncation_bound(u0)
    pieces = 1
    if bound > log_tol:
        beta = _oscillation(form, x)

        def f_sin(u: float) -> float:
            return math.sin(phase(u) + beta * u) / u * math.exp(-form.log_rho(u))

        def f_cos(u: float) -> float:
            return math.cos(phase(u) + beta * u) / u * math.exp(-form.log_rho(u))

        with warnings.catch_warnings():
            warnings.simplefilter("error", integrate.IntegrationWarning)
            try:
                if beta == 0.0:
                    v1, e1 = integrate.quad(f_sin, u0, np.inf, epsabs=atol / 8, epsrel=0.0,
                                            limit=1000)
                    v2, e2 = 0.0, 0.0
                else:
                    v1, e1 = integrate.quad(f_sin, u0, np.inf, weight="cos", wvar=abs(beta),
                                            epsabs=atol / 8, limlst=200, limit=1000)
                    v2, e2 = integrate.quad(f_cos, u0, np.inf, weight="sin", wvar=abs(beta),
                                            epsabs=atol / 8, limlst=200, limit=1000)
                    v2 = -v2 if beta < 0.0 else v2
            except integrate.IntegrationWarning as exc:
                raise ConvergenceError(
                    f"Imhof tail integral did not converge to `atol` = {atol:g}: {exc}"
                ) from exc
        value, err, pieces, bound = value + v1 - v2, err + e1 + e2, 3, -math.inf
    err += math.exp(bound)
    prob = 0.5 + value / math.pi
    return Estimate(value=min(max(prob, 0.0), 1.0), stderr=err / math.pi + 1e-16,
                    error_kind=ErrorKind.TOLERANCE,
                    method=f"Imhof (1961) inversion ({pieces} quad piece(s), Fourier-weighted "
                           "tail); error = Imhof truncation bound + quad estimates")


def chisq_mixture_sf(x: float, weights: Sequence[float] | FloatArray,
                     dofs: Sequence[float] | FloatArray,
                     noncentralities: Sequence[float] | FloatArray | None = None, *,
                     atol: float = 1e-10) -> Estimate:
    """``P(Q > x)`` for ``Q = Σ_j w_j χ²_{ν_j}(λ_j)`` by Imhof's (1961) formula.

    Parameters
    ----------
    x : float
    weights : array_like, shape (J,)
        ``w_j != 0``.
    dofs : array_like, shape (J,)
        ``ν_j >= 1``; a group with ``ν = 10⁹`` is one entry.
    noncentralities : array_like, shape (J,), optional
        ``λ_j >= 0`` (default 0).
    atol : float

    Returns
    -------
    Estimate
        ``ErrorKind.TOLERANCE``.

    Notes
    -----
    ``w χ²_ν(λ) = w(χ²_ν - ν) + 2 w sqrt(λ) z + w(ν + λ)`` in law (with ``χ²_ν`` central and
    ``z`` one of its coordinates), so ``P(Q > x) = P(Q_c > x - Σ_j w_j(ν_j + λ_j))`` for the
    centred form of the module docstring.

    Raises
    ------
    InvalidParameterError
        A weight is 0, a non-centrality is negative, or see :func:`quadratic_form`.
    """
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    lam = (np.zeros_like(w) if noncentralities is None
           else np.atleast_1d(np.asarray(noncentralities, dtype=np.float64)))
    if lam.shape != w.shape or not np.all(np.isfinite(lam)) or np.any(lam < 0.0):
        raise InvalidParameterError("`noncentralities` must be finite, >= 0 and of the shape of "
                                    f"`weights` (got {lam.tolist()})")
    if np.any(w == 0.0):
        raise InvalidParameterError(f"`weights` must be non-zero (got {w.tolist()})")
    form = quadratic_form(w, dofs, w * np.sqrt(lam))
    shift = float(np.sum(w * (form.dofs + lam)))
    est = centered_sf(form, check_real("x", x) - shift, atol=atol)
    return Estimate(value=est.value, stderr=est.stderr, error_kind=est.error_kind,
                    method=est.method)
