"""Log-log slopes with uncertainty, and the verdicts built on them (docs/theory.md §7-§8).

A rate claim such as "TV = O(k/T) up to logs" becomes an error curve ``e(x)`` with standard
errors, a weighted fit of ``log e`` on ``log x`` and a confidence interval for the slope, which
:func:`judge_slope` compares with the predicted exponent.  Every fit is reported raw and with the
theorem's log factor divided out (docs/theory.md §8).  :func:`judge_bounded_ratio` checks "error ×
rate⁻¹ stays bounded over the grid".  Unresolved points (value ``<= 0``, within 2σ of a declared
numerical ``floor``, relative error ``>= 0.5``) carry no slope information: they are excluded
and reported by index with the reason, not raised on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from theorycheck._validation import check_choice, check_finite_array, check_int, check_real
from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import Verdict

__all__ = ["RELATIVE_ERROR_FLOOR", "LineFit", "RatioCheck", "SlopeFit", "fit_slope",
           "judge_bounded_ratio", "judge_slope", "pairwise_slopes"]

#: Smallest relative error a point gets in the fit.  "Exact" values (stderr 0) still carry float64
#: rounding accumulated over up to thousands of terms (~1e-14..1e-13 relative); 1e-12 is safely
#: above that and far below any Monte Carlo error, so exact points get finite, equal weights.
RELATIVE_ERROR_FLOOR = 1e-12
#: A point whose relative error reaches this is unresolved: its log is uncertain by O(1).
_UNRESOLVED_RELATIVE_ERROR = 0.5
#: A point is "at the floor" when ``value - 2·stderr <= floor``: not resolved above it at ~2σ.
_FLOOR_SIGMAS = 2.0


@dataclass(frozen=True, kw_only=True)
class LineFit:
    """Weighted straight-line fit ``log(value) ≈ intercept + slope · log(x)``.

    When ``usable`` is false, every numerical field except ``dof`` is ``None`` (never NaN) and
    ``note`` says why.  ``ci_method`` says how the interval was formed: ``"t"`` (stated errors
    explain the scatter), ``"t+birge"`` (stderr scaled by ``birge_ratio``) or
    ``"normal-2pt"`` (two points: propagated errors only, no scatter check possible).
    """

    usable: bool
    slope: float | None
    intercept: float | None
    slope_stderr: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    chi2: float | None
    dof: int
    birge_ratio: float | None
    ci_method: str
    points_used: tuple[int, ...]
    excluded: tuple[int, ...]
    exclusion_reasons: tuple[str, ...]
    note: str = ""

    def __post_init__(self) -> None:
        numbers = (self.slope, self.intercept, self.slope_stderr, self.ci_low, self.ci_high)
        if any((v is None) == self.usable or not math.isfinite(v or 0.0) for v in numbers):
            raise NonFiniteError(f"LineFit numbers must be finite if usable, else None "
                                 f"(usable={self.usable}, got {numbers})")

    @property
    def num_used(self) -> int:
        """Number of points that entered the fit."""
        return len(self.points_used)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (tuples become lists; no NaN, ``None`` for absent)."""
        return {**asdict(self), "points_used": list(self.points_used), "num_used": self.num_used,
                "excluded": list(self.excluded), "exclusion_reasons": list(self.exclusion_reasons)}


@dataclass(frozen=True, kw_only=True)
class SlopeFit:
    """Raw and log-corrected fits of one error curve (docs/theory.md §8: "report both").

    ``corrected`` fits ``value / log(base)^log_factor_power`` with ``base`` = ``x`` or the
    ``log_factor_of`` array (``log_factor_source``); with power 0 it equals ``raw``.
    """

    raw: LineFit
    corrected: LineFit
    log_factor_power: float
    log_factor_source: str
    floor: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with nested ``raw`` and ``corrected`` fits."""
        return {**asdict(self), "raw": self.raw.to_dict(),
                "corrected": self.corrected.to_dict()}


@dataclass(frozen=True, kw_only=True)
class RatioCheck:
    """Result of :func:`judge_bounded_ratio`.

    ``spread = max(r)/min(r)``, bracketed by ``[spread_low, spread_high]`` at the per-point
    confidence.  ``None`` means unbounded (``spread_high``: possibly; ``spread_low``: surely, so
    FAIL), never NaN or infinity.
    """

    verdict: Verdict
    ratios: tuple[float, ...]
    ratio_stderrs: tuple[float, ...]
    spread: float | None
    spread_low: float | None
    spread_high: float | None
    max_ratio_spread: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the verdict is its string value."""
        return {**asdict(self), "verdict": self.verdict.value, "ratios": list(self.ratios),
                "ratio_stderrs": list(self.ratio_stderrs)}


def _reject(bad: NDArray[np.bool_], arr: NDArray[np.float64], rule: str) -> None:
    """Raise ``InvalidParameterError(rule + " (got <value> at index <i>)")`` at the first bad."""
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(f"{rule} (got {arr[i]} at index {i})")


def _curve(x: ArrayLike, values: ArrayLike, stderrs: ArrayLike | None, *, x_name: str = "x"
           ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate a curve: 1-D finite arrays of one length, ``x > 0``, ``stderrs >= 0``."""
    x_arr = check_finite_array(x_name, x, ndim=1)
    _reject(x_arr <= 0, x_arr, f"`{x_name}` must be > 0")
    # Same-length rule, phrased by the shared validator: "`values` must have shape (5) ...".
    val_arr = check_finite_array("values", values, shape=x_arr.shape)
    err_arr = (np.zeros_like(x_arr) if stderrs is None
               else check_finite_array("stderrs", stderrs, shape=x_arr.shape))
    _reject(err_arr < 0, err_arr, "`stderrs` must be >= 0")
    return x_arr, val_arr, err_arr


def _unresolved_reason(value: float, err: float, floor: float) -> str:
    """Why a point is excluded from a fit, or ``""`` when it is resolved."""
    if value <= 0.0:
        return "value <= 0 (unresolved)"
    if err >= _UNRESOLVED_RELATIVE_ERROR * value:
        return "relative error >= 0.5 (unresolved)"
    if value - _FLOOR_SIGMAS * err <= floor:
        return f"not resolved above floor={floor} (value - 2*stderr <= floor)"
    return ""


def _line(log_x: NDArray[np.float64], log_y: NDArray[np.float64],
          sigma: NDArray[np.float64], *, used: tuple[int, ...], excluded: tuple[int, ...],
          reasons: tuple[str, ...], min_points: int, confidence: float) -> LineFit:
    """Weighted least squares on the used points (private: inputs already validated)."""
    common: dict[str, Any] = {"confidence": confidence, "points_used": used,
                              "excluded": excluded, "exclusion_reasons": reasons}
    n = len(used)
    note = (f"only {n} usable point(s); min_points={min_points}" if n < min_points else
            "fewer than 2 distinct x among the usable points" if np.unique(log_x).size < 2
            else "")
    if note:
        absent: dict[str, Any] = dict.fromkeys(("slope", "intercept", "slope_stderr", "ci_low",
                                                "ci_high", "chi2", "birge_ratio"))
        return LineFit(usable=False, dof=max(n - 2, 0), ci_method="none", note=note,
                       **absent, **common)
    weights = sigma ** -2.0
    # Centring at the weighted mean makes slope and its variance numerically stable.
    u_mean = np.sum(weights * log_x) / np.sum(weights)
    y_mean = np.sum(weights * log_y) / np.sum(weights)
    leverage = float(np.sum(weights * (log_x - u_mean) ** 2))
    slope = float(np.sum(weights * (log_x - u_mean) * (log_y - y_mean)) / leverage)
    intercept = float(y_mean - slope * u_mean)
    chi2 = float(np.sum(weights * (log_y - intercept - slope * log_x) ** 2))
    stderr, dof, tail = 1.0 / math.sqrt(leverage), n - 2, 0.5 * (1.0 + confidence)
    if dof == 0:
        # Two points fit exactly (chi2 = 0): no scatter check is possible, so the stated errors
        # are all we have; treated as known, they give a normal-quantile interval.
        quantile, birge, method = float(stats.norm.ppf(tail)), None, "normal-2pt"
    else:
        birge = math.sqrt(chi2 / dof)
        quantile, method = float(stats.t.ppf(tail, dof)), "t+birge" if birge > 1.0 else "t"
        stderr *= max(birge, 1.0)  # inflate only: never claim more precision than stated
    return LineFit(usable=True, slope=slope, intercept=intercept, slope_stderr=stderr,
                   ci_low=slope - quantile * stderr, ci_high=slope + quantile * stderr,
                   chi2=chi2, dof=dof, birge_ratio=birge, ci_method=method, **common)


def fit_slope(x: ArrayLike, values: ArrayLike, stderrs: ArrayLike, *,
              log_factor_power: float = 0.0, log_factor_of: ArrayLike | None = None,
              floor: float = 0.0, min_points: int = 3, confidence: float = 0.95) -> SlopeFit:
    """Fit ``values ≈ C · x^slope`` by weighted least squares in log-log, raw and log-corrected.

    Parameters
    ----------
    x : array_like, shape (n,)
        Grid (e.g. ``num_steps``), ``> 0``; any order, repeats allowed.
    values : array_like, shape (n,)
        Measured errors.  Points ``<= 0`` are excluded as unresolved, not rejected.
    stderrs : array_like, shape (n,)
        One-sigma errors of ``values`` (``0`` = exact), ``>= 0``.
    log_factor_power : float, optional
        ``p`` of the theorem's log factor; ``corrected`` fits ``values / log(base)^p``.
    log_factor_of : array_like, shape (n,), optional
        ``base`` of the log factor when it is not ``x`` (e.g. ``T`` while fitting in ``k``).
        When ``p != 0`` every base must be ``> 1`` so that the factor is positive.
    floor : float, optional
        Declared numerical floor of the error method (e.g. quadrature tolerance), ``>= 0``.
    min_points : int, optional
        Fewest usable points for a fit, ``>= 2``; fewer gives ``usable=False``.
    confidence : float, optional
        Two-sided confidence level of the slope interval, in ``(0, 1)``.

    Returns
    -------
    SlopeFit
        ``raw`` and ``corrected`` :class:`LineFit` over the same used points (exclusion looks
        at the raw values, in the units of ``floor``).

    Notes
    -----
    Point ``i`` is excluded when ``value_i <= 0``, ``stderr_i / value_i >= 0.5`` or
    ``value_i - 2·stderr_i <= floor``.  The rest get weights ``σ_i⁻²``, ``σ_i = max(stderr_i /
    value_i,`` :data:`RELATIVE_ERROR_FLOOR` ``)`` (delta method for ``log value``; the exact log
    factor leaves ``σ_i`` unchanged).  The propagated slope error ``(Σ w_i (u_i - ū)²)^{-1/2}``,
    ``u = log x``, is multiplied by the Birge ratio ``sqrt(χ²/dof)`` when that exceeds 1 (the
    laws are only asymptotic, so stated errors alone under-state the scatter about a line) and
    never shrunk.  The interval uses Student's t, ``dof = n - 2`` (conservative for exactly known
    errors); two points (``min_points=2``) use the normal quantile and the propagated error
    only (``ci_method="normal-2pt"``).
    """
    x_arr, val_arr, err_arr = _curve(x, values, stderrs)
    power = check_real("log_factor_power", log_factor_power)
    floor = check_real("floor", floor, lower=0.0)
    min_points = check_int("min_points", min_points, minimum=2)
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0,
                            lower_open=True, upper_open=True)
    source = "x" if log_factor_of is None else "log_factor_of"
    base = (x_arr if log_factor_of is None
            else check_finite_array(source, log_factor_of, shape=x_arr.shape))
    if power != 0.0:
        _reject(base <= 1.0, base, f"`{source}` must be > 1 when `log_factor_power` != 0, so "
                f"that log({source})^p is positive")

    why = [_unresolved_reason(v, e, floor) for v, e in zip(val_arr, err_arr, strict=True)]
    used = tuple(i for i, reason in enumerate(why) if not reason)
    excluded = tuple(i for i, reason in enumerate(why) if reason)
    idx = np.asarray(used, dtype=np.intp)
    log_x, log_y = np.log(x_arr[idx]), np.log(val_arr[idx])
    sigma = np.maximum(err_arr[idx] / val_arr[idx], RELATIVE_ERROR_FLOOR)
    kw: dict[str, Any] = {"used": used, "excluded": excluded, "min_points": min_points,
                          "reasons": tuple(why[i] for i in excluded), "confidence": confidence}
    raw = _line(log_x, log_y, sigma, **kw)
    corrected = raw if power == 0.0 else _line(
        log_x, log_y - power * np.log(np.log(base[idx])), sigma, **kw)
    return SlopeFit(raw=raw, corrected=corrected, log_factor_power=power,
                    log_factor_source=source, floor=floor)


def pairwise_slopes(x: ArrayLike, values: ArrayLike,
                    stderrs: ArrayLike | None = None) -> NDArray[np.float64]:
    """Local log-log slopes between consecutive points, with propagated errors.

    Parameters
    ----------
    x : array_like, shape (n,)
        Strictly increasing grid, ``> 0``.
    values : array_like, shape (n,)
        Measured values, all ``> 0`` (unlike :func:`fit_slope`, nothing is excluded here).
    stderrs : array_like, shape (n,), optional
        One-sigma errors of ``values``; ``None`` means exact (errors 0, as in ``Estimate``).

    Returns
    -------
    ndarray, shape (n - 1, 2)
        Column 0: ``s_i = Δlog value / Δlog x`` between points ``i`` and ``i+1``; column 1: its
        stderr ``sqrt(σ_i² + σ_{i+1}²) / Δlog x``, ``σ_i = stderr_i / value_i`` (independent
        points).  The shape never depends on whether ``stderrs`` is given.
    """
    x_arr, val_arr, err_arr = _curve(x, values, stderrs)
    # A repeated x has no local slope; a value <= 0 has no logarithm.
    _reject(np.diff(x_arr, prepend=-np.inf) <= 0, x_arr, "`x` must be strictly increasing")
    _reject(val_arr <= 0, val_arr, "`values` must be > 0 for pairwise slopes")
    step, rel = np.diff(np.log(x_arr)), err_arr / val_arr
    return np.column_stack([np.diff(np.log(val_arr)) / step,
                            np.sqrt(rel[:-1] ** 2 + rel[1:] ** 2) / step])


def judge_slope(fit: LineFit, *, predicted: float,
                kind: Literal["upper", "two_sided", "lower"], tolerance: float,
                max_ci_width: float | None = None) -> Verdict:
    """Verdict on a slope claim from the fit's confidence interval ``[lo, hi]``.

    Parameters
    ----------
    fit : LineFit
        Usually ``SlopeFit.corrected`` (the theorem's statement is "up to logs").
    predicted : float
        Predicted exponent, e.g. ``-1`` for ``O(1/T)``.
    kind : {"upper", "two_sided", "lower"}
        ``"upper"``: slope ≤ predicted (an ``O(·)`` bound); ``"lower"``: slope ≥ predicted;
        ``"two_sided"``: slope = predicted ± tolerance (an identity or a tight rate).
    tolerance : float
        Allowed slack on the exponent, ``>= 0``.
    max_ci_width : float, optional
        Widest interval that may decide; default ``2·tolerance`` for ``"two_sided"`` and no
        limit otherwise.  Must be ``> 0`` when given.

    Returns
    -------
    Verdict
        upper: PASS if ``hi <= predicted + tol``, FAIL if ``lo > predicted + tol``; lower: PASS
        if ``lo >= predicted - tol``, FAIL if ``hi < predicted - tol``; two_sided: PASS if
        ``[lo, hi]`` lies inside ``[predicted - tol, predicted + tol]``, FAIL if disjoint from it;
        otherwise INCONCLUSIVE.  An unusable fit, or one wider than ``max_ci_width`` (the data do
        not pin the exponent down, e.g. a Birge-inflated non-power-law), is INCONCLUSIVE.
    """
    if not isinstance(fit, LineFit):
        raise InvalidParameterError(f"`fit` must be a LineFit (got {type(fit).__name__})")
    predicted = check_real("predicted", predicted)
    kind_str = check_choice("kind", kind, ("upper", "two_sided", "lower"))
    tol = check_real("tolerance", tolerance, lower=0.0)
    if max_ci_width is not None:
        max_ci_width = check_real("max_ci_width", max_ci_width, lower=0.0, lower_open=True)
    elif kind_str == "two_sided":
        max_ci_width = 2.0 * tol
    if not fit.usable or fit.ci_low is None or fit.ci_high is None:
        return Verdict.INCONCLUSIVE
    lo, hi = fit.ci_low, fit.ci_high
    if max_ci_width is not None and hi - lo > max_ci_width:
        return Verdict.INCONCLUSIVE
    band_lo, band_hi = predicted - tol, predicted + tol
    if kind_str == "upper":
        passed, failed = hi <= band_hi, lo > band_hi
    elif kind_str == "lower":
        passed, failed = lo >= band_lo, hi < band_lo
    else:
        passed, failed = band_lo <= lo and hi <= band_hi, hi < band_lo or lo > band_hi
    return Verdict.PASS if passed else Verdict.FAIL if failed else Verdict.INCONCLUSIVE


def judge_bounded_ratio(values: ArrayLike, stderrs: ArrayLike, rates: ArrayLike, *,
                        max_ratio_spread: float, confidence: float = 0.95) -> RatioCheck:
    """Check that ``error / rate`` stays within a bounded spread over the grid.

    Parameters
    ----------
    values : array_like, shape (n,)
        Measured errors (any sign; an estimate ``<= 0`` simply cannot bound the ratio below).
    stderrs : array_like, shape (n,)
        One-sigma errors of ``values``, ``>= 0``.
    rates : array_like, shape (n,)
        Predicted rate at each grid point, e.g. ``k / T``, ``> 0``; ``n >= 2``.
    max_ratio_spread : float
        Largest acceptable ``max(ratio) / min(ratio)``, ``>= 1``.
    confidence : float, optional
        Per-point two-sided level of the ratio intervals ``r_i ± z·σ_i``, in ``(0, 1)``.

    Returns
    -------
    RatioCheck
        ``spread_high = max(r+zσ) / min(r-zσ)`` (``None`` = unbounded when ``min(r-zσ) <= 0``)
        and ``spread_low`` (1 when all intervals share a value, else ``max(r-zσ) / min(r+zσ)``,
        ``None`` when that is surely unbounded) bracket the spread.  PASS if ``spread_high <=
        max_ratio_spread``, FAIL if ``spread_low > max_ratio_spread``, else INCONCLUSIVE.

    Notes
    -----
    This tests ``error = Θ(rate)`` (ratio bounded above *and* below, as in ONESTEP): an error
    decaying much faster than an ``O(·)`` rate FAILs here, so pair it with :func:`judge_slope`
    (``kind="upper"``).  Intervals are per point, without a multiplicity correction.
    """
    rate_arr, val_arr, err_arr = _curve(rates, values, stderrs, x_name="rates")
    if rate_arr.size < 2:  # one point has no spread to bound
        raise InvalidParameterError(f"`rates` must have at least 2 points (got {rate_arr.size})")
    max_spread = check_real("max_ratio_spread", max_ratio_spread, lower=1.0)
    confidence = check_real("confidence", confidence, lower=0.0, upper=1.0,
                            lower_open=True, upper_open=True)
    z = float(stats.norm.ppf(0.5 * (1.0 + confidence)))
    ratios, ratio_err = val_arr / rate_arr, err_arr / rate_arr
    lo, hi = ratios - z * ratio_err, ratios + z * ratio_err
    spread_high = float(hi.max() / lo.min()) if lo.min() > 0 else None
    spread_low: float | None = 1.0  # intervals share a value, or none is surely > 0
    if lo.max() > max(hi.min(), 0.0):
        # None: one ratio is surely > 0 and another surely <= 0, so the spread is unbounded.
        spread_low = float(lo.max() / hi.min()) if hi.min() > 0 else None
    verdict = (Verdict.PASS if spread_high is not None and spread_high <= max_spread else
               Verdict.FAIL if spread_low is None or spread_low > max_spread else
               Verdict.INCONCLUSIVE)
    spread = float(ratios.max() / ratios.min()) if ratios.min() > 0 else None
    return RatioCheck(verdict=verdict, ratios=tuple(float(r) for r in ratios),
                      ratio_stderrs=tuple(float(e) for e in ratio_err), spread=spread,
                      spread_low=spread_low, spread_high=spread_high,
                      max_ratio_spread=max_spread, confidence=confidence)
