"""Rough targets: does ``TV·T/log T`` stay bounded as the mixture's components shrink to points?

The rate theorems need no smoothness of the data: the constant in ``TV ≲ k log^p T / T`` does not
depend on how concentrated the components are.  The near-discrete targets of the rate claims
(component sd 0.1) are smooth at the last noise scale, so they do not test that.  Here the
two-point mixture ``0.3·N(-1, s²) + 0.7·N(1, s²)`` is measured for ``s`` from 1e-2 down to 1e-6
(below ``s ≈ 1/T`` the target after one noise step, of sd ``sqrt(s² + T^{-c0})``, is the point-mass
limit) by the k = 1 grid quadrature of :func:`theorycheck.experiments.measure`.

Reported per ``s``: the normalised ratio ``r(T) = TV·T/log T`` over the T grid, its largest value,
and where the asymptotic regime starts (:func:`asymptotic_start`).  The cost grows like ``T²/s``
until ``s ≈ 1/T``, so the scan runs in a nox session (``nox -s rough``, which calls
``python -m theorycheck.rough_targets``), not in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorycheck._atomic import atomic_write_text
from theorycheck._progress import progress
from theorycheck._validation import check_int, check_real
from theorycheck.errors import InvalidParameterError, TheorycheckError
from theorycheck.results import ErrorKind, Estimate

__all__ = ["RoughPoint", "RoughScan", "asymptotic_start", "measure_rough_scan", "write_rough_scan",
           "main"]

#: The regime is asymptotic from the first T after which r changes by at most 10 % per doubling
#: of T (the smooth targets of RATE-TV change by 0.5-4 % per doubling).
ASYMPTOTIC_TOLERANCE = 0.10


@dataclass(frozen=True, kw_only=True)
class RoughPoint:
    """One (component sd, T) measurement: TV and ``TV·T/log T`` with the same relative error."""

    sd: float
    num_steps: int
    tv: Estimate
    ratio: Estimate

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"sd": self.sd, "T": self.num_steps, "tv": self.tv.to_dict(),
                "ratio": self.ratio.to_dict()}


@dataclass(frozen=True, kw_only=True)
class RoughScan:
    """All points of a scan over component sd and T, for one design."""

    design: str
    points: tuple[RoughPoint, ...]
    out_of_reach: tuple[str, ...] = ()

    def sds(self) -> tuple[float, ...]:
        """The component sds, in scan order."""
        return tuple(dict.fromkeys(p.sd for p in self.points))

    def curve(self, sd: float) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """``(T values, ratios)`` of one sd, ordered in T."""
        rows = sorted((p.num_steps, p.ratio.value) for p in self.points if p.sd == sd)
        return tuple(r[0] for r in rows), tuple(r[1] for r in rows)

    def summary(self) -> dict[str, Any]:
        """Per sd: ratio range, growth over the grid and the asymptotic start; the uniform max."""
        per_sd = {}
        for sd in self.sds():
            steps, ratios = self.curve(sd)
            if len(steps) < 2:
                continue
            per_sd[f"{sd:g}"] = {"T": list(steps), "ratio": list(ratios), "max": max(ratios),
                                 "growth": ratios[-1] / ratios[0],
                                 "asymptotic_from_T": asymptotic_start(steps, ratios)}
        return {"design": self.design,
                "uniform_max_ratio": max((p.ratio.value for p in self.points), default=None),
                "asymptotic_tolerance_per_doubling": ASYMPTOTIC_TOLERANCE, "by_sd": per_sd,
                "out_of_reach": list(self.out_of_reach)}


def asymptotic_start(num_steps: Sequence[int], ratios: Sequence[float], *,
                     tolerance: float = ASYMPTOTIC_TOLERANCE) -> int | None:
    """First ``T_i`` from which ``r`` changes by at most ``tolerance`` per doubling of T.

    Parameters
    ----------
    num_steps : sequence of int, shape (n,)
        Strictly increasing T grid, ``n >= 2``.
    ratios : sequence of float, shape (n,)
        ``r(T_i) > 0``.
    tolerance : float, optional
        Allowed ``|Δ log r| / Δ log₂ T`` between consecutive points, ``> 0``.

    Returns
    -------
    int or None
        ``T_i`` such that every consecutive pair from ``i`` on satisfies the rule, or ``None``
        when even the last pair does not (the grid never reaches the asymptotic regime).
    """
    steps = np.asarray([check_int("num_steps", t, minimum=2) for t in num_steps], dtype=float)
    r = np.asarray(ratios, dtype=float)
    tolerance = check_real("tolerance", tolerance, lower=0.0, lower_open=True)
    if steps.size < 2 or r.shape != steps.shape:
        raise InvalidParameterError("`num_steps` and `ratios` must have one length >= 2 (got "
                                    f"{steps.size} and {r.size})")
    if np.any(np.diff(steps) <= 0) or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise InvalidParameterError("`num_steps` must be strictly increasing and `ratios` "
                                    "finite and > 0")
    per_doubling = np.abs(np.diff(np.log(r))) / np.diff(np.log2(steps))
    ok = per_doubling <= math.log1p(tolerance)
    start = None
    for i in range(ok.size - 1, -1, -1):
        if not ok[i]:
            break
        start = int(steps[i])
    return start


def measure_rough_scan(*, sds: Sequence[float], num_steps: Sequence[int],
                       design: str = "ddpm_posterior", c0: float = 2.0, c1: float = 4.0,
                       max_num_points: int = 2**16) -> RoughScan:
    """Measure ``TV(p_X1, p_Y1)`` of the two-point mixture for every (sd, T).

    Parameters
    ----------
    sds : sequence of float
        Component standard deviations, each in ``(0, 1]``.
    num_steps : sequence of int
        T values, each ``>= 2``.
    design : str, optional
        A design name of :func:`theorycheck.designs.make_design`.
    c0, c1 : float, optional
        Two-phase schedule constants.
    max_num_points : int, optional
        Cap on grid cells (the method reports its own tolerance; a grid too coarse for a sharp
        target raises rather than returning a wrong number).

    Returns
    -------
    RoughScan
        TV with its quadrature tolerance and ``TV·T/log T`` with the same relative error; a
        point the grid method cannot resolve (a map it cannot invert, a grid too coarse) is
        listed in ``out_of_reach`` with the method's reason, never given a number.
    """
    from theorycheck.designs import make_design
    from theorycheck.experiments import measure
    from theorycheck.schedules import two_phase
    from theorycheck.targets import SubspaceGaussianMixture

    sd_list = [check_real("sds", s, lower=0.0, upper=1.0, lower_open=True) for s in sds]
    t_list = [check_int("num_steps", t, minimum=2) for t in num_steps]
    if not sd_list or not t_list:
        raise InvalidParameterError("`sds` and `num_steps` must not be empty")
    points, out_of_reach = [], []
    pairs = [(sd, t) for sd in sd_list for t in t_list]
    for sd, t in progress(pairs, total=len(pairs), desc=f"rough scan ({design})"):
        target = SubspaceGaussianMixture.create(
            np.array([0.3, 0.7]), np.array([[-1.0], [1.0]]), np.full((2, 1, 1), sd * sd))
        sampler = make_design(design, two_phase(t, c0=c0, c1=c1))
        try:
            tv = measure(target, sampler, rng=np.random.default_rng(0), metrics=("tv",),
                         max_num_points=max_num_points).values["tv"]
        except TheorycheckError as exc:  # the k = 1 grid's limits (sharp targets)
            out_of_reach.append(f"sd={sd:g}, T={t}: {exc}")
            continue
        scale = t / math.log(t)
        points.append(RoughPoint(sd=sd, num_steps=t, tv=tv, ratio=Estimate(
            value=tv.value * scale, stderr=tv.stderr * scale,
            method=f"TV·T/log T; {tv.method}", error_kind=ErrorKind.TOLERANCE)))
    return RoughScan(design=design, points=tuple(points), out_of_reach=tuple(out_of_reach))


#: The scan of ``nox -s rough`` (component sds, T grid, designs).
DEFAULT_SDS = (1e-2, 1e-3, 1e-4, 1e-6)
DEFAULT_NUM_STEPS = (25, 50, 100, 200, 400)
DEFAULT_DESIGNS = ("ddpm_posterior", "ddim")


def write_rough_scan(path: str, *, sds: Sequence[float] = DEFAULT_SDS,
                     num_steps: Sequence[int] = DEFAULT_NUM_STEPS,
                     designs: Sequence[str] = DEFAULT_DESIGNS) -> list[dict[str, Any]]:
    """Run :func:`measure_rough_scan` for each design and write the summaries as JSON.

    The file (a list of :meth:`RoughScan.summary` dicts, one per design) is written atomically:
    an interrupted scan leaves a previous file intact.  Returns the list written.
    """
    docs = [measure_rough_scan(sds=sds, num_steps=num_steps, design=d).summary() for d in designs]
    atomic_write_text(path, json.dumps(docs, indent=2) + "\n")
    return docs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m theorycheck.rough_targets [--out PATH] [--sds ...] [--steps ...]``."""
    parser = argparse.ArgumentParser(prog="theorycheck.rough_targets",
                                     description="Rough-target scan: TV·T/log T as sd → 0.")
    parser.add_argument("--out", default="reports/rough-targets.json")
    parser.add_argument("--sds", type=float, nargs="+", default=list(DEFAULT_SDS))
    parser.add_argument("--steps", type=int, nargs="+", default=list(DEFAULT_NUM_STEPS))
    parser.add_argument("--designs", nargs="+", default=list(DEFAULT_DESIGNS))
    args = parser.parse_args(argv)
    try:
        docs = write_rough_scan(args.out, sds=args.sds, num_steps=args.steps,
                                designs=args.designs)
    except TheorycheckError as exc:
        print(f"theorycheck.rough_targets: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(docs, indent=1))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
