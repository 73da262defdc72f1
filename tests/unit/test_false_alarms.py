"""False-alarm counting: seed-independence detection, counts, the JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theorycheck.claims.false_alarms import (
    count_false_alarms,
    false_alarm_report,
    load_false_alarms,
)
from theorycheck.errors import InvalidParameterError


def test_exact_claims_are_seed_independent_and_pass_on_every_seed() -> None:
    counts = count_false_alarms(seeds=[0, 1, 2], ids=["SCHED", "ONESTEP"])
    assert [c.claim_id for c in counts] == ["SCHED", "ONESTEP"]
    for c in counts:
        assert c.seeds == 3
        assert c.seed_independent  # exact / quadrature methods: no seed enters the numbers
        assert (c.fail, c.inconclusive, c.control_not_fail) == (0, 0, 0)


def test_document_round_trips(tmp_path: Path) -> None:
    counts = count_false_alarms(seeds=[3, 4], ids=["SCHED"])
    doc = false_alarm_report(counts, profile="quick", wall_seconds=1.0)
    path = tmp_path / "fa.json"
    path.write_text(json.dumps(doc))
    assert load_false_alarms(path)["claims"][0]["claim"] == "SCHED"


@pytest.mark.parametrize("seeds", [[0], [1, 1], [0, -1]])
def test_bad_seeds_are_rejected(seeds: list[int]) -> None:
    with pytest.raises(InvalidParameterError, match="seeds"):
        count_false_alarms(seeds=seeds, ids=["SCHED"])


def test_bad_document_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"claims": []}')
    with pytest.raises(InvalidParameterError, match="false-alarm document"):
        load_false_alarms(path)
    with pytest.raises(InvalidParameterError, match="not readable"):
        load_false_alarms(tmp_path / "missing.json")


def test_report_shows_the_counts_and_cli_rejects_a_bad_file(tmp_path: Path) -> None:
    from theorycheck.cli import main
    from theorycheck.report import render_markdown

    baseline = Path(__file__).resolve().parents[2] / "reports" / "baseline.json"
    results = json.loads(baseline.read_text(encoding="utf-8"))
    doc = {"kind": "theorycheck-false-alarms", "profile": "quick", "seeds": 50,
           "wall_seconds": 12.0, "rule": "r", "notes": ["SCHED re-counted"],
           "claims": [{"claim": "SCHED", "seeds": 50, "seed_independent": True, "fail": 0,
                       "inconclusive": 1, "control_not_fail": 0}]}
    text = render_markdown(results, figure_dir=None, false_alarms=doc)
    assert "## False alarms over seeds" in text
    assert "| SCHED | yes | 0/50 | 1/50 | 0/50 |" in text
    assert "> SCHED re-counted" in text
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    out = tmp_path / "r.md"
    assert main(["report", str(baseline), "-o", str(out), "--false-alarms",
                 str(bad)]) == 2


def test_seed_dependent_claim_is_rerun_for_every_seed() -> None:
    # DECOMP draws its random points from the seed: the per-seed re-run path is exercised
    lines: list[str] = []
    (count,) = count_false_alarms(seeds=[0, 1, 2, 3], ids=["DECOMP"], progress=lines.append)
    assert not count.seed_independent
    assert len(lines) == 4 * 3  # every task is reported: 4 seeds; claim, negative and boundary
    assert sum("seed 2:" in line or "seed 3:" in line for line in lines) == 2 * 3  # re-runs
    assert (count.seeds, count.fail, count.inconclusive, count.control_not_fail) == (4, 0, 0, 0)
    assert (count.boundary_runs, count.boundary_not_fail) == (4, 0)  # power: 4/4 detected
