"""Estimating the score from n samples of data on a subspace (RECOVER, Chen et al. 2023).

One concept per module: :mod:`~theorycheck.estimation.subspace` (PCA, principal angles),
:mod:`~theorycheck.estimation.mixture_em` (Gaussian mixtures by EM),
:mod:`~theorycheck.estimation.score_models` (the structured estimated score and the ambient
control).
"""

from __future__ import annotations

from theorycheck.estimation.mixture_em import MixtureFit, fit_gaussian_mixture
from theorycheck.estimation.score_models import (
    OrthogonalCovarianceFit,
    OrthogonalOutput,
    StructuredEstimate,
    estimate_structured,
    fit_orthogonal_covariance,
    orthogonal_output,
)
from theorycheck.estimation.subspace import (
    SubspaceEstimate,
    pca_subspace,
    principal_angles,
    sin_theta_max,
)

__all__ = ["MixtureFit", "OrthogonalCovarianceFit", "OrthogonalOutput", "StructuredEstimate",
           "SubspaceEstimate", "estimate_structured", "fit_gaussian_mixture",
           "fit_orthogonal_covariance", "orthogonal_output", "pca_subspace", "principal_angles",
           "sin_theta_max"]
