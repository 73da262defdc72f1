"""diffusers' schedulers through the audit adapters (skipped without torch and diffusers)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")

from theorycheck.audit import AuditVerdict, audit_sampler, probe_coefficients  # noqa: E402
from theorycheck.audit.diffusers_adapters import (  # noqa: E402
    SCHEDULERS,
    compare_with_design,
    make_scheduler_sampler,
    table_precision,
)
from theorycheck.designs import make_design  # noqa: E402
from theorycheck.samplers import DesignSampler  # noqa: E402
from theorycheck.schedules import from_alpha_bar  # noqa: E402

# diffusers' Euler-ancestral set_timesteps calls np.array on a torch tensor, which numpy 2 flags;
# that is the library's warning, not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if "d ≤ 1e6" not in n])
def test_scheduler_equals_its_design(name):
    spec = SCHEDULERS[name]
    sampler = make_scheduler_sampler(name)
    schedule = from_alpha_bar(sampler.alpha_bar)
    design = DesignSampler(design=make_design(spec.design, schedule, eta=spec.eta))
    rng = np.random.default_rng(0)
    y, s, z = (rng.standard_normal((4, 3)) for _ in range(3))
    # float64 adapters agree with theorycheck's design to ~1e-12 (fixed_large: the α_t factor of
    # its noise scale, ≤ 1 %); Euler-ancestral computes in float32 (relative ~1e-6).
    tol = 2e-2 if "fixed_large" in name else (1e-5 if "Euler" in name else 1e-10)
    for t in (2, 500, 1000):
        np.testing.assert_allclose(sampler.step(y, t, s * 10, z), design.step(y, t, s * 10, z),
                                   rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["DDPMScheduler(fixed_small)", "DDPMScheduler(fixed_large)",
                                  "DDIMScheduler(eta=0.5)"])
def test_scheduler_verdicts(name):
    sampler = make_scheduler_sampler(name)
    result = audit_sampler(sampler, rng=np.random.default_rng(0), name=name,
                           split_checks=False, brute_force_samples=500)
    assert result.verdict is AuditVerdict(SCHEDULERS[name].expected), result.reasons
    comparison = compare_with_design(result, SCHEDULERS[name].design, SCHEDULERS[name].eta,
                                     from_alpha_bar(sampler.alpha_bar))
    assert comparison.max_rel_eta < 1e-10


def test_clip_sample_is_reported_as_not_affine():
    sampler = make_scheduler_sampler("DDPMScheduler(fixed_small)")
    sampler.scheduler.register_to_config(clip_sample=True)
    probe = probe_coefficients(sampler, rng=np.random.default_rng(0))
    assert not probe.is_affine


def test_float32_table_precision():
    info = table_precision()
    assert info["dtype"] == "torch.float32"
    assert 5.5 < info["alpha_bar_min_digits"] < 8.0
    assert info["one_minus_alpha_bar_digits_at_1"] < 5.0
