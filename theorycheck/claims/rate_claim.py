"""Rate claims as data: a :class:`RateClaim` declaration becomes a registered, judged claim.

A rate claim ("error ≲ k^p · log^q T · T^a") declares its metric, designs, the *reference law*
in which its data are measured (the log power held while the exponent is fitted), the
theorem's *bound*, its tolerances, its negative control (gross faults) and its boundary control
(a sampler whose error decays half a power slower than the bound). This module turns it into a
check: T-scans (k = 1) and k-scans (products of k mixtures at fixed T) are measured with
:mod:`theorycheck.claims._rate_experiments` and judged with :mod:`theorycheck.claims.judging`:

* T-scans: exponent of ``y / log^q T`` at most ``a + tolerance`` (``ExponentBound``); the ratio
  ``y / (k^p log^q T · T^a)`` grows along the grid by at most what ``extra_log_power`` more logs
  would give (``RatioGrowthBound``); and the same two predictions FAIL on the law half a power
  slower than the bound (``RejectsSlowerLaw``), so a PASS means the check could have told.
* k-scans: exponent in k at most ``p + tolerance``, and FAIL on the law one power steeper.

The boundary-control variant measures only T-scans, of the first design on the
``boundary_targets`` and ``boundary_num_steps`` (it is about the T-law; its cost is kept small
for CI).

Log powers.  The exponent is fitted with ``step_log_power`` powers of log T held (1: every
error here carries the step size ``c1 log T / T``); the data's own log power is measured with
the exponent held at ``reference.exponent`` and reported beside it, never used to correct.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from theorycheck.claims._rate_experiments import (
    MIXTURE,
    SCHEDULE_CONSTANTS,
    Fault,
    OneDimMixture,
    PointSpec,
    measure_point,
    point_record,
)
from theorycheck.claims.judging import (
    ExponentBound,
    Judgement,
    Law,
    RatioGrowthBound,
    RejectsSlowerLaw,
    Series,
    judge,
    render,
)
from theorycheck.claims.types import (
    CheckContext,
    CheckOutcome,
    Claim,
    Prediction,
    Source,
    Variant,
)
from theorycheck.claims.user_sampler import USER_DESIGN, UserSampler
from theorycheck.results import Estimate

__all__ = ["RateClaim", "RateGrids", "build_claim"]


@dataclass(frozen=True, kw_only=True)
class RateGrids:
    """Grids of one profile: T-scan values and targets, k-scan values at a fixed T, and the
    boundary control's (shorter) T-grid."""

    num_steps: tuple[int, ...]
    targets: tuple[OneDimMixture, ...]
    intrinsic_dims: tuple[int, ...]
    k_scan_num_steps: int
    boundary_num_steps: tuple[int, ...]
    boundary_targets: tuple[OneDimMixture, ...] = (MIXTURE,)

    def describe(self) -> str:
        """One line for the report."""
        targets = ", ".join(t.name for t in self.targets)
        boundary = ", ".join(t.name for t in self.boundary_targets)
        return (f"T-scans (k = 1, targets {targets}): T ∈ {self.num_steps}; k-scans (product "
                f"of k mixtures): k ∈ {self.intrinsic_dims} at T = {self.k_scan_num_steps}; "
                f"boundary control: T ∈ {self.boundary_num_steps} on {boundary}")


@dataclass(frozen=True, kw_only=True)
class RateClaim:
    """Declaration of a rate claim (see the module docstring); ``to_claim()`` registers it."""

    id: str
    title: str
    source: Source
    statement: str
    latex: str
    quantity: str
    metric: str
    designs: tuple[str, ...]
    step_log_power: float
    reference: Law
    bound: Law
    tolerance: float
    extra_log_power: float
    rationale: str
    grids: Mapping[str, RateGrids]
    control_faults: Mapping[str, Fault]
    control_text: str
    boundary_fault: Fault
    boundary_text: str
    notes: tuple[str, ...] = ()
    sampler: UserSampler | None = None

    def with_sampler(self, sampler: UserSampler) -> RateClaim:
        """The same claim with a user's sampler in place of the built-in designs (claim variant
        only; the negative and boundary controls stay built in)."""
        return replace(self, sampler=sampler)

    def t_predictions(self) -> tuple[Any, ...]:
        """The predictions judged on every T-scan."""
        exponent = ExponentBound(bound=self.bound.exponent, tolerance=self.tolerance,
                                 log_power=self.step_log_power,
                                 held_exponent=self.reference.exponent, rationale=self.rationale)
        growth = RatioGrowthBound(
            law=Law(exponent=self.bound.exponent, log_power=self.step_log_power,
                    k_power=self.bound.k_power), extra_log_power=self.extra_log_power)
        power = RejectsSlowerLaw(bound=self.bound.exponent, shift=0.5,
                                 log_power=self.step_log_power)
        return exponent, growth, power

    def k_predictions(self) -> tuple[Any, ...]:
        """The predictions judged on every k-scan."""
        return (ExponentBound(bound=self.bound.k_power, tolerance=self.tolerance),
                RejectsSlowerLaw(bound=self.bound.k_power, shift=1.0))

    def description(self) -> str:
        """The prediction in one line."""
        ratio_law = Law(exponent=self.bound.exponent, log_power=self.step_log_power,
                        k_power=self.bound.k_power).text()
        return (f"{self.metric.upper()} ≲ {self.bound.text()}: exponent of "
                f"{self.metric.upper()}/log^{self.step_log_power:g} T ≤ "
                f"{self.bound.exponent:g} + {self.tolerance:g}; ratio to {ratio_law} "
                f"grows ≤ ×(log T_max/log T_min)^{self.extra_log_power:g}; rejects the law "
                f"T^{self.bound.exponent + 0.5:g}; k-exponent ≤ {self.bound.k_power:g} + "
                f"{self.tolerance:g}")

    def to_claim(self) -> Claim:
        """The registered claim; its check is :func:`run_rate_check` on this declaration."""
        c0, c1 = SCHEDULE_CONSTANTS
        designs = (f"user sampler {self.sampler.target} (coefficients probed from its steps)"
                   if self.sampler is not None else ", ".join(self.designs))
        grids = {p: (f"{designs}; two-phase (c0, c1) = ({c0:g}, {c1:g}), seed "
                     f"index; d = k. {g.describe()}. Negative control: {self.control_text}. "
                     f"Boundary control: {self.boundary_text}")
                 for p, g in self.grids.items()}
        title = self.title if self.sampler is None else f"{self.title} — {self.sampler.target}"
        return Claim(id=self.id, title=title, source=self.source, statement=self.statement,
                     latex=self.latex, quantity=self.quantity,
                     prediction=Prediction(kind="upper", value=self.bound.exponent,
                                           tolerance=self.tolerance, rationale=self.rationale,
                                           description=self.description()),
                     grids=grids, negative_control=self.control_text,
                     boundary_control=self.boundary_text,
                     check=_Check(self))


def _fault(decl: RateClaim, variant: Variant, design: str) -> Fault | None:
    if variant is Variant.CONTROL:
        return decl.control_faults.get(design)
    return decl.boundary_fault if variant is Variant.BOUNDARY else None


def _specs(decl: RateClaim, ctx: CheckContext) -> tuple[list[PointSpec], list[PointSpec]]:
    grids = decl.grids[ctx.profile]
    boundary = ctx.variant is Variant.BOUNDARY
    t_grid = grids.boundary_num_steps if boundary else grids.num_steps
    targets = grids.boundary_targets if boundary else grids.targets
    designs = decl.designs[:1] if boundary else decl.designs
    sampler = decl.sampler if ctx.variant is Variant.CLAIM else None
    if sampler is not None:
        designs = (USER_DESIGN,)
    t_specs = [PointSpec(target=target, intrinsic_dim=1, design=design, num_steps=n,
                         fault=_fault(decl, ctx.variant, design), sampler=sampler)
               for design in designs for target in targets for n in t_grid]
    k_specs = [] if boundary else [
        PointSpec(target=MIXTURE, intrinsic_dim=k, design=design,
                  num_steps=grids.k_scan_num_steps, fault=_fault(decl, ctx.variant, design),
                  sampler=sampler)
        for design in designs for k in grids.intrinsic_dims]
    return t_specs, k_specs


def _series(name: str, scan: str, members: Sequence[PointSpec],
            values: Mapping[PointSpec, Estimate]) -> Series:
    return Series(name=name, scan="T" if scan == "T" else "k",
                  num_steps=tuple(s.num_steps for s in members),
                  intrinsic_dims=tuple(s.intrinsic_dim for s in members),
                  estimates=tuple(values[s] for s in members))


def _plot(name: str, title: str, *, scan: str, metric: str, slope: float, label: str,
          series: str = "curve", include_control: bool = True) -> dict[str, Any]:
    return {"name": name, "title": title, "x": "T_scan" if scan == "T" else "k_scan",
            "y": metric, "series": series,
            "xlabel": "number of steps T" if scan == "T" else "intrinsic dimension k",
            "ylabel": "TV(p_X1, p_Y1)" if metric == "tv" else "KL(p_X1 || p_Y1)",
            "logx": True, "logy": True, "reference": {"slope": slope, "label": label},
            "include_control": include_control}


@dataclass(frozen=True)
class _Check:
    """The check function of a declared rate claim (a picklable callable)."""

    decl: RateClaim

    def __call__(self, ctx: CheckContext) -> CheckOutcome:
        decl = self.decl
        t_specs, k_specs = _specs(decl, ctx)
        order = list(dict.fromkeys([*t_specs, *k_specs]))
        measured: dict[PointSpec, tuple[Estimate, Estimate]] = {}
        points = []
        for index, spec in enumerate(order):  # point i always uses ctx.point_rng(i)
            measured[spec] = measure_point(spec, ctx.point_rng(index))
            points.append(point_record(spec, measured[spec], t_scan=spec in t_specs,
                                       k_scan=spec in k_specs))
        metric_index = 0 if decl.metric == "tv" else 1
        values = {spec: pair[metric_index] for spec, pair in measured.items()}
        judgements: list[Judgement] = []
        fits: dict[str, Any] = {}
        for scan, specs, preds in (("T", t_specs, decl.t_predictions()),
                                   ("k", k_specs, decl.k_predictions())):
            curves: dict[str, list[PointSpec]] = {}
            for spec in specs:
                key = spec.curve() if scan == "T" else f"{spec.curve()}, T={spec.num_steps}"
                curves.setdefault(key, []).append(spec)
            for curve, members in curves.items():
                series = _series(f"{decl.metric}_vs_{scan}[{curve}]", scan, members, values)
                for pred in preds:
                    judged = judge(series, pred, preds)
                    judgements.append(judged)
                    fit = judged.evidence.get("fit")
                    if fit is not None:  # compare.py/report.py read slope + interval
                        fits[series.name] = {"slope": fit["value"], "ci_low": fit["ci_low"],
                                             "ci_high": fit["ci_high"], **fit}
        label = decl.metric.upper()
        details = {
            "reference_law": decl.reference.text(), "bound": decl.bound.text(),
            "tolerance": decl.tolerance, "extra_log_power": decl.extra_log_power,
            "kl_direction": "KL(p_X1 || p_Y1)",
            "schedule": f"two_phase(c0={SCHEDULE_CONSTANTS[0]:g}, c1={SCHEDULE_CONSTANTS[1]:g}, "
                        "index='seed')",
            "ratio_to_bound": _ratio_to_bound(decl, values),
            "notes": [*decl.notes, *_variant_note(decl, ctx.variant)],
            "plots": [
                _plot(f"{decl.metric}_vs_T", f"{label} vs T (k = 1), with negative control",
                      scan="T", metric=decl.metric, slope=decl.bound.exponent,
                      label=f"slope {decl.bound.exponent:g} (bound)"),
                _plot(f"{decl.metric}_vs_k", f"{label} vs k (product of mixtures)", scan="k",
                      metric=decl.metric, slope=decl.bound.k_power,
                      label=f"slope {decl.bound.k_power:g} (bound)", series="design")]}
        # The claim's measured law names the headline; a control is only fitted in that family.
        law = (f"{label} ≈ C·{decl.reference.text()}" if ctx.variant is Variant.CLAIM else
               f"{label} ({ctx.variant.value}, fitted as C·k·log T·T^a)")
        return render(judgements, label=law, points=points, fits=fits, details=details)


def _ratio_to_bound(decl: RateClaim, values: Mapping[PointSpec, Estimate]) -> dict[str, Any]:
    """``y / bound(T, k)`` over every point: how far below its bound the data sit."""
    rows = [(est.value / decl.bound.rate(s.num_steps, s.intrinsic_dim), s)
            for s, est in values.items()]
    lo, hi = min(rows, key=lambda r: r[0]), max(rows, key=lambda r: r[0])
    return {"law": decl.bound.text(), "min": lo[0], "max": hi[0],
            "at_max": f"T={hi[1].num_steps}, k={hi[1].intrinsic_dim}, {hi[1].curve()}",
            "at_min": f"T={lo[1].num_steps}, k={lo[1].intrinsic_dim}, {lo[1].curve()}"}


def _variant_note(decl: RateClaim, variant: Variant) -> list[str]:
    if variant is Variant.CONTROL:
        return [f"Negative control: {decl.control_text}."]
    if variant is Variant.BOUNDARY:
        return [f"Boundary control: {decl.boundary_text}."]
    return []


def build_claim(decl: RateClaim) -> Claim:
    """Shorthand for ``decl.to_claim()``."""
    return decl.to_claim()

