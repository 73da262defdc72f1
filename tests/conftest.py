"""Shared fixtures: fail any test that leaks a global mpmath precision change; run the claim
catalogue at the quick profile once per session (``quick_results``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import mpmath
import pytest

#: The seed of the committed baseline (reports/baseline.json) and of ``quick_results``.
QUICK_SEED = 0


@pytest.fixture(scope="session")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every claim, control and boundary control at the quick profile, run once per session
    (two worker processes) and read back through the validated JSON schema."""
    from theorycheck.claims.io import load_results
    from theorycheck.claims.runner import run_claims

    run = run_claims(profile="quick", seed=QUICK_SEED, jobs=2)
    path = tmp_path_factory.mktemp("quick") / "quick.json"
    path.write_text(json.dumps(run.to_dict()))
    return load_results(path)


@pytest.fixture(autouse=True)
def _no_mpmath_precision_leak() -> Iterator[None]:
    before = mpmath.mp.prec
    yield
    after = mpmath.mp.prec
    mpmath.mp.prec = before
    assert after == before, f"test leaked an mpmath precision change ({before} -> {after} bits)"
