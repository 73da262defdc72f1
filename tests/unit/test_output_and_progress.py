"""Atomic output files and terminal-only progress bars."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from theorycheck import _progress, cli
from theorycheck._atomic import atomic_path, atomic_write_text
from theorycheck.claims.runner import run_claims
from theorycheck.cli import main


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_exception_mid_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half of the new", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temp file left
    atomic_write_text(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_cli_json_interrupted_during_the_rename_keeps_the_old_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    target = tmp_path / "v.json"
    target.write_text('{"old": true}\n', encoding="utf-8")

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    assert main(["verify", "--claims", "DECOMP", "--json", str(target)]) == 130
    assert json.loads(target.read_text(encoding="utf-8")) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.json"]
    assert "interrupted" in capsys.readouterr().err


def test_report_markdown_and_figures_are_written_atomically(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    from theorycheck import report

    results = run_claims(ids=["DECOMP"]).to_dict()
    out = tmp_path / "r.md"
    report.write_report(results, out)
    pngs = sorted(tmp_path.glob("*.png"))
    assert pngs and out.exists()
    before = {p: p.read_bytes() for p in [out, *pngs]}
    monkeypatch.setattr(report, "render_markdown",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        report.write_report(results, out)
    assert {p: p.read_bytes() for p in before} == before
    assert not list(tmp_path.glob(".*tmp*"))


def test_progress_is_silent_without_a_terminal() -> None:
    items = [1, 2, 3]
    assert _progress.progress(items, desc="x", stream=io.StringIO()) is items
    assert _progress.task_progress("x", stream=io.StringIO()) is None


def test_progress_bar_on_a_terminal_shows_counts() -> None:
    screen = _Terminal()
    assert list(_progress.progress(range(3), desc="sweep", stream=screen)) == [0, 1, 2]
    assert "sweep:" in screen.getvalue() and "0/3" in screen.getvalue()  # count and total
    screen = _Terminal()
    with _progress.TaskProgress("verify", screen) as bar:
        run = run_claims(ids=["DECOMP"], progress=bar)  # told 3 tasks, then advanced three times
    text = screen.getvalue()
    assert "3/3" in text and "DECOMP claim" in text
    assert "DECOMP negative_control" in text and "DECOMP boundary_control" in text
    assert run.results[0].claim.id == "DECOMP"


def test_schedule_with_many_steps_prints_an_estimate_first(
        monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    calls: list[int] = []
    real = cli._schedule_pipeline

    def fake(args: argparse.Namespace, *, announce: bool = False) -> Any:
        calls.append(args.steps)
        if args.steps > 10_000:
            return ["table"], {}, True
        return real(args, announce=announce)

    monkeypatch.setattr(cli, "_schedule_pipeline", fake)
    assert main(["schedule", "--steps", "10000000"]) == 0
    err = capsys.readouterr().err
    assert calls == [1000, 4000, 10_000_000]  # two calibration runs, then the real one
    assert "T = 10,000,000 steps at 50 digits: estimated" in err
    assert err.count("\n") == 1
