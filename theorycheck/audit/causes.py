"""Dimension up to which a shipped sampler adapts, broken down per cause.

A whole chain (:mod:`theorycheck.audit.wholechain`) maps ``z_T ~ N(0, 1)`` and its noise draws
linearly to the output on a data-free coordinate, so its output variance there is
``V(r) = g² r + Σ_j h_j²`` for a start of variance ``r`` (per unit of the chain's own start).
Running the same loop in three modes (:mod:`theorycheck.audit.scheduler_loop`) splits the error
of that variance into four additive causes:

================  ===========================================================================
coefficient       the ``ideal`` run (exact float64 tables and arithmetic) from the *exact*
design            start ``r* = v*_T/v_T``: what the solver's coefficients cost (``R_t - 1``).
table precision   ``table`` run minus ``ideal`` run (float32 ᾱ/σ/timestep tables).
arithmetic        ``shipped`` run minus ``table`` run (float32/float16 sample arithmetic).
start-up floor    ``g²(1 - r*)`` of the shipped run: ``z_T ~ N(0, 1)`` against the forward law
                  at the first timestep (``ᾱ`` there, set by the schedule *and* the spacing).
================  ===========================================================================

The comparison point (``docs/theory.md`` §5) depends on where the chain stops:

* it stops at a noise level ``v_end > 0`` (PNDM, DEIS, ``set_alpha_to_one=False``): the target
  is the data smoothed to that level, ``N(0, v_end)`` off the data, each cause is a relative
  variance error ``e`` and ``m = d - k`` such coordinates cost the exact chi-square
  ``TV_⊥ = TV(N(0, I_m), N(0, (1+e) I_m))`` ≈ ``|e| sqrt(m/(4π))``
  (:func:`theorycheck.divergences.gaussian.tv_isotropic`);
* its last step denoises (``v_end = 0``): the target off the data is a point mass, any variance
  ``v`` there is a failure of exactness (TV_⊥ would be 1 for every ``v > 0``), and it is reported
  as the variance itself with ``W2_⊥ = sqrt(m v)`` (data of unit scale) as the size measure.

``d*(ε)`` is the ambient dimension (k = 1) at which the measure reaches ``ε`` (default 1e-3:
``TV_⊥`` or ``W2_⊥``); the verdict is *adaptive* when ``d* > d_max`` for every error bar,
*not_adaptive* when ``d* < d_max`` for every error bar, *inconclusive* otherwise, and names the
cause with the largest contribution.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorycheck._validation import check_real, check_rng
from theorycheck.audit.scheduler_loop import AuditableChain, EndPoint
from theorycheck.audit.wholechain import ChainFailure, ImpulseResponse, impulse_response
from theorycheck.divergences.gaussian import tv_isotropic
from theorycheck.results import ErrorKind, Estimate

__all__ = ["TYPICAL_SIZES", "CAUSES", "Cause", "CauseBreakdown", "cause_breakdown",
           "d_star", "orthogonal_size"]

#: Typical latent sizes (channels · height · width).
TYPICAL_SIZES = {"3·64²": 3 * 64**2, "3·256²": 3 * 256**2, "4·128²": 4 * 128**2}
CAUSES = ("coefficient design", "table precision", "arithmetic", "start-up floor")
#: Largest m handed to the exact chi-square TV; beyond it |e| sqrt(m/(4π)) (error < 1e-12 there).
_M_EXACT = 10**12


def orthogonal_size(value: float, m: float, comparison: str) -> float:
    """``TV_⊥`` (relative error ``value``) or ``W2_⊥`` (variance ``value``) of m coordinates."""
    if m <= 0 or value == 0.0:
        return 0.0
    if comparison == "point_mass":
        return math.sqrt(m * abs(value))
    if m > _M_EXACT or abs(value) < 1e-12:
        return min(1.0, abs(value) * math.sqrt(m / (4 * math.pi)))
    if value <= -1.0:
        return 1.0
    return float(tv_isotropic(round(m), value).value)


def d_star(value: float, eps: float, comparison: str, k: int = 1) -> float:
    """Ambient dimension at which the orthogonal measure of ``value`` reaches ``eps``.

    Point mass: ``k + eps²/v``.  Smoothed: ``k + m*`` with ``TV_⊥(m*) = eps`` (bisection in
    log m on the exact chi-square TV; the small-error form beyond 10^12).  ``inf`` for 0.
    """
    a = abs(value)
    if a == 0.0:
        return math.inf
    if comparison == "point_mass":
        return k + eps**2 / a
    if orthogonal_size(value, 1.0, comparison) >= eps:
        return float(k + 1)
    m0 = 4 * math.pi * eps**2 / a**2
    if m0 > _M_EXACT:
        return k + m0
    lo, hi = 1.0, float(_M_EXACT)
    for _ in range(80):
        mid = math.sqrt(lo * hi)
        if orthogonal_size(value, mid, comparison) >= eps:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-6:
            break
    return k + hi


@dataclass(frozen=True, kw_only=True)
class Cause:
    """One cause's contribution and the dimension at which it alone reaches ε.

    Attributes
    ----------
    name : str
    contribution : Estimate
        Relative variance error (smoothed comparison) or variance (point mass).
    d_star : float
        ``d*(ε)`` of this contribution alone (``inf``: never).
    at_sizes : dict[str, float]
        ``TV_⊥`` or ``W2_⊥`` at :data:`TYPICAL_SIZES` and at ``d_max``.
    detail : str
    """

    name: str
    contribution: Estimate
    d_star: float
    at_sizes: dict[str, float]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``d_star`` None for infinity)."""
        return {"name": self.name, "contribution": self.contribution.to_dict(),
                "d_star": self.d_star if math.isfinite(self.d_star) else None,
                "at_sizes": dict(self.at_sizes), "detail": self.detail}


@dataclass(frozen=True, kw_only=True)
class CauseBreakdown:
    """The per-cause audit of one chain.

    Attributes
    ----------
    name : str
    verdict : str
        ``adaptive``, ``not_adaptive`` or ``inconclusive`` at ``d_max``.
    dominating : str or None
        The cause with the largest |contribution|.
    comparison : str
        ``"smoothed"`` (stops at ``v_end > 0``) or ``"point_mass"`` (last step denoises).
    end_point : EndPoint or None
    total : Cause or None
        All causes together (the shipped chain from ``N(0, 1)``).
    causes : tuple of Cause
    responses : dict[str, ImpulseResponse]
        Per mode.
    reasons : tuple of str
    verdict_without_table : str or None
        The verdict with the table-precision cause removed: what a network trained with the
        library's own float tables (whose noise levels it then learned) would see.
    settings : dict
    seconds : float
    """

    name: str
    verdict: str
    dominating: str | None
    comparison: str
    end_point: EndPoint | None
    total: Cause | None
    causes: tuple[Cause, ...]
    responses: dict[str, ImpulseResponse] = field(repr=False)
    reasons: tuple[str, ...]
    settings: dict[str, Any]
    seconds: float
    verdict_without_table: str | None = None

    @property
    def exit_code(self) -> int:
        """0 adaptive, 1 not_adaptive, 3 inconclusive."""
        return {"adaptive": 0, "not_adaptive": 1, "inconclusive": 3}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the top-level field ``verdict``."""
        return {"name": self.name, "verdict": self.verdict, "exit_code": self.exit_code,
                "dominating_cause": self.dominating, "comparison": self.comparison,
                "verdict_without_table_precision": self.verdict_without_table,
                "end_point": None if self.end_point is None else self.end_point.to_dict(),
                "total": None if self.total is None else self.total.to_dict(),
                "causes": [c.to_dict() for c in self.causes],
                "impulse_responses": {k: r.to_dict() for k, r in self.responses.items()},
                "reasons": list(self.reasons), "settings": dict(self.settings),
                "seconds": self.seconds}


def _cause(name: str, value: float, err: float, comparison: str, eps: float, d_max: float,
           detail: str, method: str) -> Cause:
    sizes = {label: orthogonal_size(value, n - 1, comparison) for label, n in TYPICAL_SIZES.items()}
    sizes[f"d_max={d_max:.0e}"] = orthogonal_size(value, d_max - 1, comparison)
    kind = "relative variance error" if comparison == "smoothed" else "variance"
    return Cause(name=name, contribution=Estimate(value=value, stderr=err,
                                                  method=f"{kind}: {method}",
                                                  error_kind=ErrorKind.TOLERANCE),
                 d_star=d_star(value, eps, comparison), at_sizes=sizes, detail=detail)


def _call(value: float, err: float, eps: float, d_max: float, comparison: str) -> str:
    lo = d_star(abs(value) + err, eps, comparison)
    hi = d_star(max(abs(value) - err, 0.0), eps, comparison)
    if lo > d_max:
        return "adaptive"
    if hi < d_max:
        return "not_adaptive"
    return "inconclusive"


def _fmt_d(d: float) -> str:
    return "never" if not math.isfinite(d) else f"{d:.3g}"


def cause_breakdown(loop: AuditableChain, *, rng: np.random.Generator, eps: float = 1e-3,
                    max_ambient_dim: float = 1e9, columns: int = 16) -> CauseBreakdown:
    """Per-cause orthogonal error, ``d*(ε)`` and the verdict of a scheduler loop.

    Parameters
    ----------
    loop : AuditableChain
        Any mode; the three modes are derived from it.
    rng : numpy.random.Generator
        Impulse amplitudes (one child per mode).
    eps : float
        The size ``ε`` of ``TV_⊥`` (or ``W2_⊥``) that defines ``d*`` (default 1e-3).
    max_ambient_dim : float
        ``d_max`` of the verdict (default 10^9).
    columns : int
        Columns of the impulse runs (error bars).

    Returns
    -------
    CauseBreakdown
        INCONCLUSIVE with the failure as reason when a chain fails mid-run (NaN, mutated input).
    """
    start = time.perf_counter()
    check_rng("rng", rng)
    e_tol = check_real("eps", eps, lower=0.0, lower_open=True, upper=1.0)
    d_max = check_real("max_ambient_dim", max_ambient_dim, lower=2.0)
    settings = {"eps": e_tol, "max_ambient_dim": d_max, "columns": columns, "steps": loop.steps,
                "dtype": loop.dtype, "typical_sizes": dict(TYPICAL_SIZES)}
    children = dict(zip(("ideal", "table", "shipped"), rng.spawn(3), strict=True))
    end = loop.end_point()
    comparison = "point_mass" if end.denoises else "smoothed"
    responses: dict[str, ImpulseResponse] = {}
    try:
        for mode, child in children.items():
            responses[mode] = impulse_response(loop.with_mode(mode), rng=child, columns=columns)
    except ChainFailure as exc:
        failed = next(m for m in children if m not in responses)
        return CauseBreakdown(
            name=loop.name, verdict="inconclusive", dominating=None, comparison=comparison,
            end_point=end, total=None, causes=(), responses=responses,
            reasons=(f"the {failed} run ({_mode_text(failed, loop.dtype)}) failed mid-chain: "
                     f"{exc}",), settings=settings, seconds=time.perf_counter() - start)
    r_star = end.exact_start_variance / end.start_variance
    ri, rt, rs = responses["ideal"], responses["table"], responses["shipped"]
    v_ref = end.end_variance if comparison == "smoothed" else 1.0
    design_v = ri.variance(r_star) - (end.end_variance if comparison == "smoothed" else 0.0)
    parts = {
        "coefficient design": (design_v, ri.variance_error(r_star),
                               "ideal run (exact float64 tables and arithmetic) from the exact "
                               "start"),
        "table precision": (rt.variance(r_star) - ri.variance(r_star),
                            rt.variance_error(r_star) + ri.variance_error(r_star),
                            "as-shipped float tables minus exact tables, float64 arithmetic"),
        "arithmetic": (rs.variance(r_star) - rt.variance(r_star),
                       rs.variance_error(r_star) + rt.variance_error(r_star),
                       f"{loop.dtype} run minus float64 run of the same loop"),
        "start-up floor": (rs.gain**2 * (1.0 - r_star), 2 * abs(rs.gain) * rs.gain_spread,
                           f"z_T ~ N(0, {end.start_variance:.6g}) against the forward "
                           f"variance {end.exact_start_variance:.6g} at the first "
                           + ("step" if end.first_timestep is None
                              else f"timestep {end.first_timestep:g}")
                           + f" (ᾱ = {end.first_alpha_bar:.3e})"),
    }
    causes = tuple(_cause(name, v / v_ref, err / v_ref, comparison, e_tol, d_max, detail,
                          "impulse responses of the whole chain")
                   for name, (v, err, detail) in parts.items())
    total_v = rs.variance(1.0) - (end.end_variance if comparison == "smoothed" else 0.0)
    total = _cause("all causes", total_v / v_ref, rs.variance_error(1.0) / v_ref, comparison,
                   e_tol, d_max, "the shipped loop from z_T ~ N(0, 1)",
                   "impulse responses of the whole chain")
    verdict = _call(total.contribution.value, total.contribution.stderr, e_tol, d_max, comparison)
    largest = max(causes, key=lambda c: abs(c.contribution.value))
    dominating = largest.name if largest.contribution.value != 0.0 else "none (every cause is 0)"
    table = next(c for c in causes if c.name == "table precision").contribution
    without = _call(total.contribution.value - table.value,
                    total.contribution.stderr + table.stderr, e_tol, d_max, comparison)
    what = ("TV_⊥" if comparison == "smoothed" else "W2_⊥")
    reasons = [
        (f"comparison: the chain stops at noise variance {end.end_variance:.4g} ({end.units} "
         f"units; {end.how}): compared with the target smoothed to that level, TV_⊥ of the "
         "relative variance error" if comparison == "smoothed" else
         f"comparison: the last step denoises ({end.how}): the target is a point mass off the "
         "data; the output variance there is reported, W2_⊥ = sqrt(m v) is its size"),
        f"all causes: {total.contribution.value:.3e} ± {total.contribution.stderr:.1e}, "
        f"d*({e_tol:g}) = {_fmt_d(total.d_star)} ({what} = {e_tol:g}) against "
        f"d_max = {d_max:.0e}: {verdict}",
    ]
    for c in causes:
        reasons.append(f"{c.name}: {c.contribution.value:.3e} ± {c.contribution.stderr:.1e}, "
                       f"d* = {_fmt_d(c.d_star)} ({c.detail})")
    reasons.append(f"dominating cause: {dominating}")
    reasons.append(f"without the table-precision cause (a network trained on the library's own "
                   f"float tables): {without}")
    if not loop.exact_tables:
        reasons.append("note: this chain has no exact-table run (e.g. the class takes no "
                       "trained_betas, or a user sampler has one table and one arithmetic): "
                       "table precision (and, when the modes coincide, arithmetic) is inside the "
                       "coefficient design")
    for mode, r in responses.items():
        if max(r.nonlinearity, r.non_additivity) > 1e-6:
            reasons.append(f"note: the {mode} run is not linear on data-free coordinates "
                           f"(residual {max(r.nonlinearity, r.non_additivity):.1e} per unit "
                           "input); the variance it adds is measured on the all-inputs row and "
                           "included")
    if verdict == "inconclusive":
        reasons.append("the error bar of the total straddles d_max")
    return CauseBreakdown(name=loop.name, verdict=verdict, dominating=dominating,
                          comparison=comparison, end_point=end, total=total, causes=causes,
                          responses=responses, reasons=tuple(reasons), settings=settings,
                          seconds=time.perf_counter() - start, verdict_without_table=without)


def _mode_text(mode: str, dtype: str) -> str:
    return {"ideal": "exact float64 tables and arithmetic",
            "table": "shipped tables, float64 arithmetic",
            "shipped": f"as shipped, {dtype}"}[mode]
