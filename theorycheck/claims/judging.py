"""The judging layer: measured series, predictions declared as data, judgements, one combiner.

A claim measures *series* (a scan in T or in k, each point an :class:`Estimate`), declares its
*predictions* as frozen records, and lets :func:`judge` turn each (series, prediction) pair into
a :class:`Judgement` carrying its verdict, the measured law as text, its *resolution* (the
smallest slowdown of the measured law the check detects) and JSON-ready evidence.
:func:`combine_verdicts` is the one rule that turns judgements into a verdict, and
:func:`render` the one place that writes the summary and the headline; nothing parses summary
text back.

Prediction kinds (``kind`` field):

* ``"exponent"`` (:class:`ExponentBound`) — the exponent of the scan coordinate, fitted with a
  stated log power held fixed (:func:`theorycheck.power_laws.fit_exponent`), is at most
  ``bound + tolerance`` (``side="upper"``) or within ``bound ± tolerance`` (``"two_sided"``);
* ``"ratio_growth"`` (:class:`RatioGrowthBound`) — the normalised ratio ``y / rate`` grows by
  at most the factor that ``extra_log_power`` more powers of ``log x`` would produce;
* ``"rejects_slower_law"`` (:class:`RejectsSlowerLaw`) — power: the other predictions of the
  series, applied to the pure power law half a power slower than the bound (with the data's
  residual scatter and relative error bars), FAIL.  It PASSes when they do; otherwise the check could not tell
  the claim from the next-slower law, and it is INCONCLUSIVE (never FAIL: the claim is not
  refuted by a weak check).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from theorycheck.claims.types import CheckOutcome, MeasuredPoint
from theorycheck.errors import InvalidParameterError
from theorycheck.power_laws import LawParameter, fit_exponent, fit_log_exponent, ratio_growth
from theorycheck.results import Estimate, Verdict

__all__ = ["Law", "Series", "ExponentBound", "RatioGrowthBound", "RejectsSlowerLaw",
           "Prediction", "Judgement", "judge", "combine_verdicts", "render", "resolution",
           "RESOLVED_RELATIVE_ERROR"]

#: A point enters a law fit only when its error is at most 5 % of its value (fixed in advance:
#: its log is then known to ±0.05, a third of an exponent tolerance of 0.15 over one octave).
RESOLVED_RELATIVE_ERROR = 0.05
#: Largest exponent shift searched for a resolution (a check blind to 3 powers has none).
_MAX_SHIFT = 3.0


@dataclass(frozen=True, kw_only=True)
class Law:
    """The rate ``k^k_power · (log T)^log_power · T^exponent`` (constant omitted)."""

    exponent: float
    log_power: float
    k_power: float = 1.0

    def rate(self, num_steps: float, intrinsic_dim: float) -> float:
        """The rate at (T, k)."""
        return (intrinsic_dim ** self.k_power * math.log(num_steps) ** self.log_power
                * num_steps ** self.exponent)

    def text(self) -> str:
        """``"k·log T/T"``-style formula."""
        k = "" if self.k_power == 0 else "k·" if self.k_power == 1 else f"k^{self.k_power:g}·"
        log = ("" if self.log_power == 0 else "log T" if self.log_power == 1
               else f"log^{self.log_power:g} T")
        t = {-1.0: "/T", -0.5: "/√T", -2.0: "/T²"}.get(self.exponent, f"·T^{self.exponent:g}")
        return f"{k}{log}{t}" if log or k else f"T^{self.exponent:g}"


@dataclass(frozen=True, kw_only=True)
class Series:
    """One scan: its coordinate ``x`` (T or k), the measured estimates and each point's (T, k).

    Attributes
    ----------
    name : str
    scan : {"T", "k"}
    num_steps, intrinsic_dims : tuple of int, shape (n,)
    estimates : tuple of Estimate, shape (n,)
    """

    name: str
    scan: Literal["T", "k"]
    num_steps: tuple[int, ...]
    intrinsic_dims: tuple[int, ...]
    estimates: tuple[Estimate, ...]

    def __post_init__(self) -> None:
        if self.scan not in ("T", "k"):
            raise InvalidParameterError(f"`scan` must be 'T' or 'k' (got {self.scan!r})")
        if not len(self.num_steps) == len(self.intrinsic_dims) == len(self.estimates):
            raise InvalidParameterError("`num_steps`, `intrinsic_dims` and `estimates` must "
                                        f"have one length (series {self.name!r})")

    @property
    def x(self) -> np.ndarray:
        """The scan coordinate, float64, shape (n,)."""
        return np.asarray(self.num_steps if self.scan == "T" else self.intrinsic_dims,
                          dtype=np.float64)

    def resolved(self) -> tuple[Series, tuple[str, ...]]:
        """The series restricted to resolved points, and why the others were left out."""
        keep, why = [], []
        for i, est in enumerate(self.estimates):
            if est.value > 0 and est.stderr <= RESOLVED_RELATIVE_ERROR * est.value:
                keep.append(i)
            else:
                why.append(f"{self.scan}={self.x[i]:g}: {est.value:.3g} ± {est.stderr:.2g} "
                           f"(error > {RESOLVED_RELATIVE_ERROR:g}·value or value <= 0)")
        return Series(name=self.name, scan=self.scan,
                      num_steps=tuple(self.num_steps[i] for i in keep),
                      intrinsic_dims=tuple(self.intrinsic_dims[i] for i in keep),
                      estimates=tuple(self.estimates[i] for i in keep)), tuple(why)

    def scaled(self, factors: np.ndarray, label: str) -> Series:
        """Values and errors multiplied by ``factors`` (relative errors kept)."""
        ests = tuple(Estimate(value=e.value * float(f), stderr=e.stderr * float(f),
                              method=f"{label}: {e.method}", error_kind=e.error_kind)
                     for e, f in zip(self.estimates, factors, strict=True))
        return replace(self, estimates=ests)


@dataclass(frozen=True, kw_only=True)
class ExponentBound:
    """The exponent in the scan coordinate, with ``log_power`` held, against ``bound``.

    ``side="upper"``: PASS if the interval's top is ``<= bound + tolerance``, FAIL if its bottom
    is above it; ``"two_sided"``: PASS inside ``bound ± tolerance``, FAIL if disjoint.  An
    interval wider than ``max_ci_width`` decides nothing (INCONCLUSIVE).  ``held_exponent``:
    on a T-scan, the log power is also measured with the exponent held at this value (reported,
    not judged: over a finite grid it trades off against the exponent).
    """

    kind: Literal["exponent"] = "exponent"
    bound: float
    tolerance: float
    log_power: float = 0.0
    held_exponent: float | None = None
    side: Literal["upper", "two_sided"] = "upper"
    max_ci_width: float = 0.5
    rationale: str = ""


@dataclass(frozen=True, kw_only=True)
class RatioGrowthBound:
    """``y / law.rate(T, k)`` grows along the scan by at most ``(log x_max/log x_min)^p``.

    ``p = extra_log_power``: the growth a law with ``p`` more powers of ``log T`` than ``law``
    would show over the grid (so the allowance is stated in powers of log, not as a number).
    """

    kind: Literal["ratio_growth"] = "ratio_growth"
    law: Law
    extra_log_power: float
    rationale: str = ""

    def max_growth(self, x: np.ndarray) -> float:
        """The allowed growth over the grid ``x`` (> 1)."""
        return float((math.log(x.max()) / math.log(x.min())) ** self.extra_log_power)


@dataclass(frozen=True, kw_only=True)
class RejectsSlowerLaw:
    """Power: the series' other predictions FAIL on the law ``shift`` powers slower than
    ``bound`` (the pure power ``T^{bound+shift}``, or ``k^{bound+shift}`` in a k-scan, with the
    data's residual scatter about their fit with ``log_power`` held)."""

    kind: Literal["rejects_slower_law"] = "rejects_slower_law"
    bound: float
    shift: float = 0.5
    log_power: float = 0.0
    rationale: str = ""


Prediction = ExponentBound | RatioGrowthBound | RejectsSlowerLaw


@dataclass(frozen=True, kw_only=True)
class Judgement:
    """One (series, prediction) verdict with its measured text, resolution and evidence."""

    series: str
    scan: str
    kind: str
    verdict: Verdict
    measured: str
    headline: str = ""
    resolution: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"series": self.series, "scan": self.scan, "kind": self.kind,
                "verdict": self.verdict.value, "measured": self.measured,
                "headline": self.headline,
                "resolution": self.resolution, "evidence": dict(self.evidence)}


def combine_verdicts(verdicts: Sequence[Verdict]) -> Verdict:
    """The one combiner: FAIL if any FAILs, else INCONCLUSIVE if any is or if there are none
    (no evidence verifies nothing), else PASS."""
    if not verdicts:
        return Verdict.INCONCLUSIVE
    if any(v is Verdict.FAIL for v in verdicts):
        return Verdict.FAIL
    if any(v is Verdict.INCONCLUSIVE for v in verdicts):
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def _exponent(series: Series, pred: ExponentBound) -> tuple[Verdict, LawParameter]:
    est = series.estimates
    fit = fit_exponent(series.x, [e.value for e in est], [e.stderr for e in est],
                       log_power=pred.log_power if series.scan == "T" else 0.0)
    edge_hi, edge_lo = pred.bound + pred.tolerance, pred.bound - pred.tolerance
    if fit.ci_high - fit.ci_low > pred.max_ci_width:
        return Verdict.INCONCLUSIVE, fit
    if pred.side == "upper":
        passed, failed = fit.ci_high <= edge_hi, fit.ci_low > edge_hi
    else:
        passed = edge_lo <= fit.ci_low and fit.ci_high <= edge_hi
        failed = fit.ci_low > edge_hi or fit.ci_high < edge_lo
    return (Verdict.PASS if passed else Verdict.FAIL if failed else Verdict.INCONCLUSIVE), fit


def _rates(series: Series, law: Law) -> np.ndarray:
    return np.array([law.rate(t, k) for t, k in zip(series.num_steps, series.intrinsic_dims,
                                                    strict=True)])


def _growth(series: Series, pred: RatioGrowthBound) -> tuple[Verdict, Any]:
    est = series.estimates
    growth = ratio_growth([e.value for e in est], [e.stderr for e in est],
                          _rates(series, pred.law))
    return growth.judge(pred.max_growth(series.x)), growth


def _verdict_only(series: Series, pred: Prediction) -> Verdict:
    if isinstance(pred, ExponentBound):
        return _exponent(series, pred)[0]
    if isinstance(pred, RatioGrowthBound):
        return _growth(series, pred)[0]
    raise InvalidParameterError(f"`prediction` of kind {pred.kind!r} has no direct verdict")


def resolution(series: Series, pred: Prediction) -> float | None:
    """Smallest ``δ >= 0`` such that ``pred`` FAILs on the data slowed down by ``x^δ``.

    Bisection to 1e-3 on ``[0, 3]``; ``None`` when even ``δ = 3`` is not detected, ``0`` when
    the data themselves FAIL.  This is the check's resolution for this series: a sampler
    whose error decays ``δ`` powers slower than the measured one is caught.
    """
    x = series.x

    def fails(delta: float) -> bool:
        return _verdict_only(series.scaled((x / x[0]) ** delta, "slowed"), pred) is Verdict.FAIL

    if fails(0.0):
        return 0.0
    if not fails(_MAX_SHIFT):
        return None
    lo, hi = 0.0, _MAX_SHIFT
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if fails(mid) else (mid, hi)
    return round(hi, 3)


def _alternative(series: Series, pred: RejectsSlowerLaw) -> Series:
    """The pure power ``x^{bound+shift}`` (no log factor: the hardest slower law to tell from
    a law with logs), carrying the data's residuals about their fitted law."""
    x = series.x
    est = series.estimates
    log_power = pred.log_power if series.scan == "T" else 0.0
    fit = fit_exponent(x, [e.value for e in est], [e.stderr for e in est], log_power=log_power)
    logs = np.log(np.log(x)) * log_power if log_power else np.zeros_like(x)
    u = np.log(x)
    residual = np.log([e.value for e in est]) - (fit.value * u + logs)
    residual -= residual.mean()
    alt = np.exp((pred.bound + pred.shift) * u + residual)
    return series.scaled(alt / np.array([e.value for e in est]), "next-slower law")


def judge(series: Series, pred: Prediction, others: Sequence[Prediction] = ()) -> Judgement:
    """Judge one prediction on one series (``others``: the predictions a power check uses)."""
    data, unresolved = series.resolved()
    common: dict[str, Any] = {"series": series.name, "scan": series.scan, "kind": pred.kind}
    evidence: dict[str, Any] = {"unresolved": list(unresolved), "x": data.x.tolist()}
    if len(data.estimates) < 3:
        return Judgement(verdict=Verdict.INCONCLUSIVE, evidence=evidence,
                         measured=f"{len(data.estimates)} resolved points (need 3)", **common)
    if isinstance(pred, ExponentBound):
        verdict, fit = _exponent(data, pred)
        evidence["fit"] = fit.to_dict()
        local = fit.local_slopes
        headline = f"exponent {fit.text()}"
        if series.scan == "T" and pred.log_power:
            headline += f" (log^{pred.log_power:g} T held)"
        text = (f"exponent {fit.text()} (local {min(local):.2f}…{max(local):.2f}; measurement error "
                f"±{fit.propagated_stderr:.1g})")
        if series.scan == "T" and pred.held_exponent is not None:
            b = fit_log_exponent(data.x, [e.value for e in data.estimates],
                                 [e.stderr for e in data.estimates], exponent=pred.held_exponent)
            evidence["log_exponent"] = b.to_dict()
            text += f"; log power {b.text()} at exponent {pred.held_exponent:g}"
            headline += f", log power {b.text()} at exponent {pred.held_exponent:g}"
        return Judgement(verdict=verdict, measured=text, headline=headline,
                         resolution=resolution(data, pred), evidence=evidence, **common)
    if isinstance(pred, RatioGrowthBound):
        verdict, growth = _growth(data, pred)
        limit = pred.max_growth(data.x)
        evidence.update(growth=growth.to_dict(), max_growth=limit)
        text = (f"y/({pred.law.text()}) grows ×{growth.growth:.3f} (≤ {limit:.3f} allowed; "
                f"ratios {min(growth.ratios):.3g}…{max(growth.ratios):.3g})")
        return Judgement(verdict=verdict, measured=text, resolution=resolution(data, pred),
                         evidence=evidence, **common)
    judged = [p for p in others if not isinstance(p, RejectsSlowerLaw)]
    alt = _alternative(data, pred)
    alt_verdicts = {p.kind: _verdict_only(alt, p).value for p in judged}
    detected = Verdict.FAIL.value in alt_verdicts.values()
    evidence.update(alternative_verdicts=alt_verdicts,
                    alternative_values=[e.value for e in alt.estimates])
    law = f"x^{pred.bound + pred.shift:g}"
    return Judgement(verdict=Verdict.PASS if detected else Verdict.INCONCLUSIVE,
                     measured=(f"{'rejects' if detected else 'cannot reject'} the slower law "
                               f"{law} ({', '.join(f'{k} {v}' for k, v in alt_verdicts.items())})"),
                     evidence=evidence, **common)


def _worst_resolution(judgements: Sequence[Judgement]) -> float | None:
    """Per series the best (smallest) resolution of its predictions, then the worst series;
    ``None`` when some series detects no slowdown at all."""
    per_series: dict[str, list[float]] = {}
    for j in judgements:
        if j.kind != "rejects_slower_law":
            per_series.setdefault(j.series, [])
            if j.resolution is not None:
                per_series[j.series].append(j.resolution)
    if not per_series or any(not v for v in per_series.values()):
        return None
    return max(min(v) for v in per_series.values())


def render(judgements: Sequence[Judgement], *, label: str, points: Sequence[MeasuredPoint],
           fits: Mapping[str, Any], details: Mapping[str, Any]) -> CheckOutcome:
    """The one place that turns judgements into a :class:`CheckOutcome` (verdict, summary,
    headline)."""
    verdict = combine_verdicts([j.verdict for j in judgements])
    lines = []
    for scan in ("T", "k"):
        mine = [j for j in judgements if j.scan == scan]
        if not mine:
            continue
        counts = {kind: sum(j.verdict is Verdict.PASS for j in mine if j.kind == kind)
                  for kind in dict.fromkeys(j.kind for j in mine)}
        totals = {kind: sum(j.kind == kind for j in mine) for kind in counts}
        res = _worst_resolution(mine)
        lines.append(f"{scan}-scans: " + ", ".join(f"{kind} PASS {counts[kind]}/{totals[kind]}"
                                                   for kind in counts)
                     + (f"; resolution {res:.2f} (a slowdown of the measured law by that many "
                        "powers FAILs on every curve)" if res is not None else ""))
    exps = [j for j in judgements if j.kind == "exponent" and j.scan == "T"]
    worst = max(exps, key=lambda j: j.evidence.get("fit", {}).get("ci_high", math.inf),
                default=None)
    headline = f"{label}: " + (worst.headline + " (worst curve)" if worst is not None
                               else "no T-scan")
    k_exps = [j for j in judgements if j.kind == "exponent" and j.scan == "k"]
    if k_exps:
        k_worst = max(k_exps, key=lambda j: j.evidence.get("fit", {}).get("ci_high", math.inf))
        headline += "; k-" + k_worst.headline
    growths = [j for j in judgements if j.kind == "ratio_growth"]
    if growths:
        g = max(growths, key=lambda j: j.evidence["growth"]["growth"])
        headline += (f"; ratio grows ≤ ×{g.evidence['growth']['growth']:.2f} "
                     f"(allowed ×{g.evidence['max_growth']:.2f})")
    summary = "; ".join(lines) + f" → {verdict.value}"
    return CheckOutcome(verdict=verdict, summary=summary, measured=headline, points=tuple(points),
                        fits=dict(fits), details={**details, "judgements": [
                            j.to_dict() for j in judgements]})
