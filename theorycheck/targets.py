"""Gaussian mixtures on a linear subspace, with exact densities, scores and Jacobians.

A target is ``X_0 = U Z`` with ``U`` a d × k orthonormal basis (:class:`SubspaceFrame`) and
``Z`` either one Gaussian mixture in R^k (:class:`SubspaceGaussianMixture`) or k independent
one-dimensional mixtures (:class:`ProductMixture`).  Full-rank targets are the case k = d,
``U = I``: build a :class:`SubspaceGaussianMixture` without ``basis`` and ``ambient_dim``.

Every noisy quantity is evaluated at a noise level passed as the *two* floats ``alpha_bar`` (ᾱ)
and ``one_minus_alpha_bar`` (1-ᾱ) of the forward process ``X_t = sqrt(ᾱ) X_0 + sqrt(1-ᾱ) ε``;
1-ᾱ is never formed by subtraction, so noise levels down to 1e-12 are exact.

Notes
-----
With ``z = Uᵀx`` and ``x_⊥ = x - U Uᵀ x`` the noisy density splits exactly (docs/theory.md §5):
``p_t(x) = p^k_t(z) · N(x_⊥; 0, (1-ᾱ) I_{d-k})``, so

* ``log p_t(x) = log p^k_t(z) - ‖x_⊥‖²/(2(1-ᾱ)) - (d-k)/2 · log(2π(1-ᾱ))``,
* ``∇ log p_t(x) = U s^k_t(z) - x_⊥/(1-ᾱ)`` (the score decomposition of Chen et al. 2023),
* ``∇² log p_t(x) = U J^k_t(z) Uᵀ - (I - U Uᵀ)/(1-ᾱ)``,
* ``E[X_0 | X_t = x] = U E[Z | Z_t = z]`` and Tweedie's formula
  ``∇ log p_t(x) = -(x - sqrt(ᾱ) E[X_0 | X_t = x])/(1-ᾱ)`` holds exactly.

All of d sits in the closed-form orthogonal factor, so the k-dimensional :meth:`subspace_part`
works for any d (even 10^9: the d × k basis is built only when ambient coordinates are used).

References
----------
M. Chen, K. Huang, T. Zhao, M. Wang, "Score approximation, estimation and distribution recovery
of diffusion models on low-dimensional data", ICML 2023, arXiv:2302.07194.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._ambient import QUIET, SubspaceTarget, require_finite
from theorycheck._mixture_math import (
    DiagonalMixtures,
    FullMixture,
    MixtureState,
    check_noise_level,
    log_weights,
)
from theorycheck._subspace_frame import SubspaceFrame
from theorycheck._validation import check_finite_array, check_int
from theorycheck.errors import InvalidParameterError, SpecError

__all__ = [
    "ProductMixture",
    "SubspaceFrame",
    "SubspaceGaussianMixture",
    "Target",
    "check_noise_level",
    "from_spec",
]

FloatArray = NDArray[np.float64]

#: ``weights`` must sum to 1 within this (rounding of a few decimal weights is ~1e-16).
WEIGHT_SUM_TOL = 1e-12
#: Relative tolerance (to the largest |eigenvalue| / |entry|) for symmetry and PSD-ness of
#: covariances: accepts matrices computed as ``A Aᵀ`` in float64, rejects real indefiniteness.
COVARIANCE_TOL = 1e-12


def _read_only(arr: FloatArray) -> FloatArray:
    arr.flags.writeable = False
    return arr


def _validate_components(weights: ArrayLike, means: ArrayLike, covariances: ArrayLike,
                         names: tuple[str, str, str] = ("weights", "means", "covariances"),
                         ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Check a mixture; return weights (normalised), means, symmetrised covariances and the
    eigen-decomposition of the covariances (eigenvalues within tolerance of 0 set to 0)."""
    w_name, mu_name, cov_name = names
    w = check_finite_array(w_name, weights, ndim=1)
    if w.size == 0:
        raise InvalidParameterError(f"`{w_name}` must have at least one entry (got shape (0,))")
    if np.any(w < 0):
        j = int(np.flatnonzero(w < 0)[0])
        raise InvalidParameterError(f"`{w_name}` must be >= 0 (got {float(w[j])!r} at index {j})")
    total = float(np.sum(w))
    if abs(total - 1.0) > WEIGHT_SUM_TOL:
        raise InvalidParameterError(
            f"`{w_name}` must sum to 1 within {WEIGHT_SUM_TOL:g} (got {total!r})")
    m = w.size
    mu = check_finite_array(mu_name, means, ndim=2)
    if mu.shape[0] != m or mu.shape[1] < 1:
        raise InvalidParameterError(
            f"`{mu_name}` must have shape (m, k) with m={m} rows and k >= 1 (got {mu.shape})")
    k = mu.shape[1]
    cov = check_finite_array(cov_name, covariances, shape=(m, k, k))
    sym = 0.5 * (cov + np.swapaxes(cov, 1, 2))
    eigenvalues, eigenvectors = np.linalg.eigh(sym)
    for j in range(m):
        scale = float(np.max(np.abs(cov[j])))
        asym = float(np.max(np.abs(cov[j] - cov[j].T)))
        if asym > COVARIANCE_TOL * scale:
            raise InvalidParameterError(
                f"`{cov_name}[{j}]` must be symmetric, max|Σ - Σᵀ| <= {COVARIANCE_TOL:g} * "
                f"max|Σ| (got {asym:.3g})")
        low = float(eigenvalues[j, 0])
        if low < -COVARIANCE_TOL * float(np.max(np.abs(eigenvalues[j]))):
            raise InvalidParameterError(
                f"`{cov_name}[{j}]` must be positive semi-definite, min eigenvalue >= "
                f"-{COVARIANCE_TOL:g} * max|eigenvalue| (got min eigenvalue {low:.3g})")
    # Eigenvalues within the tolerance of 0 (either sign) are rounding noise of a singular
    # covariance: set them to exactly 0 so that e.g. a rank-1 Σ computed as v vᵀ samples exactly
    # on its line and is treated as singular at every noise level.
    scales = np.max(np.abs(eigenvalues), axis=1, keepdims=True)
    eigenvalues[eigenvalues <= COVARIANCE_TOL * scales] = 0.0
    return w / total, mu.copy(), sym, eigenvalues, np.ascontiguousarray(eigenvectors)


@dataclass(frozen=True, kw_only=True, eq=False)
class SubspaceGaussianMixture(SubspaceTarget):
    """``X_0 = U Z`` with ``Z ~ Σ_j w_j N(μ_j, Σ_j)`` in R^k and U a d × k orthonormal basis.

    Build with :meth:`create` (direct keyword construction with a :class:`SubspaceFrame` is also
    validated).  Arrays are stored read-only; instances compare by identity.  A full-rank target
    on R^d is the case k = d, ``U = I``: omit ``basis`` and ``ambient_dim``.

    Parameters
    ----------
    weights : ndarray, shape (m,)
        Non-negative, summing to 1 within 1e-12; stored renormalised to sum 1.
    means : ndarray, shape (m, k)
    covariances : ndarray, shape (m, k, k)
        Symmetric positive semi-definite; singular ones, down to exactly 0 (atoms), are allowed.
        Stored symmetrised; eigenvalues within ``1e-12 * max|eigenvalue|`` of 0 are rounding
        noise and are treated as exactly 0 (so a rank-1 ``v vᵀ`` stays exactly rank 1).
    frame : SubspaceFrame
        The basis U (``frame.intrinsic_dim`` must equal k).

    Notes
    -----
    Component j of ``Z_t = sqrt(ᾱ) Z + sqrt(1-ᾱ) ξ`` is ``N(sqrt(ᾱ) μ_j, C_j)``,
    ``C_j = ᾱ Σ_j + (1-ᾱ) I_k``, positive definite whenever 1-ᾱ > 0.  It is factored through the
    eigen-decomposition of ``Σ_j`` (computed once), whose eigenvalues ``ᾱ λ + (1-ᾱ)`` are formed
    without cancellation.  For k = 1 all methods run elementwise over ``(n, m)`` arrays.

    References
    ----------
    Chen, Huang, Zhao & Wang (2023), arXiv:2302.07194, for the score decomposition.
    """

    weights: FloatArray
    means: FloatArray
    covariances: FloatArray
    frame: SubspaceFrame
    _mixture: FullMixture = field(init=False, repr=False)
    _diagonal: DiagonalMixtures | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.frame, SubspaceFrame):
            raise InvalidParameterError(
                f"`frame` must be a SubspaceFrame (got {type(self.frame).__name__})")
        w, mu, cov, eigenvalues, eigenvectors = _validate_components(
            self.weights, self.means, self.covariances)
        if mu.shape[1] != self.frame.intrinsic_dim:
            raise InvalidParameterError(
                f"`means` must have k = frame.intrinsic_dim = {self.frame.intrinsic_dim} columns "
                f"(got {mu.shape[1]})")
        for name, arr in (("weights", w), ("means", mu), ("covariances", cov)):
            object.__setattr__(self, name, _read_only(arr))
        last = int(np.flatnonzero(w > 0)[-1])
        mixture = FullMixture(log_weights(w), mu, eigenvalues, eigenvectors, np.cumsum(w), last)
        object.__setattr__(self, "_mixture", mixture)
        object.__setattr__(self, "_diagonal",
                           mixture.as_diagonal() if mu.shape[1] == 1 else None)

    @classmethod
    def create(cls, weights: ArrayLike, means: ArrayLike, covariances: ArrayLike, *,
               basis: ArrayLike | None = None, ambient_dim: int | None = None,
               basis_seed: int | None = None) -> SubspaceGaussianMixture:
        """Build and validate a mixture on a subspace.

        Parameters
        ----------
        weights : array_like, shape (m,)
        means : array_like, shape (m, k)
        covariances : array_like, shape (m, k, k)
        basis : array_like, shape (d, k), optional
            Orthonormal columns, ``max|UᵀU - I| <= 1e-10``.
        ambient_dim : int, optional
            d >= k.  With ``basis_seed``: U is Haar-random from
            ``numpy.random.default_rng(basis_seed)`` (QR with sign fix).  Without it and without
            ``basis``: U is the first k coordinate axes.  Omitting both ``basis`` and
            ``ambient_dim`` gives d = k (and ``U = I`` unless ``basis_seed`` is given).
        basis_seed : int, optional

        Raises
        ------
        InvalidParameterError
            Any rule broken (named in the message); :class:`NonFiniteError` for NaN/inf input.
        """
        mu = check_finite_array("means", means, ndim=2)
        frame = SubspaceFrame.create(max(mu.shape[1], 1), basis=basis, ambient_dim=ambient_dim,
                                     basis_seed=basis_seed)
        return cls(weights=check_finite_array("weights", weights), means=mu,
                   covariances=check_finite_array("covariances", covariances), frame=frame)

    @property
    def num_components(self) -> int:
        """m, the number of mixture components."""
        return int(self.weights.size)

    def subspace_part(self) -> SubspaceGaussianMixture:
        """The mixture of ``Z`` in R^k (d = k, ``U = I``); works for any d, built once."""
        if self.frame.kind == "identity":
            return self
        return self._subspace

    @functools.cached_property
    def _subspace(self) -> SubspaceGaussianMixture:
        return SubspaceGaussianMixture(
            weights=self.weights, means=self.means, covariances=self.covariances,
            frame=SubspaceFrame(ambient_dim=self.intrinsic_dim, intrinsic_dim=self.intrinsic_dim))

    def responsibilities(self, x: ArrayLike, *, alpha_bar: float,
                         one_minus_alpha_bar: float) -> FloatArray:
        """Posterior component probabilities ``P(J = j | X_t = x)``.

        Parameters
        ----------
        x : array_like, shape (n, d)
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.

        Returns
        -------
        ndarray, shape (n, m)
            Rows sum to 1; they depend on x only through ``Uᵀx``.
        """
        _, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        with QUIET():
            resp = self._state(z, ab, om).responsibilities
            out = resp[:, :, 0].T.copy() if self._diagonal is not None else resp
        return require_finite("responsibilities", out, ab, om)

    def _state(self, z: FloatArray, ab: float, om: float) -> MixtureState:
        if self._diagonal is not None:
            return self._diagonal.state(z, ab, om)
        return self._mixture.state(z, ab, om)

    def _sub_log_density(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        if self._diagonal is not None:
            return self._diagonal.log_density(z, ab, om)[:, 0]
        return self._mixture.state(z, ab, om).log_density

    def _sub_score(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        st = self._state(z, ab, om)
        if self._diagonal is not None:
            return DiagonalMixtures.score(st)
        return FullMixture.score(st)

    def _sub_score_jacobian(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        st = self._state(z, ab, om)
        if self._diagonal is not None:
            return DiagonalMixtures.score_derivative(st)[:, :, None]
        return self._mixture.score_jacobian(st)

    def _sub_posterior_mean(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        st = self._state(z, ab, om)
        if self._diagonal is not None:
            return self._diagonal.posterior_mean(st)
        return self._mixture.posterior_mean(st)

    def _sub_sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        return self._mixture.sample(n, rng)


def _validate_factor(i: int, factor: Any) -> SubspaceGaussianMixture:
    """One ``(weights, means, variances)`` triple → a 1-D :class:`SubspaceGaussianMixture`."""
    if isinstance(factor, str | bytes | Mapping) or not isinstance(factor, Sequence) \
            or len(factor) != 3:
        raise InvalidParameterError(
            f"`factors[{i}]` must be a (weights, means, variances) triple "
            f"(got {type(factor).__name__})")
    weights, means, variances = factor
    prefix = f"factors[{i}]"
    var = check_finite_array(f"{prefix}.variances", variances, ndim=1)
    mu = check_finite_array(f"{prefix}.means", means, shape=(var.size,))
    if np.any(var < 0):
        j = int(np.flatnonzero(var < 0)[0])
        raise InvalidParameterError(
            f"`{prefix}.variances` must be >= 0 (got {float(var[j])!r} at index {j})")
    w = check_finite_array(f"{prefix}.weights", weights, ndim=1)
    if w.size != var.size:
        raise InvalidParameterError(
            f"`{prefix}.weights`, `.means` and `.variances` must have equal lengths "
            f"(got {w.size}, {mu.size}, {var.size})")
    w, _, _, _, _ = _validate_components(
        w, mu[:, None], var[:, None, None],
        names=(f"{prefix}.weights", f"{prefix}.means", f"{prefix}.variances"))
    return SubspaceGaussianMixture(weights=w, means=mu[:, None], covariances=var[:, None, None],
                                   frame=SubspaceFrame(ambient_dim=1, intrinsic_dim=1))


@dataclass(frozen=True, kw_only=True, eq=False)
class ProductMixture(SubspaceTarget):
    """``X_0 = U Z`` with independent coordinates ``Z_i ~ Σ_j w_ij N(μ_ij, v_ij)``, i = 1..k.

    The product of k mixtures is itself a mixture with ``Π_i m_i`` components; it is never
    expanded: every method works coordinate-wise on ``(n, k, max_i m_i)`` arrays.  Build with
    :meth:`create`.  Instances compare by identity.

    Parameters
    ----------
    factors : tuple of SubspaceGaussianMixture
        k one-dimensional mixtures (d = k = 1), the laws of ``Z_1, ..., Z_k``.
    frame : SubspaceFrame
        The basis U (``frame.intrinsic_dim == len(factors)``).

    Notes
    -----
    ``log p^k_t(z) = Σ_i log p^{(i)}_t(z_i)``; the score is coordinate-wise, and its Jacobian in
    U's frame is diagonal, ``diag(s_i'(z_i))`` (:meth:`score_jacobian_diagonal`), so the ambient
    Jacobian is ``U diag(s'_i) Uᵀ - (I - UUᵀ)/(1-ᾱ)``.  docs/theory.md §6: product targets reduce
    path-KL and density computations to k one-dimensional problems.

    References
    ----------
    Chen, Huang, Zhao & Wang (2023), arXiv:2302.07194, for the score decomposition.
    """

    factors: tuple[SubspaceGaussianMixture, ...]
    frame: SubspaceFrame
    _mixtures: DiagonalMixtures = field(init=False, repr=False)

    def __post_init__(self) -> None:
        factors = tuple(self.factors)
        for i, f in enumerate(factors):
            if not (isinstance(f, SubspaceGaussianMixture) and f.frame.kind == "identity"
                    and f.intrinsic_dim == 1):
                raise InvalidParameterError(
                    f"`factors[{i}]` must be a one-dimensional SubspaceGaussianMixture with "
                    f"d = k = 1 (got {f!r:.60})")
        if not isinstance(self.frame, SubspaceFrame) or self.frame.intrinsic_dim != len(factors):
            raise InvalidParameterError(
                f"`frame` must be a SubspaceFrame with intrinsic_dim = len(factors) = "
                f"{len(factors)} (got {self.frame!r:.80})")
        object.__setattr__(self, "factors", factors)
        triples = [(f.weights, f.means[:, 0], f.covariances[:, 0, 0]) for f in factors]
        object.__setattr__(self, "_mixtures", DiagonalMixtures.from_factors(triples))

    @classmethod
    def create(cls, factors: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike]], *,
               basis: ArrayLike | None = None, ambient_dim: int | None = None,
               basis_seed: int | None = None) -> ProductMixture:
        """Build and validate a product of one-dimensional mixtures on a subspace.

        Parameters
        ----------
        factors : sequence of (weights, means, variances)
            One triple per coordinate i = 1..k, each of three arrays of shape ``(m_i,)``;
            weights >= 0 summing to 1 within 1e-12, variances >= 0 (0 gives an atom).
        basis, ambient_dim, basis_seed
            The frame U, exactly as in :meth:`SubspaceGaussianMixture.create`.

        Raises
        ------
        InvalidParameterError
            Any rule broken; the message names e.g. ``factors[1].variances``.
        """
        if isinstance(factors, str | bytes | Mapping) or not isinstance(factors, Sequence) \
                or len(factors) == 0:
            raise InvalidParameterError(
                f"`factors` must be a non-empty sequence of (weights, means, variances) triples "
                f"(got {type(factors).__name__})")
        built = tuple(_validate_factor(i, f) for i, f in enumerate(factors))
        frame = SubspaceFrame.create(len(built), basis=basis, ambient_dim=ambient_dim,
                                     basis_seed=basis_seed)
        return cls(factors=built, frame=frame)

    def factor(self, i: int) -> SubspaceGaussianMixture:
        """The one-dimensional mixture of coordinate ``i`` (0-based) in U's frame."""
        i = check_int("i", i, minimum=0, maximum=self.intrinsic_dim - 1)
        return self.factors[i]

    def subspace_part(self) -> ProductMixture:
        """The product mixture of ``Z`` in R^k (d = k, ``U = I``); works for any d."""
        if self.frame.kind == "identity":
            return self
        return self._subspace

    @functools.cached_property
    def _subspace(self) -> ProductMixture:
        k = self.intrinsic_dim
        return ProductMixture(factors=self.factors,
                              frame=SubspaceFrame(ambient_dim=k, intrinsic_dim=k))

    def score_jacobian_diagonal(self, x: ArrayLike, *, alpha_bar: float,
                                one_minus_alpha_bar: float) -> FloatArray:
        """Diagonal of the score Jacobian in U's frame, ``s_i'(z_i)`` with ``z = Uᵀx``.

        Parameters
        ----------
        x : array_like, shape (n, d)
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.

        Returns
        -------
        ndarray, shape (n, k)
            The eigenvalues of the Jacobian on the subspace (the other d - k are
            ``-1/(1-ᾱ)``): ``-Σ_j w_ij/c_ij + Σ_j w_ij (s_ij - s_i)²``.
        """
        _, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        with QUIET():
            out = DiagonalMixtures.score_derivative(self._mixtures.state(z, ab, om))
        return require_finite("score_jacobian_diagonal", out, ab, om)

    def _sub_log_density(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        return np.sum(self._mixtures.log_density(z, ab, om), axis=1)

    def _sub_score(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        return DiagonalMixtures.score(self._mixtures.state(z, ab, om))

    def _sub_score_jacobian(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        diag = DiagonalMixtures.score_derivative(self._mixtures.state(z, ab, om))
        out = np.zeros((*diag.shape, diag.shape[1]))
        idx = np.arange(diag.shape[1])
        out[:, idx, idx] = diag
        return out

    def _sub_posterior_mean(self, z: FloatArray, ab: float, om: float) -> FloatArray:
        return self._mixtures.posterior_mean(self._mixtures.state(z, ab, om))

    def _sub_sample(self, n: int, rng: np.random.Generator) -> FloatArray:
        return self._mixtures.sample(n, rng)


#: Either target; both expose the same ambient/subspace method API.
Target = SubspaceGaussianMixture | ProductMixture

_FRAME_KEYS = frozenset({"ambient_dim", "basis_seed", "basis"})
_SPEC_KEYS = {
    "subspace_gmm": (frozenset({"kind", "weights", "means", "covariances"}), _FRAME_KEYS),
    "product_gmm": (frozenset({"kind", "factors"}), _FRAME_KEYS),
}
_FACTOR_KEYS = frozenset({"weights", "means", "variances"})


def _check_keys(where: str, spec: Any, required: frozenset[str],
                optional: frozenset[str] = frozenset()) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise SpecError(f"`{where}` must be a mapping (got {type(spec).__name__})")
    missing = sorted(required - spec.keys())
    if missing:
        raise SpecError(f"`{where}` is missing required key {missing[0]!r}")
    extra = sorted(str(key) for key in spec.keys() - required - optional)
    if extra:
        raise SpecError(f"`{where}` has unexpected key {extra[0]!r} (allowed: "
                        f"{', '.join(sorted(required | optional))})")
    return spec


def from_spec(spec: Mapping[str, Any]) -> Target:
    """Build a target from a JSON-style mapping.

    Parameters
    ----------
    spec : Mapping
        ``{"kind": "subspace_gmm", "weights": [...], "means": [[...], ...],
        "covariances": [[[...]], ...]}`` or ``{"kind": "product_gmm", "factors":
        [{"weights": [...], "means": [...], "variances": [...]}, ...]}``, each optionally with
        ``"ambient_dim"``, ``"basis_seed"`` and ``"basis"`` (see
        :meth:`SubspaceGaussianMixture.create`).  No other keys are allowed, so that a typo
        cannot silently fall back to a default.

    Returns
    -------
    SubspaceGaussianMixture or ProductMixture
        For a huge ``ambient_dim`` (e.g. 10**9) nothing of size d is allocated.

    Raises
    ------
    SpecError
        Not a mapping, unknown ``kind``, missing or unexpected key (named in the message).
    InvalidParameterError
        A value breaks a rule of the constructor (the key is named in the message).
    """
    spec = _check_keys("spec", spec, frozenset({"kind"}), frozenset().union(*(
        req | opt for req, opt in _SPEC_KEYS.values())))
    kind = spec["kind"]
    if not isinstance(kind, str) or kind not in _SPEC_KEYS:
        raise SpecError(f"`spec['kind']` must be one of {', '.join(map(repr, _SPEC_KEYS))} "
                        f"(got {kind!r})")
    required, optional = _SPEC_KEYS[kind]
    _check_keys("spec", spec, required, optional)
    frame_args = {key: spec.get(key) for key in _FRAME_KEYS}
    if kind == "subspace_gmm":
        return SubspaceGaussianMixture.create(spec["weights"], spec["means"],
                                              spec["covariances"], **frame_args)
    factors = spec["factors"]
    if not isinstance(factors, Sequence) or isinstance(factors, str | bytes):
        raise SpecError(f"`spec['factors']` must be a list (got {type(factors).__name__})")
    triples = []
    for i, entry in enumerate(factors):
        entry = _check_keys(f"spec['factors'][{i}]", entry, _FACTOR_KEYS)
        triples.append((entry["weights"], entry["means"], entry["variances"]))
    return ProductMixture.create(triples, **frame_args)
