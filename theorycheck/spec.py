"""Experiment specs (JSON) for ``theorycheck measure``: parsing and validation.

Schema::

    {"target":   {"kind": "subspace_gmm" | "product_gmm", ...},   # see targets.from_spec
     "schedule": {"kind": "two_phase" | "linear" | "cosine", "steps": T, ...},
     "sampler":  {"design": "ddpm_posterior" | "ddpm_beta" | "ddim" | "ddim_eta" | "pf_euler",
                  "eta": 0.5},                                    # eta only for ddim_eta
     "metrics":  ["tv", "kl"],
     "seed": 0,
     "num_samples": 200000}                                       # optional (Monte Carlo)

A list in a sweepable field (``target.ambient_dim``, ``schedule.steps``, ``sampler.design``, ...)
makes the spec a sweep: see :mod:`theorycheck.sweep`; :func:`parse_spec` takes one case.

Schedule options: ``two_phase``: ``c0`` (2), ``c1`` (4), ``index`` ("seed" | "li_yan");
``linear``: ``beta_start`` (1e-4), ``beta_end`` (0.02), ``rescale`` (false); ``cosine``:
``s`` (0.008), ``max_beta`` (0.999); all: ``dps`` (50).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorycheck import schedules, targets
from theorycheck.designs import DESIGN_NAMES, CoefficientDesign, make_design
from theorycheck.errors import InvalidParameterError, SpecError

__all__ = ["ExperimentSpec", "load_raw_spec", "load_spec", "parse_spec"]

_TOP_KEYS = {"target", "schedule", "sampler", "metrics", "seed", "num_samples"}
_SCHEDULE_KEYS = {
    "two_phase": {"kind", "steps", "c0", "c1", "index", "dps"},
    "linear": {"kind", "steps", "beta_start", "beta_end", "rescale", "dps"},
    "cosine": {"kind", "steps", "s", "max_beta", "dps"},
}


@dataclass(frozen=True, kw_only=True, eq=False)
class ExperimentSpec:
    """A parsed, validated experiment."""

    target: Any
    design: CoefficientDesign
    metrics: tuple[str, ...]
    seed: int
    num_samples: int
    raw: dict[str, Any]


def _section(spec: Mapping[str, Any], key: str) -> dict[str, Any]:
    if key not in spec:
        raise SpecError(f"spec is missing the `{key}` section")
    value = spec[key]
    if not isinstance(value, dict):
        raise SpecError(f"spec `{key}` must be a JSON object")
    return value


def _schedule(section: dict[str, Any]) -> schedules.Schedule:
    kind = section.get("kind")
    if kind not in _SCHEDULE_KEYS:
        raise SpecError(f"spec `schedule.kind` must be one of {sorted(_SCHEDULE_KEYS)} "
                        f"(got {kind!r})")
    unknown = set(section) - _SCHEDULE_KEYS[kind]
    if unknown:
        raise SpecError(f"spec `schedule` has unknown keys for kind {kind!r}: {sorted(unknown)}")
    if "steps" not in section:
        raise SpecError("spec `schedule.steps` is required")
    opts = {k: v for k, v in section.items() if k not in ("kind", "steps")}
    builder: Any = {"two_phase": schedules.two_phase, "linear": schedules.linear,
                    "cosine": schedules.cosine}[kind]
    try:
        return builder(section["steps"], **opts)
    except InvalidParameterError as exc:
        raise SpecError(f"spec `schedule`: {exc}") from None


def parse_spec(spec: Any) -> ExperimentSpec:
    """Validate a spec mapping and build its target, schedule and design.

    Raises
    ------
    SpecError
        Naming the offending key for a malformed or incomplete spec.
    """
    if not isinstance(spec, dict):
        raise SpecError("spec must be a JSON object")
    unknown = set(spec) - _TOP_KEYS
    if unknown:
        raise SpecError(f"spec has unknown top-level keys: {sorted(unknown)}")
    try:
        target = targets.from_spec(_section(spec, "target"))
    except SpecError:
        raise
    except InvalidParameterError as exc:
        raise SpecError(f"spec `target`: {exc}") from None
    schedule = _schedule(_section(spec, "schedule"))
    sampler = _section(spec, "sampler")
    design_name = sampler.get("design")
    if design_name not in DESIGN_NAMES:
        raise SpecError(f"spec `sampler.design` must be one of {DESIGN_NAMES} "
                        f"(got {design_name!r})")
    unknown = set(sampler) - {"design", "eta"}
    if unknown:
        raise SpecError(f"spec `sampler` has unknown keys: {sorted(unknown)}")
    try:
        design = make_design(design_name, schedule, eta=sampler.get("eta"))
    except InvalidParameterError as exc:
        raise SpecError(f"spec `sampler`: {exc}") from None
    metrics = spec.get("metrics", ["tv", "kl"])
    if (not isinstance(metrics, list) or not metrics
            or any(m not in ("tv", "kl") for m in metrics)):
        raise SpecError(f"spec `metrics` must be a non-empty list of 'tv', 'kl' (got {metrics!r})")
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError(f"spec `seed` must be a non-negative integer (got {seed!r})")
    num_samples = spec.get("num_samples", 200_000)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 100:
        raise SpecError(f"spec `num_samples` must be an integer >= 100 (got {num_samples!r})")
    return ExperimentSpec(target=target, design=design, metrics=tuple(metrics), seed=seed,
                          num_samples=num_samples, raw=spec)


def load_spec(path: str | Path) -> ExperimentSpec:
    """Read and parse a JSON spec file (errors name the file and the key)."""
    return parse_spec(load_raw_spec(path))


def load_raw_spec(path: str | Path) -> Any:
    """Read a JSON spec file without interpreting it (errors name the file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"`SPEC` file {str(path)!r} cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"`SPEC` file {str(path)!r} is not valid JSON "
                        f"(line {exc.lineno}: {exc.msg})") from None
    return data
