"""Tests of theorycheck.symbolic against independent mpmath computations.

The reference values below never go through sympy: the coefficient designs are typed from
docs/theory.md §3 and the variance is propagated through one sampler step directly with mpmath, at
50 significant digits.  Random points come from a seeded Generator; the seed is in every
assertion message.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator

import mpmath
import numpy as np
import pytest
import sympy as sp

from theorycheck import symbolic
from theorycheck.errors import InvalidParameterError, NonFiniteError

SEED = 20250114
NUM_POINTS = 24
DPS = 50
ADAPTIVE = ("ddpm_posterior", "ddim", "ddim_eta")
# At 50 digits the direct computation of R - 1 cancels at most ~12 digits (1-alpha >= 1e-6,
# so |R - 1| >= ~1e-12 when nonzero); 1e-30 relative leaves a wide margin above that floor.
REL_TOL = mpmath.mpf("1e-30")
# Identically-zero quantities computed directly at 50 digits: rounding only, ~1e-49.
ZERO_TOL = mpmath.mpf("1e-40")

alpha, alpha_bar, eta, sigma_sq, u = sp.symbols("alpha alpha_bar eta sigma_sq u")


@pytest.fixture(scope="module")
def results() -> dict[str, symbolic.SymbolicResult]:
    return symbolic.derive_all()


def _sym(result: symbolic.SymbolicResult) -> sp.Expr:
    """The result's expression with assumption-free symbols (to compare with plain formulas)."""
    return result.expression.subs({s: sp.Symbol(s.name) for s in result.expression.free_symbols})


def _points(seed: int = SEED) -> Iterator[tuple[int, float, float, float]]:
    """(index, alpha, alpha_bar, eta_ddim) with 0 < alpha_bar < alpha < 1, eta_ddim in [0, 1]."""
    rng = np.random.default_rng(seed)
    for i in range(NUM_POINTS):
        a = 1.0 - 10.0 ** rng.uniform(-6.0, -0.3)
        yield i, a, a * rng.uniform(1e-3, 0.999), rng.uniform(0.0, 1.0)


def _coefficients(design: str, a: mpmath.mpf, ab: mpmath.mpf,
                  eta_ddim: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(eta, sigma^2) typed from docs/theory.md §3, computed with mpmath."""
    q, r = 1 - ab, mpmath.sqrt((a - ab) / (1 - ab))
    posterior = (1 - a) * (a - ab) / q
    if design == "ddpm_posterior":
        return 1 - a, posterior
    if design == "ddpm_beta":
        return 1 - a, 1 - a
    if design == "ddim":
        return (1 - a) / (1 + r), mpmath.mpf(0)
    if design == "ddim_eta":
        s2 = eta_ddim**2 * posterior
        return q - mpmath.sqrt(q * (a - ab - s2)), s2
    assert design == "pf_euler"
    return (1 - a) / 2, mpmath.mpf(0)


def _step_variance(a: mpmath.mpf, ab: mpmath.mpf, eta_t: mpmath.mpf, s2: mpmath.mpf,
                   v: mpmath.mpf) -> mpmath.mpf:
    """Var of (Y + eta s(Y) + sigma Z)/sqrt(alpha), s(y) = -y/(1-ab), Var Y = v, Z independent."""
    gain = (1 - eta_t / (1 - ab)) / mpmath.sqrt(a)  # Y + eta s(Y) = (1 - eta/(1-ab)) Y
    return gain**2 * v + s2 / a


def _direct(design: str, a: float, ab: float, eta_ddim: float,
            e: mpmath.mpf | int = 0) -> tuple[mpmath.mpf, ...]:
    """(R - 1, e_{t-1}) from v_t = (1-ab)(1+e) propagated one step, at the current precision."""
    a_, ab_, ed = mpmath.mpf(a), mpmath.mpf(ab), mpmath.mpf(eta_ddim)
    eta_t, s2 = _coefficients(design, a_, ab_, ed)
    true_prev = 1 - ab_ / a_  # 1 - alpha_bar_{t-1}
    r_minus_one = _step_variance(a_, ab_, eta_t, s2, 1 - ab_) / true_prev - 1
    e_prev = _step_variance(a_, ab_, eta_t, s2, (1 - ab_) * (1 + e)) / true_prev - 1
    return r_minus_one, e_prev


def _args(design: str, a: float, ab: float, eta_ddim: float) -> tuple[float, ...]:
    return (a, ab, eta_ddim) if design == "ddim_eta" else (a, ab)


def _close(got: mpmath.mpf, want: mpmath.mpf) -> bool:
    return bool(abs(got - want) <= REL_TOL * abs(want) + ZERO_TOL)


def _positive_on_unit_interval(expr: sp.Expr) -> bool | None:
    """Sign of expr(u) on 0 < u < 1 via u = s/(1+s), s > 0 (a bijection onto (0, 1))."""
    s = sp.Symbol("s", positive=True)
    return sp.simplify(expr.subs(u, s / (1 + s))).is_positive


# ---------------------------------------------------------------- symbolic identities


def test_required_keys_and_records(results: dict[str, symbolic.SymbolicResult]) -> None:
    required = {"variance_map", "R", "R_minus_one_bracket", "zero_set_sigma_sq", "rho[general]",
                "rho[ddpm]", "rho[ddim]", "rho[pf_euler]", "series[ddpm_beta]",
                "series[pf_euler]"} | {f"R_minus_one[{d}]" for d in symbolic.DESIGNS}
    assert required <= set(results)
    for key, result in results.items():
        assert result.name == key
        assert result.latex and result.description
        assert result.symbols == tuple(sorted(
            result.symbols, key=["alpha", "alpha_bar", "eta", "sigma_sq", "v", "e", "u",
                                 "eta_ddim"].index))
    with pytest.raises(dataclasses.FrozenInstanceError):
        results["R"].name = "other"  # type: ignore[misc]
    handed_out = symbolic.derive_all()
    handed_out.clear()  # derive_all hands out a copy: the cache is unaffected
    assert "R" in symbolic.derive_all()


def test_variance_map_and_R_match_definitions(
        results: dict[str, symbolic.SymbolicResult]) -> None:
    v = sp.Symbol("v")
    want_map = ((1 - eta / (1 - alpha_bar))**2 * v + sigma_sq) / alpha
    assert sp.simplify(_sym(results["variance_map"]) - want_map) == 0
    want_r = want_map.subs(v, 1 - alpha_bar) / ((alpha - alpha_bar) / alpha)
    assert sp.simplify(_sym(results["R"]) - want_r) == 0


def test_R_minus_one_equals_theorem5_bracket(results: dict[str, symbolic.SymbolicResult]) -> None:
    bracket = ((1 - alpha_bar) / (alpha - alpha_bar) * (1 - eta / (1 - alpha_bar))**2
               + sigma_sq / (alpha - alpha_bar) - 1)
    assert sp.simplify(_sym(results["R"]) - 1 - bracket) == 0
    assert sp.simplify(_sym(results["R_minus_one_bracket"]) - bracket) == 0


@pytest.mark.parametrize("design", ADAPTIVE)
def test_adaptive_designs_simplify_to_zero(results: dict[str, symbolic.SymbolicResult],
                                           design: str) -> None:
    assert results[f"R_minus_one[{design}]"].expression == 0


@pytest.mark.parametrize(("design", "expected"), [
    ("ddpm_beta", u**2 / (1 - u)),
    ("pf_euler", u**2 / (4 * (1 - u))),
])
def test_non_adaptive_closed_forms(results: dict[str, symbolic.SymbolicResult], design: str,
                                   expected: sp.Expr) -> None:
    derived = _sym(results[f"R_minus_one[{design}]"])
    assert derived.free_symbols == {u}
    assert sp.simplify(derived - expected) == 0
    assert _positive_on_unit_interval(derived) is True


def test_zero_set_and_uniqueness(results: dict[str, symbolic.SymbolicResult]) -> None:
    expected = (alpha - alpha_bar) - (1 - alpha_bar - eta)**2 / (1 - alpha_bar)
    assert sp.simplify(_sym(results["zero_set_sigma_sq"]) - expected) == 0
    ratio = _sym(results["R"])
    roots = sp.solve(sp.Eq(ratio, 1), sigma_sq)
    assert len(roots) == 1 and sp.simplify(roots[0] - expected) == 0
    # Li & Yan: once eta = 1 - alpha, the one sigma^2 with R = 1 is the posterior variance.
    posterior = (1 - alpha) * (alpha - alpha_bar) / (1 - alpha_bar)
    roots_ddpm = sp.solve(sp.Eq(ratio.subs(eta, 1 - alpha), 1), sigma_sq)
    assert len(roots_ddpm) == 1 and sp.simplify(roots_ddpm[0] - posterior) == 0
    assert sp.simplify(_sym(results["zero_set_sigma_sq[ddpm]"]) - posterior) == 0
    # R is affine in sigma^2 with nonzero slope, hence no other root anywhere.
    assert sp.simplify(sp.diff(ratio, sigma_sq, 2)) == 0
    assert sp.simplify(sp.diff(ratio, sigma_sq) - 1 / (alpha - alpha_bar)) == 0


def test_rho_symbolic(results: dict[str, symbolic.SymbolicResult]) -> None:
    general = (1 - alpha_bar) * (1 - eta / (1 - alpha_bar))**2 / (alpha - alpha_bar)
    assert sp.simplify(_sym(results["rho[general]"]) - general) == 0
    e = sp.Symbol("e")
    propagated = _sym(results["error_propagation"])
    assert sp.simplify(sp.diff(propagated, e, 2)) == 0
    assert sp.simplify(propagated.subs(e, 0) - (_sym(results["R"]) - 1)) == 0
    assert sp.simplify(_sym(results["rho[ddpm]"]) - (1 - u)) == 0
    assert results["rho[ddim]"].expression == 1
    eta_ddim = sp.Symbol("eta_ddim")
    assert sp.simplify(_sym(results["rho[ddim_eta]"]) - (1 - eta_ddim**2 * u)) == 0
    pf = _sym(results["rho[pf_euler]"])
    assert sp.simplify(pf - (2 - u)**2 / (4 * (1 - u))) == 0
    assert _positive_on_unit_interval(pf - 1) is True


def test_series_are_truncated_taylor_expansions(
        results: dict[str, symbolic.SymbolicResult]) -> None:
    for key, source in (("ddpm_beta", "R_minus_one[ddpm_beta]"),
                        ("pf_euler", "R_minus_one[pf_euler]"),
                        ("rho_pf_euler", "rho[pf_euler]")):
        series = _sym(results[f"series[{key}]"])
        assert sp.Poly(series, u).degree() == symbolic.SERIES_ORDER - 1
        remainder = sp.simplify(_sym(results[source]) - series)
        assert sp.limit(remainder / u**(symbolic.SERIES_ORDER - 1), u, 0) == 0
        assert "O\\left(u_t^{5}\\right)" in results[f"series[{key}]"].latex


# ---------------------------------------------------------------- independent numerics


@pytest.mark.parametrize("design", symbolic.DESIGNS)
def test_r_minus_one_matches_direct_variance_propagation(design: str) -> None:
    func = symbolic.r_minus_one_function(design)
    with mpmath.workdps(DPS):
        for i, a, ab, ed in _points():
            want, _ = _direct(design, a, ab, ed)
            got = func(*_args(design, a, ab, ed))
            assert _close(got, want), f"seed={SEED} point {i}: {got} != {want}"
            if design in ADAPTIVE:
                assert abs(want) < ZERO_TOL, f"seed={SEED} point {i}: R-1={want}"
                assert got == 0


@pytest.mark.parametrize("design", symbolic.DESIGNS)
def test_rho_matches_direct_error_propagation(design: str) -> None:
    rho, r_minus_one = symbolic.rho_function(design), symbolic.r_minus_one_function(design)
    rng = np.random.default_rng(SEED + 1)
    with mpmath.workdps(DPS):
        for i, a, ab, ed in _points():
            e = mpmath.mpf(rng.uniform(-0.5, 0.5))
            _, want = _direct(design, a, ab, ed, e)
            args = _args(design, a, ab, ed)
            got = rho(*args) * e + r_minus_one(*args)
            assert _close(got, want), f"seed={SEED} point {i}: {got} != {want}"


def test_general_functions_match_direct() -> None:
    vmap, ratio = symbolic.variance_map_function(), symbolic.r_function()
    zero_set = symbolic.zero_set_sigma_sq_function()
    rng = np.random.default_rng(SEED + 2)
    with mpmath.workdps(DPS):
        for i, a, ab, _ in _points():
            a_, ab_ = mpmath.mpf(a), mpmath.mpf(ab)
            eta_t, s2, v = (mpmath.mpf(x) for x in rng.uniform(0.0, 1.0, size=3))
            want = _step_variance(a_, ab_, eta_t, s2, v)
            assert _close(vmap(a, ab, eta_t, s2, v), want), f"seed={SEED} point {i}"
            want_r = _step_variance(a_, ab_, eta_t, s2, 1 - ab_) / (1 - ab_ / a_)
            assert _close(ratio(a, ab, eta_t, s2), want_r), f"seed={SEED} point {i}"
            # Zero set: the sigma^2 it returns makes the direct R equal 1 (for any eta).
            s2_zero = zero_set(a, ab, eta_t)
            r_zero = _step_variance(a_, ab_, eta_t, s2_zero, 1 - ab_) / (1 - ab_ / a_)
            assert abs(r_zero - 1) < ZERO_TOL, f"seed={SEED} point {i}"
            # Uniqueness at eta = 1 - alpha: the zero set is DDPM-posterior's sigma^2.
            _, posterior = _coefficients("ddpm_posterior", a_, ab_, mpmath.mpf(0))
            assert _close(zero_set(a, ab, 1 - a_), posterior), f"seed={SEED} point {i}"


def test_variance_map_against_quadrature() -> None:
    """Second moment of the step computed by integrating over Y_t ~ N(0, v): no algebra."""
    vmap = symbolic.variance_map_function()
    with mpmath.workdps(30):
        for a, ab, eta_t, s2, v in [(0.9, 0.3, 0.2, 0.05, 0.8), (0.99, 0.5, 0.7, 0.0, 1.3)]:
            a_, ab_ = mpmath.mpf(a), mpmath.mpf(ab)

            def integrand(y: mpmath.mpf, a_: mpmath.mpf = a_, ab_: mpmath.mpf = ab_,
                          eta_t: float = eta_t, v: float = v) -> mpmath.mpf:
                step = (y + eta_t * (-y / (1 - ab_))) / mpmath.sqrt(a_)
                return step**2 * mpmath.npdf(y, 0, mpmath.sqrt(v))

            want = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) + s2 / a_
            assert abs(vmap(a, ab, eta_t, s2, v) - want) < mpmath.mpf("1e-25") * want


def test_ddim_eta_family_endpoints() -> None:
    """docs/theory.md §3: DDIM(0) is DDIM and DDIM(1) is DDPM-posterior (checked on the table itself)."""
    with mpmath.workdps(DPS):
        for i, a, ab, _ in _points():
            a_, ab_ = mpmath.mpf(a), mpmath.mpf(ab)
            for eta_ddim, other in ((0, "ddim"), (1, "ddpm_posterior")):
                got = _coefficients("ddim_eta", a_, ab_, mpmath.mpf(eta_ddim))
                want = _coefficients(other, a_, ab_, mpmath.mpf(0))
                assert all(_close(g, w) for g, w in zip(got, want, strict=True)), \
                    f"seed={SEED} point {i}"


@pytest.mark.parametrize(("key", "source", "design"), [
    ("ddpm_beta", "r_minus_one", "ddpm_beta"),
    ("pf_euler", "r_minus_one", "pf_euler"),
    ("rho_pf_euler", "rho", "pf_euler"),
])
def test_series_error_is_of_stated_order(results: dict[str, symbolic.SymbolicResult],
                                         key: str, source: str, design: str) -> None:
    """(exact - series)/u^5 stays bounded and tends to a nonzero limit as u -> 0."""
    series, order = results[f"series[{key}]"], symbolic.SERIES_ORDER
    ratios = []
    with mpmath.workdps(DPS):
        for k in range(2, 7):
            u_val = mpmath.mpf(10) ** -k
            one_minus_alpha_bar = mpmath.mpf("0.5")
            a, ab = 1 - u_val * one_minus_alpha_bar, 1 - one_minus_alpha_bar
            r_minus_one, e_prev = _direct(design, a, ab, 0, mpmath.mpf(1))
            exact = r_minus_one if source == "r_minus_one" else e_prev - r_minus_one
            ratios.append((exact - series.evaluate(u=u_val)) / u_val**order)
        # Successive ratios converge linearly in u (next term): differences shrink 10x.
        assert all(abs(ratios[j + 1] - ratios[j]) < abs(ratios[j] - ratios[j - 1]) / 5
                   for j in range(1, len(ratios) - 1)), ratios
        assert 0.1 < abs(ratios[-1]) < 10, ratios


def test_numpy_backend_matches_mpmath() -> None:
    pts = np.array([(a, ab, ed) for _, a, ab, ed in _points()])
    alpha_v, alpha_bar_v, eta_ddim_v = pts.T
    for design in symbolic.DESIGNS:
        for factory in (symbolic.r_minus_one_function, symbolic.rho_function):
            vec = factory(design, backend="numpy")
            scalar = factory(design)
            args = _args(design, alpha_v, alpha_bar_v, eta_ddim_v)
            got = vec(*args)
            assert isinstance(got, np.ndarray) and got.shape == (NUM_POINTS,)
            want = np.array([float(scalar(*_args(design, *row))) for row in pts])
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300)
            one = vec(*_args(design, 0.9, 0.5, 0.3))
            assert isinstance(one, np.float64)
    grid = symbolic.r_minus_one_function("ddim", backend="numpy")(
        np.array([[0.9], [0.8]]), np.array([0.1, 0.2, 0.3]))
    assert grid.shape == (2, 3) and not grid.any()


def test_dps_is_scoped_and_used() -> None:
    func = symbolic.r_minus_one_function("ddpm_beta")
    before = mpmath.mp.dps
    got = func(mpmath.mpf("0.9"), mpmath.mpf("0.5"), dps=DPS)
    assert mpmath.mp.dps == before
    with mpmath.workdps(DPS):
        want = (1 - mpmath.mpf(0.9)) ** 2 / (mpmath.mpf(0.5) * (mpmath.mpf(0.9) - 0.5))
        assert abs(got - want) < mpmath.mpf("1e-45")  # got's 50 digits survived the return
    assert symbolic.derive_all()["R"].evaluate(
        alpha=0.9, alpha_bar=0.5, eta=0.1, sigma_sq=0.04, dps=DPS) > 0
    assert mpmath.mp.dps == before


def test_latex_table() -> None:
    table = symbolic.latex_table()
    lines = table.strip().splitlines()
    assert lines[0] == "| quantity | derived expression |" and lines[1] == "|---|---|"
    assert len(lines) == 2 + 18
    results = symbolic.derive_all()
    for key in ("R", "R_minus_one[ddpm_beta]", "rho[pf_euler]", "series[pf_euler]"):
        assert f"${results[key].latex}$" in table


def test_import_theorycheck_does_not_import_sympy() -> None:
    code = "import sys, theorycheck; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------- error paths


@pytest.mark.parametrize("factory", [symbolic.r_minus_one_function, symbolic.rho_function])
def test_unknown_design(factory: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"`design` must be one of 'ddpm_posterior'"
                       r".*'pf_euler' \(got 'ddpm'\)"):
        factory("ddpm")  # type: ignore[operator]


def test_unknown_backend() -> None:
    with pytest.raises(InvalidParameterError, match=r"`backend` must be one of 'mpmath', "
                                                    r"'numpy' \(got 'jax'\)"):
        symbolic.r_function(backend="jax")


@pytest.mark.parametrize("backend", symbolic.BACKENDS)
@pytest.mark.parametrize(("args", "match"), [
    ((0.9,), r"`args` must be the 2 values \('alpha', 'alpha_bar'\)"),
    ((1.0, 0.5), r"`alpha` must satisfy 0 < alpha < 1"),
    ((0.9, 0.9), r"`alpha_bar` must satisfy 0 < alpha_bar < alpha"),
    ((0.9, -0.1), r"`alpha_bar` must satisfy 0 < alpha_bar < alpha"),
])
def test_bad_design_arguments(backend: str, args: tuple[float, ...], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        symbolic.r_minus_one_function("ddpm_beta", backend=backend)(*args)


def test_bad_other_arguments() -> None:
    with pytest.raises(InvalidParameterError, match=r"`eta_ddim` must satisfy 0 <= eta_ddim"):
        symbolic.rho_function("ddim_eta")(0.9, 0.5, 1.5)
    with pytest.raises(InvalidParameterError, match=r"`sigma_sq` must satisfy sigma_sq >= 0"):
        symbolic.r_function()(0.9, 0.5, 0.1, -0.01)
    with pytest.raises(InvalidParameterError,
                       match=r"`v` must satisfy v >= 0 \(first violation at flat index 1\)"):
        symbolic.variance_map_function(backend="numpy")(0.9, 0.5, 0.1, 0.0, [1.0, -1.0])
    with pytest.raises(InvalidParameterError, match=r"`alpha` must be a real number"):
        symbolic.r_function()("0.9", 0.5, 0.1, 0.0)
    with pytest.raises(NonFiniteError, match=r"`eta` must be finite"):
        symbolic.r_function()(0.9, 0.5, float("nan"), 0.0)
    with pytest.raises(NonFiniteError, match=r"`alpha_bar` must be finite"):
        symbolic.r_function(backend="numpy")(0.9, [0.5, np.inf], 0.1, 0.0)
    with pytest.raises(InvalidParameterError, match=r"`dps` applies only to backend 'mpmath'"):
        symbolic.r_function(backend="numpy")(0.9, 0.5, 0.1, 0.0, dps=30)
    with pytest.raises(InvalidParameterError, match=r"`dps` must be >= 1 \(got 0\)"):
        symbolic.r_function()(0.9, 0.5, 0.1, 0.0, dps=0)
    with pytest.raises(InvalidParameterError, match=r"`values` must give exactly the symbols"):
        symbolic.derive_all()["R"].evaluate(alpha=0.9)
