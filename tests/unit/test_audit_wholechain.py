"""Whole-chain audit of diffusers-style loops, torch-free (``fake_scheduler.FakeScheduler``).

Covers the impulse-response variance (against Monte Carlo of the same chain), the per-cause
breakdown with closed forms (DDIM carries its start-up error unchanged), the comparison point, the
negative control (DDPM-β), samplers with memory, and every error path of the loop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from fake_scheduler import FakeScheduler

from theorycheck.audit.causes import cause_breakdown, d_star, orthogonal_size
from theorycheck.audit.diffusers_build import (
    NotApplicableError,
    exact_betas,
    load_config,
    make_diffusers_loop,
    make_scheduler_loop,
)
from theorycheck.audit.scheduler_loop import NumpyBackend, model_output
from theorycheck.audit.wholechain import ChainFailure, impulse_response, offspace_denoiser
from theorycheck.errors import InvalidParameterError, SamplerProtocolError


def _loop(steps: int = 20, dtype: str = "float64", step_kwargs=None, **config):
    return make_scheduler_loop(FakeScheduler, config, steps=steps, dtype=dtype,
                               step_kwargs=step_kwargs, backend=NumpyBackend())


def _monte_carlo_variance(loop, n: int, rng):
    out = loop(rng.standard_normal((n, 4)), offspace_denoiser, rng)
    per = out**2
    return float(per.mean()), float(per.std(ddof=1) / math.sqrt(per.size))


@pytest.mark.parametrize(("kind", "kw", "config"), [
    ("ddpm", None, {"variance_type": "fixed_small", "set_alpha_to_one": False}),
    ("ddim", {"eta": 1.0}, {"set_alpha_to_one": False}),
    ("ab2", None, {"set_alpha_to_one": False})])
def test_impulse_variance_matches_monte_carlo(kind, kw, config):
    loop = _loop(steps=20, step_kwargs=kw, kind=kind, **config)
    resp = impulse_response(loop, rng=np.random.default_rng(1), columns=4)
    assert resp.num_draws == (0 if kind == "ab2" else 20 - (kind == "ddpm"))
    assert max(resp.nonlinearity, resp.non_additivity) < 1e-12
    mc, se = _monte_carlo_variance(loop, 5000, np.random.default_rng(2))
    assert abs(resp.variance() - mc) <= 3 * se


def test_chain_is_reset_between_runs():
    loop = _loop(steps=10, kind="ab2")
    z = np.random.default_rng(0).standard_normal((3, 2))
    first = loop(z, offspace_denoiser, np.random.default_rng(0))
    np.testing.assert_array_equal(first, loop(z, offspace_denoiser, np.random.default_rng(0)))


def test_ddim_startup_floor_closed_form():
    # DDIM (η = 0) multiplies the relative variance error by exactly 1 per step, so the start
    # z_T ~ N(0, 1) against N(0, 1-ᾱ_{t1}) leaves e = ᾱ_{t1}/(1-ᾱ_{t1}) at the end.
    loop = _loop(steps=50, set_alpha_to_one=False)
    res = cause_breakdown(loop, rng=np.random.default_rng(0))
    assert res.comparison == "smoothed"
    causes = {c.name: c.contribution for c in res.causes}
    ab1 = res.end_point.first_alpha_bar
    assert res.end_point.first_timestep == 980  # "leading" spacing at N = 50
    # ... up to the fake's float32 ᾱ table (relative 1e-4 at the end point), which the shipped
    # run's gain carries; the four causes add up to the total exactly.
    assert causes["start-up floor"].value == pytest.approx(ab1 / (1 - ab1), rel=1e-3)
    assert sum(c.value for c in causes.values()) == pytest.approx(
        res.total.contribution.value, rel=1e-9, abs=1e-15)
    assert abs(causes["coefficient design"].value) < 1e-12
    assert abs(causes["arithmetic"].value) < 1e-15  # float64 shipped run
    assert res.dominating == "start-up floor"
    assert res.verdict == "not_adaptive"
    startup = next(c for c in res.causes if c.name == "start-up floor")
    # d* from the exact chi-square TV agrees with the small-error form 1 + 4π ε²/e².
    e = startup.contribution.value
    assert startup.d_star == pytest.approx(1 + 4 * math.pi * 1e-6 / e**2, rel=1e-3)


def test_trailing_spacing_moves_the_first_timestep():
    loop = make_scheduler_loop(FakeScheduler, {"set_alpha_to_one": False}, steps=50,
                               spacing="trailing", dtype="float64", backend=NumpyBackend())
    assert loop.end_point().first_timestep == 999


def test_denoising_end_is_a_point_mass_and_float32_table_shows():
    res = cause_breakdown(_loop(steps=50, dtype="float32"), rng=np.random.default_rng(0))
    assert res.comparison == "point_mass" and res.end_point.denoises
    causes = {c.name: c.contribution for c in res.causes}
    assert causes["coefficient design"].value == 0.0  # exact denoiser, exact tables
    # float32 ᾱ_0 in the final x̂_0: a residual gain of order 1e-6, variance of order 1e-12.
    assert 1e-14 < causes["table precision"].value < 1e-10
    assert res.dominating == "table precision"
    assert res.verdict == "not_adaptive"
    assert res.total.d_star == pytest.approx(1 + 1e-6 / res.total.contribution.value, rel=1e-9)
    assert "point mass" in res.reasons[0]


def test_negative_control_ddpm_beta_is_not_adaptive():
    res = cause_breakdown(_loop(steps=50, kind="ddpm", variance_type="fixed_large",
                                set_alpha_to_one=False), rng=np.random.default_rng(0))
    design = next(c for c in res.causes if c.name == "coefficient design")
    assert design.contribution.value > 1e-2  # β_t instead of the posterior variance
    assert res.dominating == "coefficient design" and res.verdict == "not_adaptive"
    assert design.d_star < 100


def test_posterior_ddpm_design_is_exact():
    res = cause_breakdown(_loop(steps=50, kind="ddpm", set_alpha_to_one=False),
                          rng=np.random.default_rng(0))
    design = next(c for c in res.causes if c.name == "coefficient design")
    assert abs(design.contribution.value) < 1e-12
    assert design.d_star > 1e9


@pytest.mark.parametrize("prediction", ["sample", "v_prediction"])
def test_prediction_types_give_the_same_chain(prediction):
    z = np.random.default_rng(3).standard_normal((4, 3))

    def denoiser(u, ab):
        return 0.3 * u  # any x̂_0: the conversion must be consistent with the scheduler's

    # In the ideal mode (exact tables) the loop's conversion and the scheduler's inverse agree;
    # with the shipped float32 table they differ by the table's precision (~1e-6).
    ref = _loop(steps=10, set_alpha_to_one=False).with_mode("ideal")(
        z, denoiser, np.random.default_rng(0))
    other = _loop(steps=10, set_alpha_to_one=False, prediction_type=prediction).with_mode(
        "ideal")(z, denoiser, np.random.default_rng(0))
    np.testing.assert_allclose(other, ref, rtol=1e-9, atol=1e-12)


def test_model_output_rejects_unknown_prediction():
    with pytest.raises(InvalidParameterError, match="`prediction_type` must be"):
        model_output("score", np.zeros(2), np.zeros(2), 0.5)


def test_d_star_and_sizes():
    assert d_star(0.0, 1e-3, "smoothed") == math.inf
    assert d_star(1e-8, 1e-3, "point_mass") == pytest.approx(1 + 1e-6 / 1e-8)
    assert d_star(0.5, 1e-3, "smoothed") == 2.0  # already above ε at m = 1
    assert orthogonal_size(1e-4, 1e6, "point_mass") == pytest.approx(10.0)
    assert orthogonal_size(1e-3, 1e13, "smoothed") == 1.0


# ---- bad input: one line naming the scheduler and the reason ------------------------------------

def test_config_key_rejected():
    with pytest.raises(SamplerProtocolError, match=r"FakeScheduler: config key\(s\) 'bogus' not "):
        _loop(bogus=1)


def test_underscore_keys_of_scheduler_config_json_are_ignored():
    assert _loop(_class_name="X", _diffusers_version="0.0").steps == 20


def test_steps_exceed_training_steps():
    with pytest.raises(SamplerProtocolError, match="FakeScheduler: `--steps` N = 2000 exceeds the "
                                                   "1000 training steps"):
        _loop(steps=2000)


@pytest.mark.parametrize("steps", [0, -3, 2.5, True])
def test_steps_must_be_positive_int(steps):
    with pytest.raises(SamplerProtocolError, match="`--steps` must be a positive integer"):
        _loop(steps=steps)


def test_unsupported_dtype_name():
    with pytest.raises(SamplerProtocolError, match="FakeScheduler: `--dtype` must be one of"):
        _loop(dtype="int8")


def test_dtype_the_scheduler_cannot_run():
    with pytest.raises(SamplerProtocolError,
                       match=r"FakeScheduler: cannot run in float16: .*float16 input is not"):
        _loop(dtype="float16", fault="no_float16")


def test_bad_spacing():
    with pytest.raises(SamplerProtocolError, match="`--spacing` must be one of"):
        make_scheduler_loop(FakeScheduler, {}, spacing="cosine", backend=NumpyBackend())


def test_constructor_rejects_config():
    with pytest.raises(SamplerProtocolError, match=r"FakeScheduler: the constructor rejected the "
                                                   r"config .*squaredcos_cap_v2 is not implemented"):
        _loop(beta_schedule="squaredcos_cap_v2")


def test_set_timesteps_rejects_config():
    with pytest.raises(SamplerProtocolError, match=r"FakeScheduler: set_timesteps\(20\) failed .*"
                                                   "'bogus-spacing' is not supported"):
        _loop(timestep_spacing="bogus-spacing")


def test_unknown_beta_schedule_not_applicable():
    with pytest.raises(NotApplicableError, match="beta_schedule 'sigmoid' has no exact table"):
        exact_betas({"beta_schedule": "sigmoid"}, "X")


def test_mutating_scheduler_is_inconclusive_with_reason():
    res = cause_breakdown(_loop(fault="mutate"), rng=np.random.default_rng(0))
    assert res.verdict == "inconclusive" and res.exit_code == 3
    assert "mutated its inputs" in res.reasons[0] and "step 1 of 20" in res.reasons[0]


def test_nan_mid_chain_is_inconclusive_with_reason():
    res = cause_breakdown(_loop(fault="nan"), rng=np.random.default_rng(0))
    assert res.verdict == "inconclusive"
    assert "NaN" in res.reasons[0] and "step 3 of 20" in res.reasons[0]


def test_chain_failure_kinds():
    with pytest.raises(ChainFailure, match="mutated") as info:
        _loop(fault="mutate")(np.zeros((1, 1)), offspace_denoiser, np.random.default_rng(0))
    assert info.value.kind == "mutation" and info.value.step == 1


def test_not_applicable_schedulers_say_why():
    with pytest.raises(NotApplicableError, match="diffusers:LCMScheduler: not applicable: "
                                                 "consistency-type"):
        make_diffusers_loop("LCMScheduler")
    with pytest.raises(NotApplicableError, match="flow matching"):
        make_diffusers_loop("FlowMatchEulerDiscreteScheduler")


def test_load_config(tmp_path):
    assert load_config('{"solver_order": 2}') == {"solver_order": 2}
    path = tmp_path / "scheduler_config.json"
    path.write_text('{"_class_name": "DDIMScheduler", "beta_end": 0.012}', encoding="utf-8")
    assert load_config(str(path))["beta_end"] == 0.012
    assert load_config(None) == {}
    with pytest.raises(InvalidParameterError, match="`--config` must be a JSON object or a path"):
        load_config("no/such/file.json")
    with pytest.raises(InvalidParameterError, match="`--config` is not valid JSON"):
        load_config("{bad json")
    with pytest.raises(InvalidParameterError, match="must be a JSON object"):
        load_config(str(tmp_path / "list.json") if (tmp_path / "list.json").write_text(
            "[1, 2]", encoding="utf-8") else "")


# ---- CLI paths that need no torch ---------------------------------------------------------------

def test_cli_not_applicable_is_one_line_exit_2(capsys):
    from theorycheck.cli import main

    assert main(["audit", "diffusers:FlowMatchEulerDiscreteScheduler"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "diffusers:FlowMatchEulerDiscreteScheduler: not applicable: flow matching" in err


def test_cli_bad_config_json_exit_2(capsys):
    from theorycheck.cli import main

    assert main(["audit", "diffusers:DDIMScheduler", "--config", "{not json"]) == 2
    assert "`--config` is not valid JSON" in capsys.readouterr().err


def test_old_audit_explains_flat_curve_with_non_adaptive_coefficients():
    # The per-step audit's former bare "contradiction" (the DDIM-in-float32 example):
    # the message now says why the two checks differ, with the numbers.
    from types import SimpleNamespace

    from theorycheck.audit.verdict import _flat_but_not_adaptive
    from theorycheck.results import ErrorKind, Estimate

    condition = SimpleNamespace(
        coefficient_error=Estimate(value=-1.6e-7, stderr=1e-9, method="m",
                                   error_kind=ErrorKind.TOLERANCE),
        startup_error=4.0e-5)
    dfree = SimpleNamespace(judged_max_dim=297.0,
                            tv=(Estimate(value=2e-3, stderr=1e-5, method="m",
                                         error_kind=ErrorKind.STDERR),))
    text = _flat_but_not_adaptive(condition, dfree)
    assert "contradiction" not in text
    assert "judged on d ≤ 297" in text and "predicts TV_⊥ ≤ 7.8e-07" in text
    assert "start-up floor" in text and "diffusers:CLASS" in text


def test_rounding_variance_of_a_float16_chain_matches_monte_carlo():
    # Off the data the exact chain returns 0; in float16 rounding leaves a variance that the
    # all-inputs row of the impulse run measures.  (β from 0.01: the fake casts its table to
    # the sample dtype, and float16 rounds ᾱ_0 = 1 - 1e-4 to 1.)
    loop = _loop(steps=20, dtype="float16", beta_start=0.01)
    resp = impulse_response(loop, rng=np.random.default_rng(5), columns=64)
    assert resp.rounding_variance > 0
    mc, se = _monte_carlo_variance(loop, 20_000, np.random.default_rng(6))
    assert abs(resp.variance() - mc) <= 3 * (se + resp.variance_error())
