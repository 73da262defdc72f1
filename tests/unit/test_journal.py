"""Task journal and resumable campaigns: resume after SIGKILL, mismatches, corrupt lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import theorycheck
from theorycheck.claims import default_registry
from theorycheck.claims.false_alarms import count_false_alarms
from theorycheck.cli import main
from theorycheck.journal import Journal, JournalEntry, JournalError, JournalWarning

ROOT = Path(__file__).resolve().parents[2]
SEEDS = list(range(6))


def _entry(seed: int, variant: str = "claim") -> JournalEntry:
    return JournalEntry(claim="DECOMP", variant=variant, seed=seed, verdict="PASS",
                        digest="ab" * 32, seconds=0.1)


def _counts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "seconds"} for c in doc["claims"]]


def test_entries_survive_and_resume_skips_them(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal.create(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]) as j:
        j.append(_entry(0))
        j.append(_entry(0, "negative_control"))
    with Journal.resume(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]) as j:
        assert len(j) == 2 and j.get("DECOMP", "claim", 0) == _entry(0)
        assert j.get("DECOMP", "claim", 1) is None
        j.append(_entry(1))
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(header)["theorycheck"] == theorycheck.__version__
    assert len(lines) == 3


@pytest.mark.parametrize(("kwargs", "which"), [
    ({"profile": "full", "seeds": SEEDS}, "profile 'quick', this run has 'full'"),
    ({"profile": "quick", "seeds": SEEDS[:4]}, "seed set"),
])
def test_a_journal_of_another_run_is_refused(tmp_path: Path, kwargs: dict[str, Any],
                                             which: str) -> None:
    path = tmp_path / "j.jsonl"
    Journal.create(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]).close()
    with pytest.raises(JournalError, match=which):
        Journal.resume(path, claims=["DECOMP"], **kwargs)


def test_a_journal_of_another_version_is_refused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "j.jsonl"
    Journal.create(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]).close()
    monkeypatch.setattr(theorycheck, "__version__", "9.9.9")
    with pytest.raises(JournalError, match=r"theorycheck version '0\.1\.0', this run has '9\.9\.9'"):
        Journal.resume(path, profile="quick", seeds=SEEDS, claims=["DECOMP"])


def test_corrupt_lines_are_skipped_with_a_warning_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal.create(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]) as j:
        j.append(_entry(0))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"claim": "DECOMP", "variant": "claim", "seed": 1}\n')  # line 3
        handle.write(json.dumps(_entry(2).to_dict()) + "\n")                   # line 4
        handle.write('{"claim": "DECOMP", "vari')                              # torn, line 5
    with pytest.warns(JournalWarning) as record:
        j = Journal.resume(path, profile="quick", seeds=SEEDS, claims=["DECOMP"])
    j.close()
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert "line 3 is corrupt (field `verdict`" in messages[0]
    assert "line 5 is corrupt" in messages[1]
    assert sorted(k[2] for k in j._entries) == [0, 2]
    # compaction: the file now holds the header and the two valid lines only
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


@pytest.mark.parametrize(("text", "match"), [("", "not a theorycheck journal"),
                                             ('{"kind": "x"}\n', "not a theorycheck journal")])
def test_not_a_journal(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JournalError, match=match):
        Journal.resume(path, profile="quick", seeds=SEEDS, claims=["DECOMP"])
    with pytest.raises(JournalError, match="cannot be read"):
        Journal.resume(tmp_path / "missing.jsonl", profile="quick", seeds=SEEDS, claims=[])


#: Tasks per seed of DECOMP: claim, negative control and boundary control.
_VARIANTS = len(default_registry().get("DECOMP").variants)


def test_cli_journal_options(tmp_path: Path, capsys: Any) -> None:
    j = str(tmp_path / "j.jsonl")
    assert main(["false-alarms", "--journal", j, "--resume", j]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["false-alarms", "--seeds", "1"]) == 2
    assert "`--seeds` must be at least 2" in capsys.readouterr().err


def test_interrupted_campaign_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    # injected failure: Ctrl-C after the 5th finished task, then --resume
    uninterrupted = count_false_alarms(seeds=SEEDS, ids=["DECOMP"])
    path = tmp_path / "j.jsonl"
    seen: list[str] = []

    def interrupt(message: str) -> None:
        seen.append(message)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with Journal.create(path, profile="quick", seeds=SEEDS, claims=["DECOMP"]) as journal, \
            pytest.raises(KeyboardInterrupt):
        count_false_alarms(seeds=SEEDS, ids=["DECOMP"], journal=journal, progress=interrupt)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1 + 5
    out = tmp_path / "fa.json"
    assert main(["false-alarms", "--seeds", "6", "--claims", "DECOMP", "--resume", str(path),
                 "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert _counts(doc) == [{k: v for k, v in c.to_dict().items() if k != "seconds"}
                            for c in uninterrupted]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1 + _VARIANTS * len(SEEDS)


def test_resume_after_sigkill_at_a_random_point(tmp_path: Path) -> None:
    """A real ``theorycheck false-alarms`` process killed with SIGKILL, then resumed."""
    seeds = 8
    journal, out = tmp_path / "j.jsonl", tmp_path / "fa.json"
    kill_after = int(np.random.default_rng(13).integers(2, _VARIANTS * seeds - 2))  # finished tasks
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    argv = [sys.executable, "-m", "theorycheck", "false-alarms", "--seeds", str(seeds),
            "--claims", "DECOMP", "-o", str(out)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen([*argv, "--journal", str(journal)], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.exists() and len(journal.read_bytes().splitlines()) > kill_after:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, log.read_text(encoding="utf-8")
    assert not out.exists()
    done = len(journal.read_bytes().splitlines()) - 1
    assert kill_after <= done < _VARIANTS * seeds  # killed part-way
    assert main(["false-alarms", "--seeds", str(seeds), "--claims", "DECOMP", "--resume",
                 str(journal), "-o", str(out)]) == 0
    resumed = json.loads(out.read_text(encoding="utf-8"))
    fresh = count_false_alarms(seeds=range(seeds), ids=["DECOMP"])
    assert _counts(resumed) == [{k: v for k, v in c.to_dict().items() if k != "seconds"}
                                for c in fresh]
