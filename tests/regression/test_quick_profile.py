"""The claim catalogue at the quick profile: every claim PASSes, every negative control FAILs,
and the results agree with the committed baseline (``reports/baseline.json``).

The quick profile runs once per test session (a session fixture) and the parametrized tests read
its results, so CI pays for the catalogue once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from theorycheck.claims import default_registry
from theorycheck.claims.io import load_results
from theorycheck.claims.runner import run_claims
from theorycheck.compare import compare_results

BASELINE = Path(__file__).resolve().parents[2] / "reports" / "baseline.json"
SEED = 0  # the baseline's seed; see reports/baseline.json environment
CLAIM_IDS = default_registry().ids()


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run = run_claims(profile="quick", seed=SEED, jobs=2)
    path = tmp_path_factory.mktemp("quick") / "quick.json"
    path.write_text(json.dumps(run.to_dict()))
    return load_results(path)


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


def test_matches_baseline(quick_results: dict[str, Any]) -> None:
    baseline = load_results(BASELINE, argument="baseline")
    assert baseline["environment"]["seed"] == SEED
    comparison = compare_results(baseline, quick_results)
    assert comparison.ok, "\n" + comparison.table(only_failures=True)
