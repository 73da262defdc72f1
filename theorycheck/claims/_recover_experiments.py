"""Measurements of RECOVER (private to :mod:`theorycheck.claims.recover`).

Every divergence compares the true ``p_{X_1}`` with the output ``p_{Y_1}`` of the sampler run
with an *estimated* score, through the exact split (docs/theory.md §5): for noiseless data on the
subspace PCA recovers it exactly (``sin θ_max`` ~ 1e-15, recorded at every fit; RECOVER FAILs
if any exceeds ``ANGLE_EXACT_TOL``), so in the estimated frame ``(Û, Û⊥)`` both laws are products of a
k-dimensional part and an orthogonal Gaussian part:

* k-part: Gaussian latent (one component) — the sampler with the fitted Gaussian's score is
  linear, ``Y_1``'s k-part is ``N(m_1, V_1)`` by an exact per-eigen-coordinate recursion, KL is
  closed form (:func:`~theorycheck.divergences.gaussian.kl_gaussian`); mixture latent (k = 1)
  — grid quadrature of the sampler's density with the EM-fitted score
  (:func:`~theorycheck.divergences.grid.propagate_density_1d`), at two resolutions;
* orthogonal part: structured estimator — ``N(0, v_1 I_{d-k})`` with the design's exact ``v_1``
  (mpmath); ambient control — ``N(0, Q diag(v_1) Qᵀ)`` from its covariance fit
  (:func:`~theorycheck.estimation.score_models.orthogonal_output`); KL closed form.

KL of a product adds.  TV of the product is ``E_q[(1 - p/q)_+]``, estimated by Monte Carlo
under q (k-part draws from the output law, orthogonal log-ratio from exact chi-square draws in
q's eigenbasis), with a standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from theorycheck.designs import CoefficientDesign
from theorycheck.divergences import gaussian
from theorycheck.divergences.grid import (
    GridDensity,
    grid_divergences,
    grid_log_ratio,
    propagate_density_1d,
    suggest_grid_1d,
)
from theorycheck.estimation import (
    estimate_structured,
    fit_orthogonal_covariance,
    orthogonal_output,
    sin_theta_max,
)
from theorycheck.results import ErrorKind, Estimate
from theorycheck.split import OrthogonalVariance, orthogonal_variance
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["ANGLE_EXACT_TOL", "FitResult", "Estimator", "Setting", "gaussian_latent_fits",
           "gaussian_floor", "kl_gaussian_small", "mixture_d_sweep", "noisy_pca_angles"]

FloatArray = NDArray[np.float64]

#: PCA of noiseless data on the subspace is exact up to rounding: ``sin θ_max`` is a few ulps
#: times the condition of the SVD (measured ≤ 1e-14 here).  1e-9 is far above rounding and far
#: below any statistical angle (≥ 1e-3 at the noise levels and sample sizes used).  A fit
#: above it makes RECOVER's noiseless-PCA check FAIL: the split below would no longer be exact.
ANGLE_EXACT_TOL = 1e-9
#: Relative agreement required between latent fits at different d (same latent draws, same EM
#: seed): rotation-equivariance makes them equal up to rounding (~1e-13 measured).
FIT_AGREEMENT_TOL = 1e-8

#: ``"structured"`` (the claim) or ``"ambient"`` (the negative control).
Estimator = str


@dataclass(frozen=True, kw_only=True)
class FitResult:
    """Errors of the sampler output for one estimated score (one sample draw)."""

    kl: float
    kl_subspace: float
    kl_orthogonal: float
    tv: float
    tv_stderr: float
    sin_theta: float
    #: d sweep only: max relative deviation of this d's latent fit from the first d's.
    fit_deviation: float = 0.0


@dataclass(frozen=True, kw_only=True, eq=False)
class Setting:
    """A design with its exact orthogonal variance, computed once (mpmath, O(T)) per check."""

    design: CoefficientDesign
    orthogonal: OrthogonalVariance

    @classmethod
    def of(cls, design: CoefficientDesign) -> Setting:
        """Compute the orthogonal variance of ``design``."""
        return cls(design=design, orthogonal=orthogonal_variance(design))


def _orthogonal_eigs(setting: Setting, estimator: Estimator, m: int, n: int,
                     rng: np.random.Generator, num_fits: int) -> FloatArray:
    """Eigenvalues of ``Cov(Y_1⊥)/(1-ᾱ_1)``, shape (num_fits, m)."""
    design = setting.design
    if estimator == "structured":
        rel = float(setting.orthogonal.relative_error)
        return np.full((num_fits, m), 1.0 + rel)
    fit = fit_orthogonal_covariance(n, m, rng=rng, num_fits=num_fits)
    return orthogonal_output(design, fit).variances / float(design.schedule.one_minus_alpha_bar[0])


def _kl_orthogonal(setting: Setting, estimator: Estimator, eigs: FloatArray) -> float:
    """KL(N(0, I) ‖ N(0, diag(eigs))) (scaled by 1-ᾱ_1), exact."""
    m = eigs.size
    if m == 0:
        return 0.0
    if estimator == "structured":
        return gaussian.kl_isotropic(m, setting.orthogonal.relative_error_mp,
                                     direction="target_to_model").value
    mu = 1.0 / eigs - 1.0
    return float(0.5 * np.sum(mu - np.log1p(mu)))


def _orthogonal_log_ratio(eigs: FloatArray, rng: np.random.Generator, num: int) -> FloatArray:
    """Draws of ``log p_⊥/q_⊥`` under ``q_⊥ = N(0, s·diag(eigs))``, ``p_⊥ = N(0, s I)``:
    ``½ Σ_i [w_i (1 - λ_i) + log λ_i]``, ``w_i ~ χ²_1``; isotropic eigs use one ``χ²_m``."""
    m = eigs.size
    if m == 0:
        return np.zeros(num)
    if np.all(eigs == eigs[0]):
        lam = float(eigs[0])
        return 0.5 * ((1.0 - lam) * rng.chisquare(m, size=num) + m * math.log(lam))
    w = rng.standard_normal((num, m)) ** 2
    return 0.5 * (w @ (1.0 - eigs) + float(np.sum(np.log(eigs))))


def _tv_from_log_ratio(log_ratio: FloatArray) -> tuple[float, float]:
    terms = -np.expm1(np.minimum(log_ratio, 0.0))
    return float(terms.mean()), float(terms.std(ddof=1) / math.sqrt(terms.size))


# --- Gaussian latent: exact linear chain ---------------------------------------------------------

def _gaussian_output(design: CoefficientDesign, mean_hat: FloatArray, cov_hat: FloatArray
                     ) -> tuple[FloatArray, FloatArray]:
    """k-part of ``Y_1`` under the score of ``N(mean_hat, cov_hat)``, batched over fits.

    ``mean_hat`` (B, k), ``cov_hat`` (B, k, k) → output means (B, k) and covariances (B, k, k).
    Exact (a Gaussian stays Gaussian under the linear step): per eigen-coordinate of
    ``cov_hat`` with ``c = ᾱλ̂ + (1-ᾱ)``, ``m ← (m - η(m - sqrt(ᾱ) μ̂)/c)/sqrt(α)`` and
    ``v ← ((1 - η/c)² v + σ²)/α``, from ``(m, v) = (0, 1)`` at ``t = T``.
    """
    sched = design.schedule
    lam, vec = np.linalg.eigh(cov_hat)
    mu = np.einsum("bji,bj->bi", vec, mean_hat)
    mean, var = np.zeros_like(mu), np.ones_like(mu)
    for t in range(sched.num_steps, 1, -1):
        ab, q = float(sched.alpha_bar[t - 1]), float(sched.one_minus_alpha_bar[t - 1])
        eta, a = float(design.eta[t - 1]), float(sched.alpha[t - 1])
        c = ab * lam + q
        mean = (mean - eta * (mean - math.sqrt(ab) * mu) / c) / math.sqrt(a)
        var = ((1.0 - eta / c) ** 2 * var + float(design.sigma_sq[t - 1])) / a
    return (np.einsum("bij,bj->bi", vec, mean),
            np.einsum("bij,bj,bkj->bik", vec, var, vec))


def kl_gaussian_small(mean_p: FloatArray, cov_p: FloatArray, mean_q: FloatArray,
                      cov_q: FloatArray) -> float:
    """``KL(N(mean_p, cov_p) ‖ N(mean_q, cov_q))`` in the cancellation-free form of
    :func:`~theorycheck.divergences.gaussian.kl_gaussian` (whiten ``Σ_p - Σ_q`` by ``Σ_q``'s
    Cholesky factor, ``½[Σ_i (μ_i - log1p μ_i) + δᵀδ]``), in numpy only: the scipy version's
    per-call overhead dominates for the thousands of small (k ≤ 16) fits of RECOVER.  Equal to
    it to ~1e-13 relative (tested)."""
    chol = np.linalg.cholesky(cov_q)
    half = np.linalg.solve(chol, cov_p - cov_q)
    whitened = np.linalg.solve(chol, half.T)
    mu = np.linalg.eigvalsh(0.5 * (whitened + whitened.T))
    delta = np.linalg.solve(chol, mean_q - mean_p)
    return max(0.5 * (float(np.sum(mu - np.log1p(mu))) + float(delta @ delta)), 0.0)


def _log_normal(y: FloatArray, mean: FloatArray, cov: FloatArray) -> FloatArray:
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, (y - mean).T)
    return -0.5 * (np.sum(white * white, axis=0) + 2.0 * float(np.sum(np.log(np.diag(chol))))
                   + mean.size * math.log(2.0 * math.pi))


def gaussian_latent_fits(*, mean: FloatArray, cov: FloatArray, ambient_dim: int,
                         num_samples: int, setting: Setting, estimator: Estimator,
                         rng: np.random.Generator, num_repeats: int, num_mc: int,
                         basis_seed: int, mean_bias: float = 0.0) -> list[FitResult]:
    """Repeated estimation from ``num_samples`` draws of ``X_0 = U Z``, ``Z ~ N(mean, cov)``.

    Each repeat: draw the data in R^d, fit the structured estimate (PCA + one-component EM),
    run the exact linear chain, and measure against the true ``p_{X_1}``.  ``mean_bias`` (0:
    the estimator itself) is added to the first coordinate of every fitted latent mean — a
    deliberately biased estimator for boundary controls (e.g. ``c·n^-0.4``: KL ∝ n^-0.8).
    """
    k = mean.size
    truth = SubspaceGaussianMixture.create([1.0], mean[None, :], cov[None], ambient_dim=ambient_dim,
                                           basis_seed=basis_seed)
    design = setting.design
    sched = design.schedule
    ab1, q1 = float(sched.alpha_bar[0]), float(sched.one_minus_alpha_bar[0])
    data_rng, em_rng, orth_rng, mc_rng = rng.spawn(4)
    eigs_all = _orthogonal_eigs(setting, estimator, ambient_dim - k, num_samples, orth_rng,
                                num_repeats)
    kl_orth_all = [_kl_orthogonal(setting, estimator, e) for e in
                   (eigs_all[:1] if estimator == "structured" else eigs_all)]
    means, covs, rots, sines = [], [], [], []
    for _ in range(num_repeats):
        est = estimate_structured(truth.sample_data(num_samples, rng=data_rng), k, 1, rng=em_rng)
        sines.append(sin_theta_max(est.subspace.basis, truth.basis))
        rots.append(est.subspace.basis.T @ truth.basis)      # Ûᵀ U, orthogonal when exact
        means.append(est.mixture.means[0] + mean_bias * np.eye(k)[0])
        covs.append(est.mixture.covariances[0])
    q_means, q_covs = _gaussian_output(design, np.array(means), np.array(covs))
    out = []
    for r in range(num_repeats):
        rot = rots[r]
        p_mean = math.sqrt(ab1) * rot @ mean
        p_cov = ab1 * rot @ cov @ rot.T + q1 * np.eye(k)
        kl_k = kl_gaussian_small(p_mean, p_cov, q_means[r], q_covs[r])
        kl_orth = kl_orth_all[0 if estimator == "structured" else r]
        y = q_means[r] + mc_rng.standard_normal((num_mc, k)) @ np.linalg.cholesky(q_covs[r]).T
        log_ratio = (_log_normal(y, p_mean, p_cov) - _log_normal(y, q_means[r], q_covs[r])
                     + _orthogonal_log_ratio(eigs_all[r], mc_rng, num_mc))
        tv, tv_se = _tv_from_log_ratio(log_ratio)
        out.append(FitResult(kl=kl_k + kl_orth, kl_subspace=kl_k, kl_orthogonal=kl_orth, tv=tv,
                             tv_stderr=tv_se, sin_theta=sines[r]))
    return out


def gaussian_floor(*, mean: FloatArray, cov: FloatArray, design: CoefficientDesign) -> float:
    """KL of the k-part with the *exact* score (the sampler's own error at this T), exact."""
    sched = design.schedule
    ab1, q1 = float(sched.alpha_bar[0]), float(sched.one_minus_alpha_bar[0])
    q_mean, q_cov = _gaussian_output(design, mean[None, :], cov[None])
    return gaussian.kl_gaussian(math.sqrt(ab1) * mean, ab1 * cov + q1 * np.eye(mean.size),
                                q_mean[0], q_cov[0]).value


# --- Mixture latent (k = 1): grid quadrature, d sweep ---------------------------------------------

@dataclass(frozen=True, kw_only=True)
class _KPart:
    kl: Estimate
    cell_log_ratio: FloatArray
    cell_probs: FloatArray


def _mixture_k_part(model: SubspaceGaussianMixture, truth: SubspaceGaussianMixture,
                    design: CoefficientDesign, max_num_points: int) -> _KPart:
    """Grid density of the k = 1 chain with ``model``'s score against ``truth``'s ``p_{X_1}``."""
    sched = design.schedule
    ab, q = sched.alpha_bar, sched.one_minus_alpha_bar

    def score(t: int, y: FloatArray) -> FloatArray:
        return model.score(y[:, None], alpha_bar=float(ab[t - 1]),
                           one_minus_alpha_bar=float(q[t - 1]))[:, 0]

    def dscore(t: int, y: FloatArray) -> FloatArray:
        return model.score_jacobian(y[:, None], alpha_bar=float(ab[t - 1]),
                                    one_minus_alpha_bar=float(q[t - 1]))[:, 0, 0]

    def log_p(y: FloatArray) -> FloatArray:
        return truth.log_density(y[:, None], alpha_bar=float(ab[0]),
                                 one_minus_alpha_bar=float(q[0]))

    span, cells = suggest_grid_1d(score=score, score_derivative=dscore, target_log_density=log_p,
                                  points_per_scale=8.0, max_num_points=max_num_points // 2)
    grids: list[GridDensity] = [
        propagate_density_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma, score=score,
                             score_derivative=dscore, span=span, num_points=c)
        for c in (cells, 2 * cells)]
    coarse, fine = (grid_divergences(model=g, target_log_density=log_p)["kl"] for g in grids)
    kl = Estimate(value=fine.value, stderr=abs(fine.value - coarse.value) + fine.stderr,
                  method="grid quadrature, two resolutions; tolerance = |fine - coarse| + "
                         "truncation", error_kind=ErrorKind.TOLERANCE)
    g = grids[1]
    probs = np.where(g.resolved, np.maximum(g.cell_masses, 0.0), 0.0)
    return _KPart(kl=kl, cell_log_ratio=grid_log_ratio(g, log_p), cell_probs=probs / probs.sum())


def _latent_target(weights: FloatArray, means: FloatArray, covs: FloatArray
                   ) -> SubspaceGaussianMixture:
    return SubspaceGaussianMixture.create(weights, means, covs)


def mixture_d_sweep(*, weights: FloatArray, means: FloatArray, variances: FloatArray,
                    dims: tuple[int, ...], num_samples: int, num_components: int,
                    setting: Setting, estimator: Estimator, rng: np.random.Generator,
                    num_mc: int, max_num_points: int = 2**15) -> dict[int, FitResult]:
    """One sample draw of a k = 1 mixture latent, embedded in every ``d`` of ``dims``.

    The latent draws and the EM seed are shared by all d (common random numbers); the basis is
    Haar-random per d.  Each d runs the whole pipeline (data in R^d, PCA, EM); the fits must
    agree to :data:`FIT_AGREEMENT_TOL` after the sign of ``ÛᵀU`` is undone (rotation
    equivariance); the k-part is propagated once per distinct fit (once, when they agree).
    The k-part Monte Carlo cells are common to all d (same uniforms through each CDF).
    """
    design = setting.design
    truth_latent = _latent_target(weights, means[:, None], variances[:, None, None])
    data_rng, em_rng, orth_rng, mc_rng = rng.spawn(4)
    latent = truth_latent.sample_data(num_samples, rng=data_rng)
    em_state = em_rng.bit_generator.state
    cell_draws = mc_rng.random(num_mc)
    measured: list[tuple[FloatArray, _KPart]] = []
    out: dict[int, FitResult] = {}
    for j, d in enumerate(dims):
        truth = SubspaceGaussianMixture.create(weights, means[:, None], variances[:, None, None],
                                               ambient_dim=d, basis_seed=1000 + j)
        em_rng.bit_generator.state = em_state
        est = estimate_structured(truth.from_subspace(latent), 1, num_components, rng=em_rng)
        sign = float(np.sign((est.subspace.basis.T @ truth.basis)[0, 0]))
        signed = sign * est.mixture.means[:, 0]
        order = np.argsort(signed, kind="stable")
        key = np.concatenate([signed[order], est.mixture.weights[order],
                              est.mixture.covariances[order, 0, 0]])
        deviation = 0.0 if not measured else float(np.max(
            np.abs(key - measured[0][0]) / np.maximum(np.abs(measured[0][0]), 1.0)))
        kpart = next((part for ref, part in measured if float(np.max(
            np.abs(key - ref) / np.maximum(np.abs(ref), 1.0))) <= FIT_AGREEMENT_TOL), None)
        if kpart is None:
            # In Û's coordinate the true latent is sign · Z; the model is the fitted mixture.
            truth_in_frame = _latent_target(weights, sign * means[:, None],
                                            variances[:, None, None])
            kpart = _mixture_k_part(est.model.subspace_part(), truth_in_frame, design,
                                    max_num_points)
            measured.append((key, kpart))
        cdf = np.cumsum(kpart.cell_probs)
        cells = np.minimum(np.searchsorted(cdf, cell_draws * cdf[-1]), cdf.size - 1)
        eigs = _orthogonal_eigs(setting, estimator, d - 1, num_samples, orth_rng, 1)[0]
        kl_orth = _kl_orthogonal(setting, estimator, eigs)
        tv, tv_se = _tv_from_log_ratio(kpart.cell_log_ratio[cells]
                                       + _orthogonal_log_ratio(eigs, mc_rng, num_mc))
        out[d] = FitResult(kl=kpart.kl.value + kl_orth, kl_subspace=kpart.kl.value,
                           kl_orthogonal=kl_orth, tv=tv, tv_stderr=tv_se,
                           sin_theta=sin_theta_max(est.subspace.basis, truth.basis),
                           fit_deviation=deviation)
    return out


# --- PCA under observation noise ------------------------------------------------------------------

def noisy_pca_angles(*, mean: FloatArray, cov: FloatArray, ambient_dim: int, num_samples: int,
                     noise_std: float, rng: np.random.Generator, num_repeats: int,
                     basis_seed: int) -> FloatArray:
    """``sin θ_max`` of PCA from ``X = U Z + τ ξ`` (``ξ ~ N(0, I_d)``), one per repeat."""
    from theorycheck.estimation import pca_subspace

    truth = SubspaceGaussianMixture.create([1.0], mean[None, :], cov[None], ambient_dim=ambient_dim,
                                           basis_seed=basis_seed)
    out = np.empty(num_repeats)
    for r in range(num_repeats):
        x = truth.sample_data(num_samples, rng=rng)
        x = x + noise_std * rng.standard_normal(x.shape)
        out[r] = sin_theta_max(pca_subspace(x, mean.size).basis, truth.basis)
    return out
