"""Measure ``TV(p_{X_1}, p_{Y_1})`` and KL for one (target, schedule, design), by the best method.

Method choice (THEORY §5-§6), always through the exact d-split:

* ``k = 1`` — deterministic grid quadrature of the density of ``Y_1`` at two resolutions
  (:mod:`theorycheck.divergences.grid`), any design; the product with the orthogonal part is
  exact: ``TV = E_q[g(p_k/q_k)]`` with ``g`` from the chi-square closed form.
* product targets (independent coordinates in U's frame), any ``k`` — every coordinate's
  chain is one-dimensional: grid quadrature per coordinate; KL adds exactly; TV of the product by
  Monte Carlo over the product of the grid (cell) distributions, with a standard error.
* deterministic designs, general ``k`` — exact change of variables along sample paths
  (:mod:`theorycheck.divergences.change_of_variables`), Monte Carlo with standard errors;
  KL is then ``KL(p_{Y_1}‖p_{X_1})`` (the direction is recorded).
* stochastic designs, general ``k`` — only the path KL, an *upper bound* on the marginal KL
  (:mod:`theorycheck.divergences.path_kl`); TV is not available and asking for it is an error.

The orthogonal part (``m = d - k`` data-free coordinates) is always closed form from the exact
variance recursion, so ``d`` up to ``10^9`` costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real
from theorycheck.designs import CoefficientDesign
from theorycheck.divergences import gaussian
from theorycheck.divergences.grid import (
    GridDensity,
    grid_divergences,
    grid_expectation,
    grid_log_ratio,
    propagate_density_1d,
    suggest_grid_1d,
)
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind, Estimate
from theorycheck.split import orthogonal_variance
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["Measurement", "measure", "METRICS", "KL_TARGET_TO_MODEL", "KL_MODEL_TO_TARGET"]

METRICS = ("tv", "kl")
KL_TARGET_TO_MODEL = "KL(p_X1 || p_Y1)"
KL_MODEL_TO_TARGET = "KL(p_Y1 || p_X1)"
KL_PATH = "KL(p_X1:T || p_Y1:T) (path, upper bound on KL(p_X1 || p_Y1))"


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """TV and KL of the full d-dimensional output, and the subspace / orthogonal parts.

    ``values`` holds the requested metrics (``"tv"``, ``"kl"``); ``parts["subspace"]`` and
    ``parts["orthogonal"]`` the same metrics per part.  ``kl_direction`` says which KL.
    """

    values: dict[str, Estimate]
    parts: dict[str, dict[str, Estimate]]
    kl_direction: str
    method: str
    ambient_dim: int
    intrinsic_dim: int
    orthogonal_relative_error: float
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: top-level metrics, ``parts.subspace``, ``parts.orthogonal``."""
        out: dict[str, Any] = {k: v.to_dict() for k, v in self.values.items()}
        out["parts"] = {name: {k: v.to_dict() for k, v in part.items()}
                        for name, part in self.parts.items()}
        out.update({"kl_direction": self.kl_direction, "method": self.method,
                    "ambient_dim": self.ambient_dim, "intrinsic_dim": self.intrinsic_dim,
                    "orthogonal_relative_variance_error": self.orthogonal_relative_error,
                    "notes": list(self.notes)})
        return out


def _factor_functions(factor: SubspaceGaussianMixture, design: CoefficientDesign) -> tuple[
        Any, Any, Any]:
    schedule = design.schedule
    ab, q = schedule.alpha_bar, schedule.one_minus_alpha_bar

    def score(t: int, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return factor.score(y[:, None], alpha_bar=float(ab[t - 1]),
                            one_minus_alpha_bar=float(q[t - 1]))[:, 0]

    def score_derivative(t: int, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return factor.score_jacobian(y[:, None], alpha_bar=float(ab[t - 1]),
                                     one_minus_alpha_bar=float(q[t - 1]))[:, 0, 0]

    def log_density(y: NDArray[np.float64]) -> NDArray[np.float64]:
        return factor.log_density(y[:, None], alpha_bar=float(ab[0]),
                                  one_minus_alpha_bar=float(q[0]))

    return score, score_derivative, log_density


@dataclass(frozen=True, kw_only=True)
class _GridPair:
    coarse: GridDensity
    fine: GridDensity
    log_density: Any


def _grid_pair(factor: SubspaceGaussianMixture, design: CoefficientDesign,
               max_num_points: int) -> _GridPair:
    score, dscore, logp = _factor_functions(factor, design)
    sched = design.schedule
    span, n = suggest_grid_1d(score=score, score_derivative=dscore, target_log_density=logp,
                              points_per_scale=8.0, max_num_points=max_num_points // 2)
    grids = [propagate_density_1d(alpha=sched.alpha, eta=design.eta, sigma=design.sigma,
                                  score=score, score_derivative=dscore, span=span,
                                  num_points=cells) for cells in (n, 2 * n)]
    return _GridPair(coarse=grids[0], fine=grids[1], log_density=logp)


def _two_level(name: str, coarse: float, fine: float, extra: float, method: str) -> Estimate:
    return Estimate(value=fine, stderr=abs(fine - coarse) + extra, method=method,
                    error_kind=ErrorKind.TOLERANCE)


def _orthogonal(design: CoefficientDesign, m: int, kl_direction: str) -> tuple[
        dict[str, Estimate], float]:
    rel = orthogonal_variance(design).relative_error_mp
    if m == 0:
        zero = Estimate(value=0.0, stderr=0.0, method="no orthogonal complement (d = k)")
        return {"tv": zero, "kl": zero}, 0.0
    direction = "target_to_model" if kl_direction != KL_MODEL_TO_TARGET else "model_to_target"
    return ({"tv": gaussian.tv_isotropic(m, rel),
             "kl": gaussian.kl_isotropic(m, rel, direction=direction)}, float(rel))


def _measure_grid(factors: Sequence[SubspaceGaussianMixture], design: CoefficientDesign, m: int,
                  rng: np.random.Generator, num_samples: int, max_num_points: int
                  ) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]], str]:
    pairs = [_grid_pair(f, design, max_num_points) for f in factors]
    orth, rel = _orthogonal(design, m, KL_TARGET_TO_MODEL)
    kl_k_c = kl_k_f = extra = 0.0
    for pair in pairs:
        dc = grid_divergences(model=pair.coarse, target_log_density=pair.log_density)
        df = grid_divergences(model=pair.fine, target_log_density=pair.log_density)
        kl_k_c += dc["kl"].value
        kl_k_f += df["kl"].value
        extra += df["kl"].stderr
    method = (f"grid quadrature per coordinate (k={len(factors)}), two resolutions; "
              "tolerance = |fine - coarse| + truncation")
    sub = {"kl": _two_level("kl", kl_k_c, kl_k_f, extra, method)}
    if len(pairs) == 1:
        pair = pairs[0]
        dc = grid_divergences(model=pair.coarse, target_log_density=pair.log_density)
        df = grid_divergences(model=pair.fine, target_log_density=pair.log_density)
        sub["tv"] = _two_level("tv", dc["tv"].value, df["tv"].value, df["tv"].stderr, method)
        if m == 0:
            tv_total = sub["tv"]
        else:
            vals = []
            for grid in (pair.coarse, pair.fine):
                ratio = grid_log_ratio(grid, pair.log_density)
                vals.append(grid_expectation(grid, gaussian.orthogonal_tv_factor(ratio, m, rel)))
            tv_total = _two_level("tv", vals[0], vals[1], df["tv"].stderr,
                                  "grid quadrature of E_q[g(p_k/q_k)] with the exact chi-square "
                                  "orthogonal factor g; tolerance = |fine - coarse| + truncation")
    else:
        tv_sub, tv_total = _product_tv_mc(pairs, m, rel, rng, num_samples)
        sub["tv"] = tv_sub
    total = {"tv": tv_total,
             "kl": Estimate(value=sub["kl"].value + orth["kl"].value, stderr=sub["kl"].stderr,
                            method="KL_k (grid) + KL_⊥ (exact): KL of a product adds",
                            error_kind=ErrorKind.TOLERANCE)}
    return total, {"subspace": sub, "orthogonal": orth}, method


def _product_tv_mc(pairs: Sequence[_GridPair], m: int, rel: float, rng: np.random.Generator,
                   num_samples: int) -> tuple[Estimate, Estimate]:
    """TV of a product of grid densities (and with the orthogonal part) by Monte Carlo.

    Draws cell indices from each coordinate's cell masses (the fine grid), so the estimator is
    ``E_q[(1 - p/q)_+]`` under the discretised ``q`` — quadrature error of the midpoint rule
    (spectrally small) plus the reported Monte Carlo standard error.
    """
    log_ratio = np.zeros(num_samples)
    for pair in pairs:
        grid = pair.fine
        probs = np.where(grid.resolved, np.maximum(grid.cell_masses, 0.0), 0.0)
        probs = probs / probs.sum()
        idx = rng.choice(probs.size, size=num_samples, p=probs)
        log_ratio += grid_log_ratio(grid, pair.log_density)[idx]
    sub_terms = -np.expm1(np.minimum(log_ratio, 0.0))
    method = (f"Monte Carlo over the product of per-coordinate grid densities (n={num_samples});"
              " ± one standard error")
    n = float(num_samples)
    sub = Estimate(value=float(sub_terms.mean()), stderr=float(sub_terms.std(ddof=1) / n**0.5),
                   method=method, error_kind=ErrorKind.STDERR)
    if m == 0:
        return sub, sub
    terms = gaussian.orthogonal_tv_factor(log_ratio, m, rel)
    tot = Estimate(value=float(terms.mean()), stderr=float(terms.std(ddof=1) / n**0.5),
                   method=method + " with the exact chi-square orthogonal factor",
                   error_kind=ErrorKind.STDERR)
    return sub, tot


def measure(target: Any, design: CoefficientDesign, *, rng: np.random.Generator,
            metrics: Sequence[str] = METRICS, num_samples: int = 200_000,
            max_num_points: int = 2**16) -> Measurement:
    """Measure the sampler's error against ``p_{X_1}`` (see the module docstring for methods).

    Parameters
    ----------
    target : SubspaceGaussianMixture or ProductMixture
        The data distribution on a k-dimensional subspace of ``R^d``.
    design : CoefficientDesign
        Sampler coefficients (and schedule).
    rng : numpy.random.Generator
        Only used by Monte Carlo methods.
    metrics : sequence of {"tv", "kl"}
    num_samples : int
        Monte Carlo sample size where Monte Carlo is used.
    max_num_points : int
        Cap on grid cells per coordinate.

    Returns
    -------
    Measurement
    """
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    if not isinstance(target, SubspaceGaussianMixture | ProductMixture):
        raise InvalidParameterError(
            f"`target` must be a SubspaceGaussianMixture or ProductMixture "
            f"(got {type(target).__name__})")
    if not isinstance(rng, np.random.Generator):
        raise InvalidParameterError(
            f"`rng` must be a numpy.random.Generator (got {type(rng).__name__})")
    wanted = tuple(metrics)
    for name in wanted:
        if name not in METRICS:
            raise InvalidParameterError(f"`metrics` entries must be one of {METRICS} (got {name!r})")
    if not wanted:
        raise InvalidParameterError("`metrics` must name at least one metric")
    n = check_int("num_samples", num_samples, minimum=100)
    check_real("max_num_points", max_num_points, lower=64)
    d, k = int(target.ambient_dim), int(target.intrinsic_dim)
    m = d - k
    sub_target = target.subspace_part()
    notes: list[str] = []
    total: dict[str, Estimate]
    parts: dict[str, dict[str, Estimate]]
    if k == 1 or isinstance(sub_target, ProductMixture):
        factors = ([sub_target] if isinstance(sub_target, SubspaceGaussianMixture)
                   else [sub_target.factor(i) for i in range(k)])
        total, parts, method = _measure_grid(factors, design, m, rng, n, int(max_num_points))
        direction = KL_TARGET_TO_MODEL
        rel = float(orthogonal_variance(design).relative_error)
    elif design.is_deterministic:
        from theorycheck.divergences.change_of_variables import deterministic_divergences

        res = deterministic_divergences(design, target, num_samples=n, rng=rng, ambient_dim=d)
        total = {"tv": res["tv"], "kl": res["kl"]}
        parts = {"subspace": {"tv": res["tv_subspace"], "kl": res["kl_subspace"]},
                 "orthogonal": {"tv": res["tv_orthogonal"], "kl": res["kl_orthogonal"]}}
        method = "exact change of variables along sample paths (Monte Carlo)"
        direction = KL_MODEL_TO_TARGET
        rel = float(orthogonal_variance(design).relative_error)
    else:
        if "tv" in wanted:
            raise InvalidParameterError(
                "`metrics`: TV of a stochastic design at k > 1 needs k = 1 or a product target "
                "(no exact or quadrature method exists here); ask for ['kl'] (path KL bound)")
        from theorycheck.divergences.path_kl import path_kl

        res_kl = path_kl(design, target, num_samples=n, rng=rng, ambient_dim=d)
        total = {"kl": res_kl.total}
        parts = {"subspace": {"kl": res_kl.subspace}, "orthogonal": {"kl": res_kl.orthogonal}}
        method = "path KL with exact reverse conditionals (upper bound on the marginal KL)"
        direction = KL_PATH
        rel = float(orthogonal_variance(design).relative_error)
        notes.append("KL is the path KL, an upper bound on KL(p_X1 || p_Y1)")
    values = {key: total[key] for key in wanted}
    parts_out = {name: {key: part[key] for key in wanted if key in part}
                 for name, part in parts.items()}
    return Measurement(values=values, parts=parts_out, kl_direction=direction, method=method,
                       ambient_dim=d, intrinsic_dim=k, orthogonal_relative_error=rel,
                       notes=tuple(notes))
