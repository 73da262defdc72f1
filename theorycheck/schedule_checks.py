"""The schedule properties the convergence proofs rely on (docs/theory.md §2), checked, not assumed.

For a schedule and constants ``(c1, c2, C)``:

1. ``max_t (1-α_t) · T / (c1 log T) ≤ 1``  (step sizes; docs/theory.md §2.2);
2. ``max_{t≥2} (1-α_t)/(1-ᾱ_t) ÷ (c1 log T / T) ≤ C`` with ``C = 8``
   (Li & Yan, arXiv:2409.18959, Lemma 14); the earlier form with ``1-ᾱ_{t-1}`` and ``C = 4`` is
   reported too;
3. ``ᾱ_T ≤ T^{-c2}``: the start-up mismatch ``Y_T ~ N(0, I)`` against ``p_{X_T}`` is
   negligible.  The default ``c2 = 2`` makes the DDIM floor ``sqrt(d)·ᾱ_T`` (docs/theory.md §4)
   smaller than ``1/T`` for every ``d ≤ T²``.

For the two-phase schedule ``ᾱ_T ≈ e^{-1} T^{-(c1-c0)}``, so property 3 needs
``c1 ≳ c0 + c2``: ``(c0, c1) = (2, 4)`` passes, ``(4, 4)`` fails badly (ᾱ_T ≈ 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorycheck._validation import check_real
from theorycheck.errors import InvalidParameterError
from theorycheck.schedules import Schedule

__all__ = ["PropertyCheck", "ScheduleProperties", "schedule_properties"]


@dataclass(frozen=True, kw_only=True)
class PropertyCheck:
    """One property: the measured ``value`` against ``bound`` at the worst step."""

    name: str
    statement: str
    value: float
    bound: float
    worst_step: int
    passed: bool
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "statement": self.statement, "value": self.value,
                "bound": self.bound, "worst_step": self.worst_step, "passed": self.passed,
                "source": self.source}


@dataclass(frozen=True, kw_only=True)
class ScheduleProperties:
    """All property checks of one schedule; ``passed`` is true when every check passes."""

    schedule: str
    c1: float
    c1_source: str
    c2: float
    lemma_constant: float
    checks: tuple[PropertyCheck, ...]

    @property
    def passed(self) -> bool:
        """True when every property holds."""
        return all(check.passed for check in self.checks)

    def failures(self) -> tuple[PropertyCheck, ...]:
        """The checks that failed."""
        return tuple(check for check in self.checks if not check.passed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"schedule": self.schedule, "c1": self.c1, "c1_source": self.c1_source,
                "c2": self.c2, "lemma_constant": self.lemma_constant, "passed": self.passed,
                "checks": [check.to_dict() for check in self.checks]}


def schedule_properties(schedule: Schedule, *, c1: float | None = None, c2: float = 2.0,
                        lemma_constant: float = 8.0) -> ScheduleProperties:
    """Evaluate the properties of docs/theory.md §2 for ``schedule``.

    Parameters
    ----------
    schedule : Schedule
        The schedule to check.
    c1 : float, optional
        Step-size constant.  Defaults to the schedule's own ``c1`` for the two-phase family and,
        for other families, to the smallest ``c1`` for which property 1 holds
        (``max_t β_t T / log T``), which is then reported as such.
    c2 : float
        Required decay ``ᾱ_T ≤ T^{-c2}``; default 2 (see module notes).
    lemma_constant : float
        ``C`` of property 2 (8 in arXiv:2409.18959, Lemma 14).

    Returns
    -------
    ScheduleProperties
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    c2 = check_real("c2", c2, lower=0.0, lower_open=True)
    lemma_constant = check_real("lemma_constant", lemma_constant, lower=0.0, lower_open=True)
    num_steps = schedule.num_steps
    log_t = math.log(num_steps)
    beta = schedule.one_minus_alpha
    if c1 is not None:
        c1 = check_real("c1", c1, lower=0.0, lower_open=True)
        c1_source = "given"
    elif schedule.kind == "two_phase":
        c1 = float(schedule.params["c1"])
        c1_source = "schedule"
    else:
        c1 = float(np.max(beta)) * num_steps / log_t
        c1_source = "effective (smallest c1 with max β_t ≤ c1 log T / T)"
    step = c1 * log_t / num_steps

    ratio1 = beta / step
    worst1 = int(np.argmax(ratio1))
    check1 = PropertyCheck(
        name="step_size", statement="max_t (1-α_t)·T/(c1 log T) ≤ 1",
        value=float(ratio1[worst1]), bound=1.0 * (1 + 1e-12), worst_step=worst1 + 1,
        passed=bool(ratio1[worst1] <= 1.0 * (1 + 1e-12)), source="docs/theory.md §2.2")

    u = beta[1:] / schedule.one_minus_alpha_bar[1:] / step
    worst2 = int(np.argmax(u))
    check2 = PropertyCheck(
        name="relative_step", statement=f"max_t≥2 (1-α_t)/(1-ᾱ_t) ÷ (c1 log T/T) ≤ {lemma_constant:g}",
        value=float(u[worst2]), bound=lemma_constant, worst_step=worst2 + 2,
        passed=bool(u[worst2] <= lemma_constant), source="Li & Yan arXiv:2409.18959, Lemma 14")

    u_prev = beta[1:] / schedule.one_minus_alpha_bar[:-1] / step
    worst3 = int(np.argmax(u_prev))
    check3 = PropertyCheck(
        name="relative_step_prev",
        statement="max_t≥2 (1-α_t)/(1-ᾱ_{t-1}) ÷ (c1 log T/T) ≤ 4",
        value=float(u_prev[worst3]), bound=4.0, worst_step=worst3 + 2,
        passed=bool(u_prev[worst3] <= 4.0), source="earlier papers (e.g. arXiv:2405.14861)")

    alpha_bar_final = float(schedule.alpha_bar[-1])
    bound4 = num_steps ** (-c2)
    check4 = PropertyCheck(
        name="terminal_alpha_bar", statement=f"ᾱ_T ≤ T^(-{c2:g})", value=alpha_bar_final,
        bound=bound4, worst_step=num_steps, passed=alpha_bar_final <= bound4,
        source="docs/theory.md §2.2 (ᾱ_T ≤ T^{-c2})")
    return ScheduleProperties(schedule=schedule.describe(), c1=c1, c1_source=c1_source, c2=c2,
                              lemma_constant=lemma_constant,
                              checks=(check1, check2, check3, check4))
