"""Noise schedules computed exactly in high precision, with float64 tables rounded from them.

A schedule is the sequence ``α_t`` (equivalently ``β_t = 1-α_t``) for ``t = 1..T`` of the
forward process ``X_t = sqrt(α_t) X_{t-1} + sqrt(1-α_t) W_t``.  The quantities every sampler and
every bound needs are

* ``ᾱ_t = α_1 ⋯ α_t``,
* ``1-ᾱ_t`` (as small as ``T^{-c0}`` at ``t = 1``: 1e-6 … 1e-48),
* ``α_t-ᾱ_t = α_t (1-ᾱ_{t-1})`` (exactly 0 at ``t = 1``).

Forming ``1-ᾱ_t`` as ``1 - cumprod(α)`` loses ``log10(1/(1-ᾱ_t))`` digits (all of them in float32
for the two-phase schedule).  Here every quantity comes from a *cancellation-free* recursion in
mpmath at a caller-chosen precision::

    ᾱ_t     = ᾱ_{t-1} · α_t                     (products of positive numbers)
    1-ᾱ_t   = (1-ᾱ_{t-1}) + β_t · ᾱ_{t-1}        (sums of positive numbers)
    α_t-ᾱ_t = α_t · (1-ᾱ_{t-1})

so the relative error after ``T`` steps is at most about ``3 T · 10^{-dps}`` whatever the size of
``1-ᾱ_t``; the float64 tables are rounded once from those values.  With the default
``dps = 50`` this leaves more than 40 correct digits for ``T ≤ 10^6`` and any ``c0`` (the
recursions never subtract, so ``c0`` does not cost digits), which is what reference computations
such as ``R_t - 1 ≈ 1e-40`` for the DDPM-posterior design need.

References
----------
.. [1] The two-phase schedule assumed by arXiv:2408.02320, 2409.18959, 2501.12982 and
   2410.18784 (docs/theory.md §2.1).
.. [2] G. Li and Y. Yan, "O(d/T) convergence theory for diffusion probabilistic models under
   minimal assumptions", arXiv:2409.18959, Eq. (2.3).
.. [3] J. Ho, A. Jain and P. Abbeel, "Denoising diffusion probabilistic models",
   arXiv:2006.11239 (linear β schedule).
.. [4] A. Nichol and P. Dhariwal, "Improved denoising diffusion probabilistic models",
   arXiv:2102.09672 (cosine schedule, β clipped at 0.999; linear schedule rescaled by 1000/T).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_choice, check_int, check_real
from theorycheck.errors import InvalidParameterError, NonFiniteError

__all__ = [
    "DEFAULT_DPS",
    "TWO_PHASE_INDEX_CONVENTIONS",
    "Schedule",
    "ScheduleValues",
    "two_phase",
    "linear",
    "cosine",
    "from_betas",
    "from_alphas",
    "from_alpha_bar",
]

#: Default mpmath precision (decimal digits).  Enough for ``T ≤ 10^6`` and any ``c0`` with more
#: than 40 digits to spare, because the recursions above never subtract (see module notes).
DEFAULT_DPS = 50

#: Index conventions of the two-phase schedule: ``"seed"`` uses ``(1 + c1 log T / T)^t`` in
#: ``β_t`` (the default), ``"li_yan"`` uses exponent ``t - 1`` (arXiv:2409.18959, Eq. 2.3).
TWO_PHASE_INDEX_CONVENTIONS = ("seed", "li_yan")

_MAX_STEPS = 10**7


def _readonly(values: list[float]) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, kw_only=True)
class ScheduleValues:
    """High-precision schedule quantities at one step ``t`` (mpmath ``mpf`` at the schedule's dps)."""

    t: int
    alpha: Any
    one_minus_alpha: Any
    alpha_bar: Any
    one_minus_alpha_bar: Any
    alpha_minus_alpha_bar: Any


@dataclass(frozen=True, kw_only=True, eq=False)
class Schedule:
    """An exact noise schedule ``α_1..α_T`` and its float64 tables.

    Build it with :func:`two_phase`, :func:`linear`, :func:`cosine`, :func:`from_betas`,
    :func:`from_alphas` or :func:`from_alpha_bar`; do not call the constructor directly.

    Attributes
    ----------
    kind : str
        ``"two_phase"``, ``"linear"``, ``"cosine"`` or ``"custom"``.
    num_steps : int
        ``T``.
    params : dict
        The family's parameters (for example ``{"c0": 2.0, "c1": 4.0, "index": "seed"}``).
    dps : int
        mpmath precision (decimal digits) of the high-precision values.
    alpha, one_minus_alpha, alpha_bar, one_minus_alpha_bar, alpha_minus_alpha_bar : ndarray, shape (T,)
        float64 tables, entry ``t-1`` for step ``t``, each rounded once from its high-precision
        value (never formed by subtraction in float64).  Read-only.
    """

    kind: str
    num_steps: int
    params: dict[str, Any]
    dps: int
    alpha: NDArray[np.float64] = field(repr=False)
    one_minus_alpha: NDArray[np.float64] = field(repr=False)
    alpha_bar: NDArray[np.float64] = field(repr=False)
    one_minus_alpha_bar: NDArray[np.float64] = field(repr=False)
    alpha_minus_alpha_bar: NDArray[np.float64] = field(repr=False)
    _beta_mp: tuple[Any, ...] = field(repr=False)
    _alpha_bar_mp: tuple[Any, ...] = field(repr=False)
    _one_minus_alpha_bar_mp: tuple[Any, ...] = field(repr=False)

    def mp_values(self, t: int) -> ScheduleValues:
        """High-precision values at step ``t`` (1-based), as ``mpf`` at ``self.dps`` digits.

        Use them inside ``with mpmath.workdps(schedule.dps):`` to keep their precision.
        """
        t = check_int("t", t, minimum=1, maximum=self.num_steps)
        with mpmath.workdps(self.dps):
            beta = self._beta_mp[t - 1]
            alpha = 1 - beta
            prev_q = self._one_minus_alpha_bar_mp[t - 2] if t >= 2 else mpmath.mpf(0)
            return ScheduleValues(
                t=t,
                alpha=alpha,
                one_minus_alpha=beta,
                alpha_bar=self._alpha_bar_mp[t - 1],
                one_minus_alpha_bar=self._one_minus_alpha_bar_mp[t - 1],
                alpha_minus_alpha_bar=alpha * prev_q,
            )

    def mp_one_minus_alpha(self) -> tuple[Any, ...]:
        """``β_t = 1-α_t`` for ``t = 1..T`` as ``mpf`` (exact inputs of the recursion)."""
        return self._beta_mp

    def mp_alpha_bar(self) -> tuple[Any, ...]:
        """``ᾱ_t`` for ``t = 1..T`` as ``mpf``."""
        return self._alpha_bar_mp

    def mp_one_minus_alpha_bar(self) -> tuple[Any, ...]:
        """``1-ᾱ_t`` for ``t = 1..T`` as ``mpf`` (cancellation-free)."""
        return self._one_minus_alpha_bar_mp

    def describe(self) -> str:
        """One-line description naming the family, its parameters and the index convention."""
        inner = ", ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.kind}(T={self.num_steps}{', ' + inner if inner else ''}; dps={self.dps})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no arrays)."""
        return {"kind": self.kind, "num_steps": self.num_steps, "params": dict(self.params),
                "dps": self.dps}


def _build(kind: str, params: dict[str, Any], betas_mp: Sequence[Any], dps: int) -> Schedule:
    """Run the cancellation-free recursion on exact ``β_t`` (mpf) and round the tables."""
    num_steps = len(betas_mp)
    with mpmath.workdps(dps):
        one = mpmath.mpf(1)
        alpha_bar_prev = one
        q_prev = mpmath.mpf(0)
        alpha_bar_mp: list[Any] = []
        q_mp: list[Any] = []
        alpha_f: list[float] = []
        beta_f: list[float] = []
        alpha_bar_f: list[float] = []
        q_f: list[float] = []
        gap_f: list[float] = []
        for beta in betas_mp:
            alpha = one - beta
            alpha_bar = alpha_bar_prev * alpha
            q = q_prev + beta * alpha_bar_prev
            gap = alpha * q_prev
            alpha_bar_mp.append(alpha_bar)
            q_mp.append(q)
            alpha_f.append(float(alpha))
            beta_f.append(float(beta))
            alpha_bar_f.append(float(alpha_bar))
            q_f.append(float(q))
            gap_f.append(float(gap))
            alpha_bar_prev = alpha_bar
            q_prev = q
    if alpha_bar_f[-1] == 0.0:
        raise InvalidParameterError(
            f"the schedule underflows: ᾱ_T = {mpmath.nstr(alpha_bar_mp[-1], 5)} is below the "
            "float64 range; use fewer or smaller noise steps")
    return Schedule(
        kind=kind,
        num_steps=num_steps,
        params=params,
        dps=dps,
        alpha=_readonly(alpha_f),
        one_minus_alpha=_readonly(beta_f),
        alpha_bar=_readonly(alpha_bar_f),
        one_minus_alpha_bar=_readonly(q_f),
        alpha_minus_alpha_bar=_readonly(gap_f),
        _beta_mp=tuple(betas_mp),
        _alpha_bar_mp=tuple(alpha_bar_mp),
        _one_minus_alpha_bar_mp=tuple(q_mp),
    )


def _check_steps(num_steps: Any) -> int:
    return check_int("num_steps", num_steps, minimum=2, maximum=_MAX_STEPS)


def _check_dps(dps: Any) -> int:
    return check_int("dps", dps, minimum=20, maximum=10_000)


def two_phase(num_steps: int, *, c0: float = 2.0, c1: float = 4.0, index: str = "seed",
              dps: int = DEFAULT_DPS) -> Schedule:
    """The two-phase schedule of the theory papers (exponential growth, then flat).

    Parameters
    ----------
    num_steps : int
        ``T ≥ 2``.
    c0, c1 : float
        Positive constants; ``1-α_1 = T^{-c0}`` and the step size is ``h = c1 log T / T``, which
        must be below 1 so that every ``α_t`` lies in (0, 1).
    index : {"seed", "li_yan"}
        ``"seed"`` (default): ``β_t = h · min{(1-α_1)(1+h)^t, 1}`` for ``t ≥ 2`` (docs/theory.md §2.1);
        ``"li_yan"``: exponent ``t-1`` (arXiv:2409.18959, Eq. 2.3, where ``β_{t+1}`` carries
        exponent ``t``).
    dps : int
        mpmath precision in decimal digits.

    Returns
    -------
    Schedule

    Notes
    -----
    The schedule grows geometrically for about ``(c0/c1) T`` steps and is flat afterwards, so
    ``ᾱ_T ≈ e^{-1} T^{-(c1-c0)}``; see :func:`theorycheck.schedule_checks.schedule_properties`
    for the properties the proofs need and which constants break them.
    """
    num_steps = _check_steps(num_steps)
    c0 = check_real("c0", c0, lower=0.0, lower_open=True)
    c1 = check_real("c1", c1, lower=0.0, lower_open=True)
    index = check_choice("index", index, TWO_PHASE_INDEX_CONVENTIONS)
    dps = _check_dps(dps)
    step = c1 * math.log(num_steps) / num_steps
    if step >= 1.0:
        raise InvalidParameterError(
            f"`c1` must satisfy c1·log(T)/T < 1 so that every α_t is in (0, 1) "
            f"(got c1·log(T)/T = {step:.4g} for c1={c1}, T={num_steps})")
    offset = 0 if index == "seed" else 1
    with mpmath.workdps(dps + 10):
        h = mpmath.mpf(c1) * mpmath.log(num_steps) / num_steps
        beta1 = mpmath.power(num_steps, -mpmath.mpf(c0))
        growth = 1 + h
        betas: list[Any] = [beta1]
        # g_t = β_1 (1+h)^(t - offset), by repeated multiplication (relative error ≤ t·2^-prec).
        g = beta1 * mpmath.power(growth, 2 - offset)
        capped = False
        for _ in range(2, num_steps + 1):
            if not capped and g >= 1:
                capped = True
            betas.append(h if capped else h * g)
            if not capped:
                g *= growth
    with mpmath.workdps(dps):
        betas = [+b for b in betas]  # round to the working precision once
    return _build("two_phase", {"c0": c0, "c1": c1, "index": index}, betas, dps)


def linear(num_steps: int, *, beta_start: float = 1e-4, beta_end: float = 0.02,
           rescale: bool = False, dps: int = DEFAULT_DPS) -> Schedule:
    """Ho et al.'s linear β schedule, ``β_t`` evenly spaced from ``beta_start`` to ``beta_end``.

    Parameters
    ----------
    num_steps : int
        ``T ≥ 2``.
    beta_start, beta_end : float
        End points in (0, 1) (defaults are Ho et al.'s values at T = 1000).
    rescale : bool
        If true, multiply both end points by ``1000/T`` as improved-diffusion does so that the
        schedule keeps its shape for other ``T``.
    dps : int
        mpmath precision in decimal digits.
    """
    num_steps = _check_steps(num_steps)
    beta_start = check_real("beta_start", beta_start, lower=0.0, upper=1.0, lower_open=True,
                            upper_open=True)
    beta_end = check_real("beta_end", beta_end, lower=0.0, upper=1.0, lower_open=True,
                          upper_open=True)
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        scale = mpmath.mpf(1000) / num_steps if rescale else mpmath.mpf(1)
        start = scale * mpmath.mpf(beta_start)
        end = scale * mpmath.mpf(beta_end)
        if not (0 < start < 1 and 0 < end < 1):
            raise InvalidParameterError(
                f"`rescale` moves the end points outside (0, 1) at T={num_steps} "
                f"(β_start={mpmath.nstr(start, 4)}, β_end={mpmath.nstr(end, 4)})")
        betas = [start + (end - start) * mpmath.mpf(i) / (num_steps - 1) for i in range(num_steps)]
    params = {"beta_start": beta_start, "beta_end": beta_end, "rescale": bool(rescale)}
    return _build("linear", params, betas, dps)


def cosine(num_steps: int, *, s: float = 0.008, max_beta: float = 0.999,
           dps: int = DEFAULT_DPS) -> Schedule:
    """Nichol & Dhariwal's cosine schedule.

    ``β_t = min(1 - f(t/T)/f((t-1)/T), max_beta)`` with ``f(u) = cos²((u+s)/(1+s) · π/2)``, as in
    improved-diffusion's ``betas_for_alpha_bar``; ``ᾱ_t`` is then the product of ``1-β_t`` (so
    the clipping of the last steps is reflected in ``ᾱ``).
    """
    num_steps = _check_steps(num_steps)
    s = check_real("s", s, lower=0.0, lower_open=True)
    max_beta = check_real("max_beta", max_beta, lower=0.0, upper=1.0, lower_open=True,
                          upper_open=True)
    dps = _check_dps(dps)
    with mpmath.workdps(dps + 20):
        shift = mpmath.mpf(s)
        def f(u: Any) -> Any:
            return mpmath.cos((u + shift) / (1 + shift) * mpmath.pi / 2) ** 2
        cap = mpmath.mpf(max_beta)
        values = [f(mpmath.mpf(i) / num_steps) for i in range(num_steps + 1)]
        betas = [min(1 - values[i] / values[i - 1], cap) for i in range(1, num_steps + 1)]
    with mpmath.workdps(dps):
        betas = [+b for b in betas]
    return _build("cosine", {"s": s, "max_beta": max_beta}, betas, dps)


def _as_mp_array(name: str, values: Any) -> list[Any]:
    """Exact mpf conversion of a 1-D array of finite reals (floats convert exactly)."""
    if isinstance(values, str | bytes):
        raise InvalidParameterError(f"`{name}` must be a 1-D array of numbers (got a string)")
    try:
        items = list(values)
    except TypeError:
        raise InvalidParameterError(f"`{name}` must be a 1-D array of numbers") from None
    out: list[Any] = []
    for i, item in enumerate(items):
        if isinstance(item, mpmath.mpf):
            value = item
        elif isinstance(item, str | bytes):  # float("0.5") would accept it: numbers only
            raise InvalidParameterError(
                f"`{name}` must contain only real numbers, not strings (entry {i} is {item!r})")
        else:
            try:
                number = float(item)
            except (TypeError, ValueError):
                raise InvalidParameterError(
                    f"`{name}` must contain only real numbers (entry {i} is {item!r})") from None
            if not math.isfinite(number):
                raise NonFiniteError(f"`{name}` must be finite (entry {i} is {number})")
            value = mpmath.mpf(number)
        if not mpmath.isfinite(value):
            raise NonFiniteError(f"`{name}` must be finite (entry {i} is {value})")
        out.append(value)
    return out


def from_betas(betas: Any, *, dps: int = DEFAULT_DPS) -> Schedule:
    """A user schedule from ``β_t = 1-α_t``, ``t = 1..T`` (floats are taken as exact)."""
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        values = _as_mp_array("betas", betas)
        _check_length("betas", len(values))
        for i, beta in enumerate(values):
            if not 0 < beta < 1:
                raise InvalidParameterError(
                    f"`betas` must lie in (0, 1) so that α_t is in (0, 1) "
                    f"(entry {i}, t={i + 1}, is {mpmath.nstr(beta, 6)})")
    return _build("custom", {"from": "betas"}, values, dps)


def from_alphas(alphas: Any, *, dps: int = DEFAULT_DPS) -> Schedule:
    """A user schedule from ``α_t``, ``t = 1..T`` (``β_t = 1-α_t`` is formed exactly)."""
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        values = _as_mp_array("alphas", alphas)
        _check_length("alphas", len(values))
        for i, alpha in enumerate(values):
            if not 0 < alpha < 1:
                raise InvalidParameterError(
                    f"`alphas` must lie in (0, 1) (entry {i}, t={i + 1}, is "
                    f"{mpmath.nstr(alpha, 17)})")
    # β_t = 1-α_t is exact at dps digits unless α_t is so small that its last bit lies below
    # the working precision relative to 1 (α ≲ 10^-dps): then β rounds up and α = 1-β is lost
    # (a tiny α would otherwise surface later as a misleading "ᾱ underflows").
    with mpmath.workdps(dps):
        betas = [1 - alpha for alpha in values]
        for i, (alpha, beta) in enumerate(zip(values, betas, strict=True)):
            if 1 - beta != alpha:
                needed = math.ceil((-int(alpha.exp) + 2) * math.log10(2)) + 1
                raise InvalidParameterError(
                    f"`alphas` entry {i} (t={i + 1}) is {mpmath.nstr(alpha, 6)}: β_t = 1-α_t "
                    f"cannot hold it at dps={dps} digits (α_t is lost); pass dps >= {needed}")
    return _build("custom", {"from": "alphas"}, betas, dps)


def from_alpha_bar(alpha_bar: Any, *, dps: int = DEFAULT_DPS) -> Schedule:
    """A user schedule from ``ᾱ_t``, ``t = 1..T`` (for example a library's ``alphas_cumprod``).

    ``α_t = ᾱ_t / ᾱ_{t-1}`` and ``β_t = (ᾱ_{t-1} - ᾱ_t)/ᾱ_{t-1}`` are formed in high precision;
    ``ᾱ`` must be strictly decreasing in (0, 1).
    """
    dps = _check_dps(dps)
    with mpmath.workdps(dps):
        values = _as_mp_array("alpha_bar", alpha_bar)
        _check_length("alpha_bar", len(values))
        previous = mpmath.mpf(1)
        betas = []
        for i, value in enumerate(values):
            if not 0 < value < 1:
                raise InvalidParameterError(
                    f"`alpha_bar` must lie in (0, 1) (entry {i}, t={i + 1}, is "
                    f"{mpmath.nstr(value, 17)})")
            if not value < previous:
                raise InvalidParameterError(
                    f"`alpha_bar` must be strictly decreasing (entry {i}, t={i + 1}: "
                    f"{mpmath.nstr(value, 17)} is not below {mpmath.nstr(previous, 17)})")
            betas.append((previous - value) / previous)
            previous = value
    return _build("custom", {"from": "alpha_bar"}, betas, dps)


def _check_length(name: str, length: int) -> None:
    if length < 2:
        raise InvalidParameterError(f"`{name}` must have at least 2 entries (T ≥ 2; got {length})")
    if length > _MAX_STEPS:
        raise InvalidParameterError(f"`{name}` must have at most {_MAX_STEPS} entries")
