"""Importable example samplers for ``theorycheck audit`` (zero-argument factories).

``theorycheck audit theorycheck.audit.examples:ddim`` audits the built-in DDIM design on the
linear schedule of Ho et al. (β from 1e-4 to 0.02, T = 1000), exactly the table diffusers uses.
Expected verdicts (docs/theory.md §4): ``ddpm_posterior``, ``ddim``, ``ddim_eta`` (η = 0.5) adaptive;
``ddpm_beta`` and ``pf_euler`` not adaptive.

Besides the coefficient-table samplers, two hand-written ε-prediction samplers show what a user's
code looks like: :class:`EpsilonDDPM` (correct: DDPM with the posterior variance) and its
deliberately broken twin ``broken_ddpm`` (the classic bug of using the variance ``β̃_t`` where
its square root belongs) — the negative control: it must come out ``not_adaptive``.
``clipped_ddpm`` clips the predicted ``x_0`` to [-1, 1] as image libraries do by default: its step
is not affine, which the probe must report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from theorycheck import schedules
from theorycheck.designs import make_design
from theorycheck.samplers import DesignSampler

__all__ = ["EpsilonDDPM", "make_example", "EXAMPLES", "ddpm_posterior", "ddpm_beta", "ddim",
           "ddim_eta", "pf_euler", "correct_ddpm", "broken_ddpm", "clipped_ddpm"]

#: Expected verdict of each example (what the theory predicts).
EXAMPLES = {"ddpm_posterior": "adaptive", "ddpm_beta": "not_adaptive", "ddim": "adaptive",
            "ddim_eta": "adaptive", "pf_euler": "not_adaptive", "correct_ddpm": "adaptive",
            "broken_ddpm": "not_adaptive", "clipped_ddpm": "not affine"}


@dataclass(frozen=True, kw_only=True, eq=False)
class EpsilonDDPM:
    """DDPM written as users write it: ε-prediction, predicted ``x_0``, posterior mean + noise.

    Parameters
    ----------
    alpha_bar : ndarray, shape (T,)
        ``ᾱ_t``.
    variance_as_std : bool
        The bug: multiply the noise by ``β̃_t`` instead of ``sqrt(β̃_t)``.
    clip : float or None
        Clip the predicted ``x_0`` to ``[-clip, clip]`` (diffusers' ``clip_sample``).

    Notes
    -----
    ``ε = -sqrt(1-ᾱ_t) s``, ``x̂_0 = (y - sqrt(1-ᾱ_t) ε)/sqrt(ᾱ_t)``, and
    ``y_{t-1} = sqrt(ᾱ_{t-1}) β_t/(1-ᾱ_t) x̂_0 + sqrt(α_t)(1-ᾱ_{t-1})/(1-ᾱ_t) y + sqrt(β̃_t) z``
    with ``β̃_t = (1-ᾱ_{t-1}) β_t/(1-ᾱ_t)`` (Ho et al. 2020, Eqs. 7 and 15).  ``1-ᾱ`` is formed by
    subtraction in float64 here, deliberately, as user code does.
    """

    alpha_bar: NDArray[np.float64]
    variance_as_std: bool = False
    clip: float | None = None
    _alpha_bar_prev: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ab = np.asarray(self.alpha_bar, dtype=np.float64)
        ab.setflags(write=False)
        object.__setattr__(self, "alpha_bar", ab)
        object.__setattr__(self, "_alpha_bar_prev", np.concatenate([[1.0], ab[:-1]]))

    def step(self, y: NDArray[np.float64], t: int, score: NDArray[np.float64],
             noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """One reverse step ``t → t-1`` on arrays of shape (n, d)."""
        ab, ab_prev = self.alpha_bar[t - 1], self._alpha_bar_prev[t - 1]
        alpha = ab / ab_prev
        beta = 1.0 - alpha
        eps = -np.sqrt(1.0 - ab) * score
        x0 = (y - np.sqrt(1.0 - ab) * eps) / np.sqrt(ab)
        if self.clip is not None:
            x0 = np.clip(x0, -self.clip, self.clip)
        mean = (np.sqrt(ab_prev) * beta / (1.0 - ab)) * x0 \
            + (np.sqrt(alpha) * (1.0 - ab_prev) / (1.0 - ab)) * y
        variance = (1.0 - ab_prev) * beta / (1.0 - ab)
        scale = variance if self.variance_as_std else np.sqrt(variance)
        return np.asarray(mean + scale * noise)


def make_example(name: str, num_steps: int = 1000) -> object:
    """Example sampler ``name`` (a key of :data:`EXAMPLES`) on the linear schedule with T steps.

    The linear schedule is rescaled by 1000/T (Nichol & Dhariwal) so that ``ᾱ_T`` stays small
    for T < 1000; at T = 1000 it is Ho et al.'s schedule exactly.
    """
    if name not in EXAMPLES:
        from theorycheck.errors import InvalidParameterError

        raise InvalidParameterError(
            f"`name` must be one of {', '.join(sorted(EXAMPLES))} (got {name!r})")
    schedule = schedules.linear(num_steps, rescale=num_steps != 1000)
    if name in ("ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"):
        return DesignSampler(design=make_design(name, schedule))
    if name == "ddim_eta":
        return DesignSampler(design=make_design("ddim_eta", schedule, eta=0.5))
    alpha_bar = np.asarray(schedule.alpha_bar)
    if name == "correct_ddpm":
        return EpsilonDDPM(alpha_bar=alpha_bar)
    if name == "broken_ddpm":
        return EpsilonDDPM(alpha_bar=alpha_bar, variance_as_std=True)
    return EpsilonDDPM(alpha_bar=alpha_bar, clip=1.0)


def ddpm_posterior() -> object:
    """DDPM, posterior variance (Ho et al. σ² = β̃_t), T = 1000: adaptive."""
    return make_example("ddpm_posterior")


def ddpm_beta() -> object:
    """DDPM, β variance (Ho et al. σ² = β_t), T = 1000: not adaptive."""
    return make_example("ddpm_beta")


def ddim() -> object:
    """DDIM (deterministic), T = 1000: adaptive."""
    return make_example("ddim")


def ddim_eta() -> object:
    """DDIM(η = 0.5), T = 1000: adaptive."""
    return make_example("ddim_eta")


def pf_euler() -> object:
    """Probability-flow ODE, plain Euler step, T = 1000: not adaptive."""
    return make_example("pf_euler")


def correct_ddpm() -> object:
    """Hand-written ε-prediction DDPM (posterior variance), T = 1000: adaptive."""
    return make_example("correct_ddpm")


def broken_ddpm() -> object:
    """Negative control: the same with the variance used as the standard deviation."""
    return make_example("broken_ddpm")


def clipped_ddpm() -> object:
    """Hand-written DDPM clipping the predicted x_0 to [-1, 1]: not affine."""
    return make_example("clipped_ddpm")
