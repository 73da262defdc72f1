"""The ambient lift of a k-dimensional target: everything the orthogonal complement adds
(private; the base class of the classes in :mod:`theorycheck.targets`).

For ``X_0 = U Z`` the noisy density factorises into the k-dimensional part and the closed-form
Gaussian ``N(x_⊥; 0, (1-ᾱ) I_{d-k})`` (docs/theory.md §5; Chen, Huang, Zhao & Wang 2023,
arXiv:2302.07194).  :class:`SubspaceTarget` implements that factor once, so a concrete target
only supplies its k-dimensional kernels.
"""

from __future__ import annotations

import abc
import functools
import math
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._mixture_math import check_noise_level
from theorycheck._subspace_frame import SubspaceFrame
from theorycheck._validation import check_finite_array, check_int, check_rng
from theorycheck.errors import InvalidParameterError, NonFiniteError

__all__ = ["MAX_JACOBIAN_ENTRIES", "QUIET", "SubspaceTarget", "require_finite"]

FloatArray = NDArray[np.float64]

#: Largest ``n * d * d`` an ambient :meth:`~SubspaceTarget.score_jacobian` call may allocate
#: (800 MB of float64).
MAX_JACOBIAN_ENTRIES = 100_000_000

#: Overflow on absurdly distant points is detected on the *result* (``require_finite``), so the
#: intermediate floating-point warnings are silenced rather than turned into noise.
QUIET = functools.partial(np.errstate, over="ignore", under="ignore", invalid="ignore",
                          divide="ignore")


def require_finite(method: str, values: FloatArray, alpha_bar: float,
                   one_minus_alpha_bar: float) -> FloatArray:
    """Fail loudly: overflow on absurdly distant points must not pass on silently."""
    finite = np.isfinite(values)
    if not np.all(finite):
        bad = int(np.flatnonzero(~finite.reshape(finite.shape[0], -1).all(axis=1))[0])
        raise NonFiniteError(
            f"`{method}` overflowed at point index {bad} (alpha_bar={alpha_bar!r}, "
            f"one_minus_alpha_bar={one_minus_alpha_bar!r}); `x` is too far from the data")
    return values


class SubspaceTarget(abc.ABC):
    """Ambient-coordinate methods shared by the targets (abstract base).

    Subclasses provide the k-dimensional part through the ``_sub_*`` hooks (subspace
    coordinates in, subspace coordinates out, arguments already validated); this class adds the
    closed-form orthogonal factor and handles validation, overflow checks and the frame.
    """

    frame: SubspaceFrame

    @abc.abstractmethod
    def _sub_log_density(self, z: FloatArray, ab: float, om: float) -> FloatArray: ...

    @abc.abstractmethod
    def _sub_score(self, z: FloatArray, ab: float, om: float) -> FloatArray: ...

    @abc.abstractmethod
    def _sub_score_jacobian(self, z: FloatArray, ab: float, om: float) -> FloatArray: ...

    @abc.abstractmethod
    def _sub_posterior_mean(self, z: FloatArray, ab: float, om: float) -> FloatArray: ...

    @abc.abstractmethod
    def _sub_sample(self, n: int, rng: np.random.Generator) -> FloatArray: ...

    @abc.abstractmethod
    def subspace_part(self) -> Self:
        """The k-dimensional target ``Z`` itself (d = k, ``U = I``), valid for any d."""

    @property
    def ambient_dim(self) -> int:
        """d, the dimension of the space the data live in."""
        return self.frame.ambient_dim

    @property
    def intrinsic_dim(self) -> int:
        """k, the dimension of the subspace carrying the data."""
        return self.frame.intrinsic_dim

    @property
    def basis(self) -> FloatArray:
        """U, ndarray, shape (d, k), read-only; built on first access (d * k <= 5e7)."""
        return self.frame.basis

    def _points(self, x: Any, alpha_bar: Any, one_minus_alpha_bar: Any
                ) -> tuple[FloatArray, FloatArray, float, float]:
        ab, om = check_noise_level(alpha_bar, one_minus_alpha_bar)
        arr = self.frame.check_points("x", x)
        return arr, self.frame.project(arr), ab, om

    def log_density(self, x: ArrayLike, *, alpha_bar: float,
                    one_minus_alpha_bar: float) -> FloatArray:
        """Exact ``log p_{X_t}(x)``.

        Parameters
        ----------
        x : array_like, shape (n, d)
            Points in ambient coordinates.
        alpha_bar, one_minus_alpha_bar : float
            The noise level (ᾱ, 1-ᾱ), each in (0, 1], summing to 1 within 1e-9.

        Returns
        -------
        ndarray, shape (n,)

        Notes
        -----
        ``log p^k_t(Uᵀx) - ‖x_⊥‖²/(2(1-ᾱ)) - (d-k)/2 log(2π(1-ᾱ))`` with the residual
        ``x_⊥ = x - U Uᵀx`` formed explicitly; the k-dimensional mixture is combined by
        log-sum-exp over components ``N(sqrt(ᾱ) μ_j, ᾱ Σ_j + (1-ᾱ) I_k)``.
        """
        arr, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        codim = self.ambient_dim - self.intrinsic_dim
        with QUIET():
            out = self._sub_log_density(z, ab, om)
            if codim:
                perp = self.frame.residual(arr, z)
                out = out - 0.5 * (np.einsum("nd,nd->n", perp, perp) / om
                                   + codim * math.log(2.0 * math.pi * om))
        return require_finite("log_density", out, ab, om)

    def score(self, x: ArrayLike, *, alpha_bar: float,
              one_minus_alpha_bar: float) -> FloatArray:
        """Exact score ``∇ log p_{X_t}(x)``.

        Parameters
        ----------
        x : array_like, shape (n, d)
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.

        Returns
        -------
        ndarray, shape (n, d)

        Notes
        -----
        ``U s^k_t(Uᵀx) - x_⊥/(1-ᾱ)`` (Chen et al. 2023), with the k-dimensional mixture score
        ``s^k = Σ_j w_j(z) s_j``, ``s_j = -C_j^{-1}(z - sqrt(ᾱ) μ_j)``, ``C_j = ᾱ Σ_j + (1-ᾱ) I``.
        """
        arr, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        with QUIET():
            out = self.frame.lift(self._sub_score(z, ab, om))
            if self.ambient_dim > self.intrinsic_dim:
                out = out - self.frame.residual(arr, z) / om
        return require_finite("score", out, ab, om)

    def score_jacobian(self, x: ArrayLike, *, alpha_bar: float,
                       one_minus_alpha_bar: float) -> FloatArray:
        """Exact Jacobian of the score (the Hessian of ``log p_{X_t}``), symmetric.

        Parameters
        ----------
        x : array_like, shape (n, d)
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.

        Returns
        -------
        ndarray, shape (n, d, d)
            At most 1e8 entries; use ``subspace_part().score_jacobian`` (shape (n, k, k)) and
            the constant ``-1/(1-ᾱ)`` on the orthogonal complement for large d.

        Notes
        -----
        ``U J Uᵀ - (I - U Uᵀ)/(1-ᾱ)`` with, in subspace coordinates,
        ``J = -Σ_j w_j C_j^{-1} + Σ_j w_j (s_j - s)(s_j - s)ᵀ``, which equals
        ``Σ_j w_j (-C_j^{-1}) + Σ_j w_j s_j s_jᵀ - s sᵀ`` but is evaluated without cancellation.
        """
        arr, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        n, d, k = arr.shape[0], self.ambient_dim, self.intrinsic_dim
        if n * d * d > MAX_JACOBIAN_ENTRIES:
            raise InvalidParameterError(
                f"`x` has n={n} points in d={d}: an (n, d, d) Jacobian would hold {n * d * d:.3g}"
                f" > {MAX_JACOBIAN_ENTRIES:.3g} entries; use subspace_part().score_jacobian")
        with QUIET():
            jac = self._sub_score_jacobian(z, ab, om)
            kind = self.frame.kind
            if kind == "identity":
                out = jac
            elif kind == "coordinate":
                out = np.zeros((n, d, d))
                out[:, :k, :k] = jac
                idx = np.arange(k, d)
                out[:, idx, idx] = -1.0 / om
            else:
                u = self.basis
                projector = np.eye(d) - u @ u.T
                out = np.einsum("ak,nkl,bl->nab", u, jac, u) - projector / om
        return require_finite("score_jacobian", out, ab, om)

    def posterior_mean(self, x: ArrayLike, *, alpha_bar: float,
                       one_minus_alpha_bar: float) -> FloatArray:
        """Exact ``E[X_0 | X_t = x]``.

        Parameters
        ----------
        x : array_like, shape (n, d)
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.

        Returns
        -------
        ndarray, shape (n, d)
            Lies in the span of U.

        Notes
        -----
        ``U Σ_j w_j(z) (μ_j + sqrt(ᾱ) Σ_j C_j^{-1}(z - sqrt(ᾱ) μ_j))``, computed from the
        component posteriors (stable as 1-ᾱ → 0, exact ``μ_j`` for atoms), and consistent with
        Tweedie: ``score(x) = -(x - sqrt(ᾱ) posterior_mean(x))/(1-ᾱ)``.
        """
        _, z, ab, om = self._points(x, alpha_bar, one_minus_alpha_bar)
        with QUIET():
            out = self.frame.lift(self._sub_posterior_mean(z, ab, om))
        return require_finite("posterior_mean", out, ab, om)

    def sample_data(self, n: int, *, rng: np.random.Generator) -> FloatArray:
        """Draw ``X_0 = U Z``.

        Parameters
        ----------
        n : int
            Number of samples (>= 0).
        rng : numpy.random.Generator
            The only source of randomness.  Same state → identical samples.

        Returns
        -------
        ndarray, shape (n, d)
        """
        n = check_int("n", n, minimum=0)
        generator = check_rng("rng", rng)
        self.frame.require_materialisable()
        return np.array(self.frame.lift(self._sub_sample(n, generator)))

    def sample_noisy(self, n: int, *, alpha_bar: float, one_minus_alpha_bar: float,
                     rng: np.random.Generator) -> FloatArray:
        """Draw ``X_t = sqrt(ᾱ) U Z + sqrt(1-ᾱ) ε``, ``ε ~ N(0, I_d)``.

        Parameters
        ----------
        n : int
            Number of samples (>= 0).
        alpha_bar, one_minus_alpha_bar : float
            The noise level, see :meth:`log_density`.
        rng : numpy.random.Generator
            Draws the data exactly as :meth:`sample_data` does, then ``ε`` (shape (n, d)).

        Returns
        -------
        ndarray, shape (n, d)
        """
        ab, om = check_noise_level(alpha_bar, one_minus_alpha_bar)
        n = check_int("n", n, minimum=0)
        generator = check_rng("rng", rng)
        self.frame.require_materialisable()
        data = self.frame.lift(self._sub_sample(n, generator))
        noise = generator.standard_normal((n, self.ambient_dim))
        return math.sqrt(ab) * data + math.sqrt(om) * noise

    def to_subspace(self, x: ArrayLike) -> FloatArray:
        """Subspace coordinates ``Uᵀx`` of each row: ``x : (n, d)`` → ``(n, k)``."""
        return np.array(self.frame.project(self.frame.check_points("x", x)))

    def from_subspace(self, z: ArrayLike) -> FloatArray:
        """Ambient points ``U z`` of each row: ``z : (n, k)`` → ``(n, d)``."""
        arr = check_finite_array("z", z, shape=(None, self.intrinsic_dim))
        self.frame.require_materialisable()
        return np.array(self.frame.lift(arr))
