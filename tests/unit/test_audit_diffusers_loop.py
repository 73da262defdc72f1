"""``theorycheck audit diffusers:CLASS`` on real diffusers schedulers (skipped without torch).

The torch-free logic is covered by ``test_audit_wholechain.py`` with a fake scheduler; here the
same code runs diffusers' own loops: the issue's "done when" command, its DDIM-in-float32
example (now explained per cause), and every bad-input path through the CLI.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

from theorycheck.audit.causes import cause_breakdown  # noqa: E402
from theorycheck.audit.diffusers_build import make_diffusers_loop  # noqa: E402
from theorycheck.cli import main  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def test_done_when_command(tmp_path, capsys):
    out = tmp_path / "a.json"
    rc = main(["audit", "diffusers:DPMSolverMultistepScheduler", "--config",
               '{"algorithm_type": "dpmsolver++", "solver_order": 2}', "--steps", "50",
               "--json", str(out), "--report", str(tmp_path / "a.md")])
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert rc == payload["exit_code"] == 1 and payload["verdict"] == "not_adaptive"
    assert payload["dominating_cause"] == "table precision"
    assert [c["name"] for c in payload["causes"]] == [
        "coefficient design", "table precision", "arithmetic", "start-up floor"]
    assert all("d_star" in c for c in payload["causes"])
    printed = capsys.readouterr().out
    assert "NOT_ADAPTIVE (dominating cause: table precision)" in printed
    assert "3·64²" in printed


def test_issue_ddim_float32_example_is_explained():
    # DDIM(η = 0) stepped in float32 over all 1000 steps, stopping at ᾱ_0: the old audit said
    # "contradiction".  Per cause: the float32 ᾱ_0 at which it stops (table precision, 5.9e-5
    # relative) and the start-up floor (ᾱ_T = 4.0e-5, never forgotten by DDIM: TV_⊥ ≈ 0.35 at
    # d = 10^9, the issue's number) dominate; float32 arithmetic is a separate, smaller cause.
    loop = make_diffusers_loop("DDIMScheduler", {"set_alpha_to_one": False}, steps=1000,
                               step_kwargs={"eta": 0.0})
    res = cause_breakdown(loop, rng=np.random.default_rng(0))
    causes = {c.name: c for c in res.causes}
    assert res.comparison == "smoothed" and res.verdict == "not_adaptive"
    assert res.dominating == "table precision"
    ab_T = res.end_point.first_alpha_bar
    assert ab_T == pytest.approx(4.04e-5, rel=1e-2)
    assert causes["start-up floor"].at_sizes["d_max=1e+09"] == pytest.approx(0.35, abs=0.01)
    assert causes["start-up floor"].contribution.value == pytest.approx(ab_T / (1 - ab_T),
                                                                       rel=1e-2)
    assert abs(causes["coefficient design"].contribution.value) < 1e-10
    assert abs(causes["arithmetic"].contribution.value) > 1e-9
    assert not any("contradiction" in r for r in res.reasons)


@pytest.mark.parametrize(("argv", "message"), [
    (["diffusers:NoSuchScheduler"], "diffusers:NoSuchScheduler: unknown scheduler class"),
    (["diffusers:DDIMScheduler", "--config", '{"bogus_key": 1}'],
     "diffusers:DDIMScheduler: config key(s) 'bogus_key' not accepted"),
    (["diffusers:DDIMScheduler", "--steps", "2000"],
     "diffusers:DDIMScheduler: `--steps` N = 2000 exceeds the 1000 training steps"),
    (["diffusers:LCMScheduler"], "diffusers:LCMScheduler: not applicable: consistency-type"),
    (["diffusers:DDIMScheduler", "--config", '{"beta_schedule": "sigmoid"}'],
     "not applicable: beta_schedule 'sigmoid'"),
])
def test_cli_bad_input_one_line_exit_2(capsys, argv, message):
    assert main(["audit", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def test_config_file(tmp_path):
    path = tmp_path / "scheduler_config.json"
    path.write_text(json.dumps({"_class_name": "PNDMScheduler", "_diffusers_version": "0.8.0",
                                "beta_start": 0.00085, "beta_end": 0.012,
                                "beta_schedule": "scaled_linear", "num_train_timesteps": 1000,
                                "set_alpha_to_one": False, "skip_prk_steps": True,
                                "steps_offset": 1}), encoding="utf-8")
    assert main(["audit", "diffusers:PNDMScheduler", "--config", str(path), "--steps", "20",
                 "--dtype", "float64", "--spacing", "leading"]) in (0, 1, 3)
