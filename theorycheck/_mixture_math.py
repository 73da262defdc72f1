"""Vectorised Gaussian-mixture kernels at one noise level (private to :mod:`theorycheck.targets`).

Everything here works in subspace coordinates ``z`` in R^k, receives validated arrays and does no
argument checking of its own.  Two parametrisations are supported:

* :class:`FullMixture` -- one mixture in R^k with full (possibly singular) covariances, each
  stored through its eigen-decomposition ``Σ_j = V_j diag(λ_j) V_jᵀ`` (``λ_j >= 0``);
* :class:`DiagonalMixtures` -- k independent one-dimensional mixtures, padded to a common
  number of components ``M`` (padding has weight 0, i.e. log-weight ``-inf``).

At noise level ``(ᾱ, 1-ᾱ)`` component j of ``Z_t = sqrt(ᾱ) Z + sqrt(1-ᾱ) ξ`` is
``N(sqrt(ᾱ) μ_j, C_j)`` with ``C_j = ᾱ Σ_j + (1-ᾱ) I_k = V_j diag(ᾱ λ_j + (1-ᾱ)) V_jᵀ``.
We factor ``C_j`` through the eigen-decomposition of ``Σ_j`` computed once at construction rather
than through a Cholesky factor per noise level: the eigenvalues ``ᾱ λ + (1-ᾱ)`` are then formed
without cancellation and are strictly positive whenever ``1-ᾱ > 0``, however singular ``Σ_j``
is (atoms, ``Σ_j = 0``, included), and ``1-ᾱ`` enters only as the caller's own float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_real
from theorycheck.errors import InvalidParameterError

__all__ = [
    "NOISE_SUM_TOL",
    "DiagonalMixtures",
    "FullMixture",
    "MixtureState",
    "check_noise_level",
    "log_weights",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

LOG_2PI = math.log(2.0 * math.pi)
#: ``alpha_bar + one_minus_alpha_bar`` may differ from 1 by this much: the two are usually
#: computed separately (e.g. ``one_minus_alpha_bar`` by ``-expm1`` of a log-sum), so they agree
#: only to rounding of the schedule computation, far below 1e-9.
NOISE_SUM_TOL = 1e-9


def check_noise_level(alpha_bar: Any, one_minus_alpha_bar: Any) -> tuple[float, float]:
    """Validate a noise level given as the pair ``(ᾱ, 1-ᾱ)`` and return it as floats.

    Both must lie in ``(0, 1]`` and add up to 1 within :data:`NOISE_SUM_TOL`.  ``1-ᾱ`` is never
    recomputed from ``ᾱ``: it may be ``1e-12``, which ``1 - ᾱ`` would get wrong.
    """
    ab = check_real("alpha_bar", alpha_bar, lower=0.0, upper=1.0, lower_open=True)
    om = check_real("one_minus_alpha_bar", one_minus_alpha_bar, lower=0.0, upper=1.0,
                    lower_open=True)
    if abs(ab + om - 1.0) > NOISE_SUM_TOL:
        raise InvalidParameterError(
            f"`alpha_bar` + `one_minus_alpha_bar` must equal 1 within {NOISE_SUM_TOL:g} "
            f"(got alpha_bar={ab!r}, one_minus_alpha_bar={om!r}, sum - 1 = {ab + om - 1.0:.3g})")
    return ab, om


def log_weights(weights: FloatArray) -> FloatArray:
    """``log(weights)`` with ``log 0 = -inf`` and no floating-point warning."""
    out = np.full(weights.shape, -np.inf)
    np.log(weights, out=out, where=weights > 0)
    return out


def _normalise_log(log_joint: FloatArray, axis: int) -> tuple[FloatArray, FloatArray]:
    """Log-sum-exp over the component ``axis``; returns ``(log_total, responsibilities)``."""
    top = np.max(log_joint, axis=axis, keepdims=True)
    # A point whose every entry overflowed to -inf keeps top = 0 so that no NaN is produced; its
    # log-density becomes -inf and the public layer reports it as non-finite.
    top[~np.isfinite(top)] = 0.0
    expd = np.exp(log_joint - top)
    total = np.sum(expd, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_total = np.log(total)
        log_total += top
        expd /= total
    return np.squeeze(log_total, axis=axis), expd


@dataclass(frozen=True, eq=False)
class MixtureState:
    """Per-point quantities shared by the density, score, Jacobian and posterior mean.

    For :class:`FullMixture` (components on axis 1): ``log_density (n,)``,
    ``responsibilities (n, m)``, ``component_scores (n, m, k)``, ``inv_total_var (m, k)``.
    For :class:`DiagonalMixtures` (components on axis 0, so that reductions over the few
    components are elementwise operations on contiguous ``(n, k)`` slabs): ``(n, k)``,
    ``(M, n, k)``, ``(M, n, k)``, ``(M, k)``.  ``inv_total_var`` is ``1/(ᾱ λ + 1-ᾱ)`` and
    ``component_scores`` is ``s_j = -C_j^{-1}(z - sqrt(ᾱ) μ_j)``.
    """

    log_density: FloatArray
    responsibilities: FloatArray
    component_scores: FloatArray
    inv_total_var: FloatArray
    sqrt_alpha_bar: float


@dataclass(frozen=True, eq=False)
class DiagonalMixtures:
    """k independent 1-D Gaussian mixtures; every array has shape ``(M, k)`` (component first).

    Padding components carry ``log_weight = -inf`` (and mean 0, variance 1) so that they drop out
    of every sum exactly.  ``last_component[i]`` is the index of the last positive weight of
    coordinate i.  This is also the fast path of a one-dimensional :class:`FullMixture`.
    """

    log_weights: FloatArray
    means: FloatArray
    variances: FloatArray
    cumulative_weights: FloatArray
    last_component: IntArray

    def _log_joint(self, z: FloatArray, alpha_bar: float, one_minus_alpha_bar: float
                   ) -> tuple[FloatArray, FloatArray, FloatArray]:
        sqrt_ab = math.sqrt(alpha_bar)
        inv_c = 1.0 / (alpha_bar * self.variances + one_minus_alpha_bar)       # (M, k)
        offset = self.log_weights + 0.5 * (np.log(inv_c) - LOG_2PI)            # log w_j - ½log 2πc
        resid = z - (sqrt_ab * self.means)[:, None, :]                         # (M, n, k)
        comp_scores = resid
        comp_scores *= -inv_c[:, None, :]                                      # -C_j^{-1} r_j
        log_joint = comp_scores * comp_scores
        log_joint *= (-0.5 / inv_c)[:, None, :]                                # -½ r²/c
        log_joint += offset[:, None, :]
        return log_joint, comp_scores, inv_c

    def log_density(self, z: FloatArray, alpha_bar: float, one_minus_alpha_bar: float
                    ) -> FloatArray:
        """Per-coordinate log-densities at ``z`` of shape ``(n, k)``; returns ``(n, k)``."""
        log_joint, _, _ = self._log_joint(z, alpha_bar, one_minus_alpha_bar)
        return _normalise_log(log_joint, axis=0)[0]

    def state(self, z: FloatArray, alpha_bar: float, one_minus_alpha_bar: float) -> MixtureState:
        """Evaluate the mixtures at ``z`` of shape ``(n, k)``."""
        log_joint, comp_scores, inv_c = self._log_joint(z, alpha_bar, one_minus_alpha_bar)
        log_density, resp = _normalise_log(log_joint, axis=0)
        return MixtureState(log_density, resp, comp_scores, inv_c, math.sqrt(alpha_bar))

    @staticmethod
    def score(st: MixtureState) -> FloatArray:
        """``s_i(z_i) = Σ_j w_ij(z_i) s_ij``, shape ``(n, k)``."""
        return np.sum(st.responsibilities * st.component_scores, axis=0)

    @staticmethod
    def score_derivative(st: MixtureState) -> FloatArray:
        """``d s_i / d z_i = -Σ_j w_ij / c_ij + Σ_j w_ij (s_ij - s_i)²``, shape ``(n, k)``.

        The spread term is taken around the mean score, a sum of non-negative terms, rather
        than as ``Σ w s_j² - s²``, which cancels catastrophically when ``1-ᾱ`` is tiny.
        """
        resp = st.responsibilities
        dev = st.component_scores - DiagonalMixtures.score(st)
        dev *= dev
        dev -= st.inv_total_var[:, None, :]
        dev *= resp
        return np.sum(dev, axis=0)

    def posterior_mean(self, st: MixtureState) -> FloatArray:
        """``E[Z_i | z] = Σ_j w_ij (μ_ij - sqrt(ᾱ) v_ij s_ij)``, shape ``(n, k)``."""
        comp_means = st.component_scores * (-st.sqrt_alpha_bar * self.variances)[:, None, :]
        comp_means += self.means[:, None, :]
        comp_means *= st.responsibilities
        return np.sum(comp_means, axis=0)

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Draw ``(n, k)`` samples: uniforms ``(n, k)`` for labels, then normals ``(n, k)``."""
        k = self.means.shape[1]
        uniforms = rng.random((n, k))
        labels = np.sum(uniforms[None, :, :] >= self.cumulative_weights[:, None, :], axis=0)
        labels = np.minimum(labels, self.last_component)
        normals = rng.standard_normal((n, k))
        cols = np.arange(k)
        return self.means[labels, cols] + np.sqrt(self.variances[labels, cols]) * normals

    @classmethod
    def from_factors(cls, factors: list[tuple[FloatArray, FloatArray, FloatArray]]
                     ) -> DiagonalMixtures:
        """Pad validated ``(weights, means, variances)`` triples into ``(M, k)`` arrays."""
        k = len(factors)
        width = max(len(w) for w, _, _ in factors)
        weights = np.zeros((width, k))
        means = np.zeros((width, k))
        variances = np.ones((width, k))
        for i, (w, mu, var) in enumerate(factors):
            weights[:len(w), i] = w
            means[:len(w), i] = mu
            variances[:len(w), i] = var
        last = np.array([int(np.flatnonzero(w > 0)[-1]) for w, _, _ in factors], dtype=np.intp)
        return cls(log_weights(weights), means, variances, np.cumsum(weights, axis=0), last)


@dataclass(frozen=True, eq=False)
class FullMixture:
    """One Gaussian mixture in R^k with covariances ``V_j diag(λ_j) V_jᵀ``.

    Shapes: ``log_weights (m,)``, ``means (m, k)``, ``eigenvalues (m, k)`` (>= 0, rounding noise
    set to 0), ``eigenvectors (m, k, k)`` (columns), ``cumulative_weights (m,)``.
    """

    log_weights: FloatArray
    means: FloatArray
    eigenvalues: FloatArray
    eigenvectors: FloatArray
    cumulative_weights: FloatArray
    last_component: int

    def state(self, z: FloatArray, alpha_bar: float, one_minus_alpha_bar: float) -> MixtureState:
        """Evaluate the mixture at ``z`` of shape ``(n, k)``."""
        sqrt_ab = math.sqrt(alpha_bar)
        vecs = self.eigenvectors
        inv_c = 1.0 / (alpha_bar * self.eigenvalues + one_minus_alpha_bar)     # (m, k)
        resid = z[:, None, :] - sqrt_ab * self.means                           # (n, m, k)
        eig_resid = np.einsum("nmk,mkl->nml", resid, vecs)                     # V_jᵀ r_j
        scaled = eig_resid * inv_c                                             # C_j^{-1} in eig
        quad = np.einsum("nml,nml->nm", eig_resid, scaled)
        log_det = -np.sum(np.log(inv_c), axis=-1)                              # log det C_j
        k = self.means.shape[1]
        log_joint = self.log_weights - 0.5 * (quad + log_det + k * LOG_2PI)
        log_density, resp = _normalise_log(log_joint, axis=1)
        comp_scores = -np.einsum("nml,mkl->nmk", scaled, vecs)                 # -C_j^{-1} r_j
        return MixtureState(log_density, resp, comp_scores, inv_c, sqrt_ab)

    @staticmethod
    def score(st: MixtureState) -> FloatArray:
        """``s(z) = Σ_j w_j(z) s_j(z)``, shape ``(n, k)``."""
        return np.einsum("nm,nmk->nk", st.responsibilities, st.component_scores)

    def score_jacobian(self, st: MixtureState) -> FloatArray:
        """``-Σ_j w_j C_j^{-1} + Σ_j w_j (s_j - s)(s_j - s)ᵀ``, shape ``(n, k, k)``.

        The second term is written around the mean ``s`` (not as ``Σ w_j s_j s_jᵀ - s sᵀ``) so
        that it is a sum of positive semi-definite terms without cancellation.
        """
        vecs = self.eigenvectors
        inv_cov = np.einsum("mkl,ml,mjl->mkj", vecs, st.inv_total_var, vecs)    # (m, k, k)
        resp = st.responsibilities
        dev = st.component_scores - self.score(st)[:, None, :]
        spread = np.einsum("nm,nmk,nml->nkl", resp, dev, dev)
        return spread - np.einsum("nm,mkl->nkl", resp, inv_cov)

    def posterior_mean(self, st: MixtureState) -> FloatArray:
        """``E[Z | z] = Σ_j w_j(z) (μ_j - sqrt(ᾱ) Σ_j s_j(z))``, shape ``(n, k)``."""
        vecs = self.eigenvectors
        eig_scores = np.einsum("nmk,mkl->nml", st.component_scores, vecs)
        cov_scores = np.einsum("nml,ml,mkl->nmk", eig_scores, self.eigenvalues, vecs)
        comp_means = self.means - st.sqrt_alpha_bar * cov_scores
        return np.einsum("nm,nmk->nk", st.responsibilities, comp_means)

    def sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        """Draw ``(n, k)`` samples: uniforms ``(n,)`` for labels, then normals ``(n, k)``.

        ``Z = μ_j + V_j diag(sqrt(λ_j)) ξ``; zero eigenvalues give exact zeros, so atoms
        (``Σ_j = 0``) are reproduced exactly.
        """
        m, k = self.means.shape
        labels = np.sum(rng.random(n)[:, None] >= self.cumulative_weights, axis=-1)
        labels = np.minimum(labels, self.last_component)
        normals = rng.standard_normal((n, k))
        out = self.means[labels]
        for j in range(m):                     # loop over components, not points
            rows = labels == j
            if np.any(rows) and np.any(self.eigenvalues[j] > 0):
                root = self.eigenvectors[j] * np.sqrt(self.eigenvalues[j])     # V diag(sqrt λ)
                out[rows] += normals[rows] @ root.T
        return out

    def as_diagonal(self) -> DiagonalMixtures:
        """The same mixture as a :class:`DiagonalMixtures` (valid when k = 1)."""
        return DiagonalMixtures(self.log_weights[:, None], self.means.copy(),
                                self.eigenvalues.copy(), self.cumulative_weights[:, None],
                                np.array([self.last_component], dtype=np.intp))
