"""Samplers with memory: the whole-chain protocol and exact impulse responses on data-free coordinates.

A *whole-chain sampler* is a callable ``chain(z_T, denoiser, noise) -> y_out`` on ``(n, c)`` float64
arrays (rows are independent samples, columns independent coordinates):

* ``z_T`` is standard normal; the chain scales it to its own start (``init_noise_sigma``);
* ``denoiser(u, alpha_bar)`` returns the exact ``E[X_0 | X_t = u]`` for ``u`` in variance-preserving
  units at the noise level ``alpha_bar`` (a float); the chain converts it to whatever its model
  predicts (ε, x_0 or v);
* ``noise`` has ``standard_normal(shape)`` (a :class:`numpy.random.Generator` qualifies): every
  random draw of the chain goes through it, in order.

It may keep any state between its internal steps (multistep solvers, Heun's predictor, LMS's
history): the chain is one call.  A chain may also expose ``reset()``; :func:`impulse_response`
calls it before each run.

On a coordinate orthogonal to the data's subspace the exact denoiser returns 0 (Chen, Huang,
Zhao & Wang 2023; ``docs/theory.md`` §5), so every chain built from affine steps is *linear* in
``(z_T, ξ_1, ..., ξ_J)`` (its J noise draws):

    y_out = g z_T + Σ_j h_j ξ_j,        Var(y_out) = g² + Σ_j h_j².

:func:`impulse_response` gets ``g`` and every ``h_j`` exactly from one batched run of the whole
chain (row 0 carries ``z_T``, row ``j+1`` carries only the j-th draw), and checks the linearity it
relies on (a row with everything at once, a row scaled by 4).  Columns carry independent random
amplitudes, so rounding (float32 arithmetic) shows up as a spread across columns, which is the
error bar.  This replaces per-step probing for samplers with memory; Markov samplers keep
:func:`theorycheck.audit.probe.probe_coefficients`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from theorycheck._validation import check_int, check_rng
from theorycheck.errors import NonFiniteError, SamplerProtocolError

__all__ = ["Denoiser", "WholeChain", "ChainFailure", "ImpulseResponse", "impulse_response",
           "offspace_denoiser", "CountingNoise", "run_chain_once"]

#: Amplitude of the "scaled" linearity row.
SCALE_FACTOR = 4.0

Denoiser = Callable[[NDArray[np.float64], float], NDArray[np.float64]]


class WholeChain(Protocol):
    """``chain(z_T, denoiser, noise) -> y_out`` (see module docstring)."""

    @property
    def name(self) -> str:
        """Label for messages."""

    def __call__(self, z_T: NDArray[np.float64], denoiser: Denoiser, noise: Any
                 ) -> NDArray[np.float64]: ...


class ChainFailure(SamplerProtocolError):
    """A chain failed mid-run (NaN, a mutated input, an exception at one step).

    The audit turns it into an INCONCLUSIVE verdict whose reason is this message.  ``kind`` is
    ``"exception"`` (the library raised), ``"nan"``, ``"mutation"`` or ``"protocol"``.
    """

    def __init__(self, message: str, *, kind: str = "protocol", step: int = 0) -> None:
        super().__init__(message)
        self.kind = kind
        self.step = step


def offspace_denoiser(u: NDArray[np.float64], alpha_bar: float) -> NDArray[np.float64]:
    """The exact denoiser on data-free coordinates: ``E[X_0 | X_t] = 0``."""
    return np.zeros_like(u)


class CountingNoise:
    """A noise source returning zeros and counting its calls (the first pass of the probe)."""

    def __init__(self) -> None:
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def standard_normal(self, shape: Any = None) -> NDArray[np.float64]:
        """Zeros of ``shape``; records the call."""
        self.calls += 1
        shp = tuple(np.atleast_1d(np.asarray(shape, dtype=np.int64)).tolist())
        self.shapes.append(shp)
        return np.zeros(shp)


class _ImpulseNoise:
    """Call j returns amplitudes ``b[j]`` in row ``j+1`` and ``b_mix[j]`` in the mix row."""

    def __init__(self, b: NDArray[np.float64], b_mix: NDArray[np.float64], rows: int) -> None:
        self.b, self.b_mix, self.rows = b, b_mix, rows
        self.calls = 0

    def standard_normal(self, shape: Any = None) -> NDArray[np.float64]:
        j = self.calls
        self.calls += 1
        num, cols = self.b.shape
        shp = tuple(np.atleast_1d(np.asarray(shape, dtype=np.int64)).tolist())
        if shp != (self.rows, cols):
            raise ChainFailure(f"noise draw {j + 1} asked for shape {shp}, not the sample's shape "
                               f"{(self.rows, cols)}: the chain does not draw one noise per entry")
        out = np.zeros(shp)
        if j < num:
            out[j + 1] = self.b[j]
            out[num + 1] = self.b_mix[j]
        return out


def run_chain_once(chain: WholeChain, z_T: NDArray[np.float64], denoiser: Denoiser,
                   noise: Any) -> NDArray[np.float64]:
    """Call ``reset()`` if present, run the chain once and check shape and finiteness."""
    reset = getattr(chain, "reset", None)
    if callable(reset):
        reset()
    name = getattr(chain, "name", type(chain).__name__)
    out = np.asarray(chain(z_T.copy(), denoiser, noise), dtype=np.float64)
    if out.shape != z_T.shape:
        raise SamplerProtocolError(f"chain {name!r} must return shape {z_T.shape} (got {out.shape})")
    if not np.all(np.isfinite(out)):
        raise ChainFailure(f"chain {name!r} returned NaN or infinity on finite input", kind="nan")
    return out


@dataclass(frozen=True, kw_only=True)
class ImpulseResponse:
    """Exact linear response of a whole chain on data-free coordinates.

    Attributes
    ----------
    gain : float
        ``g``: output per unit ``z_T`` (column mean).
    gain_spread : float
        Standard error of ``g`` across columns (rounding, or non-isotropy).
    noise_gains_sq : float
        ``Σ_j h_j²`` (column mean).
    noise_gains_sq_spread : float
        Its standard error across columns.
    num_draws : int
        ``J``, noise draws of one chain.
    nonlinearity : float
        Residual of the scaled row per unit input: ``max |f(4z) - 4 f(z)| / 4``.
    non_additivity : float
        Residual of the mix row (all inputs at once, amplitudes of order 1) against
        ``g a + Σ h_j b_j``.
    rounding_variance, rounding_variance_spread : float
        Mean square of that residual over the columns (the variance rounding adds) and its
        standard error.
    columns : int
        Independent columns (amplitude draws).
    """

    gain: float
    gain_spread: float
    noise_gains_sq: float
    noise_gains_sq_spread: float
    num_draws: int
    nonlinearity: float
    non_additivity: float
    columns: int
    rounding_variance: float = 0.0
    rounding_variance_spread: float = 0.0

    def variance(self, start_variance: float = 1.0) -> float:
        """``g² v + Σ h_j² + r²``: output variance for ``z_T ~ N(0, v)``.

        ``r²`` (:attr:`rounding_variance`) is the mean square of the mix row's departure from
        linearity: the variance rounding adds when every input is active, as in a real chain.
        """
        return self.gain**2 * start_variance + self.noise_gains_sq + self.rounding_variance

    def variance_error(self, start_variance: float = 1.0) -> float:
        """Error of :meth:`variance`: the column spreads of ``g``, ``Σ h_j²`` and ``r²``.

        Rounding (float32, float16) makes the chain slightly non-linear: the part correlated
        with the input changes the per-column gains (their spread), the rest is ``r²``.
        """
        return (2 * abs(self.gain) * self.gain_spread * start_variance
                + self.noise_gains_sq_spread + self.rounding_variance_spread
                + self.nonlinearity**2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"gain": self.gain, "gain_spread": self.gain_spread,
                "noise_gains_sq": self.noise_gains_sq,
                "noise_gains_sq_spread": self.noise_gains_sq_spread, "num_draws": self.num_draws,
                "rounding_variance": self.rounding_variance,
                "rounding_variance_spread": self.rounding_variance_spread,
                "nonlinearity": self.nonlinearity, "non_additivity": self.non_additivity,
                "columns": self.columns,
                "method": "impulse responses of the whole chain (one batched run, exact "
                          "data-free denoiser)"}


def _amplitudes(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float64]:
    # |amplitude| in [0.5, 1.5] with a random sign: no division by a near-zero input.
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


def impulse_response(chain: WholeChain, *, rng: np.random.Generator, columns: int = 16,
                     denoiser: Denoiser = offspace_denoiser) -> ImpulseResponse:
    """Exact ``g`` and ``Σ h_j²`` of a whole chain on data-free coordinates (module docstring).

    Parameters
    ----------
    chain : WholeChain
    rng : numpy.random.Generator
        Draws the impulse amplitudes.
    columns : int
        Independent columns (≥ 2); the spread across them is the error bar.
    denoiser : callable
        The data-free denoiser (default: zeros).

    Returns
    -------
    ImpulseResponse

    Raises
    ------
    ChainFailure
        The chain asked for noise of another shape, changed its number of draws between runs,
        or returned NaN.
    SamplerProtocolError
        Wrong output shape.

    Notes
    -----
    Cost: one counting run on a (1, 1) array, then one run on a ``(J + 3) × columns`` array.
    """
    cols = check_int("columns", columns, minimum=2)
    check_rng("rng", rng)
    counter = CountingNoise()
    run_chain_once(chain, np.zeros((1, 1)), denoiser, counter)
    num = counter.calls
    rows = num + 3
    a = _amplitudes(rng, (cols,))
    a_mix = _amplitudes(rng, (cols,))
    b = _amplitudes(rng, (num, cols))
    b_mix = _amplitudes(rng, (num, cols))
    z = np.zeros((rows, cols))
    z[0] = a
    z[num + 1] = a_mix
    z[num + 2] = SCALE_FACTOR * a
    noise = _ImpulseNoise(b, b_mix, rows)
    out = run_chain_once(chain, z, denoiser, noise)
    if noise.calls != num:
        raise ChainFailure(f"chain {getattr(chain, 'name', '?')!r} drew noise {noise.calls} times, "
                           f"{num} times in the counting run: the number of draws must not "
                           "depend on the input")
    g_cols = out[0] / a
    h_cols = out[1:num + 1] / b if num else np.zeros((0, cols))
    hsq_cols = np.sum(h_cols**2, axis=0)
    # Residuals per unit input (the impulses have |amplitude| in [0.5, 1.5]).
    nonlinearity = float(np.abs(out[num + 2] - SCALE_FACTOR * out[0]).max()) / SCALE_FACTOR
    predicted_mix = g_cols * a_mix + (np.sum(h_cols * b_mix, axis=0) if num else 0.0)
    resid = out[num + 1] - predicted_mix
    non_additivity = float(np.abs(resid).max())
    # The mix row's amplitudes have mean square 13/12 (uniform |a| on [0.5, 1.5]); a standard
    # normal input has 1.
    rsq = resid**2 * (12.0 / 13.0)
    sqrt_c = math.sqrt(cols)
    for arr, what in ((g_cols, "gain"), (hsq_cols, "noise gains")):
        if not np.all(np.isfinite(arr)):
            raise NonFiniteError(f"impulse response: {what} of chain "
                                 f"{getattr(chain, 'name', '?')!r} is not finite")
    return ImpulseResponse(
        gain=float(g_cols.mean()), gain_spread=float(g_cols.std(ddof=1) / sqrt_c),
        noise_gains_sq=float(hsq_cols.mean()),
        noise_gains_sq_spread=float(hsq_cols.std(ddof=1) / sqrt_c), num_draws=num,
        nonlinearity=nonlinearity, non_additivity=non_additivity, columns=cols,
        rounding_variance=float(rsq.mean()), rounding_variance_spread=float(rsq.std(ddof=1)
                                                                            / sqrt_c))
