"""Precision audit: how many digits of ``1-ᾱ_t`` and ``α_t-ᾱ_t`` survive the naive computation.

Common libraries store ``β_t`` in float32 (or float64), form ``α = 1 - β`` and
``ᾱ = cumprod(α)`` in that dtype, and then ``1 - ᾱ`` and ``α - ᾱ`` by subtraction.  Near
``t = 1`` those quantities are ``≈ T^{-c0}`` and the subtraction cancels ``log10(1/(1-ᾱ_t))``
digits.  This module measures that loss against the schedule's high-precision values.

Correct digits are ``-log10(|naive - exact| / |exact|)``, clipped to ``[0, 15.95]`` (the reference
is the float64 rounding of the mpmath value, accurate to half an ulp, so more than about 15.95
digits cannot be certified).  Where the exact value is 0 (``α_1-ᾱ_1``) a naive 0 counts as fully
correct and anything else as 0 digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck.errors import InvalidParameterError
from theorycheck.schedules import Schedule

__all__ = ["QuantityAudit", "DtypeAudit", "PrecisionAudit", "precision_audit"]

_MAX_DIGITS = 15.95


@dataclass(frozen=True, kw_only=True)
class QuantityAudit:
    """Correct digits of one naively computed quantity (minimum over t, its t, and at t = 1, 2)."""

    quantity: str
    min_digits: float
    worst_step: int
    digits_at_step_1: float
    digits_at_step_2: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"quantity": self.quantity, "min_digits": self.min_digits,
                "worst_step": self.worst_step, "digits_at_step_1": self.digits_at_step_1,
                "digits_at_step_2": self.digits_at_step_2}


@dataclass(frozen=True, kw_only=True)
class DtypeAudit:
    """Audit of the naive computation in one dtype.

    ``lost_betas`` counts steps where ``1 - β_t`` rounds to exactly 1 (the step is lost: the
    library's ``α_t = 1``); ``first_lost_step`` is the first such t, or 0 if none.
    """

    dtype: str
    quantities: tuple[QuantityAudit, ...]
    lost_betas: int
    first_lost_step: int

    def summary(self) -> str:
        """One line, e.g. ``float32: 0.0 correct digits of 1-ᾱ_1; β_2 rounds to 0 (…)``."""
        parts = [f"{self.dtype}:"]
        for q in self.quantities:
            parts.append(f"min {q.min_digits:.1f} correct digits of {q.quantity} (t={q.worst_step}),"
                         f" {q.digits_at_step_1:.1f} at t=1;")
        if self.lost_betas:
            parts.append(f"β_{self.first_lost_step} rounds to 0 in 1-β "
                         f"({self.lost_betas} steps lost)")
        else:
            parts.append("no β_t lost")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"dtype": self.dtype, "quantities": [q.to_dict() for q in self.quantities],
                "lost_betas": self.lost_betas, "first_lost_step": self.first_lost_step,
                "summary": self.summary()}


@dataclass(frozen=True, kw_only=True)
class PrecisionAudit:
    """Per-dtype audits of one schedule."""

    schedule: str
    audits: tuple[DtypeAudit, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"schedule": self.schedule, "audits": [a.to_dict() for a in self.audits]}


def _digits(naive: NDArray[np.floating[Any]], exact: NDArray[np.float64]) -> NDArray[np.float64]:
    naive64 = naive.astype(np.float64)
    err = np.abs(naive64 - exact)
    out = np.full(exact.shape, _MAX_DIGITS)
    zero = exact == 0.0
    out[zero & (naive64 != 0.0)] = 0.0
    nz = ~zero
    with np.errstate(divide="ignore"):
        rel = np.where(err[nz] > 0, err[nz] / np.abs(exact[nz]), 0.0)
        digits = np.where(rel > 0, -np.log10(np.where(rel > 0, rel, 1.0)), _MAX_DIGITS)
    out[nz] = np.clip(digits, 0.0, _MAX_DIGITS)
    return out


def _audit_dtype(schedule: Schedule, dtype: type[np.floating[Any]]) -> DtypeAudit:
    beta = schedule.one_minus_alpha.astype(dtype)
    one = dtype(1)
    alpha = one - beta
    alpha_bar = np.cumprod(alpha, dtype=dtype)
    naive = {
        "1-ᾱ_t": (one - alpha_bar, schedule.one_minus_alpha_bar),
        "α_t-ᾱ_t": (alpha - alpha_bar, schedule.alpha_minus_alpha_bar),
        "ᾱ_t": (alpha_bar, schedule.alpha_bar),
    }
    quantities = []
    for label, (value, exact) in naive.items():
        digits = _digits(value, exact)
        worst = int(np.argmin(digits))
        quantities.append(QuantityAudit(
            quantity=label, min_digits=float(digits[worst]), worst_step=worst + 1,
            digits_at_step_1=float(digits[0]), digits_at_step_2=float(digits[1])))
    lost = np.flatnonzero(alpha == one)
    return DtypeAudit(dtype=np.dtype(dtype).name, quantities=tuple(quantities),
                      lost_betas=int(lost.size),
                      first_lost_step=int(lost[0]) + 1 if lost.size else 0)


def precision_audit(schedule: Schedule, *, dtypes: tuple[str, ...] = ("float64", "float32")
                    ) -> PrecisionAudit:
    """Correct digits of the naive ``1 - cumprod(1-β)`` computation in each dtype.

    Parameters
    ----------
    schedule : Schedule
        Reference schedule (its high-precision values are the truth).
    dtypes : tuple of {"float64", "float32", "float16"}
        Dtypes to audit.

    Returns
    -------
    PrecisionAudit
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    known: dict[str, type[np.floating[Any]]] = {
        "float64": np.float64, "float32": np.float32, "float16": np.float16}
    audits = []
    for name in dtypes:
        if name not in known:
            raise InvalidParameterError(
                f"`dtypes` entries must be one of {sorted(known)} (got {name!r})")
        with np.errstate(over="ignore", under="ignore"):
            audits.append(_audit_dtype(schedule, known[name]))
    return PrecisionAudit(schedule=schedule.describe(), audits=tuple(audits))
