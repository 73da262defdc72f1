"""Exception hierarchy of theorycheck.

Every error raised for bad input is a :class:`ValueError` subclass whose message names the
argument and the rule it broke, e.g. ``"`weights` must sum to 1 (got 0.97)"``.  The CLI turns
any :class:`TheorycheckError` into one line on stderr and exit status 2.
"""

from __future__ import annotations

__all__ = [
    "TheorycheckError",
    "InvalidParameterError",
    "SpecError",
    "NonFiniteError",
    "SamplerProtocolError",
    "ConvergenceError",
]


class TheorycheckError(Exception):
    """Base class of every error theorycheck raises on purpose."""


class InvalidParameterError(TheorycheckError, ValueError):
    """An argument broke a documented rule; the message names the argument and the rule."""


class SpecError(InvalidParameterError):
    """A JSON spec, results or baseline file is unreadable or does not follow its schema."""


class NonFiniteError(InvalidParameterError):
    """A computation produced NaN or infinity; the message names where (argument or step)."""


class SamplerProtocolError(InvalidParameterError):
    """A user sampler does not follow the sampler protocol (missing attribute, wrong shape...)."""


class ConvergenceError(TheorycheckError, ArithmeticError):
    """A numerical method did not reach its stated tolerance (not bad input: the message names
    the method, the tolerance and what the integrator reported)."""
