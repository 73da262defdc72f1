"""Exact k = 1 output density of a deterministic multistep chain, and the order fit (torch-free)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from fake_scheduler import FakeScheduler

from theorycheck.audit.diffusers_build import make_scheduler_loop
from theorycheck.audit.order import (
    ROUGH,
    SMOOTH,
    Factor,
    chain_density,
    measure_order,
    output_density,
)
from theorycheck.audit.scheduler_loop import NumpyBackend
from theorycheck.errors import InvalidParameterError


def _chain(steps: int, kind: str = "ab2", **kw):
    return make_scheduler_loop(FakeScheduler, {"kind": kind, **kw}, steps=steps,
                               dtype="float64", backend=NumpyBackend()).with_mode("ideal")


def test_density_of_multistep_chain_at_200_steps_matches_monte_carlo():
    chain = _chain(200)
    start = time.perf_counter()
    res = chain_density(chain, SMOOTH, start="gaussian")
    assert time.perf_counter() - start <= 5.0
    assert res.tv.stderr < 1e-6 and 0 < res.tv.value < 0.05
    rng = np.random.default_rng(0)
    n = 40_000
    y_mc = chain(rng.standard_normal((n, 1)), SMOOTH.denoiser, rng)[:, 0]
    grid = np.linspace(-3.0, 3.0, 60_001)
    q = output_density(res, grid)
    # Mass of the density over the grid, and of a few intervals, against sample frequencies.
    assert float(np.trapezoid(q, grid)) == pytest.approx(
        float(np.mean((y_mc > -3) & (y_mc < 3))), abs=3 * math.sqrt(1e-6 / n) + 1e-6)
    for a, b in ((-3.0, -1.0), (-1.0, 0.0), (0.0, 0.8), (0.8, 1.2), (1.2, 3.0)):
        inside = (grid >= a) & (grid <= b)
        p_exact = float(np.trapezoid(q[inside], grid[inside]))
        p_mc = float(np.mean((y_mc >= a) & (y_mc <= b)))
        se = math.sqrt(p_mc * (1 - p_mc) / n)
        assert abs(p_exact - p_mc) <= 3 * se, (a, b, p_exact, p_mc, se)
    # A moment: E[Y²] by quadrature of the density against the sample mean.
    m2 = float(np.trapezoid(grid**2 * q, grid))
    se2 = float(np.std(y_mc**2) / math.sqrt(n))
    assert abs(m2 - float(np.mean(y_mc**2))) <= 3 * se2 + 1e-4


def test_tv_falls_with_n_and_the_order_is_fitted():
    res = measure_order(lambda n: _chain(n, kind="ddim", set_alpha_to_one=False), SMOOTH,
                        steps=(10, 20, 50), num_points=4001, name="fake DDIM")
    values = [e.value for e in res.tv]
    assert values[0] > values[1] > values[2] > 0
    assert res.order is not None and res.order.value > 0.5


def test_stochastic_chain_is_refused():
    chain = make_scheduler_loop(FakeScheduler, {"kind": "ddpm"}, steps=10, dtype="float64",
                                backend=NumpyBackend())
    with pytest.raises(InvalidParameterError, match="draws noise 9 times and its output depends "
                                                    "on it"):
        chain_density(chain, SMOOTH)


def test_even_grid_is_refused():
    with pytest.raises(InvalidParameterError, match="`num_points` must be odd"):
        chain_density(_chain(10), SMOOTH, num_points=1000)


def test_factor_validation_and_denoiser():
    with pytest.raises(InvalidParameterError, match="weights must be > 0 and sum to 1"):
        Factor(name="bad", weights=(0.5, 0.6), means=(0.0, 1.0), variances=(1.0, 1.0))
    # At ᾱ → 1 the denoiser returns u; a single component gives the Gaussian posterior mean.
    u = np.linspace(-2, 2, 5)
    g = Factor(name="g", weights=(1.0,), means=(0.5,), variances=(2.0,))
    ab = 0.3
    expected = 0.5 + math.sqrt(ab) * 2.0 / (ab * 2.0 + 1 - ab) * (u - math.sqrt(ab) * 0.5)
    np.testing.assert_allclose(g.denoiser(u, ab), expected, rtol=1e-14)
    assert ROUGH.variances[0] < SMOOTH.variances[0]


def test_exact_start_removes_the_startup_floor():
    # A deterministic bijection keeps the start-up mismatch for ever: from z_T ~ N(0, 1) the TV
    # cannot fall below TV(N(0, 1), p_T); from the exact start only the solver's error is left.
    chain = _chain(50, kind="ddim", set_alpha_to_one=False)
    shipped = chain_density(chain, SMOOTH, num_points=4001, start="gaussian").tv
    exact = chain_density(chain, SMOOTH, num_points=4001, start="exact").tv
    assert exact.value < shipped.value
    with pytest.raises(InvalidParameterError, match="`start` must be 'exact' or 'gaussian'"):
        chain_density(chain, SMOOTH, num_points=401, start="uniform")
