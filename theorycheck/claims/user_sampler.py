"""A user's sampler in the rate claims (``theorycheck verify --sampler FILE.py:ATTR``).

``ATTR(alpha_bar)`` receives the float64 array ``ᾱ_t, t = 1..T`` of the schedule a claim runs and
returns an object with ``alpha_bar`` and ``step(y, t, score, noise)`` (the audit's protocol:
arrays of shape (n, d), ``t = T..2``, returns ``y_{t-1}``).  For every T of a claim's grid the
sampler is built and its step is probed as a black box
(:func:`theorycheck.audit.probe.probe_coefficients`): the per-step coefficients of
``y``, ``score`` and ``noise`` are *measured* from its own outputs, and the probe's residuals must
show a row-wise, isotropic affine step consistent with ``alpha_bar`` (the form the exact k = 1
grid quadrature propagates).  The measured coefficients then stand in for the built-in adaptive
designs in the claim variant; the negative and boundary controls stay built in.

Every failure is a :class:`~theorycheck.errors.SamplerProtocolError` naming the target and the
T (and t) where it failed; the CLI prints it as one line and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorycheck.designs import CoefficientDesign
from theorycheck.errors import NonFiniteError, SamplerProtocolError, TheorycheckError
from theorycheck.schedules import Schedule

__all__ = ["UserSampler", "USER_DESIGN"]

#: Design label of the user's sampler in point parameters and curves.
USER_DESIGN = "user"


class _Recorder:
    """Wraps a user sampler: remembers the last ``t`` and turns any exception of ``step`` into
    a protocol error that names it."""

    def __init__(self, sampler: Any, where: str) -> None:
        self._sampler = sampler
        self._where = where
        self.alpha_bar = sampler.alpha_bar

    def step(self, y: Any, t: int, score: Any, noise: Any) -> Any:
        try:
            return self._sampler.step(y, t, score, noise)
        except Exception as exc:  # user code: any failure is reported as bad input
            raise SamplerProtocolError(f"{self._where}: `step` raised at t={t} "
                                       f"({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True, kw_only=True)
class UserSampler:
    """A user's sampler factory, probed into per-step coefficients for each schedule.

    Attributes
    ----------
    target : str
        ``FILE.py:ATTR`` or ``module:attr`` as given (names the sampler in JSON and report).
    factory : callable
        ``factory(alpha_bar) -> sampler``.
    seed : int
        Seed of the probe inputs (the probe's result does not depend on it for an affine step).
    """

    target: str
    factory: Any = field(compare=False, repr=False)
    seed: int = 0

    @classmethod
    def load(cls, target: str, *, seed: int = 0) -> UserSampler:
        """Resolve ``target`` (as the audit does) and check that it is callable."""
        from theorycheck.audit.loader import resolve_target

        factory = resolve_target(target)
        if not callable(factory):
            raise SamplerProtocolError(f"`--sampler` {target!r}: the attribute must be callable "
                                       f"as ATTR(alpha_bar) (got {type(factory).__name__})")
        return cls(target=target, factory=factory, seed=seed)

    def design(self, schedule: Schedule) -> CoefficientDesign:
        """The sampler's measured coefficients on ``schedule`` as a design.

        Raises
        ------
        SamplerProtocolError
            The factory fails or returns no sampler, the step fails or returns a wrong shape,
            NaN, or a step that is not a row-wise isotropic affine map consistent with
            ``alpha_bar`` — each naming the target, T and t.
        """
        from theorycheck.audit.checks import design_from_probe
        from theorycheck.audit.probe import probe_coefficients
        from theorycheck.samplers import check_sampler

        num_steps = schedule.num_steps
        where = f"`--sampler` {self.target!r} at T={num_steps}"
        alpha_bar = np.array(schedule.alpha_bar, dtype=np.float64)
        try:
            sampler = self.factory(alpha_bar.copy())
        except Exception as exc:  # user code: any failure is reported as bad input
            raise SamplerProtocolError(f"{where}: ATTR(alpha_bar) raised "
                                       f"({type(exc).__name__}: {exc})") from None
        try:
            if check_sampler(sampler) != num_steps:
                raise SamplerProtocolError(f"`sampler.alpha_bar` must have T={num_steps} "
                                           "entries")
            if not np.allclose(np.asarray(sampler.alpha_bar, dtype=np.float64), alpha_bar,
                               rtol=1e-12, atol=0.0):
                raise SamplerProtocolError("`sampler.alpha_bar` must equal the alpha_bar it "
                                           "was built with")
            probe = probe_coefficients(_Recorder(sampler, where),
                                       rng=np.random.default_rng(self.seed))
        except SamplerProtocolError as exc:
            text = str(exc)
            raise SamplerProtocolError(text if text.startswith(where) else
                                       f"{where}: {text}") from None
        except NonFiniteError as exc:
            raise SamplerProtocolError(f"{where}: {exc}") from None
        except TheorycheckError as exc:
            raise SamplerProtocolError(f"{where}: {exc}") from None
        for ok, rule, keys in (
                (probe.is_affine, "affine in (y, score, noise) with no offset",
                 ("offset", "nonlinearity", "non_additivity")),
                (probe.is_isotropic, "isotropic (scalar coefficients)", ("anisotropy",)),
                (probe.is_rowwise, "row-wise (rows independent)", ("row_coupling",)),
                (probe.is_consistent, "consistent with alpha_bar (y-coefficient "
                                      "sqrt(ᾱ_{t-1}/ᾱ_t))", ("alpha_mismatch",))):
            if not ok:
                worst = max(keys, key=lambda k: float(getattr(probe, k)))
                raise SamplerProtocolError(
                    f"{where}: the step must be {rule} for the exact k = 1 quadrature (worst at "
                    f"t={probe.worst_steps[worst]}: {worst} {float(getattr(probe, worst)):.2g})")
        return design_from_probe(probe, schedule)
