"""theorycheck: executable, falsifiable checks of diffusion-model convergence theory.

``import theorycheck as tc`` is cheap (numpy is not even imported); names are loaded on first
use::

    import theorycheck as tc
    schedule = tc.two_phase(400)
    design = tc.make_design("ddpm_posterior", schedule)
    result = tc.measure({"target": {...}, "schedule": {...}, "sampler": {...}})
    print(result.values["tv"])          # 0.0079 ± 1.8e-06 (grid quadrature ...)

Submodules (``tc.schedules``, ``tc.designs``, ``tc.targets`` ...) load the same way.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from theorycheck.errors import (
    InvalidParameterError,
    NonFiniteError,
    SamplerProtocolError,
    SpecError,
    TheorycheckError,
)
from theorycheck.results import ErrorKind, Estimate, Verdict

# The one place the version is written (pyproject.toml reads it: dynamic version).
__version__ = "0.1.0"

#: name -> module it lives in; loaded by ``__getattr__`` on first access.
_LAZY = {
    "two_phase": "theorycheck.schedules", "linear": "theorycheck.schedules",
    "cosine": "theorycheck.schedules", "from_betas": "theorycheck.schedules",
    "from_alphas": "theorycheck.schedules", "from_alpha_bar": "theorycheck.schedules",
    "Schedule": "theorycheck.schedules",
    "make_design": "theorycheck.designs", "custom_design": "theorycheck.designs",
    "CoefficientDesign": "theorycheck.designs",
    "SubspaceGaussianMixture": "theorycheck.targets", "ProductMixture": "theorycheck.targets",
    "measure": "theorycheck.api",
    "run_claims": "theorycheck.claims.runner",
    "open_executor": "theorycheck.executors",
}

_SUBMODULES = frozenset({
    "api", "audit", "claims", "compare", "designs", "divergences", "errors", "estimation",
    "executors", "experiments", "fitting", "journal", "precision", "report", "results",
    "samplers", "schedule_checks", "schedules", "score_errors", "scores", "spec", "split",
    "symbolic", "targets", "testing",
})

__all__ = [
    "ErrorKind",
    "Estimate",
    "Verdict",
    "InvalidParameterError",
    "NonFiniteError",
    "SamplerProtocolError",
    "SpecError",
    "TheorycheckError",
    "__version__",
    # loaded on first use
    "two_phase", "linear", "cosine", "from_betas", "from_alphas", "from_alpha_bar", "Schedule",
    "make_design", "custom_design", "CoefficientDesign",
    "SubspaceGaussianMixture", "ProductMixture",
    "measure", "audit", "run_claims", "open_executor",
]

if TYPE_CHECKING:
    from theorycheck import audit
    from theorycheck.api import measure
    from theorycheck.claims.runner import run_claims
    from theorycheck.designs import CoefficientDesign, custom_design, make_design
    from theorycheck.executors import open_executor
    from theorycheck.schedules import (
        Schedule,
        cosine,
        from_alpha_bar,
        from_alphas,
        from_betas,
        linear,
        two_phase,
    )
    from theorycheck.targets import ProductMixture, SubspaceGaussianMixture


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"theorycheck.{name}")
    else:
        raise AttributeError(f"module 'theorycheck' has no attribute {name!r}")
    globals()[name] = value  # cache: __getattr__ runs once per name
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
