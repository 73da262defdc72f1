"""A step-protocol sampler with memory as a whole chain (``reset()``, then ``step`` in order).

A sampler following :class:`theorycheck.samplers.Sampler` that keeps state between calls (a
multistep solver written against ``step(y, t, score, noise)``) cannot be probed one step at a
time: its step depends on the history.  :class:`StepSamplerChain` runs it as a whole chain —
``reset()`` if present, ``Y_T = z_T``, then ``step(y, t, s_t(y), ξ_t)`` for t = T..2 with the exact
score ``s_t(y) = -(y - sqrt(ᾱ_t) x̂_0(y))/(1-ᾱ_t)`` and every ``ξ_t`` from the chain's noise
source — so :func:`~theorycheck.audit.wholechain.impulse_response` gets its exact output variance
off the data and :func:`~theorycheck.audit.causes.cause_breakdown` its causes.  A user sampler
has one arithmetic and one table: the three modes coincide, so the breakdown is the coefficient
design (from the exact start) and the start-up floor; table precision and arithmetic are 0 by
construction (``exact_tables`` is False, which the breakdown states).

The chain stops at t = 1 (``Y_1``, variance ``1 - ᾱ_1`` off the data): the comparison is the
target smoothed to ᾱ_1, as for the per-step audit.  ``1 - ᾱ_t`` is formed without cancellation
(:func:`theorycheck.schedules.from_alpha_bar`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck.audit.scheduler_loop import MODES, EndPoint
from theorycheck.audit.wholechain import ChainFailure, Denoiser
from theorycheck.errors import InvalidParameterError
from theorycheck.samplers import check_sampler
from theorycheck.schedules import from_alpha_bar

__all__ = ["StepSamplerChain", "step_sampler_chain"]


@dataclass(frozen=True, kw_only=True, eq=False)
class StepSamplerChain:
    """See module docstring.  Build with :func:`step_sampler_chain`."""

    name: str
    sampler: Any = field(repr=False)
    alpha_bar: NDArray[np.float64] = field(repr=False)
    one_minus_alpha_bar: NDArray[np.float64] = field(repr=False)
    dtype: str = "float64"
    mode: str = "shipped"
    exact_tables: bool = False

    @property
    def steps(self) -> int:
        """T."""
        return len(self.alpha_bar)

    def with_mode(self, mode: str) -> StepSamplerChain:
        """The same chain (a user sampler has one table and one arithmetic)."""
        if mode not in MODES:
            raise InvalidParameterError(f"`mode` must be one of {MODES} (got {mode!r})")
        return self

    def reset(self) -> None:
        """Forward ``reset()`` to the sampler when it has one."""
        reset = getattr(self.sampler, "reset", None)
        if callable(reset):
            reset()

    def end_point(self) -> EndPoint:
        """Start N(0, 1) against ``1 - ᾱ_T``; stop at t = 1 (variance ``1 - ᾱ_1``)."""
        q = self.one_minus_alpha_bar
        return EndPoint(units="vp", start_variance=1.0, exact_start_variance=float(q[-1]),
                        end_variance=float(q[0]), end_alpha_bar=float(self.alpha_bar[0]),
                        first_timestep=float(self.steps), first_alpha_bar=float(self.alpha_bar[-1]),
                        how="step protocol: Y_T ~ N(0, I), steps t = T..2, output Y_1")

    def __call__(self, z_T: NDArray[np.float64], denoiser: Denoiser, noise: Any
                 ) -> NDArray[np.float64]:
        """``reset()``, then ``step`` for t = T..2 with the exact score (shapes (n, c))."""
        self.reset()
        y = np.array(z_T, dtype=np.float64)
        for t in range(self.steps, 1, -1):
            ab, q = float(self.alpha_bar[t - 1]), float(self.one_minus_alpha_bar[t - 1])
            score = -(y - math.sqrt(ab) * denoiser(y, ab)) / q
            xi = np.asarray(noise.standard_normal(y.shape), dtype=np.float64)
            try:
                out = np.asarray(self.sampler.step(y.copy(), t, score, xi), dtype=np.float64)
            except Exception as exc:  # user code
                raise ChainFailure(f"{self.name}: step failed at t={t} ({type(exc).__name__}: "
                                   f"{exc})", kind="exception", step=self.steps - t + 1
                                   ) from None
            if out.shape != y.shape or not np.all(np.isfinite(out)):
                raise ChainFailure(f"{self.name}: step returned a wrong shape or NaN at t={t}",
                                   kind="nan", step=self.steps - t + 1)
            y = out
        return y


def step_sampler_chain(sampler: Any, name: str = "sampler") -> StepSamplerChain:
    """Wrap a step-protocol sampler (checked with :func:`theorycheck.samplers.check_sampler`)."""
    check_sampler(sampler)
    ab = np.asarray(sampler.alpha_bar, dtype=np.float64).copy()
    q = np.asarray(from_alpha_bar(ab).one_minus_alpha_bar, dtype=np.float64).copy()
    for arr in (ab, q):
        arr.setflags(write=False)
    return StepSamplerChain(name=name, sampler=sampler, alpha_bar=ab, one_minus_alpha_bar=q)
