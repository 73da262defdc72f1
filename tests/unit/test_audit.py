"""Tests of the sampler audit: probe, one-step condition, checks and verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from theorycheck import schedules
from theorycheck.audit import AuditVerdict, audit_sampler, probe_coefficients
from theorycheck.audit.condition import one_step_audit
from theorycheck.audit.examples import EXAMPLES, EpsilonDDPM, make_example
from theorycheck.audit.report import audit_markdown, audit_table
from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError, NonFiniteError, SamplerProtocolError
from theorycheck.samplers import DesignSampler
from theorycheck.split import orthogonal_variance

T_SMALL = 60


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def schedule() -> schedules.Schedule:
    return schedules.linear(T_SMALL, rescale=True)


@dataclass(frozen=True, kw_only=True, eq=False)
class _Wrapped:
    """A design sampler with a deliberate defect applied to its output."""

    base: DesignSampler
    defect: str
    alpha_bar: np.ndarray = field(init=False)
    calls: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha_bar", self.base.alpha_bar)

    def step(self, y, t, score, noise):  # type: ignore[no-untyped-def]
        out = self.base.step(y, t, score, noise)
        if self.defect == "anisotropic":
            out = out * np.linspace(1.0, 1.01, y.shape[1])
        elif self.defect == "offset":
            out = out + 1e-3
        elif self.defect == "coupled":
            out = out + 1e-3 * y.mean(axis=0)
        elif self.defect == "inconsistent":
            out = out * (1.0 + 1e-3)
        elif self.defect == "stateful":
            self.calls.append(t)
            # Ignores the score after its first pass over the steps: probing is one call per
            # step (plus a few), a chain is the second pass.
            if len(self.calls) > 2 * len(self.alpha_bar):
                out = self.base.step(y, t, np.zeros_like(score), noise)
        return out


@pytest.mark.parametrize("name", ["ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"])
def test_probe_recovers_design_coefficients(schedule, name):
    design = make_design(name, schedule)
    probe = probe_coefficients(DesignSampler(design=design), rng=_rng())
    assert probe.is_scalar_generic and probe.is_consistent, probe.problems()
    assert probe.num_calls == T_SMALL - 1 + 3
    np.testing.assert_allclose(probe.eta, design.eta[1:], rtol=1e-13)
    np.testing.assert_allclose(probe.sigma, design.sigma[1:], rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(probe.alpha, schedule.alpha[1:], rtol=1e-14)


@pytest.mark.parametrize("name", ["ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"])
def test_condition_matches_design_and_split(schedule, name):
    design = make_design(name, schedule)
    probe = probe_coefficients(DesignSampler(design=design), rng=_rng())
    cond = one_step_audit(probe, schedules.from_alpha_bar(schedule.alpha_bar))
    exact = design.one_step_condition()
    # Probed float64 coefficients carry rounding ~1e-16 amplified by 1/(1-ᾱ_{t-1}) ≤ 1e4 here.
    np.testing.assert_allclose(cond.r_minus_one, exact.r_minus_one, atol=1e-11)
    ov = orthogonal_variance(design)
    assert cond.total_error.value == pytest.approx(ov.relative_error, rel=1e-9, abs=1e-11)
    assert np.all(cond.r_minus_one_err >= 0)


@pytest.mark.parametrize(("defect", "flag"), [
    ("anisotropic", "not isotropic"), ("offset", "f(0, 0, 0)"), ("coupled", "not row-wise"),
    ("inconsistent", "inconsistent with its own alpha_bar")])
def test_probe_reports_defects(schedule, defect, flag):
    sampler = _Wrapped(base=DesignSampler(design=make_design("ddim", schedule)), defect=defect)
    probe = probe_coefficients(sampler, rng=_rng())
    assert any(flag in p for p in probe.problems()), probe.problems()


def test_probe_reports_clipping_as_not_affine():
    probe = probe_coefficients(make_example("clipped_ddpm", T_SMALL), rng=_rng())
    assert not probe.is_affine
    assert any("clipping" in p for p in probe.problems())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_verdicts_without_split(name):
    result = audit_sampler(make_example(name, T_SMALL), rng=_rng(), split_checks=False)
    expected = EXAMPLES[name]
    if expected == "not affine":
        assert result.verdict is AuditVerdict.INCONCLUSIVE
        assert result.condition is None
    else:
        assert result.verdict.value == expected, result.reasons
        assert result.brute_force.agrees


@pytest.mark.parametrize(("name", "verdict", "call"), [
    ("ddpm_posterior", "adaptive", "flat"), ("ddim", "adaptive", "flat"),
    ("ddpm_beta", "not_adaptive", "grows"), ("pf_euler", "not_adaptive", "grows")])
def test_split_checks_agree_with_theory(name, verdict, call):
    result = audit_sampler(make_example(name, T_SMALL), rng=_rng(1), num_samples=5000)
    assert result.verdict.value == verdict, result.reasons
    assert result.dfree is not None and result.dfree.call == call
    assert result.rate is not None and result.rate.consistent


def test_ddim_eta_is_adaptive_for_each_eta(schedule):
    for eta in (0.0, 0.5, 1.0):
        sampler = DesignSampler(design=make_design("ddim_eta", schedule, eta=eta))
        result = audit_sampler(sampler, rng=_rng(), split_checks=False)
        assert result.verdict is AuditVerdict.ADAPTIVE, (eta, result.reasons)


def test_negative_control_broken_ddpm_is_not_adaptive():
    result = audit_sampler(make_example("broken_ddpm", T_SMALL), rng=_rng(), split_checks=False)
    assert result.verdict is AuditVerdict.NOT_ADAPTIVE
    assert result.exit_code == 1


def test_small_coefficient_error_is_caught(schedule):
    # σ_t² of the posterior design inflated by 1e-4: R_t - 1 ≈ 1e-4·σ²/(α-ᾱ), far above 1e-7.
    design = make_design("ddpm_posterior", schedule)
    from theorycheck.designs import custom_design

    bad = custom_design(schedule, eta=design.eta, sigma_sq=np.asarray(design.sigma_sq) * 1.0001)
    result = audit_sampler(DesignSampler(design=bad), rng=_rng(), split_checks=False)
    assert result.verdict is AuditVerdict.NOT_ADAPTIVE, result.reasons


def test_stateful_sampler_is_inconclusive(schedule):
    sampler = _Wrapped(base=DesignSampler(design=make_design("ddpm_beta", schedule)),
                       defect="stateful")
    result = audit_sampler(sampler, rng=_rng(), split_checks=False)
    assert result.brute_force.agrees is False
    assert result.verdict is AuditVerdict.INCONCLUSIVE
    assert any("does not describe" in r for r in result.reasons)


def test_result_is_json_ready_and_deterministic():
    first = audit_sampler(make_example("ddim", T_SMALL), rng=_rng(5), num_samples=2000)
    second = audit_sampler(make_example("ddim", T_SMALL), rng=_rng(5), num_samples=2000)
    a, b = first.to_dict(), second.to_dict()
    a.pop("seconds")
    b.pop("seconds")
    assert json.dumps(a) == json.dumps(b)
    assert a["verdict"] == "adaptive"
    for est in (a["one_step_condition"]["coefficient_error"],
                a["brute_force"]["measured_relative_variance_error"]):
        assert {"value", "stderr", "method", "error_kind"} <= set(est)
    text = audit_markdown(first)
    assert "**adaptive**" in text and "One-step condition" in text
    assert "| `" in audit_table([first])


def test_epsilon_ddpm_equals_posterior_design(schedule):
    design = DesignSampler(design=make_design("ddpm_posterior", schedule))
    user = EpsilonDDPM(alpha_bar=np.asarray(schedule.alpha_bar))
    rng = _rng()
    y, s, z = (rng.standard_normal((5, 3)) for _ in range(3))
    for t in (2, T_SMALL // 2, T_SMALL):
        np.testing.assert_allclose(user.step(y, t, s, z), design.step(y, t, s, z), rtol=1e-9)


def test_audit_argument_errors(schedule):
    sampler = DesignSampler(design=make_design("ddim", schedule))
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
        audit_sampler(sampler, rng=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`tv_tolerance` must be > 0"):
        audit_sampler(sampler, rng=_rng(), tv_tolerance=0.0)
    with pytest.raises(InvalidParameterError, match="`brute_force_dim` must be >= 2"):
        audit_sampler(sampler, rng=_rng(), brute_force_dim=1)
    with pytest.raises(InvalidParameterError, match="`probe_dim` must be >= 2"):
        probe_coefficients(sampler, rng=_rng(), probe_dim=1)
    with pytest.raises(InvalidParameterError, match="`name` must be one of"):
        make_example("nope")


class _Bad:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.alpha_bar = np.linspace(0.99, 0.1, 10)

    def step(self, y, t, score, noise):  # type: ignore[no-untyped-def]
        if self.kind == "shape":
            return y[:, :1]
        if self.kind == "nan":
            return y * np.nan
        raise TypeError("boom")


@pytest.mark.parametrize(("kind", "error", "match"), [
    ("shape", SamplerProtocolError, "must return shape"),
    ("nan", NonFiniteError, "returned NaN or infinity at t=10"),
    ("raise", SamplerProtocolError, "`sampler.step` failed at t=10")])
def test_probe_bad_steps(kind, error, match):
    with pytest.raises(error, match=match):
        probe_coefficients(_Bad(kind), rng=_rng())


def test_non_affine_sampler_with_wrong_variance_is_not_adaptive(schedule):
    # Not the generic step (clipping), so no one-step condition; its own chains show the
    # data-free variance collapsing (variance used as std): significant, hence not adaptive.
    sampler = EpsilonDDPM(alpha_bar=np.asarray(schedule.alpha_bar), clip=1.0,
                          variance_as_std=True)
    result = audit_sampler(sampler, rng=_rng(), split_checks=False)
    assert result.condition is None and result.dfree is None
    assert result.verdict is AuditVerdict.NOT_ADAPTIVE, result.reasons
    assert result.to_dict()["one_step_condition"] is None
