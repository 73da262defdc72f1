"""Measured laws ``y ≈ C · x^a · (log x)^b``: exponents with honest uncertainty, growth of ratios.

A rate theorem such as ``TV ≲ k log³T / T`` is checked by *measuring the law* the data follow
(docs/theory.md §7-§8), not by a one-sided slope test after dividing by an assumed log power
(which cannot tell ``1/T`` from ``1/√T`` on any feasible grid: ``log³T/T`` and ``T^{-1/2}`` have
the same local slope near ``T = e⁶``).  Three one-parameter measurements:

* :func:`fit_exponent` — the exponent ``a`` with the log power ``b`` held at a stated value;
* :func:`fit_log_exponent` — the log exponent ``b`` with ``a`` held at a stated value;
* :func:`ratio_growth` — how much ``y / rate(x)`` grows along the grid (``max_{i<j} r_j/r_i``).

Uncertainty.  Fits are *unweighted* least squares in log coordinates, so no single point
dominates (a fit weighted by quadrature errors of 1e-8 puts all its weight on the best-resolved
point and reports the misfit of a line, not a measurement error).  Two errors are reported and
the larger one is used: the error *propagated* from the stated relative errors of the points,
and the leave-one-out *jackknife* error, which also contains the scatter of the data about the
law (curvature, Monte Carlo noise).  The interval is Student-t with ``n - 2`` degrees of freedom.
Local slopes between neighbouring points are returned beside every fit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from theorycheck._validation import check_finite_array, check_real
from theorycheck.errors import InvalidParameterError
from theorycheck.results import Verdict

__all__ = ["LawParameter", "RatioGrowth", "fit_exponent", "fit_log_exponent", "ratio_growth"]

#: Fewest points for a jackknife interval (leaving one out must leave a line with a residual).
MIN_POINTS = 3


@dataclass(frozen=True, kw_only=True)
class LawParameter:
    """One fitted parameter of a law (an exponent ``a`` or a log exponent ``b``).

    Attributes
    ----------
    name : str
        ``"exponent"`` or ``"log_exponent"``.
    value : float
        Unweighted least-squares estimate.
    stderr : float
        ``max(jackknife_stderr, propagated_stderr)``: what the interval uses.
    jackknife_stderr : float
        Leave-one-out error: scatter of the data about the law (and noise).
    propagated_stderr : float
        Error from the points' stated errors alone (measurement error).
    ci_low, ci_high : float
        ``value ∓ t_{n-2}·stderr`` at ``confidence``.
    confidence : float
    held : float
        The other parameter, held fixed (``b`` for an exponent, ``a`` for a log exponent).
    local_slopes : tuple of float, shape (n - 1,)
        Slopes between neighbouring points, in the same coordinates as the fit.
    num_points : int
    """

    name: str
    value: float
    stderr: float
    jackknife_stderr: float
    propagated_stderr: float
    ci_low: float
    ci_high: float
    confidence: float
    held: float
    local_slopes: tuple[float, ...]
    num_points: int

    def text(self) -> str:
        """``"-0.982 ± 0.012"`` (the half width of the interval)."""
        return f"{self.value:.3f} ± {0.5 * (self.ci_high - self.ci_low):.3f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return {**asdict(self), "local_slopes": list(self.local_slopes)}


@dataclass(frozen=True, kw_only=True)
class RatioGrowth:
    """Growth of ``r = y / rate`` along an ordered grid (see :func:`ratio_growth`).

    ``growth = max_{i<j} r_j / r_i`` (1 for a non-increasing ratio), bracketed by
    ``[growth_low, growth_high]`` with per-point intervals ``r ± z·σ``; ``spread = max r / min r``.
    ``growth_high`` is ``None`` when some ``r - zσ <= 0`` (unbounded).
    """

    ratios: tuple[float, ...]
    ratio_stderrs: tuple[float, ...]
    growth: float
    growth_low: float
    growth_high: float | None
    spread: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "ratios": list(self.ratios),
                "ratio_stderrs": list(self.ratio_stderrs)}

    def judge(self, max_growth: float) -> Verdict:
        """PASS if ``growth_high <= max_growth``, FAIL if ``growth_low > max_growth``."""
        limit = check_real("max_growth", max_growth, lower=1.0)
        if self.growth_high is not None and self.growth_high <= limit:
            return Verdict.PASS
        return Verdict.FAIL if self.growth_low > limit else Verdict.INCONCLUSIVE


def _series(x: ArrayLike, values: ArrayLike, stderrs: ArrayLike
            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate: 1-D, equal length >= MIN_POINTS, x > 0 strictly increasing, values > 0."""
    x_arr = check_finite_array("x", x, ndim=1)
    val = check_finite_array("values", values, shape=x_arr.shape)
    err = check_finite_array("stderrs", stderrs, shape=x_arr.shape)
    if x_arr.size < MIN_POINTS:
        raise InvalidParameterError(f"`x` must have at least {MIN_POINTS} points for a "
                                    f"jackknife interval (got {x_arr.size})")
    for name, arr, bad in (("x", x_arr, x_arr <= 0), ("values", val, val <= 0),
                           ("stderrs", err, err < 0)):
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            rule = ">= 0" if name == "stderrs" else "> 0"
            raise InvalidParameterError(f"`{name}` must be {rule} (got {arr[i]} at index {i})")
    if np.any(np.diff(x_arr) <= 0):
        i = int(np.flatnonzero(np.diff(x_arr) <= 0)[0]) + 1
        raise InvalidParameterError(f"`x` must be strictly increasing (got {x_arr[i]} at "
                                    f"index {i})")
    return x_arr, val, err


def _slope(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    du = u - u.mean()
    return float(np.dot(du, v - v.mean()) / np.dot(du, du))


def _fit(name: str, u: NDArray[np.float64], v: NDArray[np.float64], rel: NDArray[np.float64],
         *, held: float, confidence: float) -> LawParameter:
    """Unweighted slope of ``v`` on ``u`` with jackknife and propagated errors."""
    n = u.size
    value = _slope(u, v)
    du = u - u.mean()
    propagated = float(math.sqrt(np.sum(du**2 * rel**2)) / np.dot(du, du))
    keep = ~np.eye(n, dtype=bool)
    leave_out = np.array([_slope(u[keep[i]], v[keep[i]]) for i in range(n)])
    jackknife = float(math.sqrt((n - 1) / n * np.sum((leave_out - leave_out.mean()) ** 2)))
    stderr = max(jackknife, propagated)
    half = float(stats.t.ppf(0.5 * (1.0 + confidence), n - 2)) * stderr
    local = np.diff(v) / np.diff(u)
    return LawParameter(name=name, value=value, stderr=stderr, jackknife_stderr=jackknife,
                        propagated_stderr=propagated, ci_low=value - half, ci_high=value + half,
                        confidence=confidence, held=held,
                        local_slopes=tuple(float(s) for s in local), num_points=n)


def fit_exponent(x: ArrayLike, values: ArrayLike, stderrs: ArrayLike, *,
                 log_power: float = 0.0, log_base: ArrayLike | None = None,
                 confidence: float = 0.95) -> LawParameter:
    """Exponent ``a`` of ``y ≈ C · x^a · (log base)^b`` with ``b = log_power`` held fixed.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing grid, ``> 0``, ``n >= 3``.
    values : array_like, shape (n,)
        Measured ``y > 0`` (exclude unresolved points before calling).
    stderrs : array_like, shape (n,)
        One-sigma errors of ``values``, ``>= 0``.
    log_power : float, optional
        ``b``; the fit is of ``log(y / (log base)^b)`` on ``log x``.
    log_base : array_like, shape (n,), optional
        Base of the log factor (default ``x``); every entry ``> 1`` when ``b != 0``.
    confidence : float, optional
        Two-sided level of the interval, in ``(0, 1)``.

    Returns
    -------
    LawParameter
        ``name="exponent"``, ``held=b``.

    Notes
    -----
    ``a = Σ (u_i - ū) v_i / Σ (u_i - ū)²`` with ``u = log x``, ``v = log y - b log log base``;
    propagated error ``sqrt(Σ (u_i - ū)² ρ_i²) / Σ (u_i - ū)²``, ``ρ_i = stderr_i / y_i``;
    jackknife error ``sqrt((n-1)/n · Σ (a_(i) - ā)²)`` over the ``n`` leave-one-out fits.
    """
    x_arr, val, err = _series(x, values, stderrs)
    b = check_real("log_power", log_power)
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0, lower_open=True,
                            upper_open=True)
    base = x_arr if log_base is None else check_finite_array("log_base", log_base,
                                                             shape=x_arr.shape)
    if b != 0.0 and np.any(base <= 1.0):
        raise InvalidParameterError("`log_base` must be > 1 when `log_power` != 0 (got "
                                    f"{float(base.min())})")
    v = np.log(val) - (b * np.log(np.log(base)) if b != 0.0 else 0.0)
    return _fit("exponent", np.log(x_arr), v, err / val, held=b, confidence=confidence)


def fit_log_exponent(x: ArrayLike, values: ArrayLike, stderrs: ArrayLike, *, exponent: float,
                     confidence: float = 0.95) -> LawParameter:
    """Log exponent ``b`` of ``y ≈ C · x^a · (log x)^b`` with ``a = exponent`` held fixed.

    Parameters are as in :func:`fit_exponent`; every ``x > 1``.  The fit is of
    ``log(y · x^{-a})`` on ``log log x`` (unweighted, jackknife interval).

    Notes
    -----
    Over a grid of one or two decades ``log log x`` is nearly linear in ``log x``, so ``b``
    and ``a`` trade off (``Δb ≈ Δa · log x``): ``b`` is reported as the data's log power
    *given* ``a``, never as independent evidence about ``a``.
    """
    x_arr, val, err = _series(x, values, stderrs)
    a = check_real("exponent", exponent)
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0, lower_open=True,
                            upper_open=True)
    if np.any(x_arr <= 1.0):
        raise InvalidParameterError(f"`x` must be > 1 for a log exponent (got "
                                    f"{float(x_arr.min())})")
    v = np.log(val) - a * np.log(x_arr)
    return _fit("log_exponent", np.log(np.log(x_arr)), v, err / val, held=a,
                confidence=confidence)


def ratio_growth(values: ArrayLike, stderrs: ArrayLike, rates: ArrayLike, *,
                 confidence: float = 0.95) -> RatioGrowth:
    """How much ``r_i = values_i / rates_i`` grows along the grid (in the given order).

    Parameters
    ----------
    values, stderrs : array_like, shape (n,)
        Measured values (``> 0``) and their one-sigma errors (``>= 0``), ``n >= 2``.
    rates : array_like, shape (n,)
        The law's rate at each point (e.g. ``k log T / T``), ``> 0``.
    confidence : float, optional
        Per-point two-sided level of ``r_i ± z σ_i``.

    Returns
    -------
    RatioGrowth
        ``growth = max_{i<j} r_j / r_i``; ``growth_high`` uses ``(r_j + zσ_j)/(r_i - zσ_i)``,
        ``growth_low`` uses ``(r_j - zσ_j)/(r_i + zσ_i)`` (at least 1).

    Notes
    -----
    For an upper bound ``y ≲ rate`` only growth is a violation: a ratio that falls along the
    grid (a sampler faster than the bound) is consistent with it.
    """
    rate = check_finite_array("rates", rates, ndim=1)
    val = check_finite_array("values", values, shape=rate.shape)
    err = check_finite_array("stderrs", stderrs, shape=rate.shape)
    if rate.size < 2:
        raise InvalidParameterError(f"`rates` must have at least 2 points (got {rate.size})")
    if np.any(rate <= 0) or np.any(val <= 0) or np.any(err < 0):
        raise InvalidParameterError("`rates` and `values` must be > 0 and `stderrs` >= 0 "
                                    f"(got min rate {rate.min()}, min value {val.min()}, "
                                    f"min stderr {err.min()})")
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0, lower_open=True,
                            upper_open=True)
    z = float(stats.norm.ppf(0.5 * (1.0 + confidence)))
    r, s = val / rate, err / rate
    lo, hi = r - z * s, r + z * s
    upper = np.triu(np.ones((r.size, r.size), dtype=bool), k=1)  # pairs i < j
    growth = max(1.0, float(np.max((r[None, :] / r[:, None])[upper])))
    growth_low = max(1.0, float(np.max((lo[None, :] / hi[:, None])[upper])))
    growth_high = (max(1.0, float(np.max((hi[None, :] / lo[:, None])[upper])))
                   if np.all(lo > 0) else None)
    return RatioGrowth(ratios=tuple(float(v) for v in r), ratio_stderrs=tuple(float(v) for v in s),
                       growth=growth, growth_low=growth_low, growth_high=growth_high,
                       spread=float(r.max() / r.min()), confidence=confidence)
