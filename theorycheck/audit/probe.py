"""Black-box probing of a sampler's step: recover its per-step affine coefficients.

The generic step of docs/theory.md §1 is ``Y_{t-1} = (Y_t + η_t s + σ_t Z)/sqrt(α_t)``, i.e. the map

    f_t(y, s, z) = a_t y + b_t s + c_t z,    a_t = 1/sqrt(α_t), b_t = η_t/sqrt(α_t),
                                             c_t = ±σ_t/sqrt(α_t),

with *scalar* coefficients acting row by row on ``(n, d)`` arrays.  :func:`probe_coefficients`
calls ``step`` once per ``t = T..2`` on a batch of designed rows (zeros; random ``y``, ``s``,
``z`` alone; the same scaled by 4; and all three together) and recovers ``a_t, b_t, c_t`` by least
squares.  The residuals of the same batch say whether the step is

* affine without a constant term (``f(0, 0, 0) = 0``; homogeneous: ``f(4x) = 4 f(x)``;
  additive: ``f(y, s, z) = f(y, 0, 0) + f(0, s, 0) + f(0, 0, z)``),
* isotropic (each coefficient a scalar: the least-squares residual of ``a_t y`` vanishes),
* row-wise (a row gives the same output alone as in a batch; checked at three steps),
* consistent with its own ``alpha_bar``: ``a_t = sqrt(ᾱ_{t-1}/ᾱ_t)``.

Every residual is relative to the size of the step's output ``‖f(y, 0, 0)‖`` (the part that
carries the state), so ``rtol`` is a statement about the output, not about each coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_real, check_rng
from theorycheck.errors import NonFiniteError, SamplerProtocolError
from theorycheck.samplers import check_sampler

__all__ = ["ProbeResult", "probe_coefficients", "SCALE_FACTOR"]

#: Inputs are also sent scaled by this factor: clipping of a predicted x_0 (or any saturation)
#: shows up as ``f(4x) ≠ 4 f(x)``; 4 keeps typical inputs inside what a library sees in use.
SCALE_FACTOR = 4.0
#: Float64 rounding of one coefficient after a few operations: the floor of every error bar.
_ROUNDING = 8.0 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True, kw_only=True)
class ProbeResult:
    """Coefficients of a black-box step recovered by :func:`probe_coefficients`.

    Arrays have shape (T-1,), entry ``t-2`` for step ``t = 2..T``.

    Attributes
    ----------
    num_steps : int
        ``T``.
    steps : ndarray of int
        ``t = 2..T``.
    y_coef, score_coef, noise_coef : ndarray
        ``a_t``, ``b_t``, ``c_t`` (``c_t`` sign-normalised to ``≥ 0``; the noise is symmetric).
    y_coef_err, score_coef_err, noise_coef_err : ndarray
        Absolute error bounds: least-squares residual per unit input plus float64 rounding.
    alpha, eta, sigma : ndarray
        ``α_t = 1/a_t²``, ``η_t = b_t/a_t``, ``σ_t = c_t/a_t``.
    alpha_from_alpha_bar : ndarray
        ``ᾱ_t/ᾱ_{t-1}`` from the sampler's own table.
    offset, nonlinearity, non_additivity, anisotropy : float
        Worst relative residuals over t (see module docstring).
    row_coupling : float
        Worst relative difference between a row computed alone and in the batch.
    alpha_mismatch : float
        ``max_t |α_t(probe)/α_t(alpha_bar) - 1|``.
    worst_steps : dict[str, int]
        The step attaining each worst residual.
    rtol : float
        Threshold the residuals were judged against.
    num_calls : int
        Calls of ``step`` made.
    """

    num_steps: int
    steps: NDArray[np.int64] = field(repr=False)
    y_coef: NDArray[np.float64] = field(repr=False)
    score_coef: NDArray[np.float64] = field(repr=False)
    noise_coef: NDArray[np.float64] = field(repr=False)
    y_coef_err: NDArray[np.float64] = field(repr=False)
    score_coef_err: NDArray[np.float64] = field(repr=False)
    noise_coef_err: NDArray[np.float64] = field(repr=False)
    alpha_from_alpha_bar: NDArray[np.float64] = field(repr=False)
    offset: float
    nonlinearity: float
    non_additivity: float
    anisotropy: float
    row_coupling: float
    alpha_mismatch: float
    worst_steps: dict[str, int]
    rtol: float
    num_calls: int

    @property
    def alpha(self) -> NDArray[np.float64]:
        """``α_t = 1/a_t²``."""
        return np.asarray(1.0 / self.y_coef**2)

    @property
    def eta(self) -> NDArray[np.float64]:
        """``η_t = b_t/a_t``."""
        return np.asarray(self.score_coef / self.y_coef)

    @property
    def sigma(self) -> NDArray[np.float64]:
        """``σ_t = c_t/a_t``."""
        return np.asarray(self.noise_coef / self.y_coef)

    @property
    def is_affine(self) -> bool:
        """Linear in ``(y, s, z)`` without a constant term, within ``rtol``."""
        return max(self.offset, self.nonlinearity, self.non_additivity) <= self.rtol

    @property
    def is_isotropic(self) -> bool:
        """Every coefficient is a scalar times the identity, within ``rtol``."""
        return self.anisotropy <= self.rtol

    @property
    def is_rowwise(self) -> bool:
        """Rows are processed independently, within ``rtol``."""
        return self.row_coupling <= self.rtol

    @property
    def is_consistent(self) -> bool:
        """``a_t = sqrt(ᾱ_{t-1}/ᾱ_t)`` within ``rtol`` (relative, on ``α_t``)."""
        return self.alpha_mismatch <= self.rtol

    @property
    def is_scalar_generic(self) -> bool:
        """The step is the generic scalar step of docs/theory.md §1 (affine, isotropic, row-wise)."""
        return self.is_affine and self.is_isotropic and self.is_rowwise

    def problems(self) -> tuple[str, ...]:
        """One sentence per failed property, naming the worst step and the residual."""
        out = []
        w = self.worst_steps
        if self.offset > self.rtol:
            out.append(f"not affine: f(0, 0, 0) ≠ 0 (relative {self.offset:.2e} at t={w['offset']})")
        if self.nonlinearity > self.rtol:
            out.append(f"not affine: f({SCALE_FACTOR:g}x) ≠ {SCALE_FACTOR:g} f(x) (relative "
                       f"{self.nonlinearity:.2e} at t={w['nonlinearity']}; clipping or "
                       "thresholding?)")
        if self.non_additivity > self.rtol:
            out.append(f"not affine: f(y, s, z) ≠ f(y,0,0) + f(0,s,0) + f(0,0,z) (relative "
                       f"{self.non_additivity:.2e} at t={w['non_additivity']})")
        if self.anisotropy > self.rtol:
            out.append(f"not isotropic: a coefficient is not a scalar (relative residual "
                       f"{self.anisotropy:.2e} at t={w['anisotropy']})")
        if self.row_coupling > self.rtol:
            out.append(f"not row-wise: a row's output depends on the other rows (relative "
                       f"{self.row_coupling:.2e} at t={w['row_coupling']})")
        if self.alpha_mismatch > self.rtol:
            out.append(f"inconsistent with its own alpha_bar: 1/a_t² ≠ ᾱ_t/ᾱ_(t-1) (relative "
                       f"{self.alpha_mismatch:.2e} at t={w['alpha_mismatch']})")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (coefficient tables are left to :meth:`coefficient_table`)."""
        return {"num_steps": self.num_steps, "rtol": self.rtol, "num_calls": self.num_calls,
                "affine": self.is_affine, "isotropic": self.is_isotropic,
                "rowwise": self.is_rowwise, "consistent_with_alpha_bar": self.is_consistent,
                "residuals": {"offset": self.offset, "nonlinearity": self.nonlinearity,
                              "non_additivity": self.non_additivity,
                              "anisotropy": self.anisotropy, "row_coupling": self.row_coupling,
                              "alpha_mismatch": self.alpha_mismatch},
                "worst_steps": dict(self.worst_steps), "problems": list(self.problems()),
                "method": "least squares on designed probe rows, one step call per t"}

    def coefficient_table(self, steps: tuple[int, ...]) -> list[dict[str, float]]:
        """``α_t, η_t, σ_t`` and the raw ``a_t, b_t, c_t`` with errors at the given steps."""
        rows = []
        for t in steps:
            i = t - 2
            rows.append({"t": t, "alpha": float(self.alpha[i]), "eta": float(self.eta[i]),
                         "sigma": float(self.sigma[i]), "a": float(self.y_coef[i]),
                         "a_err": float(self.y_coef_err[i]), "b": float(self.score_coef[i]),
                         "b_err": float(self.score_coef_err[i]),
                         "c": float(self.noise_coef[i]),
                         "c_err": float(self.noise_coef_err[i])})
        return rows


def _call(sampler: Any, y: NDArray[np.float64], t: int, s: NDArray[np.float64],
          z: NDArray[np.float64]) -> NDArray[np.float64]:
    try:
        out = np.asarray(sampler.step(y.copy(), t, s.copy(), z.copy()), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SamplerProtocolError(
            f"`sampler.step` failed at t={t} on float64 arrays of shape {y.shape} "
            f"({type(exc).__name__}: {exc})") from None
    if out.shape != y.shape:
        raise SamplerProtocolError(
            f"`sampler.step` must return shape {y.shape} at t={t} (got {out.shape})")
    if not np.all(np.isfinite(out)):
        raise NonFiniteError(f"`sampler.step` returned NaN or infinity at t={t} on finite input")
    return out


def _fit(out: NDArray[np.float64], inp: NDArray[np.float64]) -> tuple[float, float]:
    """Scalar least squares ``out ≈ c·inp``: ``(c, ‖out - c·inp‖)``."""
    c = float(np.sum(out * inp) / np.sum(inp * inp))
    return c, float(np.linalg.norm(out - c * inp))


def probe_coefficients(sampler: Any, *, rng: np.random.Generator, probe_dim: int = 3,
                       rows: int = 4, rtol: float = 1e-6) -> ProbeResult:
    """Recover ``(a_t, b_t, c_t)`` of ``sampler.step`` for ``t = T..2`` (see module docstring).

    Parameters
    ----------
    sampler : Sampler
        Any object following the sampler protocol; treated as a black box.
    rng : numpy.random.Generator
        Source of the probe inputs.
    probe_dim : int
        Columns ``d`` of the probe arrays (≥ 2, so anisotropy is visible).
    rows : int
        Random rows per probe block.
    rtol : float
        Relative residual above which a property is reported as failed.

    Returns
    -------
    ProbeResult

    Raises
    ------
    SamplerProtocolError
        Missing attributes, a bad ``alpha_bar``, a wrong output shape or a failing ``step``.
    NonFiniteError
        ``step`` returned NaN or infinity on finite input.

    Notes
    -----
    Inputs: ``y ~ N(0, I)``, ``s ~ N(0, I)/sqrt(1-ᾱ_t)`` (the size of a true score at noise level
    t), ``z ~ N(0, I)``.  Cost: ``T - 1`` calls on ``(1 + 7·rows) × probe_dim`` arrays plus 3 calls
    for the row-coupling check.
    """
    num_steps = check_sampler(sampler)
    d = check_int("probe_dim", probe_dim, minimum=2)
    r = check_int("rows", rows, minimum=1)
    tol = check_real("rtol", rtol, lower=0.0, lower_open=True)
    check_rng("rng", rng)
    alpha_bar = np.asarray(sampler.alpha_bar, dtype=np.float64)
    # 1 - ᾱ_t only sets the size of the probe scores here; cancellation does not matter.
    score_scale = 1.0 / np.sqrt(1.0 - alpha_bar)
    count = num_steps - 1
    a, b, c = (np.empty(count) for _ in range(3))
    a_err, b_err, c_err = (np.empty(count) for _ in range(3))
    residuals = {key: np.zeros(count) for key in
                 ("offset", "nonlinearity", "non_additivity", "anisotropy")}
    zeros = np.zeros((r, d))
    lam = SCALE_FACTOR
    coupling_steps = sorted({num_steps, max(2, num_steps // 2), 2})
    coupling = np.zeros(count)
    calls = 0
    for t in range(num_steps, 1, -1):
        i = t - 2
        y_in = rng.standard_normal((r, d))
        s_in = rng.standard_normal((r, d)) * score_scale[t - 1]
        z_in = rng.standard_normal((r, d))
        y_mix = rng.standard_normal((r, d))
        s_mix = rng.standard_normal((r, d)) * score_scale[t - 1]
        z_mix = rng.standard_normal((r, d))
        # Blocks: 0 | y | λy | s | λs | z | λz | (y', s', z') together.
        ys = np.vstack([np.zeros((1, d)), y_in, lam * y_in, zeros, zeros, zeros, zeros, y_mix])
        ss = np.vstack([np.zeros((1, d)), zeros, zeros, s_in, lam * s_in, zeros, zeros, s_mix])
        zs = np.vstack([np.zeros((1, d)), zeros, zeros, zeros, zeros, z_in, lam * z_in, z_mix])
        out = _call(sampler, ys, t, ss, zs)
        calls += 1
        f0 = out[0]
        blocks = [out[1 + j * r: 1 + (j + 1) * r] - f0 for j in range(7)]
        g_y, g_ly, g_s, g_ls, g_z, g_lz, g_mix = blocks
        scale = max(float(np.linalg.norm(g_y)), np.finfo(np.float64).tiny)
        residuals["offset"][i] = float(np.linalg.norm(f0)) * np.sqrt(r) / scale
        residuals["nonlinearity"][i] = max(
            float(np.linalg.norm(g_ly - lam * g_y)), float(np.linalg.norm(g_ls - lam * g_s)),
            float(np.linalg.norm(g_lz - lam * g_z))) / (lam * scale)
        a[i], res_a = _fit(g_y, y_in)
        b[i], res_b = _fit(g_s, s_in)
        c[i], res_c = _fit(g_z, z_in)
        residuals["anisotropy"][i] = max(res_a, res_b, res_c) / scale
        predicted_mix = a[i] * y_mix + b[i] * s_mix + c[i] * z_mix
        residuals["non_additivity"][i] = float(np.linalg.norm(g_mix - predicted_mix)) / scale
        a_err[i] = res_a / float(np.linalg.norm(y_in)) + _ROUNDING * abs(a[i])
        b_err[i] = res_b / float(np.linalg.norm(s_in)) + _ROUNDING * abs(b[i])
        c_err[i] = res_c / float(np.linalg.norm(z_in)) + _ROUNDING * abs(c[i])
        if t in coupling_steps:
            alone = _call(sampler, y_mix[:1], t, s_mix[:1], z_mix[:1])
            calls += 1
            coupling[i] = float(np.linalg.norm(alone[0] - out[-r])) / (scale / np.sqrt(r))
    c = np.abs(c)
    alpha_ab = np.empty(count)
    alpha_ab[:] = alpha_bar[1:] / alpha_bar[:-1]
    mismatch = np.abs((1.0 / a**2) / alpha_ab - 1.0)
    worst: dict[str, int] = {key: int(np.argmax(val)) + 2 for key, val in residuals.items()}
    worst["row_coupling"] = int(np.argmax(coupling)) + 2
    worst["alpha_mismatch"] = int(np.argmax(mismatch)) + 2
    steps = np.arange(2, num_steps + 1, dtype=np.int64)
    arrays = [steps, a, b, c, a_err, b_err, c_err, alpha_ab]
    for arr in arrays:
        arr.setflags(write=False)
    return ProbeResult(
        num_steps=num_steps, steps=steps, y_coef=a, score_coef=b, noise_coef=c, y_coef_err=a_err,
        score_coef_err=b_err, noise_coef_err=c_err, alpha_from_alpha_bar=alpha_ab,
        offset=float(residuals["offset"].max()),
        nonlinearity=float(residuals["nonlinearity"].max()),
        non_additivity=float(residuals["non_additivity"].max()),
        anisotropy=float(residuals["anisotropy"].max()), row_coupling=float(coupling.max()),
        alpha_mismatch=float(mismatch.max()), worst_steps=worst, rtol=tol, num_calls=calls)
