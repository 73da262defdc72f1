"""Progress bars and atomic output of the sweeps, the rough scan and the audit-table writers."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from theorycheck import _progress
from theorycheck.audit import diffusers_adapters
from theorycheck.rough_targets import main as rough_main
from theorycheck.rough_targets import write_rough_scan
from theorycheck.sweep import plot_sweep, run_sweep, sweep_to_dict


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _sweep_spec() -> dict[str, Any]:
    return {"target": {"kind": "subspace_gmm", "ambient_dim": [10, 1000], "weights": [1.0],
                       "means": [[0.0, 0.0]], "covariances": [[[1.0, 0.0], [0.0, 1.0]]],
                       "basis_seed": 0},
            "schedule": {"kind": "two_phase", "steps": 20},
            "sampler": {"design": ["ddpm_posterior", "ddim"]},
            "metrics": ["tv"], "seed": 0}


def _interrupt_rename(*args: Any) -> None:
    raise KeyboardInterrupt


def test_sweep_shows_a_bar_with_counts_on_a_terminal_and_the_same_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = run_sweep(_sweep_spec())  # pytest's stderr is not a terminal: no bar
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    shown = run_sweep(_sweep_spec())
    text = screen.getvalue()
    assert "sweep:" in text and "0/4" in text  # label, count and total of the 2 × 2 cases
    assert sweep_to_dict(shown) == sweep_to_dict(quiet)


def test_sweep_plot_interrupted_keeps_the_old_figure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    result = run_sweep(_sweep_spec())
    out = tmp_path / "sweep.png"
    plot_sweep(result, out)
    old = out.read_bytes()
    assert old.startswith(b"\x89PNG")
    monkeypatch.setattr(os, "replace", _interrupt_rename)
    with pytest.raises(KeyboardInterrupt):
        plot_sweep(result, out, title="a new title")
    assert out.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.png"]  # no temp file left


def test_rough_scan_entry_point_writes_json_and_shows_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    out = tmp_path / "rough.json"
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert rough_main(["--out", str(out), "--sds", "0.1", "--steps", "10", "20",
                       "--designs", "ddim"]) == 0
    assert "rough scan (ddim):" in screen.getvalue() and "0/2" in screen.getvalue()
    docs = json.loads(out.read_text(encoding="utf-8"))
    assert [d["design"] for d in docs] == ["ddim"] and set(docs[0]["by_sd"]) == {"0.1"}
    assert json.loads(capsys.readouterr().out.split("\nwritten to")[0]) == docs


def test_rough_scan_interrupted_keeps_the_old_json(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "rough.json"
    out.write_text('{"old": true}\n', encoding="utf-8")
    monkeypatch.setattr(os, "replace", _interrupt_rename)
    with pytest.raises(KeyboardInterrupt):
        write_rough_scan(str(out), sds=(0.1,), num_steps=(10,), designs=("ddim",))
    assert json.loads(out.read_text(encoding="utf-8")) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rough.json"]


def test_rough_scan_entry_point_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "rough.json"
    assert rough_main(["--out", str(out), "--sds", "2.0", "--steps", "10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sds" in err and "Traceback" not in err
    assert not out.exists()


def test_task_reporter_is_print_off_a_terminal_and_a_bar_on_one() -> None:
    with _progress.task_reporter("x", stream=io.StringIO()) as report:
        assert report is print
    screen = _Terminal()
    with _progress.task_reporter("diffusers audit", stream=screen) as report:
        assert isinstance(report, _progress.CountedProgress)
        report.expect(2)
        report("first: adaptive")
        report("second: not adaptive")
    text = screen.getvalue()
    assert "diffusers audit:" in text and "2/2" in text and "second: not adaptive" in text


def _fake_audit_run(*, seed: int, names: Any, progress: Any) -> dict[str, Any]:
    if isinstance(progress, _progress.CountedProgress):
        progress.expect(1)
    progress("fake: adaptive (0.0 s)")
    return {"results": {}, "comparisons": {}, "expected": {}, "precision": {}, "seed": seed,
            "versions": {}, "seconds": 0.0}


def test_diffusers_audit_report_interrupted_keeps_the_old_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    # torch-free: the audit run is replaced; what is tested is the writer of ``main``.
    monkeypatch.setattr(diffusers_adapters, "run_diffusers_audit", _fake_audit_run)
    monkeypatch.setattr(diffusers_adapters, "_markdown", lambda run: "new report\n")
    report, payload = tmp_path / "audit.md", tmp_path / "audit.json"
    assert diffusers_adapters.main(["--report", str(report), "--json", str(payload)]) == 0
    assert report.read_text(encoding="utf-8") == "new report\n"
    assert json.loads(payload.read_text(encoding="utf-8"))["seed"] == 0
    assert "fake: adaptive" in capsys.readouterr().out  # not a terminal: plain lines
    report.write_text("old report\n", encoding="utf-8")
    monkeypatch.setattr(os, "replace", _interrupt_rename)
    with pytest.raises(KeyboardInterrupt):
        diffusers_adapters.main(["--report", str(report)])
    assert report.read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "audit.md"]
