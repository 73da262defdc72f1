"""The sampler protocol, the built-in coefficient-design sampler, and the one sampling driver.

Protocol (docs/theory.md §1): a sampler has ``alpha_bar`` (ᾱ_t for t = 1..T, float64, shape (T,)) and
``step(y, t, score, noise) -> y_prev`` acting on arrays of shape ``(n, d)``, for t = T..2, where
``score`` is the array ``s_t(y)`` and ``noise`` a standard normal array.  A sampler with memory
(a multistep solver) may also have ``reset()``: :func:`run_chain` calls it before each chain and
then calls ``step`` in order t = T..2.  The built-in designs all take the generic step

    Y_{t-1} = (Y_t + η_t s_t(Y_t) + σ_t Z_t) / sqrt(α_t),

so a new sampler is a new coefficient table (:mod:`theorycheck.designs`), never new loop code.
:func:`run_chain` alone owns the loop, the noise draws and the non-finite checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_rng
from theorycheck.designs import CoefficientDesign
from theorycheck.errors import InvalidParameterError, NonFiniteError, SamplerProtocolError
from theorycheck.scores import ScoreFunction

__all__ = ["Sampler", "DesignSampler", "ChainResult", "run_chain", "check_sampler"]


@runtime_checkable
class Sampler(Protocol):
    """What the driver needs from a sampler (see module docstring)."""

    @property
    def alpha_bar(self) -> NDArray[np.float64]: ...

    def step(self, y: NDArray[np.float64], t: int, score: NDArray[np.float64],
             noise: NDArray[np.float64]) -> NDArray[np.float64]: ...


@dataclass(frozen=True, kw_only=True, eq=False)
class DesignSampler:
    """The generic sampler step driven by a :class:`~theorycheck.designs.CoefficientDesign`.

    Attributes
    ----------
    design : CoefficientDesign
        ``η_t`` and ``σ_t`` for t = 1..T.
    alpha_bar : ndarray, shape (T,)
        ``ᾱ_t`` of the design's schedule.
    """

    design: CoefficientDesign
    alpha_bar: NDArray[np.float64] = field(init=False, repr=False)
    _inv_sqrt_alpha: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.design, CoefficientDesign):
            raise InvalidParameterError(
                f"`design` must be a CoefficientDesign (got {type(self.design).__name__})")
        object.__setattr__(self, "alpha_bar", self.design.schedule.alpha_bar)
        inv = 1.0 / np.sqrt(self.design.schedule.alpha)
        inv.setflags(write=False)
        object.__setattr__(self, "_inv_sqrt_alpha", inv)

    @property
    def name(self) -> str:
        """The design's description."""
        return self.design.describe()

    def step(self, y: NDArray[np.float64], t: int, score: NDArray[np.float64],
             noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(y + η_t score + σ_t noise)/sqrt(α_t)``; shapes (n, d) in and out."""
        i = t - 1
        out = y + self.design.eta[i] * score
        sigma = self.design.sigma[i]
        if sigma != 0.0:
            out = out + sigma * noise
        return out * self._inv_sqrt_alpha[i]


@dataclass(frozen=True, kw_only=True)
class ChainResult:
    """Output of :func:`run_chain`.

    Attributes
    ----------
    final : ndarray, shape (n, d)
        ``Y_1``.
    kept : dict[int, ndarray]
        ``Y_t`` of shape (n, d) for each requested ``t`` in ``keep``.
    num_steps : int
        ``T``.
    """

    final: NDArray[np.float64] = field(repr=False)
    kept: dict[int, NDArray[np.float64]] = field(repr=False)
    num_steps: int


def check_sampler(sampler: Any) -> int:
    """Validate the protocol attributes of ``sampler``; return ``T``.

    Raises
    ------
    SamplerProtocolError
        If ``alpha_bar`` or ``step`` is missing, or ``alpha_bar`` is not a finite, strictly
        decreasing array in (0, 1) with at least 2 entries.
    """
    if not hasattr(sampler, "alpha_bar"):
        raise SamplerProtocolError("`sampler` must have an `alpha_bar` attribute (ᾱ_t, t=1..T)")
    if not callable(getattr(sampler, "step", None)):
        raise SamplerProtocolError("`sampler` must have a callable `step(y, t, score, noise)`")
    try:
        alpha_bar = np.asarray(sampler.alpha_bar, dtype=np.float64)
    except (TypeError, ValueError):
        raise SamplerProtocolError("`sampler.alpha_bar` must be an array of numbers") from None
    if alpha_bar.ndim != 1 or alpha_bar.size < 2:
        raise SamplerProtocolError(
            f"`sampler.alpha_bar` must be 1-D with at least 2 entries (got shape {alpha_bar.shape})")
    if not np.all(np.isfinite(alpha_bar)):
        raise SamplerProtocolError("`sampler.alpha_bar` must be finite")
    if not (np.all(alpha_bar > 0) and np.all(alpha_bar < 1)):
        raise SamplerProtocolError("`sampler.alpha_bar` must lie in (0, 1)")
    if not np.all(np.diff(alpha_bar) < 0):
        bad = int(np.flatnonzero(np.diff(alpha_bar) >= 0)[0]) + 2
        raise SamplerProtocolError(
            f"`sampler.alpha_bar` must be strictly decreasing (fails at t={bad})")
    return int(alpha_bar.size)


def _draw(rng: np.random.Generator, sub_rng: np.random.Generator | None,
          basis: NDArray[np.float64] | None, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Standard normal (n, d); with ``basis`` drawn as U z + (I - UUᵀ) w (z from ``sub_rng``).

    The structured draw is exactly N(0, I_d) (the two parts are independent with covariances
    UUᵀ and I - UUᵀ) and its subspace coordinates are the draws of a k-dimensional chain using
    ``sub_rng``, which is what lets the exact d-split reproduce brute-force trajectories.
    """
    if basis is None:
        return rng.standard_normal(shape)
    assert sub_rng is not None
    z = sub_rng.standard_normal((shape[0], basis.shape[1]))
    w = rng.standard_normal(shape)
    return z @ basis.T + (w - (w @ basis) @ basis.T)


def run_chain(sampler: Any, score: ScoreFunction, *, num_samples: int, dim: int,
              rng: np.random.Generator, keep: Sequence[int] = (),
              basis: NDArray[np.float64] | None = None,
              initial: NDArray[np.float64] | None = None) -> ChainResult:
    """Run ``Y_T ~ N(0, I_dim)`` through ``sampler.step`` for t = T..2 and return ``Y_1``.

    Parameters
    ----------
    sampler : Sampler
        Any object following the sampler protocol.
    score : ScoreFunction
        ``score(y, t)`` evaluated at the current state before each step.
    num_samples, dim : int
        ``n`` chains in ``R^dim``.
    rng : numpy.random.Generator
        The only source of randomness.  With ``basis`` given, two child generators are spawned
        from it: one for the subspace coordinates of every draw, one for the rest.
    keep : sequence of int
        Steps ``t`` whose states ``Y_t`` to return (copies; memory ``n·dim`` each).
    basis : ndarray, shape (dim, k), optional
        Orthonormal basis for structured noise draws (see :func:`_draw`).
    initial : ndarray, shape (n, dim), optional
        Start state ``Y_T`` instead of a standard normal draw.

    Returns
    -------
    ChainResult

    Raises
    ------
    NonFiniteError
        Naming the step ``t`` at which a state first became non-finite.
    SamplerProtocolError
        If ``step`` returns the wrong shape.
    """
    num_steps = check_sampler(sampler)
    n = check_int("num_samples", num_samples, minimum=1)
    d = check_int("dim", dim, minimum=1)
    check_rng("rng", rng)
    keep_set = {check_int("keep", t, minimum=1, maximum=num_steps) for t in keep}
    sub_rng: np.random.Generator | None = None
    if basis is not None:
        basis = np.asarray(basis, dtype=np.float64)
        if basis.ndim != 2 or basis.shape[0] != d:
            raise InvalidParameterError(
                f"`basis` must have shape ({d}, k) (got {basis.shape})")
        main_rng, sub_rng = rng.spawn(2)
        rng = main_rng
    reset = getattr(sampler, "reset", None)
    if callable(reset):
        reset()
    if initial is None:
        y = _draw(rng, sub_rng, basis, (n, d))
    else:
        y = np.array(initial, dtype=np.float64)
        if y.shape != (n, d):
            raise InvalidParameterError(f"`initial` must have shape ({n}, {d}) (got {y.shape})")
    kept: dict[int, NDArray[np.float64]] = {}
    if num_steps in keep_set:
        kept[num_steps] = y.copy()
    for t in range(num_steps, 1, -1):
        s = score(y, t)
        noise = _draw(rng, sub_rng, basis, (n, d))
        y_new = np.asarray(sampler.step(y, t, s, noise), dtype=np.float64)
        if y_new.shape != (n, d):
            raise SamplerProtocolError(
                f"`sampler.step` must return shape ({n}, {d}) at t={t} (got {y_new.shape})")
        if not np.all(np.isfinite(y_new)):
            raise NonFiniteError(
                f"non-finite state after the step at t={t} (Y_{t - 1}); "
                f"score finite: {bool(np.all(np.isfinite(s)))}")
        y = y_new
        if t - 1 in keep_set:
            kept[t - 1] = y.copy()
    return ChainResult(final=y, kept=kept, num_steps=num_steps)
