"""Shards of one verify run / false-alarm campaign merge into the document one run would give."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from theorycheck.claims.false_alarms import merge_false_alarms
from theorycheck.claims.io import load_results, merge_results
from theorycheck.cli import main
from theorycheck.errors import InvalidParameterError, SpecError

BASELINE = Path(__file__).resolve().parents[2] / "reports" / "baseline.json"


def _shards() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    full = load_results(BASELINE)
    ids = [c["id"] for c in full["claims"]]
    first, second = ids[::2], ids[1::2]

    def shard(keep: list[str], wall: float) -> dict[str, Any]:
        return {**full, "claims": [c for c in full["claims"] if c["id"] in keep],
                "timing": {**{k: v for k, v in full["timing"].items() if k in keep},
                           "total_wall_seconds": wall}}

    return full, shard(second, 10.0), shard(first, 20.0)


def test_merged_shards_equal_the_single_run_up_to_timing() -> None:
    full, a, b = _shards()
    order = [c["id"] for c in full["claims"]]
    merged = merge_results([a, b], order=order)
    assert [c["id"] for c in merged["claims"]] == order
    assert merged["claims"] == full["claims"]
    assert merged["environment"] == full["environment"]
    assert merged["timing"]["total_wall_seconds"] == 30.0
    assert merged["timing"]["shards"] == 2
    assert {k: v for k, v in merged["timing"].items() if k not in ("total_wall_seconds",
                                                                   "shards")} == {
        k: v for k, v in full["timing"].items() if k != "total_wall_seconds"}


def test_shards_must_share_the_environment_and_not_overlap() -> None:
    _, a, b = _shards()
    other_seed = {**b, "environment": {**b["environment"], "seed": 7}}
    with pytest.raises(SpecError, match=r"environment\.seed"):
        merge_results([a, other_seed])
    with pytest.raises(SpecError, match=a["claims"][0]["id"]):
        merge_results([a, a])
    with pytest.raises(SpecError, match="at least one"):
        merge_results([])


def test_report_cli_merges_result_shards(tmp_path: Path) -> None:
    _, a, b = _shards()
    paths = []
    for i, doc in enumerate((a, b)):
        paths.append(tmp_path / f"shard{i}.json")
        paths[-1].write_text(json.dumps(doc))
    out = tmp_path / "report.md"
    assert main(["report", *map(str, paths), "-o", str(out)]) == 0
    text = out.read_text()
    assert "sum over 2 shards" in text
    for claim in a["claims"] + b["claims"]:
        assert f"## {claim['id']}" in text


def _alarm_doc(claims: list[str], seeds: int = 50) -> dict[str, Any]:
    return {"kind": "theorycheck-false-alarms", "profile": "quick", "seeds": seeds,
            "wall_seconds": 5.0, "rule": "r",
            "claims": [{"claim": c, "seeds": seeds, "seed_independent": True, "fail": 0,
                        "inconclusive": 0, "control_not_fail": 0} for c in claims]}


def test_false_alarm_shards_merge_in_registry_order() -> None:
    merged = merge_false_alarms([_alarm_doc(["B"]), _alarm_doc(["A", "C"])],
                                order=["A", "B", "C"])
    assert [c["claim"] for c in merged["claims"]] == ["A", "B", "C"]
    assert merged["wall_seconds"] == 10.0 and merged["shards"] == 2
    with pytest.raises(InvalidParameterError, match="seeds"):
        merge_false_alarms([_alarm_doc(["A"]), _alarm_doc(["B"], seeds=10)])
    with pytest.raises(InvalidParameterError, match="'A'"):
        merge_false_alarms([_alarm_doc(["A"]), _alarm_doc(["A"])])
