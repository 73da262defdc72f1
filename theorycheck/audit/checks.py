"""Black-box DFREE- and RATE-style checks of an audited sampler on mixture-on-subspace targets.

Three checks, each returning a frozen record with its numbers as :class:`Estimate` s:

* :func:`brute_force_check` runs the sampler itself (``run_chain``, the black box, no
  assumption on its form) on a k = 1 two-component mixture placed in ``R^d`` at moderate d, and
  measures the relative variance error ``ê`` of the ``m = d - 1`` data-free coordinates of
  ``Y_1`` by Monte Carlo.  It is compared with the prediction ``e_total`` of the probe: the exact
  d-split must agree with brute force (docs/theory.md §5), so a probe that does not describe the chain
  (a stateful or non-affine sampler) is caught here.
* :func:`dfree_check` (scalar, consistent steps only) rebuilds the sampler as a
  :func:`~theorycheck.designs.custom_design` from the probed ``η_t, σ_t²`` and measures
  ``TV(p_{X_1}, p_{Y_1})`` exactly through the split for d from 1 to 10^9
  (:func:`~theorycheck.experiments.measure_ambient_dims`): flat for an adaptive sampler, growing
  like ``sqrt(d)`` for a non-adaptive one (Li & Yan 2405.14861 Thm 1; Liang, Huang & Chen
  2501.12982).  The start-up mismatch ``Y_T ~ N(0, I)`` (DDIM's floor ``≈ sqrt(d) ᾱ_T``) is not a
  coefficient property: flatness is judged only where its predicted TV is ``≤ 0.1 TV_k``, the
  rule the DFREE claim uses (:mod:`theorycheck.claims._dimension_checks`).
* :func:`rate_check` (same condition) measures the k-dimensional part for k = 1 and k = 2 (two
  independent copies of the factor) and reports the slope in k (RATE-TV: ``≤ 1``) and
  ``TV·T/(k log T)``, the constant of the ``k/T`` rate up to its log factor.  A black box has one
  T, so the slope in T cannot be measured; this is stated in the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorycheck.audit.condition import OneStepAudit
from theorycheck.audit.probe import ProbeResult
from theorycheck.designs import CoefficientDesign, custom_design
from theorycheck.experiments import Measurement, measure, measure_ambient_dims
from theorycheck.results import ErrorKind, Estimate
from theorycheck.samplers import run_chain
from theorycheck.schedules import Schedule
from theorycheck.scores import exact_score
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["AUDIT_FACTOR", "BruteForceCheck", "brute_force_check", "DimensionCheck",
           "dfree_check", "RateCheck", "rate_check", "design_from_probe", "DFREE_DIMS"]

#: The one-dimensional factor of every audit target: weights (0.3, 0.7), means (-1, 1),
#: variances (0.04, 0.09) — the DFREE claim's factor (near-discrete enough to be non-Gaussian).
AUDIT_FACTOR = ((0.3, 0.7), (-1.0, 1.0), (0.04, 0.09))
#: Ambient dimensions of the DFREE curve (k = 1).
DFREE_DIMS = (1, 10, 100, 10**3, 10**4, 10**5, 10**6, 10**7, 10**8, 10**9)
#: Agreement of brute force with the prediction: |ê - e_total| ≤ 4 standard errors (+ the
#: prediction's own error); 4σ keeps the false-alarm rate below 1e-4 per audit.
AGREEMENT_SIGMAS = 4.0
#: Flat: max/min of TV over the judged range ≤ 1.1 (the DFREE claim's spread rule); grows:
#: TV at the largest judged d ≥ 2 × TV at d = 1 (a sqrt(d) law doubles TV within 0.6 decade).
FLAT_MAX_SPREAD = 1.10
GROWTH_FACTOR = 2.0
#: The start-up floor must stay ≤ this fraction of TV_k where flatness is judged.
STARTUP_FRACTION = 0.1
#: At least this many judged dimensions for a flatness or growth call.
MIN_POINTS = 3


def _factor_target(ambient_dim: int, basis_seed: int) -> SubspaceGaussianMixture:
    w, mu, var = AUDIT_FACTOR
    return SubspaceGaussianMixture.create(
        w, np.array(mu)[:, None], np.array(var)[:, None, None], ambient_dim=ambient_dim,
        basis_seed=basis_seed)


@dataclass(frozen=True, kw_only=True)
class BruteForceCheck:
    """Monte Carlo ``ê`` of the data-free coordinates of the black box's own chains.

    Attributes
    ----------
    ambient_dim, num_samples : int
        d and n of the run.
    measured : Estimate
        ``ê = mean ‖y_⊥‖²/(m (1-ᾱ_1)) - 1`` with its Monte Carlo standard error.
    predicted : Estimate or None
        ``e_total`` of the probe, when the probe found a scalar generic step.
    agrees : bool or None
        ``|ê - e_total| ≤ 4 stderr + error of the prediction``; None without a prediction.
    z_score : float or None
        ``(ê - e_total)/stderr``.
    """

    ambient_dim: int
    num_samples: int
    measured: Estimate
    predicted: Estimate | None
    agrees: bool | None
    z_score: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"ambient_dim": self.ambient_dim, "num_samples": self.num_samples,
                "measured_relative_variance_error": self.measured.to_dict(),
                "predicted": None if self.predicted is None else self.predicted.to_dict(),
                "agrees": self.agrees,
                "z_score": (self.z_score if self.z_score is None or math.isfinite(self.z_score)
                            else None),
                "rule": f"|ê - e_total| ≤ {AGREEMENT_SIGMAS:g} stderr + prediction error"}


def brute_force_check(sampler: Any, schedule: Schedule, *, rng: np.random.Generator,
                      ambient_dim: int = 16, num_samples: int = 2000,
                      condition: OneStepAudit | None = None) -> BruteForceCheck:
    """Run the black box on a k = 1 mixture in ``R^ambient_dim`` and measure ``ê``.

    Parameters
    ----------
    sampler : Sampler
        The audited object (only ``step`` and ``alpha_bar`` are used, through ``run_chain``).
    schedule : Schedule
        Exact schedule of the sampler's ``alpha_bar`` (the scores are evaluated on it).
    rng : numpy.random.Generator
    ambient_dim, num_samples : int
        d (≥ 2) and n; the standard error of ``ê`` is about ``sqrt(2/(n (d-1)))``.
    condition : OneStepAudit, optional
        The probe's prediction to compare with.

    Returns
    -------
    BruteForceCheck
    """
    target = _factor_target(ambient_dim, basis_seed=0)
    basis = np.asarray(target.basis)
    chain = run_chain(sampler, exact_score(target, schedule), num_samples=num_samples,
                      dim=ambient_dim, rng=rng, basis=basis)
    y = chain.final
    y_perp = y - (y @ basis) @ basis.T
    m = ambient_dim - 1
    per_sample = np.sum(y_perp**2, axis=1) / (m * float(schedule.one_minus_alpha_bar[0]))
    value = float(per_sample.mean() - 1.0)
    stderr = float(per_sample.std(ddof=1) / math.sqrt(num_samples))
    measured = Estimate(value=value, stderr=stderr,
                        method=f"brute force: run_chain of the black box, d={ambient_dim}, "
                               f"n={num_samples}, Monte Carlo over the {m} data-free coordinates",
                        error_kind=ErrorKind.STDERR)
    if condition is None:
        return BruteForceCheck(ambient_dim=ambient_dim, num_samples=num_samples,
                               measured=measured, predicted=None, agrees=None, z_score=None)
    predicted = condition.total_error
    z = (value - predicted.value) / stderr if stderr > 0 else math.inf
    agrees = abs(value - predicted.value) <= AGREEMENT_SIGMAS * stderr + predicted.stderr
    return BruteForceCheck(ambient_dim=ambient_dim, num_samples=num_samples, measured=measured,
                           predicted=predicted, agrees=bool(agrees), z_score=float(z))


def design_from_probe(probe: ProbeResult, schedule: Schedule) -> CoefficientDesign:
    """A :class:`CoefficientDesign` with the probed ``η_t = b_t/a_t``, ``σ_t² = (c_t/a_t)²``.

    Valid only for a scalar step consistent with ``alpha_bar`` (the design's step divides by the
    schedule's ``sqrt(α_t)``).  Step ``t = 1`` is never taken; its entries are 0.
    """
    eta = np.concatenate([[0.0], probe.eta])
    sigma_sq = np.concatenate([[0.0], probe.sigma**2])
    return custom_design(schedule, eta=eta, sigma_sq=sigma_sq, name="probed")


@dataclass(frozen=True, kw_only=True)
class DimensionCheck:
    """TV against d through the exact split, with the flat / grows call.

    Attributes
    ----------
    dims : tuple of int
    tv : tuple of Estimate
        ``TV(p_{X_1}, p_{Y_1})`` per d.
    judged_max_dim : float
        Largest d where the start-up floor is ≤ 0.1 TV_k (``inf`` if it is 0).
    call : str
        ``"flat"``, ``"grows"`` or ``"undetermined"``.
    spread : float
        max/min of TV over the judged dimensions.
    """

    dims: tuple[int, ...]
    tv: tuple[Estimate, ...] = field(repr=False)
    judged_max_dim: float
    call: str
    spread: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"dims": list(self.dims), "tv": [e.to_dict() for e in self.tv],
                "judged_max_dim": self.judged_max_dim if math.isfinite(self.judged_max_dim)
                else None, "call": self.call,
                "spread": self.spread if math.isfinite(self.spread) else None,
                "rule": (f"flat: max/min ≤ {FLAT_MAX_SPREAD} over ≥ {MIN_POINTS} judged d "
                         f"(start-up TV ≤ {STARTUP_FRACTION} TV_k); grows: TV(d) ≥ "
                         f"{GROWTH_FACTOR} TV(1) at a judged d")}


def dfree_check(design: CoefficientDesign, condition: OneStepAudit, *,
                rng: np.random.Generator, num_samples: int = 20_000,
                max_num_points: int = 2**12) -> DimensionCheck:
    """TV for d in :data:`DFREE_DIMS` through the exact split (see module docstring)."""
    measured: tuple[Measurement, ...] = measure_ambient_dims(
        _factor_target(1, basis_seed=0), design, DFREE_DIMS, rng=rng, metrics=("tv",),
        num_samples=num_samples, max_num_points=max_num_points)
    tv = tuple(m.values["tv"] for m in measured)
    tv_k = tv[0].value
    startup = abs(condition.startup_error)
    judged_max = (math.inf if startup == 0.0
                  else 4 * math.pi * (STARTUP_FRACTION * tv_k / startup) ** 2 + 1)
    judged = [i for i, d in enumerate(DFREE_DIMS) if d <= judged_max]
    values = np.array([tv[i].value for i in judged])
    errs = np.array([tv[i].stderr for i in judged])
    spread = float(values.max() / values.min()) if values.min() > 0 else math.inf
    # Significant growth: TV(d) - 2 σ ≥ 2 (TV(1) + 2 σ) somewhere in the judged range.
    grows = any(values[j] - 2 * errs[j] >= GROWTH_FACTOR * (values[0] + 2 * errs[0])
                for j in range(len(judged)))
    upper = (values + 2 * errs).max()
    lower = max((values - 2 * errs).min(), 0.0)
    flat = len(judged) >= MIN_POINTS and lower > 0 and upper / lower <= FLAT_MAX_SPREAD
    call = "grows" if grows else ("flat" if flat else "undetermined")
    return DimensionCheck(dims=DFREE_DIMS, tv=tv, judged_max_dim=judged_max, call=call,
                          spread=spread)


@dataclass(frozen=True, kw_only=True)
class RateCheck:
    """The k-dimensional part for k = 1, 2 and the slope in k (RATE-TV style, fixed T).

    Attributes
    ----------
    tv_k1, tv_k2 : Estimate
        TV of the k-dimensional part (d = k) for one factor and for two independent copies.
    k_slope : Estimate
        ``log2(TV_2/TV_1)`` (RATE-TV: ``≤ 1``), error propagated to first order.
    rate_constant : Estimate
        ``TV_1 · T / log T`` (the k/T rate's constant up to its log factor).
    consistent : bool
        ``k_slope ≤ 1`` within two errors + 0.1 (a product of two equal factors has TV at most
        the sum of the factors' TVs, i.e. slope ≤ 1 exactly; 0.1 allows for the Monte Carlo
        TV of the product).
    """

    tv_k1: Estimate
    tv_k2: Estimate
    k_slope: Estimate
    rate_constant: Estimate
    consistent: bool
    note: str = ("a black box has one T: the slope in T is not measured; the k/T rate's "
                 "constant is reported instead")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"tv_k1": self.tv_k1.to_dict(), "tv_k2": self.tv_k2.to_dict(),
                "k_slope": self.k_slope.to_dict(), "rate_constant": self.rate_constant.to_dict(),
                "consistent": self.consistent, "note": self.note}


def rate_check(design: CoefficientDesign, tv_k1: Estimate, *, rng: np.random.Generator,
               num_samples: int = 20_000, max_num_points: int = 2**12) -> RateCheck:
    """Slope in k from ``tv_k1`` (the d = 1 point of :func:`dfree_check`) and a k = 2 product.

    The k = 2 target is two independent copies of :data:`AUDIT_FACTOR` (grid quadrature per
    coordinate, Monte Carlo TV of the product with a standard error).
    """
    two = measure(ProductMixture.create([AUDIT_FACTOR, AUDIT_FACTOR]), design, rng=rng,
                  metrics=("tv",), num_samples=max(num_samples, 100),
                  max_num_points=max_num_points)
    tv1, tv2 = tv_k1, two.values["tv"]
    ratio = tv2.value / tv1.value
    slope = math.log2(ratio)
    slope_err = (tv2.stderr / tv2.value + tv1.stderr / tv1.value) / math.log(2)
    T = design.num_steps
    rate = tv1.value * T / math.log(T)
    consistent = slope - 2 * slope_err <= 1.1
    return RateCheck(
        tv_k1=tv1, tv_k2=tv2,
        k_slope=Estimate(value=slope, stderr=slope_err,
                         method="log2(TV_k2/TV_k1), first-order error propagation",
                         error_kind=tv2.error_kind),
        rate_constant=Estimate(value=rate, stderr=tv1.stderr * T / math.log(T),
                               method="TV_k1 · T / log T", error_kind=tv1.error_kind),
        consistent=bool(consistent))
