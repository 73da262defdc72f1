"""Notebook-friendly entry points: ``tc.measure`` and ``tc.audit``.

Thin wrappers over the library's public functions that accept what a notebook user has at hand
(a spec dict or a spec file, a sampler object or a factory) and default the seed to 0 so the
same call gives the same numbers.  Everything else in ``import theorycheck as tc`` is the
library's own objects, imported lazily (see ``theorycheck/__init__.py``).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorycheck.errors import InvalidParameterError, SamplerProtocolError

if TYPE_CHECKING:
    import numpy as np

    from theorycheck.audit.verdict import AuditResult
    from theorycheck.designs import CoefficientDesign
    from theorycheck.experiments import Measurement

__all__ = ["measure", "audit", "resolve_sampler", "AuditPackage"]


def measure(spec_or_target: Any, design: CoefficientDesign | None = None, *,
            rng: np.random.Generator | None = None, metrics: Sequence[str] | None = None,
            num_samples: int | None = None) -> Measurement:
    """TV and KL between ``p_{X_1}`` and the sampler's output, from a spec or from objects.

    ``tc.measure(spec)`` is ``theorycheck measure SPEC.json``; ``tc.measure(target, design,
    rng=...)`` is :func:`theorycheck.experiments.measure`.

    Parameters
    ----------
    spec_or_target : dict, str, Path, SubspaceGaussianMixture or ProductMixture
        A spec mapping (keys ``target``, ``schedule``, ``sampler``, optional ``metrics``,
        ``seed``, ``num_samples``, as in ``examples/measure-ddpm.json``), a path to a spec
        file, or a target object.
    design : CoefficientDesign, optional
        Required with a target object; not allowed with a spec (the spec names its sampler).
    rng : numpy.random.Generator, optional
        With a spec: overrides ``numpy.random.default_rng(spec["seed"])``.  With objects:
        default ``numpy.random.default_rng(0)``.
    metrics : sequence of {"tv", "kl"}, optional
        Override the spec's (default both).
    num_samples : int, optional
        Monte Carlo size where Monte Carlo is used (default: the spec's, else 200 000).

    Returns
    -------
    Measurement
        ``.values["tv"]`` and ``.values["kl"]`` are :class:`~theorycheck.results.Estimate`.

    Raises
    ------
    SpecError, InvalidParameterError
        A bad spec (the key is named) or a missing / superfluous ``design``.
    """
    import numpy as np

    from theorycheck.experiments import measure as _measure
    from theorycheck.spec import load_spec, parse_spec

    if isinstance(spec_or_target, str | Path | Mapping):
        if design is not None:
            raise InvalidParameterError("`design` must be omitted with a spec (the spec's "
                                        "`sampler` section names the design)")
        spec = (parse_spec(dict(spec_or_target)) if isinstance(spec_or_target, Mapping)
                else load_spec(spec_or_target))
        return _measure(spec.target, spec.design,
                        rng=np.random.default_rng(spec.seed) if rng is None else rng,
                        metrics=spec.metrics if metrics is None else metrics,
                        num_samples=spec.num_samples if num_samples is None else num_samples)
    if design is None:
        raise InvalidParameterError("`design` is required with a target object (e.g. "
                                    "tc.make_design('ddpm_posterior', tc.two_phase(400)))")
    return _measure(spec_or_target, design,
                    rng=np.random.default_rng(0) if rng is None else rng,
                    metrics=("tv", "kl") if metrics is None else metrics,
                    num_samples=200_000 if num_samples is None else num_samples)


def resolve_sampler(sampler_or_factory: Any, *, argument: str = "sampler") -> Any:
    """Return a sampler: the object itself, or what a zero-argument factory returns.

    Raises
    ------
    SamplerProtocolError
        One line naming ``argument``: neither a sampler (``alpha_bar`` and ``step``) nor a
        factory of one, or a factory that needs arguments or raises.
    """
    import inspect

    obj = sampler_or_factory
    if not (hasattr(obj, "alpha_bar") or hasattr(obj, "step")) and callable(obj):
        try:
            signature: inspect.Signature | None = inspect.signature(obj)
        except (TypeError, ValueError):
            signature = None
        if signature is not None and any(
                p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL,
                                                                        p.VAR_KEYWORD)
                for p in signature.parameters.values()):
            raise SamplerProtocolError(
                f"`{argument}`: a factory must take no arguments (signature {signature})")
        try:
            obj = obj()
        except Exception as exc:
            raise SamplerProtocolError(
                f"`{argument}`: the factory raised {exc.__class__.__name__}: {exc}") from None
    if not (hasattr(obj, "alpha_bar") and hasattr(obj, "step")):
        raise SamplerProtocolError(
            f"`{argument}` must be a sampler (attributes `alpha_bar` and `step`) or a "
            f"zero-argument factory returning one (got {type(obj).__name__})")
    return obj


def audit(sampler_or_factory: Any, *, rng: np.random.Generator | None = None,
          name: str | None = None, **options: Any) -> AuditResult:
    """Audit a sampler's adaptivity (``theorycheck audit`` for an object).

    Parameters
    ----------
    sampler_or_factory : object or callable
        A sampler (``alpha_bar`` of shape (T,), ``step(y, t, score, noise)``) or a
        zero-argument factory returning one.
    rng : numpy.random.Generator, optional
        Default ``numpy.random.default_rng(0)``.
    name : str, optional
        Label for the report.
    **options
        Passed to :func:`theorycheck.audit.audit_sampler` (``tv_tolerance``,
        ``max_ambient_dim``, ``split_checks``...).

    Returns
    -------
    AuditResult
        ``.verdict`` is ``adaptive``, ``not_adaptive`` or ``inconclusive``; ``.reasons`` say why.
    """
    import numpy as np

    from theorycheck.audit import audit_sampler

    sampler = resolve_sampler(sampler_or_factory)
    return audit_sampler(sampler, rng=np.random.default_rng(0) if rng is None else rng,
                         name=name, **options)


class AuditPackage(types.ModuleType):
    """Module type of :mod:`theorycheck.audit`: calling the package is :func:`audit`.

    ``theorycheck.audit`` is both a subpackage and, for notebooks, a function; importing the
    subpackage rebinds the name ``audit`` on ``theorycheck`` to the module, so the module itself
    is made callable and ``tc.audit(sampler)`` works whichever of the two the name holds.
    """

    def __call__(self, sampler_or_factory: Any, *, rng: np.random.Generator | None = None,
                 name: str | None = None, **options: Any) -> AuditResult:
        return audit(sampler_or_factory, rng=rng, name=name, **options)
