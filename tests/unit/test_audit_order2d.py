"""Measured order of deterministic single-step designs on a k = 2 target (audit/order2d.py)."""

from __future__ import annotations

import json

import pytest

from theorycheck.audit.order2d import (
    compare_k1,
    main,
    make_schedule,
    measure_order_k2,
    simplex_target,
)
from theorycheck.errors import InvalidParameterError

SMOOTH = simplex_target(0.5)


@pytest.fixture(scope="module")
def ddim_smooth():
    return measure_order_k2("ddim", SMOOTH, target_name="smooth", steps=(10, 20, 50, 100))


def test_ddim_smooth_is_first_order_up_to_one_log(ddim_smooth) -> None:
    res = ddim_smooth
    assert res.steps == (10, 20, 50, 100)
    # Every TV resolved: tolerance far below the value, start-up floor well below the TV.
    for tv, floor in zip(res.tv, res.start_floor, strict=True):
        assert tv.stderr < 1e-3 * tv.value
        assert floor.value < 0.1 * tv.value
    order, low, high = res.order
    # Measured on N = 10..100: 0.77 in [0.65, 0.89] (0.77 ± 0.05 on N = 10..200) — the interval
    # excludes 1: the raw law is not a pure first-order power.
    assert 0.7 < order < 0.85
    assert low > 0.55 and high < 1.0
    # With one log factor held (TV ≈ C log N / N, the k log T / T bounds) the exponent is -1.
    assert res.fit_log is not None
    assert res.fit_log.ci_low < -1.0 < res.fit_log.ci_high
    assert all(-1.1 < s < -0.95 for s in res.fit_log.local_slopes[1:])
    json.dumps(res.to_dict())


def test_pf_euler_is_a_worse_deterministic_solver_than_ddim(ddim_smooth) -> None:
    res = measure_order_k2("pf_euler", SMOOTH, steps=(20,))
    assert res.fit is None and "fewer than 3" in res.note
    assert res.tv[0].value > 5 * ddim_smooth.tv[ddim_smooth.steps.index(20)].value


def test_failing_n_is_named_not_fitted() -> None:
    res = measure_order_k2("ddim", simplex_target(0.05), steps=(10, 20))
    assert res.steps == () and res.fit is None
    assert "N=10" in res.note and "N=20" in res.note and "no order" in res.note


def test_k1_comparison_same_design() -> None:
    out = compare_k1("ddim", steps=(10, 20, 50), num_points=2001)
    assert set(out) == {"smooth/gaussian", "smooth/exact", "rough/gaussian", "rough/exact"}
    order = out["smooth/exact"].order
    assert order is not None and 0.6 < order.value < 1.0


def test_linear_schedule_is_ddim_subsequence() -> None:
    s = make_schedule("linear", 10)
    assert s.num_steps == 10
    assert abs(float(s.alpha_bar[-1]) - 4.0358e-5) < 1e-8
    assert abs(float(s.one_minus_alpha_bar[0]) - 1e-4) < 1e-15


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"design": "ddpm_posterior"}, "deterministic single-step design.*not Markov"),
    ({"schedule": "cosine"}, "`schedule` must be one of two_phase, linear"),
    ({"steps": (20, 10)}, "`steps` must be increasing integers >= 2"),
    ({"steps": (1, 10)}, "`steps` must be increasing integers >= 2"),
])
def test_bad_input(kwargs, match) -> None:
    args = {"design": "ddim", "schedule": "two_phase", "steps": (10, 20, 50), **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        measure_order_k2(args["design"], SMOOTH, schedule=args["schedule"], steps=args["steps"])


def test_bad_target_sd() -> None:
    with pytest.raises(InvalidParameterError, match="`sd` must be a finite number > 0"):
        simplex_target(-1.0)


def test_cli_bad_steps_exit_2(tmp_path, capsys) -> None:
    assert main(["--report", str(tmp_path / "r.md"), "--steps", "20", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`steps` must be increasing" in err
