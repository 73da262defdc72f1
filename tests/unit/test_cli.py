"""Tests of the command-line interface (``theorycheck.cli.main``): exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import theorycheck
from theorycheck.cli import main


def _reject_constant(name: str) -> float:
    raise AssertionError(f"non-standard JSON constant {name} in output")


def test_version(capsys):
    assert main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"theorycheck {theorycheck.__version__}"
    assert err == ""


def test_help_returns_zero(capsys):
    assert main(["--help"]) == 0
    assert "usage: theorycheck" in capsys.readouterr().out


def test_schedule_with_passing_constants(capsys):
    assert main(["schedule"]) == 0  # defaults: two-phase, T = 1000, (c0, c1) = (2, 4)
    out, err = capsys.readouterr()
    assert err == ""
    assert "two_phase(T=1000, c0=2.0, c1=4.0, index=seed; dps=50)" in out
    assert "[PASS]" in out and "FAIL" not in out
    assert "float32" in out and "β_2 rounds to 0" in out
    for design in ("ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta(eta=0.5)", "pf_euler"):
        assert design in out


def test_schedule_with_failing_constants(capsys):
    assert main(["schedule", "--c0", "4", "--c1", "4"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "[FAIL] ᾱ_T ≤ T^(-2)" in out
    assert "warning: these constants break a property" in out


@pytest.mark.parametrize(("argv", "status"), [
    (["schedule", "--kind", "linear"], 1),   # Ho et al.: ᾱ_T ≈ 4e-5 > T^-2
    (["schedule", "--kind", "cosine"], 0),
    (["schedule", "--steps", "200", "--index", "li_yan"], 0),
])
def test_schedule_other_kinds(capsys, argv, status):
    assert main(argv) == status
    out, err = capsys.readouterr()
    assert err == "" and "properties" in out


def test_schedule_json(tmp_path, capsys):
    path = tmp_path / "new" / "dir" / "schedule.json"
    assert main(["schedule", "--steps", "500", "--json", str(path)]) == 0
    capsys.readouterr()
    payload = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    assert set(payload) == {"schedule", "properties", "precision", "one_step_condition"}
    assert payload["schedule"] == {"kind": "two_phase", "num_steps": 500,
                                   "params": {"c0": 2.0, "c1": 4.0, "index": "seed"}, "dps": 50}
    assert payload["properties"]["passed"] is True
    assert [a["dtype"] for a in payload["precision"]["audits"]] == ["float64", "float32"]
    conditions = payload["one_step_condition"]
    assert set(conditions) == {"ddpm_posterior", "ddpm_beta", "ddim", "ddim_eta(eta=0.5)",
                               "pf_euler"}
    assert conditions["ddpm_posterior"]["max_abs_R_minus_one"] <= 1e-40
    assert conditions["ddpm_beta"]["max_abs_R_minus_one"] > 1e-6


def test_schedule_json_failing_constants_still_written(tmp_path, capsys):
    path = tmp_path / "fail.json"
    assert main(["schedule", "--steps", "200", "--c0", "4", "--c1", "4", "--json",
                 str(path)]) == 1
    capsys.readouterr()
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["properties"]["passed"] is False


def test_list(capsys):
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() and err == ""


@pytest.mark.parametrize(("argv", "fragment"), [
    (["schedule", "--steps", "1"], "`num_steps` must be >= 2"),
    (["schedule", "--kind", "foo"], "invalid choice: 'foo'"),
    (["schedule", "--c1", "1000"], "`c1` must satisfy"),
    (["schedule", "--steps", "ten"], "invalid int value: 'ten'"),
    (["schedule", "--dps", "5"], "`dps` must be >= 20"),
    (["schedule", "--eta", "2"], "`eta` must be <= 1.0"),
    (["schedule", "--c0", "nan"], "`c0` must be finite"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "a subcommand is required"),
    (["--no-such-option"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_on_stderr(capsys, argv, fragment):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("theorycheck: error:")
    assert fragment in lines[0]
    assert "Traceback" not in err + out


def test_unwritable_json_path_is_a_usage_error(tmp_path, capsys):
    # the target is an existing directory: writing must fail cleanly
    assert main(["schedule", "--steps", "100", "--json", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("theorycheck: error: cannot write `--json` file")


def test_python_dash_m_version():
    result = subprocess.run([sys.executable, "-m", "theorycheck", "--version"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"theorycheck {theorycheck.__version__}"
    assert result.stderr == ""
