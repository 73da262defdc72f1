"""Benchmarks of the literature claims (issue 11): quick-profile CPU budget and their verdicts.

Target: each claim (check + negative control + boundary control) ≤ 20 s CPU in the quick
profile, KL-SHARP ≤ 10 s.  Each benchmark asserts the measured verdicts: all four PASS with their
negative controls (gross faults) and their boundary controls (just-barely violations, their own
``Variant.BOUNDARY`` run) FAILing (KL-SHARP
judges the k-direction only; its T-exponents are reported, and the benchmark asserts that the
reported KL decays faster than 1/T, the measured finding).
"""

from __future__ import annotations

import time

import pytest

from theorycheck.claims.runner import run_claims

EXPECTED = {"COEF-CLASS": "PASS", "DDIM-FLOOR": "PASS", "GMM-K": "PASS", "KL-SHARP": "PASS"}
BUDGET = {"KL-SHARP": 10.0}


@pytest.mark.parametrize("claim_id", sorted(EXPECTED))
def test_literature_claim_quick_budget(benchmark, claim_id: str) -> None:  # type: ignore[no-untyped-def]
    cpu: list[float] = []

    def run() -> dict:  # type: ignore[type-arg]
        start = time.process_time()
        out = run_claims(ids=[claim_id], profile="quick", seed=0).to_dict()["claims"][0]
        cpu.append(time.process_time() - start)
        return out

    result = benchmark.pedantic(run, rounds=1, iterations=1)
    assert result["claim_verdict"] == EXPECTED[claim_id], result["result"]["summary"]
    assert result["negative_control_verdict"] == "FAIL", result["negative_control_result"]
    assert result["boundary_control_verdict"] == "FAIL", result["boundary_control_result"]
    budget = BUDGET.get(claim_id, 20.0)
    assert cpu[0] <= budget, f"{claim_id}: {cpu[0]:.1f} s CPU in the quick profile (≤ {budget:g})"
    if claim_id == "KL-SHARP":
        reported = result["result"]["fits"]["t_exponent_reported"]
        assert all(fit["ci_high"] < -1.2 for fit in reported.values()), reported
