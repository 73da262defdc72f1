"""The subspace of the data by PCA, and its distance to the true subspace (principal angles).

For data ``X = U Z`` on a k-dimensional linear subspace (docs/theory.md §5) the span of the centred
samples *is* the subspace as soon as the latent covariance has full rank and ``n >= k + 1``:
PCA then recovers ``U`` exactly, up to rounding, for every ``d``.  With observation noise in all
``d`` directions (``X = U Z + τ ξ``) the estimate is off by ``sin θ ≈ τ sqrt((d-k)/(n λ_k))``
to first order (Davis–Kahan / Wedin), ``λ_k`` the smallest latent variance: the ``n^{-1/2}``
rate, and a ``sqrt(d)`` that the noiseless data of Chen et al. (2023) do not have.

References
----------
M. Chen, K. Huang, T. Zhao, M. Wang, "Score approximation, estimation and distribution recovery
of diffusion models on low-dimensional data", ICML 2023, arXiv:2302.07194 (data supported on an
unknown k-dimensional linear subspace; subspace recovery is part (ii) of their Theorem 3).
C. Davis, W. M. Kahan, "The rotation of eigenvectors by a perturbation. III", SIAM J. Numer.
Anal. 7 (1970).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._validation import check_finite_array, check_int
from theorycheck.errors import InvalidParameterError

__all__ = ["SubspaceEstimate", "pca_subspace", "principal_angles", "sin_theta_max"]

FloatArray = NDArray[np.float64]

#: ``max|BᵀB - I|`` allowed for a basis handed to :func:`principal_angles` (SVD output is
#: orthonormal to ~1e-15; 1e-10 matches :class:`~theorycheck.targets.SubspaceFrame`).
ORTHONORMAL_TOL = 1e-10


@dataclass(frozen=True, kw_only=True)
class SubspaceEstimate:
    """A k-dimensional subspace estimated by PCA from n samples in R^d.

    Attributes
    ----------
    basis : ndarray, shape (d, k)
        Orthonormal columns ``Û``: the top-k right singular vectors of the centred samples.
    mean : ndarray, shape (d,)
        Sample mean (removed before the SVD).
    singular_values : ndarray, shape (min(n, d),)
        All singular values of the centred samples divided by ``sqrt(n - 1)`` (standard
        deviations along the principal axes), decreasing; values below ~1e-8 of the largest
        are rounding (the Gram route squares them).
    num_samples : int
    """

    basis: FloatArray
    mean: FloatArray
    singular_values: FloatArray
    num_samples: int

    @property
    def ambient_dim(self) -> int:
        """d."""
        return int(self.basis.shape[0])

    @property
    def intrinsic_dim(self) -> int:
        """k."""
        return int(self.basis.shape[1])

    @property
    def residual_ratio(self) -> float:
        """``σ_{k+1} / σ_k``: 0 (to rounding) for noiseless data on a k-dimensional subspace."""
        sv = self.singular_values
        k = self.intrinsic_dim
        return float(sv[k] / sv[k - 1]) if sv.size > k else 0.0


def _check_samples(samples: ArrayLike, intrinsic_dim: int) -> tuple[FloatArray, int]:
    x = check_finite_array("samples", samples, ndim=2)
    n, d = x.shape
    k = check_int("intrinsic_dim", intrinsic_dim, minimum=1)
    if k > d:
        raise InvalidParameterError(
            f"`intrinsic_dim` must be <= the ambient dimension d = samples.shape[1] = {d} "
            f"(got {k})")
    if n < k + 1:
        raise InvalidParameterError(
            f"`samples` must have at least intrinsic_dim + 1 = {k + 1} rows: n centred points "
            f"span at most n - 1 dimensions (got n = {n})")
    return x, k


def pca_subspace(samples: ArrayLike, intrinsic_dim: int) -> SubspaceEstimate:
    """Estimate a k-dimensional subspace by PCA (thin SVD of the centred samples).

    Parameters
    ----------
    samples : array_like, shape (n, d)
        ``n >= k + 1`` finite rows.
    intrinsic_dim : int
        k, ``1 <= k <= d``.

    Returns
    -------
    SubspaceEstimate

    Raises
    ------
    InvalidParameterError
        ``k > d`` or ``n < k + 1`` (named ``intrinsic_dim`` / ``samples``), or the top k
        singular values are not all positive (the samples span fewer than k dimensions).

    Notes
    -----
    ``X - 1 x̄ᵀ = A S Vᵀ``; ``Û = V[:, :k]``, from the eigenvectors of ``(X - 1x̄ᵀ)ᵀ(X - 1x̄ᵀ)
    = V S² Vᵀ`` when ``n > d`` and from the thin SVD otherwise.  Signs are fixed so that the
    largest-magnitude entry of each column is positive (deterministic output).  Cost
    ``O(n d min(n, d))``.
    """
    x, k = _check_samples(samples, intrinsic_dim)
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    if n > d:
        # Gram route, O(n d²): several times faster than the SVD of the n × d matrix.  The
        # eigenvectors of a gap λ_k - λ_{k+1} are accurate to ~eps·λ_1/gap (Davis–Kahan), the
        # same order as the SVD's for the well-separated subspaces measured here; only
        # singular values below ~sqrt(eps)·σ_1 lose their digits (clipped at 0).
        values, vectors = np.linalg.eigh(centred.T @ centred)
        sv = np.sqrt(np.clip(values[::-1], 0.0, None))
        vt = vectors[:, ::-1].T
    else:
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    if not sv[k - 1] > 0.0:
        raise InvalidParameterError(
            f"`samples` must span at least intrinsic_dim = {k} dimensions after centring "
            f"(singular value {k} is {sv[k - 1]!r})")
    basis = np.ascontiguousarray(vt[:k].T)
    pivot = np.argmax(np.abs(basis), axis=0)
    basis *= np.sign(basis[pivot, np.arange(k)])
    return SubspaceEstimate(basis=basis, mean=mean, singular_values=sv / np.sqrt(n - 1.0),
                            num_samples=n)


def _check_basis(name: str, basis: ArrayLike) -> FloatArray:
    b = check_finite_array(name, basis, ndim=2)
    if b.shape[1] < 1 or b.shape[1] > b.shape[0]:
        raise InvalidParameterError(f"`{name}` must have shape (d, k) with 1 <= k <= d "
                                    f"(got {b.shape})")
    err = float(np.max(np.abs(b.T @ b - np.eye(b.shape[1]))))
    if err > ORTHONORMAL_TOL:
        raise InvalidParameterError(f"`{name}` must have orthonormal columns, max|BᵀB - I| <= "
                                    f"{ORTHONORMAL_TOL:g} (got {err:.3g})")
    return b


def principal_angles(basis_a: ArrayLike, basis_b: ArrayLike) -> FloatArray:
    """Principal angles between two k-dimensional subspaces of R^d.

    Parameters
    ----------
    basis_a, basis_b : array_like, shape (d, k)
        Orthonormal bases.

    Returns
    -------
    ndarray, shape (k,)
        Angles in ``[0, π/2]``, increasing.

    Notes
    -----
    ``sin θ_i`` are the singular values of ``(I - AAᵀ) B`` and ``cos θ_i`` those of ``AᵀB``;
    each angle is taken from whichever is smaller (``arcsin`` of the sine for small angles,
    where ``arccos`` of a cosine near 1 would lose half the digits).
    """
    a = _check_basis("basis_a", basis_a)
    b = _check_basis("basis_b", basis_b)
    if a.shape != b.shape:
        raise InvalidParameterError(
            f"`basis_b` must have the shape of `basis_a` {a.shape} (got {b.shape})")
    sines = np.sort(np.linalg.svd(b - a @ (a.T @ b), compute_uv=False))
    cosines = np.sort(np.linalg.svd(a.T @ b, compute_uv=False))[::-1]
    sines, cosines = np.clip(sines, 0.0, 1.0), np.clip(cosines, 0.0, 1.0)
    out: FloatArray = np.where(sines < cosines, np.arcsin(sines), np.arccos(cosines))
    return np.sort(out)


def sin_theta_max(basis_a: ArrayLike, basis_b: ArrayLike) -> float:
    """``sin θ_max = ‖(I - AAᵀ) B‖_2``, the largest principal-angle sine (the ``sin Θ``
    distance of Davis–Kahan; equals ``‖AAᵀ - BBᵀ‖_2``)."""
    return float(np.sin(principal_angles(basis_a, basis_b)[-1]))
