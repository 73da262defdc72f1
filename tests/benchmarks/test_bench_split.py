"""Benchmarks of the exact d-split (each asserts its result)."""

from __future__ import annotations

import time

import numpy as np

from theorycheck.designs import make_design
from theorycheck.samplers import DesignSampler, run_chain
from theorycheck.schedules import two_phase
from theorycheck.scores import ExactScore
from theorycheck.split import orthogonal_variance, simulate_split
from theorycheck.targets import SubspaceGaussianMixture


def test_orthogonal_part_any_d_fast(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Target: orthogonal part for any d ≤ 1e9 at T = 1e4 in ≤ 1 s (it does not depend on d)."""
    from theorycheck.divergences.gaussian import kl_isotropic, tv_isotropic

    design = make_design("ddpm_beta", two_phase(10_000))

    def run() -> tuple[float, float]:
        e1 = orthogonal_variance(design).relative_error
        m = 10**9 - 8
        return tv_isotropic(m, e1).value, kl_isotropic(m, e1).value

    tv, kl = benchmark.pedantic(run, rounds=3, iterations=1)
    assert benchmark.stats.stats.max <= 1.0
    assert 0.99 < tv <= 1.0 and kl > 1e3  # DDPM-β at d = 1e9 is far off: TV saturates


def test_split_100x_faster_than_brute_force(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Target: the split ≥ 100× faster than brute force at d = 4096, agreeing within errors."""
    d, n = 4096, 200
    schedule = two_phase(100)
    design = make_design("ddpm_beta", schedule)
    target = SubspaceGaussianMixture.create([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]],
                                            [0.1 * np.eye(2), 0.2 * np.eye(2)],
                                            ambient_dim=d, basis_seed=1)
    t0 = time.perf_counter()
    brute = run_chain(DesignSampler(design=design), ExactScore(target=target, schedule=schedule),
                      num_samples=n, dim=d, rng=np.random.default_rng(5), basis=target.basis)
    brute_seconds = time.perf_counter() - t0
    def fresh() -> tuple[tuple[object, ...], dict[str, object]]:
        # A new Generator per round: spawn() advances a generator's spawn counter.
        return (design, target), {"num_samples": n, "rng": np.random.default_rng(5)}

    split = benchmark.pedantic(simulate_split, setup=fresh, rounds=3, iterations=1)
    split_seconds = benchmark.stats.stats.mean
    np.testing.assert_allclose(target.to_subspace(brute.final), split.subspace.final, atol=1e-9)
    resid = brute.final - target.from_subspace(target.to_subspace(brute.final))
    m = d - 2
    var = float(np.sum(resid**2) / (n * m))
    assert abs(var / split.orthogonal.final_variance - 1) < 5 * np.sqrt(2 / (n * m))
    speedup = brute_seconds / split_seconds
    print(f"brute {brute_seconds:.3f} s, split {split_seconds:.4f} s, speed-up {speedup:.0f}x")
    assert speedup >= 100
