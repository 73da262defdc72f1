"""Measured convergence order of deterministic single-step solvers on a k = 2 target.

For a deterministic *Markov* design (``σ_t = 0``: ``ddim``, ``pf_euler``) the k = 2 chain in the
data's coordinates is ``Y_{t-1} = φ_t(Y_t)`` from ``Y_T ~ N(0, I_2)``, and the exact output density
``q = p_{Y_1}`` is the push-forward of ``N(0, I_2)`` through ``φ_2 ∘ … ∘ φ_T``; the k = 2 tensor
grid (:mod:`theorycheck.divergences.grid2d`, zero noise: push-forward only) computes it with a
stated tolerance (two resolutions + mass drift + boundary + negative mass).  Here

    TV_N = TV(p_{X_1}, p_{Y_1})  for  N ∈ {10, 20, 50, 100, 200}

on a schedule with N steps (``two_phase(N)`` or ``linear(N)`` rescaled by 1000/N), and the order
is ``-a`` of the fitted law ``TV ≈ C N^a`` (:func:`theorycheck.power_laws.fit_exponent`: unweighted
log-log slope, interval from ``max(jackknife, propagated)`` error, local slopes).

What this measures and what it does not
---------------------------------------
* The chain starts from ``N(0, I_2)`` as shipped, so ``TV_N`` includes the start-up floor
  ``TV(p_{X_T}, N(0, I_2))``, which a deterministic bijection keeps for ever; it is reported per N
  (:func:`start_floor_tv`, same quadrature) so that a reader can see it is small against ``TV_N``.
  (The k = 1 measurement of :mod:`~theorycheck.audit.order` can start from the exact forward law;
  both k = 1 variants are reported for comparison.)
* *Multistep solvers are out of reach of the grid*: their state is ``(Y_t, Y_{t+1}, …)`` or past
  model outputs, not ``Y_t``, so the law of ``Y_{t-1}`` is not a push-forward of the law of
  ``Y_t`` alone and a 2-D grid cannot carry it (a 4-D grid could, at a cost out of reach — see
  grid2d's k = 3 note).  Their k = 1 order is measured exactly by change of variables through the
  whole chain (:mod:`~theorycheck.audit.order`).
* Stochastic designs are refused here (their k = 2 TV is the grid's ordinary use:
  :func:`theorycheck.experiments.measure` with ``method="grid2d"``).
* By the exact split (``docs/theory.md`` §5) the ambient dimension enters only through the
  orthogonal variance, so this k = 2 TV is the whole subspace part for every d.

References
----------
.. [1] G. Li and Y. Yan, arXiv:2405.14861 (DDIM/DDPM adapt to k: error ~ k/T up to logs).
.. [2] J. Song, C. Meng, S. Ermon, arXiv:2010.02502 (DDIM).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorycheck import schedules
from theorycheck.audit.order import ORDER_STEPS, ROUGH, SMOOTH, OrderResult, measure_order
from theorycheck.audit.step_chain import step_sampler_chain
from theorycheck.designs import CoefficientDesign, make_design
from theorycheck.divergences.grid2d import Mixture2D, components_2d, measure_grid2d
from theorycheck.errors import InvalidParameterError
from theorycheck.power_laws import LawParameter, fit_exponent
from theorycheck.results import ErrorKind, Estimate
from theorycheck.samplers import DesignSampler
from theorycheck.targets import SubspaceGaussianMixture

__all__ = ["DETERMINISTIC_DESIGNS", "SCHEDULE_NAMES", "MULTISTEP_NOTE", "simplex_target",
           "make_schedule", "start_floor_tv", "Order2DResult", "measure_order_k2",
           "compare_k1", "REPORT_TARGETS", "report_markdown", "main"]

#: Single-step deterministic designs the grid applies to.
DETERMINISTIC_DESIGNS = ("ddim", "pf_euler")
SCHEDULE_NAMES = ("two_phase", "linear")
MULTISTEP_NOTE = ("multistep solvers (DPM-Solver++ 2M, UniPC, PNDM, LMS, DEIS, …) are not Markov "
                  "in Y_t: the law of Y_{t-1} is not a push-forward of the law of Y_t, so the "
                  "k = 2 grid does not apply; their k = 1 order is measured exactly by change of "
                  "variables through the whole chain (theorycheck/audit/order.py)")
_SIMPLEX_ANGLES = (90.0, 210.0, 330.0)
_WEIGHTS = (0.2, 0.3, 0.5)


def simplex_target(sd: float) -> SubspaceGaussianMixture:
    """Three isotropic components ``N(μ_j, sd² I_2)`` at the vertices of an equilateral triangle.

    ``μ_j = (cos θ_j, sin θ_j)``, ``θ = 90°, 210°, 330°``, weights (0.2, 0.3, 0.5): a joint
    (non-product) mixture on R² (k = d = 2).
    """
    if not (isinstance(sd, (int, float)) and math.isfinite(sd) and sd > 0):
        raise InvalidParameterError(f"`sd` must be a finite number > 0 (got {sd!r})")
    ang = np.deg2rad(np.array(_SIMPLEX_ANGLES))
    means = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    covs = np.array([np.eye(2) * float(sd) ** 2] * 3)
    return SubspaceGaussianMixture.create(weights=list(_WEIGHTS), means=means, covariances=covs)


def make_schedule(name: str, num_steps: int) -> schedules.Schedule:
    """``two_phase(N)``, or ``linear``: Ho et al.'s 1000-step linear ᾱ table at N timesteps.

    ``linear`` takes ``ᾱ`` of ``linear(1000)`` at ``t_i = round(linspace(1, 1000, N))`` (DDIM's
    sub-sequence, diffusers' "linspace" spacing; ``ᾱ_T = 4.0e-5``), which is how DDIM is run
    with few steps; rescaling β by 1000/N instead leaves (0, 1) for N < 50.
    """
    if name == "two_phase":
        return schedules.two_phase(num_steps)
    if name == "linear":
        full = schedules.linear(1000).mp_alpha_bar()
        idx = np.unique(np.round(np.linspace(1, 1000, num_steps)).astype(int))
        return schedules.from_alpha_bar([full[i - 1] for i in idx])
    raise InvalidParameterError(f"`schedule` must be one of {', '.join(SCHEDULE_NAMES)} "
                                f"(got {name!r})")


def _check_names(design: str, schedule: str) -> None:
    if design not in DETERMINISTIC_DESIGNS:
        raise InvalidParameterError(
            f"`design` must be a deterministic single-step design, one of "
            f"{', '.join(DETERMINISTIC_DESIGNS)} (got {design!r}); stochastic designs: use "
            f"measure(method='grid2d'); " + MULTISTEP_NOTE)
    if schedule not in SCHEDULE_NAMES:
        raise InvalidParameterError(f"`schedule` must be one of {', '.join(SCHEDULE_NAMES)} "
                                    f"(got {schedule!r})")


def _design(design: str, schedule: str, num_steps: int) -> CoefficientDesign:
    _check_names(design, schedule)
    return make_design(design, make_schedule(schedule, num_steps))


def _tv_on_grid(target: SubspaceGaussianMixture, alpha_bar: float, one_minus: float,
                spacing: float, half_width: float) -> float:
    n = math.ceil(2 * half_width / spacing)
    ax = np.linspace(-half_width, half_width, n)
    h = float(ax[1] - ax[0])
    g0, g1 = np.meshgrid(ax, ax, indexing="ij")
    pts = np.stack([g0.ravel(), g1.ravel()], axis=1)
    w, mu, cov = components_2d(target)
    log_p = Mixture2D(w, mu, cov, alpha_bar, one_minus).score_and_jacobian(pts)[2]
    phi = np.exp(-0.5 * np.sum(pts * pts, axis=1)) / (2 * math.pi)
    return 0.5 * h * h * float(np.sum(np.abs(np.exp(log_p) - phi)))


def start_floor_tv(design: CoefficientDesign, target: SubspaceGaussianMixture) -> Estimate:
    """``TV(p_{X_T}, N(0, I_2))``: the start-up floor a deterministic chain keeps.

    Tensor midpoint rule on ``[-9, 9]²`` (both densities have unit-order scales at t = T: the
    component covariances are ``ᾱ_T Σ_j + (1-ᾱ_T) I``), spacing 0.1; tolerance = difference
    with spacing 0.2 + the ``N(0, I_2)`` mass outside (< 3e-18).
    """
    sched = design.schedule
    ab, om = float(sched.alpha_bar[-1]), float(sched.one_minus_alpha_bar[-1])
    fine = _tv_on_grid(target, ab, om, 0.1, 9.0)
    coarse = _tv_on_grid(target, ab, om, 0.2, 9.0)
    return Estimate(value=fine, stderr=abs(fine - coarse) + 1e-17, error_kind=ErrorKind.TOLERANCE,
                    method="tensor midpoint on [-9, 9]^2, h = 0.05 (h = 0.1 check)")


@dataclass(frozen=True, kw_only=True)
class Order2DResult:
    """TV of the k = 2 output against N and the fitted order.

    Attributes
    ----------
    design, schedule, target : str
    steps : tuple of int
        The N that were measured (a failing N is left out and named in ``note``).
    tv : tuple of Estimate
        ``TV(p_{X_1}, p_{Y_1})`` per N (grid2d, ``TOLERANCE``).
    start_floor : tuple of Estimate
        ``TV(p_{X_T}, N(0, I_2))`` per N.
    fit : LawParameter or None
        ``TV ≈ C N^a`` over the resolved points (None with fewer than 3): the measured order.
    fit_log : LawParameter or None
        ``TV ≈ C N^a log N`` (one log factor held, as in the k log T / T bounds): whether the
        raw order's shortfall from an integer is that log factor.
    seconds : float
        CPU seconds of the whole measurement.
    note : str
    """

    design: str
    schedule: str
    target: str
    steps: tuple[int, ...]
    tv: tuple[Estimate, ...]
    start_floor: tuple[Estimate, ...]
    fit: LawParameter | None
    fit_log: LawParameter | None
    seconds: float
    note: str = ""

    @property
    def order(self) -> tuple[float, float, float] | None:
        """``(order, low, high)`` = ``(-a, -ci_high, -ci_low)`` (None without a fit)."""
        if self.fit is None:
            return None
        return (-self.fit.value, -self.fit.ci_high, -self.fit.ci_low)

    def order_text(self) -> str:
        """``"0.78 ± 0.05"`` or ``"—"``."""
        if self.fit is None:
            return "—"
        return f"{-self.fit.value:.2f} ± {0.5 * (self.fit.ci_high - self.fit.ci_low):.2f}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"design": self.design, "schedule": self.schedule, "target": self.target,
                "steps": list(self.steps), "tv": [e.to_dict() for e in self.tv],
                "start_floor": [e.to_dict() for e in self.start_floor],
                "fit": None if self.fit is None else self.fit.to_dict(),
                "fit_log": None if self.fit_log is None else self.fit_log.to_dict(),
                "order": None if self.order is None else list(self.order),
                "seconds": self.seconds, "note": self.note}


def measure_order_k2(design: str, target: SubspaceGaussianMixture, *, target_name: str = "",
                     schedule: str = "two_phase", steps: Sequence[int] = ORDER_STEPS,
                     points_per_scale: float = 3.0, max_points: int = 600) -> Order2DResult:
    """Exact k = 2 TV of a deterministic single-step design at each N, and the fitted order.

    Parameters
    ----------
    design : {"ddim", "pf_euler"}
    target : SubspaceGaussianMixture
        Two-dimensional (k = d = 2), e.g. :func:`simplex_target`.
    target_name : str
    schedule : {"two_phase", "linear"}
    steps : sequence of int
        Increasing N, each ``>= 2``.
    points_per_scale, max_points
        Passed to :func:`~theorycheck.divergences.grid2d.measure_grid2d`.

    Returns
    -------
    Order2DResult
        An N whose grid fails (the map ``φ_t`` not invertible on the grid, Newton not
        converging: folds of a near-discrete target; or a grid too large) is left out and named in
        ``note``; points with relative tolerance ``>= 0.5`` are measured but not fitted.

    Raises
    ------
    InvalidParameterError
        A design that is not deterministic single-step (names the rule and the multistep reason),
        an unknown schedule, ``steps`` not increasing integers ``>= 2``.
    """
    clock = time.process_time()
    _check_names(design, schedule)
    ns = [int(n) for n in steps]
    if len(ns) < 1 or any(n < 2 for n in ns) or any(b <= a for a, b in itertools.pairwise(ns)):
        raise InvalidParameterError(f"`steps` must be increasing integers >= 2 (got {list(steps)})")
    used: list[int] = []
    tvs: list[Estimate] = []
    floors: list[Estimate] = []
    notes: list[str] = []
    for n in ns:
        des = _design(design, schedule, n)
        try:
            res = measure_grid2d(des, target, points_per_scale=points_per_scale,
                                 max_points=max_points)
        except InvalidParameterError as exc:   # NonFiniteError is a subclass
            notes.append(f"N={n}: {exc}")
            continue
        used.append(n)
        tvs.append(res.tv)
        floors.append(start_floor_tv(des, target))
    keep = [i for i, e in enumerate(tvs) if e.value > 0 and e.stderr < 0.5 * e.value]
    if len(keep) < len(tvs):
        notes.append("unresolved (tolerance >= TV/2), not fitted: N = "
                     + ", ".join(str(used[i]) for i in range(len(tvs)) if i not in keep))
    fit = fit_log = None
    if len(keep) >= 3:
        xs, ys = [used[i] for i in keep], [tvs[i].value for i in keep]
        es = [tvs[i].stderr for i in keep]
        fit = fit_exponent(xs, ys, es)
        fit_log = fit_exponent(xs, ys, es, log_power=1.0)
    else:
        notes.append(f"fewer than 3 resolved N ({len(keep)}): no order")
    return Order2DResult(design=design, schedule=schedule, target=target_name,
                         steps=tuple(used), tv=tuple(tvs), start_floor=tuple(floors), fit=fit,
                         fit_log=fit_log,
                         seconds=time.process_time() - clock, note="; ".join(notes))


def compare_k1(design: str, *, schedule: str = "two_phase", steps: Sequence[int] = ORDER_STEPS,
               num_points: int = 10_001) -> dict[str, OrderResult]:
    """k = 1 orders of the same design and schedule (:func:`~theorycheck.audit.order.measure_order`).

    Keys ``"{smooth|rough}/{gaussian|exact}"``: order.py's SMOOTH and ROUGH 1-D targets, started
    from ``N(0, 1)`` (as the k = 2 grid) and from the exact forward law (no start-up floor).
    """
    _check_names(design, schedule)

    def make_chain(n: int) -> Any:
        return step_sampler_chain(DesignSampler(design=_design(design, schedule, n)),
                                  name=f"{design}/{schedule}/N={n}")

    chain_maker: Callable[[int], Any] = make_chain
    out = {}
    for factor in (SMOOTH, ROUGH):
        for start in ("gaussian", "exact"):
            try:
                out[f"{factor.name}/{start}"] = measure_order(
                    chain_maker, factor, steps=steps, num_points=num_points,
                    name=f"{design}/{schedule}", start=start)
            except InvalidParameterError:
                continue
    return out


#: The report's targets: (name, component standard deviation).  sd 0.05 needs > 600 grid points
#: per axis (4.5 per smallest sd over [-6.5, 6.5]): listed to show where the grid stops.
REPORT_TARGETS = (("smooth", 0.5), ("rough", 0.1), ("rough-0.05", 0.05))


def _tv_cell(e: Estimate) -> str:
    return f"{e.value:.3e} ± {e.stderr:.0e}"


def _k1_text(res: OrderResult | None) -> str:
    if res is None:
        return "—"
    order = res.order
    return "—" if order is None else f"{order.value:.2f} ± {order.stderr:.2f}"


def report_markdown(rows: Sequence[Order2DResult],
                    k1: dict[tuple[str, str], dict[str, OrderResult]],
                    steps: Sequence[int] = ORDER_STEPS) -> str:
    """The markdown of ``reports/order-k2.md`` (``steps``: the N asked for)."""
    lines = [
        "# Measured order of deterministic single-step solvers on a k = 2 target",
        "",
        "Generated by `nox -s order-k2` (`python -m theorycheck.audit.order2d`); "
        "method: `theorycheck/audit/order2d.py`.",
        "",
        "TV(p_X1, p_Y1) of the exact k = 2 output density (tensor grid, push-forward through "
        "the deterministic map φ_t, `theorycheck/divergences/grid2d.py`; ± = its stated "
        "tolerance: two resolutions + mass drift + boundary + negative mass) on a schedule with "
        "N steps, from Y_T ~ N(0, I_2). Targets: 3 isotropic components at the vertices of an "
        "equilateral triangle (unit radius, weights 0.2, 0.3, 0.5), sd 0.5 (smooth), 0.1 "
        "(rough) and 0.05 (beyond the grid's 600 points per axis). Order = −a of the fit "
        "TV ≈ C N^a (`power_laws.fit_exponent`: 95 % interval half-width from max(jackknife, "
        "propagated) error); local orders between neighbouring N; 'order, log held' = −a of "
        "TV ≈ C N^a log N (the k log T / T form of the bounds). "
        "'floor' = TV(p_XT, N(0, I_2)) at the largest N, the start-up floor included in every "
        "TV (a deterministic bijection keeps it).",
        "",
        "| design | schedule | target | " + " | ".join(f"TV at N={n}" for n in steps)
        + " | order (k = 2) | local orders | order, log held | floor at max N"
        " | k = 1 order, N(0,1) start | k = 1 order, exact start | CPU s |",
        "|" + "---|" * (len(steps) + 10),
    ]
    for r in rows:
        cells = []
        for n in steps:
            cells.append(_tv_cell(r.tv[r.steps.index(n)]) if n in r.steps else "fails")
        local = ("—" if r.fit is None
                 else ", ".join(f"{-s:.2f}" for s in r.fit.local_slopes))
        floor = (f"{r.start_floor[-1].value:.1e}" if r.start_floor else "—")
        logged = ("—" if r.fit_log is None else
                  f"{-r.fit_log.value:.2f} ± {0.5 * (r.fit_log.ci_high - r.fit_log.ci_low):.2f}")
        comp = k1.get((r.design, r.schedule), {})
        family = r.target.split("-")[0]
        lines.append(f"| {r.design} | {r.schedule} | {r.target} | " + " | ".join(cells)
                     + f" | {r.order_text()} | {local} | {logged} | {floor} | "
                     f"{_k1_text(comp.get(f'{family}/gaussian'))} | "
                     f"{_k1_text(comp.get(f'{family}/exact'))} | {r.seconds:.0f} |")
    notes = [f"- {r.design}/{r.schedule}/{r.target}: {r.note}" for r in rows if r.note]
    lines += ["", "k = 1 columns: the same design and schedule on the 1-D targets of "
              "`theorycheck/audit/order.py` (smooth: means ±1, variances 0.25, 0.16; rough: "
              "variances 1e-3, 2e-3), change of variables through the whole chain; order ± "
              "standard error of the weighted log-log fit. The k = 1 and k = 2 targets differ, so "
              "compare orders, not TVs.", "",
              "Not covered: " + MULTISTEP_NOTE + ".", ""]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m theorycheck.audit.order2d --report FILE [--json FILE] [--steps N ...]``."""
    parser = argparse.ArgumentParser(prog="python -m theorycheck.audit.order2d",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--report", required=True)
    parser.add_argument("--json")
    parser.add_argument("--steps", type=int, nargs="+", default=list(ORDER_STEPS))
    args = parser.parse_args(argv)
    try:
        rows, k1 = [], {}
        for schedule in SCHEDULE_NAMES:
            for design in DETERMINISTIC_DESIGNS:
                for name, sd in REPORT_TARGETS:
                    rows.append(measure_order_k2(design, simplex_target(sd), target_name=name,
                                                 schedule=schedule, steps=args.steps))
                k1[(design, schedule)] = compare_k1(design, schedule=schedule, steps=args.steps)
    except InvalidParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with open(args.report, "w", encoding="utf-8") as fh:
        fh.write(report_markdown(rows, k1, args.steps))
    if args.json:
        payload = {"k2": [r.to_dict() for r in rows],
                   "k1": {f"{d}/{s}": {k: v.to_dict() for k, v in res.items()}
                          for (d, s), res in k1.items()}}
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1, sort_keys=True, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
