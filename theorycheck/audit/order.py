"""Measured convergence order of a deterministic whole chain on a k = 1 target.

For a deterministic chain (no noise draws) the output on the data's coordinate is a map
``y = F(z)`` of the standard normal start ``z`` (the state on that line stays on it: the exact
denoiser of a target on a line is a function of the coordinate along it).  Change of variables
through the *whole* chain, multistep memory included, gives the output density
``q(F(z)) = φ(z)/F'(z)``; with the substitution ``y = F(z)``

    TV(q, p) = ½ ∫ |q(y) - p(y)| dy = ½ ∫ |φ(z) - p(F(z)) F'(z)| dz,

so no inversion is needed (``φ`` is replaced by the forward law at the first timestep for the
*exact start*, which removes the start-up floor and leaves the solver's own error).  ``F'`` is
the central difference of ``F`` at ``z ± h`` (one batched run of the chain, rows ``z, z+h,
z-h``); its error is estimated by comparing with step ``2h`` on every fourth point.
The integral is the trapezoid rule on a uniform ``z`` grid over ``[-L, L]`` (Gaussian tails
beyond ``L = 8`` weigh ``< 1.3e-15``), its error estimated by the half grid (Richardson).
``p`` is the target smoothed to the chain's end point (:class:`~.scheduler_loop.EndPoint`):
``N(sqrt(ᾱ) μ_i, ᾱ s_i + 1 - ᾱ)`` per component in VP units, ``N(μ_i, s_i + σ²)`` in σ units.

On the data-free coordinates the chain is linear (:mod:`~.wholechain`), so in ``R^d`` the output is
the product of this k = 1 law and ``N(0, v)`` per data-free coordinate: the ambient dimension
enters only through ``v`` (:mod:`~.causes`), and the TV measured here is the whole TV for any
``d`` when that part is exact — "flat in d by the exact split" (``docs/theory.md`` §5).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from theorycheck._validation import check_int, check_real
from theorycheck.audit.scheduler_loop import AuditableChain, EndPoint
from theorycheck.audit.wholechain import ChainFailure, CountingNoise, run_chain_once
from theorycheck.errors import InvalidParameterError
from theorycheck.fitting import SlopeFit, fit_slope
from theorycheck.results import ErrorKind, Estimate

__all__ = ["Factor", "SMOOTH", "ROUGH", "ORDER_STEPS", "ChainDensity", "chain_density",
           "OrderResult", "measure_order", "output_density"]

#: numpy ≥ 2 calls it trapezoid; the k-diffusion session runs numpy < 2.
_trapezoid: Any = vars(np).get("trapezoid") or vars(np)["trapz"]
#: N of the order measurement.
ORDER_STEPS = (10, 20, 50, 100, 200)


@dataclass(frozen=True, kw_only=True)
class Factor:
    """A 1-D Gaussian mixture ``Σ w_i N(μ_i, s_i)`` (the data's coordinate along its line)."""

    name: str
    weights: tuple[float, ...]
    means: tuple[float, ...]
    variances: tuple[float, ...]

    def __post_init__(self) -> None:
        w = np.asarray(self.weights)
        if not (len(self.weights) == len(self.means) == len(self.variances) >= 1):
            raise InvalidParameterError("`Factor` needs equal numbers of weights, means, variances")
        if np.any(w <= 0) or abs(w.sum() - 1) > 1e-12 or min(self.variances) <= 0:
            raise InvalidParameterError("`Factor` weights must be > 0 and sum to 1, variances > 0")

    def denoiser(self, u: NDArray[np.float64], alpha_bar: float) -> NDArray[np.float64]:
        """Exact ``E[X_0 | sqrt(ᾱ) X_0 + sqrt(1-ᾱ) ε = u]`` (posterior over components)."""
        sa = math.sqrt(alpha_bar)
        logs, conds = [], []
        for w, mu, s in zip(self.weights, self.means, self.variances, strict=True):
            var = alpha_bar * s + (1.0 - alpha_bar)
            r = u - sa * mu
            logs.append((math.log(w) - 0.5 * math.log(var)) - (0.5 / var) * r * r)
            conds.append(mu + (sa * s / var) * r)
        top = np.maximum.reduce(logs)
        num = np.zeros_like(u)
        den = np.zeros_like(u)
        for lg, cond in zip(logs, conds, strict=True):
            e = np.exp(lg - top)
            num += e * cond
            den += e
        return np.asarray(num / den)

    def cdf(self, y: NDArray[np.float64], end: EndPoint) -> NDArray[np.float64]:
        """Distribution function of the target smoothed to ``end``, at ``y``."""
        out = np.zeros_like(y)
        for w, m, v in self._components(end):
            out += w * special.ndtr((y - m) / math.sqrt(v))
        return out

    def _components(self, end: EndPoint) -> list[tuple[float, float, float]]:
        comps = []
        for w, mu, s in zip(self.weights, self.means, self.variances, strict=True):
            if end.units == "sigma":
                comps.append((w, mu, s + end.end_variance))
            else:
                a = end.end_alpha_bar
                comps.append((w, math.sqrt(a) * mu, a * s + (1.0 - a)))
        return comps

    def density(self, y: NDArray[np.float64], end: EndPoint) -> NDArray[np.float64]:
        """Density of the target smoothed to ``end`` (module docstring), at ``y``."""
        out = np.zeros_like(y)
        for w, m, v in self._components(end):
            out += w * np.exp(-0.5 * (y - m) ** 2 / v) / math.sqrt(2 * math.pi * v)
        return out


#: Smooth target: well-separated, broad components.
SMOOTH = Factor(name="smooth", weights=(0.3, 0.7), means=(-1.0, 1.0), variances=(0.25, 0.16))
#: Rough (near-discrete) target: narrow components (``docs/theory.md`` §6: small component variance).
ROUGH = Factor(name="rough", weights=(0.3, 0.7), means=(-1.0, 1.0), variances=(1e-3, 2e-3))


@dataclass(frozen=True, kw_only=True)
class ChainDensity:
    """Exact output law of a deterministic chain on the k = 1 target, as the map F.

    Attributes
    ----------
    z, y, slope : ndarray, shape (n,)
        Grid of the start, ``F(z)`` and ``F'(z)``.
    tv : Estimate
        ``TV(q, p)`` (module docstring); error = half-grid quadrature + 2h difference + tails +
        the mass check ``|∫ p(F) F' dz - P(F(-L) < Y < F(L))|`` (large where the grid does not
        resolve a near-fold of F).
    end_point : EndPoint
    seconds : float
    """

    z: NDArray[np.float64] = field(repr=False)
    y: NDArray[np.float64] = field(repr=False)
    slope: NDArray[np.float64] = field(repr=False)
    tv: Estimate
    end_point: EndPoint
    seconds: float


def _tv_integral(z: NDArray[np.float64], y: NDArray[np.float64], dy: NDArray[np.float64],
                 p: Callable[[NDArray[np.float64]], NDArray[np.float64]],
                 start: NDArray[np.float64]) -> tuple[float, float]:
    g = np.abs(start - p(y) * dy)
    full = 0.5 * float(_trapezoid(g, z))
    half = 0.5 * float(_trapezoid(g[::2], z[::2]))
    return full, abs(full - half) / 3.0


def _start_law(factor: Factor, end: EndPoint, z: NDArray[np.float64], start: str
               ) -> tuple[NDArray[np.float64], float]:
    """Density of ``z_T`` (the chain's unit start) and its mass outside ``[z_0, z_-1]``."""
    if start == "gaussian":
        return (np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi),
                float(special.erfc(abs(z[0]) / math.sqrt(2))))
    # The forward law at the first timestep, in units of the chain's start scale c.
    first = dataclasses.replace(end, end_variance=end.exact_start_variance,
                                end_alpha_bar=end.first_alpha_bar)
    c = math.sqrt(end.start_variance)
    dens = factor.density(z * c, first) * c
    cdf = factor.cdf(np.array([z[0] * c, z[-1] * c]), first)
    return dens, float(cdf[0] + 1.0 - cdf[1])


def chain_density(chain: AuditableChain, factor: Factor, *, num_points: int = 10_001,
                  half_width: float = 8.0, h: float = 1e-5, start: str = "exact"
                  ) -> ChainDensity:
    """``F``, ``F'`` and ``TV(q, p)`` of a deterministic chain (module docstring).

    Parameters
    ----------
    chain : AuditableChain
        Must draw no noise (checked); any mode.
    factor : Factor
    num_points : int
        Odd number of grid points in ``z`` (the half grid is then nested); ``num_points - 1``
        divisible by 4 keeps the quarter grid of the difference check nested too.
    half_width : float
        ``L``.
    h : float
        Difference step of ``F'``.
    start : str
        ``"exact"``: the start is the forward law at the first timestep (the solver's own
        error, without the start-up floor, which a deterministic bijection keeps for ever);
        ``"gaussian"``: ``z_T ~ N(0, 1)`` as shipped.

    Raises
    ------
    InvalidParameterError
        A stochastic chain (its output changes with the noise it draws; draws multiplied by 0,
        like k-diffusion's Euler without churn, are fine), or ``F'`` ≤ 0 somewhere (the chain
        is not monotone: no density by change of variables).
    """
    clock = time.perf_counter()
    n = check_int("num_points", num_points, minimum=101)
    if n % 2 == 0:
        raise InvalidParameterError(f"`num_points` must be odd (got {n})")
    L = check_real("half_width", half_width, lower=1.0)
    step = check_real("h", h, lower=0.0, lower_open=True)
    probe = np.array([[-1.0], [0.0], [1.0]])
    counter = CountingNoise()
    quiet = run_chain_once(chain, probe, factor.denoiser, counter)
    noisy = run_chain_once(chain, probe, factor.denoiser, np.random.default_rng(0))
    if counter.calls and not np.allclose(quiet, noisy, rtol=1e-12, atol=1e-12):
        raise InvalidParameterError(f"chain {chain.name!r} draws noise {counter.calls} times and "
                                    "its output depends on it: the density by change of "
                                    "variables needs a deterministic chain")
    z = np.linspace(-L, L, n)
    sub = z[::4]
    batch = np.concatenate([z, z + step, z - step, sub + 2 * step, sub - 2 * step])[:, None]
    out = run_chain_once(chain, batch, factor.denoiser, counter)[:, 0]
    y, yp, ym = (out[i * n:(i + 1) * n] for i in range(3))
    yp2, ym2 = out[3 * n:3 * n + len(sub)], out[3 * n + len(sub):]
    d1 = (yp - ym) / (2 * step)
    d2 = (yp2 - ym2) / (4 * step)
    if np.any(d1 <= 0):
        bad = float(z[np.argmax(d1 <= 0)])
        raise InvalidParameterError(f"chain {chain.name!r} is not increasing in z_T (F' ≤ 0 at "
                                    f"z = {bad:.3g}): no density by change of variables")
    end = chain.end_point()

    if start not in ("exact", "gaussian"):
        raise InvalidParameterError(f"`start` must be 'exact' or 'gaussian' (got {start!r})")
    law, tail = _start_law(factor, end, z, start)

    def p(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return factor.density(x, end)
    tv, quad_err = _tv_integral(z, y, d1, p, law)
    # The 2h difference has 4× the truncation error of the h one: on the quarter grid,
    # |TV(h) - TV(2h)|/3 estimates the error of TV(h).
    tv_h, _ = _tv_integral(sub, y[::4], d1[::4], p, law[::4])
    tv_2h, _ = _tv_integral(sub, y[::4], d2, p, law[::4])
    diff_err = abs(tv_h - tv_2h) / 3.0
    # Mass check: ∫ p(F(z)) F'(z) dz must equal the target's mass on [F(-L), F(L)]; a grid that
    # does not resolve a steep part of F (a near-fold) fails it, and the TV is then unresolved.
    mass = float(_trapezoid(p(y) * d1, z))
    mass_ref = float(np.diff(factor.cdf(np.array([y[0], y[-1]]), end))[0])
    mass_err = abs(mass - mass_ref)
    err = quad_err + diff_err + tail + mass_err + 1e-13
    for arr in (z, y, d1):
        arr.setflags(write=False)
    return ChainDensity(
        z=z, y=y, slope=d1,
        tv=Estimate(value=tv, stderr=err, error_kind=ErrorKind.TOLERANCE,
                    method=(f"change of variables through the whole chain from the {start} "
                            f"start, trapezoid on {n} "
                            f"points over [-{L:g}, {L:g}] (half-grid error), central "
                            f"difference h={step:g} (2h check)")),
        end_point=end, seconds=time.perf_counter() - clock)


def output_density(result: ChainDensity, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """``q(y) = φ(z)/F'(z)`` at ``z = F^{-1}(y)`` (linear interpolation of the map; 0 outside)."""
    zz = np.interp(y, result.y, result.z, left=np.nan, right=np.nan)
    slope = np.interp(y, result.y, result.slope)
    q = np.exp(-0.5 * zz * zz) / math.sqrt(2 * math.pi) / slope
    return np.asarray(np.where(np.isfinite(zz), q, 0.0))


@dataclass(frozen=True, kw_only=True)
class OrderResult:
    """TV against N on one target, and the fitted order.

    Attributes
    ----------
    name, target : str
    steps : tuple of int
    tv : tuple of Estimate
    fit : SlopeFit
        ``log TV ≈ c + slope · log N``: the order is ``-slope``.
    note : str
    """

    name: str
    target: str
    steps: tuple[int, ...]
    tv: tuple[Estimate, ...]
    fit: SlopeFit
    seconds: float
    note: str = ""

    @property
    def order(self) -> Estimate | None:
        """``-slope`` with its standard error (None when the fit is unusable)."""
        raw = self.fit.raw
        if not raw.usable or raw.slope is None or raw.slope_stderr is None:
            return None
        return Estimate(value=-raw.slope, stderr=raw.slope_stderr, error_kind=ErrorKind.STDERR,
                        method=f"weighted log-log fit over N in {self.steps} ({raw.ci_method})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        order = self.order
        return {"name": self.name, "target": self.target, "steps": list(self.steps),
                "tv": [e.to_dict() for e in self.tv], "fit": self.fit.to_dict(),
                "order": None if order is None else order.to_dict(), "seconds": self.seconds,
                "note": self.note}


def measure_order(make_chain: Callable[[int], AuditableChain], factor: Factor, *,
                  steps: Sequence[int] = ORDER_STEPS, num_points: int = 10_001,
                  name: str = "", start: str = "exact") -> OrderResult:
    """TV of the chain's k = 1 output at each N and the log-log order fit.

    ``make_chain(N)`` returns the chain with N steps (same scheduler and mode).  A failing N is
    left out with a note.  Points within 2 errors of the quadrature floor are excluded by the fit.
    """
    clock = time.perf_counter()
    used_steps: list[int] = []
    tvs: list[Estimate] = []
    notes: list[str] = []
    for n_steps in steps:
        try:
            res = chain_density(make_chain(int(n_steps)), factor, num_points=num_points,
                                start=start)
        except (ChainFailure, InvalidParameterError) as exc:
            notes.append(f"N={n_steps}: {exc}")
            continue
        used_steps.append(int(n_steps))
        tvs.append(res.tv)
    if len(used_steps) < 2:
        raise InvalidParameterError(f"fewer than 2 values of N could be measured for {name!r}: "
                                    + "; ".join(notes))
    # At least 3 resolved points for an order: two points fit any power.
    fit = fit_slope(used_steps, [e.value for e in tvs], [e.stderr for e in tvs],
                    min_points=3)
    return OrderResult(name=name, target=factor.name, steps=tuple(used_steps), tv=tuple(tvs),
                       fit=fit, seconds=time.perf_counter() - clock, note="; ".join(notes))
