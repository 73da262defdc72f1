"""Imhof's inversion for weighted chi-square sums, and the Gaussian TV built on it."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import stats

from theorycheck.designs import make_design
from theorycheck.divergences import gaussian
from theorycheck.divergences.chisq_mixture import (
    centered_sf,
    chisq_mixture_sf,
    quadratic_form,
)
from theorycheck.divergences.gaussian_recursion import (
    GaussianOutput,
    gaussian_output,
    gaussian_tv,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import ErrorKind
from theorycheck.schedules import two_phase
from theorycheck.targets import SubspaceGaussianMixture

SEED = 20261202


def _output(eps: list[float], delta: list[float], orth: float) -> GaussianOutput:
    """A hand-made output law ``N(δ_i, 1+ε_i)`` (and ``N(0, 1+orth)`` off the subspace)."""
    with mpmath.workdps(30):
        return GaussianOutput(
            eigenvalues=np.ones(len(eps)), relative_variance_error=np.array(eps),
            standardized_mean_error=np.array(delta), orthogonal_relative_error=orth,
            eps_mp=tuple(mpmath.mpf(e) for e in eps), delta_mp=tuple(mpmath.mpf(x) for x in delta),
            orthogonal_mp=mpmath.mpf(orth), dps=30)


@pytest.mark.parametrize(("x", "w", "nu", "lam"), [
    (3.0, 1.0, 2.0, 0.0), (10.0, 1.0, 3.0, 4.0), (0.5, 0.01, 5.0, 2.0), (-1.0, -1.0, 1.0, 0.5),
    (40.0, 2.0, 7.0, 0.0), (0.2, 1.0, 1.0, 25.0)])
def test_one_group_matches_scipy(x: float, w: float, nu: float, lam: float) -> None:
    est = chisq_mixture_sf(x, [w], [nu], [lam])
    exact = (stats.ncx2.sf(x / w, nu, lam) if w > 0 else stats.ncx2.cdf(x / w, nu, lam))
    assert est.error_kind is ErrorKind.TOLERANCE
    assert est.stderr <= 1e-9
    assert abs(est.value - exact) <= est.stderr + 1e-12


def test_billion_dof_group_is_one_group_and_matches_chi2() -> None:
    nu = 1e9
    for z in (-2.0, 0.0, 1.5):
        x = nu + z * np.sqrt(2 * nu)
        est = chisq_mixture_sf(x, [1.0], [nu])
        assert abs(est.value - stats.chi2.sf(x, nu)) <= est.stderr + 1e-12


def test_pure_normal_term_and_mixed_signs() -> None:
    # Q = 2 a z with a = 0.5 is N(0, 1); χ²_2 - χ²_2 (difference of two Exp(mean 2)) is Laplace(0, 2)
    est = centered_sf(quadratic_form([0.0], [1.0], [0.5]), 0.7)
    assert abs(est.value - stats.norm.sf(0.7)) <= est.stderr + 1e-12
    lap = centered_sf(quadratic_form([1.0, -1.0], [2.0, 2.0]), 1.3)
    assert abs(lap.value - 0.5 * np.exp(-1.3 / 2.0)) <= lap.stderr + 1e-12


def test_imhof_tv_matches_the_exact_paths() -> None:
    # zero mean, two ratio groups + orthogonal: the gamma / chi-square quadrature
    out = _output([0.3, 0.3, -0.2], [0.0, 0.0, 0.0], 0.05)
    for d in (3, 40):
        auto, sub_auto, _ = gaussian_tv(out, d)
        imhof, sub_imhof, _ = gaussian_tv(out, d, method="imhof")
        assert "Imhof" in imhof.method and "Imhof" not in auto.method
        assert abs(auto.value - imhof.value) <= auto.stderr + imhof.stderr + 1e-12
        assert abs(sub_auto.value - sub_imhof.value) <= sub_auto.stderr + sub_imhof.stderr + 1e-12
    # k = 1 with a mean shift: exact 1-D TV (d = 1) and Gauss-Legendre with the factor (d = 20)
    one = _output([-0.4], [0.8], 0.1)
    for d in (1, 20):
        auto = gaussian_tv(one, d)[0]
        imhof = gaussian_tv(one, d, method="imhof")[0]
        assert abs(auto.value - imhof.value) <= auto.stderr + imhof.stderr + 1e-10


def test_shifted_many_ratios_agrees_with_monte_carlo() -> None:
    out = _output([0.4, -0.3, 0.15, -0.1, 0.6], [0.5, -0.3, 0.2, 0.0, 0.0], 0.08)
    imhof = gaussian_tv(out, 9)[0]
    assert "Imhof" in imhof.method and imhof.stderr <= 1e-9
    mc = gaussian_tv(out, 9, method="monte_carlo", rng=np.random.default_rng(SEED),
                     num_samples=400_000)[0]
    assert mc.error_kind is ErrorKind.STDERR
    assert abs(imhof.value - mc.value) <= 4 * mc.stderr
    # negative control: dropping the mean shift changes TV by far more than the errors
    unshifted = gaussian_tv(_output([0.4, -0.3, 0.15, -0.1, 0.6], [0.0] * 5, 0.08), 9,
                            method="imhof")[0]
    assert abs(unshifted.value - imhof.value) > 100 * mc.stderr


def test_recursion_output_with_shift_agrees_with_monte_carlo() -> None:
    design = make_design("ddim", two_phase(10))
    target = SubspaceGaussianMixture.create([1.0], [[1.5, -1.0, 0.7, 0.0]],
                                            [np.diag([0.3, 0.8, 1.6, 0.05])])
    out = gaussian_output(target, design)
    assert np.count_nonzero(out.standardized_mean_error) == 3
    assert np.unique(out.relative_variance_error).size == 4
    total, sub, _ = gaussian_tv(out, 6)
    mc_total, mc_sub, _ = gaussian_tv(out, 6, method="monte_carlo",
                                      rng=np.random.default_rng(SEED), num_samples=400_000)
    assert abs(total.value - mc_total.value) <= 4 * mc_total.stderr + total.stderr
    assert abs(sub.value - mc_sub.value) <= 4 * mc_sub.stderr + sub.stderr


def test_billion_orthogonal_coordinates_match_the_isotropic_closed_form() -> None:
    m, e = 10**9, 3e-5
    out = _output([0.0, 0.0], [0.0, 0.0], e)
    total, sub, perp = gaussian_tv(out, m + 2, method="imhof")
    iso = gaussian.tv_isotropic(m, mpmath.mpf(e))
    assert np.isfinite(total.value) and 0.05 < total.value < 0.95
    assert sub.value == 0.0 and sub.error_kind is ErrorKind.EXACT
    assert abs(total.value - iso.value) <= total.stderr + iso.stderr + 1e-10
    assert perp.value == pytest.approx(iso.value)


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="`weights`, `dofs` and `linear` must be"):
        quadratic_form([1.0, 2.0], [1.0])
    with pytest.raises(InvalidParameterError, match="`weights` must be finite"):
        quadratic_form([np.nan], [1.0])
    with pytest.raises(InvalidParameterError, match="`dofs` must be >= 1"):
        quadratic_form([1.0], [0.5])
    with pytest.raises(InvalidParameterError, match="must not all be 0"):
        quadratic_form([0.0], [3.0], [0.0])
    with pytest.raises(InvalidParameterError, match="`weights` must be non-zero"):
        chisq_mixture_sf(1.0, [0.0], [1.0])
    with pytest.raises(InvalidParameterError, match="`noncentralities` must be finite, >= 0"):
        chisq_mixture_sf(1.0, [1.0], [1.0], [-1.0])
    with pytest.raises(NonFiniteError, match="`x` must be finite"):
        chisq_mixture_sf(np.inf, [1.0], [1.0])
    with pytest.raises(InvalidParameterError, match="`atol` must be >="):
        chisq_mixture_sf(1.0, [1.0], [1.0], atol=0.0)
    out = _output([0.1, 0.2], [0.1, 0.0], 0.0)
    with pytest.raises(InvalidParameterError, match="`method` must be one of"):
        gaussian_tv(out, 2, method="series")
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
        gaussian_tv(out, 2, method="monte_carlo")
    with pytest.raises(InvalidParameterError, match="`ambient_dim` must be >= 2"):
        gaussian_tv(out, 1)


def test_non_convergence_is_a_convergence_error_not_bad_input(monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    """An integrator that cannot reach the tolerance raises ConvergenceError (an
    ArithmeticError, still a TheorycheckError for the CLI), never returns a number."""
    import warnings

    from scipy import integrate

    from theorycheck.divergences import chisq_mixture
    from theorycheck.errors import ConvergenceError, TheorycheckError

    def failing_quad(*args: object, **kwargs: object) -> tuple[float, float]:
        warnings.warn("roundoff error is detected", integrate.IntegrationWarning, stacklevel=2)
        return 0.0, 0.0

    monkeypatch.setattr(chisq_mixture.integrate, "quad", failing_quad)
    with pytest.raises(ConvergenceError, match="did not converge") as info:
        chisq_mixture.chisq_mixture_sf(1.0, [1.0, 0.5], [1, 1])
    assert isinstance(info.value, TheorycheckError)
    assert isinstance(info.value, ArithmeticError)
    assert not isinstance(info.value, ValueError)
