"""Benchmarks of the exact error engine's k = 1 paths, each asserting its result.

Budgets are asserted on CPU time (``time.process_time``) for the reason given in
``test_bench_foundation.py``: on a shared 2-core machine wall time measures the neighbours.
Run with ``pytest tests/benchmarks --benchmark-only``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy import special

from theorycheck.designs import make_design
from theorycheck.divergences.gaussian import tv_gaussian_1d
from theorycheck.experiments import measure
from theorycheck.schedules import two_phase
from theorycheck.targets import SubspaceGaussianMixture


def _cpu_timed(benchmark: Any, func: Any) -> tuple[Any, float]:
    cpu: list[float] = []

    def timed() -> Any:
        start = time.process_time()
        out = func()
        cpu.append(time.process_time() - start)
        return out

    result = benchmark.pedantic(timed, rounds=1, iterations=1)
    benchmark.extra_info["cpu_seconds"] = cpu[-1]
    return result, cpu[-1]


def _gaussian_chain_moments(design: Any, mean0: float, var0: float) -> tuple[float, float]:
    """Mean and variance of Y_1 for Gaussian data N(mean0, var0): the step is affine in Y_t."""
    sched = design.schedule
    mean, var = 0.0, 1.0
    for t in range(sched.num_steps, 1, -1):
        i = t - 1
        ab, om = sched.alpha_bar[i], sched.one_minus_alpha_bar[i]
        v_t = ab * var0 + om  # s_t(y) = -(y - sqrt(ab) mean0) / v_t
        gain = 1.0 - design.eta[i] / v_t
        shift = design.eta[i] * math.sqrt(ab) * mean0 / v_t
        inv = 1.0 / math.sqrt(sched.alpha[i])
        mean = (gain * mean + shift) * inv
        var = (gain * gain * var + design.sigma[i] ** 2) * inv * inv
    return mean, var


def test_k1_grid_tv_at_T1000_within_10_seconds_and_1e6(benchmark: Any) -> None:
    """Issue target: k = 1 quadrature TV at T = 1000 in ≤ 10 s with error ≤ 1e-6."""
    design = make_design("ddpm_beta", two_phase(1000))
    target = SubspaceGaussianMixture.create([1.0], [[0.6]], [[[0.3]]])
    result, cpu = _cpu_timed(benchmark, lambda: measure(
        target, design, rng=np.random.default_rng(0), metrics=("tv",), method="grid"))
    mean1, var1 = _gaussian_chain_moments(design, 0.6, 0.3)
    ab1, om1 = design.schedule.alpha_bar[0], design.schedule.one_minus_alpha_bar[0]
    exact = tv_gaussian_1d(math.sqrt(ab1) * 0.6, ab1 * 0.3 + om1, mean1, var1)
    tv = result.values["tv"]
    benchmark.extra_info.update(tv=tv.value, stated=tv.stderr, closed_form=exact.value)
    assert tv.stderr <= 1e-6
    assert abs(tv.value - exact.value) <= 1e-6
    assert cpu <= 10.0


def test_k1_grid_near_discrete_mixture_within_10_seconds(benchmark: Any) -> None:
    """The same budget on a near-discrete mixture (no closed form: the stated tolerance)."""
    design = make_design("ddpm_posterior", two_phase(1000))
    target = SubspaceGaussianMixture.create([0.3, 0.7], [[-1.5], [1.0]], [[[0.01]], [[0.01]]])
    result, cpu = _cpu_timed(benchmark, lambda: measure(
        target, design, rng=np.random.default_rng(0), metrics=("tv", "kl")))
    tv = result.values["tv"]
    assert 0.0 < tv.value < 0.05 and tv.stderr <= 1e-6
    assert cpu <= 10.0


def test_one_dimensional_target_methods_vectorised(benchmark: Any) -> None:
    """log p, score and Jacobian of a 4-component 1-D mixture (one atom) on 10^6 points, ≤ 1 s."""
    target = SubspaceGaussianMixture.create([0.1, 0.2, 0.3, 0.4], [[-2.0], [0.0], [1.0], [3.0]],
                                            [[[0.01]], [[0.0]], [[0.25]], [[1.0]]])
    x = np.random.default_rng(12).normal(size=(10**6, 1))
    kw = {"alpha_bar": 0.9, "one_minus_alpha_bar": 0.1}

    def run() -> list[np.ndarray]:
        return [getattr(target, m)(x, **kw) for m in ("log_density", "score", "score_jacobian")]

    (logp, score, jac), cpu = _cpu_timed(benchmark, run)
    var = 0.9 * np.array([0.01, 0.0, 0.25, 1.0]) + 0.1
    mu = math.sqrt(0.9) * np.array([-2.0, 0.0, 1.0, 3.0])
    y = x[:1000]
    logc = np.log([0.1, 0.2, 0.3, 0.4]) - 0.5 * np.log(2 * np.pi * var) - 0.5 * (y - mu) ** 2 / var
    np.testing.assert_allclose(logp[:1000], special.logsumexp(logc, axis=1), rtol=1e-12)
    resp = np.exp(logc - special.logsumexp(logc, axis=1, keepdims=True))
    np.testing.assert_allclose(score[:1000, 0], (resp * -(y - mu) / var).sum(axis=1),
                               rtol=1e-10, atol=1e-12)
    assert np.all(np.isfinite(jac))
    assert cpu <= 3 * 1.0  # three methods, ≤ 1 s each
