"""Estimators of RECOVER against known answers: PCA and principal angles, EM, the structured
score, the ambient control's Wishart fit and orthogonal chain, and their bad-input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorycheck.claims import _recover_experiments as rx
from theorycheck.designs import make_design
from theorycheck.divergences import gaussian
from theorycheck.errors import InvalidParameterError
from theorycheck.estimation import (
    OrthogonalCovarianceFit,
    estimate_structured,
    fit_gaussian_mixture,
    fit_orthogonal_covariance,
    orthogonal_output,
    pca_subspace,
    principal_angles,
    sin_theta_max,
)
from theorycheck.samplers import DesignSampler, run_chain
from theorycheck.schedules import two_phase
from theorycheck.scores import ExactScore
from theorycheck.split import orthogonal_variance
from theorycheck.targets import SubspaceGaussianMixture

SEED = 20261123


def _target(d: int = 40, k: int = 3) -> SubspaceGaussianMixture:
    cov = np.diag(np.linspace(0.5, 1.5, k))
    return SubspaceGaussianMixture.create([0.4, 0.6], [np.full(k, -1.0), np.full(k, 1.0)],
                                          [cov, 0.5 * cov], ambient_dim=d, basis_seed=3)


# --- PCA and principal angles -------------------------------------------------------------------

def test_noiseless_pca_recovers_the_subspace_exactly() -> None:
    target = _target(d=60, k=3)
    x = target.sample_data(4, rng=np.random.default_rng(SEED))     # n = k + 1 suffices
    est = pca_subspace(x, 3)
    assert sin_theta_max(est.basis, target.basis) < 1e-12
    assert est.basis.shape == (60, 3)
    assert est.residual_ratio < 1e-7       # data have no variance off the subspace


def test_pca_gram_and_svd_routes_agree() -> None:
    x = _target(d=8, k=2).sample_data(50, rng=np.random.default_rng(SEED))
    x = x + 0.05 * np.random.default_rng(1).standard_normal(x.shape)
    wide = pca_subspace(x[:6], 2)           # n <= d: SVD route
    tall = pca_subspace(x, 2)               # n > d: Gram route
    svd_basis = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)[2][:2].T
    assert sin_theta_max(tall.basis, svd_basis) < 1e-10
    assert wide.basis.shape == (8, 2)


def test_noisy_pca_angle_matches_first_order_theory() -> None:
    # X = U Z + τξ, Z ~ N(0, diag(1, 0.5)): E‖(U⊥ᵀ Ŝ U) Λ⁻¹‖ with entries ~ τ sqrt(λ_j/n)/λ_j.
    # First order: sin θ_max ≈ largest singular value of a (d-k) × k matrix whose column j is
    # N(0, τ²/(n λ_j)); its mean for d-k = 30, k = 2 is ≈ τ sqrt(30/(n λ_min)) (≈ 10 % high).
    mean, cov = np.zeros(2), np.diag([1.0, 0.5])
    sines = rx.noisy_pca_angles(mean=mean, cov=cov, ambient_dim=32, num_samples=2000,
                                noise_std=0.1, rng=np.random.default_rng(SEED), num_repeats=10,
                                basis_seed=5)
    predicted = 0.1 * math.sqrt(30 / (2000 * 0.5))
    assert 0.7 * predicted < sines.mean() < 1.3 * predicted


def test_principal_angles_of_known_planes() -> None:
    for theta in (0.0, 1e-9, 0.3, math.pi / 2 - 1e-9, math.pi / 2):
        a = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
        b = np.array([[1.0, 0.0], [0.0, math.cos(theta)], [0.0, math.sin(theta)], [0.0, 0.0]])
        angles = principal_angles(a, b)
        assert angles[0] == pytest.approx(0.0, abs=1e-15)
        assert angles[1] == pytest.approx(theta, rel=1e-12, abs=1e-15)
    assert sin_theta_max(a, b) == pytest.approx(1.0)


@pytest.mark.parametrize(("samples", "k", "match"), [
    (np.zeros((3, 5)), 3, r"`samples` must have at least intrinsic_dim \+ 1 = 4 rows"),
    (np.zeros((10, 2)), 3, r"`intrinsic_dim` must be <= the ambient dimension d"),
    (np.zeros((10, 4)), 0, r"`intrinsic_dim` must be >= 1"),
    (np.ones((10, 4)), 1, r"`samples` must span at least intrinsic_dim = 1"),
    (np.zeros(5), 1, r"`samples` must be 2-dimensional"),
])
def test_pca_bad_input(samples: np.ndarray, k: int, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        pca_subspace(samples, k)


def test_principal_angles_bad_input() -> None:
    a = np.eye(4)[:, :2]
    with pytest.raises(InvalidParameterError, match="`basis_b` must have orthonormal columns"):
        principal_angles(a, 2.0 * a)
    with pytest.raises(InvalidParameterError, match=r"`basis_b` must have the shape of"):
        principal_angles(a, np.eye(4)[:, :3])
    with pytest.raises(InvalidParameterError, match=r"`basis_a` must have shape \(d, k\)"):
        principal_angles(np.eye(2, 3), a)


# --- EM ----------------------------------------------------------------------------------------

def test_em_recovers_a_known_mixture() -> None:
    truth = SubspaceGaussianMixture.create([0.3, 0.7], [[-1.0, 0.5], [1.0, -0.5]],
                                           [np.diag([0.1, 0.2]), np.array([[0.2, 0.05],
                                                                           [0.05, 0.1]])])
    z = truth.sample_data(20000, rng=np.random.default_rng(SEED))
    fit = fit_gaussian_mixture(z, 2, rng=np.random.default_rng(1))
    assert fit.converged
    # Standard errors at n = 20000 are ~0.005 (means) and ~0.003 (weights): 5 sigma below.
    np.testing.assert_allclose(fit.weights, [0.3, 0.7], atol=0.015)
    np.testing.assert_allclose(fit.means, truth.means, atol=0.03)
    np.testing.assert_allclose(fit.covariances, truth.covariances, atol=0.02)
    assert fit.num_parameters == 1 + 4 + 6


def test_em_one_component_is_the_gaussian_mle() -> None:
    z = np.random.default_rng(SEED).standard_normal((500, 3)) @ np.diag([1.0, 2.0, 0.5])
    fit = fit_gaussian_mixture(z, 1, rng=np.random.default_rng(0))
    centred = z - z.mean(axis=0)
    floor = 1e-6 * float(np.mean(np.var(z, axis=0)))
    np.testing.assert_allclose(fit.means[0], z.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(fit.covariances[0], centred.T @ centred / 500 + floor * np.eye(3),
                               rtol=1e-12)


def test_em_is_deterministic_and_rotation_equivariant() -> None:
    z = _target(d=2, k=2).subspace_part().sample_data(800, rng=np.random.default_rng(SEED))
    a = fit_gaussian_mixture(z, 2, rng=np.random.default_rng(7))
    b = fit_gaussian_mixture(z, 2, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.means, b.means)
    np.testing.assert_array_equal(a.covariances, b.covariances)
    c, s = math.cos(0.7), math.sin(0.7)
    rot = np.array([[c, -s], [s, c]])
    r = fit_gaussian_mixture(z @ rot.T, 2, rng=np.random.default_rng(7))
    order = np.argsort((a.means @ rot.T)[:, 0])
    np.testing.assert_allclose(r.means, (a.means @ rot.T)[order], atol=1e-9)
    np.testing.assert_allclose(r.covariances, (rot @ a.covariances @ rot.T)[order], atol=1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"samples": np.zeros((2, 2)), "num_components": 1}, r"at least max\(k \+ 1, num_comp"),
    ({"samples": np.zeros((5, 1)), "num_components": 6}, r"at least max\(k \+ 1, num_comp"),
    ({"samples": np.zeros((5, 1)), "num_components": 0}, r"`num_components` must be >= 1"),
    ({"samples": np.zeros((5, 1)), "num_components": 1, "tol": 0.0}, r"`tol` must be > 0"),
    ({"samples": np.zeros((5, 1)), "num_components": 1, "num_inits": 0},
     r"`num_inits` must be >= 1"),
])
def test_em_bad_input(kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        fit_gaussian_mixture(rng=np.random.default_rng(0), **kwargs)
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
        fit_gaussian_mixture(np.zeros((5, 1)), 1, rng=0)  # type: ignore[arg-type]


# --- structured score --------------------------------------------------------------------------

def test_structured_score_is_the_decomposition() -> None:
    target = _target(d=30, k=2)
    rng = np.random.default_rng(SEED)
    est = estimate_structured(target.sample_data(600, rng=rng), 2, 2, rng=rng)
    schedule = two_phase(50)
    score = est.score(schedule)
    x = rng.standard_normal((7, 30))
    t = 20
    ab, q = float(schedule.alpha_bar[t - 1]), float(schedule.one_minus_alpha_bar[t - 1])
    u = est.subspace.basis
    latent = est.model.subspace_part()
    direct = (latent.score(x @ u, alpha_bar=ab, one_minus_alpha_bar=q) @ u.T
              - (x - (x @ u) @ u.T) / q)
    np.testing.assert_allclose(score(x, t), direct, rtol=1e-10, atol=1e-12)
    assert sin_theta_max(u, target.basis) < 1e-12


def test_estimate_structured_bad_input_names_the_argument() -> None:
    x = _target(d=5, k=2).sample_data(2, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`samples` must have at least "
                                                    r"intrinsic_dim \+ 1 = 3 rows"):
        estimate_structured(x, 2, 1, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`intrinsic_dim` must be <= the ambient"):
        estimate_structured(np.zeros((10, 5)), 6, 1, rng=np.random.default_rng(0))
    est = estimate_structured(_target(d=5, k=2).sample_data(20, rng=np.random.default_rng(0)),
                              2, 1, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck Schedule"):
        est.score("linear")  # type: ignore[arg-type]


# --- ambient control ---------------------------------------------------------------------------

def test_wishart_fit_has_the_sample_covariance_law() -> None:
    fit = fit_orthogonal_covariance(50, 4, rng=np.random.default_rng(SEED), num_fits=4000)
    cov = fit.covariance
    assert cov.shape == (4000, 4, 4)
    # E[Ŵ] = I; Var(Ŵ_ii) = 2/n, Var(Ŵ_ij) = 1/n: checked to 5 standard errors.
    np.testing.assert_allclose(cov.mean(axis=0), np.eye(4), atol=5 * math.sqrt(2 / 50 / 4000))
    assert np.var(cov[:, 0, 0]) == pytest.approx(2 / 50, rel=0.12)
    assert np.var(cov[:, 0, 1]) == pytest.approx(1 / 50, rel=0.12)


def test_orthogonal_output_at_identity_is_the_exact_recursion() -> None:
    for name in ("ddpm_posterior", "ddpm_beta", "ddim"):
        design = make_design(name, two_phase(300))
        fit = OrthogonalCovarianceFit(covariance=np.eye(3), num_samples=10)
        out = orthogonal_output(design, fit)
        exact = orthogonal_variance(design).final_variance
        np.testing.assert_allclose(out.variances, exact, rtol=1e-11)


def test_ambient_control_bad_input() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError, match=r"`num_samples` must exceed "
                                                    r"`orthogonal_dim` = d - k = 5"):
        fit_orthogonal_covariance(5, 5, rng=rng)
    with pytest.raises(InvalidParameterError, match=r"`orthogonal_dim` must be >= 1"):
        fit_orthogonal_covariance(5, 0, rng=rng)
    with pytest.raises(InvalidParameterError, match="`fit` must be an OrthogonalCovarianceFit"):
        orthogonal_output(make_design("ddim", two_phase(20)), np.eye(2))  # type: ignore[arg-type]


# --- exact measurement helpers -----------------------------------------------------------------

def test_small_kl_matches_the_scipy_closed_form() -> None:
    rng = np.random.default_rng(SEED)
    for k in (1, 3, 6):
        a, b = rng.standard_normal((k, k)), rng.standard_normal((k, k))
        cov_p, cov_q = a @ a.T + np.eye(k), b @ b.T + np.eye(k)
        mp, mq = rng.standard_normal(k), rng.standard_normal(k)
        assert rx.kl_gaussian_small(mp, cov_p, mq, cov_q) == pytest.approx(
            gaussian.kl_gaussian(mp, cov_p, mq, cov_q).value, rel=1e-12)


def test_gaussian_output_matches_the_sampling_driver() -> None:
    # The linear chain must equal what the real driver produces with the model's exact score.
    design = make_design("ddpm_posterior", two_phase(60))
    mean_hat, cov_hat = np.array([0.4, -0.2]), np.array([[0.8, 0.2], [0.2, 0.5]])
    out_mean, out_cov = rx._gaussian_output(design, mean_hat[None], cov_hat[None])
    model = SubspaceGaussianMixture.create([1.0], mean_hat[None], cov_hat[None])
    chain = run_chain(DesignSampler(design=design), ExactScore(target=model,
                                                               schedule=design.schedule),
                      num_samples=40000, dim=2, rng=np.random.default_rng(SEED))
    y = chain.final
    # Monte Carlo: mean error ~ sqrt(0.8/40000) = 0.0045, covariance error ~ 0.006; 5 sigma.
    np.testing.assert_allclose(y.mean(axis=0), out_mean[0], atol=0.025)
    np.testing.assert_allclose(np.cov(y.T), out_cov[0], atol=0.03)
    # A zero covariance turns the chain into the data-free recursion of theorycheck.split.
    _, zero_cov = rx._gaussian_output(design, np.zeros((1, 1)), np.zeros((1, 1, 1)))
    assert zero_cov[0, 0, 0] == pytest.approx(orthogonal_variance(design).final_variance,
                                              rel=1e-11)
