"""Tests of theorycheck.schedules against independent high-precision reference computations.

The references here deliberately use the *naive* formulas (direct powers, direct products and
direct subtraction) at 100 digits rather than the library's cancellation-free recursion, so the
two computations share no code path.  At 100 digits the subtraction ``1 - ᾱ_t`` still leaves
more than 60 correct digits even for ``1-ᾱ_1 = T^{-8} = 1e-32``, far more than needed to decide
the correctly rounded float64 value.
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np
import pytest

from theorycheck.errors import InvalidParameterError, NonFiniteError
from theorycheck.schedules import (
    DEFAULT_DPS,
    TWO_PHASE_INDEX_CONVENTIONS,
    Schedule,
    cosine,
    from_alpha_bar,
    from_alphas,
    from_betas,
    linear,
    two_phase,
)

REFERENCE_DPS = 100
UNIT_ROUNDOFF = 2.0**-53
TABLES = ("alpha", "one_minus_alpha", "alpha_bar", "one_minus_alpha_bar", "alpha_minus_alpha_bar")


# --------------------------------------------------------------------------- reference helpers


def reference_two_phase_betas(num_steps: int, c0: float, c1: float, index: str) -> list:
    """β_t straight from docs/theory.md §2: ``h·min{T^{-c0}(1+h)^{t-offset}, 1}`` with direct powers."""
    offset = 0 if index == "seed" else 1
    with mpmath.workdps(REFERENCE_DPS):
        h = mpmath.mpf(c1) * mpmath.log(num_steps) / num_steps
        beta1 = mpmath.power(num_steps, -mpmath.mpf(c0))
        betas = [beta1]
        for t in range(2, num_steps + 1):
            betas.append(h * min(beta1 * mpmath.power(1 + h, t - offset), mpmath.mpf(1)))
    return betas


def reference_tables(betas: list) -> dict[str, list]:
    """α, β, ᾱ (direct product), 1-ᾱ and α-ᾱ (direct subtraction) at REFERENCE_DPS digits."""
    with mpmath.workdps(REFERENCE_DPS):
        alphas = [1 - mpmath.mpf(beta) for beta in betas]
        alpha_bar = []
        product = mpmath.mpf(1)
        for alpha in alphas:
            product *= alpha
            alpha_bar.append(product)
        return {
            "alpha": alphas,
            "one_minus_alpha": [mpmath.mpf(beta) for beta in betas],
            "alpha_bar": alpha_bar,
            "one_minus_alpha_bar": [1 - value for value in alpha_bar],
            "alpha_minus_alpha_bar": [a - ab for a, ab in zip(alphas, alpha_bar, strict=True)],
        }


def correctly_rounded(values: list) -> np.ndarray:
    """float64 rounding (round-to-nearest) of each mpf value."""
    return np.array([float(value) for value in values], dtype=np.float64)


def ulp_distance(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of the spacing of float64 numbers at ``want`` (0 for equal values)."""
    return np.abs(got - want) / np.spacing(np.abs(want))


def assert_correctly_rounded(schedule: Schedule, reference: dict[str, list]) -> None:
    # The library computes at 50 digits (relative error ~T·1e-50) and rounds once; its float64
    # value can differ from the correctly rounded one only if the exact value lies within
    # ~1e-45 (relative) of a rounding midpoint, a ~1e-29 coincidence per entry.  So we demand
    # exact equality, which implies the contractual "relative error ≤ 1.2e-16 (1 ulp)".
    for name in TABLES:
        got = getattr(schedule, name)
        want = correctly_rounded(reference[name])
        assert got.dtype == np.float64 and got.shape == (schedule.num_steps,)
        mismatch = np.flatnonzero(got != want)
        assert mismatch.size == 0, (
            f"{name}: {mismatch.size} entries not correctly rounded, first at t={mismatch[0] + 1} "
            f"(got {got[mismatch[0]]!r}, want {want[mismatch[0]]!r}, "
            f"{ulp_distance(got, want)[mismatch[0]]:.2f} ulp)")
        nonzero = want != 0
        rel = np.abs(got[nonzero] - want[nonzero]) / np.abs(want[nonzero])
        assert np.all(rel <= 1.2e-16)


# --------------------------------------------------------------------------- two-phase

TWO_PHASE_CASES = [
    # (T, c0, c1, index)
    (100, 1.0, 3.0, "seed"),
    (1000, 2.0, 4.0, "seed"),
    (1000, 2.0, 4.0, "li_yan"),
    (1000, 4.0, 4.0, "seed"),
    (10_000, 8.0, 16.0, "seed"),   # 1-ᾱ_1 = 1e-32, capped after about T/2 steps
    (10_000, 8.0, 16.0, "li_yan"),
    (10_000, 8.0, 4.0, "seed"),    # never reaches the cap: purely geometric
]


def case_id(case: tuple) -> str:
    return f"T{case[0]}-c0{case[1]:g}-c1{case[2]:g}-{case[3]}"


@pytest.fixture(scope="module")
def two_phase_cases() -> dict[tuple, tuple[Schedule, dict[str, list]]]:
    out = {}
    for case in TWO_PHASE_CASES:
        num_steps, c0, c1, index = case
        schedule = two_phase(num_steps, c0=c0, c1=c1, index=index)
        reference = reference_tables(reference_two_phase_betas(num_steps, c0, c1, index))
        out[case] = (schedule, reference)
    return out


@pytest.mark.parametrize("case", TWO_PHASE_CASES, ids=case_id)
def test_two_phase_tables_are_correctly_rounded(two_phase_cases, case):
    schedule, reference = two_phase_cases[case]
    assert schedule.kind == "two_phase"
    assert schedule.num_steps == case[0]
    assert schedule.params == {"c0": case[1], "c1": case[2], "index": case[3]}
    assert schedule.dps == DEFAULT_DPS
    assert_correctly_rounded(schedule, reference)


@pytest.mark.parametrize("case", TWO_PHASE_CASES, ids=case_id)
def test_two_phase_high_precision_values_match_reference(two_phase_cases, case):
    schedule, reference = two_phase_cases[case]
    with mpmath.workdps(REFERENCE_DPS):
        for name, values in (("one_minus_alpha", schedule.mp_one_minus_alpha()),
                             ("alpha_bar", schedule.mp_alpha_bar()),
                             ("one_minus_alpha_bar", schedule.mp_one_minus_alpha_bar())):
            worst = max(abs(got / want - 1) for got, want in zip(values, reference[name],
                                                                 strict=True))
            # Documented bound: relative error ≤ ~3T·10^-dps, i.e. ≥ 40 digits here.
            assert worst <= mpmath.mpf(10) ** -40, (name, mpmath.nstr(worst, 3))


def test_one_minus_alpha_bar_is_exact_where_naive_float64_fails(two_phase_cases):
    for case, min_naive_error in (((10_000, 8.0, 16.0, "seed"), 0.5),
                                  ((1000, 2.0, 4.0, "seed"), 1e-12)):
        schedule, reference = two_phase_cases[case]
        want = correctly_rounded(reference["one_minus_alpha_bar"])
        naive = 1.0 - np.cumprod(1.0 - schedule.one_minus_alpha)
        naive_rel_error = abs(naive[0] - want[0]) / want[0]
        # The naive subtraction loses log10(1/(1-ᾱ_1)) digits: all 16 when 1-ᾱ_1 = 1e-32
        # (it returns exactly 0), about 6 when 1-ᾱ_1 = 1e-6.
        assert naive_rel_error >= min_naive_error
        assert schedule.one_minus_alpha_bar[0] == want[0]
        np.testing.assert_array_equal(schedule.one_minus_alpha_bar, want)
    schedule, _ = two_phase_cases[(10_000, 8.0, 16.0, "seed")]
    assert schedule.one_minus_alpha_bar[0] == 1e-32
    assert (1.0 - np.cumprod(1.0 - schedule.one_minus_alpha))[0] == 0.0


def test_alpha_minus_alpha_bar_is_exactly_zero_at_step_one(two_phase_cases):
    for schedule, _ in two_phase_cases.values():
        assert schedule.alpha_minus_alpha_bar[0] == 0.0
        with mpmath.workdps(schedule.dps):
            assert schedule.mp_values(1).alpha_minus_alpha_bar == 0
        assert np.all(schedule.alpha_minus_alpha_bar[1:] > 0)


@pytest.mark.parametrize(("num_steps", "c0", "c1"), [(1000, 2.0, 4.0), (10_000, 8.0, 16.0)])
def test_index_conventions_differ_by_one_power_of_growth(num_steps, c0, c1):
    seed = two_phase(num_steps, c0=c0, c1=c1, index="seed")
    li_yan = two_phase(num_steps, c0=c0, c1=c1, index="li_yan")
    assert seed.params["index"] == "seed" and li_yan.params["index"] == "li_yan"
    assert "index=seed" in seed.describe() and "index=li_yan" in li_yan.describe()
    b_seed, b_ly = seed.mp_one_minus_alpha(), li_yan.mp_one_minus_alpha()
    tol = mpmath.mpf(10) ** -45
    with mpmath.workdps(REFERENCE_DPS):
        h = mpmath.mpf(c1) * mpmath.log(num_steps) / num_steps
        assert b_seed[0] == b_ly[0]
        assert abs(b_seed[0] / mpmath.power(num_steps, -mpmath.mpf(c0)) - 1) <= tol
        growth_steps = 0
        for t in range(2, num_steps + 1):
            # seed β_t = h·min{g(1+h)^t, 1} = min{(1+h)·(li_yan β_t), h}
            want = min((1 + h) * b_ly[t - 1], h)
            assert abs(b_seed[t - 1] / want - 1) <= tol, t
            if b_seed[t - 1] < h * (1 - tol):  # (β is stored at 50 digits, h here at 100)
                growth_steps += 1
                assert abs(b_seed[t - 1] / b_ly[t - 1] / (1 + h) - 1) <= tol, t
            if t < num_steps:
                # same exponent t: seed β_t = li_yan β_{t+1}
                assert abs(b_seed[t - 1] / b_ly[t] - 1) <= tol, t
        assert growth_steps > 10  # the identity above is not vacuous


def test_two_phase_is_geometric_then_flat():
    schedule = two_phase(1000, c0=2.0, c1=4.0)
    h = 4.0 * math.log(1000) / 1000
    beta = schedule.one_minus_alpha
    assert beta[0] == 1e-6
    capped = np.flatnonzero(np.isclose(beta, h, rtol=1e-15, atol=0))
    assert capped.size > 0
    assert np.array_equal(capped, np.arange(capped[0], 1000))  # flat until the end
    assert np.all(np.diff(beta[1:capped[0] + 1]) > 0)


def test_default_dps_gives_40_digits_of_one_minus_alpha_bar():
    # 10^4 keeps the test fast; the documented bound 3T·10^-dps would still give 44 digits at 10^5.
    for c0, c1 in ((2.0, 4.0), (8.0, 16.0)):
        default = two_phase(10_000, c0=c0, c1=c1)
        precise = two_phase(10_000, c0=c0, c1=c1, dps=100)
        assert default.dps == 50 and precise.dps == 100
        with mpmath.workdps(100):
            worst = max(abs(a / b - 1) for a, b in zip(default.mp_one_minus_alpha_bar(),
                                                     precise.mp_one_minus_alpha_bar(),
                                                     strict=True))
        assert worst <= mpmath.mpf(10) ** -40, mpmath.nstr(worst, 3)


# --------------------------------------------------------------------------- linear and cosine


def test_linear_matches_ho_et_al():
    schedule = linear(1000)
    assert schedule.kind == "linear"
    assert schedule.params == {"beta_start": 1e-4, "beta_end": 0.02, "rescale": False}
    beta = schedule.one_minus_alpha
    assert beta[0] == 1e-4 and beta[-1] == 0.02
    # numpy.linspace is within a couple of ulp of the exact grid.
    np.testing.assert_allclose(beta, np.linspace(1e-4, 0.02, 1000), rtol=1e-15, atol=0)
    with mpmath.workdps(REFERENCE_DPS):
        start, end = mpmath.mpf(1e-4), mpmath.mpf(0.02)
        betas = [start + (end - start) * mpmath.mpf(i) / 999 for i in range(1000)]
    assert_correctly_rounded(schedule, reference_tables(betas))


@pytest.mark.parametrize("num_steps", [250, 2000, 4000])
def test_linear_rescale_scales_end_points_by_1000_over_T(num_steps):
    schedule = linear(num_steps, rescale=True)
    assert schedule.params["rescale"] is True
    scale = 1000 / num_steps
    beta = schedule.one_minus_alpha
    with mpmath.workdps(REFERENCE_DPS):
        want_start = float(mpmath.mpf(1e-4) * 1000 / num_steps)
        want_end = float(mpmath.mpf(0.02) * 1000 / num_steps)
    assert beta[0] == want_start and beta[-1] == want_end
    np.testing.assert_allclose(beta, np.linspace(1e-4 * scale, 0.02 * scale, num_steps),
                               rtol=1e-14, atol=0)


def betas_for_alpha_bar_numpy(num_steps: int, max_beta: float = 0.999) -> np.ndarray:
    """improved-diffusion's ``betas_for_alpha_bar`` with the cosine ``alpha_bar`` (float64)."""
    def alpha_bar(u: float) -> float:
        return math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = []
    for i in range(num_steps):
        t1 = i / num_steps
        t2 = (i + 1) / num_steps
        betas.append(min(1 - alpha_bar(t2) / alpha_bar(t1), max_beta))
    return np.array(betas)


@pytest.mark.parametrize("num_steps", [100, 1000, 4000])
def test_cosine_matches_improved_diffusion(num_steps):
    schedule = cosine(num_steps)
    beta = schedule.one_minus_alpha
    reference = betas_for_alpha_bar_numpy(num_steps)
    # rtol 1e-12 as requested; atol 1e-15 because the float64 reference itself forms
    # 1 - f(t2)/f(t1) by subtraction, which costs a few ulp of 1 (≈ 2e-16 absolute, 5e-12
    # relative at β_1 ≈ 4e-5 when T = 1000) -- an error of the reference, not the library.
    np.testing.assert_allclose(beta, reference, rtol=1e-12, atol=1e-15)
    assert beta[-1] == 0.999  # clipped
    assert np.all(beta <= 0.999)


def test_cosine_is_correctly_rounded_and_clipping_reaches_alpha_bar():
    num_steps = 1000
    schedule = cosine(num_steps)
    with mpmath.workdps(REFERENCE_DPS):
        shift = mpmath.mpf(0.008)

        def f(u):
            return mpmath.cos((u + shift) / (1 + shift) * mpmath.pi / 2) ** 2

        betas = [min(1 - f(mpmath.mpf(t) / num_steps) / f(mpmath.mpf(t - 1) / num_steps),
                     mpmath.mpf(0.999)) for t in range(1, num_steps + 1)]
    assert_correctly_rounded(schedule, reference_tables(betas))
    # ᾱ is the product of 1-β, so the clipping shows: f(1)/f(0) = 0 but ᾱ_T > 0.
    assert schedule.alpha_bar[-1] > 0
    np.testing.assert_allclose(schedule.alpha_bar[-1], schedule.alpha_bar[-2] * 0.001, rtol=1e-14)
    clipped = cosine(num_steps, max_beta=0.5)
    assert clipped.one_minus_alpha.max() == 0.5


# --------------------------------------------------------------------------- user arrays


def test_dyadic_user_schedules_are_exact():
    want = {
        "alpha": [0.5, 0.75],
        "one_minus_alpha": [0.5, 0.25],
        "alpha_bar": [0.5, 0.375],
        "one_minus_alpha_bar": [0.5, 0.625],
        "alpha_minus_alpha_bar": [0.0, 0.375],
    }
    for schedule in (from_betas([0.5, 0.25]), from_alphas([0.5, 0.75]),
                     from_alpha_bar(np.array([0.5, 0.375]))):
        assert schedule.kind == "custom"
        for name, values in want.items():
            np.testing.assert_array_equal(getattr(schedule, name), values, err_msg=name)


def test_from_betas_round_trip():
    original = two_phase(1000)
    rebuilt = from_betas(original.one_minus_alpha)
    assert rebuilt.params == {"from": "betas"}
    # float64 inputs are taken as exact, so β comes back bit for bit ...
    np.testing.assert_array_equal(rebuilt.one_minus_alpha, original.one_minus_alpha)
    np.testing.assert_array_equal(rebuilt.alpha, original.alpha)
    # ... and the derived tables move only by the half-ulp input rounding of each β
    # (relative perturbation of 1-ᾱ_t ≤ u, of ᾱ_t ≤ u·Σβ ≈ 28u, plus the output rounding).
    np.testing.assert_allclose(rebuilt.one_minus_alpha_bar, original.one_minus_alpha_bar,
                               rtol=4 * UNIT_ROUNDOFF, atol=0)
    np.testing.assert_allclose(rebuilt.alpha_bar, original.alpha_bar, rtol=40 * UNIT_ROUNDOFF,
                               atol=0)


def test_from_alphas_round_trip_is_as_good_as_the_input_allows():
    original = linear(1000)
    rebuilt = from_alphas(original.alpha)
    assert rebuilt.params == {"from": "alphas"}
    np.testing.assert_array_equal(rebuilt.alpha, original.alpha)
    beta = original.one_minus_alpha
    # α is rounded to float64 (error ≤ u·α), so β = 1-α can be off by u·α/β relative, + rounding.
    bound = UNIT_ROUNDOFF * (original.alpha / beta + 1) * 1.01
    rel = np.abs(rebuilt.one_minus_alpha - beta) / beta
    assert np.all(rel <= bound)


def test_from_alpha_bar_reproduces_betas_where_well_conditioned():
    original = two_phase(1000)
    rebuilt = from_alpha_bar(original.alpha_bar)
    assert rebuilt.params == {"from": "alpha_bar"}
    # ᾱ_t from float64 products are the exact inputs, so ᾱ comes back bit for bit.
    np.testing.assert_array_equal(rebuilt.alpha_bar, original.alpha_bar)
    with mpmath.workdps(original.dps):
        beta_exact = np.array([float(b) for b in original.mp_one_minus_alpha()])
    beta = rebuilt.one_minus_alpha
    rel = np.abs(beta - beta_exact) / beta_exact
    # ᾱ'_t = ᾱ_t(1+δ_t), |δ| ≤ u  ⇒  β'_t - β_t = (1-β_t)(δ_{t-1}-δ_t)/(1+δ_{t-1}): the
    # condition number is 2(1-β)/β (δ_0 = 0 at t = 1), plus one rounding of the output.
    cond = 2 * (1 - beta_exact) / beta_exact
    cond[0] /= 2
    assert np.all(rel <= UNIT_ROUNDOFF * (cond + 1) * 1.01)
    flat = beta_exact >= 0.9 * beta_exact.max()  # β ≈ 0.028: condition number ≈ 70
    assert flat.sum() > 100
    assert rel[flat].max() <= 1e-14
    # ... and where β_t ~ 1e-8 it is (rightly) much worse: it is the input that is ill-posed.
    assert rel[1] > 1e-12


# --------------------------------------------------------------------------- mp values


@pytest.mark.parametrize("t", [1, 2, 3, 500, 1000])
def test_mp_values_are_consistent(t):
    schedule = two_phase(1000)
    values = schedule.mp_values(t)
    assert values.t == t
    with mpmath.workdps(schedule.dps):
        tol = mpmath.mpf(10) ** -(schedule.dps - 5)
        assert values.alpha + values.one_minus_alpha == 1
        assert abs(values.alpha_bar + values.one_minus_alpha_bar - 1) <= tol
        assert abs(values.alpha - values.alpha_bar - values.alpha_minus_alpha_bar) <= tol
        product = mpmath.fprod(1 - beta for beta in schedule.mp_one_minus_alpha()[:t])
        assert abs(values.alpha_bar / product - 1) <= tol
        assert values.alpha_bar == schedule.mp_alpha_bar()[t - 1]
        assert values.one_minus_alpha_bar == schedule.mp_one_minus_alpha_bar()[t - 1]
        assert values.one_minus_alpha == schedule.mp_one_minus_alpha()[t - 1]
    for name in TABLES:
        assert float(getattr(values, name)) == getattr(schedule, name)[t - 1], name
    with pytest.raises(dataclasses.FrozenInstanceError):
        values.t = 2  # type: ignore[misc]


@pytest.mark.parametrize(("t", "match"), [(0, "`t` must be >= 1"), (11, "`t` must be <= 10"),
                                          (2.5, "`t` must be an integer")])
def test_mp_values_rejects_bad_steps(t, match):
    with pytest.raises(InvalidParameterError, match=match):
        two_phase(10).mp_values(t)


def test_tables_are_read_only_and_schedule_is_frozen():
    for schedule in (two_phase(100), linear(100), cosine(100), from_betas([0.1, 0.2])):
        for name in TABLES:
            table = getattr(schedule, name)
            assert not table.flags.writeable
            with pytest.raises(ValueError, match="read-only"):
                table[0] = 0.5
        with pytest.raises(dataclasses.FrozenInstanceError):
            schedule.num_steps = 3  # type: ignore[misc]


def test_describe_and_to_dict_name_the_index_convention():
    schedule = two_phase(100, index="li_yan")
    assert schedule.describe() == "two_phase(T=100, c0=2.0, c1=4.0, index=li_yan; dps=50)"
    assert schedule.to_dict() == {"kind": "two_phase", "num_steps": 100,
                                  "params": {"c0": 2.0, "c1": 4.0, "index": "li_yan"},
                                  "dps": 50}
    assert two_phase(100).params["index"] == "seed"  # the 'seed' index convention (exponent t) is the default
    assert TWO_PHASE_INDEX_CONVENTIONS == ("seed", "li_yan")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"num_steps": 1}, InvalidParameterError, r"`num_steps` must be >= 2 \(got 1\)"),
    ({"num_steps": 0}, InvalidParameterError, "`num_steps` must be >= 2"),
    ({"num_steps": -5}, InvalidParameterError, "`num_steps` must be >= 2"),
    ({"num_steps": 2.5}, InvalidParameterError, r"`num_steps` must be an integer \(got 2.5\)"),
    ({"num_steps": "10"}, InvalidParameterError, "`num_steps` must be an integer"),
    ({"num_steps": True}, InvalidParameterError, "`num_steps` must be an integer"),
    ({"num_steps": 10**8}, InvalidParameterError, "`num_steps` must be <= 10000000"),
    ({"c0": 0.0}, InvalidParameterError, r"`c0` must be > 0.0 \(got 0.0\)"),
    ({"c0": -1.0}, InvalidParameterError, "`c0` must be > 0"),
    ({"c0": float("nan")}, NonFiniteError, "`c0` must be finite"),
    ({"c1": 0.0}, InvalidParameterError, "`c1` must be > 0"),
    ({"c1": -2.0}, InvalidParameterError, "`c1` must be > 0"),
    ({"c1": float("inf")}, NonFiniteError, "`c1` must be finite"),
    ({"c1": "4"}, InvalidParameterError, "`c1` must be a real number"),
    ({"num_steps": 10, "c1": 10.0}, InvalidParameterError, r"`c1` must satisfy c1·log\(T\)/T < 1"),
    ({"num_steps": 1000, "c1": 1000.0}, InvalidParameterError, "`c1` must satisfy"),
    ({"index": "ho"}, InvalidParameterError,
     r"`index` must be one of 'seed', 'li_yan' \(got 'ho'\)"),
    ({"dps": 10}, InvalidParameterError, r"`dps` must be >= 20 \(got 10\)"),
    ({"dps": 15.5}, InvalidParameterError, "`dps` must be an integer"),
])
def test_two_phase_rejects_bad_input(kwargs, error, match):
    kwargs = {"num_steps": 100, **kwargs}
    with pytest.raises(error, match=match):
        two_phase(**kwargs)


def test_c1_log_T_over_T_at_the_boundary_is_rejected():
    num_steps = 100
    c1 = num_steps / math.log(num_steps)
    while c1 * math.log(num_steps) / num_steps < 1.0:  # smallest c1 with c1·log T/T ≥ 1
        c1 = math.nextafter(c1, math.inf)
    with pytest.raises(InvalidParameterError, match="`c1` must satisfy"):
        two_phase(num_steps, c1=c1)


@pytest.mark.parametrize(("factory", "kwargs", "match"), [
    (linear, {"beta_start": 0.0}, "`beta_start` must be > 0"),
    (linear, {"beta_end": 1.0}, "`beta_end` must be < 1"),
    (linear, {"num_steps": 10, "rescale": True}, "`rescale` moves the end points outside"),
    (linear, {"num_steps": 1}, "`num_steps` must be >= 2"),
    (linear, {"dps": 5}, "`dps` must be >= 20"),
    (cosine, {"s": 0.0}, "`s` must be > 0"),
    (cosine, {"max_beta": 1.0}, "`max_beta` must be < 1"),
    (cosine, {"num_steps": "100"}, "`num_steps` must be an integer"),
])
def test_linear_and_cosine_reject_bad_input(factory, kwargs, match):
    kwargs = {"num_steps": 100, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        factory(**kwargs)


BAD_ARRAYS = [
    # (factory, values, error, match)
    (from_alphas, [0.0, 0.5], InvalidParameterError, r"`alphas` must lie in \(0, 1\) \(entry 0"),
    (from_alphas, [0.5, 1.0], InvalidParameterError, r"`alphas` must lie in \(0, 1\) \(entry 1"),
    (from_alphas, [0.5, 1.2], InvalidParameterError, r"`alphas` must lie in \(0, 1\)"),
    (from_alphas, [-0.1, 0.5], InvalidParameterError, r"`alphas` must lie in \(0, 1\)"),
    (from_alphas, [0.5, float("nan")], NonFiniteError, r"`alphas` must be finite \(entry 1"),
    (from_alphas, [0.5], InvalidParameterError, "`alphas` must have at least 2 entries"),
    (from_betas, [0.0, 0.5], InvalidParameterError, r"`betas` must lie in \(0, 1\)"),
    (from_betas, [0.5, 1.0], InvalidParameterError, r"`betas` must lie in \(0, 1\)"),
    (from_betas, [1.2, 0.5], InvalidParameterError, r"`betas` must lie in \(0, 1\)"),
    (from_betas, [-0.1, 0.5], InvalidParameterError, r"`betas` must lie in \(0, 1\)"),
    (from_betas, [0.1, float("inf")], NonFiniteError, "`betas` must be finite"),
    (from_betas, [float("-inf"), 0.1], NonFiniteError, r"`betas` must be finite \(entry 0"),
    (from_betas, [], InvalidParameterError,
     r"`betas` must have at least 2 entries \(T ≥ 2; got 0\)"),
    (from_betas, "0.1", InvalidParameterError, "`betas` must be a 1-D array of numbers"),
    (from_betas, 0.1, InvalidParameterError, "`betas` must be a 1-D array of numbers"),
    (from_betas, [0.1, "x"], InvalidParameterError, r"`betas` must contain only real numbers"),
    (from_alpha_bar, [0.9, 0.95], InvalidParameterError, "`alpha_bar` must be strictly decreasing"),
    (from_alpha_bar, [0.9, 0.9], InvalidParameterError, "`alpha_bar` must be strictly decreasing"),
    (from_alpha_bar, [0.9, 0.5, 0.6], InvalidParameterError,
     r"`alpha_bar` must be strictly decreasing \(entry 2, t=3"),
    (from_alpha_bar, [1.0, 0.5], InvalidParameterError, r"`alpha_bar` must lie in \(0, 1\)"),
    (from_alpha_bar, [0.5, 0.0], InvalidParameterError, r"`alpha_bar` must lie in \(0, 1\)"),
    (from_alpha_bar, [0.5, -0.1], InvalidParameterError, r"`alpha_bar` must lie in \(0, 1\)"),
    (from_alpha_bar, [0.5, float("nan")], NonFiniteError, "`alpha_bar` must be finite"),
    (from_alpha_bar, [0.5], InvalidParameterError, "`alpha_bar` must have at least 2 entries"),
]


@pytest.mark.parametrize(("factory", "values", "error", "match"), BAD_ARRAYS,
                         ids=[f"{f.__name__}-{i}" for i, (f, *_rest) in enumerate(BAD_ARRAYS)])
def test_user_arrays_reject_bad_input(factory, values, error, match):
    with pytest.raises(error, match=match):
        factory(values)


@pytest.mark.parametrize("factory", [from_betas, from_alphas, from_alpha_bar])
def test_user_arrays_reject_small_dps(factory):
    with pytest.raises(InvalidParameterError, match="`dps` must be >= 20"):
        factory([0.5, 0.25], dps=19)


def test_schedule_that_underflows_float64_is_rejected():
    with pytest.raises(InvalidParameterError, match="the schedule underflows"):
        from_betas([0.9] * 400)
