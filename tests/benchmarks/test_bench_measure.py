"""Benchmarks of `measure` (issue 9 targets), each asserting its result.

CPU time (``time.process_time``) is asserted, not wall time, for the reason given in
``test_bench_foundation.py``: on a shared 2-core machine wall time measures the neighbours.
Run with ``pytest tests/benchmarks/test_bench_measure.py --benchmark-only``.
"""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from theorycheck.designs import make_design
from theorycheck.divergences.grid import grid_divergences
from theorycheck.divergences.grid2d import measure_grid2d
from theorycheck.experiments import _grid_pairs, measure
from theorycheck.schedules import two_phase
from theorycheck.sweep import run_sweep
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

ROOT = Path(__file__).resolve().parents[2]
FACTOR_A = ([0.3, 0.7], [-1.5, 1.0], [0.09, 0.25])
FACTOR_B = ([0.5, 0.5], [-0.8, 0.8], [0.2, 0.2])


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


@pytest.mark.parametrize("ambient_dim", [64, 512, 4096])
@pytest.mark.parametrize("num_steps", [100, 1000])
@pytest.mark.parametrize("design_name", ["ddpm_posterior", "ddpm_beta"])
def test_li_yan_stand_in_exact_within_1_second(benchmark: Any, ambient_dim: int, num_steps: int,
                                               design_name: str) -> None:
    """N(0, I_8) on R^d: exact KL and TV (closed form) in <= 1 s CPU each case."""
    design = make_design(design_name, two_phase(num_steps))
    target = SubspaceGaussianMixture.create([1.0], [np.zeros(8)], [np.eye(8)],
                                            ambient_dim=ambient_dim, basis_seed=0)
    res, cpu = _cpu_timed(benchmark, lambda: measure(target, design,
                                                     rng=np.random.default_rng(0)))
    tv, kl = res.values["tv"], res.values["kl"]
    benchmark.extra_info.update(tv=tv.value, kl=kl.value)
    assert res.method_name == "closed_form"
    assert tv.stderr <= 1e-9 and kl.stderr == 0.0
    assert 0.0 < tv.value <= 1.0 and kl.value > 0.0
    assert cpu <= 1.0


def _rotated_product(angle: float) -> SubspaceGaussianMixture:
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    w, mu, cov = [], [], []
    for wa, ma, va in zip(*FACTOR_A, strict=True):
        for wb, mb, vb in zip(*FACTOR_B, strict=True):
            w.append(wa * wb)
            mu.append(rot @ [ma, mb])
            cov.append(rot @ np.diag([va, vb]) @ rot.T)
    return SubspaceGaussianMixture.create(w, mu, cov)


def _product_tv_from_1d_grids(design: Any) -> float:
    """TV of the product from the outer product of the two fine 1-D grid densities."""
    pairs = _grid_pairs([ProductMixture.create([FACTOR_A]).factor(0),
                         ProductMixture.create([FACTOR_B]).factor(0)], design, 2**16)
    dens = []
    for pair in pairs:
        grid = pair.fine
        q = np.where(grid.resolved, grid.density, 0.0)
        p = np.exp(pair.log_density(grid.points))
        dens.append((grid.points, float(grid.weights[0]), p, q))
    (_, h0, p0, q0), (_, h1, p1, q1) = dens
    return 0.5 * h0 * h1 * float(np.sum(np.abs(np.outer(p0, p1) - np.outer(q0, q1))))


@pytest.mark.parametrize("design_name", ["ddpm_beta", "ddpm_posterior"])
def test_k2_grid_at_T1000_matches_the_product_within_1e4(benchmark: Any,
                                                         design_name: str) -> None:
    """k = 2 grid, T = 1000: <= 60 s CPU, <= 2 GiB, KL and TV within 1e-4 of the product."""
    design = make_design(design_name, two_phase(1000))
    res, cpu = _cpu_timed(benchmark, lambda: measure_grid2d(design, _rotated_product(0.5)))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pairs = _grid_pairs([ProductMixture.create([FACTOR_A]).factor(0),
                         ProductMixture.create([FACTOR_B]).factor(0)], design, 2**16)
    kl_sum = sum(grid_divergences(model=p.fine, target_log_density=p.log_density)["kl"].value
                 for p in pairs)
    tv_product = _product_tv_from_1d_grids(design)
    benchmark.extra_info.update(kl=res.kl.value, kl_stated=res.kl.stderr, kl_product=kl_sum,
                                tv=res.tv.value, tv_stated=res.tv.stderr, tv_product=tv_product,
                                peak_mib=peak_mib, grids=str(res.counts))
    assert abs(res.kl.value - kl_sum) <= 1e-4
    assert abs(res.tv.value - tv_product) <= 1e-4
    assert res.kl.stderr <= 1e-4 and res.tv.stderr <= 1e-4
    assert cpu <= 60.0
    assert peak_mib <= 2048


def test_li_yan_figure_sweep_within_2_minutes(benchmark: Any) -> None:
    """The committed Li & Yan example: 17 d × 3 T × 2 designs in <= 120 s CPU."""
    raw = json.loads((ROOT / "examples" / "li-yan-figure.json").read_text())
    res, cpu = _cpu_timed(benchmark, lambda: run_sweep(raw))
    assert len(res.cases) == 102
    post = [c.measurement.values["kl"].value for c in res.cases
            if c.params["sampler.design"] == "ddpm_posterior" and c.params["schedule.steps"] == 1000]
    beta = [c.measurement.values["kl"].value for c in res.cases
            if c.params["sampler.design"] == "ddpm_beta" and c.params["schedule.steps"] == 1000]
    assert max(post) / min(post) - 1.0 < 1e-9          # adaptive: flat in d
    assert beta[-1] / beta[-2] == pytest.approx(10**0.5, rel=1e-3)  # β variance: KL ∝ d
    assert cpu <= 120.0
