"""Sweeps (outer products of list-valued spec fields) and the `measure` CLI front door."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from theorycheck.cli import main
from theorycheck.errors import SpecError
from theorycheck.sweep import MAX_CASES, expand_sweep, is_sweep, run_sweep, sweep_markdown

ROOT = Path(__file__).resolve().parents[2]
LI_YAN = ROOT / "examples" / "li-yan-figure.json"


def _small() -> dict[str, Any]:
    return {"target": {"kind": "subspace_gmm", "ambient_dim": [10, 1000], "weights": [1.0],
                       "means": [[0.0, 0.0]], "covariances": [[[1.0, 0.0], [0.0, 1.0]]],
                       "basis_seed": 0},
            "schedule": {"kind": "two_phase", "steps": [20, 40]},
            "sampler": {"design": ["ddpm_posterior", "ddpm_beta"]},
            "metrics": ["tv", "kl"], "seed": 0}


def _write(tmp_path: Path, spec: dict[str, Any], name: str = "spec.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def _one_line_error(capsys: pytest.CaptureFixture[str], *fragments: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_expand_outer_product_in_order() -> None:
    axes, cases = expand_sweep(_small())
    assert list(axes) == ["target.ambient_dim", "schedule.steps", "sampler.design"]
    assert len(cases) == 8
    assert cases[0][0] == {"target.ambient_dim": 10, "schedule.steps": 20,
                           "sampler.design": "ddpm_posterior"}
    assert cases[1][1]["sampler"]["design"] == "ddpm_beta"     # last axis fastest
    assert cases[-1][1]["target"]["ambient_dim"] == 1000
    assert not is_sweep({"target": {"ambient_dim": 5}})


def test_li_yan_example_is_the_figure_grid() -> None:
    axes, cases = expand_sweep(json.loads(LI_YAN.read_text()))
    assert len(axes["target.ambient_dim"]) == 17
    assert min(axes["target.ambient_dim"]) == 10 and max(axes["target.ambient_dim"]) == 10**9
    assert axes["schedule.steps"] == [100, 200, 1000]
    assert axes["sampler.design"] == ["ddpm_posterior", "ddpm_beta"]
    assert len(cases) == 102


def test_sweep_errors() -> None:
    spec = _small()
    spec["target"]["ambient_dim"] = list(range(10, 10 + 3000))
    with pytest.raises(SpecError, match=rf"12000 cases .* at most {MAX_CASES} are allowed"):
        expand_sweep(spec)
    spec = _small()
    spec["schedule"]["steps"] = []
    with pytest.raises(SpecError, match=r"`schedule.steps` must be a non-empty list"):
        expand_sweep(spec)
    spec = _small()
    spec["sampler"]["design"] = ["ddpm_posterior", "euler"]
    with pytest.raises(SpecError, match=r"sweep case .*'euler'.*`sampler.design` must be one of"):
        run_sweep(spec)


def test_sweep_results_are_reproducible_and_flat_in_d_for_the_adaptive_design() -> None:
    res = run_sweep(_small())
    again = run_sweep(_small())
    assert [c.measurement.to_dict() for c in res.cases] == [
        c.measurement.to_dict() for c in again.cases]
    by = {tuple(c.params.values()): c.measurement.values["kl"].value for c in res.cases}
    assert by[(10, 40, "ddpm_posterior")] == pytest.approx(by[(1000, 40, "ddpm_posterior")],
                                                           rel=1e-9)
    assert by[(1000, 40, "ddpm_beta")] > 50 * by[(10, 40, "ddpm_beta")]
    table = sweep_markdown(res)
    assert table.count("\n| ") == 8 and "closed_form" in table


def test_cli_sweep_writes_table_json_and_plot(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = _write(tmp_path, _small())
    out_json, out_md, out_png = (str(tmp_path / n) for n in ("s.json", "s.md", "s.png"))
    assert main(["measure", spec, "--json", out_json, "--table", out_md, "--plot", out_png]) == 0
    printed = capsys.readouterr().out
    assert "| target.ambient_dim | schedule.steps | sampler.design |" in printed
    payload = json.loads(Path(out_json).read_text())
    assert len(payload["cases"]) == 8 and payload["axes"]["schedule.steps"] == [20, 40]
    written = Path(out_md).read_text()
    assert written.startswith("# Sweep of") and "| target.ambient_dim |" in written
    assert "s.png" in written
    assert Path(out_png).stat().st_size > 1000


def test_cli_single_case_prints_method_why_and_upper_bound(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    spec = {"target": {"kind": "subspace_gmm", "ambient_dim": 64, "weights": [0.5, 0.5],
                       "means": [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
                       "covariances": [[[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]]] * 2,
                       "basis_seed": 0},
            "schedule": {"kind": "two_phase", "steps": 30}, "sampler": {"design": "ddpm_beta"},
            "metrics": ["kl"], "seed": 0, "num_samples": 400}
    assert main(["measure", _write(tmp_path, spec)]) == 0
    out = capsys.readouterr().out
    assert "method: path_kl" in out and "why: path_kl chosen" in out
    assert "(UPPER BOUND)" in out and "upper_bound" in out


@pytest.mark.parametrize(
    ("mutate", "args", "fragments"),
    [(lambda s: None, ["--plot", "x.png"], ["`--plot` and `--table` need a sweep spec"]),
     (lambda s: None, ["--method", "grid2d"],
      ["`method` 'grid2d' does not apply", "needs k = 2 (got k = 1)",
       "applicable methods: closed_form, grid"]),
     (lambda s: s["target"].update(covariances=[[["NaN"]]]), [], ["covariances"]),
     (lambda s: s["target"].update(covariances=[[[-0.5]]]), [], ["covariances"]),
     (lambda s: s["target"].update(ambient_dim=[10] * 10_001), [], ["at most 10000"])])
def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          mutate: Any, args: list[str],
                                          fragments: list[str]) -> None:
    spec = {"target": {"kind": "subspace_gmm", "ambient_dim": 20, "weights": [1.0],
                       "means": [[0.3]], "covariances": [[[0.5]]]},
            "schedule": {"kind": "two_phase", "steps": 20}, "sampler": {"design": "ddpm_beta"}}
    spec = copy.deepcopy(spec)
    mutate(spec)
    text = json.dumps(spec).replace('"NaN"', "NaN")
    path = tmp_path / "bad.json"
    path.write_text(text)
    assert main(["measure", str(path), *args]) == 2
    _one_line_error(capsys, *fragments)


def test_cli_plot_needs_png_and_a_numeric_axis(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    spec = _small()
    spec["target"]["ambient_dim"] = 10
    spec["schedule"]["steps"] = 20
    path = _write(tmp_path, spec)
    assert main(["measure", path, "--plot", str(tmp_path / "f.pdf")]) == 2
    _one_line_error(capsys, "`--plot` must name a .png file")
    assert main(["measure", path, "--plot", str(tmp_path / "f.png")]) == 2
    _one_line_error(capsys, "`--plot` needs a numeric swept field")
