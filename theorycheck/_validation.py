"""Small argument validators shared by the public functions (private module).

Each validator raises :class:`~theorycheck.errors.InvalidParameterError` with a message of the
form ``"`name` must <rule> (got <value>)"`` so that users see which argument broke which rule.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck.errors import InvalidParameterError, NonFiniteError

__all__ = [
    "check_int",
    "check_real",
    "check_finite_array",
    "check_choice",
    "check_rng",
]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            pass_value = int(value)
        else:
            raise InvalidParameterError(f"`{name}` must be an integer (got {_short(value)})")
    else:
        pass_value = int(value)
    if minimum is not None and pass_value < minimum:
        raise InvalidParameterError(f"`{name}` must be >= {minimum} (got {pass_value})")
    if maximum is not None and pass_value > maximum:
        raise InvalidParameterError(f"`{name}` must be <= {maximum} (got {pass_value})")
    return pass_value


def check_real(name: str, value: Any, *, lower: float | None = None,
               upper: float | None = None, lower_open: bool = False,
               upper_open: bool = False) -> float:
    """Return ``value`` as a finite ``float`` inside the given (open or closed) bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"`{name}` must be a real number (got {_short(value)})")
    out = float(value)
    if not math.isfinite(out):
        raise NonFiniteError(f"`{name}` must be finite (got {out})")
    if lower is not None and (out <= lower if lower_open else out < lower):
        rel = ">" if lower_open else ">="
        raise InvalidParameterError(f"`{name}` must be {rel} {lower} (got {out})")
    if upper is not None and (out >= upper if upper_open else out > upper):
        rel = "<" if upper_open else "<="
        raise InvalidParameterError(f"`{name}` must be {rel} {upper} (got {out})")
    return out


def check_finite_array(name: str, value: Any, *, ndim: int | None = None,
                       shape: tuple[int | None, ...] | None = None) -> NDArray[np.float64]:
    """Return ``value`` as a float64 array, checking finiteness, ``ndim`` and ``shape``.

    ``None`` entries of ``shape`` match any length.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"`{name}` must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise InvalidParameterError(
            f"`{name}` must be {ndim}-dimensional (got shape {arr.shape})")
    if shape is not None and (arr.ndim != len(shape) or any(
            want is not None and got != want
            for got, want in zip(arr.shape, shape, strict=True))):
        want_text = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise InvalidParameterError(f"`{name}` must have shape {want_text} (got {arr.shape})")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise NonFiniteError(f"`{name}` must be finite (non-finite entry at flat index {bad})")
    return arr


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(
            f"`{name}` must be one of {', '.join(map(repr, choices))} (got {_short(value)})")
    return str(value)


def check_rng(name: str, value: Any) -> np.random.Generator:
    """Return ``value`` if it is a ``numpy.random.Generator`` (no seeds, no legacy RandomState)."""
    if not isinstance(value, np.random.Generator):
        raise InvalidParameterError(
            f"`{name}` must be a numpy.random.Generator (got {type(value).__name__})")
    return value
