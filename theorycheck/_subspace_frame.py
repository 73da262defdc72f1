"""The orthonormal frame ``U`` (d × k) of a low-dimensional target (private; re-exported by
:mod:`theorycheck.targets` as :class:`~theorycheck.targets.SubspaceFrame`).

The frame is stored by *description* (dimensions, a seed or an explicit array), and the d × k
matrix is built only when an ambient-coordinate method needs it.  A target with
``ambient_dim = 10**9`` therefore costs nothing until somebody asks for ambient coordinates, and
then fails with a clear message instead of an out-of-memory error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from theorycheck._validation import check_finite_array, check_int
from theorycheck.errors import InvalidParameterError

__all__ = ["MAX_BASIS_ENTRIES", "ORTHONORMAL_TOL", "SubspaceFrame"]

FloatArray = NDArray[np.float64]

#: Largest ``ambient_dim * intrinsic_dim`` an ambient-coordinate method will materialise
#: (5e7 float64 entries = 400 MB).  Beyond it, work in subspace coordinates.
MAX_BASIS_ENTRIES = 50_000_000
#: ``max |UᵀU - I|`` allowed for a user basis.  A basis from a float64 QR is orthonormal to
#: ~1e-15; 1e-10 accepts bases that went through text files, and keeps the projector error far
#: below every tolerance the checks use.
ORTHONORMAL_TOL = 1e-10

FrameKind = Literal["identity", "coordinate", "explicit", "random"]


def _read_only(arr: FloatArray) -> FloatArray:
    arr.flags.writeable = False
    return arr


def random_orthonormal(ambient_dim: int, intrinsic_dim: int, seed: int) -> FloatArray:
    """QR of a Gaussian d × k matrix from ``default_rng(seed)``, signs fixed so ``diag(R) > 0``.

    With the sign fix the result is Haar-distributed on the Stiefel manifold and a deterministic
    function of ``seed``.
    """
    gauss = np.random.default_rng(seed).standard_normal((ambient_dim, intrinsic_dim))
    q, r = np.linalg.qr(gauss)
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return np.ascontiguousarray(q * signs)


@dataclass(frozen=True, kw_only=True, eq=False)
class SubspaceFrame:
    """An orthonormal basis ``U`` (d × k, ``UᵀU = I_k``) of the subspace carrying the data.

    Build it with :meth:`create`.  The basis is one of: the identity (``d = k``); the first k
    coordinate axes (``d > k``, no seed, no basis); an explicit user array; or a Haar-random
    basis drawn from ``basis_seed``.  Only the explicit one is stored as an array; the others are
    built on first use of :attr:`basis` (and never, if only subspace coordinates are used).

    Parameters
    ----------
    ambient_dim : int
        d >= k.
    intrinsic_dim : int
        k >= 1.
    basis_seed : int or None
        Seed of the random basis (``numpy.random.default_rng``).
    explicit_basis : ndarray, shape (d, k), or None
        A user basis; mutually exclusive with ``basis_seed``.
    """

    ambient_dim: int
    intrinsic_dim: int
    basis_seed: int | None = None
    explicit_basis: FloatArray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        k = check_int("intrinsic_dim", self.intrinsic_dim, minimum=1)
        d = check_int("ambient_dim", self.ambient_dim, minimum=1)
        if d < k:
            raise InvalidParameterError(
                f"`ambient_dim` must be >= the intrinsic dimension k={k} (got {d})")
        object.__setattr__(self, "ambient_dim", d)
        object.__setattr__(self, "intrinsic_dim", k)
        if self.basis_seed is not None:
            object.__setattr__(self, "basis_seed", check_int("basis_seed", self.basis_seed,
                                                             minimum=0))
        if self.explicit_basis is not None:
            if self.basis_seed is not None:
                raise InvalidParameterError(
                    "give at most one of `basis` and `basis_seed` (got both)")
            basis = np.array(check_finite_array("basis", self.explicit_basis, shape=(d, k)))
            gram_err = float(np.max(np.abs(basis.T @ basis - np.eye(k))))
            if gram_err > ORTHONORMAL_TOL:
                raise InvalidParameterError(
                    f"`basis` must have orthonormal columns, max|UᵀU - I| <= "
                    f"{ORTHONORMAL_TOL:g} (got {gram_err:.3g})")
            object.__setattr__(self, "explicit_basis", _read_only(basis))

    @classmethod
    def create(cls, intrinsic_dim: int, *, basis: ArrayLike | None = None,
               ambient_dim: int | None = None, basis_seed: int | None = None) -> SubspaceFrame:
        """Build and validate a frame.

        Parameters
        ----------
        intrinsic_dim : int
            k, the dimension of the subspace.
        basis : array_like, shape (d, k), optional
            Orthonormal columns (``max|UᵀU - I| <= 1e-10``).
        ambient_dim : int, optional
            d.  Must equal ``basis.shape[0]`` if both are given.  Default: ``basis.shape[0]``,
            else k.
        basis_seed : int, optional
            Draw a Haar-random basis from ``numpy.random.default_rng(basis_seed)``.  Without it
            (and without ``basis``) the basis is the first k coordinate axes.

        Raises
        ------
        InvalidParameterError
            Inconsistent or invalid arguments (the message names the argument).
        """
        k = check_int("intrinsic_dim", intrinsic_dim, minimum=1)
        if basis is None:
            d = k if ambient_dim is None else check_int("ambient_dim", ambient_dim, minimum=1)
            return cls(ambient_dim=d, intrinsic_dim=k, basis_seed=basis_seed)
        arr = check_finite_array("basis", basis, ndim=2)
        if arr.shape[1] != k:
            raise InvalidParameterError(
                f"`basis` must have shape (d, k) with k={k} columns (got {arr.shape})")
        if arr.shape[0] < k:
            raise InvalidParameterError(
                f"`basis` must have at least k={k} rows, i.e. k <= d (got {arr.shape})")
        if ambient_dim is not None and check_int("ambient_dim", ambient_dim) != arr.shape[0]:
            raise InvalidParameterError(
                f"`ambient_dim` must equal basis.shape[0]={arr.shape[0]} (got {ambient_dim})")
        return cls(ambient_dim=arr.shape[0], intrinsic_dim=k, basis_seed=basis_seed,
                   explicit_basis=arr)

    @property
    def kind(self) -> FrameKind:
        """``"identity"``, ``"coordinate"``, ``"explicit"`` or ``"random"``."""
        if self.explicit_basis is not None:
            return "explicit"
        if self.basis_seed is not None:
            return "random"
        return "identity" if self.ambient_dim == self.intrinsic_dim else "coordinate"

    def require_materialisable(self) -> None:
        """Raise :class:`InvalidParameterError` if ``d * k`` exceeds :data:`MAX_BASIS_ENTRIES`."""
        size = self.ambient_dim * self.intrinsic_dim
        if size > MAX_BASIS_ENTRIES:
            raise InvalidParameterError(
                f"`ambient_dim` * intrinsic_dim = {size:.3g} is too large for ambient "
                f"coordinates (limit {MAX_BASIS_ENTRIES:.3g} basis entries); work in subspace "
                "coordinates with `subspace_part()` instead")

    @property
    def basis(self) -> FloatArray:
        """U, ndarray, shape (d, k), read-only; built on first access."""
        if self.explicit_basis is not None:
            return self.explicit_basis
        self.require_materialisable()
        return self._built_basis

    @functools.cached_property
    def _built_basis(self) -> FloatArray:
        d, k = self.ambient_dim, self.intrinsic_dim
        if self.basis_seed is not None:
            return _read_only(random_orthonormal(d, k, self.basis_seed))
        return _read_only(np.eye(d, k))

    def check_points(self, name: str, x: Any) -> FloatArray:
        """Validate ambient points: finite float array of shape ``(n, d)``."""
        self.require_materialisable()
        return check_finite_array(name, x, shape=(None, self.ambient_dim))

    # The three maps below take validated arrays.  Identity and coordinate frames use slicing,
    # which is exact and O(n d), instead of products with U.

    def project(self, x: FloatArray) -> FloatArray:
        """``Uᵀx`` for each row: ``x U``, shape (n, k)."""
        kind = self.kind
        if kind == "identity":
            return x
        if kind == "coordinate":
            return x[:, :self.intrinsic_dim]
        return x @ self.basis

    def lift(self, z: FloatArray) -> FloatArray:
        """``U z`` for each row: ``z Uᵀ``, shape (n, d)."""
        kind = self.kind
        if kind == "identity":
            return z
        if kind == "coordinate":
            out = np.zeros((z.shape[0], self.ambient_dim))
            out[:, :self.intrinsic_dim] = z
            return out
        return z @ self.basis.T

    def residual(self, x: FloatArray, z: FloatArray) -> FloatArray:
        """``x_⊥ = x - U Uᵀ x`` given ``z = Uᵀx``, computed explicitly (not via norms)."""
        kind = self.kind
        if kind == "identity":
            return np.zeros_like(x)
        if kind == "coordinate":
            out = x.copy()
            out[:, :self.intrinsic_dim] = 0.0
            return out
        return x - z @ self.basis.T
