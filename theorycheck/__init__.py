"""theorycheck: executable, falsifiable checks of diffusion-model convergence theory."""

from __future__ import annotations

from theorycheck.errors import (
    InvalidParameterError,
    NonFiniteError,
    SamplerProtocolError,
    SpecError,
    TheorycheckError,
)
from theorycheck.results import ErrorKind, Estimate, Verdict

__version__ = "0.1.0"

__all__ = [
    "ErrorKind",
    "Estimate",
    "InvalidParameterError",
    "NonFiniteError",
    "SamplerProtocolError",
    "SpecError",
    "TheorycheckError",
    "Verdict",
    "__version__",
]
