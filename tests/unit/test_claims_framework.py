"""The claim framework: registry, runner determinism, verdict logic, I/O, compare, report."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

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
    default_registry,
)
from theorycheck.claims.io import load_results
from theorycheck.claims.runner import ids_from_args, run_claims
from theorycheck.cli import main
from theorycheck.compare import compare_results
from theorycheck.errors import InvalidParameterError, SpecError
from theorycheck.report import render_markdown, write_report
from theorycheck.results import ErrorKind, Estimate, Verdict


def _toy_claim(claim_id: str, claim_verdict: Verdict, control_verdict: Verdict) -> Claim:
    def check(ctx: CheckContext) -> CheckOutcome:
        verdict = claim_verdict if ctx.variant is Variant.CLAIM else control_verdict
        value = float(ctx.point_rng(0).uniform())
        point = MeasuredPoint(params={"T": 10, "k": 1},
                              estimates={"tv": Estimate(value=value, stderr=0.01, method="mc",
                                                        error_kind=ErrorKind.STDERR)})
        fit = {"slope": -1.0, "ci_low": -1.1, "ci_high": -0.9}
        return CheckOutcome(verdict=verdict, summary="toy", measured="slope -1",
                            points=(point,), fits={"tv_vs_T": {"raw": fit, "corrected": fit}},
                            details={"plots": [{"name": "tv", "x": "T", "y": "tv",
                                                "reference": {"slope": -1, "label": "1/T"}}]})

    return Claim(id=claim_id, title="toy", source=Source(paper="P", arxiv="0000.00000",
                                                         location="Thm 1"),
                 statement="toy", latex="x", quantity="q",
                 prediction=Prediction(kind="upper", value=-1.0, tolerance=0.1,
                                       rationale="toy", description="slope ≤ -1"),
                 grids={"quick": "T=10", "full": "T=10"}, negative_control="wrong",
                 check=check)


def test_registry_rejects_duplicates_and_unknown_ids() -> None:
    reg = Registry([_toy_claim("A", Verdict.PASS, Verdict.FAIL)])
    with pytest.raises(InvalidParameterError, match="already registered"):
        reg.register(_toy_claim("A", Verdict.PASS, Verdict.FAIL))
    with pytest.raises(InvalidParameterError, match="unknown claim id 'B'"):
        reg.get("B")
    with pytest.raises(InvalidParameterError, match="`claim` must be a Claim"):
        reg.register("A")  # type: ignore[arg-type]


def test_default_registry_has_stable_ids_and_fresh_objects() -> None:
    ids = default_registry().ids()
    assert ids[:2] == ("SCHED", "COEF")
    assert len(set(ids)) == len(ids)
    assert default_registry() is not default_registry()


@pytest.mark.parametrize(
    ("claim_v", "control_v", "final", "code"),
    [(Verdict.PASS, Verdict.FAIL, Verdict.PASS, 0), (Verdict.FAIL, Verdict.FAIL, Verdict.FAIL, 1),
     (Verdict.PASS, Verdict.PASS, Verdict.INCONCLUSIVE, 3),
     (Verdict.INCONCLUSIVE, Verdict.FAIL, Verdict.INCONCLUSIVE, 3)])
def test_verdict_logic(claim_v: Verdict, control_v: Verdict, final: Verdict, code: int) -> None:
    """A control that does not FAIL makes the claim INCONCLUSIVE: such a check verifies nothing."""
    run = run_claims(registry=Registry([_toy_claim("A", claim_v, control_v)]))
    assert run.results[0].verdict is final
    assert run.exit_code == code


def test_runner_jobs_do_not_change_results() -> None:
    one = run_claims(ids=["SCHED", "COEF"], jobs=1).to_dict()
    two = run_claims(ids=["SCHED", "COEF"], jobs=2).to_dict()
    one.pop("timing")
    two.pop("timing")
    assert one == two


def test_point_rng_depends_only_on_seed_claim_variant_index() -> None:
    a = CheckContext(claim_id="X", profile="quick", variant=Variant.CLAIM, seed=3)
    b = CheckContext(claim_id="X", profile="full", variant=Variant.CLAIM, seed=3)
    c = CheckContext(claim_id="X", profile="quick", variant=Variant.CONTROL, seed=3)
    assert a.point_rng(2).uniform() == b.point_rng(2).uniform()
    assert a.point_rng(2).uniform() != c.point_rng(2).uniform()
    assert a.point_rng(1).uniform() != a.point_rng(2).uniform()


def test_runner_argument_errors() -> None:
    with pytest.raises(InvalidParameterError, match="`profile` must be one of"):
        run_claims(profile="medium")
    with pytest.raises(InvalidParameterError, match="`jobs` must be >= 1"):
        run_claims(jobs=0)
    with pytest.raises(InvalidParameterError, match="`seed` must be >= 0"):
        run_claims(seed=-1)
    assert ids_from_args(["A,B", "C"]) == ["A", "B", "C"]
    assert ids_from_args(None) is None


def _results(tmp_path: Path, name: str = "r.json") -> tuple[dict[str, Any], Path]:
    run = run_claims(registry=Registry([_toy_claim("A", Verdict.PASS, Verdict.FAIL)]))
    data = json.loads(json.dumps(run.to_dict()))
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return data, path


def test_load_results_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot be read"):
        load_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_results(bad)
    data, path = _results(tmp_path)
    for mutate, match in [(lambda d: d.pop("claims"), "missing key `claims`"),
                          (lambda d: d["environment"].update(profile="slow"),
                           "profile must be one of"),
                          (lambda d: d["claims"][0].update(verdict="MAYBE"),
                           "`verdict` must be one of")]:
        broken = copy.deepcopy(data)
        mutate(broken)
        path.write_text(json.dumps(broken))
        with pytest.raises(SpecError, match=match):
            load_results(path)


def test_compare_detects_regressions(tmp_path: Path) -> None:
    data, _ = _results(tmp_path)
    assert compare_results(data, copy.deepcopy(data)).ok
    changed = copy.deepcopy(data)
    changed["claims"][0]["verdict"] = "FAIL"
    assert not compare_results(data, changed).ok
    shifted = copy.deepcopy(data)
    est = shifted["claims"][0]["result"]["points"][0]["estimates"]["tv"]
    est["value"] += 0.2  # 0.2 ≫ 4·sqrt(2)·0.01
    assert not compare_results(data, shifted).ok
    within = copy.deepcopy(data)
    within["claims"][0]["result"]["points"][0]["estimates"]["tv"]["value"] += 0.02
    assert compare_results(data, within).ok
    slope = copy.deepcopy(data)
    slope["claims"][0]["result"]["fits"]["tv_vs_T"]["raw"]["slope"] = -0.5
    assert not compare_results(data, slope).ok
    other = copy.deepcopy(data)
    other["environment"]["profile"] = "full"
    with pytest.raises(SpecError, match="compare runs of the same profile"):
        compare_results(data, other)


def test_report_renders_summary_and_figures(tmp_path: Path) -> None:
    data, _ = _results(tmp_path)
    text = render_markdown(data, figure_dir=None)
    assert "| [A](#a) |" in text and "**PASS**" in text
    out = write_report(data, tmp_path / "rep" / "v.md")
    assert out.exists()
    assert (tmp_path / "rep" / "v-a-tv.png").stat().st_size > 1000
    with pytest.raises(InvalidParameterError, match=r"`output` must be a \.md path"):
        write_report(data, tmp_path / "v.txt")


def test_cli_verify_compare_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q.json"
    assert main(["verify", "--claims", "SCHED", "--json", str(out)]) == 0
    assert main(["compare", str(out), str(out)]) == 0
    data = json.loads(out.read_text())
    data["claims"][0]["verdict"] = "FAIL"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    assert main(["compare", str(out), str(bad)]) == 1
    assert main(["report", str(out), "-o", str(tmp_path / "r.md")]) == 0
    capsys.readouterr()
    for argv in (["verify", "--claims", "NOPE"], ["verify", "--profile", "medium"],
                 ["compare", str(tmp_path / "none.json"), str(out)], ["report", str(bad) + "x"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("theorycheck: error:"), err
