"""score_errors: exact ε_score / ε_Jacobi against Monte Carlo and quadrature, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.results import ErrorKind
from theorycheck.schedules import two_phase
from theorycheck.score_errors import (
    ConstantOffset,
    SinePerturbation,
    score_error_measures,
    score_error_measures_mc,
    sine_amplitude_for_eps_score,
    unit_direction,
)
from theorycheck.targets import SubspaceGaussianMixture

SEED = 20251123


@pytest.fixture(scope="module")
def setting() -> tuple[SubspaceGaussianMixture, object]:
    target = SubspaceGaussianMixture.create([0.3, 0.7], [[-1.0], [1.0]], [[[0.1]], [[0.3]]],
                                            ambient_dim=4, basis_seed=1)
    return target, two_phase(30, c0=1, c1=3)


def test_offset_is_exact_and_jacobian_free(setting) -> None:
    target, sched = setting
    pert = ConstantOffset(direction=unit_direction([-1, -1, 0, 0]), amplitude=0.3)
    m = score_error_measures(pert, target, sched)
    assert m.eps_score.value == pytest.approx(0.3, rel=1e-15)
    assert m.eps_jacobi.value == 0.0 and m.eps_score.error_kind is ErrorKind.EXACT
    x = np.ones((5, 4))
    np.testing.assert_allclose(pert(x, 1), np.tile(pert.direction * 0.3, (5, 1)))


def test_sine_measures_match_monte_carlo(setting) -> None:
    target, sched = setting
    pert = SinePerturbation(direction=unit_direction([1.0, 2.0, 0.5, -1.0]), amplitude=0.3,
                            frequency=3.0)
    exact = score_error_measures(pert, target, sched)
    mc = score_error_measures_mc(pert, target, sched, rng=np.random.default_rng(SEED),
                                 num_samples=20_000)
    for name in ("eps_score", "eps_jacobi"):
        e, m = getattr(exact, name), getattr(mc, name)
        assert abs(e.value - m.value) < 4 * m.stderr + e.stderr, (name, e, m, SEED)


def test_abs_cos_series_matches_quadrature(setting) -> None:
    """Per-step E|cos(ωW)| against adaptive quadrature of the 1-d mixture density of ⟨v, X_t⟩."""
    target, sched = setting
    v = unit_direction([0.3, -1.0, 2.0, 0.1])
    pert = SinePerturbation(direction=v, amplitude=1.0, frequency=2.5)
    exact = score_error_measures(pert, target, sched)
    b = target.to_subspace(v[None, :])[0]
    for t in (1, 15, 30):
        ab, q = float(sched.alpha_bar[t - 1]), float(sched.one_minus_alpha_bar[t - 1])
        comps = [(w, math.sqrt(ab) * float(mu @ b), ab * float(b @ cov @ b) + q)
                 for w, mu, cov in zip(target.weights, target.means, target.covariances,
                                       strict=True)]

        def dens(y: float, comps=comps) -> float:
            return sum(w * math.exp(-0.5 * (y - m) ** 2 / c) / math.sqrt(2 * math.pi * c)
                       for w, m, c in comps)

        val, _ = integrate.quad(lambda y: abs(math.cos(2.5 * y)) * dens(y), -12, 12,
                                limit=400)
        assert exact.per_step_jacobi[t - 1] / 2.5 == pytest.approx(val, abs=1e-7)


def test_amplitude_gives_requested_eps_score(setting) -> None:
    target, sched = setting
    v = unit_direction([0, 0, 1, 0])
    a = sine_amplitude_for_eps_score(0.01, 7.0, v, target, sched)
    pert = SinePerturbation(direction=v, amplitude=a, frequency=7.0)
    assert score_error_measures(pert, target, sched).eps_score.value == pytest.approx(0.01,
                                                                                     rel=1e-12)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"amplitude": -0.1, "frequency": 1.0}, InvalidParameterError, "`amplitude` must be >= 0"),
    ({"amplitude": math.nan, "frequency": 1.0}, NonFiniteError, "`amplitude` must be finite"),
    ({"amplitude": 0.1, "frequency": 0.0}, InvalidParameterError, "`frequency` must be > 0"),
    ({"amplitude": 0.1, "frequency": -2.0}, InvalidParameterError, "`frequency` must be > 0"),
    ({"amplitude": 0.1, "frequency": math.inf}, NonFiniteError, "`frequency` must be finite"),
])
def test_sine_bad_input(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        SinePerturbation(direction=unit_direction([1, 0]), **kwargs)


def test_other_bad_input(setting) -> None:
    target, sched = setting
    with pytest.raises(NonFiniteError, match="`amplitude` must be finite"):
        ConstantOffset(direction=unit_direction([1, 0]), amplitude=math.inf)
    with pytest.raises(InvalidParameterError, match="`amplitude` must be >= 0"):
        ConstantOffset(direction=unit_direction([1, 0]), amplitude=-0.1)
    with pytest.raises(InvalidParameterError, match="`direction` must have unit norm"):
        ConstantOffset(direction=np.array([1.0, 1.0]), amplitude=0.1)
    with pytest.raises(InvalidParameterError, match="`direction` must be a non-zero vector"):
        unit_direction([0.0, 0.0])
    with pytest.raises(NonFiniteError, match="`direction` must be finite"):
        unit_direction([math.nan, 1.0])
    with pytest.raises(InvalidParameterError, match="`eps_score` must be >= 0"):
        sine_amplitude_for_eps_score(-1.0, 1.0, unit_direction([1, 0, 0, 0]), target, sched)
    with pytest.raises(InvalidParameterError, match="`direction` must have length d = 4"):
        score_error_measures(ConstantOffset(direction=unit_direction([1, 0]), amplitude=0.1),
                             target, sched)
    pert = ConstantOffset(direction=unit_direction([1, 0, 0, 0]), amplitude=0.1)
    with pytest.raises(InvalidParameterError, match="`num_samples` must be >= 2"):
        score_error_measures_mc(pert, target, sched, rng=np.random.default_rng(0),
                                num_samples=1)
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
        score_error_measures_mc(pert, target, sched, rng=0, num_samples=10)
    with pytest.raises(InvalidParameterError, match=r"`x` must have shape \(n, 4\)"):
        pert(np.ones((3, 2)), 1)
