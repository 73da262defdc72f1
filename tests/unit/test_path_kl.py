"""Tests of the path KL with exact reverse conditionals (theorycheck.divergences.path_kl).

References are independent of the implementation: the Gaussian per-step KL is rebuilt in mpmath
from Gaussian conditioning (``Var = P - α P²/C``, mean slopes subtracted directly at 50 digits),
the marginal KL from the linear recursion of the sampler, and the mixture per-step KL from the
identities ``E_x I_t(x) = H(J|X_t) - H(J|X_{t-1})`` and ``E_x Σ_j w_j (s_j - s)² =
∫ Σ_{a<b} π_a π_b N_a N_b (s_a - s_b)²/p`` by adaptive 1-D quadrature.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import logsumexp

from theorycheck.designs import CoefficientDesign, make_design
from theorycheck.divergences._reverse_conditional import (
    gh_mutual_information_checked,
    x_minus_log1p,
)
from theorycheck.divergences.path_kl import PathKL, path_kl
from theorycheck.errors import InvalidParameterError
from theorycheck.results import ErrorKind
from theorycheck.schedules import Schedule, linear, two_phase
from theorycheck.split import orthogonal_variance
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

SEED = 20261123


def _rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(SEED + offset)


def _gaussian_eigen(mean: list[float], cov: list[list[float]]) -> list[tuple[Any, Any]]:
    """(λ_l, μ_l) of N(mean, cov) in the eigenbasis of cov, as mpf."""
    lam, vecs = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    coords = vecs.T @ np.asarray(mean, dtype=np.float64)
    return [(mpmath.mpf(float(a)), mpmath.mpf(float(b))) for a, b in zip(lam, coords, strict=True)]


def _reference_gaussian(design: CoefficientDesign, eigen: list[tuple[Any, Any]], m: int
                        ) -> tuple[list[Any], Any]:
    """Per-step path KL (t = 2..T) and start-up KL of a Gaussian target plus m free coordinates.

    Built from the joint law of (X_{t-1}, X_t) per eigendirection: Var(X_{t-1}|X_t) =
    P - α P²/C, E[X_{t-1}|X_t = x] - model mean = (sqrt(α) P/C - (1 - η/C)/sqrt(α)) (x - c).
    """
    sched = design.schedule
    betas, qs, abars = (sched.mp_one_minus_alpha(), sched.mp_one_minus_alpha_bar(),
                        sched.mp_alpha_bar())
    per_step = []
    with mpmath.workdps(60):
        for t in range(2, sched.num_steps + 1):
            alpha = 1 - betas[t - 1]
            eta, sigma_sq = design.mp_coefficients(t)
            model_var = sigma_sq / alpha

            def one(lam: Any, alpha: Any = alpha, eta: Any = eta, model_var: Any = model_var,
                    t: int = t) -> Any:
                p = abars[t - 2] * lam + qs[t - 2]
                c = abars[t - 1] * lam + qs[t - 1]
                var = p - alpha * p * p / c
                slope = mpmath.sqrt(alpha) * p / c - (1 - eta / c) / mpmath.sqrt(alpha)
                ratio = var / model_var
                return (ratio - 1 - mpmath.log(ratio) + slope ** 2 * c / model_var) / 2

            per_step.append(sum(one(lam) for lam, _ in eigen) + m * one(mpmath.mpf(0)))
        ab_t, q_t = abars[-1], qs[-1]
        start = sum((ab_t * lam + q_t) - 1 - mpmath.log(ab_t * lam + q_t) + ab_t * mu ** 2
                    for lam, mu in eigen) / 2 + m * (q_t - 1 - mpmath.log(q_t)) / 2
    return per_step, start


def _reference_marginal(design: CoefficientDesign, eigen: list[tuple[Any, Any]], m: int) -> Any:
    """KL(p_{X_1} ‖ p_{Y_1}) for a Gaussian target from the sampler's linear recursion."""
    sched = design.schedule
    betas, qs, abars = (sched.mp_one_minus_alpha(), sched.mp_one_minus_alpha_bar(),
                        sched.mp_alpha_bar())
    total = mpmath.mpf(0)
    with mpmath.workdps(60):
        for lam, mu, count in [*((lam, mu, 1) for lam, mu in eigen),
                               (mpmath.mpf(0), mpmath.mpf(0), m)]:
            mean, var = mpmath.mpf(0), mpmath.mpf(1)
            for t in range(sched.num_steps, 1, -1):
                eta, sigma_sq = design.mp_coefficients(t)
                c = abars[t - 1] * lam + qs[t - 1]
                root = mpmath.sqrt(1 - betas[t - 1])
                mean = (mean * (1 - eta / c) + eta * mpmath.sqrt(abars[t - 1]) * mu / c) / root
                var = ((1 - eta / c) ** 2 * var + sigma_sq) / (1 - betas[t - 1])
            c1 = abars[0] * lam + qs[0]
            ratio = c1 / var
            total += count * (ratio - 1 - mpmath.log(ratio)
                              + (mpmath.sqrt(abars[0]) * mu - mean) ** 2 / var) / 2
    return total


def _designs(schedule: Schedule) -> list[CoefficientDesign]:
    return [make_design("ddpm_posterior", schedule), make_design("ddpm_beta", schedule),
            make_design("ddim_eta", schedule, eta=0.3)]


SCHEDULES = {
    "two_phase": lambda: two_phase(60),
    "two_phase_tiny_beta1": lambda: two_phase(100, c0=4.0, c1=8.0),   # 1-α_1 = 1e-8
    "linear": lambda: linear(50, rescale=True),
}


@pytest.mark.parametrize("schedule_name", sorted(SCHEDULES))
def test_gaussian_target_matches_closed_form(schedule_name: str) -> None:
    schedule = SCHEDULES[schedule_name]()
    mean, cov = [0.4, -1.1], [[0.3, 0.12], [0.12, 0.05]]
    target = SubspaceGaussianMixture.create([1.0], [mean], [cov], ambient_dim=25, basis_seed=3)
    eigen = _gaussian_eigen(mean, cov)
    for design in _designs(schedule):
        result = path_kl(design, target, num_samples=8, rng=_rng())
        per_step, start = _reference_gaussian(design, eigen, m=23)
        ref_steps = np.array([float(v) for v in per_step])
        np.testing.assert_allclose(result.per_step, ref_steps, rtol=1e-10, atol=0,
                                   err_msg=design.describe())
        ref_total = float(sum(per_step) + start)
        assert result.total.value == pytest.approx(ref_total, rel=1e-10)
        assert result.start_up.value == pytest.approx(float(start), rel=1e-10)
        assert result.total.error_kind is ErrorKind.EXACT
        assert result.total.stderr == 0.0
        assert np.all(result.per_step_stderr == 0.0)


def test_one_dimensional_and_product_gaussians_match_closed_form() -> None:
    schedule = two_phase(40)
    design = make_design("ddim_eta", schedule, eta=0.6)
    single = SubspaceGaussianMixture.create([1.0], [[0.8]], [[[0.2]]], ambient_dim=5)
    product = ProductMixture.create([([1.0], [0.8], [0.2]), ([1.0], [-0.5], [1.7])],
                                    ambient_dim=6)
    for target, eigen in [
            (single, [(mpmath.mpf(0.2), mpmath.mpf(0.8))]),
            (product, [(mpmath.mpf(0.2), mpmath.mpf(0.8)), (mpmath.mpf(1.7), mpmath.mpf(-0.5))])]:
        result = path_kl(design, target, num_samples=8, rng=_rng())
        per_step, start = _reference_gaussian(design, eigen, m=4)
        assert result.total.value == pytest.approx(float(sum(per_step) + start), rel=1e-10)


def test_atom_under_ddpm_posterior_has_zero_per_step_kl() -> None:
    # The DDPM posterior variance is the exact reverse variance when the data are a point: every
    # step term vanishes and only the start-up mismatch remains.  For Σ ≠ 0 it does not (next).
    schedule = two_phase(200)
    design = make_design("ddpm_posterior", schedule)
    atom = SubspaceGaussianMixture.create([1.0], [[0.7, -0.2]], [np.zeros((2, 2))],
                                          ambient_dim=1000)
    result = path_kl(design, atom, num_samples=4, rng=_rng())
    assert np.max(np.abs(result.per_step)) < 1e-60
    assert result.total.value == pytest.approx(result.start_up.value, rel=1e-14)
    spread = SubspaceGaussianMixture.create([1.0], [[0.7]], [[[0.5]]])
    assert np.all(path_kl(design, spread, num_samples=4, rng=_rng()).per_step > 0)


@pytest.mark.parametrize("name", ["ddpm_posterior", "ddpm_beta", "ddim_eta"])
def test_path_kl_bounds_marginal_kl_for_gaussian(name: str) -> None:
    schedule = two_phase(80)
    design = make_design(name, schedule, eta=0.5 if name == "ddim_eta" else None)
    mean, cov = [1.0, 0.3], [[0.6, -0.2], [-0.2, 0.4]]
    target = SubspaceGaussianMixture.create([1.0], [mean], [cov], ambient_dim=12)
    marginal = float(_reference_marginal(design, _gaussian_eigen(mean, cov), m=10))
    result = path_kl(design, target, num_samples=8, rng=_rng())
    # Data processing.  (The bound is loose for Gaussians: the marginal KL decays like
    # (log T/T)², the path KL like log²T/T — about 120× apart here for DDPM-posterior.)
    assert 0.0 < marginal <= result.total.value


def test_orthogonal_part_is_m_times_one_coordinate_and_bounds_recursion() -> None:
    schedule = two_phase(120)
    target = SubspaceGaussianMixture.create([1.0], [[0.0]], [[[1.0]]])
    for name in ("ddpm_posterior", "ddpm_beta"):
        design = make_design(name, schedule)
        one_coord, one_start = _reference_gaussian(design, [], m=1)
        small = path_kl(design, target, num_samples=4, rng=_rng(), ambient_dim=11)
        huge = path_kl(design, target, num_samples=4, rng=_rng(), ambient_dim=10**9)
        expected = float(sum(one_coord) + one_start)
        assert small.orthogonal.value == pytest.approx(10 * expected, rel=1e-12)
        assert huge.orthogonal.value == pytest.approx((10**9 - 1) * expected, rel=1e-12)
        assert huge.orthogonal.error_kind is ErrorKind.EXACT
        # The data-free marginal from split's exact variance recursion is a lower bound.
        ov = orthogonal_variance(design)
        ratio = ov.target_variance / ov.final_variance
        marginal = 10 * (ratio - 1 - math.log(ratio)) / 2
        assert marginal <= small.orthogonal.value * (1 + 1e-12)
        if name == "ddpm_posterior":
            assert np.max(small.per_step_orthogonal) < 1e-90   # zero up to mpmath rounding
            assert small.orthogonal.value == pytest.approx(
                10 * float(one_start), rel=1e-12)   # only the start-up ᾱ_T²/4 per coordinate
        else:
            assert np.all(small.per_step_orthogonal > 0.0)
            assert huge.orthogonal.value > 1e7   # DDPM-β pays ~ m·Σ u_t²/4: the sqrt(d) story
        assert huge.subspace.value == pytest.approx(small.subspace.value, rel=1e-14)


def _mixture_step_reference(design: CoefficientDesign, weights: list[float],
                            means: list[float], variances: list[float], t: int) -> float:
    """Per-step KL of a 1-D mixture by adaptive quadrature of the identities (module notes)."""
    sched = design.schedule
    ab, q = sched.alpha_bar, sched.one_minus_alpha_bar
    beta = float(sched.one_minus_alpha[t - 1])
    eta_mp, sig_mp = design.mp_coefficients(t)
    eta, sigma_sq = float(eta_mp), float(sig_mp)
    alpha = 1.0 - beta
    w, mu, lam = (np.asarray(v, dtype=np.float64) for v in (weights, means, variances))

    def level(s: int) -> tuple[np.ndarray, np.ndarray, float]:
        return ab[s - 1] * lam + q[s - 1], math.sqrt(ab[s - 1]) * mu, float(ab[s - 1])

    closed = 0.0
    c_t, _, _ = level(t)
    c_prev, _, _ = level(t - 1)
    for wj, cj, pj in zip(w, c_t, c_prev, strict=True):
        ratio = (pj - alpha * pj * pj / cj) * alpha / sigma_sq
        closed += wj * 0.5 * (ratio - 1 - math.log(ratio) + (beta - eta) ** 2 / (sigma_sq * cj))

    def densities(x: float, s: int) -> tuple[np.ndarray, np.ndarray]:
        c, m, _ = level(s)
        return w * np.exp(-(x - m) ** 2 / (2 * c)) / np.sqrt(2 * np.pi * c), -(x - m) / c

    def spread(x: float) -> float:
        dens, scores = densities(x, t)
        p = float(np.sum(dens))
        if p == 0.0:
            return 0.0
        diff = scores[:, None] - scores[None, :]
        return float(np.sum(np.outer(dens, dens) * diff * diff)) / (2 * p)

    def cond_entropy(s: int) -> float:
        def f(x: float) -> float:
            dens, _ = densities(x, s)
            p = float(np.sum(dens))
            post = dens[dens > 0] / p
            return -p * float(np.sum(post * np.log(post))) if p > 0 else 0.0
        return _integrate(f, s)

    def _integrate(f: Any, s: int) -> float:
        c, m, _ = level(s)
        lo, hi = float(np.min(m - 12 * np.sqrt(c))), float(np.max(m + 12 * np.sqrt(c)))
        points = sorted({*m.tolist(), *(0.5 * (m[:-1] + m[1:])).tolist()})
        return quad(f, lo, hi, points=points, epsabs=1e-14, epsrel=1e-12, limit=400)[0]

    var_term = 0.5 * eta * (2 * beta - eta) / sigma_sq * _integrate(spread, t)
    return closed + var_term - (cond_entropy(t) - cond_entropy(t - 1))


def test_mixture_per_step_matches_quadrature_reference() -> None:
    schedule = linear(40, rescale=True)
    weights, means, variances = [0.3, 0.7], [-1.0, 1.2], [0.05, 0.2]
    target = SubspaceGaussianMixture.create(weights, [[m] for m in means],
                                            [[[v]] for v in variances], ambient_dim=3)
    steps = [2, 5, 12, 25, 40]
    for design in (make_design("ddpm_posterior", schedule),
                   make_design("ddim_eta", schedule, eta=0.5)):
        result = path_kl(design, target, num_samples=4000, rng=_rng(1), steps=steps)
        sub = result.per_step - result.per_step_orthogonal
        for value, stderr, t in zip(sub, result.per_step_stderr, steps, strict=True):
            ref = _mixture_step_reference(design, weights, means, variances, t)
            assert abs(value - ref) <= 4 * stderr + 1e-10 * abs(ref), (design.describe(), t)
        assert not result.complete
        assert result.quadrature_error < 1e-8


def test_near_discrete_tail_steps_are_sampled() -> None:
    # At these steps the label posterior is mixed only ~10 standard deviations out in the tails
    # of p_{X_t}: plain sampling from p_{X_t} returned ~0 with a ~0 standard error (step 37:
    # 5.6e-6 ± 3e-6 against 9.5e-5).  The crossing proposal must find that mass.
    schedule = two_phase(100)
    design = make_design("ddpm_posterior", schedule)
    weights, means, variances = [0.5, 0.5], [-1.0, 1.0], [1e-3, 1e-3]
    target = SubspaceGaussianMixture.create(weights, [[m] for m in means],
                                            [[[v]] for v in variances])
    steps = [33, 35, 37]
    result = path_kl(design, target, num_samples=400, rng=_rng(8), steps=steps)
    for value, stderr, t in zip(result.per_step, result.per_step_stderr, steps, strict=True):
        ref = _mixture_step_reference(design, weights, means, variances, t)
        assert abs(value - ref) <= 4 * stderr + 1e-10 * ref, t
        assert stderr < 0.05 * ref, t


def _mutual_information_quad(w: np.ndarray, m: np.ndarray, v: np.ndarray) -> float:
    """Reference by composite 10-point Gauss–Legendre on 4000 panels over ±40 sd per component
    (panels of 0.02 sd resolve the kink where two components cross, width ≥ sd/16 here)."""
    nodes, weights = np.polynomial.legendre.leggauss(10)
    total = 0.0
    for j in range(w.size):
        sd = math.sqrt(v[j])
        edges = np.linspace(m[j] - 40 * sd, m[j] + 40 * sd, 4001)
        half = 0.5 * np.diff(edges)
        y = ((edges[:-1] + half)[:, None] + half[:, None] * nodes).ravel()
        log_pdf = -0.5 * np.log(2 * np.pi * v[:, None]) - (y - m[:, None]) ** 2 / (2 * v[:, None])
        log_mix = logsumexp(np.log(w)[:, None] + log_pdf, axis=0)
        f = np.exp(log_pdf[j]) * (log_pdf[j] - log_mix)
        total += w[j] * float(np.sum((half[:, None] * weights).ravel() * f))
    return total


def test_gauss_hermite_error_estimate_is_conservative() -> None:
    # Hard cases on purpose: separations up to 16 standard deviations, variance ratios up to 4.
    gen = np.random.default_rng(SEED)
    for _ in range(25):
        size = int(gen.integers(2, 5))
        w = gen.dirichlet(np.full(size, 0.7))
        m = gen.uniform(0, 10 ** gen.uniform(-2, 1.2), size)
        v = np.exp(gen.uniform(-0.7, 0.7, size))
        value, error = gh_mutual_information_checked(np.log(w)[None], m[None], (v - 1)[None])
        assert abs(value[0] - _mutual_information_quad(w, m, v)) <= error[0] + 1e-13
        assert error[0] < 1e-7


def test_x_minus_log1p_matches_mpmath() -> None:
    xs = np.array([-0.9, -0.3, -0.25, -1e-3, -1e-9, 0.0, 1e-12, 1e-5, 0.2499, 0.25, 3.0, 1e6])
    with mpmath.workdps(60):
        ref = [float(mpmath.mpf(x) - mpmath.log1p(mpmath.mpf(x))) for x in xs]
    np.testing.assert_allclose(x_minus_log1p(xs), ref, rtol=2e-15, atol=0)


def test_product_target_is_sum_of_its_factors() -> None:
    design = make_design("ddpm_beta", two_phase(20))
    factors = [([0.3, 0.7], [-1.0, 0.5], [0.02, 0.1]), ([0.5, 0.5], [0.0, 2.0], [0.3, 0.3])]
    product = path_kl(design, ProductMixture.create(factors), num_samples=1000, rng=_rng(9))
    parts = [path_kl(design, SubspaceGaussianMixture.create(w, [[a] for a in mu],
                                                            [[[b]] for b in var]),
                     num_samples=1000, rng=_rng(10 + i)) for i, (w, mu, var) in enumerate(factors)]
    total = sum(p.total.value for p in parts)
    spread = math.sqrt(product.total.stderr ** 2 + sum(p.total.stderr ** 2 for p in parts))
    assert abs(product.total.value - total) <= 4 * spread


def test_general_k_mixture_agrees_with_equivalent_product() -> None:
    # A 2-D mixture whose components are products is also a ProductMixture: the Monte Carlo
    # (k ≥ 2) and Gauss–Hermite (product) routes must agree within their standard errors.
    schedule = two_phase(30)
    design = make_design("ddpm_posterior", schedule)
    full = SubspaceGaussianMixture.create(
        [0.4, 0.6], [[-1.0, 0.3], [1.0, 0.3]], [np.diag([0.1, 0.5]), np.diag([0.1, 0.5])],
        ambient_dim=8)
    product = ProductMixture.create([([0.4, 0.6], [-1.0, 1.0], [0.1, 0.1]),
                                     ([1.0], [0.3], [0.5])], ambient_dim=8)
    a = path_kl(design, full, num_samples=1500, rng=_rng(2))
    b = path_kl(design, product, num_samples=1500, rng=_rng(3))
    assert abs(a.total.value - b.total.value) <= 4 * math.hypot(a.total.stderr, b.total.stderr)
    assert a.total.error_kind is ErrorKind.STDERR and a.total.stderr > 0
    assert a.orthogonal.value == b.orthogonal.value


def test_mixture_path_kl_decreases_in_T_for_ddpm_posterior() -> None:
    target = SubspaceGaussianMixture.create([0.5, 0.5], [[-1.0], [1.0]], [[[0.05]], [[0.05]]],
                                            ambient_dim=50)
    coarse, fine = (path_kl(make_design("ddpm_posterior", two_phase(T)), target,
                            num_samples=400, rng=_rng(4)) for T in (100, 400))
    gap = coarse.total.value - fine.total.value
    assert gap > 5 * math.hypot(coarse.total.stderr, fine.total.stderr)
    assert fine.total.value > 0


def test_same_seed_identical_and_independent_of_step_selection() -> None:
    target = ProductMixture.create([([0.5, 0.5], [-1.0, 1.0], [0.1, 0.3]),
                                    ([0.2, 0.8], [0.0, 2.0], [0.05, 0.05])], ambient_dim=4)
    design = make_design("ddpm_beta", two_phase(25))
    first = path_kl(design, target, num_samples=64, rng=_rng(5))
    again = path_kl(design, target, num_samples=64, rng=_rng(5))
    assert first.total == again.total
    np.testing.assert_array_equal(first.per_step, again.per_step)
    subset = path_kl(design, target, num_samples=64, rng=_rng(5), steps=[20, 3])
    np.testing.assert_array_equal(subset.steps, [3, 20])
    np.testing.assert_array_equal(subset.per_step, first.per_step[[1, 18]])
    other = path_kl(design, target, num_samples=64, rng=_rng(6))
    assert other.total.value != first.total.value
    assert isinstance(first, PathKL) and first.complete


@pytest.mark.parametrize("name, eta", [("ddim", None), ("pf_euler", None), ("ddim_eta", 0.0)])
def test_deterministic_designs_raise(name: str, eta: float | None) -> None:
    design = make_design(name, two_phase(20), eta=eta)
    target = SubspaceGaussianMixture.create([1.0], [[0.0]], [[[1.0]]])
    with pytest.raises(InvalidParameterError, match=r"`design` must have σ_t > 0.*t = 2"):
        path_kl(design, target, num_samples=10, rng=_rng())


@pytest.mark.parametrize("kwargs, match", [
    ({"design": "ddpm"}, r"`design` must be a CoefficientDesign"),
    ({"target": object()}, r"`target` must be a SubspaceGaussianMixture or ProductMixture"),
    ({"num_samples": 3}, r"`num_samples` must be >= 4"),
    ({"num_samples": 2.5}, r"`num_samples` must be an integer"),
    ({"rng": 7}, r"`rng` must be a numpy.random.Generator"),
    ({"ambient_dim": 1}, r"`ambient_dim` must be >= 2"),
    ({"steps": [1]}, r"`steps` must be >= 2"),
    ({"steps": [21]}, r"`steps` must be <= 20"),
    ({"steps": [3, 3]}, r"`steps` must not repeat a step"),
    ({"steps": []}, r"`steps` must contain at least one step"),
    ({"steps": "2"}, r"`steps` must be a sequence of integers"),
])
def test_invalid_arguments(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {
        "design": make_design("ddpm_posterior", two_phase(20)),
        "target": SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [np.eye(2)]),
        "num_samples": 10, "rng": _rng()}
    args.update(kwargs)
    design, target = args.pop("design"), args.pop("target")
    with pytest.raises(InvalidParameterError, match=match):
        path_kl(design, target, **args)
