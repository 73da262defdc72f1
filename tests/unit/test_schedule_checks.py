"""Tests of theorycheck.schedule_checks: the schedule properties the proofs rely on (docs/theory.md §2)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.schedule_checks import schedule_properties
from theorycheck.schedules import cosine, from_betas, linear, two_phase

PROPERTY_NAMES = ("step_size", "relative_step", "relative_step_prev", "terminal_alpha_bar")
STEPS = [100, 1000, 10_000]


@pytest.fixture(scope="module")
def two_phase_schedules():
    return {(num_steps, c0, c1): two_phase(num_steps, c0=c0, c1=c1)
            for num_steps in STEPS for c0, c1 in ((2.0, 4.0), (4.0, 4.0))}


def independent_values(schedule, c1: float) -> dict[str, float]:
    """The four property values recomputed from the float64 tables."""
    num_steps = schedule.num_steps
    step = c1 * math.log(num_steps) / num_steps
    beta, q = schedule.one_minus_alpha, schedule.one_minus_alpha_bar
    return {"step_size": beta.max() / step,
            "relative_step": (beta[1:] / q[1:]).max() / step,
            "relative_step_prev": (beta[1:] / q[:-1]).max() / step,
            "terminal_alpha_bar": schedule.alpha_bar[-1]}


@pytest.mark.parametrize("num_steps", STEPS)
def test_c0_2_c1_4_passes_every_property(two_phase_schedules, num_steps):
    schedule = two_phase_schedules[(num_steps, 2.0, 4.0)]
    props = schedule_properties(schedule)
    assert props.passed and props.failures() == ()
    assert tuple(check.name for check in props.checks) == PROPERTY_NAMES
    assert props.c1 == 4.0 and props.c1_source == "schedule"
    assert props.c2 == 2.0 and props.lemma_constant == 8.0
    assert props.schedule == schedule.describe()
    want = independent_values(schedule, 4.0)
    for check in props.checks:
        assert check.passed
        assert check.value == pytest.approx(want[check.name], rel=1e-12), check.name
    by_name = {check.name: check for check in props.checks}
    # The flat phase sits exactly at the step-size bound.
    assert by_name["step_size"].value == pytest.approx(1.0, rel=1e-12)
    assert by_name["terminal_alpha_bar"].bound == num_steps**-2.0
    assert by_name["terminal_alpha_bar"].worst_step == num_steps


@pytest.mark.parametrize("num_steps", STEPS)
def test_c0_4_c1_4_is_flagged(two_phase_schedules, num_steps):
    schedule = two_phase_schedules[(num_steps, 4.0, 4.0)]
    props = schedule_properties(schedule)
    assert not props.passed
    assert [check.name for check in props.failures()] == ["terminal_alpha_bar"]
    terminal = props.failures()[0]
    # ᾱ_T ≈ e^{-1} T^{-(c1-c0)} = e^{-1}: nowhere near T^{-2}.
    assert terminal.value == schedule.alpha_bar[-1]
    assert terminal.value > 0.3 > 1000 * terminal.bound
    assert "ᾱ_T ≤ T^(-2)" in terminal.statement


def test_linear_schedule_reports_the_effective_c1():
    schedule = linear(1000)
    props = schedule_properties(schedule)
    want = 0.02 * 1000 / math.log(1000)
    assert props.c1 == pytest.approx(want, rel=1e-15)
    assert props.c1_source.startswith("effective")
    step_size = props.checks[0]
    assert step_size.name == "step_size" and step_size.passed
    assert step_size.value == pytest.approx(1.0, rel=1e-12)
    assert step_size.worst_step == 1000
    # Ho et al.'s schedule is outside the theory's regime: ᾱ_T ≈ 4e-5 > T^-2, and the first
    # steps are huge relative to 1-ᾱ_t (u_2 ≈ 1/2).
    assert {check.name for check in props.failures()} == {
        "relative_step", "relative_step_prev", "terminal_alpha_bar"}
    assert props.checks[1].worst_step == 2


def test_cosine_and_custom_schedules_use_effective_c1():
    for schedule in (cosine(1000), from_betas(np.full(500, 0.02))):
        props = schedule_properties(schedule)
        assert props.c1_source.startswith("effective")
        assert props.c1 == pytest.approx(
            schedule.one_minus_alpha.max() * schedule.num_steps / math.log(schedule.num_steps))
        assert props.checks[0].passed


def test_given_constants_change_the_verdicts(two_phase_schedules):
    schedule = two_phase_schedules[(1000, 2.0, 4.0)]
    given = schedule_properties(schedule, c1=8.0)
    assert given.c1 == 8.0 and given.c1_source == "given"
    assert given.checks[0].value == pytest.approx(0.5, rel=1e-12)
    assert not schedule_properties(schedule, c1=2.0).checks[0].passed
    assert [c.name for c in schedule_properties(schedule, c2=3.0).failures()] == [
        "terminal_alpha_bar"]
    tight = schedule_properties(schedule, lemma_constant=1.0)
    assert [c.name for c in tight.failures()] == ["relative_step"]
    assert "≤ 1" in tight.checks[1].statement


def test_properties_to_dict_is_json_ready(two_phase_schedules):
    props = schedule_properties(two_phase_schedules[(100, 4.0, 4.0)])
    payload = json.loads(json.dumps(props.to_dict()))
    assert payload["passed"] is False
    assert [c["name"] for c in payload["checks"]] == list(PROPERTY_NAMES)
    assert set(payload["checks"][0]) == {"name", "statement", "value", "bound", "worst_step",
                                         "passed", "source"}
    assert "2409.18959" in payload["checks"][1]["source"]


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"c1": 0.0}, InvalidParameterError, r"`c1` must be > 0.0 \(got 0.0\)"),
    ({"c1": -1.0}, InvalidParameterError, "`c1` must be > 0"),
    ({"c2": 0.0}, InvalidParameterError, "`c2` must be > 0"),
    ({"c2": float("nan")}, NonFiniteError, "`c2` must be finite"),
    ({"c2": "2"}, InvalidParameterError, "`c2` must be a real number"),
    ({"lemma_constant": -8.0}, InvalidParameterError, "`lemma_constant` must be > 0"),
])
def test_schedule_properties_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        schedule_properties(two_phase(10), **kwargs)


def test_schedule_properties_rejects_non_schedule():
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck Schedule"):
        schedule_properties(np.linspace(1e-4, 0.02, 100))
