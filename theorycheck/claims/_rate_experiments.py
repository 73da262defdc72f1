"""Experiment machinery shared by the rate claims RATE-TV, RATE-LY and RATE-KL.

A *point* is one (target, intrinsic dimension k, design, T, optional deliberate fault); it is
measured with :func:`theorycheck.experiments.measure` (d = k, so no orthogonal part: the
d-dependence is the DFREE claim's business).  At k = 1 the measurement is deterministic grid
quadrature (tolerance-type errors); for k > 1 the targets are products of identical 1-D
factors, every coordinate's chain is one-dimensional, KL adds exactly and TV comes from Monte
Carlo over the product of the grid densities (standard errors), with the generator of the
claim's grid point.

A *series* is a scan in T (k = 1) or in k (fixed T); it is judged by
:mod:`theorycheck.claims.judging` (the measured law, two-sided, with its resolution).

Sharing between claims: k = 1 points are a pure function of their :class:`PointSpec` (no
randomness is involved), so :func:`_measure_k1` memoises them with ``functools.lru_cache``;
RATE-TV, RATE-LY and RATE-KL run the same DDPM series and pay for it once per process.  Points
with k > 1 carry Monte Carlo randomness from ``CheckContext.point_rng`` and are never cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from theorycheck.claims.types import MeasuredPoint
from theorycheck.claims.user_sampler import UserSampler
from theorycheck.designs import CoefficientDesign, custom_design, make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.schedules import two_phase
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["Fault", "MIXTURE", "MIXTURE3", "GAUSSIAN", "OneDimMixture", "PointSpec",
           "measure_point", "point_record", "SCHEDULE_CONSTANTS"]

#: (c0, c1) of the two-phase schedule for every point ('seed' index convention).
SCHEDULE_CONSTANTS = (2.0, 4.0)
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
#: regime where docs/theory.md §6 expects TV ~ log T / T.
MIXTURE = OneDimMixture(name="mixture", weights=(0.3, 0.7), means=(-1.0, 1.0),
                        variances=(0.01, 0.01))
#: Three unequal, near-discrete components (sd 0.10-0.14), used in the full profile.
MIXTURE3 = OneDimMixture(name="mixture3", weights=(0.25, 0.45, 0.3), means=(-1.2, 0.1, 1.0),
                         variances=(0.015, 0.01, 0.02))
#: A Gaussian N(0.5, 0.25): linear score; converges faster in KL (docs/theory.md §6).
GAUSSIAN = OneDimMixture(name="gaussian", weights=(1.0,), means=(0.5,), variances=(0.25,))


@dataclass(frozen=True, kw_only=True)
class Fault:
    """A deliberate coefficient error of a negative control.

    ``kind``: ``"sigma_sq_factor"`` (σ_t² × size), ``"eta_factor"`` (η_t × size) or
    ``"sigma_sq_offset"`` (σ_t² + size for t ≥ 2: a per-step noise error that does not shrink
    with the step size) or ``"tweedie_push"`` (a boundary control: the exact coefficients, and
    ``δ_T·E[X_0|Y_2]`` added at the last step with ``δ_T = size·T^{-decay}``; see
    :mod:`theorycheck.divergences.tweedie_push`).
    """

    kind: str
    size: float
    decay: float = 0.0

    def label(self) -> str:
        """Short label such as ``"σ²×1.5"`` or ``"+δE[x0|y], δ=-0.1·T^-0.5"``."""
        symbol = {"sigma_sq_factor": "σ²×", "eta_factor": "η×", "sigma_sq_offset": "σ²+",
                  "tweedie_push": "+δE[x0|y], δ="}
        if self.kind not in symbol:
            raise InvalidParameterError(
                f"`kind` must be one of {tuple(symbol)} (got {self.kind!r})")
        if self.kind == "tweedie_push":
            return f"{symbol[self.kind]}{self.size:g}·T^-{self.decay:g}"
        return f"{symbol[self.kind]}{self.size:g}"

    def delta(self, num_steps: int) -> float:
        """``δ_T = size · T^{-decay}`` of a ``"tweedie_push"`` fault."""
        return self.size * float(num_steps) ** -self.decay


@dataclass(frozen=True, kw_only=True)
class PointSpec:
    """One measurement: target, intrinsic dimension, design, number of steps and fault."""

    target: OneDimMixture
    intrinsic_dim: int
    design: str
    num_steps: int
    fault: Fault | None = None
    sampler: UserSampler | None = None

    def design_label(self) -> str:
        """Design name (the target of a user sampler), with the fault appended for controls."""
        name = self.design if self.sampler is None else f"{self.design}[{self.sampler.target}]"
        return name if self.fault is None else f"{name}[{self.fault.label()}]"

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
    if spec.sampler is not None:  # a user's sampler: its measured coefficients, never a fault
        return spec.sampler.design(schedule)
    design = make_design(spec.design, schedule)
    fault = spec.fault
    if fault is None or fault.kind == "tweedie_push":  # the push is not a coefficient change
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

    if spec.fault is not None and spec.fault.kind == "tweedie_push":
        from theorycheck.divergences.tweedie_push import pushed_divergences_1d

        target = _build_target(spec)
        assert isinstance(target, SubspaceGaussianMixture)  # k = 1 here
        values = pushed_divergences_1d(target.subspace_part(), _build_design(spec),
                                       delta=spec.fault.delta(spec.num_steps))
        return values["tv"], values["kl"]
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
