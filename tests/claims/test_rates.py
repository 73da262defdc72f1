"""Claims RATE-TV, RATE-LY and RATE-KL: measured laws, power, boundary controls, helpers.

Verdicts are read from the session's quick-profile run (``quick_results`` in tests/conftest.py),
so these tests add no claim runs of their own except one cheap determinism re-run.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from theorycheck.claims import _rate_experiments as rx
from theorycheck.claims.rates import DECLARATIONS, register
from theorycheck.claims.registry import Registry
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError
from theorycheck.experiments import measure
from theorycheck.results import ErrorKind
from theorycheck.schedules import two_phase

CLAIM_IDS = ("RATE-TV", "RATE-LY", "RATE-KL")


def _claim(results: dict[str, Any], claim_id: str) -> dict[str, Any]:
    return next(c for c in results["claims"] if c["id"] == claim_id)


def _judgements(result: dict[str, Any], kind: str, scan: str = "T") -> list[dict[str, Any]]:
    return [j for j in result["details"]["judgements"] if j["kind"] == kind and j["scan"] == scan]


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_claim_passes_with_power(quick_results: dict[str, Any], claim_id: str) -> None:
    claim = _claim(quick_results, claim_id)
    result = claim["result"]
    assert claim["claim_verdict"] == "PASS", result["summary"]
    assert all(j["verdict"] == "PASS" for j in result["details"]["judgements"])
    # Power on every curve: the same predictions FAIL on the pure law half a power slower.
    power = _judgements(result, "rejects_slower_law")
    assert power and all("FAIL" in j["evidence"]["alternative_verdicts"].values() for j in power)
    # A resolution below the half power separating the bound from the next-slower law.
    for j in _judgements(result, "exponent") + _judgements(result, "ratio_growth"):
        assert j["resolution"] is not None and j["resolution"] < 1.2, j


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_controls_fail(quick_results: dict[str, Any], claim_id: str) -> None:
    claim = _claim(quick_results, claim_id)
    assert claim["negative_control_verdict"] == "FAIL"
    assert claim["boundary_control_verdict"] == "FAIL"
    boundary = claim["boundary_control_result"]
    # The boundary control is one T-scan of the pushed sampler, and it fails the law itself.
    assert all("+δE[x0|y]" in p["params"]["design"] for p in boundary["points"])
    assert "FAIL" in {j["verdict"] for j in _judgements(boundary, "ratio_growth")
                      + _judgements(boundary, "exponent")}
    assert all("[" in p["params"]["design"] for p in claim["negative_control_result"]["points"])


def test_tv_law_is_log_t_over_t(quick_results: dict[str, Any]) -> None:
    """The measured law behind RATE-TV: exponent -1 with log T held, TV·T/log T flat."""
    result = _claim(quick_results, "RATE-TV")["result"]
    exponents = _judgements(result, "exponent")
    assert len(exponents) == 4
    for j in exponents:
        fit = j["evidence"]["fit"]
        assert -1.05 < fit["value"] < -0.9, j["measured"]
        assert fit["ci_high"] - fit["ci_low"] < 0.1
        assert 0.8 < j["evidence"]["log_exponent"]["value"] < 1.4
    for j in _judgements(result, "ratio_growth"):
        assert j["evidence"]["growth"]["growth"] < 1.2
    assert result["measured"].startswith("TV ≈ C·k·log T/T: exponent")


def test_kl_law_and_additivity(quick_results: dict[str, Any]) -> None:
    result = _claim(quick_results, "RATE-KL")["result"]
    for j in _judgements(result, "exponent"):
        assert 1.8 < j["evidence"]["log_exponent"]["value"] < 2.6  # KL ≈ C·log²T/T²
    k_scan = {p["params"]["k"]: p["estimates"]["kl"]["value"] for p in result["points"]
              if "k_scan" in p["params"]}
    assert sorted(k_scan) == [1, 2, 3, 4]
    for k, value in k_scan.items():
        assert value == pytest.approx(k * k_scan[1], rel=1e-12)


def test_li_yan_ratio_to_bound_is_reported(quick_results: dict[str, Any]) -> None:
    details = _claim(quick_results, "RATE-LY")["result"]["details"]
    ratio = details["ratio_to_bound"]
    assert ratio["law"] == "k^2·log^3 T/√T"
    assert 0 < ratio["min"] < ratio["max"]


def test_rate_claims_are_declarations() -> None:
    """A rate claim is ~80 lines of data; the framework supplies the check."""
    registry = Registry()
    register(registry)
    assert registry.ids() == CLAIM_IDS
    for decl, claim in zip(DECLARATIONS, registry.claims(), strict=True):
        described = claim.describe()
        json.dumps(described)
        assert described["boundary_control"] == decl.boundary_text
        assert set(described["grids"]) == {"quick", "full"}
        assert len(decl.t_predictions()) == 3 and len(decl.k_predictions()) == 2
    with pytest.raises(InvalidParameterError, match="already registered"):
        register(registry)


def test_memoised_k1_point_equals_a_fresh_measurement() -> None:
    spec = rx.PointSpec(target=rx.MIXTURE, intrinsic_dim=1, design="ddim", num_steps=25)
    tv, kl = rx.measure_point(spec, np.random.default_rng(123))
    fresh = measure(rx._build_target(spec), make_design("ddim", two_phase(25)),
                    rng=np.random.default_rng(7))
    assert (tv, kl) == (fresh.values["tv"], fresh.values["kl"])
    assert tv.error_kind is ErrorKind.TOLERANCE


def test_tweedie_push_of_zero_is_the_exact_sampler_and_decays_as_declared() -> None:
    fault = rx.Fault(kind="tweedie_push", size=-0.1, decay=0.5)
    assert fault.delta(25) == pytest.approx(-0.02)
    assert fault.label() == "+δE[x0|y], δ=-0.1·T^-0.5"
    base = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddim", num_steps=25)
    zero = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddim", num_steps=25,
                        fault=rx.Fault(kind="tweedie_push", size=0.0))
    pushed = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddim", num_steps=25,
                          fault=fault)
    exact = rx.measure_point(base, np.random.default_rng(0))
    assert rx.measure_point(zero, np.random.default_rng(0))[0].value == pytest.approx(
        exact[0].value, rel=1e-9)
    assert rx.measure_point(pushed, np.random.default_rng(0))[0].value > exact[0].value


@pytest.mark.parametrize(("kind", "size"), [("sigma_sq_factor", 1.5), ("eta_factor", 1.1),
                                            ("sigma_sq_offset", 4e-3)])
def test_faults_change_exactly_the_named_coefficient(kind: str, size: float) -> None:
    fault = rx.Fault(kind=kind, size=size)
    spec = rx.PointSpec(target=rx.GAUSSIAN, intrinsic_dim=1, design="ddpm_posterior",
                        num_steps=30, fault=fault)
    wrong = rx._build_design(spec)
    right = make_design("ddpm_posterior", two_phase(30))
    if kind == "eta_factor":
        np.testing.assert_allclose(wrong.eta, size * right.eta, rtol=1e-15)
        np.testing.assert_array_equal(wrong.sigma_sq, right.sigma_sq)
    elif kind == "sigma_sq_factor":
        np.testing.assert_allclose(wrong.sigma_sq, size * right.sigma_sq, rtol=1e-15)
        np.testing.assert_array_equal(wrong.eta, right.eta)
    else:
        np.testing.assert_allclose(wrong.sigma_sq[1:], right.sigma_sq[1:] + size, rtol=1e-15)
        assert wrong.sigma_sq[0] == right.sigma_sq[0]  # σ_1 is never used by the sampler
    assert spec.design_label() == f"ddpm_posterior[{fault.label()}]"


def test_fault_kind_is_validated() -> None:
    with pytest.raises(InvalidParameterError, match=r"`kind` must be one of"):
        rx.Fault(kind="score_bias", size=1.0).label()


def test_full_grid_allowance_is_stated_in_log_powers() -> None:
    """The growth allowance is that of log^{1/2} T over each grid (not a free number)."""
    decl = DECLARATIONS[0]
    growth = decl.t_predictions()[1]
    for profile, grids in decl.grids.items():
        x = np.asarray(grids.num_steps, dtype=float)
        expected = math.sqrt(math.log(x.max()) / math.log(x.min()))
        assert growth.max_growth(x) == pytest.approx(expected), profile
