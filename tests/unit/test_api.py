"""The notebook entry point (``import theorycheck as tc``), the tour, and theorycheck.testing."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import theorycheck as tc
from theorycheck.audit.examples import make_example
from theorycheck.errors import InvalidParameterError, SamplerProtocolError, SpecError
from theorycheck.testing import assert_adaptive, assert_rate, critical_dimension

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "examples" / "measure-ddpm.json").read_text(encoding="utf-8"))


def test_import_is_fast_and_light() -> None:
    code = ("import sys, time; t = time.perf_counter(); import theorycheck; "
            "dt = time.perf_counter() - t; heavy = [m for m in ('numpy', 'scipy', 'sympy', "
            "'matplotlib', 'mpmath', 'tqdm') if m in sys.modules]; print(dt, heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split(maxsplit=1)
    assert out[1].strip() == "[]"
    assert float(out[0]) <= 0.1


def test_lazy_names_and_submodules() -> None:
    for name in ("two_phase", "linear", "cosine", "make_design", "SubspaceGaussianMixture",
                 "measure", "run_claims", "audit", "Estimate", "Verdict", "schedules",
                 "designs", "targets", "testing", "executors", "journal"):
        assert name in dir(tc)
        assert getattr(tc, name) is not None
    assert tc.two_phase is tc.schedules.two_phase
    assert set(tc.__all__) <= set(dir(tc))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tc.nope  # noqa: B018


def test_estimate_prints_with_its_error_and_method() -> None:
    est = tc.Estimate(value=0.027912, stderr=1.23e-6, method="grid quadrature")
    assert str(est) == "0.02791 ± 1.2e-06 (grid quadrature)"
    assert str(tc.Estimate(value=2.0, stderr=0.0, method="exact")) == "2 ± 0 (exact)"


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "theorycheck.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", tc.__version__)
    assert (ROOT / "theorycheck" / "py.typed").exists()


def test_measure_from_a_spec_dict_equals_measure_from_objects() -> None:
    spec = dict(SPEC, schedule={"kind": "two_phase", "steps": 100}, metrics=["tv"])
    from_spec = tc.measure(spec)
    target = tc.targets.from_spec(spec["target"])
    design = tc.make_design("ddpm_posterior", tc.two_phase(100))
    from_objects = tc.measure(target, design, rng=np.random.default_rng(0), metrics=["tv"])
    assert from_spec.values["tv"] == from_objects.values["tv"]
    with pytest.raises(InvalidParameterError, match="`design` must be omitted"):
        tc.measure(spec, design)
    with pytest.raises(InvalidParameterError, match="`design` is required"):
        tc.measure(target)
    with pytest.raises(SpecError, match="unknown top-level keys"):
        tc.measure(dict(spec, typo=1))


def test_audit_takes_objects_and_factories_and_rejects_the_rest() -> None:
    import theorycheck.audit  # rebinds tc.audit to the package: it must stay callable

    result = tc.audit(lambda: make_example("ddim", 100), split_checks=False)
    assert result.verdict.value == "adaptive"
    assert callable(theorycheck.audit)
    for bad, match in ((42, "got int"), ("ddim", "got str"),
                       (lambda t: t, "factory must take no arguments")):
        with pytest.raises(SamplerProtocolError, match=match):
            tc.audit(bad)


def test_tour_runs(capsys: Any) -> None:
    runpy.run_path(str(ROOT / "examples" / "tour.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "measure (objects): TV = 0.01387 ±" in out and "claim DECOMP: PASS" in out
    assert out.count("TV = 0.01387 ±") == 2  # spec and objects agree
    assert "DDIM is adaptive" in out


# -- theorycheck.testing ------------------------------------------------------------------------

def test_assert_adaptive_passes_and_fails_with_a_readable_report() -> None:
    with pytest.raises(AssertionError) as info:
        assert_adaptive(lambda: make_example("broken_ddpm", 100), d_max=1e6, tv=1e-3,
                        split_checks=False)
    text = str(info.value)
    assert text.startswith("EpsilonDDPM (T = 100) is NOT_ADAPTIVE, wanted adaptive")
    assert "measured: e_coef = -0.99" in text and "cause: coefficient error" in text
    assert "d*: TV of the data-free coordinates reaches 0.001 at d ≈ 1 " in text
    assert len(text.splitlines()) <= 8


def test_critical_dimension() -> None:
    assert critical_dimension(0.0, 1e-3) == np.inf
    e = 1e-4
    d = critical_dimension(e, 1e-3)
    assert abs(e) * np.sqrt((d - 1) / (4 * np.pi)) == pytest.approx(1e-3, rel=1e-12)


def test_assert_rate_passes_for_ddpm_and_fails_when_the_bar_is_too_high() -> None:
    def factory(T: int) -> object:
        return make_example("ddpm_posterior", T)

    results = assert_rate(factory, steps=(50, 100), split_checks=True)
    assert [r.num_steps for r in results] == [50, 100]
    with pytest.raises(AssertionError, match=r"TV_1 falls like T\^-0\.\d+, not at least like "
                                             r"T\^-1\.5"):
        assert_rate(factory, steps=(50, 100), max_slope=-1.5)  # boundary control: slope ≈ -0.8


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: assert_adaptive(3.5), SamplerProtocolError, "`sampler_or_factory` must be a sampler"),
    (lambda: assert_adaptive(make_example("ddim", 50), tv=0), InvalidParameterError, "`tv`"),
    (lambda: assert_rate(make_example("ddim", 50)), SamplerProtocolError,
     "`factory` must be a callable"),
    (lambda: assert_rate(lambda T: make_example("ddim", 50), steps=(50, 60)),
     SamplerProtocolError, r"`factory`\(60\) returned a sampler with T = 50"),
    (lambda: assert_rate(lambda T: None, steps=(50, 60)), SamplerProtocolError,
     r"`factory\(50\)` must be a sampler"),
    (lambda: assert_rate(make_example, steps=(50,)), InvalidParameterError, "two distinct"),
])
def test_testing_helpers_reject_bad_input(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_readme_test_suite_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Add theorycheck to your test suite", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    assert 5 <= len(code.strip().splitlines()) <= 14
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests
    for test in tests:
        test()
