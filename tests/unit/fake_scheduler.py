"""A torch-free scheduler with diffusers' interface (numpy arrays), for the audit tests.

``FakeScheduler`` follows the diffusers conventions the audit relies on: a float32
``alphas_cumprod`` table built from the β keywords (or ``trained_betas``), ``set_timesteps`` with
``timestep_spacing``, ``init_noise_sigma``, ``scale_model_input``, ``step(model_output, t, sample,
eta=...)`` returning an object with ``prev_sample``, its noise drawn by this module's
``randn_tensor``, and float32 casts through this module's ``np``.

kind ``"ddim"``: Song et al.'s DDIM(η) step (``eta`` keyword of ``step``); kind ``"ddpm"``: Ho et
al.'s step with ``variance_type`` ``fixed_small`` (posterior) or ``fixed_large`` (β_t, not
adaptive); kind ``"ab2"``: a two-step Adams–Bashforth solver of the probability-flow ODE in
(λ = log-SNR) with memory (the previous x̂_0), exact on data-free coordinates like DPM-Solver++ 2M.
Faults for error-path tests: ``fault="mutate"`` (writes into the sample), ``fault="nan"`` (NaN at
the third step), ``fault="no_float16"`` (refuses float16 input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np


def randn_tensor(shape: Any, generator: Any = None, device: Any = None, dtype: Any = None,
                 layout: Any = None) -> np.ndarray:
    """diffusers' noise helper (replaced by the audit during a chain)."""
    rng = generator if generator is not None else np.random.default_rng()
    return rng.standard_normal(shape).astype(dtype or np.float32)


@dataclass
class _Out:
    prev_sample: np.ndarray


class FakeScheduler:
    """See module docstring."""

    def __init__(self, num_train_timesteps: int = 1000, beta_start: float = 1e-4,
                 beta_end: float = 0.02, beta_schedule: str = "linear",
                 trained_betas: list[float] | None = None, prediction_type: str = "epsilon",
                 timestep_spacing: str = "leading", set_alpha_to_one: bool = True,
                 kind: str = "ddim", variance_type: str = "fixed_small", fault: str = "",
                 clip_sample: bool = False) -> None:
        if beta_schedule not in ("linear", "scaled_linear"):
            raise NotImplementedError(f"{beta_schedule} is not implemented")
        if trained_betas is not None:
            self.betas = np.array(trained_betas, dtype=np.float32)
        elif beta_schedule == "linear":
            self.betas = np.linspace(beta_start, beta_end, num_train_timesteps, dtype=np.float32)
        else:
            self.betas = np.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps,
                                     dtype=np.float32) ** 2
        self.alphas = (1.0 - self.betas).astype(np.float32)
        self.alphas_cumprod = np.cumprod(self.alphas, dtype=np.float32)
        self.final_alpha_cumprod = (np.float32(1.0) if set_alpha_to_one
                                    else self.alphas_cumprod[0])
        self.config = SimpleNamespace(num_train_timesteps=num_train_timesteps,
                                      prediction_type=prediction_type,
                                      timestep_spacing=timestep_spacing)
        self.kind, self.variance_type, self.fault = kind, variance_type, fault
        self.init_noise_sigma = 1.0
        self.num_inference_steps = 0
        self.timesteps = np.zeros(0, dtype=np.int64)
        self._calls = 0
        self._prev_x0: Any = None

    def set_timesteps(self, num_inference_steps: int) -> None:
        """``leading``/``trailing``/``linspace`` integer timesteps, like diffusers' DDIM."""
        n, big = num_inference_steps, self.config.num_train_timesteps
        if n > big:
            raise ValueError(f"num_inference_steps {n} > {big}")
        spacing = self.config.timestep_spacing
        if spacing == "leading":
            ts = (np.arange(0, n) * (big // n)).round()[::-1]
        elif spacing == "trailing":
            ts = np.round(np.arange(big, 0, -big / n)) - 1
        elif spacing == "linspace":
            ts = np.linspace(0, big - 1, n).round()[::-1]
        else:
            raise ValueError(f"timestep_spacing {spacing!r} is not supported")
        self.timesteps = ts.astype(np.int64).copy()
        self.num_inference_steps = n
        self._calls = 0
        self._prev_x0 = None

    def scale_model_input(self, sample: np.ndarray, timestep: Any = None) -> np.ndarray:
        """Identity (VP units)."""
        return sample

    def _prev_t(self, t: int) -> int:
        idx = int(np.nonzero(self.timesteps == t)[0][0])
        return int(self.timesteps[idx + 1]) if idx + 1 < len(self.timesteps) else -1

    def step(self, model_output: np.ndarray, timestep: Any, sample: np.ndarray,
             eta: float = 0.0, generator: Any = None) -> _Out:
        """One step ``t → prev_t`` (see module docstring)."""
        self._calls += 1
        if self.fault == "no_float16" and sample.dtype == np.float16:
            raise TypeError("float16 input is not supported")
        t = int(timestep)
        prev_t = self._prev_t(t)
        dt = sample.dtype
        ab_t = self.alphas_cumprod[t]
        ab_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.final_alpha_cumprod
        ab_t, ab_prev = np.asarray(ab_t).astype(dt), np.asarray(ab_prev).astype(dt)
        pred = self.config.prediction_type
        if pred == "epsilon":
            x0 = (sample - np.sqrt(1 - ab_t) * model_output) / np.sqrt(ab_t)
            eps = model_output
        elif pred == "sample":
            x0 = model_output
            eps = (sample - np.sqrt(ab_t) * x0) / np.sqrt(1 - ab_t)
        else:  # v_prediction
            x0 = np.sqrt(ab_t) * sample - np.sqrt(1 - ab_t) * model_output
            eps = np.sqrt(ab_t) * model_output + np.sqrt(1 - ab_t) * sample
        if self.fault == "mutate":
            sample *= 1.0
            sample[...] = sample + 0.0
            sample.flat[0] += 1e-3
        if self.kind == "ddim":
            var = (1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)
            std = eta * np.sqrt(var)
            prev = np.sqrt(ab_prev) * x0 + np.sqrt(1 - ab_prev - std**2) * eps
            if eta > 0:
                prev = prev + std * randn_tensor(sample.shape, dtype=dt)
        elif self.kind == "ddpm":
            alpha_t = ab_t / ab_prev
            beta_t = 1 - alpha_t
            mean = (np.sqrt(ab_prev) * beta_t / (1 - ab_t) * x0
                    + np.sqrt(alpha_t) * (1 - ab_prev) / (1 - ab_t) * sample)
            var = ((1 - ab_prev) / (1 - ab_t) * beta_t if self.variance_type == "fixed_small"
                   else beta_t)
            prev = mean
            if prev_t >= 0:
                prev = prev + np.sqrt(var) * randn_tensor(sample.shape, dtype=dt)
        else:  # "ab2": x̂_0-form exponential integrator with a second-order correction
            lam_t = 0.5 * math.log(float(ab_t) / (1 - float(ab_t)))
            if prev_t < 0 and float(ab_prev) == 1.0:
                prev = x0
            else:
                lam_p = 0.5 * math.log(float(ab_prev) / (1 - float(ab_prev)))
                h = lam_p - lam_t
                s_t, s_p = math.sqrt(1 - float(ab_t)), math.sqrt(1 - float(ab_prev))
                d = x0
                if self._prev_x0 is not None:
                    d = x0 + 0.5 * (x0 - self._prev_x0)
                prev = (s_p / s_t) * sample + math.sqrt(float(ab_prev)) * (1 - math.exp(-h)) * d
            self._prev_x0 = x0
        if self.fault == "nan" and self._calls == 3:
            prev = prev * np.nan
        return _Out(prev_sample=np.asarray(prev, dtype=dt))
