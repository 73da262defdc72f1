"""Sweeps: a spec whose sweepable fields are lists is measured over their outer product.

Sweepable fields (a list there means "one case per entry")::

    target.ambient_dim, target.basis_seed,
    schedule.steps, schedule.kind, schedule.c0, schedule.c1, schedule.index,
    sampler.design, sampler.eta

Every case is an ordinary spec (see :mod:`theorycheck.spec`) measured by
:func:`theorycheck.experiments.measure` with ``numpy.random.default_rng(seed)``, so a case's
numbers do not depend on the other cases or their order.  The outer product may hold at most
:data:`MAX_CASES` cases.  :func:`sweep_markdown` renders the table, :func:`sweep_to_dict` the
JSON, and :func:`plot_sweep` the log-log figure (TV and KL against the first numeric axis, one
line per combination of the other axes).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from theorycheck._atomic import atomic_path
from theorycheck._progress import progress
from theorycheck.errors import SpecError
from theorycheck.experiments import Measurement, measure
from theorycheck.spec import parse_spec

__all__ = ["SWEEP_FIELDS", "MAX_CASES", "SweepCase", "SweepResult", "expand_sweep", "is_sweep",
           "run_sweep", "sweep_markdown", "sweep_to_dict", "plot_sweep"]

#: (section, key) pairs that may hold a list of values to sweep over.
SWEEP_FIELDS: tuple[tuple[str, str], ...] = (
    ("target", "ambient_dim"), ("target", "basis_seed"),
    ("schedule", "steps"), ("schedule", "kind"), ("schedule", "c0"), ("schedule", "c1"),
    ("schedule", "index"), ("sampler", "design"), ("sampler", "eta"),
)
#: Largest outer product a sweep may request.
MAX_CASES = 10_000


@dataclass(frozen=True, kw_only=True)
class SweepCase:
    """One case of a sweep: its swept values (``"section.key" -> value``) and its measurement."""

    params: dict[str, Any]
    measurement: Measurement
    design: str


@dataclass(frozen=True, kw_only=True)
class SweepResult:
    """All cases, in outer-product order (the last axis varies fastest)."""

    axes: dict[str, list[Any]]
    cases: tuple[SweepCase, ...]
    metrics: tuple[str, ...]
    spec: dict[str, Any] = field(repr=False)


def _axes(raw: Mapping[str, Any]) -> dict[str, list[Any]]:
    axes: dict[str, list[Any]] = {}
    for section, key in SWEEP_FIELDS:
        sec = raw.get(section)
        if isinstance(sec, dict) and isinstance(sec.get(key), list):
            values = sec[key]
            if not values:
                raise SpecError(f"spec `{section}.{key}` must be a non-empty list to sweep over "
                                "(got [])")
            axes[f"{section}.{key}"] = list(values)
    return axes


def is_sweep(raw: Any) -> bool:
    """Whether a raw spec mapping has a list in any sweepable field."""
    return isinstance(raw, dict) and bool(_axes(raw))


def expand_sweep(raw: Mapping[str, Any]) -> tuple[dict[str, list[Any]], list[tuple[
        dict[str, Any], dict[str, Any]]]]:
    """The axes and the ``(params, single-case spec)`` pairs of the outer product.

    Raises
    ------
    SpecError
        An empty list, or more than :data:`MAX_CASES` cases (the count is named).
    """
    if not isinstance(raw, dict):
        raise SpecError("spec must be a JSON object")
    axes = _axes(raw)
    count = math.prod(len(v) for v in axes.values())
    if count > MAX_CASES:
        sizes = " × ".join(f"{len(v)} ({k})" for k, v in axes.items())
        raise SpecError(f"spec sweep has {count} cases ({sizes}); at most {MAX_CASES} are allowed")
    out = []
    names = list(axes)
    for combo in itertools.product(*(axes[n] for n in names)):
        case = copy.deepcopy(dict(raw))
        params = dict(zip(names, combo, strict=True))
        for name, value in params.items():
            section, key = name.split(".")
            case[section][key] = value
        out.append((params, case))
    return axes, out


def run_sweep(raw: Mapping[str, Any], *, method: str | None = None) -> SweepResult:
    """Measure every case of a sweep spec (a progress bar on stderr when it is a terminal).

    Parameters
    ----------
    raw : mapping
        A spec (see :mod:`theorycheck.spec`) with lists in some :data:`SWEEP_FIELDS`.
    method : str, optional
        Forced method for every case (see :mod:`theorycheck.measure_methods`).

    Returns
    -------
    SweepResult

    Raises
    ------
    SpecError
        From :func:`expand_sweep` or from parsing a case (the case's swept values are named).
    """
    axes, cases = expand_sweep(raw)
    results = []
    metrics: tuple[str, ...] = ()
    for params, case in progress(cases, total=len(cases), desc="sweep"):
        try:
            spec = parse_spec(case)
        except SpecError as exc:
            raise SpecError(f"sweep case {params}: {exc}") from None
        metrics = spec.metrics
        res = measure(spec.target, spec.design, rng=np.random.default_rng(spec.seed),
                      metrics=spec.metrics, num_samples=spec.num_samples, method=method)
        results.append(SweepCase(params=params, measurement=res, design=spec.design.describe()))
    return SweepResult(axes=axes, cases=tuple(results), metrics=metrics, spec=dict(raw))


def sweep_to_dict(result: SweepResult) -> dict[str, Any]:
    """JSON-ready: ``{"axes", "metrics", "cases": [{"params", "result"}], "spec"}``."""
    return {"axes": result.axes, "metrics": list(result.metrics),
            "cases": [{"params": c.params, "result": c.measurement.to_dict()}
                      for c in result.cases], "spec": result.spec}


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def sweep_markdown(result: SweepResult) -> str:
    """A markdown table: one row per case, swept values, each metric ± its error, method."""
    names = list(result.axes)
    head = names + [m.upper() if m == "tv" else "KL" for m in result.metrics] + [
        "error kind", "method"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in result.cases:
        res = case.measurement
        cells = [_fmt(case.params[n]) for n in names]
        cells += [f"{res.values[m].value:.6g} ± {res.values[m].stderr:.2g}"
                  for m in result.metrics]
        kinds = sorted({res.values[m].error_kind.value for m in result.metrics})
        cells += ["/".join(kinds), res.method_name or res.method]
        lines.append("| " + " | ".join(cells) + " |")
    directions = sorted({c.measurement.kl_direction for c in result.cases})
    lines.append("")
    lines.append(f"KL direction: {'; '.join(directions)}.")
    return "\n".join(lines) + "\n"


def _x_axis(result: SweepResult) -> str:
    for name, values in result.axes.items():
        if len(values) > 1 and all(isinstance(v, int | float) and not isinstance(v, bool)
                                   for v in values):
            return name
    raise SpecError("`--plot` needs a numeric swept field with at least two values "
                    f"(swept: {list(result.axes) or 'none'})")


def plot_sweep(result: SweepResult, path: str | Path, *, title: str | None = None) -> Path:
    """Log-log figure of each metric against the first numeric axis; returns the path.

    One line per combination of the other axes; error bars are the stated errors (usually
    invisible).  Non-positive values (exact zeros) are left out of the log axis.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_name = _x_axis(result)
    others = [n for n in result.axes if n != x_name]
    series: dict[tuple[Any, ...], list[SweepCase]] = {}
    for case in result.cases:
        series.setdefault(tuple(case.params[n] for n in others), []).append(case)
    fig, axes = plt.subplots(1, len(result.metrics), figsize=(5.5 * len(result.metrics), 4.2),
                             squeeze=False)
    for ax, metric in zip(axes[0], result.metrics, strict=True):
        for key, cases in series.items():
            xs = np.array([float(c.params[x_name]) for c in cases])
            ys = np.array([c.measurement.values[metric].value for c in cases])
            es = np.array([c.measurement.values[metric].stderr for c in cases])
            keep = ys > 0
            label = ", ".join(f"{n.split('.')[-1]}={_fmt(v)}" for n, v in
                              zip(others, key, strict=True)) or None
            ax.errorbar(xs[keep], ys[keep], yerr=es[keep], marker="o", ms=3, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(x_name)
        kinds = {c.measurement.values[metric].error_kind.value for c in result.cases}
        bound = " (upper bound)" if "upper_bound" in kinds else ""
        direction = result.cases[0].measurement.kl_direction
        kl_label = direction if len(direction) <= 20 else "KL (path-KL bound on the subspace)"
        ax.set_ylabel(("TV" if metric == "tv" else kl_label) + bound)
        ax.grid(True, which="both", alpha=0.3)
        if series and others:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    try:
        with atomic_path(out) as tmp:  # an interrupted run keeps the previous figure
            fig.savefig(tmp, dpi=120, format=out.suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
    return out
