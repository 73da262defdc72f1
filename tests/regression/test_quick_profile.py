"""The claim catalogue at the quick profile: every claim PASSes, every negative control FAILs,
every declared boundary control FAILs, and the results agree with the committed baseline
(``reports/baseline.json``).

The quick profile runs once per test session (the ``quick_results`` fixture of
tests/conftest.py) and the parametrized tests read its results, so CI pays for the catalogue
once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from theorycheck.claims import default_registry
from theorycheck.claims.io import load_results
from theorycheck.compare import compare_results

BASELINE = Path(__file__).resolve().parents[2] / "reports" / "baseline.json"
SEED = 0  # the baseline's seed; see reports/baseline.json environment
REGISTRY = default_registry()
CLAIM_IDS = REGISTRY.ids()
BOUNDARY_IDS = tuple(c.id for c in REGISTRY.claims() if c.boundary_control)


def _claim(results: dict[str, Any], claim_id: str) -> dict[str, Any]:
    return next(c for c in results["claims"] if c["id"] == claim_id)


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_claim_passes(quick_results: dict[str, Any], claim_id: str) -> None:
    claim = _claim(quick_results, claim_id)
    assert claim["claim_verdict"] == "PASS", claim["result"]["summary"]


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_negative_control_fails(quick_results: dict[str, Any], claim_id: str) -> None:
    claim = _claim(quick_results, claim_id)
    assert claim["negative_control_verdict"] == "FAIL", claim["negative_control_result"]["summary"]


@pytest.mark.parametrize("claim_id", BOUNDARY_IDS)
def test_boundary_control_fails(quick_results: dict[str, Any], claim_id: str) -> None:
    claim = _claim(quick_results, claim_id)
    assert claim["boundary_control_verdict"] == "FAIL", claim["boundary_control_result"]["summary"]
    assert claim["boundary_control"] == REGISTRY.get(claim_id).boundary_control


def test_matches_baseline(quick_results: dict[str, Any]) -> None:
    baseline = load_results(BASELINE, argument="baseline")
    assert baseline["environment"]["seed"] == SEED
    comparison = compare_results(baseline, quick_results)
    assert comparison.ok, "\n" + comparison.table(only_failures=True)
