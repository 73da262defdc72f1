"""Tests of theorycheck.divergences.gaussian against mpmath (60 digits) and Monte Carlo."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

from theorycheck.divergences.gaussian import (
    kl_gaussian,
    kl_isotropic,
    orthogonal_tv_bounds,
    orthogonal_tv_factor,
    tv_diagonal,
    tv_gaussian_1d,
    tv_isotropic,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import ErrorKind

DIMS = [1, 2, 7, 1000, 10**6, 10**9]
EPSILONS = [1e-12, -1e-12, 1e-6, -1e-6, 1e-2, 0.5, 3.0, -0.9]


# ---------------------------------------------------------------- mpmath references (60 digits)
def _gamma_mass_ref(h: mpmath.mpf, lo: mpmath.mpf, hi: mpmath.mpf) -> mpmath.mpf:
    """Gamma(h) mass of [lo, hi]; mpmath.gammainc does not converge for h >~ 1e5, so larger
    shapes integrate the density over the part of [lo, hi] within 40 sd of the mean."""
    if h <= 1000:
        return mpmath.gammainc(h, lo, hi, regularized=True)
    sd, log_gamma = mpmath.sqrt(h), mpmath.loggamma(h)
    a, b = max(lo, h - 40 * sd), min(hi, h + 40 * sd)
    if a >= b:
        return mpmath.mpf(0)
    pieces = max(1, int(mpmath.ceil((b - a) / (4 * sd))))
    return mpmath.quad(lambda y: mpmath.exp((h - 1) * mpmath.log(y) - y - log_gamma),
                       mpmath.linspace(a, b, pieces + 1))


def _tv_iso_ref(m: int, eps: float) -> float:
    with mpmath.workdps(60):
        e, h = mpmath.mpf(eps), mpmath.mpf(m) / 2
        lo = h * mpmath.log1p(e) / e
        return float(_gamma_mass_ref(h, min(lo, lo * (1 + e)), max(lo, lo * (1 + e))))


def _g_ref(log_c: float, m: int, eps: float) -> float:
    """g(c) = Q(h,y*) - cQ(h,ay*) (eps > 0) or P(h,y*) - cP(h,ay*) (eps < 0), h <= 500."""
    with mpmath.workdps(60):
        e, h, lc = mpmath.mpf(eps), mpmath.mpf(m) / 2, mpmath.mpf(log_c)
        y_star = (lc + h * mpmath.log1p(e)) / e
        if y_star <= 0:
            return float(-mpmath.expm1(lc)) if e > 0 else 0.0
        tail = (lambda y: mpmath.gammainc(h, y, mpmath.inf, regularized=True)) if e > 0 else (
            lambda y: mpmath.gammainc(h, 0, y, regularized=True))
        return float(tail(y_star) - mpmath.exp(lc) * tail((1 + e) * y_star))


# ------------------------------------------------------------------------------ kl_isotropic
@pytest.mark.parametrize("m", [1, 7, 10**9, 10**12])
@pytest.mark.parametrize("eps", [*EPSILONS, 10.0, -1e-20])
def test_kl_isotropic_matches_mpmath(m: int, eps: float) -> None:
    with mpmath.workdps(60):
        e = mpmath.mpf(eps)
        fwd = float(m * (1 / (1 + e) - 1 + mpmath.log1p(e)) / 2)
        rev = float(m * (e - mpmath.log1p(e)) / 2)
    assert kl_isotropic(m, eps).value == pytest.approx(fwd, rel=1e-14, abs=0)
    est = kl_isotropic(m, eps, direction="model_to_target")
    assert est.value == pytest.approx(rev, rel=1e-14, abs=0)
    assert est.error_kind is ErrorKind.EXACT and est.stderr == 0.0


def test_kl_isotropic_small_eps_asymptotic_and_zero() -> None:
    assert kl_isotropic(10**9, 1e-9).value == pytest.approx(1e9 * 1e-18 / 4, rel=1e-8)
    assert kl_isotropic(7, 1e-150).value == pytest.approx(7e-300 / 4, rel=1e-15)
    assert kl_isotropic(5, 0.0).value == 0.0


def test_kl_isotropic_mpf_eps_near_minus_one() -> None:
    with mpmath.workdps(60):
        eps = mpmath.mpf(-1) + mpmath.mpf(2) ** -80  # float(eps) == -1.0: 1+eps must come exact
        want = float(3 * (1 / (1 + eps) - 1 + mpmath.log1p(eps)) / 2)
    assert kl_isotropic(3, eps).value == pytest.approx(want, rel=1e-14)
    assert kl_isotropic(3, mpmath.mpf("1e-7")).value == pytest.approx(
        kl_isotropic(3, 1e-7).value, rel=1e-15)


# ------------------------------------------------------------------------------ tv_isotropic
@pytest.mark.parametrize("m", DIMS)
@pytest.mark.parametrize("eps", EPSILONS)
def test_tv_isotropic_matches_mpmath(m: int, eps: float) -> None:
    est = tv_isotropic(m, eps)
    assert est.value == pytest.approx(_tv_iso_ref(m, eps), rel=1e-10, abs=0)
    assert est.stderr <= 1e-12 * est.value


@pytest.mark.parametrize("m", [10**6, 10**9])
@pytest.mark.parametrize("eps", [1e-9, -1e-9, 1e-12])
def test_tv_isotropic_small_eps_asymptotic(m: int, eps: float) -> None:
    # TV = |eps| sqrt(m/(4π)) (1 + O(1/m) + O(eps sqrt m))
    assert tv_isotropic(m, eps).value == pytest.approx(abs(eps) * math.sqrt(m / (4 * math.pi)),
                                                       rel=1e-4)


def test_tv_isotropic_edge_values() -> None:
    zero = tv_isotropic(10**9, 0.0)
    assert zero.value == 0.0 and zero.error_kind is ErrorKind.EXACT
    assert tv_isotropic(10**9, 3.0).value == 1.0
    assert tv_isotropic(3, mpmath.mpf("1e-6")).value == pytest.approx(
        tv_isotropic(3, 1e-6).value, rel=1e-15)
    with mpmath.workprec(100):
        near_minus_one = mpmath.mpf(-1) + mpmath.mpf(2) ** -80  # float(...) == -1.0
    assert tv_isotropic(1, near_minus_one).value == pytest.approx(1.0, abs=1e-10)


# ----------------------------------------------------------------------- orthogonal_tv_factor
@pytest.mark.parametrize("m", [1, 7, 1000])
@pytest.mark.parametrize("eps", [1e-12, -1e-6, 1e-2, 3.0, -0.9])
def test_orthogonal_factor_matches_mpmath(m: int, eps: float) -> None:
    log_c = np.array([-50.0, -3.0, -0.1, -1e-9, 0.0, 1e-9, 0.1, 3.0, 50.0])
    got = orthogonal_tv_factor(log_c, m, eps)
    want = np.array([_g_ref(lc, m, eps) for lc in log_c])
    # relative 1e-9 for g down to 1e-200; values below that are irrelevant to any mean
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-200)


@pytest.mark.parametrize(("m", "eps", "z_star"), [(10**6, 1e-3, -2.0), (10**6, -1e-3, 1.5),
                                                  (10**9, 1e-6, 0.5), (10**9, -0.5, -3.0),
                                                  (10**9, 1e-9, 6.0), (10**5, 0.2, 30.0)])
def test_orthogonal_factor_large_m_matches_quadrature(m: int, eps: float, z_star: float) -> None:
    # log c chosen so that y* = h + z_star sd; the reference uses the same float log c:
    # g = ∫ Gamma(h) density · (1 - exp(-eps (y - y*))) over the side where it is positive
    h_f = m / 2
    log_c = eps * (h_f + z_star * math.sqrt(h_f)) - h_f * math.log1p(eps)
    with mpmath.workdps(60):
        e, h = mpmath.mpf(eps), mpmath.mpf(m) / 2
        y_star = (log_c + h * mpmath.log1p(e)) / e
        sd, log_gamma = mpmath.sqrt(h), mpmath.loggamma(h)
        lo, hi = (y_star, h + 40 * sd) if e > 0 else (h - 40 * sd, y_star)
        grid = sorted({lo, hi, *[p for p in (h + k * sd for k in range(-40, 41, 2)) if lo < p < hi]})
        want = float(mpmath.quad(lambda y: mpmath.exp((h - 1) * mpmath.log(y) - y - log_gamma)
                                 * -mpmath.expm1(-e * (y - y_star)), grid))
    assert orthogonal_tv_factor(np.array([log_c]), m, eps)[0] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("m", [1, 7, 10**6, 10**9])
@pytest.mark.parametrize("eps", [1e-9, -1e-6, 0.5, -0.9])
def test_orthogonal_factor_identities(m: int, eps: float) -> None:
    # p_k = q_k (c = 1): the product TV is tv_isotropic; c -> 0 gives 1; g decreases in c
    assert orthogonal_tv_factor(np.array([0.0]), m, eps)[0] == pytest.approx(
        tv_isotropic(m, eps).value, rel=1e-12)
    log_c = np.concatenate([[-np.inf, -1e300], np.linspace(-40, 40, 401), [1e300]])
    g = orthogonal_tv_factor(log_c, m, eps)
    assert g[0] == 1.0 and g[1] == pytest.approx(1.0) and g[-1] == 0.0
    assert np.all((g >= 0) & (g <= 1)) and np.all(np.diff(g) <= 1e-15)


def test_orthogonal_factor_eps_zero_is_positive_part() -> None:
    log_c = np.array([-np.inf, -2.0, -1e-12, 0.0, 1e-12, 5.0])
    np.testing.assert_allclose(orthogonal_tv_factor(log_c, 10**9, 0.0),
                               np.maximum(-np.expm1(log_c), 0.0), rtol=1e-15, atol=0)


def test_product_tv_monte_carlo_and_bounds() -> None:
    # p = N(0,1) ⊗ N(0, s I_3), q = N(0.4, 1.3) ⊗ N(0, s(1+eps) I_3); exact TV = E_{q_k}[g]
    rng = np.random.default_rng(20240611)
    m, eps, s, mu, var = 3, 0.6, 0.01, 0.4, 1.3
    y_k = rng.normal(mu, math.sqrt(var), 400_000)
    log_c = -0.5 * y_k**2 + 0.5 * (y_k - mu) ** 2 / var + 0.5 * math.log(var)
    g = orthogonal_tv_factor(log_c, m, eps)
    split, split_se = g.mean(), g.std(ddof=1) / math.sqrt(g.size)
    y_perp = rng.normal(0.0, math.sqrt(s * (1 + eps)), (y_k.size, m))  # brute force in 4-D
    log_phi = 0.5 * m * math.log1p(eps) - 0.5 * (y_perp**2).sum(axis=1) / s * eps / (1 + eps)
    brute = np.maximum(-np.expm1(log_c + log_phi), 0.0)
    se = math.hypot(split_se, brute.std(ddof=1) / math.sqrt(brute.size))
    assert abs(split - brute.mean()) <= 4 * se, f"seed 20240611: {split} vs {brute.mean()}"
    tv_k, tv_perp = tv_gaussian_1d(0.0, 1.0, mu, var).value, tv_isotropic(m, eps).value
    lower, upper = orthogonal_tv_bounds(tv_k, tv_perp)
    assert lower - 4 * split_se <= split <= upper + 4 * split_se
    # eps = 0: the product TV is the k-part's TV
    g0 = orthogonal_tv_factor(log_c, m, 0.0)
    assert abs(g0.mean() - tv_k) <= 4 * g0.std(ddof=1) / math.sqrt(g0.size)


def test_orthogonal_tv_bounds() -> None:
    assert orthogonal_tv_bounds(0.2, 0.3) == (0.3, 0.5)
    assert orthogonal_tv_bounds(0.7, 0.6) == (0.7, 1.0)
    with pytest.raises(InvalidParameterError, match=r"`tv_perp` must be <= 1\.0"):
        orthogonal_tv_bounds(0.1, 1.5)
    with pytest.raises(InvalidParameterError, match=r"`tv_k` must be >= 0\.0"):
        orthogonal_tv_bounds(-0.1, 0.5)


# ------------------------------------------------------------------------------- kl_gaussian
def _kl_ref(m_p: np.ndarray, c_p: np.ndarray, m_q: np.ndarray, c_q: np.ndarray) -> float:
    with mpmath.workdps(60):
        cp, cq = mpmath.matrix(c_p.tolist()), mpmath.matrix(c_q.tolist())
        diff = mpmath.matrix((m_q - m_p).tolist())
        inv_q = cq**-1
        quad = (diff.T * inv_q * diff)[0]
        trace = sum((inv_q * cp)[i, i] for i in range(cp.rows))
        return float((trace - cp.rows + mpmath.log(mpmath.det(cq) / mpmath.det(cp)) + quad) / 2)


def test_kl_gaussian_matches_mpmath() -> None:
    rng = np.random.default_rng(7)
    for d in (1, 3, 6):
        a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
        c_p, c_q = a @ a.T + 0.5 * np.eye(d), b @ b.T + 0.5 * np.eye(d)
        m_p, m_q = rng.normal(size=d), rng.normal(size=d)
        assert kl_gaussian(m_p, c_p, m_q, c_q).value == pytest.approx(
            _kl_ref(m_p, c_p, m_q, c_q), rel=1e-11)


def test_kl_gaussian_nearly_equal_covariances() -> None:
    eps, d = 2.0**-40, 5  # 1 + eps is exact in float64
    got = kl_gaussian(np.zeros(d), np.eye(d), np.zeros(d), (1 + eps) * np.eye(d)).value
    assert got == pytest.approx(kl_isotropic(d, eps).value, rel=1e-12)
    assert kl_gaussian([0.0], [[2.0]], [1e-7], [[2.0]]).value == pytest.approx(1e-14 / 4, rel=1e-14)


def test_kl_gaussian_errors() -> None:
    eye = np.eye(2)
    with pytest.raises(InvalidParameterError, match=r"`cov_q` must be positive definite"):
        kl_gaussian([0, 0], eye, [0, 0], [[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(InvalidParameterError, match=r"`cov_q` must be positive definite "
                                                    r"\(numerically singular"):
        kl_gaussian([0, 0], eye, [0, 0], [[1.0, 0.0], [0.0, 1e-17]])
    with pytest.raises(InvalidParameterError, match=r"`cov_p` must be positive definite"):
        kl_gaussian([0, 0], [[1.0, 2.0], [2.0, 1.0]], [0, 0], eye)
    with pytest.raises(InvalidParameterError, match=r"`cov_p` must be symmetric"):
        kl_gaussian([0, 0], [[1.0, 0.5], [0.0, 1.0]], [0, 0], eye)
    with pytest.raises(InvalidParameterError, match=r"`cov_q` must have shape \(2, 2\)"):
        kl_gaussian([0, 0], eye, [0, 0], np.eye(3))
    with pytest.raises(InvalidParameterError, match=r"`mean_q` must have shape \(2\)"):
        kl_gaussian([0, 0], eye, [0, 0, 0], eye)
    with pytest.raises(InvalidParameterError, match=r"`mean_p` must be 1-dimensional"):
        kl_gaussian(eye, eye, [0, 0], eye)
    with pytest.raises(NonFiniteError, match=r"`cov_p` must be finite"):
        kl_gaussian([0, 0], [[np.nan, 0], [0, 1]], [0, 0], eye)


# ---------------------------------------------------------------------------- tv_gaussian_1d
def _tv_1d_ref(m_p: float, v_p: float, m_q: float, v_q: float) -> float:
    with mpmath.workdps(60):
        m_p, v_p, m_q, v_q = (mpmath.mpf(x) for x in (m_p, v_p, m_q, v_q))
        s_p, s_q = mpmath.sqrt(v_p), mpmath.sqrt(v_q)
        # log p - log q = a x² + b x + c
        a, b = 1 / (2 * v_q) - 1 / (2 * v_p), m_p / v_p - m_q / v_q
        c = m_q**2 / (2 * v_q) - m_p**2 / (2 * v_p) + mpmath.log(s_q / s_p)
        root = mpmath.sqrt(b * b - 4 * a * c)
        diff = lambda x: mpmath.ncdf(x, m_q, s_q) - mpmath.ncdf(x, m_p, s_p)  # noqa: E731
        return float(abs(diff((-b - root) / (2 * a))) + abs(diff((-b + root) / (2 * a))))


@pytest.mark.parametrize("args", [(0, 1, 0, 1 + 1e-12), (0, 1, 1e-6, 1 + 2**-30), (0, 1, 3, 2),
                                  (1, 4, -2, 0.25), (0, 1, 0, 1e-6), (0, 1, 1e-8, 1 - 1e-7),
                                  (5, 2, 5.1, 2.2), (0, 1, 0, 100), (0, 1, 20, 1.0001)])
def test_tv_gaussian_1d_matches_mpmath(args: tuple[float, float, float, float]) -> None:
    got = tv_gaussian_1d(*args)
    assert got.value == pytest.approx(_tv_1d_ref(*args), rel=1e-12)
    m_p, v_p, m_q, v_q = args
    assert tv_gaussian_1d(m_q, v_q, m_p, v_p).value == pytest.approx(got.value, rel=1e-12)


def test_tv_gaussian_1d_equal_variances_and_isotropic() -> None:
    est = tv_gaussian_1d(1.0, 4.0, 1.5, 4.0)
    assert est.error_kind is ErrorKind.EXACT
    assert est.value == pytest.approx(2 * float(mpmath.ncdf(0.125)) - 1, rel=1e-15)
    assert tv_gaussian_1d(0, 3.0, 0, 3.0 * (1 + 2**-20)).value == pytest.approx(
        tv_isotropic(1, 2**-20).value, rel=1e-12)


def test_tv_gaussian_1d_errors() -> None:
    with pytest.raises(InvalidParameterError, match=r"`var_q` must be > 0\.0"):
        tv_gaussian_1d(0, 1, 0, 0.0)
    with pytest.raises(NonFiniteError, match=r"`mean_p` must be finite"):
        tv_gaussian_1d(np.inf, 1, 0, 1)
    with pytest.raises(InvalidParameterError, match=r"`var_p` must be a real number"):
        tv_gaussian_1d(0, "1", 0, 1)


# ------------------------------------------------------------------------------- tv_diagonal
def test_tv_diagonal_one_group_and_zero() -> None:
    v_p = np.array([0.5, 2.0, 3.0])
    est = tv_diagonal(v_p, v_p * (1 + 2**-20))
    assert est.value == pytest.approx(tv_isotropic(3, 2**-20).value, rel=1e-12)
    assert tv_diagonal(v_p, v_p).value == 0.0
    assert tv_diagonal([1.0, 1.0, 2.0], [1.0, 1.5, 2.0]).value == pytest.approx(
        tv_isotropic(1, 0.5).value, rel=1e-14)


def test_tv_diagonal_two_groups_matches_mpmath() -> None:
    a, b = 0.7, -0.4  # m = 2: one coordinate per ratio
    with mpmath.workdps(60):
        h, ea, eb = mpmath.mpf(1) / 2, mpmath.mpf(a), mpmath.mpf(b)

        def g_inner(lc: mpmath.mpf) -> mpmath.mpf:  # inner group eps = a > 0
            y_star = (lc + h * mpmath.log1p(ea)) / ea
            if y_star <= 0:
                return -mpmath.expm1(lc)
            return (mpmath.gammainc(h, y_star, mpmath.inf, regularized=True) - mpmath.exp(lc)
                    * mpmath.gammainc(h, (1 + ea) * y_star, mpmath.inf, regularized=True))

        def integrand(y: mpmath.mpf) -> mpmath.mpf:
            density = mpmath.exp(-y) / mpmath.sqrt(mpmath.pi * y)
            return density * g_inner(h * mpmath.log1p(eb) - eb * y)

        kink = -(h * mpmath.log1p(eb) + h * mpmath.log1p(ea)) / eb
        want = float(mpmath.quad(integrand, [0, kink, 2 * kink, mpmath.inf]))
    est = tv_diagonal([1.0, 1.0], [1 + a, 1 + b])
    assert est.error_kind is ErrorKind.TOLERANCE and est.stderr < 1e-9
    assert est.value == pytest.approx(want, rel=1e-9)


def test_tv_diagonal_near_equal_groups_and_symmetry() -> None:
    # groups whose eps differ by 1e-9 (relative) must give nearly the isotropic value
    m, eps = 1000, 1e-3
    v_q = np.full(m, 1 + eps)
    v_q[:300] = 1 + eps * (1 + 1e-9)
    v_q[-100:] = 1 + eps * (1 - 1e-9)
    est = tv_diagonal(np.ones(m), v_q)
    assert "3 ratio groups" in est.method
    assert est.value == pytest.approx(tv_isotropic(m, eps).value, rel=3e-9)
    two = tv_diagonal([1.0, 2.0, 1.0, 5.0], [1.3, 2.0, 1.3, 2.0])
    assert tv_diagonal([1.3, 2.0, 1.3, 2.0], [1.0, 2.0, 1.0, 5.0]).value == pytest.approx(
        two.value, rel=1e-9)


def test_tv_diagonal_three_groups_monte_carlo() -> None:
    rng = np.random.default_rng(31415)
    v_p, v_q = np.ones(4), np.array([1.3, 0.8, 1.1, 1.1])
    est = tv_diagonal(v_p, v_q)
    y = rng.normal(size=(400_000, 4)) * np.sqrt(v_q)
    log_ratio = 0.5 * np.sum(np.log(v_q / v_p) - y**2 / v_p + y**2 / v_q, axis=1)
    sample = np.maximum(-np.expm1(log_ratio), 0.0)
    se = sample.std(ddof=1) / math.sqrt(sample.size)
    assert abs(est.value - sample.mean()) <= 4 * se, f"seed 31415: {est.value} vs {sample.mean()}"
    assert est.stderr < 1e-8


def test_tv_diagonal_errors() -> None:
    with pytest.raises(InvalidParameterError, match=r"`var_p` and `var_q` must have at most 3"):
        tv_diagonal(np.ones(4), [1.1, 1.2, 1.3, 1.4])
    with pytest.raises(InvalidParameterError, match=r"`var_q` must be > 0"):
        tv_diagonal([1.0, 1.0], [1.0, -1.0])
    with pytest.raises(InvalidParameterError, match=r"`var_p` must be > 0"):
        tv_diagonal([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"`var_q` must have shape \(2\)"):
        tv_diagonal([1.0, 1.0], [1.0, 1.0, 1.0])
    with pytest.raises(InvalidParameterError, match=r"`var_p` must be 1-dimensional"):
        tv_diagonal(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(InvalidParameterError, match=r"`var_p` must have at least one entry"):
        tv_diagonal([], [])
    with pytest.raises(InvalidParameterError, match=r"`rtol` must be <= 0\.01"):
        tv_diagonal([1.0], [2.0], rtol=0.5)
    with pytest.raises(NonFiniteError, match=r"`var_q` must be finite"):
        tv_diagonal([1.0], [np.nan])


# ------------------------------------------------------------------------ shared validation
@pytest.mark.parametrize("func", [kl_isotropic, tv_isotropic,
                                  lambda m, eps: orthogonal_tv_factor(np.zeros(2), m, eps)])
def test_dimension_and_eps_validation(func: Callable[[Any, Any], object]) -> None:
    call = func
    with pytest.raises(InvalidParameterError, match=r"`m` must be >= 1 \(got 0\)"):
        call(0, 0.1)
    with pytest.raises(InvalidParameterError, match=r"`m` must be an integer \(got 2\.5\)"):
        call(2.5, 0.1)
    with pytest.raises(InvalidParameterError, match=r"`m` must be <= 1000000000000"):
        call(10**13, 0.1)
    with pytest.raises(InvalidParameterError, match=r"`eps` must be > -1\.0 \(got -1\.0\)"):
        call(3, -1.0)
    with pytest.raises(InvalidParameterError, match=r"`eps` must be > -1 \(got -2\.0"):
        call(3, mpmath.mpf(-2))
    with pytest.raises(InvalidParameterError, match=r"`eps` must be > -1 with 1\+eps a normal"):
        with mpmath.workprec(2100):
            tiny_gap = mpmath.mpf(-1) + mpmath.mpf(2) ** -2000
        call(3, tiny_gap)
    with pytest.raises(NonFiniteError, match=r"`eps` must be finite"):
        call(3, math.nan)
    with pytest.raises(NonFiniteError, match=r"`eps` must be finite"):
        call(3, mpmath.inf)
    with pytest.raises(InvalidParameterError, match=r"`eps` must be a real number"):
        call(3, "0.1")


def test_direction_and_log_ratio_validation() -> None:
    with pytest.raises(InvalidParameterError, match=r"`direction` must be one of"):
        kl_isotropic(3, 0.1, direction="forward")
    with pytest.raises(InvalidParameterError, match=r"`log_ratio_k` must be 1-dimensional"):
        orthogonal_tv_factor(np.zeros((2, 2)), 3, 0.1)
    with pytest.raises(NonFiniteError, match=r"`log_ratio_k` must not be NaN or \+inf .*index 1"):
        orthogonal_tv_factor(np.array([0.0, np.nan]), 3, 0.1)
    with pytest.raises(NonFiniteError, match=r"`log_ratio_k` must not be NaN or \+inf .*index 0"):
        orthogonal_tv_factor(np.array([np.inf]), 3, 0.1)
