"""Score objects: the exact score of a target, optionally plus a controlled perturbation.

A score object is called as ``score(x, t)`` with ``x`` of shape ``(n, d)`` and the step
``t`` (1-based); it knows the noise level of step ``t`` from its schedule.  Scores are kept
separate from coefficient designs and from the sampling loop (STYLE: term / solver / loop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from theorycheck.errors import InvalidParameterError
from theorycheck.schedules import Schedule

__all__ = ["ScoreFunction", "ExactScore", "PerturbedScore", "exact_score"]


@runtime_checkable
class ScoreFunction(Protocol):
    """``score(x, t) -> s_t(x)`` with ``x`` of shape (n, d) and the same output shape."""

    def __call__(self, x: NDArray[np.float64], t: int) -> NDArray[np.float64]: ...


class _Target(Protocol):
    ambient_dim: int

    def score(self, x: NDArray[np.float64], *, alpha_bar: float,
              one_minus_alpha_bar: float) -> NDArray[np.float64]: ...

    def score_jacobian(self, x: NDArray[np.float64], *, alpha_bar: float,
                       one_minus_alpha_bar: float) -> NDArray[np.float64]: ...


@dataclass(frozen=True, kw_only=True, eq=False)
class ExactScore:
    """Exact score ``s*_t(x) = ∇ log p_{X_t}(x)`` of ``target`` at the noise levels of ``schedule``.

    Parameters
    ----------
    target : object
        A target with ``score(x, *, alpha_bar, one_minus_alpha_bar)`` (see
        :mod:`theorycheck.targets`).
    schedule : Schedule
        Supplies ``ᾱ_t`` and ``1-ᾱ_t`` (both rounded from high precision).
    """

    target: Any
    schedule: Schedule = field(repr=False)

    def noise_level(self, t: int) -> tuple[float, float]:
        """``(ᾱ_t, 1-ᾱ_t)`` as floats."""
        if not 1 <= t <= self.schedule.num_steps:
            raise InvalidParameterError(
                f"`t` must be in 1..{self.schedule.num_steps} (got {t})")
        return float(self.schedule.alpha_bar[t - 1]), float(self.schedule.one_minus_alpha_bar[t - 1])

    def __call__(self, x: NDArray[np.float64], t: int) -> NDArray[np.float64]:
        alpha_bar, one_minus = self.noise_level(t)
        return np.asarray(self.target.score(x, alpha_bar=alpha_bar, one_minus_alpha_bar=one_minus))

    def jacobian(self, x: NDArray[np.float64], t: int) -> NDArray[np.float64]:
        """Exact Jacobian ``∇s_t(x)``, shape (n, d, d)."""
        alpha_bar, one_minus = self.noise_level(t)
        return np.asarray(self.target.score_jacobian(x, alpha_bar=alpha_bar,
                                                     one_minus_alpha_bar=one_minus))


@dataclass(frozen=True, kw_only=True, eq=False)
class PerturbedScore:
    """``s_t(x) = base(x, t) + perturbation(x, t)``: an exact score with a controlled error."""

    base: ScoreFunction
    perturbation: Callable[[NDArray[np.float64], int], NDArray[np.float64]]

    def __call__(self, x: NDArray[np.float64], t: int) -> NDArray[np.float64]:
        return self.base(x, t) + self.perturbation(x, t)


def exact_score(target: Any, schedule: Schedule) -> ExactScore:
    """Convenience constructor with validation of the arguments' types."""
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    if not callable(getattr(target, "score", None)):
        raise InvalidParameterError("`target` must have a score(x, *, alpha_bar, "
                                    "one_minus_alpha_bar) method")
    return ExactScore(target=target, schedule=schedule)
