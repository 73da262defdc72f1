"""A diffusers-style scheduler's own sampling loop as a whole chain, with an exact model.

:class:`SchedulerLoop` runs what a pipeline runs::

    scheduler.set_timesteps(N)
    x = z_T * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        u = scheduler.scale_model_input(x, t)
        x = scheduler.step(model(u, t), t, x).prev_sample

with ``model`` the *exact* ε-, x_0- or v-prediction (``scheduler.config.prediction_type``) built
from an exact denoiser at the training noise level of ``t`` (``alpha_bar_at``).  Every random draw
of the scheduler goes through the module's ``randn_tensor`` (diffusers' convention), which is
replaced for the duration of one chain by the chain's noise source.

Three *modes* separate where an error comes from (:mod:`theorycheck.audit.causes`):

* ``"ideal"``: the scheduler is built from the exact float64 β table (``trained_betas``) and every
  float32 cast of its module (``torch.float32``, ``np.float32``) is redirected to float64 while it
  is built, set up and stepped: only the coefficient design remains;
* ``"table"``: the scheduler and its step tables are built as shipped (float32 values), the steps
  run in float64 (``torch.float32`` redirected only while stepping);
* ``"shipped"``: everything as shipped, sample and model output in ``dtype``.

The array backend is torch for diffusers and numpy for the torch-free fakes used in tests
(:class:`NumpyBackend`); the loop code is the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol
from unittest import mock

import numpy as np
from numpy.typing import NDArray

from theorycheck.audit.wholechain import ChainFailure, Denoiser
from theorycheck.errors import InvalidParameterError

__all__ = ["MODES", "DTYPES", "NumpyBackend", "TorchBackend", "SchedulerLoop", "EndPoint",
           "AuditableChain", "model_output", "alpha_bar_interpolator"]

MODES = ("ideal", "table", "shipped")
DTYPES = ("float64", "float32", "float16")


class _Redirect:
    """A module stand-in whose ``float32`` is ``float64``; everything else is the module's."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name == "float32":
            return self._module.float64
        return getattr(self._module, name)


class NumpyBackend:
    """Arrays are numpy arrays (torch-free fakes)."""

    name = "numpy"

    def array(self, x: NDArray[np.float64], dtype: str) -> Any:
        """``x`` as a backend array of ``dtype``."""
        return np.array(x, dtype=np.dtype(dtype))

    def to_numpy(self, x: Any) -> NDArray[np.float64]:
        """A float64 numpy copy."""
        return np.array(x, dtype=np.float64)

    def equal(self, x: Any, y: Any) -> bool:
        """Bitwise equality (for the input-mutation check)."""
        return bool(np.array_equal(x, y))

    def copy(self, x: Any) -> Any:
        """An independent copy."""
        return np.array(x, copy=True)

    def scalar(self, t: Any) -> float:
        """A timestep as a float."""
        return float(np.asarray(t))

    def noise_fn(self, noise: Any) -> Callable[..., Any]:
        """A ``randn_tensor`` replacement drawing from ``noise``."""
        def randn_tensor(shape: Any, generator: Any = None, device: Any = None, dtype: Any = None,
                         layout: Any = None) -> Any:
            out = np.asarray(noise.standard_normal(tuple(shape)), dtype=np.float64)
            return out.astype(dtype) if dtype is not None else out
        return randn_tensor

    @contextmanager
    def redirect(self, module: Any, *, torch_casts: bool, numpy_casts: bool) -> Iterator[None]:
        """Redirect ``np.float32`` of ``module`` to float64 (fakes have no torch)."""
        with ExitStack() as stack:
            if numpy_casts and hasattr(module, "np"):
                stack.enter_context(mock.patch.object(module, "np", _Redirect(np)))
            yield


class TorchBackend:
    """Arrays are torch tensors (diffusers)."""

    name = "torch"

    def __init__(self) -> None:
        import torch
        self.torch = torch
        self.dtypes = {"float64": torch.float64, "float32": torch.float32,
                       "float16": torch.float16}

    def array(self, x: NDArray[np.float64], dtype: str) -> Any:
        """``x`` as a tensor of ``dtype``."""
        return self.torch.from_numpy(np.array(x, dtype=np.float64)).to(self.dtypes[dtype])

    def to_numpy(self, x: Any) -> NDArray[np.float64]:
        """A float64 numpy copy."""
        return np.array(x.detach().to(self.torch.float64).numpy(), dtype=np.float64)

    def equal(self, x: Any, y: Any) -> bool:
        """Bitwise equality (for the input-mutation check)."""
        return bool(self.torch.equal(x, y))

    def copy(self, x: Any) -> Any:
        """An independent copy."""
        return x.clone()

    def scalar(self, t: Any) -> float:
        """A timestep as a float."""
        return float(t.item()) if hasattr(t, "item") else float(t)

    def noise_fn(self, noise: Any) -> Callable[..., Any]:
        """A ``randn_tensor`` replacement drawing from ``noise``."""
        torch = self.torch

        def randn_tensor(shape: Any, generator: Any = None, device: Any = None, dtype: Any = None,
                         layout: Any = None) -> Any:
            out = torch.from_numpy(np.asarray(noise.standard_normal(tuple(shape)),
                                              dtype=np.float64))
            return out.to(dtype) if dtype is not None else out.to(torch.float32)
        return randn_tensor

    @contextmanager
    def redirect(self, module: Any, *, torch_casts: bool, numpy_casts: bool) -> Iterator[None]:
        """Redirect ``torch.float32`` / ``np.float32`` of ``module`` to float64."""
        with ExitStack() as stack:
            if torch_casts and hasattr(module, "torch"):
                stack.enter_context(mock.patch.object(module, "torch", _Redirect(self.torch)))
            if numpy_casts and hasattr(module, "np"):
                stack.enter_context(mock.patch.object(module, "np", _Redirect(np)))
            yield


def model_output(prediction_type: str, u: NDArray[np.float64], x0: NDArray[np.float64],
                 alpha_bar: float) -> NDArray[np.float64]:
    """Exact model output at ``u = sqrt(ᾱ) x_0 + sqrt(1-ᾱ) ε`` given ``x̂_0 = E[X_0 | u]``.

    ``epsilon``: ``(u - sqrt(ᾱ) x̂_0)/sqrt(1-ᾱ)``; ``sample``: ``x̂_0``; ``v_prediction``:
    ``sqrt(ᾱ) ε̂ - sqrt(1-ᾱ) x̂_0`` (Salimans & Ho 2022, eq. 9 of arXiv:2202.00512).
    """
    if prediction_type == "sample":
        return x0
    sa, s1 = math.sqrt(alpha_bar), math.sqrt(1.0 - alpha_bar)
    eps = (u - sa * x0) / s1
    if prediction_type == "epsilon":
        return eps
    if prediction_type == "v_prediction":
        return sa * eps - s1 * x0
    raise InvalidParameterError(
        f"`prediction_type` must be 'epsilon', 'sample' or 'v_prediction' (got {prediction_type!r})")


def alpha_bar_interpolator(table: NDArray[np.float64], rule: str = "linear"
                           ) -> Callable[[float], float]:
    """ᾱ at a (possibly fractional) training timestep from the exact table.

    Integer ``t``: ``table[t]``.  Fractional ``t``: σ = sqrt((1-ᾱ)/ᾱ) interpolated linearly
    (``rule="linear"``, diffusers' default ``interpolation_type``) or in log σ (``"log"``, the
    inverse of diffusers' ``_sigma_to_t``), then ``ᾱ = 1/(1+σ²)``.
    """
    ab = np.asarray(table, dtype=np.float64)
    sig = np.sqrt((1.0 - ab) / ab)
    grid = np.arange(len(ab), dtype=np.float64)

    def at(t: float) -> float:
        r = round(t)
        if abs(t - r) <= 1e-6 and 0 <= r < len(ab):
            return float(ab[int(r)])
        if rule == "log":
            s = float(np.exp(np.interp(t, grid, np.log(sig))))
        else:
            s = float(np.interp(t, grid, sig))
        return 1.0 / (1.0 + s * s)
    return at


@dataclass(frozen=True, kw_only=True)
class EndPoint:
    """Where a chain starts and stops, in its own units (module docstring of ``causes``).

    Attributes
    ----------
    units : str
        ``"vp"`` (``x = sqrt(ᾱ) x_0 + sqrt(1-ᾱ) ε``) or ``"sigma"`` (``x = x_0 + σ ε``).
    start_variance : float
        Variance of the chain's start per unit ``z_T`` (``init_noise_sigma²``).
    exact_start_variance : float
        Variance of a data-free coordinate under the forward process at the first timestep.
    end_variance : float
        The same at the end point (0: the last step denoises; compare with a point mass).
    end_alpha_bar : float
        ᾱ at the end point (1 when it denoises).
    first_timestep : float or None
        The first training timestep (None for a continuous σ grid).
    first_alpha_bar : float
        ᾱ at the first step.
    how : str
        How the end point was read off the scheduler.
    """

    units: str
    start_variance: float
    exact_start_variance: float
    end_variance: float
    end_alpha_bar: float
    first_timestep: float | None
    first_alpha_bar: float
    how: str

    @property
    def denoises(self) -> bool:
        """The last step returns the clean estimate (compare with a point mass off the data)."""
        return self.end_variance == 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return dict(self.__dict__, denoises=self.denoises)


class AuditableChain(Protocol):
    """A whole chain with the three modes and an end point (what the per-cause audit needs)."""

    @property
    def name(self) -> str:
        """Label."""

    @property
    def steps(self) -> int:
        """N."""

    @property
    def dtype(self) -> str:
        """Shipped dtype."""

    @property
    def exact_tables(self) -> bool:
        """Whether the ideal mode really uses exact tables."""

    def with_mode(self, mode: str) -> AuditableChain:
        """The same chain in ``mode`` (:data:`MODES`)."""

    def end_point(self) -> EndPoint:
        """Start and end levels."""

    def __call__(self, z_T: NDArray[np.float64], denoiser: Denoiser, noise: Any
                 ) -> NDArray[np.float64]: ...


@dataclass(frozen=True, kw_only=True, eq=False)
class SchedulerLoop:
    """The scheduler's own loop as a :class:`~theorycheck.audit.wholechain.WholeChain`.

    Attributes
    ----------
    name : str
    build : callable
        ``build(mode) -> scheduler`` constructs a fresh scheduler (``mode`` in :data:`MODES`);
        called inside the mode's redirections, before ``set_timesteps``.
    backend : NumpyBackend or TorchBackend
    module : module
        The scheduler's module (``randn_tensor`` and the casts are redirected there).
    steps : int
        ``N`` for ``set_timesteps``.
    dtype : str
        Sample and model-output dtype of the ``shipped`` mode.
    mode : str
    alpha_bar_at : callable
        Training timestep → exact ᾱ (the model's noise level).
    alpha_bar_table : ndarray, shape (num_train_timesteps,)
        The exact ᾱ table (float64).
    step_kwargs : dict
        Extra keyword arguments of ``step`` (e.g. ``eta``).
    exact_tables : bool
        Whether ``build("ideal")`` really uses the exact β table (the class accepts
        ``trained_betas``); if not, table precision is folded into the design cause.
    """

    name: str
    build: Callable[[str], Any] = field(repr=False)
    backend: Any = field(repr=False)
    module: Any = field(repr=False)
    steps: int
    dtype: str
    mode: str
    alpha_bar_at: Callable[[float], float] = field(repr=False)
    alpha_bar_table: NDArray[np.float64] = field(repr=False)
    step_kwargs: dict[str, Any] = field(default_factory=dict)
    exact_tables: bool = True

    def with_mode(self, mode: str) -> SchedulerLoop:
        """The same loop in another mode."""
        if mode not in MODES:
            raise InvalidParameterError(f"`mode` must be one of {MODES} (got {mode!r})")
        return SchedulerLoop(name=self.name, build=self.build, backend=self.backend,
                             module=self.module, steps=self.steps, dtype=self.dtype, mode=mode,
                             alpha_bar_at=self.alpha_bar_at,
                             alpha_bar_table=self.alpha_bar_table,
                             step_kwargs=dict(self.step_kwargs),
                             exact_tables=self.exact_tables)

    @property
    def run_dtype(self) -> str:
        """The dtype of the sample in this mode."""
        return self.dtype if self.mode == "shipped" else "float64"

    def _casts(self, stage: str) -> dict[str, bool]:
        if self.mode == "ideal":
            return {"torch_casts": True, "numpy_casts": True}
        if self.mode == "table" and stage == "step":
            return {"torch_casts": True, "numpy_casts": False}
        return {"torch_casts": False, "numpy_casts": False}

    def scheduler(self) -> Any:
        """A fresh scheduler of this mode with ``set_timesteps(N)`` done."""
        with self.backend.redirect(self.module, **self._casts("build")):
            s = self.build(self.mode)
            s.set_timesteps(self.steps)
        return s

    def end_point(self) -> EndPoint:
        """Read the start and end levels off a fresh scheduler (see :class:`EndPoint`)."""
        s = self.scheduler()
        timesteps = [self.backend.scalar(t) for t in s.timesteps]
        init = float(s.init_noise_sigma)
        t1 = timesteps[0]
        ab1 = self.alpha_bar_at(t1)
        sigmas = getattr(s, "sigmas", None)
        if init != 1.0:
            if sigmas is None:
                raise InvalidParameterError(
                    f"scheduler {self.name!r}: init_noise_sigma = {init:g} but no `sigmas`")
            sig = [self.backend.scalar(x) for x in sigmas]
            end_sigma = sig[-1]
            end_ab = 1.0 / (1.0 + end_sigma**2)
            return EndPoint(units="sigma", start_variance=init**2,
                            exact_start_variance=(1.0 - ab1) / ab1,
                            end_variance=end_sigma**2, end_alpha_bar=end_ab, first_timestep=t1,
                            first_alpha_bar=ab1,
                            how="σ units (init_noise_sigma ≠ 1); end σ = scheduler.sigmas[-1]")
        if sigmas is not None and len(sigmas) == len(timesteps) + 1:
            end_sigma = self.backend.scalar(sigmas[-1])
            end_ab = 1.0 / (1.0 + end_sigma**2)
            how = "VP units; end σ = scheduler.sigmas[-1]"
            if end_sigma > 0:
                # The float table's σ_end, matched to the exact ᾱ at its training timestep.
                ab = self.alpha_bar_table
                log_sig = 0.5 * np.log((1.0 - ab) / ab)
                t_end = float(np.interp(math.log(end_sigma), log_sig, np.arange(len(ab))))
                if abs(t_end - round(t_end)) < 1e-3:
                    t_end = float(round(t_end))
                end_ab = self.alpha_bar_at(t_end)
                how += f" (training timestep {t_end:.4g}, exact ᾱ there)"
        else:
            final = getattr(s, "final_alpha_cumprod", None)
            if final is None:
                end_ab, how = 1.0, "VP units; last step to ᾱ = 1 (no final_alpha_cumprod)"
            else:
                fv = self.backend.scalar(final)
                if fv == 1.0:
                    end_ab, how = 1.0, "VP units; final_alpha_cumprod = 1"
                else:
                    end_ab = self.alpha_bar_at(0.0)
                    how = "VP units; final_alpha_cumprod = ᾱ at timestep 0 (set_alpha_to_one=False)"
        return EndPoint(units="vp", start_variance=init**2, exact_start_variance=1.0 - ab1,
                        end_variance=0.0 if end_ab == 1.0 else 1.0 - end_ab,
                        end_alpha_bar=end_ab, first_timestep=t1, first_alpha_bar=ab1, how=how)

    def __call__(self, z_T: NDArray[np.float64], denoiser: Denoiser, noise: Any
                 ) -> NDArray[np.float64]:
        """Run the loop once (shapes (n, c)); see module docstring."""
        be = self.backend
        s = self.scheduler()
        pred = str(getattr(s.config, "prediction_type", "epsilon"))
        x = be.array(np.asarray(z_T, dtype=np.float64) * float(s.init_noise_sigma), self.run_dtype)
        patch_noise: Any = (mock.patch.object(self.module, "randn_tensor", be.noise_fn(noise))
                            if hasattr(self.module, "randn_tensor") else nullcontext())
        timesteps = list(s.timesteps)
        with patch_noise, be.redirect(self.module, **self._casts("step")), _no_grad(be):
            for i, t in enumerate(timesteps):
                where = f"step {i + 1} of {len(timesteps)} (timestep {be.scalar(t):g})"
                try:
                    u = be.to_numpy(s.scale_model_input(x, t))
                    ab = self.alpha_bar_at(be.scalar(t))
                    out = be.array(model_output(pred, u, denoiser(u, ab), ab), self.run_dtype)
                    x_keep, out_keep = be.copy(x), be.copy(out)
                    res = s.step(out, t, x, **self.step_kwargs)
                except ChainFailure:
                    raise
                except Exception as exc:  # the library's code: report where it failed
                    raise ChainFailure(f"scheduler {self.name!r} failed at {where} "
                                       f"({type(exc).__name__}: {exc})", kind="exception",
                                       step=i + 1) from None
                prev = res.prev_sample if hasattr(res, "prev_sample") else res[0]
                if not (be.equal(x, x_keep) and be.equal(out, out_keep)):
                    raise ChainFailure(f"scheduler {self.name!r} mutated its inputs (sample or "
                                       f"model output) at {where}", kind="mutation", step=i + 1)
                prev_np = be.to_numpy(prev)
                if not np.all(np.isfinite(prev_np)):
                    raise ChainFailure(f"scheduler {self.name!r} returned NaN or infinity at "
                                       f"{where}", kind="nan", step=i + 1)
                x = prev
        return be.to_numpy(x)


@contextmanager
def _no_grad(backend: Any) -> Iterator[None]:
    if backend.name == "torch":
        with backend.torch.no_grad():
            yield
    else:
        yield
