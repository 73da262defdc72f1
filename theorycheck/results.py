"""Frozen result records shared by every numerical method.

Every number theorycheck reports is an :class:`Estimate`: a value, its error and the method that
produced it.  ``stderr`` is a Monte Carlo standard error, a quadrature/truncation tolerance, or
``0.0`` for values that are exact up to floating-point rounding (``method`` then says "exact").
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["Estimate", "Verdict", "ErrorKind"]


class ErrorKind(str, enum.Enum):
    """What the ``stderr`` of an :class:`Estimate` means."""

    EXACT = "exact"            #: closed form; error is floating-point rounding only
    TOLERANCE = "tolerance"    #: deterministic bound on quadrature / truncation error
    STDERR = "stderr"          #: Monte Carlo standard error (one sigma)
    #: the value is an upper bound on the quantity (e.g. a path KL); stderr is the bound's own
    #: estimation error (Monte Carlo standard error + quadrature tolerance)
    UPPER_BOUND = "upper_bound"


class Verdict(str, enum.Enum):
    """Outcome of a falsifiable check."""

    PASS = "PASS"
    FAIL = "FAIL"
    INCONCLUSIVE = "INCONCLUSIVE"


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A measured number with its error and method.

    Parameters
    ----------
    value : float
        The estimate.
    stderr : float
        Standard error (Monte Carlo), tolerance (quadrature) or 0 (exact); never negative.
    method : str
        Human-readable name of the method, e.g. ``"grid quadrature (k=1)"``.
    error_kind : ErrorKind
        What ``stderr`` means.
    """

    value: float
    stderr: float
    method: str
    error_kind: ErrorKind = ErrorKind.EXACT

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            from theorycheck.errors import NonFiniteError

            raise NonFiniteError(f"`value` of an Estimate by {self.method!r} is not finite")
        if not (math.isfinite(self.stderr) and self.stderr >= 0):
            from theorycheck.errors import InvalidParameterError

            raise InvalidParameterError(
                f"`stderr` must be finite and >= 0 (got {self.stderr}) for {self.method!r}")

    def __str__(self) -> str:
        """``0.0279 ± 1.2e-06 (grid quadrature)``: 4 significant digits, error to 2."""
        return f"{self.value:.4g} ± {self.stderr:.2g} ({self.method})"

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready dict with keys ``value``, ``stderr``, ``method``, ``error_kind``."""
        return {"value": self.value, "stderr": self.stderr, "method": self.method,
                "error_kind": self.error_kind.value}
