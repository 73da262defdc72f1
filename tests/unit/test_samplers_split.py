"""Sampler protocol, the single driver, and the exact d-split against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck.designs import make_design
from theorycheck.errors import InvalidParameterError, NonFiniteError, SamplerProtocolError
from theorycheck.samplers import DesignSampler, check_sampler, run_chain
from theorycheck.schedules import two_phase
from theorycheck.scores import ExactScore, PerturbedScore
from theorycheck.split import orthogonal_variance, simulate_split
from theorycheck.targets import SubspaceGaussianMixture

SEED = 20261123


def _target(d: int, k: int = 2) -> SubspaceGaussianMixture:
    rng = np.random.default_rng(7)
    means = rng.normal(size=(3, k))
    covs = np.stack([0.09 * np.eye(k), 0.25 * np.eye(k), np.zeros((k, k))])
    return SubspaceGaussianMixture.create([0.3, 0.5, 0.2], means, covs, ambient_dim=d,
                                          basis_seed=3)


@pytest.mark.parametrize("ambient_dim", [256, 1024, 2048])
@pytest.mark.parametrize("design_name", ["ddpm_posterior", "ddpm_beta", "ddim", "pf_euler"])
def test_split_matches_brute_force(ambient_dim: int, design_name: str) -> None:
    """Same rng → identical subspace trajectories; orthogonal variance within sampling error."""
    schedule = two_phase(60)
    design = make_design(design_name, schedule)
    target = _target(ambient_dim)
    n = 200
    brute = run_chain(DesignSampler(design=design), ExactScore(target=target, schedule=schedule),
                      num_samples=n, dim=ambient_dim, rng=np.random.default_rng(SEED),
                      basis=target.basis)
    split = simulate_split(design, target, num_samples=n, rng=np.random.default_rng(SEED))
    sub = target.to_subspace(brute.final)
    # Identical up to rounding: both chains use the same subspace draws and the blockwise score.
    np.testing.assert_allclose(sub, split.subspace.final, rtol=0, atol=1e-9)
    resid = brute.final - target.from_subspace(sub)
    m = ambient_dim - target.intrinsic_dim
    sample_var = float(np.sum(resid**2) / (n * m))
    v1 = split.orthogonal.final_variance
    # ‖y_⊥‖²/v1 is chi-square with n·m degrees of freedom: relative stderr sqrt(2/(n m)).
    rel_se = np.sqrt(2.0 / (n * m))
    assert abs(sample_var / v1 - 1) < 5 * rel_se, (sample_var, v1, rel_se, SEED)


def test_orthogonal_variance_theory() -> None:
    """Adaptive designs keep e_1 ≈ 0 (DDIM: start-up floor ≈ ᾱ_T); non-adaptive ones do not."""
    schedule = two_phase(2000)
    rel = {name: orthogonal_variance(make_design(name, schedule)).relative_error
           for name in ("ddpm_posterior", "ddim", "ddpm_beta", "pf_euler")}
    assert abs(rel["ddpm_posterior"]) < 1e-20
    alpha_bar_final = float(schedule.alpha_bar[-1])
    assert 0.1 * alpha_bar_final < abs(rel["ddim"]) < 10 * alpha_bar_final
    assert rel["ddpm_beta"] > 1e-4
    assert rel["pf_euler"] > 1e-4


def test_driver_same_seed_same_output_and_keep() -> None:
    schedule = two_phase(30)
    sampler = DesignSampler(design=make_design("ddpm_posterior", schedule))
    score = ExactScore(target=_target(5), schedule=schedule)
    a = run_chain(sampler, score, num_samples=10, dim=5, rng=np.random.default_rng(1), keep=(30, 2))
    b = run_chain(sampler, score, num_samples=10, dim=5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.final, b.final)
    assert set(a.kept) == {30, 2}
    assert a.kept[30].shape == (10, 5)


class _BadShape:
    alpha_bar = np.array([0.9, 0.5, 0.2])

    def step(self, y, t, score, noise):  # type: ignore[no-untyped-def]
        return y[:, :1]


class _NaNStep:
    alpha_bar = np.array([0.9, 0.5, 0.2])

    def step(self, y, t, score, noise):  # type: ignore[no-untyped-def]
        return y * np.nan if t == 2 else y


def _zero_score(x: np.ndarray, t: int) -> np.ndarray:
    return np.zeros_like(x)


def test_driver_errors() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(SamplerProtocolError, match=r"must return shape \(4, 3\) at t=3"):
        run_chain(_BadShape(), _zero_score, num_samples=4, dim=3, rng=rng)
    with pytest.raises(NonFiniteError, match=r"t=2\b"):
        run_chain(_NaNStep(), _zero_score, num_samples=4, dim=3, rng=rng)
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy\.random\.Generator"):
        run_chain(_NaNStep(), _zero_score, num_samples=4, dim=3, rng=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`num_samples` must be >= 1"):
        run_chain(_NaNStep(), _zero_score, num_samples=0, dim=3, rng=rng)
    with pytest.raises(InvalidParameterError, match="`basis` must have shape"):
        run_chain(_NaNStep(), _zero_score, num_samples=2, dim=3, rng=rng, basis=np.eye(2))
    with pytest.raises(InvalidParameterError, match="`initial` must have shape"):
        run_chain(_NaNStep(), _zero_score, num_samples=2, dim=3, rng=rng, initial=np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("alpha_bar", "match"),
    [([0.5], "at least 2 entries"), ([0.9, np.nan], "finite"), ([0.9, 1.2], r"in \(0, 1\)"),
     ([0.5, 0.9], "strictly decreasing")])
def test_check_sampler_errors(alpha_bar: list[float], match: str) -> None:
    class S:
        def step(self, y, t, score, noise):  # type: ignore[no-untyped-def]
            return y

    s = S()
    s.alpha_bar = np.array(alpha_bar)  # type: ignore[attr-defined]
    with pytest.raises(SamplerProtocolError, match=match):
        check_sampler(s)


def test_check_sampler_missing_attributes() -> None:
    with pytest.raises(SamplerProtocolError, match="`alpha_bar`"):
        check_sampler(object())

    class NoStep:
        alpha_bar = np.array([0.9, 0.5])

    with pytest.raises(SamplerProtocolError, match="`step"):
        check_sampler(NoStep())


def test_perturbed_score_adds() -> None:
    schedule = two_phase(20)
    base = ExactScore(target=_target(4), schedule=schedule)
    pert = PerturbedScore(base=base, perturbation=lambda x, t: np.ones_like(x))
    x = np.zeros((3, 4))
    np.testing.assert_allclose(pert(x, 5) - base(x, 5), 1.0)


def test_design_sampler_rejects_non_design() -> None:
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        DesignSampler(design="ddpm")  # type: ignore[arg-type]
