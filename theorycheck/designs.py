"""Coefficient designs: the per-step ``(η_t, σ_t²)`` of the generic sampler, as frozen tables.

The generic sampler (docs/theory.md §1) is ``Y_{t-1} = (Y_t + η_t s_t(Y_t) + σ_t Z_t)/sqrt(α_t)``.  A
*design* fixes ``η_t`` and ``σ_t²`` for ``t = 1..T`` from a schedule; the sampling loop lives in
:mod:`theorycheck.samplers` and never depends on which design it runs.

Designs (``u_t = (1-α_t)/(1-ᾱ_t)``, ``r_t = sqrt((α_t-ᾱ_t)/(1-ᾱ_t))``):

================  =====================================  =====================================
name              η_t                                    σ_t²
================  =====================================  =====================================
ddpm_posterior    1-α_t                                  (1-α_t)(α_t-ᾱ_t)/(1-ᾱ_t)
ddpm_beta         1-α_t                                  1-α_t
ddim              (1-α_t)/(1+r_t)                        0
ddim_eta          (1-ᾱ_t)(1-α_t+σ_t²)/((1-ᾱ_t)+S_t)      η²(1-α_t)(α_t-ᾱ_t)/(1-ᾱ_t)
pf_euler          (1-α_t)/2                              0
================  =====================================  =====================================

with ``S_t = sqrt((1-ᾱ_t)(α_t-ᾱ_t-σ_t²))``.  The ``ddim_eta`` line is Song et al.'s
``(1-ᾱ_t) - S_t`` rewritten without cancellation (multiply by the conjugate and use
``(1-ᾱ_t) - (α_t-ᾱ_t) = 1-α_t``); it reduces to ``ddim`` at η = 0 and to ``ddpm_posterior``
at η = 1.  All coefficients are computed in mpmath from the schedule's high-precision values and
rounded once to float64.

References
----------
.. [1] J. Ho, A. Jain, P. Abbeel, arXiv:2006.11239 (DDPM, σ² = β̃_t or β_t).
.. [2] J. Song, C. Meng, S. Ermon, arXiv:2010.02502 (DDIM and its η family).
.. [3] G. Li, Y. Yan, arXiv:2405.14861 (the posterior-variance design adapts to low dimension).
.. [4] J. Liang, Z. Huang, Y. Chen, arXiv:2501.12982 (one-step lower bound, docs/theory.md §4.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_choice, check_real
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.schedules import Schedule, _as_mp_array

__all__ = ["DESIGN_NAMES", "CoefficientDesign", "OneStepCondition", "make_design", "custom_design",
           "zero_set_admissible_range", "zero_set_design", "off_curve_design"]

#: Names of the built-in designs (docs/theory.md §3).
DESIGN_NAMES = ("ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta", "pf_euler")

#: Designs that satisfy the one-step condition ``R_t = 1`` exactly (docs/theory.md §4).
ADAPTIVE_DESIGNS = ("ddpm_posterior", "ddim", "ddim_eta")


def _readonly(values: list[Any]) -> NDArray[np.float64]:
    arr = np.asarray([float(v) for v in values], dtype=np.float64)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, kw_only=True)
class OneStepCondition:
    """``R_t - 1`` for ``t = 2..T`` (one-step bracket), in high precision and float64.

    Attributes
    ----------
    steps : ndarray of int, shape (T-1,)
        ``t = 2..T`` (at ``t = 1`` the bracket divides by ``α_1-ᾱ_1 = 0`` and is undefined).
    r_minus_one : ndarray, shape (T-1,)
        ``R_t - 1`` rounded to float64.
    r_minus_one_mp : tuple of mpf
        The same at ``dps`` digits.
    dps : int
        Working precision of the computation.
    max_abs : float
        ``max_t |R_t - 1|``.
    worst_step : int
        The ``t`` attaining ``max_abs``.
    """

    steps: NDArray[np.int64] = field(repr=False)
    r_minus_one: NDArray[np.float64] = field(repr=False)
    r_minus_one_mp: tuple[Any, ...] = field(repr=False)
    dps: int
    max_abs: float
    worst_step: int


@dataclass(frozen=True, kw_only=True, eq=False)
class CoefficientDesign:
    """Frozen table of sampler coefficients ``η_t``, ``σ_t²`` for ``t = 1..T``.

    Build it with :func:`make_design` or :func:`custom_design`.

    Attributes
    ----------
    name : str
        Design name (one of :data:`DESIGN_NAMES` or ``"custom"``).
    schedule : Schedule
        The schedule the coefficients were computed from.
    params : dict
        Design parameters (``{"eta": 0.5}`` for ``ddim_eta``).
    eta, sigma_sq, sigma : ndarray, shape (T,)
        float64 coefficients, entry ``t-1`` for step ``t``; read-only.
    """

    name: str
    schedule: Schedule = field(repr=False)
    params: dict[str, Any]
    eta: NDArray[np.float64] = field(repr=False)
    sigma_sq: NDArray[np.float64] = field(repr=False)
    sigma: NDArray[np.float64] = field(repr=False)
    _eta_mp: tuple[Any, ...] = field(repr=False)
    _sigma_sq_mp: tuple[Any, ...] = field(repr=False)

    @property
    def num_steps(self) -> int:
        """``T``."""
        return self.schedule.num_steps

    @property
    def is_deterministic(self) -> bool:
        """True when every ``σ_t`` used by the sampler (t = 2..T) is zero."""
        return bool(np.all(self.sigma_sq[1:] == 0.0))

    def describe(self) -> str:
        """Short human-readable name including parameters."""
        if self.params:
            inner = ", ".join(f"{k}={v}" for k, v in self.params.items())
            return f"{self.name}({inner})"
        return self.name

    def mp_coefficients(self, t: int) -> tuple[Any, Any]:
        """``(η_t, σ_t²)`` at step ``t`` as ``mpf`` at the schedule's precision."""
        values = self.schedule.mp_values(t)  # validates t
        del values
        return self._eta_mp[t - 1], self._sigma_sq_mp[t - 1]

    def one_step_condition(self) -> OneStepCondition:
        """``R_t - 1`` for every ``t = 2..T``, computed in mpmath at the schedule's precision.

        Notes
        -----
        ``R_t = (1-ᾱ_t)/(α_t-ᾱ_t) · (1 - η_t/(1-ᾱ_t))² + σ_t²/(α_t-ᾱ_t)`` is the factor by which
        one step multiplies the variance of a data-free coordinate, relative to the truth
        ``(1-ᾱ_{t-1})/(1-ᾱ_t)``; ``R_t - 1`` is the bracket of the one-step lower bound
        (Liang, Huang & Chen, arXiv:2501.12982), whose one-step TV is at least of order
        ``sqrt(d) |R_t - 1|``.  The adaptive designs give ``R_t - 1`` at the working precision
        (about ``10^{-dps+5}``), not at float64 rounding.
        """
        sched = self.schedule
        betas = sched.mp_one_minus_alpha()
        qs = sched.mp_one_minus_alpha_bar()
        out: list[Any] = []
        with mpmath.workdps(sched.dps):
            for t in range(2, sched.num_steps + 1):
                beta = betas[t - 1]
                q = qs[t - 1]
                gap = (1 - beta) * qs[t - 2]  # α_t - ᾱ_t = α_t (1-ᾱ_{t-1})
                eta = self._eta_mp[t - 1]
                factor = (q - eta) / q
                out.append(q * factor * factor / gap + self._sigma_sq_mp[t - 1] / gap - 1)
            floats = np.asarray([float(v) for v in out], dtype=np.float64)
        if not np.all(np.isfinite(floats)):
            raise NonFiniteError("R_t - 1 is not finite; the schedule or design is degenerate")
        worst = int(np.argmax(np.abs(floats)))
        floats.setflags(write=False)
        steps = np.arange(2, sched.num_steps + 1, dtype=np.int64)
        steps.setflags(write=False)
        return OneStepCondition(steps=steps, r_minus_one=floats, r_minus_one_mp=tuple(out),
                                dps=sched.dps, max_abs=float(abs(floats[worst])),
                                worst_step=worst + 2)


def make_design(name: str, schedule: Schedule, *, eta: float | None = None) -> CoefficientDesign:
    """One of the built-in designs of docs/theory.md §3 for ``schedule``.

    Parameters
    ----------
    name : {"ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta", "pf_euler"}
        The design.
    schedule : Schedule
        Noise schedule.
    eta : float, optional
        Song et al.'s η in [0, 1]; required for (and only for) ``ddim_eta``.

    Returns
    -------
    CoefficientDesign
    """
    name = check_choice("name", name, DESIGN_NAMES)
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    params: dict[str, Any] = {}
    if name == "ddim_eta":
        if eta is None:
            raise InvalidParameterError("`eta` is required for the ddim_eta design (0 ≤ eta ≤ 1)")
        eta_song = check_real("eta", eta, lower=0.0, upper=1.0)
        params["eta"] = eta_song
    elif eta is not None:
        raise InvalidParameterError(f"`eta` applies only to the ddim_eta design (got name={name!r})")
    betas = schedule.mp_one_minus_alpha()
    qs = schedule.mp_one_minus_alpha_bar()
    etas: list[Any] = []
    sigmas_sq: list[Any] = []
    with mpmath.workdps(schedule.dps):
        zero = mpmath.mpf(0)
        for t in range(1, schedule.num_steps + 1):
            beta = betas[t - 1]
            alpha = 1 - beta
            q = qs[t - 1]
            gap = alpha * qs[t - 2] if t >= 2 else zero  # α_t - ᾱ_t
            if name == "ddpm_posterior":
                eta_t, sig_t = beta, beta * gap / q
            elif name == "ddpm_beta":
                eta_t, sig_t = beta, beta
            elif name == "ddim":
                eta_t, sig_t = beta / (1 + mpmath.sqrt(gap / q)), zero
            elif name == "ddim_eta":
                sig_t = mpmath.mpf(params["eta"]) ** 2 * beta * gap / q
                root = mpmath.sqrt(q * (gap - sig_t))
                eta_t = q * (beta + sig_t) / (q + root)
            else:  # pf_euler
                eta_t, sig_t = beta / 2, zero
            etas.append(eta_t)
            sigmas_sq.append(sig_t)
        sigmas = [mpmath.sqrt(s) for s in sigmas_sq]
    return CoefficientDesign(name=name, schedule=schedule, params=params, eta=_readonly(etas),
                             sigma_sq=_readonly(sigmas_sq), sigma=_readonly(sigmas),
                             _eta_mp=tuple(etas), _sigma_sq_mp=tuple(sigmas_sq))


def custom_design(schedule: Schedule, *, eta: Any, sigma_sq: Any,
                  name: str = "custom") -> CoefficientDesign:
    """A design from user arrays ``η_t`` and ``σ_t²`` of length ``T`` (floats taken as exact).

    Raises
    ------
    InvalidParameterError
        If a length differs from ``T``, a value is not finite, or some ``σ_t² < 0``.
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    with mpmath.workdps(schedule.dps):
        etas = _as_mp_array("eta", eta)
        sig = _as_mp_array("sigma_sq", sigma_sq)
        for label, values in (("eta", etas), ("sigma_sq", sig)):
            if len(values) != schedule.num_steps:
                raise InvalidParameterError(
                    f"`{label}` must have length T={schedule.num_steps} (got {len(values)})")
        for i, value in enumerate(sig):
            if value < 0:
                raise InvalidParameterError(
                    f"`sigma_sq` must be >= 0 (entry {i}, t={i + 1}, is {mpmath.nstr(value, 6)})")
        sigmas = [mpmath.sqrt(s) for s in sig]
    return CoefficientDesign(name=name, schedule=schedule, params={}, eta=_readonly(etas),
                             sigma_sq=_readonly(sig), sigma=_readonly(sigmas),
                             _eta_mp=tuple(etas), _sigma_sq_mp=tuple(sig))


# --- Families used by the COEF-CLASS claim (zero set of R_t - 1, and deviations from it) -------


def _zero_set_bounds(schedule: Schedule) -> tuple[Any, Any]:
    """``(max_t 1/(1+r_t), min_t (1+r_t)/u_t)`` over ``t = 2..T`` in mpmath."""
    betas, qs = schedule.mp_one_minus_alpha(), schedule.mp_one_minus_alpha_bar()
    with mpmath.workdps(schedule.dps):
        lo, hi = mpmath.mpf(0), mpmath.inf
        for t in range(2, schedule.num_steps + 1):
            beta, q = betas[t - 1], qs[t - 1]
            r = mpmath.sqrt((1 - beta) * qs[t - 2] / q)
            lo = max(lo, 1 / (1 + r))
            hi = min(hi, (1 + r) * q / beta)
        return lo, hi


def zero_set_admissible_range(schedule: Schedule) -> tuple[float, float]:
    """Range of ``λ`` for which the zero-set design with ``η_t = λ(1-α_t)`` exists.

    Returns
    -------
    (float, float)
        ``[λ_min, λ_max]`` with ``λ_min = max_t 1/(1+r_t)`` (just above 1/2; ``λ = λ_min``
        touches DDIM at the worst step) and ``λ_max = min_t (1+r_t)/u_t``, ``t = 2..T``.

    Notes
    -----
    On the zero set ``σ_t² = (α_t-ᾱ_t) - (1-ᾱ_t-η_t)²/(1-ᾱ_t)``, which is ``≥ 0`` iff
    ``|1-ᾱ_t-η_t| ≤ sqrt((1-ᾱ_t)(α_t-ᾱ_t))``, i.e. ``1/(1+r_t) ≤ λ ≤ (1+r_t)/u_t``.
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    lo, hi = _zero_set_bounds(schedule)
    return float(lo), float(hi)


def zero_set_design(schedule: Schedule, *, lam: float) -> CoefficientDesign:
    """The design on ``R_t = 1`` with ``η_t = λ(1-α_t)``: ``λ = 1`` is DDPM-posterior.

    Parameters
    ----------
    schedule : Schedule
    lam : float
        ``λ`` inside :func:`zero_set_admissible_range`.

    Returns
    -------
    CoefficientDesign
        Named ``"zero_set"`` with ``params = {"lambda": λ}``.

    Raises
    ------
    InvalidParameterError
        If ``σ_t² < 0`` at some ``t ≥ 2`` (the design does not exist); the message gives the
        admissible range.

    Notes
    -----
    ``σ_t² = β_t((2λ-1)(α_t-ᾱ_t) - (1-λ)² β_t)/(1-ᾱ_t)`` (``β_t = 1-α_t``), the zero-set
    formula with ``1-ᾱ_t-η_t = (α_t-ᾱ_t) + (1-λ)β_t`` expanded so that nothing cancels.  ``σ_1``
    is never used by the sampler; it is set by the same formula and clipped at 0.
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    lam_value = check_real("lam", lam, lower=0.0, lower_open=True)
    betas, qs = schedule.mp_one_minus_alpha(), schedule.mp_one_minus_alpha_bar()
    etas: list[Any] = []
    sigmas_sq: list[Any] = []
    with mpmath.workdps(schedule.dps):
        lam_mp = mpmath.mpf(lam_value)
        for t in range(1, schedule.num_steps + 1):
            beta, q = betas[t - 1], qs[t - 1]
            gap = (1 - beta) * qs[t - 2] if t >= 2 else mpmath.mpf(0)
            sig = beta * ((2 * lam_mp - 1) * gap - (1 - lam_mp) ** 2 * beta) / q
            if sig < 0:
                if t >= 2:
                    lo, hi = zero_set_admissible_range(schedule)
                    raise InvalidParameterError(
                        f"`lam` must be in the admissible range [{lo:.6g}, {hi:.6g}] of the zero "
                        f"set for this schedule (got {lam_value}: sigma_t^2 < 0 at t={t})")
                sig = mpmath.mpf(0)
            etas.append(lam_mp * beta)
            sigmas_sq.append(sig)
        sigmas = [mpmath.sqrt(s) for s in sigmas_sq]
    return CoefficientDesign(name="zero_set", schedule=schedule, params={"lambda": lam_value},
                             eta=_readonly(etas), sigma_sq=_readonly(sigmas_sq),
                             sigma=_readonly(sigmas), _eta_mp=tuple(etas),
                             _sigma_sq_mp=tuple(sigmas_sq))


def off_curve_design(schedule: Schedule, *, c: float, p: int) -> CoefficientDesign:
    """DDPM-posterior with ``σ_t²`` moved so that ``R_t - 1 = c·(1-α_t)^p`` exactly.

    Parameters
    ----------
    schedule : Schedule
    c : float
        Size of the deviation (either sign, as long as every ``σ_t² ≥ 0``).
    p : int
        Power, ``1 ≤ p ≤ 6``.

    Returns
    -------
    CoefficientDesign
        Named ``"off_curve"`` with ``params = {"c": c, "p": p}``; ``η_t = 1-α_t``.

    Notes
    -----
    ``R_t = ρ_t + σ_t²/(α_t-ᾱ_t)`` with ``ρ_t`` fixed by ``η_t``, so adding
    ``c β_t^p (α_t-ᾱ_t)`` to the posterior variance adds exactly ``c β_t^p`` to ``R_t``.
    """
    if not isinstance(schedule, Schedule):
        raise InvalidParameterError(
            f"`schedule` must be a theorycheck Schedule (got {type(schedule).__name__})")
    c_value = check_real("c", c)
    if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 6:
        raise InvalidParameterError(f"`p` must be an integer in [1, 6] (got {p!r})")
    betas, qs = schedule.mp_one_minus_alpha(), schedule.mp_one_minus_alpha_bar()
    etas: list[Any] = []
    sigmas_sq: list[Any] = []
    with mpmath.workdps(schedule.dps):
        for t in range(1, schedule.num_steps + 1):
            beta, q = betas[t - 1], qs[t - 1]
            gap = (1 - beta) * qs[t - 2] if t >= 2 else mpmath.mpf(0)
            sig = beta * gap / q + mpmath.mpf(c_value) * beta**p * gap
            if sig < 0:
                raise InvalidParameterError(
                    f"`c` = {c_value} makes sigma_t^2 < 0 at t={t} (p={p}); use a smaller |c|")
            etas.append(beta)
            sigmas_sq.append(sig)
        sigmas = [mpmath.sqrt(s) for s in sigmas_sq]
    return CoefficientDesign(name="off_curve", schedule=schedule,
                             params={"c": c_value, "p": p}, eta=_readonly(etas),
                             sigma_sq=_readonly(sigmas_sq), sigma=_readonly(sigmas),
                             _eta_mp=tuple(etas), _sigma_sq_mp=tuple(sigmas_sq))
