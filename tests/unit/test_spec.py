"""Experiment spec parsing: every malformed spec names the offending key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from theorycheck.cli import main
from theorycheck.errors import SpecError
from theorycheck.spec import load_spec, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "measure-ddpm.json"


def _spec() -> dict[str, Any]:
    return json.loads(EXAMPLE.read_text())


def test_example_parses() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.target.ambient_dim == 1000 and spec.target.intrinsic_dim == 1
    assert spec.design.name == "ddpm_posterior" and spec.design.num_steps == 400
    assert spec.metrics == ("tv", "kl")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [(lambda s: s.pop("target"), "missing the `target` section"),
     (lambda s: s.update(extra=1), "unknown top-level keys"),
     (lambda s: s["schedule"].update(kind="quadratic"), "`schedule.kind` must be one of"),
     (lambda s: s["schedule"].pop("steps"), r"`schedule.steps` is required"),
     (lambda s: s["schedule"].update(steps=1), "`num_steps` must be >= 2"),
     (lambda s: s["schedule"].update(beta_end=0.2), "unknown keys for kind 'two_phase'"),
     (lambda s: s["sampler"].update(design="euler"), "`sampler.design` must be one of"),
     (lambda s: s["sampler"].update(design="ddim_eta"), "`eta` is required"),
     (lambda s: s["sampler"].update(design="ddim_eta", eta=1.5), "`eta` must be <= 1"),
     (lambda s: s.update(metrics=["hellinger"]), "`metrics` must be a non-empty list"),
     (lambda s: s.update(seed=-1), "`seed` must be a non-negative integer"),
     (lambda s: s.update(num_samples=5), "`num_samples` must be an integer >= 100"),
     (lambda s: s["target"].update(weights=[0.5, 0.7]), "weights"),
     (lambda s: s["target"].update(kind="blob"), "kind")])
def test_bad_specs(mutate: Any, match: str) -> None:
    spec = copy.deepcopy(_spec())
    mutate(spec)
    with pytest.raises(SpecError, match=match):
        parse_spec(spec)


def test_load_spec_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SpecError, match="cannot be read"):
        load_spec(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_spec(bad)
    assert main(["measure", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON" in err
