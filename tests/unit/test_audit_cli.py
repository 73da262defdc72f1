"""CLI tests of ``theorycheck audit``: exit codes 0/1/3 and every bad-input case (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from theorycheck.audit.loader import load_sampler, resolve_target
from theorycheck.cli import main
from theorycheck.errors import SamplerProtocolError

HEADER = "import numpy as np\nfrom theorycheck.audit.examples import make_example\n"


def _write(tmp_path: Path, body: str, name: str = "user_sampler.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("example", "code", "verdict"), [
    ("ddim", 0, "adaptive"), ("broken_ddpm", 1, "not_adaptive"),
    ("clipped_ddpm", 3, "inconclusive")])
def test_exit_codes_and_outputs(tmp_path, capsys, example, code, verdict):
    path = _write(tmp_path, f"def factory():\n    return make_example({example!r}, 30)\n")
    out_json, out_md = tmp_path / "a.json", tmp_path / "sub" / "a.md"
    rc = main(["audit", f"{path}:factory", "--json", str(out_json), "--report", str(out_md),
               "--seed", "3"])
    assert rc == code
    payload = json.loads(out_json.read_text(encoding="utf-8"))
    assert payload["verdict"] == verdict and payload["seed"] == 3
    assert f"**{verdict}**" in out_md.read_text(encoding="utf-8")
    assert verdict.upper() in capsys.readouterr().out


def test_module_target_object(tmp_path, capsys, monkeypatch):
    _write(tmp_path, "SAMPLER = make_example('ddpm_beta', 30)\n", name="tc_audit_mod.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["audit", "tc_audit_mod:SAMPLER"]) == 1
    assert "NOT_ADAPTIVE" in capsys.readouterr().out


BAD_CASES = {
    "no_colon": ("{path}", "must be 'module:attr'"),
    "no_module": ("theorycheck_no_such_module_xyz:thing", "does not import"),
    "no_file": ("{tmp}/missing.py:thing", "does not exist"),
    "syntax": ("{path}:thing", "importing"),
    "no_attr": ("{path}:missing", "has no attribute 'missing'"),
    "no_alpha_bar": ("{path}:NoAlphaBar", "must have an `alpha_bar` attribute"),
    "no_step": ("{path}:NoStep", "must have a callable `step"),
    "wrong_shape": ("{path}:WrongShape", "must return shape"),
    "nan": ("{path}:Nan", "NaN or infinity"),
    "increasing": ("{path}:Increasing", "strictly decreasing"),
    "outside": ("{path}:Outside", "must lie in (0, 1)"),
    "nan_alpha_bar": ("{path}:NanAlphaBar", "must be finite"),
    "factory_args": ("{path}:needs_args", "must take no arguments"),
    "factory_raises": ("{path}:raises", "calling the factory failed"),
}

BAD_BODY = '''
class _Base:
    alpha_bar = np.linspace(0.99, 0.1, 10)
    def step(self, y, t, score, noise):
        return y
class _NoAlphaBar:
    def step(self, y, t, score, noise):
        return y
class _NoStep:
    alpha_bar = np.linspace(0.99, 0.1, 10)
class _WrongShape(_Base):
    def step(self, y, t, score, noise):
        return y[:1]
class _Nan(_Base):
    def step(self, y, t, score, noise):
        return y + np.nan
class _Increasing(_Base):
    alpha_bar = np.linspace(0.1, 0.99, 10)
class _Outside(_Base):
    alpha_bar = np.linspace(1.5, 0.1, 10)
class _NanAlphaBar(_Base):
    alpha_bar = np.array([0.9, np.nan, 0.1])
NoAlphaBar, NoStep, WrongShape, Nan = _NoAlphaBar(), _NoStep(), _WrongShape(), _Nan()
Increasing, Outside, NanAlphaBar = _Increasing(), _Outside(), _NanAlphaBar()
def needs_args(steps):
    return _Base()
def raises():
    raise RuntimeError("no GPU")
'''


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, case):
    template, match = BAD_CASES[case]
    body = "def thing(:\n" if case == "syntax" else BAD_BODY
    path = _write(tmp_path, body)
    target = template.format(path=path, tmp=tmp_path)
    assert main(["audit", target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("theorycheck: error:"), err
    assert match in err
    assert "Traceback" not in err


def test_loader_direct(tmp_path):
    path = _write(tmp_path, "S = make_example('ddim', 30)\n")
    assert resolve_target(f"{path}:S").alpha_bar.shape == (30,)
    assert load_sampler(f"{path}:S").alpha_bar.shape == (30,)
    assert load_sampler("theorycheck.audit.examples:ddim").alpha_bar.shape == (1000,)
    with pytest.raises(SamplerProtocolError, match="dotted attribute"):
        resolve_target("theorycheck.audit.examples:")
