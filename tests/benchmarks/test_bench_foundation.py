"""Benchmarks of the foundation (schedules, designs, import time), each asserting its result.

Run with ``pytest tests/benchmarks --benchmark-enable`` (``--benchmark-skip`` is in addopts).
Each benchmark runs once (``rounds=1``): the budgets are for a single cold call, which is what a
user of the CLI pays.  The budgets are asserted on the *CPU time* of the call
(``time.process_time``), measured around it so that they hold however pytest-benchmark is
configured: the work is single-threaded, so on an idle machine CPU time equals wall time, while
on a shared CI box (2 cores, other jobs running) wall time measures the neighbours, not us.
pytest-benchmark's table still shows the wall time, and ``extra_info`` records both.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

from theorycheck.designs import make_design
from theorycheck.schedules import two_phase


def run_once(benchmark, label: str, func: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``func`` once under pytest-benchmark; return its result and CPU time in seconds."""
    times: list[tuple[float, float]] = []

    def timed() -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = func()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
        return result

    result = benchmark.pedantic(timed, rounds=1, iterations=1)
    wall, cpu = times[-1]
    benchmark.extra_info["wall_seconds"] = wall
    benchmark.extra_info["cpu_seconds"] = cpu
    print(f"\n{label}: wall {wall:.3f} s, cpu {cpu:.3f} s")
    return result, cpu


def check_two_phase(schedule, num_steps: int) -> None:
    """Correctness of a default two-phase schedule: β_1, β_T, 1-ᾱ_1 and the recursion."""
    h = 4.0 * math.log(num_steps) / num_steps
    assert schedule.num_steps == num_steps and schedule.dps == 50
    assert schedule.one_minus_alpha[0] == float(num_steps) ** -2
    assert schedule.one_minus_alpha_bar[0] == schedule.one_minus_alpha[0]
    assert schedule.one_minus_alpha[-1] == pytest.approx(h, rel=1e-15)
    assert schedule.alpha_minus_alpha_bar[0] == 0.0
    # ᾱ_T ≈ e^{-1} T^{-(c1-c0)} (docs/theory.md §2); within a factor 2 here.
    assert 0.5 < schedule.alpha_bar[-1] * num_steps**2 * math.e < 2
    # spot-check 1-ᾱ_t against a direct high-precision sum at a few t
    betas = schedule.mp_one_minus_alpha()
    with mpmath.workdps(80):
        alpha_bar = mpmath.mpf(1)
        checkpoints = {1, 2, num_steps // 3, num_steps}
        for t in range(1, num_steps + 1):
            alpha_bar *= 1 - betas[t - 1]
            if t in checkpoints:
                assert schedule.one_minus_alpha_bar[t - 1] == float(1 - alpha_bar), t
                assert schedule.alpha_bar[t - 1] == float(alpha_bar), t


def test_two_phase_1e5_within_3_seconds(benchmark):
    schedule, seconds = run_once(benchmark, "two_phase(10**5)", lambda: two_phase(10**5))
    check_two_phase(schedule, 10**5)
    assert seconds <= 3.0, f"two_phase(10**5) took {seconds:.2f} s of CPU (budget 3 s)"


@pytest.mark.slow
def test_two_phase_1e6_within_30_seconds(benchmark):
    schedule, seconds = run_once(benchmark, "two_phase(10**6)", lambda: two_phase(10**6))
    check_two_phase(schedule, 10**6)
    assert seconds <= 30.0, f"two_phase(10**6) took {seconds:.2f} s of CPU (budget 30 s)"


def test_one_step_condition_ddpm_beta_1e4_within_2_seconds(benchmark):
    schedule = two_phase(10**4)  # construction is not timed
    design = make_design("ddpm_beta", schedule)
    cond, seconds = run_once(benchmark, "one_step_condition", design.one_step_condition)
    assert cond.steps.shape == (10**4 - 1,)
    # docs/theory.md §4: R_t - 1 = u²/(1-u) with u = (1-α_t)/(1-ᾱ_t), at every t ≥ 2.
    u = schedule.one_minus_alpha[1:] / schedule.one_minus_alpha_bar[1:]
    np.testing.assert_allclose(cond.r_minus_one, u**2 / (1 - u), rtol=1e-12, atol=0)
    assert seconds <= 2.0, f"one_step_condition took {seconds:.2f} s of CPU (budget 2 s)"


IMPORT_PROBE = """
import json, sys, time
start = time.perf_counter()
import theorycheck
elapsed = time.perf_counter() - start
heavy = sorted(name for name in ("sympy", "matplotlib") if name in sys.modules)
print(json.dumps({"seconds": elapsed, "heavy": heavy}))
"""


def test_import_is_fast_and_light(benchmark):
    def probe() -> dict[str, Any]:
        result = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True,
                                text=True, timeout=60, check=True)
        return json.loads(result.stdout)

    report, _ = run_once(benchmark, "import probe", probe)
    benchmark.extra_info["import_seconds"] = report["seconds"]
    print(f"`import theorycheck` inside the subprocess: {report['seconds']:.3f} s")
    assert report["heavy"] == [], f"`import theorycheck` pulls in {report['heavy']}"
    assert report["seconds"] <= 0.5, f"import took {report['seconds']:.3f} s (budget 0.5 s)"
