"""Boundary controls in the framework: the variant, the verdict rule, JSON, compare, report;
and the pushed sampler that the rate claims use as their boundary control."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from theorycheck.claims import (
    CheckContext,
    CheckOutcome,
    Claim,
    MeasuredPoint,
    Prediction,
    Registry,
    Source,
    Variant,
)
from theorycheck.claims.io import load_results
from theorycheck.claims.runner import run_claims
from theorycheck.compare import compare_results
from theorycheck.designs import make_design
from theorycheck.divergences.tweedie_push import pushed_divergences_1d
from theorycheck.errors import InvalidParameterError, SpecError
from theorycheck.report import render_markdown
from theorycheck.results import ErrorKind, Estimate, Verdict
from theorycheck.schedules import two_phase
from theorycheck.targets import SubspaceGaussianMixture


def _with_boundary(verdicts: dict[Variant, Verdict]) -> Claim:
    def check(ctx: CheckContext) -> CheckOutcome:
        point = MeasuredPoint(params={"T": 10}, estimates={"tv": Estimate(
            value=float(ctx.point_rng(0).uniform()), stderr=0.01, method="mc",
            error_kind=ErrorKind.STDERR)})
        return CheckOutcome(verdict=verdicts[ctx.variant], summary="toy", measured="m",
                            points=(point,))

    return Claim(id="B", title="toy", source=Source(paper="P", arxiv="0000.00000",
                                                    location="Thm 1"),
                 statement="toy", latex="x", quantity="q",
                 prediction=Prediction(kind="upper", value=-1.0, tolerance=0.1,
                                       rationale="toy", description="d"),
                 grids={"quick": "T=10", "full": "T=10"}, negative_control="wrong",
                 check=check, boundary_control="barely wrong")


@pytest.mark.parametrize(("boundary", "final"), [(Verdict.FAIL, Verdict.PASS),
                                                 (Verdict.PASS, Verdict.INCONCLUSIVE),
                                                 (Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE)])
def test_a_boundary_control_that_does_not_fail_makes_the_claim_inconclusive(
        boundary: Verdict, final: Verdict) -> None:
    claim = _with_boundary({Variant.CLAIM: Verdict.PASS, Variant.CONTROL: Verdict.FAIL,
                            Variant.BOUNDARY: boundary})
    assert claim.variants == (Variant.CLAIM, Variant.CONTROL, Variant.BOUNDARY)
    run = run_claims(registry=Registry([claim]))
    assert run.results[0].verdict is final
    record = run.to_dict()["claims"][0]
    assert record["boundary_control"] == "barely wrong"
    assert record["boundary_control_verdict"] == boundary.value
    assert "boundary_control_result" in record


def test_boundary_points_have_their_own_seed() -> None:
    a = CheckContext(claim_id="X", profile="quick", variant=Variant.CONTROL, seed=0)
    b = CheckContext(claim_id="X", profile="quick", variant=Variant.BOUNDARY, seed=0)
    c = CheckContext(claim_id="X", profile="quick", variant=Variant.CLAIM, seed=0)
    draws = {ctx.variant: ctx.point_rng(0).uniform() for ctx in (a, b, c)}
    assert len(set(draws.values())) == 3


def _results(tmp_path: Path) -> dict[str, Any]:
    claim = _with_boundary({Variant.CLAIM: Verdict.PASS, Variant.CONTROL: Verdict.FAIL,
                            Variant.BOUNDARY: Verdict.FAIL})
    path = tmp_path / "r.json"
    path.write_text(json.dumps(run_claims(registry=Registry([claim])).to_dict()))
    return load_results(path)


def test_compare_and_report_include_the_boundary_control(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert compare_results(results, results).ok
    assert any(d.quantity == "boundary_control_verdict" for d in
               compare_results(results, results).deltas)
    missing = copy.deepcopy(results)
    del missing["claims"][0]["boundary_control_result"]
    assert not compare_results(results, missing).ok
    text = render_markdown(results, figure_dir=None)
    assert "| boundary control |" in text and "*Boundary control:* barely wrong" in text


def test_results_file_with_a_bad_boundary_verdict_is_rejected(tmp_path: Path) -> None:
    results = _results(tmp_path)
    results["claims"][0]["boundary_control_verdict"] = "MAYBE"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(results))
    with pytest.raises(SpecError, match="`boundary_control_verdict` must be one of"):
        load_results(path)


def _gaussian() -> SubspaceGaussianMixture:
    return SubspaceGaussianMixture.create(np.array([1.0]), np.array([[0.5]]),
                                          np.array([[[0.25]]]))


def test_push_adds_an_error_that_scales_with_delta() -> None:
    design = make_design("ddpm_posterior", two_phase(20))
    exact = pushed_divergences_1d(_gaussian(), design, delta=0.0)["tv"].value
    small = pushed_divergences_1d(_gaussian(), design, delta=-0.01)["tv"].value
    large = pushed_divergences_1d(_gaussian(), design, delta=-0.02)["tv"].value
    assert exact < small < large
    # The added error is first order in δ once it dominates.
    assert 1.5 < (large - exact) / (small - exact) < 2.5


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"delta": 0.6}, r"`delta` must be <= 0.5"),
    ({"delta": 0.1, "max_num_points": 8}, r"`max_num_points` must be >= 64"),
])
def test_push_rejects_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        pushed_divergences_1d(_gaussian(), make_design("ddim", two_phase(10)), **kwargs)


def test_push_rejects_bad_target_and_design() -> None:
    with pytest.raises(InvalidParameterError, match="`factor` must be a one-dimensional"):
        pushed_divergences_1d("gauss", make_design("ddim", two_phase(10)),  # type: ignore[arg-type]
                              delta=0.1)
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        pushed_divergences_1d(_gaussian(), "ddim", delta=0.1)  # type: ignore[arg-type]
