"""Exact KL and total variation between Gaussians, stable for m up to 1e12 and eps near 0.

The orthogonal part of the exact split (docs/theory.md §5) compares the target N(0, s I_m) with the
sampler's N(0, s(1+eps) I_m), s = 1-ᾱ_1, m = d-k; both divergences reduce to gamma integrals.
Nothing close to 1 is subtracted: log1p(t) - t has a series, and the Gamma(h) mass of a short
interval is integrated by Gauss-Legendre from its log-density in t = y/h - 1.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, linalg, special

from theorycheck._validation import check_choice, check_finite_array, check_int, check_real
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import ErrorKind, Estimate

__all__ = ["kl_isotropic", "tv_isotropic", "orthogonal_tv_factor", "orthogonal_tv_bounds",
           "kl_gaussian", "tv_gaussian_1d", "tv_diagonal", "tv_ratio_groups"]

FloatArray = NDArray[np.float64]
_MAX_DIM = 10**12
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# (max variation V, Gauss-Legendre nodes); V bounds width·|ψ'| and width·sqrt|ψ''| of the
# log-density ψ on the interval.  A sweep of 2.4e5 random (h, interval) cases measured relative
# errors <= 1e-13 in every tier (reference: 200 nodes).  For V > 18 the interval is wide on the
# density's scale, so a difference of incomplete gamma functions loses only a few digits.
_GL_TIERS = ((0.018, 4), (0.09, 6), (0.18, 8), (0.4, 10), (1.3, 12), (13.0, 14), (18.0, 20))
_CHUNK = 4096  # points per block in vectorised Gauss-Legendre (keeps temporaries in cache)
_TINY = 1e-280  # below this, a tail probability is recomputed in log space where needed
# scipy.special.gammainc loses accuracy for large shapes (measured against mpmath: relative error
# 3e-12 at a = 3e5, 4e-9 at 5.6e5, 1e-6 at 1e6 about 4.5 sd below the mean, 0.5 in log at 5e8 and
# -10 sd).  Temme's expansion with two correction terms is accurate to ~1e-14 from a = 5e4 on.
_TEMME_MIN_SHAPE = 5e4


@functools.cache
def _gl_nodes(n: int) -> tuple[FloatArray, FloatArray]:
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return 0.5 * (nodes + 1.0), 0.5 * weights  # on [0, 1]


def _log1pmx_series(t: FloatArray, abs_max: float) -> FloatArray:
    """log1p(t) - t = -t z + 2(atanh z - z), z = t/(2+t), for |t| <= abs_max < 1/4."""
    z = t / (2.0 + t)
    z2 = z * z
    z_max = abs_max / (2.0 - abs_max)
    # atanh z - z = z³ Σ_j z^(2j)/(2j+3): keep the terms above 1e-17 relative to t²/2
    terms = 1 if z_max < 1e-8 else min(11, math.ceil((math.log(1e-17) / math.log(z_max) - 1) / 2))
    acc: FloatArray | float = 1.0 / (2 * terms + 1)
    for j in range(terms - 2, -1, -1):
        acc = acc * z2 + 1.0 / (2 * j + 3)
    return (2.0 * z2 * acc - t) * z


def _log1pmx(t: ArrayLike, one_plus_t: ArrayLike | None = None) -> FloatArray:
    """log1p(t) - t without cancellation; ``one_plus_t`` gives 1+t exactly when t is near -1."""
    t = np.asarray(t, dtype=np.float64)
    abs_t = np.abs(t)
    abs_max = float(abs_t.max()) if t.size else 0.0
    if abs_max < 0.25:
        return _log1pmx_series(t, abs_max)
    out = np.log(1.0 + t if one_plus_t is None else np.asarray(one_plus_t, np.float64)) - t
    small = abs_t < 0.25
    if small.any():
        out[small] = _log1pmx_series(t[small], float(abs_t[small].max()))
    return out


def _stirling_delta(h: float) -> float:
    """lgamma(h) - [(h-1/2) log h - h + log(2π)/2] (asymptotic series for h >= 10)."""
    if h < 10.0:
        return math.lgamma(h) - ((h - 0.5) * math.log(h) - h + _HALF_LOG_2PI)
    r = 1.0 / (h * h)
    return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 - r / 1188)))) / h


def _log_density_t(h: float, delta: float, t: FloatArray, one: FloatArray | None) -> FloatArray:
    """Log-density of T = Y/h - 1, Y ~ Gamma(h): (h-1) log(1+t) - h t + log(h/2π)/2 - δ(h)."""
    const = 0.5 * math.log(h) - _HALF_LOG_2PI - delta
    if t.size == 0 or h * float(np.abs(t).max()) <= 64.0:  # rounding <= 64 ulp: direct form
        log_one = np.log1p(t)  # log(1+t) from t, except near t = -1 where 1+t is exact
        if one is not None and t.size and t.min() < -0.5:
            log_one = np.where(t < -0.5, np.log(np.maximum(one, 1e-300)), log_one)
        return (h - 1.0) * log_one - h * t + const
    return (h - 1.0) * _log1pmx(t, one) - t + const


def _gamma_mass_gl(h: float, delta: float, t_lo: FloatArray, one_lo: FloatArray,
                   tau: FloatArray, n: int) -> FloatArray:
    frac, weights = _gl_nodes(n)
    out = np.empty(t_lo.shape)
    for start in range(0, t_lo.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        step = tau[part, None] * frac[None, :]
        t = t_lo[part, None] + step
        one = one_lo[part, None] + step if np.abs(t).max() >= 0.25 else None  # t may near -1
        out[part] = tau[part] * (np.exp(_log_density_t(h, delta, t, one)) @ weights)
    return out


def _log_gamma_cdf_temme(h: float, t: FloatArray, one: FloatArray, upper: bool) -> FloatArray:
    """log Q(h, h(1+t)) (upper) or log P(h, h(1+t)) for large h (Temme, DLMF 8.12).

    Q = ½erfc(z) + e^{-z²}(c₀ + c₁/h)/sqrt(2πh), z = η sqrt(h/2), η²/2 = t - log1p t, with
    series for c₀, c₁ when |η| < 0.05, where their closed forms cancel.  Otherwise the small
    tail's bracket ½erfcx(|z|) - 1/(η sqrt(2πh)) + (1/t + c₁/h)/sqrt(2πh) is summed with the
    first two terms as one asymptotic series (|z| >= 7.9 there), which does not cancel.
    """
    sign = 1.0 if upper else -1.0
    eta = np.sign(t) * np.sqrt(-2.0 * _log1pmx(t, one))
    z = eta * math.sqrt(0.5 * h)
    zz = sign * z  # the probability is below 1/2 where zz > 0
    small = np.abs(eta) < 0.05
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c0 = np.where(small, -1 / 3 + eta * (1 / 12 + eta * (-2 / 135 + eta * (
            1 / 864 + eta * (1 / 2835 - eta * 139 / 777600)))), 1 / t - 1 / eta)
        c1 = np.where(small, -1 / 540 + eta * (-1 / 288 + eta * (1 / 378 - eta * 77 / 77760)),
                      1 / eta**3 - 1 / t**3 - 1 / t**2 - 1 / (12 * t))
        corr = sign * (c0 + c1 / h) / math.sqrt(2 * math.pi * h)
        inv, term = 0.5 / (zz * zz), 0.5 / (zz * math.sqrt(math.pi))
        series = np.zeros(t.shape)  # ½erfcx(zz) - 1/(2 zz sqrt π) = Σ_{k>=1} term_k
        for k in range(1, 21):
            term = -term * (2 * k - 1) * inv
            series = series + term
        bracket = np.where(small, 0.5 * special.erfcx(np.maximum(zz, 0)) + corr,
                           series + sign * (1 / t + c1 / h) / math.sqrt(2 * math.pi * h))
        return np.where(zz > 0, -z * z + np.log(bracket),
                        np.log(0.5 * special.erfc(np.minimum(zz, 0)) + corr * np.exp(-z * z)))


def _gamma_cdf(h: float, t: FloatArray, one: FloatArray, upper: bool) -> FloatArray:
    """Q(h, h(1+t)) (upper) or P(h, h(1+t))."""
    if h >= _TEMME_MIN_SHAPE:
        return np.exp(_log_gamma_cdf_temme(h, t, one, upper))
    return special.gammaincc(h, h * one) if upper else special.gammainc(h, h * one)


def _gamma_mass_cdf(h: float, t_lo: FloatArray, one_lo: FloatArray,
                    tau: FloatArray) -> FloatArray:
    t_hi, one_hi = t_lo + tau, one_lo + tau
    p_hi, q_lo = _gamma_cdf(h, t_hi, one_hi, False), _gamma_cdf(h, t_lo, one_lo, True)
    out = p_hi + q_lo - 1.0  # the interval holds the median: the mass is not small
    left = p_hi <= 0.5  # otherwise subtract on the side where both terms are small
    out[left] = p_hi[left] - _gamma_cdf(h, t_lo[left], one_lo[left], False)
    right = ~left & (q_lo <= 0.5)
    out[right] = q_lo[right] - _gamma_cdf(h, t_hi[right], one_hi[right], True)
    return out


def _use_gl(h: float, one_lo: FloatArray, tau: FloatArray) -> tuple[FloatArray, Any]:
    """Variation V of the log-density over each interval, and whether GL applies there."""
    one_hi = one_lo + tau
    slope = np.maximum(np.abs((h - 1) / one_lo - h), np.abs((h - 1) / one_hi - h))
    variation = np.maximum(tau * slope, tau * math.sqrt(abs(h - 1)) / one_lo)
    return variation, (one_hi <= 4.0 * one_lo) & (variation <= _GL_TIERS[-1][0])


def _gamma_mass(h: float, delta: float, t_lo: FloatArray, one_lo: FloatArray,
                tau: FloatArray) -> FloatArray:
    """P(h(1+t_lo) <= Y <= h(1+t_lo+tau)), Y ~ Gamma(h), vectorised; one_lo = 1 + t_lo."""
    variation, gl_ok = _use_gl(h, one_lo, tau)
    out, todo = np.empty(t_lo.shape), gl_ok.copy()
    for v_max, n in _GL_TIERS:
        sel = todo & (variation <= v_max)
        if sel.any():
            out[sel] = _gamma_mass_gl(h, delta, t_lo[sel], one_lo[sel], tau[sel], n)
            todo &= ~sel
    cdf = ~gl_ok
    if cdf.any():
        out[cdf] = _gamma_mass_cdf(h, t_lo[cdf], one_lo[cdf], tau[cdf])
    return out


def _log_gamma_tail(h: float, delta: float, y: FloatArray, upper: bool) -> FloatArray:
    """log Q(h, y) or log P(h, y) deep in a tail (h < 5e4), where the value may underflow.

    Laplace form f_h(y)/r ∫ e^{-s} F(s) ds, r the density's decay rate at y and
    F = exp((h-1) log1pmx(±s/(r y))), by 40-node Gauss-Laguerre; near 0 the series
    P = (y/h) f_h(y) Σ_k y^k/((h+1)...(h+k)).
    """
    log_f = _log_density_t(h, delta, y / h - 1.0, y / h) - math.log(h)
    series = np.zeros(y.shape, bool) if upper else (y <= 0.1 * (h + 1)) | (h - 1 - y <= 20)
    ry = np.where(series, 1.0, y - (h - 1) if upper else h - 1 - y)
    nodes, weights = special.roots_laguerre(40)
    u = (1.0 if upper else -1.0) * nodes[None, :] / ry[:, None]
    f_val = np.where(u > -0.5, np.exp((h - 1) * _log1pmx(np.maximum(u, -0.5))), 0.0)
    out = log_f - np.log(ry / y) + np.log(f_val @ weights)  # lower: weight beyond r y < e^-20
    term, total = np.ones(y.shape), np.ones(y.shape)
    for k in range(1, 40):
        term = term * y / (h + k)
        total = total + term
    return np.where(series, log_f + np.log(y / h) + np.log(total), out)


class _Eps:
    """Validated eps > -1 with 1+eps, log1p(eps), log1p(eps)-eps each to full float64 precision."""

    def __init__(self, eps: Any) -> None:
        if isinstance(eps, mpmath.mpf):
            if not mpmath.isfinite(eps):
                raise NonFiniteError(f"`eps` must be finite (got {eps})")
            if eps <= -1:
                raise InvalidParameterError(f"`eps` must be > -1 (got {mpmath.nstr(eps, 17)})")
        self.value = value = float(eps) if isinstance(eps, mpmath.mpf) else check_real(
            "eps", eps, lower=-1.0, lower_open=True)
        if isinstance(eps, mpmath.mpf) and value <= -0.5:  # take 1+eps from the exact mpf sum
            one_plus_mp = mpmath.fadd(1, eps, exact=True)
            with mpmath.workprec(80):
                self.log1p = float(mpmath.log(one_plus_mp))
            self.one_plus, self.log1pmx = float(one_plus_mp), self.log1p - value
        else:
            self.one_plus, self.log1p = 1.0 + value, math.log1p(value)
            self.log1pmx = float(_log1pmx(value))
        if not self.one_plus >= 2.3e-308:
            raise InvalidParameterError("`eps` must be > -1 with 1+eps a normal float64 "
                                        f"(got 1+eps = {self.one_plus})")


def _check_dim(m: Any) -> int:
    return check_int("m", m, minimum=1, maximum=_MAX_DIM)


def kl_isotropic(m: int, eps: float | mpmath.mpf, *,
                 direction: str = "target_to_model") -> Estimate:
    """KL divergence between N(0, s I_m) (target) and N(0, s(1+eps) I_m) (model).

    Parameters
    ----------
    m : int
        Dimension, 1 <= m <= 1e12.
    eps : float or mpmath.mpf
        Relative variance error v/s - 1 of the model, > -1 (an mpf <= -1/2 is added to 1 exactly).
    direction : {"target_to_model", "model_to_target"}
        KL(target ‖ model) or KL(model ‖ target).

    Returns
    -------
    Estimate
        ``ErrorKind.EXACT``, stderr 0 (independent of s).

    Notes
    -----
    KL(target ‖ model) = (m/2)[1/(1+ε) - 1 + log(1+ε)] = (m/2)[log1pmx(ε) + ε²/(1+ε)],
    KL(model ‖ target) = (m/2)[ε - log(1+ε)] = -(m/2) log1pmx(ε), log1pmx = log1p(ε) - ε by
    series for |ε| < 1/4; both ≈ m ε²/4 for small ε (docs/theory.md §4).
    """
    dim = _check_dim(m)
    check_choice("direction", direction, ("target_to_model", "model_to_target"))
    e = _Eps(eps)
    if direction == "target_to_model":
        bracket, formula = e.log1pmx + e.value * (e.value / e.one_plus), "log(1+eps) - eps/(1+eps)"
    else:
        bracket, formula = -e.log1pmx, "eps - log(1+eps)"
    return Estimate(value=max(0.5 * dim * bracket, 0.0), stderr=0.0,
                    method=f"exact closed form KL {direction}: (m/2)[{formula}]",
                    error_kind=ErrorKind.EXACT)


def _gl_scalar(log_density: Callable[[FloatArray], FloatArray], lo: float,
               width: float) -> tuple[float, float]:
    """∫_lo^{lo+width} exp(log_density) by GL32, with |GL32 - GL24| (bounds its error)."""
    vals = [width * float(np.exp(log_density(lo + width * _gl_nodes(n)[0])) @ _gl_nodes(n)[1])
            for n in (32, 24)]
    return vals[0], max(abs(vals[0] - vals[1]), 4e-16 * vals[0])


def tv_isotropic(m: int, eps: float | mpmath.mpf) -> Estimate:
    """Total variation between N(0, s I_m) and N(0, s(1+eps) I_m).

    Parameters
    ----------
    m : int
        Dimension, 1 <= m <= 1e12.
    eps : float or mpmath.mpf
        Relative variance error, > -1.

    Returns
    -------
    Estimate
        ``EXACT`` (incomplete gamma functions) or, when the short interval is integrated,
        ``TOLERANCE`` with stderr |GL32 - GL24|.

    Notes
    -----
    With X = ‖y‖²/s ~ χ²_m under the target the densities cross at r = m(1+ε)log(1+ε)/ε, and
    TV = |P(χ²_m < r) - P(χ²_m < r/(1+ε))| is the Gamma(h) mass (h = m/2) between
    y* = h log(1+ε)/ε and (1+ε)y*, an interval of length h|log(1+ε)|.  TV ≈ |ε| sqrt(m/(4π))
    for small ε (docs/theory.md §4).
    """
    dim, e = _check_dim(m), _Eps(eps)
    if e.value == 0.0:
        return Estimate(value=0.0, stderr=0.0, method="exact: eps = 0", error_kind=ErrorKind.EXACT)
    h = 0.5 * dim
    t_star = e.log1pmx / e.value  # y*/h - 1
    one_star = 1.0 + t_star
    t_lo, one_lo = (t_star, one_star) if e.value > 0 else (
        t_star + e.value * one_star, one_star * e.one_plus)
    args = [np.array([v]) for v in (t_lo, one_lo, abs(e.value) * one_star)]
    if not _use_gl(h, args[1], args[2])[1][0]:
        return Estimate(value=float(_gamma_mass_cdf(h, *args)[0]), stderr=0.0,
                        method="exact chi-square TV: regularized incomplete gamma at the "
                               "crossings", error_kind=ErrorKind.EXACT)
    delta = _stirling_delta(h)
    value, err = _gl_scalar(lambda t: _log_density_t(h, delta, t, t - t_lo + one_lo),
                            t_lo, abs(e.value) * one_star)
    return Estimate(value=value, stderr=err, error_kind=ErrorKind.TOLERANCE,
                    method="exact chi-square TV: Gauss-Legendre (32 nodes) of the Gamma(m/2) "
                           "log-density between the crossings")


def _orthogonal_g(log_c: FloatArray, h: float, e: _Eps) -> FloatArray:
    """g(c) of :func:`orthogonal_tv_factor` at log c, vectorised."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if e.value == 0.0:
            return np.where(log_c < 0, -np.expm1(np.minimum(log_c, 0.0)), 0.0)
        one_star = (log_c + h * e.log1p) / (h * e.value)  # y*/h
        # y* <= 0: c φ <= 1 everywhere (eps > 0) or c φ >= 1 everywhere (eps < 0, c > 0)
        out: FloatArray = (-np.expm1(np.minimum(log_c, 0.0)) if e.value > 0
                           else np.isneginf(log_c).astype(np.float64))
    live = np.isfinite(one_star) & (one_star > 0)
    lc, one_star = log_c[live], one_star[live]
    t_star = np.where(np.abs(one_star - 1) > 0.5, one_star - 1,
                      (lc + h * e.log1pmx) / (h * e.value))
    t_other, one_other = t_star + e.value * one_star, one_star * e.one_plus  # (1+eps) y*
    upper = e.value > 0
    t_lo, one_lo = (t_star, one_star) if upper else (t_other, one_other)
    tau, delta = abs(e.value) * one_star, _stirling_delta(h)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if h >= _TEMME_MIN_SHAPE:
            log_tail = _log_gamma_cdf_temme(h, t_other, one_other, upper)
            tail = np.exp(log_tail)
        else:
            tail = _gamma_cdf(h, t_other, one_other, upper)
            log_tail = np.log(tail)
        # mass <= width × largest density on the interval (at an end, or at the mode t = -1/h:
        # the log-density is concave for h >= 1 and decreasing for h < 1)
        log_dens = np.maximum(_log_density_t(h, delta, t_lo, one_lo),
                              _log_density_t(h, delta, t_lo + tau, one_lo + tau))
        if h > 1:
            mode = np.array([-1.0 / h])
            inside = (t_lo < mode) & (mode < t_lo + tau)
            log_dens[inside] = _log_density_t(h, delta, mode, 1.0 + mode)[0]
        log_mass_bound = np.log(tau) + log_dens
        # skip what underflows, and for c < 1 (two positive terms) what is < 1e-17 of the rest
        skip = (log_mass_bound < -746.0) | (
            (lc < 0) & (log_mass_bound < np.log(-np.expm1(np.minimum(lc, 0.0)) * tail) - 40.0))
    mass = np.zeros(lc.shape)
    mass[~skip] = _gamma_mass(h, delta, t_lo[~skip], one_lo[~skip], tau[~skip])
    deep = (tail < _TINY) & (lc >= 1) & (mass > 0)  # where c·tail may matter though tail is tiny
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if h < _TEMME_MIN_SHAPE and deep.any():
            log_tail[deep] = _log_gamma_tail(h, delta, h * one_other[deep], upper)
        # (c-1)·tail; c·tail <= 1 always, so exp(log c + log tail) cannot overflow
        c_minus_1_tail = np.where(lc < 1, np.expm1(np.minimum(lc, 1.0)) * tail,
                                  np.exp(lc + log_tail) - tail)
    out[live] = np.clip(mass - c_minus_1_tail, 0.0, 1.0)
    return out


def orthogonal_tv_factor(log_ratio_k: ArrayLike, m: int, eps: float | mpmath.mpf) -> FloatArray:
    """Per-sample factor g(c) whose mean under q_k is the exact TV of the product split.

    Parameters
    ----------
    log_ratio_k : ndarray, shape (n,)
        log c = log p_k(y_k) - log q_k(y_k) at samples y_k ~ q_k; -inf (p_k = 0) is allowed.
    m : int
        Dimension of the orthogonal complement, 1 <= m <= 1e12.
    eps : float or mpmath.mpf
        Relative variance error of the model on the complement, > -1.

    Returns
    -------
    ndarray, shape (n,)
        g(c) in [0, 1]; TV(p_k ⊗ N(0,sI_m), q_k ⊗ N(0,s(1+ε)I_m)) = E_{q_k}[g(c)].

    Notes
    -----
    g(c) = E[(1 - c φ)_+], y⊥ ~ N(0, s(1+ε)I_m), φ = p⊥/q⊥ = (1+ε)^h e^{-εY}, Y =
    ‖y⊥‖²/(2s(1+ε)) ~ Gamma(h), h = m/2.  With y* = (log c + h log(1+ε))/ε, a = 1+ε, y* > 0:
    g = Q(h, y*) - c Q(h, a y*) (ε > 0), g = P(h, y*) - c P(h, a y*) (ε < 0); y* <= 0 gives
    1 - c (ε > 0) or 0, and ε = 0 gives (1 - c)_+.  Evaluated as D - (c-1)R, D the mass between
    y* and a y* and R the tail at a y* (in log space if it underflows): two non-negative terms
    when c < 1, and nothing close to 1 is subtracted.
    """
    arr = np.asarray(log_ratio_k, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidParameterError(f"`log_ratio_k` must be 1-dimensional (got shape {arr.shape})")
    bad = np.isnan(arr) | np.isposinf(arr)
    if bad.any():
        raise NonFiniteError("`log_ratio_k` must not be NaN or +inf (bad entry at index "
                             f"{int(np.flatnonzero(bad)[0])})")
    return _orthogonal_g(arr, 0.5 * _check_dim(m), _Eps(eps))


def orthogonal_tv_bounds(tv_k: float, tv_perp: float) -> tuple[float, float]:
    """``(max(tv_k, tv_perp), min(1, tv_k + tv_perp))``: bounds on the TV of a product.

    ``tv_k``, ``tv_perp`` (floats in [0, 1]) are the TVs of the two factors (docs/theory.md §5);
    capping the sum at 1 keeps it a valid upper bound.
    """
    lo = check_real("tv_k", tv_k, lower=0.0, upper=1.0)
    hi = check_real("tv_perp", tv_perp, lower=0.0, upper=1.0)
    return max(lo, hi), min(1.0, lo + hi)


def _check_spd(name: str, cov: FloatArray) -> FloatArray:
    if not np.allclose(cov, cov.T, rtol=1e-12, atol=0.0):
        raise InvalidParameterError(f"`{name}` must be symmetric")
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise InvalidParameterError(f"`{name}` must be positive definite (Cholesky failed: "
                                    "singular or indefinite)") from None
    eig = np.linalg.eigvalsh(cov)
    if eig[0] <= 1e-14 * cov.shape[0] * eig[-1]:
        raise InvalidParameterError(f"`{name}` must be positive definite (numerically singular:"
                                    f" eigenvalue ratio {eig[0] / eig[-1]:.3g})")
    return np.asarray(chol)


def kl_gaussian(mean_p: ArrayLike, cov_p: ArrayLike, mean_q: ArrayLike,
                cov_q: ArrayLike) -> Estimate:
    """KL(p ‖ q) between p = N(mean_p, cov_p) and q = N(mean_q, cov_q).

    Parameters
    ----------
    mean_p, mean_q : ndarray, shape (d,)
    cov_p, cov_q : ndarray, shape (d, d)
        Symmetric positive definite (singular ``cov_p``: KL infinite; singular ``cov_q``:
        undefined; both rejected).

    Returns
    -------
    Estimate
        ``ErrorKind.EXACT``.

    Notes
    -----
    With Σ_q = L Lᵀ, μ_i the eigenvalues of L⁻¹(Σ_p - Σ_q)L⁻ᵀ and δ = L⁻¹(m_q - m_p),
    KL = ½[tr(Σ_q⁻¹Σ_p) - d + log det Σ_q - log det Σ_p + δᵀδ] = ½[Σ_i (μ_i - log1p μ_i) + δᵀδ];
    forming Σ_p - Σ_q before whitening keeps full relative precision when Σ_p ≈ Σ_q.
    """
    m_p = check_finite_array("mean_p", mean_p, ndim=1)
    d = m_p.shape[0]
    c_p = check_finite_array("cov_p", cov_p, shape=(d, d))
    m_q = check_finite_array("mean_q", mean_q, shape=(d,))
    c_q = check_finite_array("cov_q", cov_q, shape=(d, d))
    _check_spd("cov_p", c_p)
    chol_q = _check_spd("cov_q", c_q)
    half = linalg.solve_triangular(chol_q, c_p - c_q, lower=True)
    whitened = linalg.solve_triangular(chol_q, half.T, lower=True)
    mu = np.linalg.eigvalsh(0.5 * (whitened + whitened.T))
    delta = linalg.solve_triangular(chol_q, m_q - m_p, lower=True)
    value = 0.5 * (float(np.sum(-_log1pmx(mu))) + float(delta @ delta))
    return Estimate(value=max(value, 0.0), stderr=0.0, error_kind=ErrorKind.EXACT,
                    method="exact closed form KL(p||q): Cholesky whitening + eigenvalues")


def _normal_mass(lo: float, width: float) -> tuple[float, float, bool]:
    """Φ(lo + width) - Φ(lo), width >= 0: (value, error estimate, quadrature used)."""
    hi = lo + width
    if width * max(abs(lo), abs(hi), 1.0) <= _GL_TIERS[-1][0]:
        return (*_gl_scalar(lambda z: -0.5 * z * z - _HALF_LOG_2PI, lo, width), True)
    if hi <= 0 or lo >= 0:  # both in one tail: subtract the two small probabilities
        return float(abs(special.ndtr(-abs(lo)) - special.ndtr(-abs(hi)))), 0.0, False
    return float(1.0 - special.ndtr(lo) - special.ndtr(-hi)), 0.0, False


def tv_gaussian_1d(mean_p: float, var_p: float, mean_q: float, var_q: float) -> Estimate:
    """Total variation between N(mean_p, var_p) and N(mean_q, var_q).

    Parameters
    ----------
    mean_p, mean_q : float
    var_p, var_q : float
        Variances, > 0.

    Returns
    -------
    Estimate
        ``EXACT`` (normal CDFs only) or ``TOLERANCE`` (a short normal mass integrated by
        Gauss-Legendre, stderr |GL32 - GL24|).

    Notes
    -----
    In p's standard coordinates q = N(δ, 1+e), δ = (μ_q-μ_p)/σ_p, e = (σ_q²-σ_p²)/σ_p²; the
    densities cross where e x² + 2δx - [δ² + (1+e)log(1+e)] = 0 (stable quadratic formula).
    H(x) = Φ((x-δ)/sqrt(1+e)) - Φ(x) has H' = q - p, so TV = |H(x₁)| + |H(x₂)|, two masses of
    short intervals.  e = 0: TV = 2Φ(|δ|/2) - 1 = erf(|δ|/(2√2)).
    """
    m_p, m_q = check_real("mean_p", mean_p), check_real("mean_q", mean_q)
    v_p = check_real("var_p", var_p, lower=0.0, lower_open=True)
    v_q = check_real("var_q", var_q, lower=0.0, lower_open=True)
    delta, e = (m_q - m_p) / math.sqrt(v_p), (v_q - v_p) / v_p  # both exact-ish when close
    if e == 0.0:
        return Estimate(value=math.erf(abs(delta) / (2 * math.sqrt(2))), stderr=0.0,
                        method="exact: equal variances, erf(|Δμ|/(2√2 σ))",
                        error_kind=ErrorKind.EXACT)
    one_plus, scale = v_q / v_p, math.sqrt(v_q / v_p)
    root = math.sqrt(one_plus * (delta * delta + e * math.log1p(e)))
    qq = -(delta + math.copysign(root, delta))
    total, err, used_gl = 0.0, 0.0, False
    for x in (qq / e, -(delta * delta + one_plus * math.log1p(e)) / qq):
        if abs(x) < 1e150:  # beyond, both CDFs are exactly 0 or 1
            width = (-x * e / (1.0 + scale) - delta) / scale  # (x-δ)/σ - x, no cancellation
            value, err_x, gl = _normal_mass(min(x, x + width), abs(width))
            total, err, used_gl = total + value, err + err_x, used_gl or gl
    return Estimate(value=min(total, 1.0), stderr=err,
                    error_kind=ErrorKind.TOLERANCE if used_gl else ErrorKind.EXACT,
                    method="exact 1-D Gaussian TV: crossing points + normal masses")


class _GammaGroup:
    """A group of tv_diagonal (h = m_j/2, eps_j), integrated over W = log(Y/h), Y ~ Gamma(h)."""

    def __init__(self, half_dim: float, eps: float) -> None:
        self.h, self.e, self.delta = half_dim, _Eps(eps), _stirling_delta(half_dim)
        self.sd = sd = math.sqrt(float(special.polygamma(1, half_dim)))  # sd of log Y
        center = float(special.digamma(half_dim)) - math.log(half_dim)
        self.limits = (center - 45.0 * sd, center + 45.0 * sd)  # outside: mass < e^-40
        self.points = [center + k * sd for k in (-6, -2, 0, 2, 6)]
        steps = (0, 1, 2, 3, 4, 6, 9, 14, 20, 30, 45)  # composite-rule pieces, in sd of log Y
        self.breaks = sorted({center + sign * k * sd for k in steps for sign in (-1, 1)})

    def density(self, w: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", over="ignore"):
            return np.exp(_log_density_t(self.h, self.delta, np.expm1(w), np.exp(w)) + w)

    def log_c(self, w: FloatArray) -> FloatArray:
        """The group's h log(1+eps) - eps Y, computed as h[log1pmx(eps) - eps(e^w - 1)]."""
        return self.h * (self.e.log1pmx - self.e.value * np.expm1(w))

    def kink(self, log_c_rest: float, inner: _GammaGroup) -> list[float]:
        """w where the inner y* crosses 0: g is only finitely differentiable there."""
        y_kink = (log_c_rest + self.h * self.e.log1p + inner.h * inner.e.log1p) / self.e.value
        w_kink = math.log(y_kink / self.h) if y_kink > 0 else -math.inf
        return [w_kink] if self.limits[0] < w_kink < self.limits[1] else []

    def graded_kink(self, log_c_rest: float, inner: _GammaGroup) -> list[float]:
        """The kink and points graded geometrically towards it (fixed rules need them)."""
        return [k + sign * self.sd * 2.0**-j for k in self.kink(log_c_rest, inner)
                for j in range(12) for sign in (-1, 0, 1)]

    def expect_g(self, log_c_rest: float, inner: _GammaGroup) -> tuple[float, float]:
        """E[g_inner(log c_rest + log c)] by composite GL (15 nodes per piece, vs 10 for the
        error estimate), all nodes in one vectorised call."""
        breaks = np.unique(np.clip(self.breaks + self.graded_kink(log_c_rest, inner),
                                   *self.limits))
        lo, width = breaks[:-1, None], np.diff(breaks)[:, None]
        rules = [((lo + width * _gl_nodes(n)[0]).ravel(), (width * _gl_nodes(n)[1]).ravel())
                 for n in (15, 10)]
        w = np.concatenate([rules[0][0], rules[1][0]])
        vals = self.density(w) * _orthogonal_g(log_c_rest + self.log_c(w), inner.h, inner.e)
        split = rules[0][0].size
        fine, coarse = float(vals[:split] @ rules[0][1]), float(vals[split:] @ rules[1][1])
        return fine, abs(fine - coarse)


def tv_diagonal(var_p: ArrayLike, var_q: ArrayLike, *, rtol: float = 1e-10) -> Estimate:
    """Total variation between N(0, diag(var_p)) and N(0, diag(var_q)).

    Parameters
    ----------
    var_p, var_q : ndarray, shape (m,)
        Positive variances.
    rtol : float
        Relative tolerance in [1e-14, 1e-2] of the quadrature and of grouping: coordinates whose
        eps_i = var_q_i/var_p_i - 1 agree to ``rtol`` share a group (count-weighted mean eps).

    Returns
    -------
    Estimate
        One group with eps != 0: :func:`tv_isotropic`.  Two or three: ``ErrorKind.TOLERANCE``,
        stderr = outer quadrature error + largest inner error (+ spread of merged eps × value).

    Raises
    ------
    InvalidParameterError
        More than three distinct ratios (named ``var_p``), or invalid inputs.

    Notes
    -----
    With groups j of m_j coordinates and ratio 1+ε_j, Y_j ~ Gamma(h_j = m_j/2) under q and
    log(p/q) = Σ_j [h_j log(1+ε_j) - ε_j Y_j].  Conditioning on every group but the most
    influential one (largest |log(1+ε_j)| sqrt(h_j)) leaves g of :func:`orthogonal_tv_factor`,
    and TV = E[g] is integrated over W_j = log(Y_j/h_j) of the others, on whose scale the
    integrand is smooth, with breakpoints where g is only finitely differentiable:
    scipy.integrate.quad (relative tolerance ``rtol``) outside, composite Gauss-Legendre for a
    third group inside.  (No inverse gamma CDF: scipy's is as inaccurate as gammainc for large h.)
    """
    v_p = check_finite_array("var_p", var_p, ndim=1)
    v_q = check_finite_array("var_q", var_q, shape=v_p.shape)
    if v_p.size == 0:
        raise InvalidParameterError("`var_p` must have at least one entry (got shape (0,))")
    for name, arr in (("var_p", v_p), ("var_q", v_q)):
        if np.any(arr <= 0):
            raise InvalidParameterError(f"`{name}` must be > 0 (got min {arr.min()})")
    tol = check_real("rtol", rtol, lower=1e-14, upper=1e-2)
    values, counts = np.unique((v_q - v_p) / v_p, return_counts=True)  # sorted
    return _tv_groups(values.tolist(), counts.tolist(), tol, "`var_p` and `var_q`")


def tv_ratio_groups(counts: Sequence[int], eps: Sequence[float], *,
                    rtol: float = 1e-10) -> Estimate:
    """TV between ``N(0, I)`` and ``N(0, diag)`` given as groups of equal variance ratios.

    Parameters
    ----------
    counts : sequence of int, length g
        Number of coordinates ``m_j >= 1`` of each group (up to 1e12 each: nothing of size d is
        allocated).
    eps : sequence of float, length g
        Relative variance error ``ε_j > -1`` of group j (model variance ``1+ε_j``).
    rtol : float
        As in :func:`tv_diagonal`.

    Returns
    -------
    Estimate
        Same method and errors as :func:`tv_diagonal` (at most three distinct ratios).

    Raises
    ------
    InvalidParameterError
        Mismatched lengths, a count < 1, ``ε_j <= -1``, more than three distinct ratios.
    """
    if len(counts) != len(eps) or not counts:
        raise InvalidParameterError(f"`counts` and `eps` must be non-empty and of equal length "
                                    f"(got {len(counts)} and {len(eps)})")
    sizes = [check_int(f"counts[{j}]", c, minimum=1, maximum=_MAX_DIM)
             for j, c in enumerate(counts)]
    ratios = [check_real(f"eps[{j}]", e, lower=-1.0, lower_open=True) for j, e in enumerate(eps)]
    tol = check_real("rtol", rtol, lower=1e-14, upper=1e-2)
    merged: dict[float, int] = {}
    for value, size in zip(ratios, sizes, strict=True):
        merged[value] = merged.get(value, 0) + size
    ordered = sorted(merged)
    return _tv_groups(ordered, [merged[v] for v in ordered], tol, "`eps`")


def _tv_groups(values: list[float], counts: list[int], tol: float, name: str) -> Estimate:
    """Core of :func:`tv_diagonal`: sorted distinct ``values`` (ε) with their ``counts``."""
    groups: list[list[tuple[float, int]]] = []
    for value, count in zip(values, counts, strict=True):
        first = groups[-1][0][0] if groups else math.nan
        if groups and abs(value - first) <= tol * max(abs(value), abs(first)):
            groups[-1].append((value, count))
        else:
            groups.append([(value, count)])
    parts = []  # (h, count-weighted mean eps, relative spread) of the groups with eps != 0
    for grp in groups:
        size = sum(c for _, c in grp)
        mean = sum(v * c for v, c in grp) / size
        if mean != 0.0:
            parts.append((0.5 * size, mean, (grp[-1][0] - grp[0][0]) / abs(mean)))
    if not parts:
        return Estimate(value=0.0, stderr=0.0, method="exact: var_p == var_q",
                        error_kind=ErrorKind.EXACT)
    if len(parts) > 3:
        raise InvalidParameterError(
            f"{name} must have at most 3 distinct variance ratios within rtol "
            f"(got {len(parts)}); the exact quadrature is implemented for 1 to 3 groups")
    spread = max(p[2] for p in parts)
    if len(parts) == 1:
        iso = tv_isotropic(round(2 * parts[0][0]), parts[0][1])
        return Estimate(value=iso.value, stderr=iso.stderr + spread * iso.value,
                        method=f"tv_diagonal, one ratio group -> {iso.method}",
                        error_kind=ErrorKind.TOLERANCE if spread else iso.error_kind)
    parts.sort(key=lambda p: abs(math.log1p(p[1])) * math.sqrt(p[0]))
    inner = _GammaGroup(parts[-1][0], parts[-1][1])
    outer, *middle = [_GammaGroup(h, eps) for h, eps, _ in parts[:-1]]
    inner_err = [0.0]

    def integrand(w: float) -> float:
        log_c = float(outer.log_c(np.array([w]))[0])
        if middle:
            val, err_mid = middle[0].expect_g(log_c, inner)
            inner_err[0] = max(inner_err[0], err_mid)
        else:
            val = float(_orthogonal_g(np.array([log_c]), inner.h, inner.e)[0])
        return float(outer.density(np.array([w]))[0]) * val

    value, abserr, *_ = integrate.quad(
        integrand, *outer.limits, points=sorted(outer.points + outer.kink(0.0, inner)),
        epsabs=1e-300, epsrel=tol, limit=200, full_output=1)  # full_output: no warnings
    return Estimate(value=float(value), stderr=float(abserr) + inner_err[0] + spread * value,
                    error_kind=ErrorKind.TOLERANCE,
                    method=f"tv_diagonal: {len(parts)} ratio groups, adaptive quadrature over "
                           f"{len(parts) - 1} log-gamma variable(s) of the closed-form factor g")
