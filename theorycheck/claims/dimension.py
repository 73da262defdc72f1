"""Claims DFREE and AMBIENT: how the sampler's error depends on the ambient dimension d.

DFREE (Li & Yan, arXiv:2405.14861, Theorem 1 and their figure of KL/TV against d at k = 8;
Liang, Huang & Chen, arXiv:2501.12982): for data on a k-dimensional subspace, DDPM with the
posterior variance and DDIM have an error that does not grow with d, while DDPM with the β
variance and the probability-flow Euler step pick up ``sqrt(d)`` in TV and ``d`` in KL.  By the
exact split (docs/theory.md §5) the k-part is measured once per (design, T) and d enters in closed
form (:func:`theorycheck.experiments.measure_ambient_dims`), so d = 10^9 costs nothing.

AMBIENT (Li, Wei, Chi & Chen, arXiv:2408.02320, DDIM; Li & Yan,
arXiv:2409.18959, DDPM): without low-dimensional structure the error rate is d/T.  Measured on
full-rank products of d *different* one-dimensional mixtures
(:func:`theorycheck.experiments.measure_leading_factors`).

Every tolerance below carries its reason; the checks themselves live in
:mod:`theorycheck.claims._dimension_checks`.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from theorycheck.claims import _dimension_checks as chk
from theorycheck.claims.types import (
    CheckContext,
    CheckOutcome,
    Claim,
    Prediction,
    Source,
    Variant,
)
from theorycheck.designs import CoefficientDesign, custom_design, make_design
from theorycheck.experiments import Measurement, measure_ambient_dims, measure_leading_factors
from theorycheck.schedules import two_phase
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["register"]

#: DFREE target: k = 8 independent copies of one two-component mixture on the subspace
#: (Li & Yan's figure uses k = 8).  One factor means one grid per (design, T).
_DFREE_FACTOR = ((0.3, 0.7), (-1.0, 1.0), (0.04, 0.09))
_DFREE_K = 8
_DFREE_GRID: dict[str, dict[str, Any]] = {
    "quick": {"figure_T": (100, 200, 500), "check_T": 500, "max_decade": 6, "samples": 25_000,
              "ddim_c1": (4.0,)},
    "full": {"figure_T": (100, 200, 1000), "check_T": 1000, "max_decade": 9,
             "samples": 200_000, "ddim_c1": (4.0, 6.0)},
}
#: Points per decade of d: 8 for the non-adaptive curves at the check T, whose sqrt(d) window
#: (see _dimension_checks) spans well under a decade; 2 elsewhere (each d costs one evaluation of
#: the chi-square factor on every Monte Carlo draw).
_DENSE, _SPARSE = 8, 2
_AMBIENT_GRID: dict[str, dict[str, Any]] = {
    # Every prefix n ≤ d_max is free once the d_max factors are propagated, so the d grid is
    # dense: the slope fit's t-quantile (dof = n - 2) would otherwise dominate its interval.
    "quick": {"dims": (1, 2, 3, 4, 5, 6, 7, 8), "T": (50, 100, 200), "samples": 100_000},
    "full": {"dims": (1, 2, 3, 4, 6, 8, 12, 16, 24, 32), "T": (50, 100, 200, 400),
             "samples": 200_000},
}
_AMBIENT_DESIGNS = ("ddpm_posterior", "ddim")
#: AMBIENT boundary control: the nearest wrong law KL ∝ d^1.2 — DDPM-posterior's measured KLs at
#: the largest T times d^0.2 (same measurement noise, relative errors kept), through the same
#: KL-slope-in-d check (1 ± 0.1).  One (design, T) only: ≈ 3 s CPU quick.  Measured (quick,
#: seed 0): slope 1.201 [1.197, 1.205]; resolution (bisection on the extra power): d^(1+0.1029)
#: FAILs, d^(1+0.1028) is INCONCLUSIVE (the unscaled slope is 1.001 [0.997, 1.005]).
_BOUNDARY_EXTRA_POWER = 0.2
_C0, _C1 = 2.0, 4.0


def _log_grid(max_decade: int, per_decade: int) -> tuple[int, ...]:
    """``round(10^(1 + j/per_decade))`` from 10 to ``10^max_decade``, distinct."""
    values = (round(10.0 ** (1.0 + j / per_decade)) for j in range((max_decade - 1) * per_decade + 1))
    return tuple(sorted(set(values)))


#: Boundary control of DFREE: DDPM whose posterior variance is off by 1e-3 (relative), claimed
#: adaptive.  R_t - 1 ≈ 1e-3·u_t, so the orthogonal TV ≈ |e_1|·sqrt(d/(4π)) reaches the k-part
#: inside d ≤ 10^6: flatness must fail for an error a thousand times smaller than the control's.
#: Measured resolution (quick, T = 500, d ≤ 10^6): 1e-4 FAILs (TV max/min 1.75), 1e-5 passes.
_BOUNDARY_VARIANCE_FACTOR = 1.001
_BOUNDARY_DESIGN = f"ddpm_posterior[σ²×{_BOUNDARY_VARIANCE_FACTOR:g}]"


def _design(name: str, num_steps: int, c1: float) -> CoefficientDesign:
    schedule = two_phase(num_steps, c0=_C0, c1=c1)
    if name != _BOUNDARY_DESIGN:
        return make_design(name, schedule)
    post = make_design("ddpm_posterior", schedule)
    with mpmath.workdps(schedule.dps):
        coeffs = [post.mp_coefficients(t) for t in range(1, num_steps + 1)]
        factor = mpmath.mpf(_BOUNDARY_VARIANCE_FACTOR)
        return custom_design(schedule, eta=[e for e, _ in coeffs],
                             sigma_sq=[s * factor for _, s in coeffs], name=_BOUNDARY_DESIGN)


def _dfree_series(ctx: CheckContext) -> list[chk.Series]:
    grid = _DFREE_GRID[ctx.profile]
    t_check = int(grid["check_T"])
    if ctx.variant is Variant.CONTROL:
        # Deliberately wrong: DDPM with the β variance claimed adaptive (run through flatness).
        return [chk.Series(design="ddpm_beta", c1=_C1, num_steps=t_check, adaptive=True)]
    if ctx.variant is Variant.BOUNDARY:
        return [chk.Series(design=_BOUNDARY_DESIGN, c1=_C1, num_steps=t_check, adaptive=True)]
    series = []
    for num_steps in grid["figure_T"]:
        series.append(chk.Series(design="ddpm_posterior", c1=_C1, num_steps=num_steps,
                                 adaptive=True))
        series.append(chk.Series(design="ddpm_beta", c1=_C1, num_steps=num_steps,
                                 adaptive=False))
    # DDIM at the smallest T shows its start-up floor (sqrt(d)·ᾱ_T reaches k/T inside the grid).
    # c1 = 6 (full): ᾱ_T ≈ e^-1 T^-4 pushes the floor beyond d = 10^9 (the theorems take c1
    # "large enough"; SCHED checks the schedule properties for (2, 4)).  In the quick profile
    # c1 = 4 already keeps the floor below the d grid (≤ 10^6) at T = 500.
    series.append(chk.Series(design="ddim", c1=_C1, num_steps=int(grid["figure_T"][0]),
                             adaptive=True))
    series += [chk.Series(design="ddim", c1=c1, num_steps=t_check, adaptive=True)
               for c1 in grid["ddim_c1"]]
    series.append(chk.Series(design="pf_euler", c1=_C1, num_steps=t_check, adaptive=False))
    return series


def _dfree_check(ctx: CheckContext) -> CheckOutcome:
    grid = _DFREE_GRID[ctx.profile]
    target = ProductMixture.create([_DFREE_FACTOR] * _DFREE_K)
    results = []
    for index, series in enumerate(_dfree_series(ctx)):
        dense = not series.adaptive and series.num_steps == int(grid["check_T"])
        dims = _log_grid(int(grid["max_decade"]), _DENSE if dense else _SPARSE)
        design = _design(series.design, series.num_steps, series.c1)
        measured = measure_ambient_dims(target, design, dims, rng=ctx.point_rng(index),
                                        num_samples=int(grid["samples"]))
        alpha_bar_final = float(design.schedule.alpha_bar[-1])
        results.append(chk.SeriesResult(series=series, dims=dims, measurements=measured,
                                        intrinsic_dim=_DFREE_K,
                                        alpha_bar_final=alpha_bar_final))
    if ctx.variant is Variant.BOUNDARY:
        return chk.dfree_outcome(results, control=True,
                                 control_label=f"{_BOUNDARY_DESIGN} claimed adaptive")
    return chk.dfree_outcome(results, control=ctx.variant is Variant.CONTROL)


def _ambient_factor(index: int) -> tuple[tuple[float, float], tuple[float, float],
                                         tuple[float, float]]:
    """Factor ``index`` of the AMBIENT family: two components with parameters from
    low-discrepancy sequences, so no two factors are equal (weights 0.3-0.7, half-separation
    1.0-1.5, component variances 0.08-0.16 and 0.15-0.25)."""
    u = math.fmod(0.5 + index * (math.sqrt(5.0) - 1.0) / 2.0, 1.0)
    v = math.fmod(0.5 + index * math.sqrt(2.0), 1.0)
    weight, half_gap = 0.3 + 0.4 * u, 1.0 + 0.5 * v
    return ((weight, 1.0 - weight), (-half_gap, half_gap), (0.08 + 0.08 * v, 0.15 + 0.1 * u))


def _ambient_boundary(ctx: CheckContext, extra_power: float) -> CheckOutcome:
    """KL(d)·d^extra_power of DDPM-posterior at the largest T, judged by the KL-slope check."""
    grid = _AMBIENT_GRID[ctx.profile]
    dims = tuple(int(d) for d in grid["dims"])
    num_steps = int(grid["T"][-1])
    design = make_design(_AMBIENT_DESIGNS[0], two_phase(num_steps, c0=_C0, c1=_C1))
    target = ProductMixture.create([_ambient_factor(i) for i in range(max(dims))])
    measured = measure_leading_factors(target, design, dims, rng=ctx.point_rng(0),
                                       num_samples=int(grid["samples"]))
    return chk.ambient_boundary_outcome(measured, dims=dims, num_steps=num_steps,
                                        design=_AMBIENT_DESIGNS[0], extra_power=extra_power)


def _ambient_check(ctx: CheckContext) -> CheckOutcome:
    if ctx.variant is Variant.BOUNDARY:
        return _ambient_boundary(ctx, _BOUNDARY_EXTRA_POWER)
    grid = _AMBIENT_GRID[ctx.profile]
    dims = tuple(int(d) for d in grid["dims"])
    control = ctx.variant is Variant.CONTROL
    results: dict[tuple[str, int], tuple[Measurement, ...]] = {}
    index = 0
    for name in _AMBIENT_DESIGNS:
        for num_steps in grid["T"]:
            design = make_design(name, two_phase(num_steps, c0=_C0, c1=_C1))
            rng = ctx.point_rng(index)
            index += 1
            if control:
                # Deliberately wrong target for the claim: k = 1 embedded in R^d, no growth in d.
                weights, means, variances = _ambient_factor(0)
                factor = SubspaceGaussianMixture.create(
                    weights, np.array(means)[:, None], np.array(variances)[:, None, None])
                results[(name, num_steps)] = measure_ambient_dims(
                    factor, design, dims, rng=rng, num_samples=int(grid["samples"]))
            else:
                target = ProductMixture.create([_ambient_factor(i) for i in range(max(dims))])
                results[(name, num_steps)] = measure_leading_factors(
                    target, design, dims, rng=rng, num_samples=int(grid["samples"]))
    return chk.ambient_outcome(results, dims=dims, steps=tuple(int(t) for t in grid["T"]),
                               control=control)


def _dfree_claim() -> Claim:
    return Claim(
        id="DFREE",
        title="Dimension-free error of adaptive designs; sqrt(d) / d growth of the others",
        source=Source(paper="Li & Yan; Liang, Huang & Chen", arxiv="2405.14861; 2501.12982",
                      location="Li & Yan Thm 1 and figure (KL/TV vs d, k = 8); 2501.12982 one-step lower "
                               "bound"),
        statement=("Data on a k = 8 dimensional subspace of R^d, schedule two-phase (c0, c1) = "
                   "(2, 4), exact scores: at fixed k and T, TV and KL are flat in d (10 ≤ d ≤ "
                   "10^6 quick, 10^9 full) for DDPM with the posterior variance and for DDIM — "
                   "DDIM in the regime sqrt(d)·ᾱ_T ≤ 0.1·k/T, outside which its start-up floor "
                   "≈ sqrt(d)·ᾱ_T appears (docs/theory.md §4; with c1 = 6, full profile, the regime "
                   "covers d ≤ 10^9) — and grow like sqrt(d) (TV) and d (KL) for DDPM with the β "
                   "variance and probability-flow Euler once their orthogonal error dominates."),
        latex=(r"\mathrm{TV},\ \mathrm{KL} \propto d^{0}\ (\text{adaptive}),\qquad "
               r"\mathrm{TV} \propto (d-k)^{1/2},\ \mathrm{KL} \propto (d-k)\ "
               r"(\text{non-adaptive, orthogonal part dominant})"),
        quantity=("TV(p_X1, p_Y1) and KL(p_X1 ‖ p_Y1) of the full d-dimensional output "
                  "(target after one noise step vs sampler output): k-part by grid quadrature "
                  "per coordinate (KL adds; TV of the product by Monte Carlo, common draws "
                  "for every d), orthogonal part exact (chi-square closed forms)"),
        prediction=Prediction(
            kind="two_sided", value=0.0, tolerance=chk.FLAT_SLOPE_TOL,
            rationale=chk.DFREE_RATIONALE,
            description=(f"adaptive: slope in d 0 ± {chk.FLAT_SLOPE_TOL:g}, max/min ≤ "
                         f"{chk.FLAT_MAX_SPREAD:g}; non-adaptive: TV slope 1/2 ± "
                         f"{chk.GROWTH_TOL:g}, KL slope 1 ± {chk.GROWTH_TOL:g} in the window")),
        grids={p: (f"k = 8 product target; figure T ∈ {g['figure_T']} (DDPM posterior, DDPM β), "
                   f"DDIM at T = {g['figure_T'][0]}; check T = {g['check_T']} (also DDIM with c1 ∈ "
                   f"{g['ddim_c1']}, PF-Euler); d "
                   f"from 10 to 10^{g['max_decade']}, {_SPARSE} points per decade ({_DENSE} for the "
                   f"non-adaptive curves at the check T); {g['samples']} Monte Carlo draws")
               for p, g in _DFREE_GRID.items()},
        negative_control=("DDPM with the β variance claimed adaptive: run through the same "
                          "flatness check at the check T"),
        boundary_control=(f"DDPM with the posterior variance off by 1e-3 (σ_t² × "
                          f"{_BOUNDARY_VARIANCE_FACTOR:g}) claimed adaptive: the same flatness "
                          "check at the check T"),
        check=_dfree_check)


def _ambient_claim() -> Claim:
    return Claim(
        id="AMBIENT",
        title="Upper bound d/T without low-dimensional structure: the error grows with d",
        source=Source(paper="Li, Wei, Chi & Chen; Li & Yan",
                      arxiv="2408.02320; 2409.18959",
                      location="2408.02320 main theorem (DDIM, d/T); 2409.18959 Theorem 1 (DDPM, d log^3 T / "
                               "T)"),
        statement=("For a full-rank target (k = d: a product of d different one-dimensional "
                   "mixtures) DDIM and DDPM (posterior variance) with exact scores have an error "
                   "of order d/T: KL grows linearly in d at fixed T and, with TV, decays at "
                   "least like 1/T (up to the theorems' log factors) at fixed d; TV grows no "
                   "faster than d."),
        latex=(r"\mathrm{KL}(p_{X_1}\|p_{Y_1}) \propto d,\quad "
               r"\mathrm{KL},\ \mathrm{TV}/\log^3 T = O(T^{-1}),\quad \mathrm{TV} = O(d)"),
        quantity=("TV(p_X1, p_Y1) and KL(p_X1 ‖ p_Y1), target after one noise step vs sampler "
                  "output; KL exactly additive over the factors (grid quadrature per factor), "
                  "TV of the product by Monte Carlo (draws shared across d)"),
        prediction=Prediction(
            kind="two_sided", value=1.0, tolerance=chk.AMBIENT_KL_TOL,
            rationale=chk.AMBIENT_RATIONALE,
            description=(f"KL slope in d = 1 ± {chk.AMBIENT_KL_TOL:g}; KL slope in T ≤ -1 (raw); "
                         "TV slope in T ≤ -1 after log^3 T; TV slope in d ≤ 1")),
        grids={p: (f"d ∈ {g['dims']} × T ∈ {g['T']}, designs {', '.join(_AMBIENT_DESIGNS)}, "
                   f"two-phase (2, 4); {g['samples']} Monte Carlo draws")
               for p, g in _AMBIENT_GRID.items()},
        negative_control=("the low-dimensional target (k = 1, one factor of the family) embedded "
                          "in R^d with the same d grid: its error does not grow with d, so the "
                          "KL-slope-in-d check must fail"),
        boundary_control=(f"the nearest wrong law KL ∝ d^{1 + _BOUNDARY_EXTRA_POWER:g}: "
                          f"DDPM-posterior's measured KLs at the largest T times "
                          f"d^{_BOUNDARY_EXTRA_POWER:g}, through the same KL-slope-in-d check "
                          f"(1 ± {chk.AMBIENT_KL_TOL:g}); resolution (quick): an extra power "
                          "0.1029 FAILs, 0.1028 does not (unscaled slope 1.001)"),
        check=_ambient_check)


def register(registry: Any) -> None:
    """Register DFREE and AMBIENT."""
    registry.register(_dfree_claim())
    registry.register(_ambient_claim())

