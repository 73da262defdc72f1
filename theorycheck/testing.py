"""Assertions for users' own test suites: is my sampler adaptive, does it converge at rate 1/T?

::

    from theorycheck.testing import assert_adaptive

    def test_my_sampler_adapts():
        assert_adaptive(my_package.make_sampler, d_max=1e6, tv=1e-3)

Both helpers run the black-box audit (:func:`theorycheck.audit.audit_sampler`) and raise
``AssertionError`` with a short report — what was measured, the cause, and ``d*``, the ambient
dimension from which the data-free coordinates alone cost more than the TV budget — so a failure
reads well in pytest's output.  A non-sampler is a one-line ``SamplerProtocolError``.
Randomness: ``rng`` (default ``numpy.random.default_rng(0)``), so a test is reproducible.

The adaptivity criterion and ``TV ≈ |e_coef| sqrt(m/(4π))`` for ``m`` data-free coordinates
are explained in ``docs/theory.md`` (one-step condition; Liang, Huang & Chen 2025,
arXiv:2501.12982, Theorem 5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from theorycheck._validation import check_int, check_real
from theorycheck.api import resolve_sampler
from theorycheck.errors import InvalidParameterError

if TYPE_CHECKING:
    import numpy as np

    from theorycheck.audit.verdict import AuditResult
    from theorycheck.results import Estimate

__all__ = ["assert_adaptive", "assert_rate", "critical_dimension"]


def critical_dimension(coefficient_error: float, tv: float) -> float:
    """``d* = 1 + 4π (tv/|e_coef|)²``: from this d on, ``|e_coef| sqrt((d-1)/(4π)) ≥ tv``.

    ``inf`` for ``e_coef = 0`` (no dimension is too large).  ``d - 1`` data-free coordinates
    for a k = 1 target, small-error regime of the chi-square TV.
    """
    e = abs(float(coefficient_error))
    return math.inf if e == 0 else 1.0 + 4.0 * math.pi * (tv / e) ** 2


def _measured(result: AuditResult) -> list[str]:
    lines = []
    cond = result.condition
    if cond is not None:
        lines.append(f"e_coef = {cond.coefficient_error} (final relative variance error of a "
                     "data-free coordinate)")
        lines.append(f"max_t |R_t - 1| = {cond.max_abs} at t = {cond.worst_step}")
    else:
        lines.append("no scalar affine step: the one-step condition could not be formed")
    return lines


def _report(title: str, measured: list[str], causes: Sequence[str], d_star: str) -> str:
    lines = [title, *(f"  measured: {m}" for m in measured)]
    lines += [f"  cause: {cause}" for cause in causes]
    lines.append(f"  d*: {d_star}")
    return "\n".join(lines)


def assert_adaptive(sampler_or_factory: Any, *, d_max: float = 1e9, tv: float = 1e-3,
                    rng: np.random.Generator | None = None, **options: Any) -> AuditResult:
    """Assert that a sampler's error does not grow with the ambient dimension up to ``d_max``.

    Parameters
    ----------
    sampler_or_factory : object or callable
        A sampler (``alpha_bar`` shape (T,), ``step(y, t, score, noise)``) or a zero-argument
        factory returning one.
    d_max : float
        Largest ambient dimension the sampler must handle (>= 2).
    tv : float
        TV budget for the data-free coordinates at ``d_max``, in (0, 1].
    rng : numpy.random.Generator, optional
        Default ``numpy.random.default_rng(0)``.
    **options
        Passed to :func:`~theorycheck.audit.audit_sampler` (e.g. ``split_checks=False`` for a
        faster audit).

    Returns
    -------
    AuditResult
        The audit, when the verdict is ``adaptive``.

    Raises
    ------
    AssertionError
        Verdict ``not_adaptive`` or ``inconclusive``; the message gives the measured numbers,
        the audit's reasons and ``d*`` (:func:`critical_dimension`).
    SamplerProtocolError
        Not a sampler (or factory of one).
    """
    from theorycheck.api import audit
    from theorycheck.audit.verdict import AuditVerdict

    d_max = check_real("d_max", d_max, lower=2.0)
    tv = check_real("tv", tv, lower=0.0, lower_open=True, upper=1.0)
    sampler = resolve_sampler(sampler_or_factory, argument="sampler_or_factory")
    result = audit(sampler, rng=rng, tv_tolerance=tv, max_ambient_dim=d_max, **options)
    if result.verdict is AuditVerdict.ADAPTIVE:
        return result
    if result.condition is None:
        d_star = "unknown (no one-step condition for this step)"
    else:
        e = result.condition.coefficient_error.value
        d = critical_dimension(e, tv)
        d_star = (f"TV of the data-free coordinates reaches {tv:g} at d ≈ {d:.3g} "
                  f"(wanted ≥ d_max = {d_max:.3g})" if math.isfinite(d) else "none (e_coef = 0)")
    title = (f"{result.name} (T = {result.num_steps}) is {result.verdict.value.upper()}, "
             f"wanted adaptive: TV ≤ {tv:g} up to d = {d_max:.3g}")
    raise AssertionError(_report(title, _measured(result), result.reasons, d_star))


def _slope(steps: Sequence[int], tvs: Sequence[Estimate]) -> tuple[float, float]:
    """Least-squares slope of log TV on log T and its error propagated from the TV errors."""
    x = [math.log(t) for t in steps]
    y = [math.log(e.value) for e in tvs]
    x_bar = sum(x) / len(x)
    sxx = sum((xi - x_bar) ** 2 for xi in x)
    weights = [(xi - x_bar) / sxx for xi in x]
    slope = sum(w * yi for w, yi in zip(weights, y, strict=True))
    err = math.sqrt(sum((w * e.stderr / e.value) ** 2 for w, e in zip(weights, tvs, strict=True)))
    return slope, err


def assert_rate(factory: Callable[[int], Any], *, steps: Sequence[int] = (100, 200, 400),
                max_slope: float = -0.5, rng: np.random.Generator | None = None,
                **options: Any) -> list[AuditResult]:
    """Assert that the sampler's TV on low-dimensional data falls with the number of steps T.

    For each ``T`` in ``steps`` the audit measures ``TV_1(T)``, the TV of the data's
    (k = 1) coordinate (exact-split grid quadrature); the slope of ``log TV_1`` on ``log T``
    must lie below ``max_slope`` by two errors (the k/T rate of Li & Yan 2024,
    arXiv:2405.14861, Theorem 1, has slope -1 up to logarithmic factors; ``-0.5`` leaves room
    for the logarithms at small T).  The audit's k-slope (``log2 TV_2/TV_1``, must be ≤ 1:
    linear in k) is checked at the largest T.

    Parameters
    ----------
    factory : callable
        ``factory(T)`` returns a sampler with ``T`` steps.
    steps : sequence of int
        At least two distinct T >= 10.
    max_slope : float
        Largest acceptable slope in T (negative).
    rng : numpy.random.Generator, optional
        Default ``numpy.random.default_rng(0)``; one child per T.
    **options
        Passed to :func:`~theorycheck.audit.audit_sampler`.

    Returns
    -------
    list of AuditResult
        One per T, when the rate holds.

    Raises
    ------
    AssertionError
        Slope not below ``max_slope`` (or not resolvable), the k-slope above 1, or the rate not
        measurable (a step that is not scalar-affine or not consistent with ``alpha_bar``).
    SamplerProtocolError
        ``factory`` is not callable or returns a non-sampler.
    """
    import numpy as np

    from theorycheck.api import audit
    from theorycheck.errors import SamplerProtocolError
    from theorycheck.samplers import check_sampler

    if not callable(factory) or hasattr(factory, "alpha_bar"):
        raise SamplerProtocolError(
            f"`factory` must be a callable factory(T) returning a sampler (got "
            f"{type(factory).__name__}); for one sampler use assert_adaptive")
    grid = sorted({check_int("steps", t, minimum=10) for t in steps})
    if len(grid) < 2:
        raise InvalidParameterError("`steps` must hold at least two distinct values")
    max_slope = check_real("max_slope", max_slope, upper=0.0, upper_open=True)
    rngs = (np.random.default_rng(0) if rng is None else rng).spawn(len(grid))
    results = []
    for T, child in zip(grid, rngs, strict=True):
        try:
            sampler = factory(T)
        except Exception as exc:
            raise SamplerProtocolError(f"`factory`({T}) raised {exc.__class__.__name__}: "
                                       f"{exc}") from None
        sampler = resolve_sampler(sampler, argument=f"factory({T})")
        got = check_sampler(sampler)
        if got != T:
            raise SamplerProtocolError(f"`factory`({T}) returned a sampler with T = {got} steps")
        results.append(audit(sampler, rng=child, **options))
    missing = [r for r in results if r.rate is None]
    if missing:
        r = missing[0]
        raise AssertionError(_report(
            f"rate of {r.name} not measurable at T = {r.num_steps} (the exact-split check "
            "needs a scalar affine step consistent with alpha_bar)", _measured(r), r.reasons,
            "not computed"))
    tvs = [r.rate.tv_k1 for r in results if r.rate is not None]
    slope, err = _slope(grid, tvs)
    last = results[-1]
    if last.rate is None:  # pragma: no cover - excluded by `missing` above
        raise AssertionError("rate check missing")
    measured = [f"TV_1(T = {T}) = {e}" for T, e in zip(grid, tvs, strict=True)]
    measured.append(f"slope of log TV_1 in log T = {slope:.3f} ± {err:.1e} (wanted ≤ "
                    f"{max_slope:g} by two errors)")
    measured.append(f"k-slope at T = {grid[-1]}: {last.rate.k_slope} (wanted ≤ 1)")
    ok_slope = slope + 2 * err <= max_slope
    if ok_slope and last.rate.consistent:
        return results
    cond = last.condition
    d_star = ("none (e_coef = 0)" if cond is None or cond.coefficient_error.value == 0 else
              f"{critical_dimension(cond.coefficient_error.value, 1e-3):.3g} for TV 1e-3 "
              f"at T = {grid[-1]}")
    why = (f"TV_1 falls like T^{slope:.2f}, not at least like T^{max_slope:g}" if not ok_slope
           else "TV grows faster than linearly in k")
    raise AssertionError(_report(f"{last.name}: rate check failed over T = {grid}", measured,
                                 [why], d_star))
