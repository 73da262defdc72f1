"""Unit tests of :mod:`theorycheck.targets`: exactness against independent computations.

Independent references used here: finite differences (score, Jacobian), quadrature and grids
(normalisation, posterior mean), scipy's multivariate normal (ambient density), Monte Carlo
moments (samplers), and the explicitly expanded mixture (product targets).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from theorycheck.errors import InvalidParameterError, NonFiniteError, SpecError
from theorycheck.targets import (
    ProductMixture,
    SubspaceFrame,
    SubspaceGaussianMixture,
    Target,
    check_noise_level,
    from_spec,
)

NOISE_LEVELS = [(0.5, 0.5), (0.95, 0.05)]


def _gmm_1d() -> SubspaceGaussianMixture:
    # an atom (variance exactly 0), a narrow and a wide component
    return SubspaceGaussianMixture.create(
        [0.3, 0.5, 0.2], [[-1.5], [0.4], [2.0]], [[[0.0]], [[0.04]], [[0.81]]])


def _gmm_sub() -> SubspaceGaussianMixture:
    # k = 2 in d = 5: one full-rank, one rank-1 and one atom component
    v = np.array([0.6, 0.8])
    return SubspaceGaussianMixture.create(
        [0.25, 0.45, 0.3], [[1.0, -0.5], [-1.0, 0.5], [0.3, 1.2]],
        np.stack([[[0.5, 0.1], [0.1, 0.3]], 0.2 * np.outer(v, v), np.zeros((2, 2))]),
        ambient_dim=5, basis_seed=11)


def _gmm_coordinate() -> SubspaceGaussianMixture:
    # k = 1 in d = 3 on the first coordinate axis (no seed, no basis)
    return SubspaceGaussianMixture.create([0.6, 0.4], [[-1.0], [1.5]], [[[0.09]], [[0.25]]],
                                          ambient_dim=3)


def _product() -> ProductMixture:
    return ProductMixture.create(
        [([0.3, 0.7], [-1.0, 1.0], [0.1, 0.2]),
         ([1.0], [0.5], [0.0]),
         ([0.2, 0.3, 0.5], [0.0, 1.0, 2.5], [1.0, 0.3, 0.01])],
        ambient_dim=5, basis_seed=3)


TARGETS: dict[str, Callable[[], Target]] = {
    "gmm_1d": _gmm_1d, "gmm_sub": _gmm_sub, "gmm_coordinate": _gmm_coordinate,
    "product": _product,
}


def _points(target: Target, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, target.ambient_dim))


def _noise(level: tuple[float, float]) -> dict[str, float]:
    return {"alpha_bar": level[0], "one_minus_alpha_bar": level[1]}


# ---------------------------------------------------------------- derivatives and Tweedie


@pytest.mark.parametrize("level", NOISE_LEVELS)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_score_is_gradient_of_log_density(name: str, level: tuple[float, float]) -> None:
    target, kw = TARGETS[name](), _noise(level)
    x = _points(target, 6, seed=1)
    h = 1e-5
    fd = np.stack([(target.log_density(x + h * e, **kw) - target.log_density(x - h * e, **kw))
                   / (2 * h) for e in np.eye(target.ambient_dim)], axis=1)
    score = target.score(x, **kw)
    # central differences: truncation ~h²|f'''| plus rounding ~eps|f|/h, both < 1e-7 here
    np.testing.assert_allclose(score, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(score)))


@pytest.mark.parametrize("level", NOISE_LEVELS)
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_score_jacobian_is_derivative_of_score(name: str, level: tuple[float, float]) -> None:
    target, kw = TARGETS[name](), _noise(level)
    x = _points(target, 6, seed=2)
    h = 1e-5
    fd = np.stack([(target.score(x + h * e, **kw) - target.score(x - h * e, **kw)) / (2 * h)
                   for e in np.eye(target.ambient_dim)], axis=2)
    jac = target.score_jacobian(x, **kw)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(jac)))
    np.testing.assert_allclose(jac, np.swapaxes(jac, 1, 2), rtol=0, atol=1e-12 * np.max(
        np.abs(jac)))


@pytest.mark.parametrize("level", [*NOISE_LEVELS, (1.0 - 1e-8, 1e-8)])
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_tweedie_consistency(name: str, level: tuple[float, float]) -> None:
    target, kw = TARGETS[name](), _noise(level)
    x = _points(target, 20, seed=3)
    ab, om = level
    mean = target.posterior_mean(x, **kw)
    score = target.score(x, **kw)
    # Tweedie solved for the posterior mean is well conditioned at every noise level ...
    np.testing.assert_allclose(mean, (x + om * score) / math.sqrt(ab), rtol=1e-12,
                               atol=1e-13 * np.max(np.abs(x)))
    # ... solved for the score it cancels O(|x|) terms to O(om |s|): rounding is eps |x| / om
    np.testing.assert_allclose(-(x - math.sqrt(ab) * mean) / om, score, rtol=1e-12,
                               atol=1e-14 * np.max(np.abs(x)) / om)


def test_product_jacobian_diagonal_matches_full_jacobian() -> None:
    target, kw = _product(), _noise((0.6, 0.4))
    x = _points(target, 5, seed=4)
    u = target.basis
    rotated = np.einsum("ai,nab,bj->nij", u, target.score_jacobian(x, **kw), u)
    diag = target.score_jacobian_diagonal(x, **kw)
    np.testing.assert_allclose(np.diagonal(rotated, axis1=1, axis2=2), diag, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(rotated - np.einsum("ni,ij->nij", diag, np.eye(3)), 0.0,
                               atol=1e-13)


# ---------------------------------------------------------------- densities


@pytest.mark.parametrize("level", [(0.5, 0.5), (0.99, 0.01), (1.0 - 1e-4, 1e-4)])
def test_log_density_integrates_to_one_1d(level: tuple[float, float]) -> None:
    target, kw = _gmm_1d(), _noise(level)

    def density(v: float) -> float:
        return float(np.exp(target.log_density(np.array([[v]]), **kw))[0])

    # break points at the component centres so quad resolves the narrow peaks
    peaks = sorted(math.sqrt(level[0]) * target.means[:, 0])
    mass, err = integrate.quad(density, -20.0, 20.0, points=peaks, limit=500,
                               epsabs=1e-12, epsrel=1e-12)
    assert abs(mass - 1.0) < 1e-9, (mass, err)


@pytest.mark.parametrize("target", [
    SubspaceGaussianMixture.create([0.4, 0.6], [[1.0, 0.0], [-1.0, 0.5]],
                                   [[[0.3, 0.2], [0.2, 0.4]], [[0.0, 0.0], [0.0, 0.0]]]),
    SubspaceGaussianMixture.create([0.4, 0.6], [[1.0], [-1.0]], [[[0.3]], [[0.0]]],
                                   ambient_dim=2, basis_seed=5),
], ids=["full_rank_2d", "line_in_2d"])
def test_log_density_integrates_to_one_on_2d_grid(target: SubspaceGaussianMixture) -> None:
    kw = _noise((0.7, 0.3))
    grid = np.linspace(-9.0, 9.0, 361)
    xx, yy = np.meshgrid(grid, grid, indexing="ij")
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    dens = np.exp(target.log_density(pts, **kw)).reshape(xx.shape)
    # trapezoid on a smooth, rapidly decaying integrand (sd >= 0.55, spacing 0.05) is
    # spectrally accurate; the truncation at |x| = 9 loses < 1e-15
    mass = np.trapezoid(np.trapezoid(dens, grid, axis=1), grid)
    assert abs(mass - 1.0) < 1e-10


@pytest.mark.parametrize("name", ["gmm_sub", "gmm_coordinate", "product"])
def test_log_density_matches_explicit_ambient_mixture(name: str) -> None:
    target, (ab, om) = TARGETS[name](), (0.8, 0.2)
    x = _points(target, 7, seed=6)
    u, d = target.basis, target.ambient_dim
    expanded = _expand(target) if isinstance(target, ProductMixture) else target
    terms = [np.log(w) + stats.multivariate_normal(
        math.sqrt(ab) * u @ mu, ab * u @ cov @ u.T + om * np.eye(d)).logpdf(x)
        for w, mu, cov in zip(expanded.weights, expanded.means, expanded.covariances,
                              strict=True)]
    np.testing.assert_allclose(target.log_density(x, alpha_bar=ab, one_minus_alpha_bar=om),
                               logsumexp(terms, axis=0), rtol=1e-12)


def test_posterior_mean_matches_quadrature_1d() -> None:
    target, (ab, om) = _gmm_1d(), (0.9, 0.1)
    x = 0.3
    lik = stats.norm(loc=0.0, scale=math.sqrt(om))
    # E[X0 | Xt=x]: the atom contributes a point mass, the others an integral over x0
    num = 0.3 * -1.5 * lik.pdf(x - math.sqrt(ab) * -1.5)
    den = 0.3 * lik.pdf(x - math.sqrt(ab) * -1.5)
    for w, mu, var in [(0.5, 0.4, 0.04), (0.2, 2.0, 0.81)]:
        prior = stats.norm(mu, math.sqrt(var))
        num += w * integrate.quad(lambda v, p=prior: v * p.pdf(v) * lik.pdf(x - math.sqrt(ab)
                                                                          * v), -15, 15)[0]
        den += w * integrate.quad(lambda v, p=prior: p.pdf(v) * lik.pdf(x - math.sqrt(ab) * v),
                                  -15, 15)[0]
    got = target.posterior_mean(np.array([[x]]), alpha_bar=ab, one_minus_alpha_bar=om)
    assert got[0, 0] == pytest.approx(num / den, rel=1e-9)
    dens = np.exp(target.log_density(np.array([[x]]), alpha_bar=ab, one_minus_alpha_bar=om))
    assert dens[0] == pytest.approx(den, rel=1e-9)


def test_responsibilities_match_bayes_rule_1d() -> None:
    target, (ab, om) = _gmm_1d(), (0.9, 0.1)
    x = np.array([[-1.2], [0.3], [2.2]])
    joint = np.stack([w * stats.norm(math.sqrt(ab) * mu[0], math.sqrt(ab * c[0, 0] + om))
                      .pdf(x[:, 0]) for w, mu, c in zip(target.weights, target.means,
                                                        target.covariances, strict=True)], axis=1)
    resp = target.responsibilities(x, alpha_bar=ab, one_minus_alpha_bar=om)
    np.testing.assert_allclose(resp, joint / joint.sum(axis=1, keepdims=True), rtol=1e-12)
    resp2 = _gmm_sub().responsibilities(_points(_gmm_sub(), 4, 0), alpha_bar=ab,
                                        one_minus_alpha_bar=om)
    assert resp2.shape == (4, 3)
    np.testing.assert_allclose(resp2.sum(axis=1), 1.0, rtol=1e-14)


# ---------------------------------------------------------------- the d-split


@pytest.mark.parametrize("name", ["gmm_sub", "gmm_coordinate", "product"])
def test_score_decomposition_identity(name: str) -> None:
    target, kw = TARGETS[name](), _noise((0.8, 0.2))
    x = _points(target, 9, seed=7)
    u = target.basis
    projector_perp = np.eye(target.ambient_dim) - u @ u.T
    sub = target.subspace_part()
    assert sub.ambient_dim == sub.intrinsic_dim == target.intrinsic_dim
    expected = sub.score(x @ u, **kw) @ u.T - x @ projector_perp / kw["one_minus_alpha_bar"]
    score = target.score(x, **kw)
    assert np.max(np.abs(score - expected)) <= 1e-12 * np.max(np.abs(score))
    perp_sq = np.sum((x @ projector_perp) ** 2, axis=1)
    codim, om = target.ambient_dim - target.intrinsic_dim, kw["one_minus_alpha_bar"]
    expected_log = (sub.log_density(x @ u, **kw) - perp_sq / (2 * om)
                    - codim / 2 * math.log(2 * math.pi * om))
    np.testing.assert_allclose(target.log_density(x, **kw), expected_log, rtol=1e-12)


def test_coordinate_frame_equals_explicit_basis() -> None:
    coord = _gmm_coordinate()
    explicit = SubspaceGaussianMixture.create(coord.weights, coord.means, coord.covariances,
                                              basis=np.eye(3, 1))
    assert coord.frame.kind == "coordinate" and explicit.frame.kind == "explicit"
    x, kw = _points(coord, 5, seed=8), _noise((0.6, 0.4))
    for method in ("log_density", "score", "score_jacobian", "posterior_mean"):
        np.testing.assert_allclose(getattr(coord, method)(x, **kw),
                                   getattr(explicit, method)(x, **kw), rtol=1e-14, atol=1e-14)


def test_subspace_round_trip_and_sharing() -> None:
    target = _gmm_sub()
    z = np.random.default_rng(9).normal(size=(4, 2))
    np.testing.assert_allclose(target.to_subspace(target.from_subspace(z)), z, atol=1e-14)
    sub = target.subspace_part()
    assert sub is target.subspace_part()          # cached
    assert sub.subspace_part() is sub
    np.testing.assert_array_equal(sub.covariances, target.covariances)
    np.testing.assert_allclose(target.basis.T @ target.basis, np.eye(2), atol=1e-14)


def test_huge_ambient_dim_never_allocates_the_basis() -> None:
    spec = {"kind": "subspace_gmm", "ambient_dim": 10**9, "weights": [0.3, 0.7],
            "means": [[-1.5], [1.0]], "covariances": [[[0.09]], [[0.25]]], "basis_seed": 0}
    target = from_spec(spec)
    assert target.ambient_dim == 10**9 and target.intrinsic_dim == 1
    sub = target.subspace_part()
    out = sub.score(np.array([[0.0], [1.0]]), alpha_bar=0.5, one_minus_alpha_bar=0.5)
    assert out.shape == (2, 1) and np.all(np.isfinite(out))
    with pytest.raises(InvalidParameterError, match=r"`ambient_dim` \* intrinsic_dim = 1e\+09"):
        target.score(np.zeros((1, 2)), alpha_bar=0.5, one_minus_alpha_bar=0.5)
    with pytest.raises(InvalidParameterError, match="too large for ambient coordinates"):
        _ = target.basis
    with pytest.raises(InvalidParameterError, match="too large"):
        target.sample_data(1, rng=np.random.default_rng(0))


# ---------------------------------------------------------------- atoms, tiny noise


def test_atoms_are_finite_and_exact_at_tiny_noise() -> None:
    target, ab, om = _gmm_1d(), 1.0, 1e-12
    atom, delta = -1.5, 1e-7
    x = np.array([[atom + delta], [0.4], [5.0]])
    kw = {"alpha_bar": ab, "one_minus_alpha_bar": om}
    outputs = [target.log_density(x, **kw), target.score(x, **kw),
               target.score_jacobian(x, **kw), target.posterior_mean(x, **kw)]
    assert all(np.all(np.isfinite(out)) for out in outputs)
    # next to the atom everything is the atom's Gaussian N(μ, 1e-12): other components carry
    # weight ~exp(-13) relative, times scores O(1e5) smaller
    assert outputs[1][0, 0] == pytest.approx(-delta / om, rel=1e-9)
    assert outputs[2][0, 0, 0] == pytest.approx(-1.0 / om, rel=1e-9)
    assert outputs[3][0, 0] == atom
    log_terms = [math.log(w) + stats.norm.logpdf(atom + delta, mu[0], math.sqrt(c[0, 0] + om))
                 for w, mu, c in zip(target.weights, target.means, target.covariances,
                                     strict=True)]
    assert outputs[0][0] == pytest.approx(logsumexp(log_terms), rel=1e-13)
    sub = _gmm_sub()
    y = sub.from_subspace(np.array([[0.3, 1.2 + 1e-7]])) + 1e-8
    vals = [getattr(sub, m)(y, **kw) for m in ("log_density", "score", "score_jacobian")]
    assert all(np.all(np.isfinite(v)) for v in vals)


def test_noise_level_accepts_tiny_one_minus_alpha_bar() -> None:
    assert check_noise_level(1.0, 1e-12) == (1.0, 1e-12)
    assert check_noise_level(1.0 - 1e-12, 1e-12)[1] == 1e-12


def test_overflow_is_reported_not_returned() -> None:
    with pytest.raises(NonFiniteError, match="`score` overflowed at point index 1"):
        _gmm_1d().score(np.array([[0.0], [1e300]]), alpha_bar=1.0, one_minus_alpha_bar=1e-12)


# ---------------------------------------------------------------- sampling


@pytest.mark.parametrize("name", ["gmm_sub", "product"])
def test_sample_noisy_moments(name: str) -> None:
    target, (ab, om), seed, n = TARGETS[name](), (0.7, 0.3), 20240601, 200_000
    expanded = _expand(target) if isinstance(target, ProductMixture) else target
    w, mu, cov, u = expanded.weights, expanded.means, expanded.covariances, target.basis
    mean_z = w @ mu
    cov_z = np.einsum("j,jkl->kl", w, cov + np.einsum("jk,jl->jkl", mu, mu)) - np.outer(
        mean_z, mean_z)
    mean_x = math.sqrt(ab) * u @ mean_z
    cov_x = ab * u @ cov_z @ u.T + om * np.eye(target.ambient_dim)
    x = target.sample_noisy(n, alpha_bar=ab, one_minus_alpha_bar=om,
                            rng=np.random.default_rng(seed))
    centred = x - mean_x
    mean_err = centred.mean(axis=0) / (centred.std(axis=0) / math.sqrt(n))
    products = np.einsum("na,nb->nab", centred, centred)
    cov_err = (products.mean(axis=0) - cov_x) / (products.std(axis=0) / math.sqrt(n))
    # 5 + 25 + ... z-scores: 5 sigma each keeps the family-wise false-alarm rate < 1e-4
    assert np.max(np.abs(mean_err)) < 5, (seed, mean_err)
    assert np.max(np.abs(cov_err)) < 5, (seed, cov_err)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_same_seed_same_samples(name: str) -> None:
    target, kw = TARGETS[name](), _noise((0.6, 0.4))
    a = target.sample_noisy(50, rng=np.random.default_rng(5), **kw)
    b = target.sample_noisy(50, rng=np.random.default_rng(5), **kw)
    c = target.sample_noisy(50, rng=np.random.default_rng(6), **kw)
    assert a.shape == (50, target.ambient_dim)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    d1 = target.sample_data(30, rng=np.random.default_rng(5))
    assert np.array_equal(d1, target.sample_data(30, rng=np.random.default_rng(5)))
    assert target.sample_data(0, rng=np.random.default_rng(5)).shape == (0, target.ambient_dim)


def test_atoms_sampled_exactly() -> None:
    z = _gmm_1d().sample_data(20_000, rng=np.random.default_rng(7))[:, 0]
    frac = np.mean(z == -1.5)
    assert abs(frac - 0.3) < 5 * math.sqrt(0.3 * 0.7 / 20_000)
    assert np.all(_product().sample_data(100, rng=np.random.default_rng(1)) @ _product().basis
                  [:, 1] == pytest.approx(0.5, abs=1e-14))
    sub = _gmm_sub().subspace_part().sample_data(5000, rng=np.random.default_rng(2))
    assert np.any(np.all(sub == [0.3, 1.2], axis=1))
    # rank-1 component: its samples lie exactly on the line mu + t v
    on_line = np.abs((sub[:, 0] + 1.0) * 0.8 - (sub[:, 1] - 0.5) * 0.6) < 1e-12
    assert 0.35 < np.mean(on_line) < 0.55


# ---------------------------------------------------------------- product mixtures


def _expand(product: ProductMixture) -> SubspaceGaussianMixture:
    """The same law written as one mixture with Π m_i diagonal components (test-only)."""
    grids = np.meshgrid(*[np.arange(f.num_components) for f in product.factors], indexing="ij")
    labels = np.column_stack([g.ravel() for g in grids])
    weights = np.prod([f.weights[labels[:, i]] for i, f in enumerate(product.factors)], axis=0)
    means = np.column_stack([f.means[labels[:, i], 0] for i, f in enumerate(product.factors)])
    variances = np.column_stack([f.covariances[labels[:, i], 0, 0]
                                 for i, f in enumerate(product.factors)])
    covs = np.einsum("jk,kl->jkl", variances, np.eye(product.intrinsic_dim))
    return SubspaceGaussianMixture.create(weights, means, covs, basis=product.basis)


@pytest.mark.parametrize("level", [(0.5, 0.5), (0.999, 0.001)])
def test_product_agrees_with_expanded_mixture(level: tuple[float, float]) -> None:
    product, kw = _product(), _noise(level)
    expanded = _expand(product)
    assert expanded.num_components == 6
    x = _points(product, 8, seed=10)
    for method in ("log_density", "score", "score_jacobian", "posterior_mean"):
        got, want = getattr(product, method)(x, **kw), getattr(expanded, method)(x, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * np.max(np.abs(want)),
                                   err_msg=method)


def test_product_factor_and_subspace_part() -> None:
    product = _product()
    f = product.factor(2)
    assert isinstance(f, SubspaceGaussianMixture) and f.ambient_dim == 1
    np.testing.assert_array_equal(f.covariances[:, 0, 0], [1.0, 0.3, 0.01])
    z, kw = np.random.default_rng(11).normal(size=(5, 3)), _noise((0.4, 0.6))
    total = sum(product.factor(i).log_density(z[:, i:i + 1], **kw) for i in range(3))
    np.testing.assert_allclose(product.subspace_part().log_density(z, **kw), total,
                               rtol=1e-13)


# ---------------------------------------------------------------- immutability


def test_targets_are_frozen_and_read_only() -> None:
    target = _gmm_sub()
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.weights = np.ones(3) / 3  # type: ignore[misc]
    for arr in (target.weights, target.means, target.covariances, target.basis):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 0.0


# ---------------------------------------------------------------- from_spec


def test_from_spec_builds_both_kinds() -> None:
    gmm = from_spec({"kind": "subspace_gmm", "ambient_dim": 1000, "weights": [0.3, 0.7],
                     "means": [[-1.5], [1.0]], "covariances": [[[0.09]], [[0.25]]],
                     "basis_seed": 0})
    assert isinstance(gmm, SubspaceGaussianMixture) and gmm.basis.shape == (1000, 1)
    prod = from_spec({"kind": "product_gmm", "ambient_dim": 10, "basis_seed": 1, "factors": [
        {"weights": [0.5, 0.5], "means": [-1.0, 1.0], "variances": [0.1, 0.0]},
        {"weights": [1.0], "means": [0.0], "variances": [2.0]}]})
    assert isinstance(prod, ProductMixture) and (prod.ambient_dim, prod.intrinsic_dim) == (10, 2)
    full = from_spec({"kind": "subspace_gmm", "weights": [1.0], "means": [[0.0, 0.0]],
                      "covariances": [np.eye(2).tolist()]})
    assert full.frame.kind == "identity" and full.ambient_dim == 2


@pytest.mark.parametrize(("spec", "match"), [
    ([1, 2], r"`spec` must be a mapping"),
    ({"weights": [1.0]}, r"missing required key 'kind'"),
    ({"kind": "gmm"}, r"`spec\['kind'\]` must be one of 'subspace_gmm', 'product_gmm'"),
    ({"kind": ["subspace_gmm"]}, r"`spec\['kind'\]` must be one of"),
    ({"kind": "subspace_gmm", "weights": [1.0], "means": [[0.0]]},
     r"missing required key 'covariances'"),
    ({"kind": "subspace_gmm", "weights": [1.0], "means": [[0.0]], "covariances": [[[1.0]]],
      "ambiant_dim": 3}, r"unexpected key 'ambiant_dim'"),
    ({"kind": "product_gmm", "factors": 3}, r"`spec\['factors'\]` must be a list"),
    ({"kind": "product_gmm", "factors": [{"weights": [1.0], "means": [0.0]}]},
     r"`spec\['factors'\]\[0\]` is missing required key 'variances'"),
    ({"kind": "product_gmm", "factors": [{"weights": [1.0], "means": [0.0], "variances": [1],
                                          "var": 1}]}, r"unexpected key 'var'"),
])
def test_from_spec_errors(spec: object, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        from_spec(spec)  # type: ignore[arg-type]


def test_from_spec_value_errors_name_the_key() -> None:
    with pytest.raises(InvalidParameterError, match=r"`factors\[0\]\.weights` must sum to 1"):
        from_spec({"kind": "product_gmm", "factors": [
            {"weights": [0.5], "means": [0.0], "variances": [1.0]}]})


# ---------------------------------------------------------------- error paths

W, MU, COV = [0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[0.5]]]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"weights": [-0.5, 1.5]}, InvalidParameterError, r"`weights` must be >= 0 \(got -0\.5"),
    ({"weights": [0.5, 0.47]}, InvalidParameterError, r"`weights` must sum to 1 within 1e-12"),
    ({"weights": [[0.5, 0.5]]}, InvalidParameterError, r"`weights` must be 1-dimensional"),
    ({"weights": []}, InvalidParameterError, r"`weights` must have at least one entry"),
    ({"weights": [0.5, math.nan]}, NonFiniteError, r"`weights` must be finite"),
    ({"weights": ["a", "b"]}, InvalidParameterError, r"`weights` must be an array of real"),
    ({"means": [[0.0], [1.0], [2.0]]}, InvalidParameterError,
     r"`means` must have shape \(m, k\) with m=2 rows"),
    ({"means": [0.0, 1.0]}, InvalidParameterError, r"`means` must be 2-dimensional"),
    ({"means": [[0.0], [math.inf]]}, NonFiniteError, r"`means` must be finite"),
    ({"covariances": [[[1.0, 0.0]], [[0.5, 0.0]]]}, InvalidParameterError,
     r"`covariances` must have shape \(2, 1, 1\)"),
    ({"covariances": [[[1.0]], [[-0.5]]]}, InvalidParameterError,
     r"`covariances\[1\]` must be positive semi-definite.*got min eigenvalue -0\.5"),
    ({"means": [[0.0, 0.0], [1.0, 1.0]], "covariances": [[[1.0, 0.3], [0.0, 1.0]], np.eye(2)]},
     InvalidParameterError, r"`covariances\[0\]` must be symmetric.*got 0\.3"),
    ({"covariances": [[[1.0]], [[math.nan]]]}, NonFiniteError, r"`covariances` must be finite"),
    ({"basis": [[0.6], [0.6]]}, InvalidParameterError, r"`basis` must have orthonormal columns"),
    ({"basis": [[1.0, 0.0]]}, InvalidParameterError, r"`basis` must have shape \(d, k\) with k=1"),
    ({"means": [[0.0, 0.0], [1.0, 1.0]], "covariances": [np.eye(2), np.eye(2)],
      "basis": [[1.0, 0.0]]}, InvalidParameterError, r"`basis` must have at least k=2 rows"),
    ({"basis": [[1.0], [0.0]], "ambient_dim": 3}, InvalidParameterError,
     r"`ambient_dim` must equal basis.shape\[0\]=2 \(got 3\)"),
    ({"basis": [[1.0], [0.0]], "basis_seed": 1}, InvalidParameterError,
     r"give at most one of `basis` and `basis_seed`"),
    ({"means": [[0.0, 0.0], [1.0, 1.0]], "covariances": [np.eye(2), np.eye(2)],
      "ambient_dim": 1}, InvalidParameterError, r"`ambient_dim` must be >= the intrinsic"),
    ({"ambient_dim": 2.5}, InvalidParameterError, r"`ambient_dim` must be an integer"),
    ({"ambient_dim": 3, "basis_seed": -1}, InvalidParameterError, r"`basis_seed` must be >= 0"),
    ({"basis": [[1.0], [math.nan]]}, NonFiniteError, r"`basis` must be finite"),
])
def test_mixture_construction_errors(kwargs: dict[str, object], error: type[Exception],
                                     match: str) -> None:
    args = {"weights": W, "means": MU, "covariances": COV, **kwargs}
    with pytest.raises(error, match=match):
        SubspaceGaussianMixture.create(args.pop("weights"), args.pop("means"),  # type: ignore
                                       args.pop("covariances"), **args)  # type: ignore


def test_covariance_rounding_is_accepted() -> None:
    v = np.array([0.6, 0.8]) * 1.7
    cov = np.outer(v, v)                           # rank 1: an eigenvalue of ~±1e-16
    target = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [cov])
    assert np.min(np.linalg.eigvalsh(target.covariances[0])) > -1e-14
    assert np.isfinite(target.log_density(np.zeros((1, 2)), alpha_bar=0.5,
                                          one_minus_alpha_bar=0.5)).all()


@pytest.mark.parametrize(("factors", "match"), [
    ([], r"`factors` must be a non-empty sequence"),
    ("abc", r"`factors` must be a non-empty sequence"),
    ([([1.0], [0.0])], r"`factors\[0\]` must be a \(weights, means, variances\) triple"),
    ([([1.0], [0.0], [1.0]), ([0.5, 0.5], [0.0, 1.0], [1.0, -1.0])],
     r"`factors\[1\]\.variances` must be >= 0 \(got -1\.0 at index 1\)"),
    ([([0.5, 0.5], [0.0, 1.0], [1.0])], r"`factors\[0\]\.means` must have shape \(1\)"),
    ([([1.0], [0.0, 1.0], [1.0, 1.0])], r"`factors\[0\]\.weights`, `\.means` and `\.variances`"),
    ([([0.7, 0.7], [0.0, 1.0], [1.0, 1.0])], r"`factors\[0\]\.weights` must sum to 1"),
])
def test_product_construction_errors(factors: object, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        ProductMixture.create(factors)  # type: ignore[arg-type]


def test_direct_construction_is_validated() -> None:
    frame = SubspaceFrame.create(2, ambient_dim=4)
    with pytest.raises(InvalidParameterError, match=r"`means` must have k = frame.intrinsic_dim"):
        SubspaceGaussianMixture(weights=np.array(W), means=np.array(MU),
                                covariances=np.array(COV), frame=frame)
    with pytest.raises(InvalidParameterError, match=r"`frame` must be a SubspaceFrame"):
        SubspaceGaussianMixture(weights=np.array(W), means=np.array(MU),
                                covariances=np.array(COV), frame=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"`frame` must be a SubspaceFrame with "
                                                     r"intrinsic_dim = len\(factors\) = 1"):
        ProductMixture(factors=(_gmm_1d(),), frame=frame)
    with pytest.raises(InvalidParameterError, match=r"`factors\[0\]` must be a one-dimensional"):
        ProductMixture(factors=(_gmm_sub(),), frame=SubspaceFrame.create(1))


@pytest.mark.parametrize(("noise", "error", "match"), [
    ({"alpha_bar": 0.0, "one_minus_alpha_bar": 1.0}, InvalidParameterError,
     r"`alpha_bar` must be > 0\.0"),
    ({"alpha_bar": 1.2, "one_minus_alpha_bar": 0.5}, InvalidParameterError,
     r"`alpha_bar` must be <= 1\.0"),
    ({"alpha_bar": 1.0, "one_minus_alpha_bar": 0.0}, InvalidParameterError,
     r"`one_minus_alpha_bar` must be > 0\.0"),
    ({"alpha_bar": 0.5, "one_minus_alpha_bar": 0.6}, InvalidParameterError,
     r"`alpha_bar` \+ `one_minus_alpha_bar` must equal 1 within 1e-09"),
    ({"alpha_bar": 0.5, "one_minus_alpha_bar": math.nan}, NonFiniteError,
     r"`one_minus_alpha_bar` must be finite"),
    ({"alpha_bar": "0.5", "one_minus_alpha_bar": 0.5}, InvalidParameterError,
     r"`alpha_bar` must be a real number"),
])
def test_noise_level_errors(noise: dict[str, object], error: type[Exception],
                            match: str) -> None:
    target = _gmm_1d()
    for method in (target.log_density, target.score, target.score_jacobian,
                   target.posterior_mean, target.responsibilities):
        with pytest.raises(error, match=match):
            method(np.zeros((1, 1)), **noise)  # type: ignore[arg-type]
    with pytest.raises(error, match=match):
        target.sample_noisy(3, rng=np.random.default_rng(0), **noise)  # type: ignore[arg-type]


def test_call_argument_errors() -> None:
    target, kw = _gmm_sub(), _noise((0.5, 0.5))
    with pytest.raises(InvalidParameterError, match=r"`x` must have shape \(\*, 5\)"):
        target.score(np.zeros((3, 4)), **kw)
    with pytest.raises(InvalidParameterError, match=r"`x` must have shape \(\*, 5\)"):
        target.log_density(np.zeros(5), **kw)
    with pytest.raises(NonFiniteError, match=r"`x` must be finite"):
        target.score(np.full((1, 5), np.nan), **kw)
    with pytest.raises(InvalidParameterError, match=r"`z` must have shape \(\*, 2\)"):
        target.from_subspace(np.zeros((3, 5)))
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy.random.Generator"):
        target.sample_data(3, rng=np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"`n` must be >= 0"):
        target.sample_data(-1, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`i` must be <= 2"):
        _product().factor(3)
    wide = SubspaceGaussianMixture.create([1.0], [[0.0]], [[[1.0]]], ambient_dim=4000)
    with pytest.raises(InvalidParameterError, match=r"use subspace_part\(\)\.score_jacobian"):
        wide.score_jacobian(np.zeros((7, 4000)), **kw)
