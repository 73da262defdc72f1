"""Experiment machinery shared by the rate claims RATE-TV, RATE-LY and RATE-KL.

A *point* is one (target, intrinsic dimension k, design, T, optional deliberate fault); it is
measured with :func:`theorycheck.experiments.measure` (d = k, so no orthogonal part: the
d-dependence is the DFREE claim's business).  At k = 1 the measurement is deterministic grid
quadrature (tolerance-type errors); for k > 1 the targets are products of identical 1-D
factors, every coordinate's chain is one-dimensional, KL adds exactly and TV comes from Monte
Carlo over the product of the grid densities (standard errors), with the generator of the
claim's grid point.

A *series* is a scan in T (k = 1) or in k (fixed T); it is fitted in log-log with
:func:`theorycheck.fitting.fit_slope` after excluding unresolved points by a rule fixed in
advance, and judged with :func:`theorycheck.fitting.judge_slope`.

Sharing between claims: k = 1 points are a pure function of their :class:`PointSpec` (no
randomness is involved), so :func:`_measure_k1` memoises them with ``functools.lru_cache``;
RATE-TV, RATE-LY and RATE-KL run the same DDPM series and pay for it once per process.  Points
with k > 1 carry Monte Carlo randomness from ``CheckContext.point_rng`` and are never cached.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from theorycheck.claims.types import MeasuredPoint
from theorycheck.designs import CoefficientDesign, custom_design, make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.fitting import SlopeFit, fit_slope, judge_slope
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import two_phase
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["Fault", "MIXTURE", "MIXTURE3", "GAUSSIAN", "OneDimMixture", "PointSpec", "SeriesJudgement",
           "combine_verdicts", "judge_series", "measure_point", "point_record",
           "RESOLVED_RELATIVE_ERROR", "SCHEDULE_CONSTANTS"]

#: (c0, c1) of the two-phase schedule for every point (seed-talk index convention).
SCHEDULE_CONSTANTS = (2.0, 4.0)
#: A point is *resolved* when its error bar (grid tolerance or Monte Carlo standard error) is at
#: most 5 % of its value.  Then its log is known to ±0.05, three times smaller than the slope
#: tolerance over one octave (0.15 · log 2 ≈ 0.10), so unresolved points cannot move a verdict.
RESOLVED_RELATIVE_ERROR = 0.05
#: Monte Carlo sample size of the product-TV estimator (k > 1): relative standard error ≈ 0.3 %.
PRODUCT_TV_SAMPLES = 200_000


@dataclass(frozen=True, kw_only=True)
class OneDimMixture:
    """A one-dimensional Gaussian mixture (the law of one coordinate in U's frame).

    Attributes
    ----------
    name : str
        Label used in point parameters.
    weights, means, variances : tuple of float, length m
    """

    name: str
    weights: tuple[float, ...]
    means: tuple[float, ...]
    variances: tuple[float, ...]

    def triple(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
        """``(weights, means, variances)`` as expected by :meth:`ProductMixture.create`."""
        return self.weights, self.means, self.variances


#: Near-discrete, asymmetric two-point mixture (component sd 0.1 at ±1): non-Gaussian, the
#: regime where THEORY §6 expects TV ~ log T / T.
MIXTURE = OneDimMixture(name="mixture", weights=(0.3, 0.7), means=(-1.0, 1.0),
                        variances=(0.01, 0.01))
#: Three unequal, near-discrete components (sd 0.10-0.14), used in the full profile.
MIXTURE3 = OneDimMixture(name="mixture3", weights=(0.25, 0.45, 0.3), means=(-1.2, 0.1, 1.0),
                         variances=(0.015, 0.01, 0.02))
#: A Gaussian N(0.5, 0.25): linear score; converges faster in KL (THEORY §6).
GAUSSIAN = OneDimMixture(name="gaussian", weights=(1.0,), means=(0.5,), variances=(0.25,))


@dataclass(frozen=True, kw_only=True)
class Fault:
    """A deliberate coefficient error of a negative control.

    ``kind``: ``"sigma_sq_factor"`` (σ_t² × size), ``"eta_factor"`` (η_t × size) or
    ``"sigma_sq_offset"`` (σ_t² + size for t ≥ 2: a per-step noise error that does not shrink
    with the step size).
    """

    kind: str
    size: float

    def label(self) -> str:
        """Short label such as ``"σ²×1.5"``."""
        symbol = {"sigma_sq_factor": "σ²×", "eta_factor": "η×", "sigma_sq_offset": "σ²+"}
        if self.kind not in symbol:
            raise InvalidParameterError(
                f"`kind` must be one of {tuple(symbol)} (got {self.kind!r})")
        return f"{symbol[self.kind]}{self.size:g}"


@dataclass(frozen=True, kw_only=True)
class PointSpec:
    """One measurement: target, intrinsic dimension, design, number of steps and fault."""

    target: OneDimMixture
    intrinsic_dim: int
    design: str
    num_steps: int
    fault: Fault | None = None

    def design_label(self) -> str:
        """Design name, with the fault appended for negative controls."""
        return self.design if self.fault is None else f"{self.design}[{self.fault.label()}]"

    def curve(self) -> str:
        """Label of the T-scan this point belongs to (design and target)."""
        return f"{self.design_label()}, {self.target.name}"


def _build_target(spec: PointSpec) -> SubspaceGaussianMixture | ProductMixture:
    comp = spec.target
    if spec.intrinsic_dim == 1:
        return SubspaceGaussianMixture.create(
            np.asarray(comp.weights), np.asarray(comp.means)[:, None],
            np.asarray(comp.variances)[:, None, None])
    return ProductMixture.create([comp.triple()] * spec.intrinsic_dim)


def _build_design(spec: PointSpec) -> CoefficientDesign:
    c0, c1 = SCHEDULE_CONSTANTS
    schedule = two_phase(spec.num_steps, c0=c0, c1=c1)
    design = make_design(spec.design, schedule)
    fault = spec.fault
    if fault is None:
        return design
    fault.label()  # validates the kind
    with mpmath.workdps(schedule.dps):
        size = mpmath.mpf(fault.size)
        coeffs = [design.mp_coefficients(t) for t in range(1, spec.num_steps + 1)]
        eta = [e * size if fault.kind == "eta_factor" else e for e, _ in coeffs]
        sigma_sq = [s * size if fault.kind == "sigma_sq_factor" else
                    s + size if fault.kind == "sigma_sq_offset" and t > 1 else s
                    for t, (_, s) in enumerate(coeffs, start=1)]
    return custom_design(schedule, eta=eta, sigma_sq=sigma_sq, name=spec.design_label())


def _as_pair(values: dict[str, Estimate]) -> tuple[Estimate, Estimate]:
    return values["tv"], values["kl"]


@functools.lru_cache(maxsize=256)
def _measure_k1(spec: PointSpec) -> tuple[Estimate, Estimate]:
    """``(TV, KL(p_X1‖p_Y1))`` of a k = 1 point by deterministic grid quadrature (memoised)."""
    from theorycheck.experiments import measure

    # At k = 1 ``measure`` uses two-resolution grid quadrature and never draws from ``rng``;
    # the check below makes sure of it, so the memoised value is a pure function of ``spec``.
    result = measure(_build_target(spec), _build_design(spec), rng=np.random.default_rng(0))
    tv, kl = _as_pair(result.values)
    if ErrorKind.STDERR in (tv.error_kind, kl.error_kind):
        raise InvalidParameterError("k = 1 points must be measured by deterministic quadrature "
                                    f"(got {tv.method!r})")
    return tv, kl


def measure_point(spec: PointSpec, rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    """Measure ``(TV(p_X1, p_Y1), KL(p_X1‖p_Y1))`` at one point.

    Parameters
    ----------
    spec : PointSpec
    rng : numpy.random.Generator
        The claim's generator for this grid point; used only for k > 1 (product TV by Monte
        Carlo).

    Returns
    -------
    tuple of Estimate
        TV (tolerance at k = 1, standard error for k > 1) and KL (tolerance; exact additivity
        over the coordinates of a product).
    """
    if spec.intrinsic_dim == 1:
        return _measure_k1(spec)
    from theorycheck.experiments import measure

    result = measure(_build_target(spec), _build_design(spec), rng=rng,
                     num_samples=PRODUCT_TV_SAMPLES)
    return _as_pair(result.values)


def point_record(spec: PointSpec, estimates: tuple[Estimate, Estimate], *, t_scan: bool,
                 k_scan: bool) -> MeasuredPoint:
    """A :class:`MeasuredPoint` with params T, k, design, target, curve and scan coordinates.

    ``T_scan`` / ``k_scan`` are present only on points of a T-scan / k-scan, so that the
    report's plots (which select points by the presence of their x parameter) draw each scan
    on its own axes.
    """
    params: dict[str, Any] = {"T": spec.num_steps, "k": spec.intrinsic_dim,
                              "design": spec.design_label(), "target": spec.target.name,
                              "curve": spec.curve()}
    if t_scan:
        params["T_scan"] = spec.num_steps
    if k_scan:
        params["k_scan"] = spec.intrinsic_dim
    return MeasuredPoint(params=params, estimates={"tv": estimates[0], "kl": estimates[1]})


@dataclass(frozen=True, kw_only=True)
class SeriesJudgement:
    """Fit and verdict of one scan.

    Attributes
    ----------
    name : str
    fit : SlopeFit or None
        ``None`` when fewer than ``min_points`` points are resolved.
    verdict : Verdict
    x_used : tuple of float
        Grid values of the resolved points (the fit's ``points_used`` index into these).
    unresolved : tuple of str
        ``"x=<value>: <reason>"`` for every point excluded by the resolution rule.
    """

    name: str
    fit: SlopeFit | None
    verdict: Verdict
    x_used: tuple[float, ...]
    unresolved: tuple[str, ...]

    def describe(self, *, corrected: bool = True) -> str:
        """``"name: slope -1.23 [-1.30, -1.16]"`` (corrected or raw), or why there is none."""
        if self.fit is None:
            return f"{self.name}: no fit ({len(self.x_used)} resolved points)"
        line = self.fit.corrected if corrected else self.fit.raw
        if line.slope is None or line.ci_low is None or line.ci_high is None:
            return f"{self.name}: no fit ({line.note})"
        return f"{self.name}: {line.slope:.3f} [{line.ci_low:.3f}, {line.ci_high:.3f}]"


def judge_series(name: str, x: Sequence[float], estimates: Sequence[Estimate], *,
                 predicted: float, tolerance: float, log_factor_power: float,
                 log_factor_of: Sequence[float] | None = None, min_points: int,
                 max_ci_width: float) -> SeriesJudgement:
    """Fit ``log value`` on ``log x`` over the resolved points and judge an upper bound.

    Parameters
    ----------
    name : str
    x : sequence of float, shape (n,)
        Scan coordinate (T or k).
    estimates : sequence of Estimate, shape (n,)
    predicted, tolerance : float
        The bound on the exponent and its slack (``judge_slope(kind="upper")``).
    log_factor_power : float
        ``p`` of the theorem's ``log^p T``; the verdict uses the corrected fit.
    log_factor_of : sequence of float, optional
        Base of the log factor when it is not ``x`` (e.g. T in a k-scan).
    min_points : int
        Fewest resolved points for a verdict; fewer gives INCONCLUSIVE.
    max_ci_width : float
        Widest slope interval that may decide; wider gives INCONCLUSIVE.

    Notes
    -----
    A point is excluded, before fitting, when ``value <= 0`` or ``stderr > 0.05·value``
    (:data:`RESOLVED_RELATIVE_ERROR`): the rule is fixed in advance and never looks at the
    fitted slope.
    """
    keep = [i for i, est in enumerate(estimates)
            if est.value > 0 and est.stderr <= RESOLVED_RELATIVE_ERROR * est.value]
    unresolved = tuple(f"x={x[i]:g}: value {estimates[i].value:.3g} ± {estimates[i].stderr:.2g} "
                       f"(error > {RESOLVED_RELATIVE_ERROR:g}·value)"
                       for i in range(len(estimates)) if i not in keep)
    x_used = tuple(float(x[i]) for i in keep)
    if len(keep) < min_points:
        return SeriesJudgement(name=name, fit=None, verdict=Verdict.INCONCLUSIVE,
                               x_used=x_used, unresolved=unresolved)
    base = None if log_factor_of is None else [float(log_factor_of[i]) for i in keep]
    fit = fit_slope(x_used, [estimates[i].value for i in keep],
                    [estimates[i].stderr for i in keep], log_factor_power=log_factor_power,
                    log_factor_of=base, min_points=min_points)
    verdict = judge_slope(fit.corrected, predicted=predicted, kind="upper", tolerance=tolerance,
                          max_ci_width=max_ci_width)
    return SeriesJudgement(name=name, fit=fit, verdict=verdict, x_used=x_used,
                           unresolved=unresolved)


def combine_verdicts(verdicts: Sequence[Verdict]) -> Verdict:
    """An upper bound claimed for every series: FAIL if any FAILs, else INCONCLUSIVE if any is,
    else PASS."""
    if any(v is Verdict.FAIL for v in verdicts):
        return Verdict.FAIL
    if any(v is Verdict.INCONCLUSIVE for v in verdicts):
        return Verdict.INCONCLUSIVE
    return Verdict.PASS
