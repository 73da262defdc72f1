"""Estimated scores: the structured estimator of Chen et al. (2023) and an ambient control.

Structured (the claim).  From n samples of the data ``X_0 = U Z``: ``Û`` by PCA
(:func:`~theorycheck.estimation.subspace.pca_subspace`), a Gaussian mixture fitted by EM to the
projected samples ``Ûᵀx_i`` (:func:`~theorycheck.estimation.mixture_em.fit_gaussian_mixture`),
and the score built on the decomposition

    ŝ_t(x) = Û ŝ^k_t(Ûᵀx) - (I - ÛÛᵀ) x / (1-ᾱ_t),

``ŝ^k_t`` the exact diffused score of the fitted mixture.  This is the score of the
:class:`~theorycheck.targets.SubspaceGaussianMixture` ``model`` on ``Û`` (its score is exactly
this decomposition), so the estimated model is itself a target and the sampler run with its
score can be measured with the exact split (docs/theory.md §5).

Ambient control.  An estimator that does not hard-code the orthogonal part: like an
unstructured network trained by denoising score matching, it fits the score's component off
the subspace from the n training samples noised — the Gaussian fit
``ŝ_⊥,t(y) = -Ŵ⁻¹ y / (1-ᾱ_t)`` with the full (d-k) × (d-k) sample covariance ``Ŵ`` of the
orthogonal coordinates rescaled to unit noise.  For data exactly on the estimated subspace
those coordinates are i.i.d. ``N(0, I_{d-k})``, so ``n Ŵ`` has the Wishart law
``W_{d-k}(n, I)``; it is drawn here exactly by Bartlett's decomposition (``O((d-k)²)`` draws
instead of ``n (d-k)``).  The sample-covariance noise sits in all
``d-k`` directions: the output error grows with d.

References
----------
M. Chen, K. Huang, T. Zhao, M. Wang, arXiv:2302.07194 (ICML 2023): the score network
``V f(Vᵀx, t) - (I - VVᵀ)x/h(t)`` built on the on-subspace/orthogonal split of the score
(their ``h(t) = 1 - e^{-t}`` is ``1-ᾱ_t`` here).
M. S. Bartlett, "On the theory of statistical regression", Proc. R. Soc. Edinburgh 53 (1933)
(the triangular factor of a Wishart matrix).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._validation import check_int, check_rng
from theorycheck.designs import CoefficientDesign
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.estimation.mixture_em import MixtureFit, fit_gaussian_mixture
from theorycheck.estimation.subspace import SubspaceEstimate, pca_subspace
from theorycheck.schedules import Schedule
from theorycheck.scores import ExactScore
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["StructuredEstimate", "estimate_structured", "OrthogonalCovarianceFit",
           "OrthogonalOutput", "fit_orthogonal_covariance", "orthogonal_output"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True, eq=False)
class StructuredEstimate:
    """PCA subspace + EM mixture on it: an estimated target and its structured score.

    Attributes
    ----------
    subspace : SubspaceEstimate
    mixture : MixtureFit
        Fitted in the coordinates ``Ûᵀx``.
    model : SubspaceGaussianMixture
        ``X̂_0 = Û Ẑ``, ``Ẑ ~`` the fitted mixture; ambient dimension d.
    """

    subspace: SubspaceEstimate
    mixture: MixtureFit
    model: SubspaceGaussianMixture = field(repr=False)

    def score(self, schedule: Schedule) -> ExactScore:
        """The structured estimated score ``Û ŝ^k_t(Ûᵀx) - (I-ÛÛᵀ)x/(1-ᾱ_t)`` on ``schedule``."""
        if not isinstance(schedule, Schedule):
            raise InvalidParameterError(
                f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
        return ExactScore(target=self.model, schedule=schedule)


def estimate_structured(samples: ArrayLike, intrinsic_dim: int, num_components: int, *,
                        rng: np.random.Generator, num_inits: int = 3) -> StructuredEstimate:
    """Estimate the structured score from samples of data on an unknown subspace.

    Parameters
    ----------
    samples : array_like, shape (n, d)
        ``n >= max(k + 1, num_components)``.
    intrinsic_dim : int
        k, ``1 <= k <= d``.
    num_components : int
        m, mixture components fitted on the subspace.
    rng : numpy.random.Generator
        Seeds EM (the only randomness).
    num_inits : int
        EM seedings (see :func:`fit_gaussian_mixture`).

    Returns
    -------
    StructuredEstimate

    Raises
    ------
    InvalidParameterError
        ``n < k + 1``, ``k > d``, ``n < num_components`` or another bad argument (named).
    """
    subspace = pca_subspace(samples, intrinsic_dim)
    latent = np.asarray(samples, dtype=np.float64) @ subspace.basis
    mixture = fit_gaussian_mixture(latent, num_components, rng=rng, num_inits=num_inits)
    model = SubspaceGaussianMixture.create(mixture.weights, mixture.means, mixture.covariances,
                                           basis=subspace.basis)
    return StructuredEstimate(subspace=subspace, mixture=mixture, model=model)


@dataclass(frozen=True, kw_only=True)
class OrthogonalCovarianceFit:
    """The ambient control's fit ``Ŵ`` of the orthogonal coordinates, in noise units.

    Attributes
    ----------
    covariance : ndarray, shape (..., m, m)
        ``n Ŵ ~ W_m(n, I)``, independently over the leading batch axes (independent fits).
    num_samples : int
        n.
    """

    covariance: FloatArray = field(repr=False)
    num_samples: int

    @property
    def orthogonal_dim(self) -> int:
        """m = d - k."""
        return int(self.covariance.shape[-1])


def fit_orthogonal_covariance(num_samples: int, orthogonal_dim: int, *,
                              rng: np.random.Generator, num_fits: int | None = None
                              ) -> OrthogonalCovarianceFit:
    """Draw the ambient control's covariance fit (see the module docstring).

    Parameters
    ----------
    num_samples : int
        n training samples; must exceed ``orthogonal_dim`` (a full-covariance fit in m
        dimensions is singular from m or fewer samples — the structural cost of ignoring the
        subspace).
    orthogonal_dim : int
        m = d - k >= 1.
    rng : numpy.random.Generator
    num_fits : int, optional
        Draw this many independent fits at once (a leading batch axis); default one, no axis.

    Returns
    -------
    OrthogonalCovarianceFit
        ``covariance`` of shape ``(m, m)``, or ``(num_fits, m, m)``.

    Notes
    -----
    The control fits, once, the full sample covariance of the training points' orthogonal
    coordinates after noising and rescaling to unit noise (``(I-ÛÛᵀ)x_t / sqrt(1-ᾱ_t)``; for
    data on the subspace these are i.i.d. ``N(0, I_m)``), and uses ``(1-ᾱ_t) Ŵ`` as the
    orthogonal covariance at every step: ``ŝ_⊥,t(y) = -Ŵ⁻¹ y/(1-ᾱ_t)``.  Bartlett:
    ``W = L Lᵀ``, ``L`` lower triangular with ``L_ii = sqrt(χ²_{n-i})`` (i = 0..m-1) and
    ``L_ij ~ N(0, 1)`` below the diagonal, has the law ``W_m(n, I)`` of ``Σ_i ε_i ε_iᵀ``.
    """
    m = check_int("orthogonal_dim", orthogonal_dim, minimum=1)
    n = check_int("num_samples", num_samples, minimum=1)
    if n <= m:
        raise InvalidParameterError(
            f"`num_samples` must exceed `orthogonal_dim` = d - k = {m} for a non-singular "
            f"full-covariance fit (got {n})")
    check_rng("rng", rng)
    batch: tuple[int, ...] = () if num_fits is None else (
        check_int("num_fits", num_fits, minimum=1),)
    lower = np.zeros((*batch, m, m))
    rows, cols = np.tril_indices(m, -1)
    lower[..., rows, cols] = rng.standard_normal((*batch, rows.size))
    idx = np.arange(m)
    lower[..., idx, idx] = np.sqrt(rng.chisquare(n - idx, size=(*batch, m)))
    return OrthogonalCovarianceFit(covariance=lower @ np.swapaxes(lower, -1, -2) / n,
                                   num_samples=n)


@dataclass(frozen=True, kw_only=True)
class OrthogonalOutput:
    """Law ``N(0, Q diag(variances) Qᵀ)`` of the orthogonal coordinates of ``Y_1``.

    Attributes
    ----------
    variances : ndarray, shape (..., m)
    vectors : ndarray, shape (..., m, m)
        ``Q``: the eigenvectors of ``Ŵ`` (every step's map shares them).
    """

    variances: FloatArray
    vectors: FloatArray = field(repr=False)


def orthogonal_output(design: CoefficientDesign, fit: OrthogonalCovarianceFit
                      ) -> OrthogonalOutput:
    """Orthogonal law of ``Y_1`` when the sampler uses the control's score ``-Ŵ⁻¹y/(1-ᾱ_t)``.

    Parameters
    ----------
    design : CoefficientDesign
    fit : OrthogonalCovarianceFit

    Returns
    -------
    OrthogonalOutput
        In ``Ŵ = Q diag(w) Qᵀ``'s eigenbasis every step is diagonal: from ``v_T = 1``,
        ``v_{t-1} = ((1 - η_t/((1-ᾱ_t) w))² v_t + σ_t²) / α_t`` for t = T..2.  With ``w = 1``
        this is the scalar recursion of :mod:`theorycheck.split`.

    Notes
    -----
    float64: ``η_t/(1-ᾱ_t) ≤ 1`` and ``1-ᾱ_t`` comes rounded from high precision, so no step
    cancels; ``v_1`` at ``w = 1`` agrees with the mpmath recursion to ~1e-13 relative (tested),
    far below the sample-covariance errors ~ n^{-1/2} it is used to measure.
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    if not isinstance(fit, OrthogonalCovarianceFit):
        raise InvalidParameterError(
            f"`fit` must be an OrthogonalCovarianceFit (got {type(fit).__name__})")
    sched = design.schedule
    w, vectors = np.linalg.eigh(fit.covariance)
    v = np.ones_like(w)
    for t in range(sched.num_steps, 1, -1):
        coef = float(design.eta[t - 1]) / float(sched.one_minus_alpha_bar[t - 1])
        v = ((1.0 - coef / w) ** 2 * v + float(design.sigma_sq[t - 1])) / float(
            sched.alpha[t - 1])
    if not np.all(np.isfinite(v)):
        raise NonFiniteError("orthogonal output variances are not finite")
    return OrthogonalOutput(variances=v, vectors=vectors)
