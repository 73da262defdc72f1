"""The one table that chooses how :func:`theorycheck.experiments.measure` measures a case.

Every case is split exactly (docs/theory.md §5): the ``m = d - k`` data-free coordinates of the
output are i.i.d. ``N(0, v_1)`` against ``N(0, 1-ᾱ_1)``, always measured by their closed-form
*marginal* TV and KL; only the k-dimensional subspace part needs a method.  Methods are tried in
the order of :data:`METHOD_TABLE` (exact before quadrature before Monte Carlo before bounds) and
the first one whose capability matches the case is used:

==================== ========================================= =====================================
name                 applies to                                subspace result
==================== ========================================= =====================================
closed_form          one-component Gaussian target, any design exact (mpmath recursion)
grid                 k = 1 or a product target, any design     quadrature, two resolutions
grid2d               k = 2, any mixture, any design            quadrature, two resolutions
change_of_variables  deterministic design, any mixture         Monte Carlo (standard error)
path_kl              stochastic design, any mixture, KL only   upper bound (path KL) + MC error
==================== ========================================= =====================================

The totals are assembled exactly: KL adds over the independent blocks; TV is
``E_q[g(p_k/q_k)]`` with the exact chi-square orthogonal factor ``g``.  When the subspace KL is
the path-KL bound, the total is ``subspace bound + exact orthogonal marginal`` and is labelled an
upper bound (``ErrorKind.UPPER_BOUND``).  ``method=NAME`` forces one entry; an entry that does
not apply raises an error that lists the ones that do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorycheck.designs import CoefficientDesign
from theorycheck.divergences import gaussian
from theorycheck.errors import InvalidParameterError, TheorycheckError
from theorycheck.experiments import (
    KL_MODEL_TO_TARGET,
    KL_TARGET_TO_MODEL,
    Measurement,
    _assemble,
    _factors_of,
    _grid_pairs,
    _orthogonal,
    _subspace_stage,
)
from theorycheck.results import ErrorKind, Estimate
from theorycheck.split import orthogonal_variance
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

__all__ = ["Case", "MeasureMethod", "METHOD_TABLE", "METHOD_NAMES", "applicable_methods",
           "choose_method", "run_case"]

KL_SUBSPACE_PATH_BOUND = ("KL(p_X1 || p_Y1) upper bound: path KL of the subspace part + exact "
                          "marginal KL of the orthogonal part")


@dataclass(frozen=True, kw_only=True, eq=False)
class Case:
    """One measurement request, validated by :func:`theorycheck.experiments.measure`."""

    target: Any
    design: CoefficientDesign
    wanted: tuple[str, ...]
    rng: np.random.Generator
    num_samples: int
    max_num_points: int

    @property
    def ambient_dim(self) -> int:
        """d."""
        return int(self.target.ambient_dim)

    @property
    def intrinsic_dim(self) -> int:
        """k."""
        return int(self.target.intrinsic_dim)


@dataclass(frozen=True, kw_only=True)
class MeasureMethod:
    """One row of the method table.

    Attributes
    ----------
    name : str
        What ``--method`` accepts.
    summary : str
        One line: what the method computes and its error.
    refuse : callable
        ``refuse(case)`` is ``None`` when the method applies, else the reason it does not.
    run : callable
        ``run(case)`` returns the finished :class:`~theorycheck.experiments.Measurement`.
    """

    name: str
    summary: str
    refuse: Callable[[Case], str | None]
    run: Callable[[Case], Measurement]


def _is_one_gaussian(target: Any) -> bool:
    return isinstance(target, SubspaceGaussianMixture) and target.num_components == 1


def _refuse_closed_form(case: Case) -> str | None:
    if _is_one_gaussian(case.target):
        return None
    return "needs a one-component subspace_gmm target (a Gaussian)"


def _refuse_grid(case: Case) -> str | None:
    if case.intrinsic_dim == 1 or isinstance(case.target, ProductMixture):
        return None
    return f"needs k = 1 or a product target (got k = {case.intrinsic_dim}, a joint mixture)"


def _refuse_grid2d(case: Case) -> str | None:
    if case.intrinsic_dim == 2:
        return None
    return f"needs k = 2 (got k = {case.intrinsic_dim})"


def _refuse_change_of_variables(case: Case) -> str | None:
    return None if case.design.is_deterministic else "needs a deterministic design (σ_t = 0)"


def _refuse_path_kl(case: Case) -> str | None:
    if case.design.is_deterministic:
        return "needs a stochastic design (σ_t > 0)"
    if "tv" in case.wanted:
        return "gives KL only (an upper bound), not TV"
    return None


def _finish(case: Case, total: dict[str, Estimate], parts: dict[str, dict[str, Estimate]],
            *, method: str, direction: str, notes: Sequence[str] = (),
            extra: dict[str, Estimate] | None = None) -> Measurement:
    rel = float(orthogonal_variance(case.design).relative_error)
    return Measurement(values={key: total[key] for key in case.wanted},
                       parts={name: {key: part[key] for key in case.wanted if key in part}
                              for name, part in parts.items()},
                       kl_direction=direction, method=method, ambient_dim=case.ambient_dim,
                       intrinsic_dim=case.intrinsic_dim, orthogonal_relative_error=rel,
                       notes=tuple(notes), extra=dict(extra or {}))


def _run_closed_form(case: Case) -> Measurement:
    from theorycheck.divergences.gaussian_recursion import (
        gaussian_kl,
        gaussian_output,
        gaussian_tv,
    )

    out = gaussian_output(case.target.subspace_part(), case.design)
    d = case.ambient_dim
    kl_sub, kl_perp = gaussian_kl(out, d)
    rev_sub, rev_perp = gaussian_kl(out, d, direction="model_to_target")
    total: dict[str, Estimate] = {"kl": Estimate(
        value=kl_sub.value + kl_perp.value, stderr=0.0, error_kind=ErrorKind.EXACT,
        method="exact: KL_k (Gaussian closed form) + KL_⊥ (closed form); KL of a product adds")}
    parts: dict[str, dict[str, Estimate]] = {"subspace": {"kl": kl_sub},
                                             "orthogonal": {"kl": kl_perp}}
    if "tv" in case.wanted:
        tv_total, tv_sub, tv_perp = gaussian_tv(out, d, rng=case.rng,
                                                num_samples=case.num_samples)
        total["tv"] = tv_total
        parts["subspace"]["tv"] = tv_sub
        parts["orthogonal"]["tv"] = tv_perp
    extra = {"kl_model_to_target": Estimate(
        value=rev_sub.value + rev_perp.value, stderr=0.0, error_kind=ErrorKind.EXACT,
        method="exact: KL(p_Y1 ‖ p_X1), Gaussian closed form, both blocks")}
    return _finish(case, total, parts, method="closed_form: exact Gaussian mean/covariance "
                   "recursion (mpmath)", direction=KL_TARGET_TO_MODEL, extra=extra)


def _run_grid(case: Case) -> Measurement:
    sub_target = case.target.subspace_part()
    stage = _subspace_stage(_grid_pairs(_factors_of(sub_target), case.design,
                                        case.max_num_points), case.rng, case.num_samples)
    m = case.ambient_dim - case.intrinsic_dim
    orth, rel_float = _orthogonal(case.design, m, KL_TARGET_TO_MODEL)
    total, parts = _assemble(stage, orth, m, rel_float)
    return _finish(case, total, parts, method=stage.method, direction=KL_TARGET_TO_MODEL)


def _run_grid2d(case: Case) -> Measurement:
    from theorycheck.divergences.grid2d import measure_grid2d

    m = case.ambient_dim - 2
    ov = orthogonal_variance(case.design)
    res = measure_grid2d(case.design, case.target.subspace_part(), orthogonal_dim=m,
                         orthogonal_eps=ov.relative_error_mp)
    orth, _ = _orthogonal(case.design, m, KL_TARGET_TO_MODEL, ov.relative_error_mp)
    total = {"tv": Estimate(value=res.tv_total.value, stderr=res.tv_total.stderr,
                            error_kind=ErrorKind.TOLERANCE,
                            method="TV = Σ h² q g(p_k/q_k) on the k = 2 grid with the exact "
                                   f"chi-square orthogonal factor g; {res.tv_total.method}"),
             "kl": Estimate(value=res.kl.value + orth["kl"].value, stderr=res.kl.stderr,
                            error_kind=ErrorKind.TOLERANCE,
                            method="KL_k (k = 2 grid) + KL_⊥ (exact): KL of a product adds")}
    rev = (gaussian.kl_isotropic(m, ov.relative_error_mp, direction="model_to_target").value
           if m > 0 else 0.0)
    extra = {"kl_model_to_target": Estimate(
        value=res.kl_reverse.value + rev, stderr=res.kl_reverse.stderr,
        error_kind=ErrorKind.TOLERANCE, method="KL(p_Y1 ‖ p_X1): k = 2 grid + exact orthogonal")}
    parts = {"subspace": {"tv": res.tv, "kl": res.kl}, "orthogonal": orth}
    return _finish(case, total, parts, method="grid2d: k = 2 tensor-grid density, two "
                   "resolutions", direction=KL_TARGET_TO_MODEL, extra=extra)


def _run_change_of_variables(case: Case) -> Measurement:
    from theorycheck.divergences.change_of_variables import deterministic_divergences

    res = deterministic_divergences(case.design, case.target, num_samples=case.num_samples,
                                    rng=case.rng, ambient_dim=case.ambient_dim)
    total = {"tv": res["tv"], "kl": res["kl"]}
    parts = {"subspace": {"tv": res["tv_subspace"], "kl": res["kl_subspace"]},
             "orthogonal": {"tv": res["tv_orthogonal"], "kl": res["kl_orthogonal"]}}
    return _finish(case, total, parts, method="exact change of variables along sample paths "
                   "(Monte Carlo)", direction=KL_MODEL_TO_TARGET)


def _run_path_kl(case: Case) -> Measurement:
    from theorycheck.divergences.path_kl import path_kl

    k = case.intrinsic_dim
    res = path_kl(case.design, case.target.subspace_part(), num_samples=case.num_samples,
                  rng=case.rng, ambient_dim=k)
    sub = Estimate(value=res.subspace.value, stderr=res.subspace.stderr,
                   error_kind=ErrorKind.UPPER_BOUND,
                   method=f"UPPER BOUND on KL_k: path KL of the k-dimensional chain "
                          f"(stderr = Monte Carlo + quadrature); {res.subspace.method}")
    m = case.ambient_dim - k
    orth, _ = _orthogonal(case.design, m, KL_TARGET_TO_MODEL)
    total = {"kl": Estimate(
        value=sub.value + orth["kl"].value, stderr=sub.stderr, error_kind=ErrorKind.UPPER_BOUND,
        method="UPPER BOUND: path KL of the subspace part + exact marginal KL of the orthogonal "
               "part")}
    return _finish(case, total, {"subspace": {"kl": sub}, "orthogonal": {"kl": orth["kl"]}},
                   method="path_kl: UPPER BOUND (subspace path KL) + exact orthogonal marginal",
                   direction=KL_SUBSPACE_PATH_BOUND,
                   notes=("KL is an upper bound: the subspace part is the path KL (no exact or "
                          "quadrature method for this case); the orthogonal part is exact",))


METHOD_TABLE: tuple[MeasureMethod, ...] = (
    MeasureMethod(name="closed_form", summary="exact Gaussian recursion; KL both directions, TV "
                  "exact or quadrature", refuse=_refuse_closed_form, run=_run_closed_form),
    MeasureMethod(name="grid", summary="density on a grid, two resolutions (tolerance)",
                  refuse=_refuse_grid, run=_run_grid),
    MeasureMethod(name="grid2d", summary="k = 2 tensor-grid density, any mixture and design, "
                  "two resolutions (tolerance)", refuse=_refuse_grid2d, run=_run_grid2d),
    MeasureMethod(name="change_of_variables", summary="exact log-density along paths (Monte "
                  "Carlo standard error)", refuse=_refuse_change_of_variables,
                  run=_run_change_of_variables),
    MeasureMethod(name="path_kl", summary="path KL of the subspace part (upper bound)",
                  refuse=_refuse_path_kl, run=_run_path_kl),
)
METHOD_NAMES: tuple[str, ...] = tuple(row.name for row in METHOD_TABLE)


def applicable_methods(case: Case) -> list[str]:
    """Names of the methods that apply to ``case``, in table order."""
    return [row.name for row in METHOD_TABLE if row.refuse(case) is None]


def choose_method(case: Case, forced: str | None = None) -> tuple[MeasureMethod, str]:
    """The method for ``case`` and a one-line reason.

    Raises
    ------
    InvalidParameterError
        ``forced`` unknown or not applicable (the message lists the applicable methods), or no
        method applies (the message says which metrics are available).
    """
    rows = {row.name: row for row in METHOD_TABLE}
    if forced is not None:
        if forced not in rows:
            raise InvalidParameterError(f"`method` must be one of {METHOD_NAMES} (got {forced!r})")
        reason = rows[forced].refuse(case)
        if reason is not None:
            usable = applicable_methods(case)
            raise InvalidParameterError(
                f"`method` {forced!r} does not apply to this case: it {reason}; applicable "
                f"methods: {', '.join(usable) if usable else 'none for these metrics'}")
        return rows[forced], f"{forced} forced by the caller"
    skipped: list[str] = []
    for row in METHOD_TABLE:
        reason = row.refuse(case)
        if reason is None:
            why = f"{row.name} chosen: {row.summary}"
            if skipped:
                why += "; skipped " + "; ".join(skipped)
            return row, why
        skipped.append(f"{row.name} ({reason})")
    if "tv" in case.wanted and not case.design.is_deterministic:
        raise InvalidParameterError(
            f"`metrics`: TV is not available for a stochastic design on this target (k = "
            f"{case.intrinsic_dim} > 2, a joint mixture): no exact, grid or change-of-variables "
            "method applies; available: metrics ['kl'] (path-KL upper bound on the subspace part "
            "+ exact orthogonal marginal), or a k <= 2 / product / one-component Gaussian target")
    raise InvalidParameterError("no measurement method applies: " + "; ".join(skipped))


def _non_negative_kl(est: Estimate, where: str, notes: list[str]) -> Estimate:
    """A KL estimate below 0 within 3 of its errors is reported as 0 (noted); beyond, a bug."""
    if est.value >= 0.0:
        return est
    if est.value >= -3.0 * est.stderr - 1e-15:
        notes.append(f"{where}: estimate {est.value:.3g} < 0 within 3 stated errors, reported as 0")
        return Estimate(value=0.0, stderr=est.stderr, method=est.method,
                        error_kind=est.error_kind)
    raise TheorycheckError(f"{where} = {est.value:.6g} is negative beyond 3 stated errors "
                           f"({est.stderr:.3g}) by {est.method!r}: a numerical failure")


def run_case(case: Case, forced: str | None = None) -> Measurement:
    """Choose the method (or use ``forced``), run it, and record the choice and why.

    No KL is ever reported negative: see :func:`_non_negative_kl`.
    """
    row, why = choose_method(case, forced)
    result = row.run(case)
    notes = list(result.notes)
    values = {k: _non_negative_kl(v, k, notes) if k == "kl" else v
              for k, v in result.values.items()}
    parts = {name: {k: _non_negative_kl(v, f"{name} {k}", notes) if k == "kl" else v
                    for k, v in part.items()} for name, part in result.parts.items()}
    extra = {k: _non_negative_kl(v, k, notes) for k, v in result.extra.items()}
    return Measurement(values=values, parts=parts,
                       kl_direction=result.kl_direction, method=result.method,
                       ambient_dim=result.ambient_dim, intrinsic_dim=result.intrinsic_dim,
                       orthogonal_relative_error=result.orthogonal_relative_error,
                       notes=tuple(notes), extra=extra, method_name=row.name,
                       method_reason=why)
