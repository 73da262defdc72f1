"""The one-step condition ``R_t - 1`` and the predicted growth with d, from probed coefficients.

For a probed step ``f_t(y, s, z) = a_t y + b_t s + c_t z`` and a coordinate that carries no data
(orthogonal to the data's subspace), the exact score is ``-y/(1-ᾱ_t)`` (Chen, Huang, Zhao &
Wang 2023), so one step maps the variance ``v_t`` of that coordinate to

    v_{t-1} = A_t² v_t + c_t²,      A_t = a_t - b_t/(1-ᾱ_t).

Relative to the truth ``1-ᾱ_{t-1}`` this is ``e_{t-1} = ρ_t e_t + (R_t - 1)`` for the relative
error ``e_t = v_t/(1-ᾱ_t) - 1``, with

    ρ_t = A_t² (1-ᾱ_t)/(1-ᾱ_{t-1}),      R_t = (A_t² (1-ᾱ_t) + c_t²)/(1-ᾱ_{t-1}).

With ``a_t = 1/sqrt(α_t)``, ``b_t = η_t/sqrt(α_t)``, ``c_t = σ_t/sqrt(α_t)`` this ``R_t`` is the
bracket of the one-step lower bound of Liang, Huang & Chen (arXiv:2501.12982) plus one (docs/theory.md §4);
written with the raw coefficients it
needs no assumption that the step is consistent with ``alpha_bar``.  Two final errors are
reported: ``e_coef`` from the exact start ``v_T = 1-ᾱ_T`` (what the *coefficients* cost) and
``e_total`` from ``v_T = 1`` (what a chain started at ``N(0, I)`` shows, including the start-up
mismatch ``ᾱ_T`` that DDIM never forgets).  In ``m`` data-free coordinates a relative variance
error ``e`` costs ``TV ≈ |e| sqrt(m/(4π))`` (exactly: a chi-square integral,
:func:`theorycheck.divergences.gaussian.tv_isotropic`) — the ``sqrt(d)`` of the one-step lower bound.

All recursions run in mpmath at ``dps`` digits on the float64 coefficients taken as exact and on
``1-ᾱ_t`` formed without cancellation from the sampler's own ``alpha_bar``
(:func:`theorycheck.schedules.from_alpha_bar`).

References
----------
.. [1] J. Liang, Z. Huang, Y. Chen, arXiv:2501.12982 (one-step lower bound, docs/theory.md §4.1).
.. [2] G. Li, Y. Yan, arXiv:2405.14861 (the posterior-variance design adapts).
.. [3] M. Chen, K. Huang, T. Zhao, M. Wang, arXiv:2302.07194 (score decomposition).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck.audit.probe import ProbeResult
from theorycheck.divergences.gaussian import tv_isotropic
from theorycheck.results import ErrorKind, Estimate
from theorycheck.schedules import Schedule

__all__ = ["OneStepAudit", "one_step_audit", "PREDICTION_DIMS"]

#: Ambient dimensions at which the orthogonal TV is predicted (d - k data-free coordinates, k = 1).
PREDICTION_DIMS = (10, 10**3, 10**6, 10**9)


@dataclass(frozen=True, kw_only=True)
class OneStepAudit:
    """``R_t - 1`` per step and the final orthogonal variance errors of a probed step.

    Attributes
    ----------
    steps : ndarray of int, shape (T-1,)
        ``t = 2..T``.
    r_minus_one, r_minus_one_err : ndarray, shape (T-1,)
        ``R_t - 1`` (from the probed coefficients, in mpmath, rounded) and its error bound
        (first-order propagation of the probe's coefficient errors).
    max_abs : Estimate
        ``max_t |R_t - 1|``.
    worst_step : int
        Its ``t``.
    coefficient_error : Estimate
        ``e_coef``: final relative variance error of a data-free coordinate from the exact start.
    total_error : Estimate
        ``e_total``: the same from ``Y_T ~ N(0, I)``.
    predicted_tv : dict[int, Estimate]
        Exact TV of ``m = d - 1`` data-free coordinates with error ``e_coef``, per ``d``.
    predicted_tv_total : dict[int, Estimate]
        The same with ``e_total`` (start-up included).
    dps : int
        mpmath precision.
    """

    steps: NDArray[np.int64] = field(repr=False)
    r_minus_one: NDArray[np.float64] = field(repr=False)
    r_minus_one_err: NDArray[np.float64] = field(repr=False)
    max_abs: Estimate
    worst_step: int
    coefficient_error: Estimate
    total_error: Estimate
    predicted_tv: dict[int, Estimate]
    predicted_tv_total: dict[int, Estimate]
    dps: int

    @property
    def startup_error(self) -> float:
        """``e_total - e_coef``: the part of the final error due to ``Y_T ~ N(0, I)``."""
        return self.total_error.value - self.coefficient_error.value

    def growth_constant(self) -> Estimate:
        """``|e_coef|/sqrt(4π)``: predicted orthogonal TV per ``sqrt(d)`` (small-error regime)."""
        e = self.coefficient_error
        return Estimate(value=abs(e.value) / math.sqrt(4 * math.pi),
                        stderr=e.stderr / math.sqrt(4 * math.pi),
                        method="|e_coef|/sqrt(4π) (TV ≈ |e| sqrt(m/(4π)), docs/theory.md §4)",
                        error_kind=e.error_kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (per-step values at a few steps; the full table is in the arrays)."""
        T = int(self.steps[-1])
        shown = sorted({2, 3, T // 4, T // 2, (3 * T) // 4, T, self.worst_step} - {0, 1})
        return {
            "max_abs_r_minus_one": self.max_abs.to_dict(), "worst_step": self.worst_step,
            "r_minus_one_at": {str(t): {"value": float(self.r_minus_one[t - 2]),
                                        "error": float(self.r_minus_one_err[t - 2])}
                               for t in shown},
            "coefficient_error": self.coefficient_error.to_dict(),
            "total_error": self.total_error.to_dict(),
            "growth_constant": self.growth_constant().to_dict(),
            "predicted_orthogonal_tv": {str(d): e.to_dict() for d, e in self.predicted_tv.items()},
            "predicted_orthogonal_tv_with_startup": {
                str(d): e.to_dict() for d, e in self.predicted_tv_total.items()},
            "dps": self.dps,
        }


def _tv(m: int, eps: Any, err: float, what: str) -> Estimate:
    est = tv_isotropic(m, eps)
    # First-order effect of the error on e: dTV/de ≤ sqrt(m/(4π)) (the small-e slope bounds it).
    extra = err * math.sqrt(m / (4 * math.pi))
    return Estimate(value=float(est.value), stderr=float(est.stderr + extra),
                    method=f"exact chi-square TV of m = d-1 coordinates with {what}",
                    error_kind=ErrorKind.TOLERANCE)


def one_step_audit(probe: ProbeResult, schedule: Schedule) -> OneStepAudit:
    """``R_t - 1`` and the final orthogonal errors from a probe (see module docstring).

    Parameters
    ----------
    probe : ProbeResult
        Coefficients ``a_t, b_t, c_t`` with error bounds.
    schedule : Schedule
        The sampler's own ``alpha_bar`` as an exact schedule
        (:func:`theorycheck.schedules.from_alpha_bar`).

    Returns
    -------
    OneStepAudit
    """
    qs = schedule.mp_one_minus_alpha_bar()
    q_float = schedule.one_minus_alpha_bar
    T = probe.num_steps
    r1 = np.empty(T - 1)
    r1_err = np.empty(T - 1)
    rho = np.empty(T - 1)
    rho_err = np.empty(T - 1)
    with mpmath.workdps(schedule.dps):
        v_coef = qs[T - 1]
        v_total = mpmath.mpf(1)
        for t in range(T, 1, -1):
            i = t - 2
            a = mpmath.mpf(float(probe.y_coef[i]))
            b = mpmath.mpf(float(probe.score_coef[i]))
            c = mpmath.mpf(float(probe.noise_coef[i]))
            q, q_prev = qs[t - 1], qs[t - 2]
            big_a = a - b / q
            r1[i] = float((big_a * big_a * q + c * c) / q_prev - 1)
            rho[i] = float(big_a * big_a * q / q_prev)
            abs_a = abs(float(big_a))
            da, db, dc = (float(probe.y_coef_err[i]), float(probe.score_coef_err[i]),
                          float(probe.noise_coef_err[i]))
            rho_err[i] = 2 * abs_a * (float(q_float[t - 1]) * da + db) / float(q_float[t - 2])
            r1_err[i] = rho_err[i] + 2 * float(c) * dc / float(q_float[t - 2])
            v_coef = big_a * big_a * v_coef + c * c
            v_total = big_a * big_a * v_total + c * c
        e_coef = v_coef / qs[0] - 1
        e_total = v_total / qs[0] - 1
        # Error propagation of e_{t-1} = ρ_t e_t + (R_t - 1): δe_{t-1} = ρ δe + |e| δρ + δR.
        err_coef, err_total = 0.0, 0.0
        e_c, e_t = 0.0, float(1 / qs[T - 1] - 1)
        for t in range(T, 1, -1):
            i = t - 2
            err_coef = rho[i] * err_coef + abs(e_c) * rho_err[i] + r1_err[i]
            err_total = rho[i] * err_total + abs(e_t) * rho_err[i] + r1_err[i]
            e_c = rho[i] * e_c + r1[i]
            e_t = rho[i] * e_t + r1[i]
        method = "probed coefficients, exact variance recursion (mpmath)"
        coef_est = Estimate(value=float(e_coef), stderr=float(err_coef),
                            method=f"{method}, from v_T = 1-ᾱ_T", error_kind=ErrorKind.TOLERANCE)
        total_est = Estimate(value=float(e_total), stderr=float(err_total),
                             method=f"{method}, from v_T = 1", error_kind=ErrorKind.TOLERANCE)
        predicted = {d: _tv(d - 1, e_coef, err_coef, "e_coef") for d in PREDICTION_DIMS}
        predicted_total = {d: _tv(d - 1, e_total, err_total, "e_total")
                           for d in PREDICTION_DIMS}
    worst = int(np.argmax(np.abs(r1)))
    for arr in (r1, r1_err):
        arr.setflags(write=False)
    return OneStepAudit(
        steps=probe.steps, r_minus_one=r1, r_minus_one_err=r1_err,
        max_abs=Estimate(value=float(abs(r1[worst])), stderr=float(r1_err[worst]),
                         method="probed coefficients, R_t - 1 in mpmath (one-step bracket)",
                         error_kind=ErrorKind.TOLERANCE),
        worst_step=worst + 2, coefficient_error=coef_est, total_error=total_est,
        predicted_tv=predicted, predicted_tv_total=predicted_total, dps=schedule.dps)
