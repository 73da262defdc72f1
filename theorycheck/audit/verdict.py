"""The audit: probe → one-step condition → black-box checks → verdict, as one frozen record.

Verdict rule (fixed before any number is looked at; docs/theory.md §4 and §7):

* The theory's criterion is the one-step condition: a sampler adapts to low-dimensional data
  only if its coefficients keep ``R_t = 1`` (Liang, Huang & Chen 2501.12982; Li & Yan 2405.14861).  What
  the coefficients cost at the output is ``e_coef``, the final relative variance error of a
  data-free coordinate from the exact start, and ``m`` such coordinates cost
  ``TV ≈ |e_coef| sqrt(m/(4π))``.  The sampler is called *coefficient-adaptive* when that TV
  stays ≤ ``tv_tolerance`` (default 1e-3, the size of k/T at T = 1000) for every
  ``d ≤ max_ambient_dim`` (default 10^9), i.e. ``|e_coef| ≤ tv_tolerance·sqrt(4π/(d_max-1))``
  (≈ 1.1e-7), and *not* when ``|e_coef|`` exceeds that bound by more than its error bound.
* ``adaptive``: coefficient-adaptive, the black box's own chains agree with the probe
  (brute force, :func:`~theorycheck.audit.checks.brute_force_check`) and the exact-split TV
  against d is not growing.
* ``not_adaptive``: not coefficient-adaptive, brute force agrees, the TV curve is not flat — or,
  for a step that is not the generic scalar one, brute force measures a variance error of the
  data-free coordinates more than 5 standard errors from 0 (its TV then grows like sqrt(d)).
* ``inconclusive``: anything else (the probe and the chains disagree, the error bound straddles
  the threshold, a non-scalar step whose brute-force error is not significant, or the checks
  contradict each other); the reasons say which.

The start-up mismatch ``Y_T ~ N(0, I)`` (DDIM's floor ``≈ sqrt(d) ᾱ_T``) is a property of the
schedule, not of the coefficients: it is reported (``e_total``) but does not enter the verdict.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorycheck._validation import check_int, check_real, check_rng
from theorycheck.audit.checks import (
    FLAT_MAX_SPREAD,
    STARTUP_FRACTION,
    BruteForceCheck,
    DimensionCheck,
    RateCheck,
    brute_force_check,
    design_from_probe,
    dfree_check,
    rate_check,
)
from theorycheck.audit.condition import OneStepAudit, one_step_audit
from theorycheck.audit.probe import ProbeResult, probe_coefficients
from theorycheck.samplers import check_sampler
from theorycheck.schedules import from_alpha_bar

__all__ = ["AuditVerdict", "AuditResult", "audit_sampler", "coefficient_threshold",
           "SIGNIFICANCE_SIGMAS"]

#: A brute-force variance error counts as real beyond 5 standard errors (false alarm < 1e-6).
SIGNIFICANCE_SIGMAS = 5.0


class AuditVerdict(str, enum.Enum):
    """Outcome of an audit; the CLI exits 0, 1 and 3 respectively."""

    ADAPTIVE = "adaptive"
    NOT_ADAPTIVE = "not_adaptive"
    INCONCLUSIVE = "inconclusive"

    @property
    def exit_code(self) -> int:
        """0 adaptive, 1 not_adaptive, 3 inconclusive."""
        return {"adaptive": 0, "not_adaptive": 1, "inconclusive": 3}[self.value]


def coefficient_threshold(tv_tolerance: float, max_ambient_dim: float) -> float:
    """``tv_tolerance · sqrt(4π/(d_max - 1))``: the largest ``|e_coef|`` called adaptive."""
    return tv_tolerance * math.sqrt(4 * math.pi / (max_ambient_dim - 1))


@dataclass(frozen=True, kw_only=True)
class AuditResult:
    """Everything an audit found.

    Attributes
    ----------
    name : str
        What was audited (the TARGET string or the object's type).
    num_steps : int
        ``T``.
    verdict : AuditVerdict
    reasons : tuple of str
        Why, one sentence each, with the numbers.
    probe : ProbeResult
    condition : OneStepAudit or None
        None when the step is not the generic scalar step.
    brute_force : BruteForceCheck
    dfree : DimensionCheck or None
        The exact-split TV against d (scalar steps consistent with ``alpha_bar`` only).
    rate : RateCheck or None
        Same condition.
    settings : dict
        Thresholds and sizes used (``tv_tolerance``, ``max_ambient_dim``, ``threshold`` ...).
    seconds : float
        Wall time of the audit.
    """

    name: str
    num_steps: int
    verdict: AuditVerdict
    reasons: tuple[str, ...]
    probe: ProbeResult = field(repr=False)
    condition: OneStepAudit | None = field(repr=False)
    brute_force: BruteForceCheck = field(repr=False)
    dfree: DimensionCheck | None = field(repr=False)
    rate: RateCheck | None = field(repr=False)
    settings: dict[str, Any]
    seconds: float

    @property
    def exit_code(self) -> int:
        """0 adaptive, 1 not_adaptive, 3 inconclusive."""
        return self.verdict.exit_code

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the top-level field ``verdict``."""
        T = self.num_steps
        shown = tuple(sorted({2, T // 2, T} - {0, 1}))
        return {
            "name": self.name, "num_steps": T, "verdict": self.verdict.value,
            "exit_code": self.exit_code, "reasons": list(self.reasons),
            "probe": self.probe.to_dict(),
            "coefficients": self.probe.coefficient_table(shown),
            "one_step_condition": None if self.condition is None else self.condition.to_dict(),
            "brute_force": self.brute_force.to_dict(),
            "dfree": None if self.dfree is None else self.dfree.to_dict(),
            "rate": None if self.rate is None else self.rate.to_dict(),
            "settings": dict(self.settings), "seconds": self.seconds,
        }


def _coefficient_call(condition: OneStepAudit, threshold: float) -> bool | None:
    e = condition.coefficient_error
    if abs(e.value) + e.stderr <= threshold:
        return True
    if abs(e.value) - e.stderr > threshold:
        return False
    return None


def _flat_but_not_adaptive(condition: OneStepAudit, dfree: DimensionCheck) -> str:
    """Why a flat TV curve does not refute non-adaptive coefficients (no bare "contradiction")."""
    d_judged = dfree.judged_max_dim
    e = abs(condition.coefficient_error.value)
    tv_k = dfree.tv[0].value
    predicted = e * math.sqrt(max(d_judged - 1, 0.0) / (4 * math.pi))
    return (f"the checks see different ranges: the coefficients exceed the threshold for "
            f"d ≤ d_max, but the TV curve could only be judged on d ≤ {d_judged:.3g} (beyond it "
            f"the start-up floor, e_total - e_coef = {condition.startup_error:.2e}, exceeds "
            f"{STARTUP_FRACTION:g} TV_k), where |e_coef| = {e:.2e} predicts TV_⊥ ≤ "
            f"{predicted:.1e}, far below the {FLAT_MAX_SPREAD - 1:.0%} of TV_k = {tv_k:.1e} a flat "
            "call tolerates: the flat curve cannot see the coefficient error. Two causes are "
            "folded here (coefficients, e.g. float32 arithmetic, and the start-up floor ᾱ_T); "
            "`theorycheck audit diffusers:CLASS` gives each with its d*")


def _decide(probe: ProbeResult, condition: OneStepAudit | None, brute: BruteForceCheck,
            dfree: DimensionCheck | None, threshold: float, settings: dict[str, Any]
            ) -> tuple[AuditVerdict, list[str]]:
    reasons: list[str] = list(probe.problems())
    m = brute.measured
    if condition is None:
        significant = abs(m.value) > SIGNIFICANCE_SIGMAS * m.stderr
        text = (f"brute force (d={brute.ambient_dim}): data-free variance error "
                f"ê = {m.value:.3e} ± {m.stderr:.1e}")
        if significant:
            reasons.append(f"{text}, more than {SIGNIFICANCE_SIGMAS:g} standard errors from 0: "
                           "TV grows like |ê| sqrt(d/(4π)) with d")
            return AuditVerdict.NOT_ADAPTIVE, reasons
        reasons.append(f"{text}, not significant; the step is not the generic scalar step, so "
                       "the one-step condition cannot certify adaptivity")
        return AuditVerdict.INCONCLUSIVE, reasons
    e = condition.coefficient_error
    r1 = condition.max_abs
    reasons.append(f"max_t |R_t - 1| = {r1.value:.3e} ± {r1.stderr:.1e} at t={condition.worst_step}")
    reasons.append(f"coefficient error e_coef = {e.value:.3e} ± {e.stderr:.1e} against the "
                   f"threshold {threshold:.3e} (TV ≤ {settings['tv_tolerance']:g} for "
                   f"d ≤ {settings['max_ambient_dim']:.0e})")
    coef = _coefficient_call(condition, threshold)
    agrees = bool(brute.agrees)
    reasons.append(f"brute force (d={brute.ambient_dim}, n={brute.num_samples}): ê = "
                   f"{m.value:.3e} ± {m.stderr:.1e} vs predicted e_total = "
                   f"{condition.total_error.value:.3e}: {'agrees' if agrees else 'DISAGREES'}")
    if dfree is not None:
        judged = ("all d" if not math.isfinite(dfree.judged_max_dim)
                  else f"d ≤ {dfree.judged_max_dim:.3g}")
        reasons.append(f"exact-split TV against d: {dfree.call} (judged on {judged}; "
                       f"TV from {dfree.tv[0].value:.3e} at d=1 to {dfree.tv[-1].value:.3e} at "
                       f"d={dfree.dims[-1]:.0e})")
    if not agrees:
        reasons.append("the probe does not describe the sampler's chains (stateful step?)")
        return AuditVerdict.INCONCLUSIVE, reasons
    if coef is True:
        if dfree is not None and dfree.call == "grows":
            reasons.append(
                "the checks disagree: the coefficients keep |e_coef| below the threshold, yet the "
                "exact-split TV grows with d, so the growth comes from something the one-step "
                "condition does not cover (the start-up mismatch beyond the judged range, or the "
                "k-dimensional part); `theorycheck audit diffusers:CLASS` separates the causes "
                "with their d*")
            return AuditVerdict.INCONCLUSIVE, reasons
        return AuditVerdict.ADAPTIVE, reasons
    if coef is False:
        if dfree is not None and dfree.call == "flat":
            reasons.append(_flat_but_not_adaptive(condition, dfree))
            return AuditVerdict.INCONCLUSIVE, reasons
        return AuditVerdict.NOT_ADAPTIVE, reasons
    reasons.append("the error bound of e_coef straddles the threshold")
    return AuditVerdict.INCONCLUSIVE, reasons


def audit_sampler(sampler: Any, *, rng: np.random.Generator, name: str | None = None,
                  tv_tolerance: float = 1e-3, max_ambient_dim: float = 1e9,
                  probe_rtol: float = 1e-6, brute_force_dim: int = 16,
                  brute_force_samples: int = 2000, num_samples: int = 20_000,
                  max_num_points: int = 2**12, split_checks: bool = True) -> AuditResult:
    """Audit a black-box sampler for adaptivity to low-dimensional data.

    Parameters
    ----------
    sampler : Sampler
        Any object with ``alpha_bar`` (shape (T,)) and ``step(y, t, score, noise)``.
    rng : numpy.random.Generator
        The only source of randomness; four children are spawned (probe, brute force, DFREE,
        RATE), so each check's draws do not depend on the others.
    name : str, optional
        Label for the report (default: the object's type name).
    tv_tolerance, max_ambient_dim : float
        The adaptivity criterion (module docstring).
    probe_rtol : float
        Residual threshold of the probe (:func:`~theorycheck.audit.probe.probe_coefficients`).
    brute_force_dim, brute_force_samples : int
        d and n of the brute-force run (cost ``T·n·d``).
    num_samples, max_num_points : int
        Monte Carlo size and grid cap of the exact-split checks.
    split_checks : bool
        Run the exact-split DFREE and RATE checks (the most expensive part, ~10 s at T = 1000).

    Returns
    -------
    AuditResult

    Raises
    ------
    SamplerProtocolError, NonFiniteError
        Bad sampler (missing attributes, bad ``alpha_bar``, wrong shapes, NaNs).
    """
    start = time.perf_counter()
    num_steps = check_sampler(sampler)
    check_rng("rng", rng)
    tol = check_real("tv_tolerance", tv_tolerance, lower=0.0, lower_open=True, upper=1.0)
    d_max = check_real("max_ambient_dim", max_ambient_dim, lower=2.0)
    bf_dim = check_int("brute_force_dim", brute_force_dim, minimum=2)
    bf_n = check_int("brute_force_samples", brute_force_samples, minimum=10)
    probe_rng, brute_rng, dfree_rng, rate_rng = rng.spawn(4)
    schedule = from_alpha_bar(np.asarray(sampler.alpha_bar, dtype=np.float64))
    probe = probe_coefficients(sampler, rng=probe_rng, rtol=probe_rtol)
    condition = one_step_audit(probe, schedule) if probe.is_scalar_generic else None
    brute = brute_force_check(sampler, schedule, rng=brute_rng, ambient_dim=bf_dim,
                              num_samples=bf_n, condition=condition)
    dfree: DimensionCheck | None = None
    rate: RateCheck | None = None
    if split_checks and condition is not None and probe.is_consistent:
        design = design_from_probe(probe, schedule)
        dfree = dfree_check(design, condition, rng=dfree_rng, num_samples=num_samples,
                            max_num_points=max_num_points)
        rate = rate_check(design, dfree.tv[0], rng=rate_rng, num_samples=num_samples,
                          max_num_points=max_num_points)
    threshold = coefficient_threshold(tol, d_max)
    settings = {"tv_tolerance": tol, "max_ambient_dim": d_max, "threshold": threshold,
                "probe_rtol": probe.rtol, "brute_force_dim": bf_dim,
                "brute_force_samples": bf_n, "num_samples": num_samples,
                "max_num_points": max_num_points, "split_checks": bool(split_checks),
                "kl_tv_note": "TV(p_X1, p_Y1), k = 1 two-component mixture target"}
    verdict, reasons = _decide(probe, condition, brute, dfree, threshold, settings)
    if rate is not None and not rate.consistent:
        reasons.append(f"note: slope in k = {rate.k_slope.value:.2f} exceeds the RATE-TV bound 1")
    label = name if name is not None else type(sampler).__name__
    return AuditResult(name=label, num_steps=num_steps, verdict=verdict, reasons=tuple(reasons),
                       probe=probe, condition=condition, brute_force=brute, dfree=dfree,
                       rate=rate, settings=settings, seconds=time.perf_counter() - start)
