"""Rough targets: the scan's bookkeeping and one cheap measured point."""

from __future__ import annotations

import math

import pytest

from theorycheck.errors import InvalidParameterError
from theorycheck.rough_targets import asymptotic_start, measure_rough_scan


def test_asymptotic_start_is_the_first_t_of_a_flat_tail() -> None:
    steps = (25, 50, 100, 200, 400)
    assert asymptotic_start(steps, (0.2, 0.3, 0.4, 0.42, 0.43)) == 100
    assert asymptotic_start(steps, (0.4, 0.41, 0.42, 0.43, 0.44)) == 25
    assert asymptotic_start(steps, (0.1, 0.2, 0.3, 0.4, 0.5)) is None


@pytest.mark.parametrize(("args", "match"), [
    (((25,), (0.1,)), "one length >= 2"),
    (((50, 25), (0.1, 0.2)), "strictly increasing"),
    (((25, 50), (0.1, -0.2)), "finite and > 0"),
])
def test_asymptotic_start_rejects_bad_input(args: tuple[tuple[int, ...], tuple[float, ...]],
                                             match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        asymptotic_start(*args)


def test_scan_measures_the_normalised_ratio() -> None:
    scan = measure_rough_scan(sds=(0.1,), num_steps=(10, 20), design="ddim")
    steps, ratios = scan.curve(0.1)
    assert steps == (10, 20)
    for point in scan.points:
        assert point.ratio.value == pytest.approx(
            point.tv.value * point.num_steps / math.log(point.num_steps))
    summary = scan.summary()
    assert summary["uniform_max_ratio"] == max(ratios)
    assert set(summary["by_sd"]) == {"0.1"}


def test_scan_rejects_bad_sd() -> None:
    with pytest.raises(InvalidParameterError, match="`sds` must be <= 1"):
        measure_rough_scan(sds=(2.0,), num_steps=(10,))


def test_points_out_of_the_methods_reach_are_listed_not_measured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import theorycheck.experiments as experiments
    from theorycheck.errors import NonFiniteError

    def unreachable(*args: object, **kwargs: object) -> None:
        raise NonFiniteError("inverting the map φ_t did not converge at t=2")

    monkeypatch.setattr(experiments, "measure", unreachable)
    scan = measure_rough_scan(sds=(1e-6,), num_steps=(100, 200))
    assert scan.points == ()
    assert scan.out_of_reach == ("sd=1e-06, T=100: inverting the map φ_t did not converge at t=2",
                                 "sd=1e-06, T=200: inverting the map φ_t did not converge at t=2")
    summary = scan.summary()
    assert summary["uniform_max_ratio"] is None and summary["by_sd"] == {}
