"""Measure ``TV(p_{X_1}, p_{Y_1})`` and KL for one (target, schedule, design), by the best method.

The method for the k-dimensional subspace part is chosen by capability in one table,
:data:`theorycheck.measure_methods.METHOD_TABLE` (closed form for one-component Gaussian
targets → grid quadrature for k = 1 / product targets → the k = 2 tensor grid → exact change of
variables for deterministic designs → the path-KL upper bound for stochastic designs); see
:mod:`theorycheck.measure_methods`.  This module holds the result record, the k = 1 / product
grid stage used by that table, and the multi-dimension helpers.

The orthogonal part (``m = d - k`` data-free coordinates) is always the exact closed-form
marginal from the variance recursion, so ``d`` up to ``10^9`` costs nothing:
:func:`measure_ambient_dims` measures the k-part once and assembles many ``d``;
:func:`measure_leading_factors` does the same for the full-rank products of the first ``n``
factors of a product target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real, check_rng
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

__all__ = ["Measurement", "measure", "measure_ambient_dims", "measure_leading_factors", "METRICS",
           "KL_TARGET_TO_MODEL", "KL_MODEL_TO_TARGET"]

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
    extra: dict[str, Estimate] = field(default_factory=dict)
    method_name: str = ""
    method_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: top-level metrics, ``parts.subspace``, ``parts.orthogonal``, the
        other KL direction when the method gives it (``extra``), the method and why."""
        out: dict[str, Any] = {k: v.to_dict() for k, v in self.values.items()}
        out.update({k: v.to_dict() for k, v in self.extra.items()})
        out["parts"] = {name: {k: v.to_dict() for k, v in part.items()}
                        for name, part in self.parts.items()}
        out.update({"kl_direction": self.kl_direction, "method": self.method,
                    "ambient_dim": self.ambient_dim, "intrinsic_dim": self.intrinsic_dim,
                    "orthogonal_relative_variance_error": self.orthogonal_relative_error,
                    "notes": list(self.notes)})
        if self.method_name:
            out.update({"method_name": self.method_name, "method_reason": self.method_reason})
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


def _orthogonal(design: CoefficientDesign, m: int, kl_direction: str,
                rel_mp: Any = None) -> tuple[dict[str, Estimate], float]:
    """Exact TV and KL of the ``m`` data-free coordinates (``rel_mp``: precomputed ``e_1``)."""
    rel = orthogonal_variance(design).relative_error_mp if rel_mp is None else rel_mp
    if m == 0:
        zero = Estimate(value=0.0, stderr=0.0, method="no orthogonal complement (d = k)")
        return {"tv": zero, "kl": zero}, 0.0
    direction = "target_to_model" if kl_direction != KL_MODEL_TO_TARGET else "model_to_target"
    return ({"tv": gaussian.tv_isotropic(m, rel),
             "kl": gaussian.kl_isotropic(m, rel, direction=direction)}, float(rel))


def _factor_key(factor: SubspaceGaussianMixture) -> bytes:
    """Bytes identifying a one-dimensional factor by value (weights, means, variances)."""
    return b"|".join(np.ascontiguousarray(a, dtype=np.float64).tobytes()
                     for a in (factor.weights, factor.means, factor.covariances))


def _grid_pairs(factors: Sequence[SubspaceGaussianMixture], design: CoefficientDesign,
                max_num_points: int) -> list[_GridPair]:
    """One grid pair per factor; factors equal by value share one propagation (same numbers)."""
    cache: dict[bytes, _GridPair] = {}
    pairs = []
    for factor in factors:
        key = _factor_key(factor)
        if key not in cache:
            cache[key] = _grid_pair(factor, design, max_num_points)
        pairs.append(cache[key])
    return pairs


@dataclass(frozen=True, kw_only=True, eq=False)
class _SubspaceStage:
    """The d-independent k-part; ``level_log_ratios`` (k = 1: on the coarse and fine grid) or
    ``log_ratio`` (product: Monte Carlo samples of ``log p_k/q_k``) is set, never both."""

    pairs: tuple[_GridPair, ...]
    sub: dict[str, Estimate]
    level_log_ratios: tuple[NDArray[np.float64], NDArray[np.float64]] | None
    log_ratio: NDArray[np.float64] | None
    tv_truncation: float
    method: str


def _pair_kls(pairs: Sequence[_GridPair]) -> list[tuple[float, float, float]]:
    """Per coordinate: coarse KL, fine KL and the fine grid's truncation tolerance."""
    seen: dict[int, tuple[float, float, float]] = {}
    out = []
    for pair in pairs:
        if id(pair) not in seen:
            dc = grid_divergences(model=pair.coarse, target_log_density=pair.log_density)
            df = grid_divergences(model=pair.fine, target_log_density=pair.log_density)
            seen[id(pair)] = (dc["kl"].value, df["kl"].value, df["kl"].stderr)
        out.append(seen[id(pair)])
    return out


def _draw_log_ratio(pair: _GridPair, rng: np.random.Generator,
                    num_samples: int) -> NDArray[np.float64]:
    """``log p/q`` of one coordinate at cells drawn from the fine grid's cell masses."""
    grid = pair.fine
    probs = np.where(grid.resolved, np.maximum(grid.cell_masses, 0.0), 0.0)
    probs = probs / probs.sum()
    idx = rng.choice(probs.size, size=num_samples, p=probs)
    out: NDArray[np.float64] = grid_log_ratio(grid, pair.log_density)[idx]
    return out


_MC_METHOD = ("Monte Carlo over the product of per-coordinate grid densities (n={n}); "
              "± one standard error")


def _mean_estimate(terms: NDArray[np.float64], method: str) -> Estimate:
    n = float(terms.size)
    return Estimate(value=float(terms.mean()), stderr=float(terms.std(ddof=1) / n**0.5),
                    method=method, error_kind=ErrorKind.STDERR)


def _subspace_stage(pairs: Sequence[_GridPair], rng: np.random.Generator, num_samples: int,
                    log_ratio: NDArray[np.float64] | None = None,
                    kls: Sequence[tuple[float, float, float]] | None = None) -> _SubspaceStage:
    """Measure the k-part once; pre-drawn ``log_ratio`` samples and ``kls`` reuse work."""
    kl_k_c = kl_k_f = extra = 0.0
    for coarse, fine, tol in _pair_kls(pairs) if kls is None else kls:
        kl_k_c += coarse
        kl_k_f += fine
        extra += tol
    method = (f"grid quadrature per coordinate (k={len(pairs)}), two resolutions; "
              "tolerance = |fine - coarse| + truncation")
    sub = {"kl": _two_level("kl", kl_k_c, kl_k_f, extra, method)}
    if len(pairs) == 1:
        pair = pairs[0]
        dc = grid_divergences(model=pair.coarse, target_log_density=pair.log_density)
        df = grid_divergences(model=pair.fine, target_log_density=pair.log_density)
        sub["tv"] = _two_level("tv", dc["tv"].value, df["tv"].value, df["tv"].stderr, method)
        levels = (grid_log_ratio(pair.coarse, pair.log_density),
                  grid_log_ratio(pair.fine, pair.log_density))
        return _SubspaceStage(pairs=tuple(pairs), sub=sub, level_log_ratios=levels,
                              log_ratio=None, tv_truncation=df["tv"].stderr, method=method)
    if log_ratio is None:
        log_ratio = np.zeros(num_samples)
        for pair in pairs:
            log_ratio += _draw_log_ratio(pair, rng, num_samples)
    sub["tv"] = _mean_estimate(-np.expm1(np.minimum(log_ratio, 0.0)),
                               _MC_METHOD.format(n=log_ratio.size))
    return _SubspaceStage(pairs=tuple(pairs), sub=sub, level_log_ratios=None,
                          log_ratio=log_ratio, tv_truncation=0.0, method=method)


def _assemble(stage: _SubspaceStage, orth: dict[str, Estimate], m: int, rel: float
              ) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]]]:
    """Totals with ``m`` orthogonal coordinates: TV = ``E_q[g(p_k/q_k)]`` (chi-square ``g``), KL adds."""
    sub = stage.sub
    if m == 0:
        tv_total = sub["tv"]
    elif stage.level_log_ratios is not None:
        pair = stage.pairs[0]
        vals = [grid_expectation(grid, gaussian.orthogonal_tv_factor(ratio, m, rel))
                for grid, ratio in zip((pair.coarse, pair.fine), stage.level_log_ratios,
                                       strict=True)]
        tv_total = _two_level("tv", vals[0], vals[1], stage.tv_truncation,
                              "grid quadrature of E_q[g(p_k/q_k)] with the exact chi-square "
                              "orthogonal factor g; tolerance = |fine - coarse| + truncation")
    else:
        assert stage.log_ratio is not None  # invariant of _SubspaceStage
        tv_total = _mean_estimate(gaussian.orthogonal_tv_factor(stage.log_ratio, m, rel),
                                  _MC_METHOD.format(n=stage.log_ratio.size)
                                  + " with the exact chi-square orthogonal factor")
    total = {"tv": tv_total,
             "kl": Estimate(value=sub["kl"].value + orth["kl"].value, stderr=sub["kl"].stderr,
                            method="KL_k (grid) + KL_⊥ (exact): KL of a product adds",
                            error_kind=ErrorKind.TOLERANCE)}
    return total, {"subspace": sub, "orthogonal": orth}


def _validate(target: Any, design: Any, rng: Any, metrics: Sequence[str], num_samples: Any,
              max_num_points: Any) -> tuple[tuple[str, ...], int]:
    """Shared argument checks; returns the wanted metrics and ``num_samples``."""
    if not isinstance(design, CoefficientDesign):
        raise InvalidParameterError(
            f"`design` must be a CoefficientDesign (got {type(design).__name__})")
    if not isinstance(target, SubspaceGaussianMixture | ProductMixture):
        raise InvalidParameterError(
            f"`target` must be a SubspaceGaussianMixture or ProductMixture "
            f"(got {type(target).__name__})")
    check_rng("rng", rng)
    wanted = tuple(metrics)
    for name in wanted:
        if name not in METRICS:
            raise InvalidParameterError(f"`metrics` entries must be one of {METRICS} (got {name!r})")
    if not wanted:
        raise InvalidParameterError("`metrics` must name at least one metric")
    n = check_int("num_samples", num_samples, minimum=100)
    check_real("max_num_points", max_num_points, lower=64)
    return wanted, n


def _factors_of(sub_target: Any) -> list[SubspaceGaussianMixture]:
    """The one-dimensional factors of a k = 1 mixture or of a product target."""
    if isinstance(sub_target, SubspaceGaussianMixture):
        return [sub_target]
    return [sub_target.factor(i) for i in range(int(sub_target.intrinsic_dim))]


def measure(target: Any, design: CoefficientDesign, *, rng: np.random.Generator,
            metrics: Sequence[str] = METRICS, num_samples: int = 200_000,
            max_num_points: int = 2**16, method: str | None = None) -> Measurement:
    """Measure the sampler's error against ``p_{X_1}`` by the best applicable method.

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
    method : str, optional
        Force one entry of :data:`theorycheck.measure_methods.METHOD_TABLE` (``"closed_form"``,
        ``"grid"``, ``"change_of_variables"``, ``"path_kl"``); default: the first that applies.

    Returns
    -------
    Measurement
        ``method_name`` / ``method_reason`` say which method ran and why.

    Raises
    ------
    InvalidParameterError
        Bad arguments; a forced ``method`` that does not apply (the message lists those that
        do); TV asked of a stochastic design where only the path-KL bound exists.

    Notes
    -----
    The orthogonal complement is always the exact closed-form marginal; see
    :mod:`theorycheck.measure_methods` for the table and the assembly of the totals.
    """
    from theorycheck.measure_methods import Case, run_case

    wanted, n = _validate(target, design, rng, metrics, num_samples, max_num_points)
    if method is not None and not isinstance(method, str):
        raise InvalidParameterError(f"`method` must be a string or None (got {method!r})")
    case = Case(target=target, design=design, wanted=wanted, rng=rng, num_samples=n,
                max_num_points=int(max_num_points))
    return run_case(case, method)


def _grid_target(target: Any, design: CoefficientDesign, rng: np.random.Generator,
                 metrics: Sequence[str], num_samples: int, max_num_points: Any
                 ) -> tuple[tuple[str, ...], int, list[SubspaceGaussianMixture]]:
    """Validate for the multi-dimension functions, which use the grid method only."""
    wanted, n = _validate(target, design, rng, metrics, num_samples, max_num_points)
    sub_target = target.subspace_part()
    if not (int(target.intrinsic_dim) == 1 or isinstance(sub_target, ProductMixture)):
        raise InvalidParameterError(
            "`target` must have k = 1 or be a ProductMixture (the grid method); use measure() "
            f"for other targets (got k = {target.intrinsic_dim})")
    return wanted, n, _factors_of(sub_target)


def _check_dims(name: str, dims: Sequence[int], minimum: int, maximum: int | None = None
                ) -> list[int]:
    """Validate a non-empty list of integer dimensions."""
    values = [check_int(f"{name}[{i}]", d, minimum=minimum, maximum=maximum)
              for i, d in enumerate(dims)]
    if not values:
        raise InvalidParameterError(f"`{name}` must have at least one entry")
    return values


def _measurement(total: dict[str, Estimate], parts: dict[str, dict[str, Estimate]],
                 wanted: tuple[str, ...], method: str, d: int, k: int, rel: float,
                 notes: tuple[str, ...], reason: str) -> Measurement:
    return Measurement(values={key: total[key] for key in wanted},
                       parts={name: {key: part[key] for key in wanted if key in part}
                              for name, part in parts.items()},
                       kl_direction=KL_TARGET_TO_MODEL, method=method, ambient_dim=d,
                       intrinsic_dim=k, orthogonal_relative_error=rel, notes=notes,
                       method_name="grid", method_reason=reason)


def _grid_reason(target: Any, design: CoefficientDesign, wanted: tuple[str, ...],
                 rng: np.random.Generator, n: int, max_num_points: Any) -> str:
    """Why the grid method is used: the method table's own reason when it would choose the grid
    too (so entries equal :func:`measure`'s), else a statement that the grid is imposed."""
    from theorycheck.measure_methods import Case, choose_method

    case = Case(target=target, design=design, wanted=wanted, rng=rng, num_samples=n,
                max_num_points=int(max_num_points))
    row, why = choose_method(case)
    if row.name == "grid":
        return why
    return (f"grid imposed by the multi-dimension helper (the method table would choose "
            f"{row.name})")


def measure_ambient_dims(target: Any, design: CoefficientDesign, ambient_dims: Sequence[int], *,
                         rng: np.random.Generator, metrics: Sequence[str] = METRICS,
                         num_samples: int = 200_000, max_num_points: int = 2**16
                         ) -> tuple[Measurement, ...]:
    """Measure one k-dimensional target placed in ``R^d`` for many ``d``, the k-part only once.

    Parameters
    ----------
    target : SubspaceGaussianMixture (k = 1) or ProductMixture
        Only its k-dimensional part is used; its own ``ambient_dim`` is ignored.
    design : CoefficientDesign
    ambient_dims : sequence of int
        Ambient dimensions ``d >= k`` (any order, up to ``10**9`` and beyond: free).
    rng, metrics, num_samples, max_num_points :
        As in :func:`measure`.

    Returns
    -------
    tuple of Measurement
        One per entry of ``ambient_dims``, in that order.

    Notes
    -----
    By the exact split (docs/theory.md §5) the k-dimensional chain does not depend on ``d``: it is
    propagated once per distinct factor, and ``d`` enters only through ``m = d - k`` in the
    closed-form orthogonal part (KL adds; TV is ``E_q[g(p_k/q_k)]``).  Entry ``i`` equals
    ``measure(target in R^{d_i}, design, rng=<a generator in rng's current state>)``: for
    product targets the Monte Carlo draws are made once and reused for every ``d`` (common
    random numbers), so differences between dimensions are exact while the points share their
    Monte Carlo error (they are not independent).
    """
    wanted, n, factors = _grid_target(target, design, rng, metrics, num_samples, max_num_points)
    k = len(factors)
    dims = _check_dims("ambient_dims", ambient_dims, minimum=k)
    reason = _grid_reason(target, design, wanted, rng, n, max_num_points)
    stage = _subspace_stage(_grid_pairs(factors, design, int(max_num_points)), rng, n)
    ov = orthogonal_variance(design)
    out = []
    for d in dims:
        orth, rel_float = _orthogonal(design, d - k, KL_TARGET_TO_MODEL, ov.relative_error_mp)
        total, parts = _assemble(stage, orth, d - k, rel_float)
        out.append(_measurement(total, parts, wanted, stage.method, d, k,
                                float(ov.relative_error), (), reason))
    return tuple(out)


def measure_leading_factors(target: ProductMixture, design: CoefficientDesign,
                            num_factors: Sequence[int], *, rng: np.random.Generator,
                            metrics: Sequence[str] = METRICS, num_samples: int = 200_000,
                            max_num_points: int = 2**16) -> tuple[Measurement, ...]:
    """Measure the full-rank targets made of the first ``n`` factors of a product, for many ``n``.

    Parameters
    ----------
    target : ProductMixture
        Its k one-dimensional factors define the family; target ``n`` is the product of
        factors ``0..n-1`` on ``R^n`` (full rank: ``d = k = n``, no orthogonal part).
    design : CoefficientDesign
    num_factors : sequence of int
        Strictly increasing values of ``n``, ``1 <= n <= k``.
    rng, metrics, num_samples, max_num_points :
        As in :func:`measure`.

    Returns
    -------
    tuple of Measurement
        One per ``n``, with ``ambient_dim = intrinsic_dim = n``.

    Notes
    -----
    Each factor is propagated once and KL is the cumulative sum over factors.  For ``n >= 2``
    TV is Monte Carlo over the product; factor ``i``'s draws are shared by every ``n > i``
    (common random numbers).  Entry ``j`` equals ``measure`` of the product of the first
    ``n_j`` factors with a generator in ``rng``'s current state.
    """
    if not isinstance(target, ProductMixture):
        raise InvalidParameterError(
            f"`target` must be a ProductMixture (got {type(target).__name__})")
    wanted, n, factors = _grid_target(target, design, rng, metrics, num_samples, max_num_points)
    counts = _check_dims("num_factors", num_factors, minimum=1, maximum=len(factors))
    if sorted(set(counts)) != counts:
        raise InvalidParameterError(f"`num_factors` must be strictly increasing (got {counts})")
    reason = _grid_reason(target, design, wanted, rng, n, max_num_points)
    pairs = _grid_pairs(factors[:counts[-1]], design, int(max_num_points))
    kls = _pair_kls(pairs)
    rel = float(orthogonal_variance(design).relative_error)
    log_ratio = np.zeros(n)
    drawn = 0
    out = []
    for count in counts:
        if count == 1:
            stage = _subspace_stage(pairs[:1], rng, n, kls=kls[:1])
        else:
            while drawn < count:
                log_ratio += _draw_log_ratio(pairs[drawn], rng, n)
                drawn += 1
            stage = _subspace_stage(pairs[:count], rng, n, log_ratio=log_ratio.copy(),
                                    kls=kls[:count])
        total, parts = _assemble(stage, _orthogonal(design, 0, KL_TARGET_TO_MODEL, 0)[0], 0, 0.0)
        out.append(_measurement(total, parts, wanted, stage.method, count, count, rel, (),
                                reason))
    return tuple(out)
