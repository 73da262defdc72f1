"""Claim DECOMP: verdicts, determinism per seed, and the ambient score against the target's."""

from __future__ import annotations

import numpy as np

from theorycheck.claims.decomposition import ambient_mixture_score, register
from theorycheck.claims.registry import Registry
from theorycheck.claims.types import CheckContext, CheckOutcome, Variant
from theorycheck.results import Verdict
from theorycheck.targets import SubspaceGaussianMixture


def _run(variant: Variant, seed: int = 0) -> CheckOutcome:
    registry = Registry()
    register(registry)
    return registry.get("DECOMP").check(CheckContext(claim_id="DECOMP", profile="quick",
                                                     variant=variant, seed=seed))


def test_quick_claim_passes_and_control_fails() -> None:
    claim, control = _run(Variant.CLAIM), _run(Variant.CONTROL)
    assert claim.verdict is Verdict.PASS, claim.summary
    assert control.verdict is Verdict.FAIL, control.summary
    worst_perp = max(p.estimates["max_rel_error_off_subspace"].value for p in control.points)
    assert worst_perp > 1e-4  # the control's wrong orthogonal factor shows off the subspace


def test_deterministic_per_seed() -> None:
    a, b, c = _run(Variant.CLAIM, 3), _run(Variant.CLAIM, 3), _run(Variant.CLAIM, 4)
    assert [p.to_dict() for p in a.points] == [p.to_dict() for p in b.points]
    assert [p.params for p in a.points] != [p.params for p in c.points]


def test_ambient_score_matches_target_score() -> None:
    """Independent d-dimensional computation against the target's split implementation."""
    rng = np.random.default_rng(7)
    target = SubspaceGaussianMixture.create([0.4, 0.6], [[1.0, -1.0], [-0.5, 2.0]],
                                            [np.eye(2) * 0.2, [[0.5, 0.1], [0.1, 0.3]]],
                                            ambient_dim=6, basis_seed=2)
    x = rng.normal(size=(50, 6))
    ours, cond = ambient_mixture_score(target, x, alpha_bar=0.7, one_minus_alpha_bar=0.3)
    ref = target.score(x, alpha_bar=0.7, one_minus_alpha_bar=0.3)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert cond >= 1.0
