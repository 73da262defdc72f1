"""The exact Gaussian output recursion against independent brute-force computations."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from theorycheck.designs import make_design
from theorycheck.divergences import gaussian
from theorycheck.divergences.gaussian_recursion import (
    gaussian_kl,
    gaussian_output,
    gaussian_tv,
)
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind
from theorycheck.schedules import two_phase
from theorycheck.split import orthogonal_variance
from theorycheck.targets import SubspaceGaussianMixture

SEED = 20261202


def _ambient_moments(design, target) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Brute force in R^d, float64: mean/covariance of Y_1 and of X_1 from the ambient score."""
    sched = design.schedule
    u = target.basis
    d = u.shape[0]
    sigma0 = u @ target.covariances[0] @ u.T
    mu0 = u @ target.means[0]
    mean, cov = np.zeros(d), np.eye(d)
    for t in range(sched.num_steps, 1, -1):
        ab, om = sched.alpha_bar[t - 1], sched.one_minus_alpha_bar[t - 1]
        a_t = ab * sigma0 + om * np.eye(d)
        gain = np.eye(d) - design.eta[t - 1] * np.linalg.inv(a_t)
        shift = design.eta[t - 1] * math.sqrt(ab) * np.linalg.solve(a_t, mu0)
        inv = 1.0 / math.sqrt(sched.alpha[t - 1])
        mean = (gain @ mean + shift) * inv
        cov = (gain @ cov @ gain.T + design.sigma_sq[t - 1] * np.eye(d)) * inv * inv
    ab1, om1 = sched.alpha_bar[0], sched.one_minus_alpha_bar[0]
    return math.sqrt(ab1) * mu0, ab1 * sigma0 + om1 * np.eye(d), mean, cov


@pytest.mark.parametrize("name", ["ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"])
def test_kl_matches_brute_force_in_ambient_space(name: str) -> None:
    design = make_design(name, two_phase(40, c0=1.0, c1=3.0))
    cov = np.array([[0.5, 0.2], [0.2, 1.5]])
    target = SubspaceGaussianMixture.create([1.0], [[0.7, -0.4]], [cov], ambient_dim=6,
                                            basis_seed=3)
    mp_, cp, mq, cq = _ambient_moments(design, target)
    out = gaussian_output(target.subspace_part(), design)
    for direction, (a, b) in (("target_to_model", ((mp_, cp), (mq, cq))),
                              ("model_to_target", ((mq, cq), (mp_, cp)))):
        sub, orth = gaussian_kl(out, 6, direction=direction)
        brute = gaussian.kl_gaussian(a[0], a[1], b[0], b[1]).value
        # float64 brute force loses ~1e-9 relative over 40 steps of 6×6 inversions
        assert sub.value + orth.value == pytest.approx(brute, rel=1e-7, abs=1e-12)


def test_zero_mean_tv_matches_brute_force_diagonalisation() -> None:
    design = make_design("ddpm_beta", two_phase(40, c0=1.0, c1=3.0))
    cov = np.array([[0.5, 0.2], [0.2, 1.5]])
    target = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [cov], ambient_dim=7,
                                            basis_seed=5)
    _, cp, _, cq = _ambient_moments(design, target)
    chol = np.linalg.cholesky(cp)
    white = np.linalg.solve(chol, np.linalg.solve(chol, cq).T)
    ratios = np.linalg.eigvalsh(0.5 * (white + white.T))
    brute = gaussian.tv_diagonal(np.ones(7), ratios, rtol=1e-9)
    out = gaussian_output(target.subspace_part(), design)
    total, _, _ = gaussian_tv(out, 7, rng=np.random.default_rng(SEED))
    assert total.error_kind is ErrorKind.TOLERANCE
    assert abs(total.value - brute.value) <= 1e-7 + total.stderr + brute.stderr


def test_data_free_coordinate_is_the_orthogonal_recursion() -> None:
    design = make_design("ddpm_beta", two_phase(60))
    target = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [np.zeros((2, 2))])
    out = gaussian_output(target, design)
    with mpmath.workdps(50):
        diff = abs(out.eps_mp[0] - orthogonal_variance(design).relative_error_mp)
    assert diff <= mpmath.mpf(10) ** -40
    assert out.standardized_mean_error.tolist() == [0.0, 0.0]


def test_one_dimensional_shifted_tv_and_kl_are_exact() -> None:
    design = make_design("ddpm_posterior", two_phase(50))
    target = SubspaceGaussianMixture.create([1.0], [[1.2]], [[[0.3]]])
    mp_, cp, mq, cq = _ambient_moments(design, target)
    out = gaussian_output(target, design)
    total, _, _ = gaussian_tv(out, 1, rng=np.random.default_rng(SEED))
    exact = gaussian.tv_gaussian_1d(mp_[0], cp[0, 0], mq[0], cq[0, 0])
    assert total.value == pytest.approx(exact.value, rel=1e-8)
    # with an orthogonal complement the composite rule agrees with the product Monte Carlo
    tv20, _, _ = gaussian_tv(out, 20, rng=np.random.default_rng(SEED))
    mc = gaussian_tv(gaussian_output(SubspaceGaussianMixture.create(
        [1.0], [[1.2, 0.0]], [[[0.3, 0.0], [0.0, 0.0]]]), design), 20,
        rng=np.random.default_rng(SEED), num_samples=200_000, method="monte_carlo")[0]
    assert mc.error_kind is ErrorKind.STDERR
    assert abs(tv20.value - mc.value) <= 4 * mc.stderr + tv20.stderr


def test_gaussian_output_bad_input() -> None:
    design = make_design("ddim", two_phase(20))
    two = SubspaceGaussianMixture.create([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]])
    with pytest.raises(InvalidParameterError, match="one-component SubspaceGaussianMixture"):
        gaussian_output(two, design)
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        gaussian_output(two, "ddim")  # type: ignore[arg-type]
    one = SubspaceGaussianMixture.create([1.0], [[0.0]], [[[1.0]]])
    out = gaussian_output(one, design)
    with pytest.raises(InvalidParameterError, match="`direction` must be"):
        gaussian_kl(out, 3, direction="sideways")
    with pytest.raises(InvalidParameterError, match="`ambient_dim` must be >= 1"):
        gaussian_kl(out, 0)


def test_tv_ratio_groups_matches_tv_diagonal_and_rejects_bad_input() -> None:
    v_q = np.array([1.1, 1.1, 0.95, 1.0, 1.1])
    ref = gaussian.tv_diagonal(np.ones(5), v_q)
    est = gaussian.tv_ratio_groups([3, 1, 1], [0.1 * (1 + 1e-16), -0.05, 0.0])
    assert est.value == pytest.approx(ref.value, rel=1e-9)
    with pytest.raises(InvalidParameterError, match="`counts` and `eps` must be non-empty"):
        gaussian.tv_ratio_groups([1, 2], [0.1])
    with pytest.raises(InvalidParameterError, match=r"`counts\[0\]` must be >= 1"):
        gaussian.tv_ratio_groups([0], [0.1])
    with pytest.raises(InvalidParameterError, match="`eps` must have at most 3 distinct"):
        gaussian.tv_ratio_groups([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4])
