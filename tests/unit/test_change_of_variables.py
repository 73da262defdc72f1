"""Unit tests of :mod:`theorycheck.divergences.change_of_variables`.

Independent references: the affine recursion of a Gaussian target (exact output law, closed-form
KL, TV by a closed form in 1-D and by nested normal-cdf quadrature in 3-D), a grid of starting
points pushed through the 1-D flow with exact cell masses (no Jacobian used), and a d = 3 target
simulated without the split (full-rank with two zero-variance directions).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import ndtr

from theorycheck.designs import CoefficientDesign, custom_design, make_design
from theorycheck.divergences.change_of_variables import (
    FlowSamples,
    deterministic_divergences,
    flow_log_density,
)
from theorycheck.errors import InvalidParameterError, NonFiniteError, TheorycheckError
from theorycheck.samplers import DesignSampler
from theorycheck.schedules import two_phase
from theorycheck.scores import ExactScore
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

SEED = 20261123
FloatArray = NDArray[np.float64]

WEIGHTS = np.array([0.3, 0.7])   # the 1-D two-component mixture of the brief
MEANS = np.array([-1.5, 1.0])
VARIANCES = np.array([0.09, 0.25])


def _mixture_1d() -> SubspaceGaussianMixture:
    return SubspaceGaussianMixture.create(WEIGHTS, MEANS[:, None], VARIANCES[:, None, None])


# --- (a) Gaussian targets: the output law is Gaussian with an affine recursion ---

def _gaussian_output(design: CoefficientDesign, mean: FloatArray, cov: FloatArray
                     ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """V (eigenvectors of Σ), E[Y_1], Var(Y_1) and the target's mean and variance at noise level
    1, in V's coordinates: every C_t = ᾱ_t Σ + (1-ᾱ_t) I is diagonal in V, so φ_t acts there as
    y -> a y + b, a = (1 - η_t/c)/sqrt(α_t), b = η_t sqrt(ᾱ_t) μ/(c sqrt(α_t))."""
    sched = design.schedule
    lam, vecs = np.linalg.eigh(cov)
    mu = vecs.T @ mean
    gain, shift = np.ones_like(lam), np.zeros_like(lam)
    for t in range(sched.num_steps, 1, -1):
        c = sched.alpha_bar[t - 1] * lam + sched.one_minus_alpha_bar[t - 1]
        scale = 1.0 / math.sqrt(sched.alpha[t - 1])
        a = (1.0 - design.eta[t - 1] / c) * scale
        gain, shift = gain * a, shift * a + design.eta[t - 1] / c * math.sqrt(
            sched.alpha_bar[t - 1]) * mu * scale
    target_var = sched.alpha_bar[0] * lam + sched.one_minus_alpha_bar[0]
    return vecs, shift, gain**2, math.sqrt(sched.alpha_bar[0]) * mu, target_var


def _tv_1d_gaussians(m_q: float, v_q: float, m_p: float, v_p: float) -> float:
    """TV(N(m_q, v_q), N(m_p, v_p)): the densities cross at the roots of a quadratic."""
    a = 0.5 / v_p - 0.5 / v_q                    # log q - log p = a x² + b x + c
    b = m_q / v_q - m_p / v_p
    c = 0.5 * (m_p**2 / v_p - m_q**2 / v_q) + 0.5 * math.log(v_p / v_q)
    disc = b * b - 4 * a * c
    assert disc > 0
    root = -0.5 * (b + math.copysign(math.sqrt(disc), b))   # stable quadratic formula
    lo, hi = sorted((root / a, c / root))
    mass = [ndtr((hi - m) / math.sqrt(v)) - ndtr((lo - m) / math.sqrt(v))
            for m, v in ((m_q, v_q), (m_p, v_p))]
    return float(abs(mass[0] - mass[1]))         # one density dominates between the roots


def _tv_product_gaussians(m_q: FloatArray, v_q: FloatArray, m_p: FloatArray,
                          v_p: FloatArray, nodes: int = 1201) -> float:
    """TV of two diagonal 3-D Gaussians: trapezoid in the first two (q-standardised) coordinates
    of the exact integral of (q_3 - e^L p_3)_+ over the third (between a quadratic's roots); the
    outer integrand is C¹ and Gaussian-weighted, so 1201² nodes are far below the MC errors."""
    u = np.linspace(-9.0, 9.0, nodes)
    x1 = m_q[0] + math.sqrt(v_q[0]) * u[:, None]
    x2 = m_q[1] + math.sqrt(v_q[1]) * u[None, :]
    log_ratio_12 = sum(-0.5 * ((x - m_p[i])**2 / v_p[i] - (x - m_q[i])**2 / v_q[i])
                       - 0.5 * math.log(v_p[i] / v_q[i]) for i, x in ((0, x1), (1, x2)))
    # positive set of q_3(x) - e^L p_3(x): a x² + b x + c > 0 with L = log_ratio_12
    a = 0.5 / v_p[2] - 0.5 / v_q[2]
    b = m_q[2] / v_q[2] - m_p[2] / v_p[2]
    c = 0.5 * (m_p[2]**2 / v_p[2] - m_q[2]**2 / v_q[2]) + 0.5 * math.log(v_p[2] / v_q[2]) \
        - log_ratio_12
    assert a < 0   # q_3 narrower than p_3 here: the positive set lies between the roots
    disc = np.maximum(b * b - 4 * a * c, 0.0)          # no real root: empty set, lo = hi
    hi = (-b - np.sqrt(disc)) / (2 * a)
    lo = (-b + np.sqrt(disc)) / (2 * a)

    def mass(m: float, v: float) -> FloatArray:
        return np.asarray(ndtr((hi - m) / math.sqrt(v)) - ndtr((lo - m) / math.sqrt(v)))

    inner = mass(m_q[2], v_q[2]) - np.exp(log_ratio_12) * mass(m_p[2], v_p[2])
    weight = np.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
    return float(np.trapezoid(np.trapezoid(inner * weight[None, :], u, axis=1) * weight, u))


def _gaussian_case(k: int) -> tuple[FloatArray, FloatArray]:
    if k == 1:
        return np.array([0.7]), np.array([[0.3]])
    rng = np.random.default_rng(3)
    a = rng.standard_normal((k, k))
    return rng.standard_normal(k), 0.2 * a @ a.T / k + 0.05 * np.eye(k)   # non-diagonal Σ


@pytest.mark.parametrize("design_name", ["ddim", "pf_euler"])
@pytest.mark.parametrize("k", [1, 3])
def test_gaussian_log_density_is_exact(k: int, design_name: str) -> None:
    """log q along each path equals the exact Gaussian log-density of Y_1 to ~1e-10."""
    mean, cov = _gaussian_case(k)
    design = make_design(design_name, two_phase(40))
    target = SubspaceGaussianMixture.create([1.0], mean[None, :], cov[None])
    flow = flow_log_density(design, target, num_samples=500, rng=np.random.default_rng(SEED),
                            chunk_size=128)
    assert isinstance(flow, FlowSamples) and flow.y1.shape == (500, k)
    vecs, m_q, v_q, m_p, v_p = _gaussian_output(design, mean, cov)
    u = flow.y1 @ vecs
    exact_q = -0.5 * np.sum((u - m_q)**2 / v_q + np.log(2 * math.pi * v_q), axis=1)
    exact_p = -0.5 * np.sum((u - m_p)**2 / v_p + np.log(2 * math.pi * v_p), axis=1)
    # Both sides are sums of ~T·k float64 logs of O(1) numbers: rounding ~1e-13.
    np.testing.assert_allclose(flow.log_q, exact_q, rtol=0, atol=1e-10)
    np.testing.assert_allclose(flow.log_p, exact_p, rtol=0, atol=1e-10)


@pytest.mark.parametrize("k", [1, 3])
def test_gaussian_divergences_match_closed_forms(k: int) -> None:
    """TV and KL(q‖p) within 4 standard errors of the closed forms (d = k, so TV = TV_k)."""
    mean, cov = _gaussian_case(k)
    design = make_design("ddim", two_phase(40))
    target = SubspaceGaussianMixture.create([1.0], mean[None, :], cov[None])
    est = deterministic_divergences(design, target, num_samples=40_000,
                                    rng=np.random.default_rng(SEED))
    _, m_q, v_q, m_p, v_p = _gaussian_output(design, mean, cov)
    rho = v_q / v_p
    kl_exact = 0.5 * float(np.sum(rho - 1 - np.log(rho) + (m_q - m_p)**2 / v_p))
    if k == 1:
        tv_exact = _tv_1d_gaussians(m_q[0], v_q[0], m_p[0], v_p[0])
    else:
        tv_exact = _tv_product_gaussians(m_q, v_q, m_p, v_p)
    tv, kl = est["tv"], est["kl"]
    print(f"k={k} TV {tv.value:.6g}±{tv.stderr:.2g} (exact {tv_exact:.6g}); "
          f"KL {kl.value:.6g}±{kl.stderr:.2g} (exact {kl_exact:.6g}); seed {SEED}")
    assert abs(tv.value - tv_exact) <= 4 * tv.stderr
    assert abs(kl.value - kl_exact) <= 4 * kl.stderr
    # the errors are small enough for the comparison to be able to fail
    assert tv.stderr < 0.05 * tv_exact and kl.stderr < 0.05 * kl_exact
    assert "model→target" in kl.method and kl.error_kind.value == "stderr"
    assert est["tv_orthogonal"].value == 0.0 and est["kl_orthogonal"].value == 0.0
    assert tv.value == est["tv_subspace"].value and kl.value == est["kl_subspace"].value


# --- (b) a 1-D mixture against a grid pushed through the flow (no Jacobians involved) ---

def _push_grid(design: CoefficientDesign, y_start: FloatArray) -> FloatArray:
    """Φ(y_T) for a 1-D grid through the same step and score, without any derivative."""
    target = _mixture_1d()
    sampler = DesignSampler(design=design)
    score = ExactScore(target=target, schedule=design.schedule)
    y = y_start[:, None].copy()
    zeros = np.zeros_like(y)
    for t in range(design.num_steps, 1, -1):
        y = sampler.step(y, t, score(y, t), zeros)
    return np.asarray(y[:, 0])


def _grid_tv(design: CoefficientDesign, cells: int) -> float:
    """TV from exact cell masses: cell [y_T,i, y_T,i+1] (q-mass by ndtr) maps onto [y_1,i, y_1,i+1]
    (the flow is increasing), whose p-mass is a difference of mixture cdfs; half the summed
    |q-mass - p-mass| is a lower bound converging to TV (only cells with a crossing lose)."""
    y_start = np.linspace(-9.0, 9.0, cells + 1)
    y_end = _push_grid(design, y_start)
    assert np.all(np.diff(y_end) > 0), "the 1-D flow must be increasing"
    sched = design.schedule
    sd = np.sqrt(sched.alpha_bar[0] * VARIANCES + sched.one_minus_alpha_bar[0])
    p_cdf = np.sum(WEIGHTS * ndtr((y_end[:, None] - math.sqrt(sched.alpha_bar[0]) * MEANS)
                                  / sd), axis=1)
    q_mass, p_mass = np.diff(ndtr(y_start)), np.diff(p_cdf)
    outside = (1.0 - q_mass.sum()) + (1.0 - p_mass.sum())   # both ~1e-16 beyond ±9
    return 0.5 * float(np.sum(np.abs(q_mass - p_mass)) + outside)


@pytest.mark.slow
def test_mixture_1d_against_pushed_grid() -> None:
    """DDIM on the two-component mixture: MC TV = grid TV within 4 stderr + grid tolerance,
    log q = log N(y_T) - log Φ'(y_T) with Φ' by central differences of the map itself, and
    TV falls from T = 50 to T = 200."""
    tvs = {}
    for num_steps in (50, 200):
        design = make_design("ddim", two_phase(num_steps))
        tv_grid, tv_coarse = _grid_tv(design, 16_000), _grid_tv(design, 8_000)
        grid_tol = 4 * abs(tv_grid - tv_coarse) + 1e-9   # O(h²): 4× the last refinement step
        est = deterministic_divergences(design, _mixture_1d(), num_samples=20_000,
                                        rng=np.random.default_rng(SEED + num_steps))
        tv = est["tv"]
        print(f"T={num_steps}: MC TV {tv.value:.6g}±{tv.stderr:.2g}, grid {tv_grid:.8g} "
              f"(tol {grid_tol:.1g}); seed {SEED + num_steps}")
        assert abs(tv.value - tv_grid) <= 4 * tv.stderr + grid_tol
        tvs[num_steps] = tv

        n = 2_000
        flow = flow_log_density(design, _mixture_1d(), num_samples=n,
                                rng=np.random.default_rng(SEED))
        y_start = np.random.default_rng(SEED).standard_normal((n, 1))[:, 0]  # documented draw
        np.testing.assert_allclose(_push_grid(design, y_start), flow.y1[:, 0], rtol=0,
                                   atol=1e-12)
        # Central differences err by h² Φ'''/(6 Φ') (6e-9 at h = 1e-6 where Φ is steepest, the
        # watershed between the modes; it scales as h², a genuine Jacobian error would not) plus
        # rounding ~1e-16 |Φ| / (h Φ') ~ 1e-10.
        h = 1e-6
        slope = (_push_grid(design, y_start + h) - _push_grid(design, y_start - h)) / (2 * h)
        log_q_fd = -0.5 * (y_start**2 + math.log(2 * math.pi)) - np.log(slope)
        np.testing.assert_allclose(flow.log_q, log_q_fd, rtol=0, atol=1e-7)
    drop = tvs[50].value - tvs[200].value
    assert drop > 4 * math.hypot(tvs[50].stderr, tvs[200].stderr)


# --- (c) the product assembly in d > k ---

def _subspace_target(ambient_dim: int | None = None) -> SubspaceGaussianMixture:
    return SubspaceGaussianMixture.create(WEIGHTS, MEANS[:, None], VARIANCES[:, None, None],
                                          ambient_dim=ambient_dim, basis_seed=1)


def test_assembly_reduces_to_subspace_when_d_equals_k() -> None:
    """m = d - k = 0: the orthogonal factor is 1, so TV = TV_k and KL = KL_k on the same paths."""
    design = make_design("ddim", two_phase(30))
    est = deterministic_divergences(design, _subspace_target(), num_samples=500,
                                    rng=np.random.default_rng(SEED))
    assert (est["tv"].value, est["tv"].stderr) == (est["tv_subspace"].value,
                                                   est["tv_subspace"].stderr)
    assert est["kl"].value == est["kl_subspace"].value
    assert est["tv_orthogonal"].value == 0.0 and est["kl_orthogonal"].value == 0.0
    # ambient_dim=k on a target living in d = 40 is the same computation
    again = deterministic_divergences(design, _subspace_target(40), num_samples=500,
                                      rng=np.random.default_rng(SEED), ambient_dim=1)
    assert again["tv"].value == est["tv"].value and again["kl"].value == est["kl"].value


@pytest.mark.parametrize(("design_name", "num_steps", "ambient_dim"),
                         [("ddim", 30, 10**4), ("ddim", 30, 10**6), ("pf_euler", 400, 2)])
def test_assembly_bracket(design_name: str, num_steps: int, ambient_dim: int) -> None:
    """max(TV_k, TV_⊥) <= TV <= TV_k + TV_⊥ within errors; KL adds exactly.  The cases put
    TV_⊥ well below, comparable to, and above TV_k (DDIM's e_1 ≈ ᾱ_T is tiny, so its
    orthogonal part needs a huge d; probability-flow Euler's e_1 ≈ 0.5 needs only m = 1)."""
    design = make_design(design_name, two_phase(num_steps))
    est = deterministic_divergences(design, _subspace_target(ambient_dim), num_samples=4_000,
                                    rng=np.random.default_rng(SEED))
    tv, tv_k, tv_perp = est["tv"], est["tv_subspace"], est["tv_orthogonal"]
    print(f"{design_name} d={ambient_dim}: TV {tv.value:.5g}±{tv.stderr:.1g}, "
          f"TV_k {tv_k.value:.5g}±{tv_k.stderr:.1g}, TV_⊥ {tv_perp.value:.5g}")
    slack = 4 * (tv.stderr + tv_k.stderr) + tv_perp.stderr
    assert tv_perp.value > 0
    assert max(tv_k.value, tv_perp.value) - slack <= tv.value <= tv_k.value + tv_perp.value + slack
    # g(c) >= (1 - c)_+ pointwise (Jensen), so TV >= TV_k holds sample by sample
    assert tv.value >= tv_k.value
    kl = est["kl"]
    assert kl.value == est["kl_subspace"].value + est["kl_orthogonal"].value
    assert "model→target" in kl.method


@pytest.mark.slow
def test_assembly_matches_unsplit_simulation() -> None:
    """d = 3, k = 1: the split assembly agrees with the exact density of the whole 3-D chain,
    simulated as a full-rank target whose two extra directions carry zero variance."""
    design = make_design("pf_euler", two_phase(100))
    basis = np.eye(3)[:, :1]
    split = deterministic_divergences(
        design, SubspaceGaussianMixture.create(WEIGHTS, MEANS[:, None],
                                               VARIANCES[:, None, None], basis=basis),
        num_samples=10_000, rng=np.random.default_rng(SEED))
    covs = np.zeros((2, 3, 3))
    covs[:, 0, 0] = VARIANCES
    full = SubspaceGaussianMixture.create(WEIGHTS, np.c_[MEANS, np.zeros((2, 2))], covs)
    direct = deterministic_divergences(design, full, num_samples=10_000,
                                       rng=np.random.default_rng(SEED + 1))
    for key in ("tv", "kl"):
        a, b = split[key], direct[key]
        print(f"{key}: split {a.value:.6g}±{a.stderr:.2g}, direct {b.value:.6g}±{b.stderr:.2g}")
        assert abs(a.value - b.value) <= 4 * math.hypot(a.stderr, b.stderr)


# --- (d) error paths, (e) reproducibility ---

def test_stochastic_design_rejected() -> None:
    design = make_design("ddpm_posterior", two_phase(20))
    with pytest.raises(InvalidParameterError, match=r"`design` must be deterministic.*t=2"):
        flow_log_density(design, _mixture_1d(), num_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`design` must be deterministic"):
        deterministic_divergences(design, _mixture_1d(), num_samples=10,
                                  rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`design` must be a CoefficientDesign"):
        flow_log_density("ddim", _mixture_1d(), num_samples=10, rng=np.random.default_rng(0))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_samples": 0}, r"`num_samples` must be >= 1"),
    ({"num_samples": 2.5}, r"`num_samples` must be an integer"),
    ({"rng": 3}, r"`rng` must be a numpy.random.Generator \(got int\)"),
    ({"rng": np.random.RandomState(0)}, r"`rng` must be a numpy.random.Generator"),
    ({"chunk_size": 0}, r"`chunk_size` must be >= 1"),
    ({"workers": 0}, r"`workers` must be >= 1"),
])
def test_flow_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"num_samples": 10, "rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match):
        flow_log_density(make_design("ddim", two_phase(20)), _mixture_1d(), **args)  # type: ignore[arg-type]


def test_divergences_bad_arguments() -> None:
    design = make_design("ddim", two_phase(20))
    with pytest.raises(InvalidParameterError, match=r"`num_samples` must be >= 2"):
        deterministic_divergences(design, _mixture_1d(), num_samples=1,
                                  rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`ambient_dim` must be >= 1"):
        deterministic_divergences(design, _mixture_1d(), num_samples=10,
                                  rng=np.random.default_rng(0), ambient_dim=0)
    with pytest.raises(InvalidParameterError, match=r"`rng` must be a numpy.random.Generator"):
        deterministic_divergences(design, _mixture_1d(), num_samples=10, rng=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"`target` must be a SubspaceGaussian"):
        deterministic_divergences(design, object(), num_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"`target_k` must be k-dimensional.*"
                                                     r"subspace_part"):
        flow_log_density(design, _subspace_target(5), num_samples=10,
                         rng=np.random.default_rng(0))


def test_numerical_failures_name_the_step() -> None:
    """A folded map (η_T far beyond 1-ᾱ_T), overflow inside the target's score, and a state
    overflowing in the step are each reported with the step t."""
    eta = np.zeros(20)
    eta[-1] = 5.0     # 1 + η_T s'_T(y) < 0 where the mixture's score slope is about -1
    folded = custom_design(two_phase(20), eta=eta, sigma_sq=np.zeros(20))
    for target in (_mixture_1d(), ProductMixture.create([(WEIGHTS, MEANS, VARIANCES)] * 2)):
        with pytest.raises(NonFiniteError, match=r"not invertible at step t=20"):
            flow_log_density(folded, target, num_samples=50, rng=np.random.default_rng(0))
    far = SubspaceGaussianMixture.create([1.0], [[1e200]], [[[1.0]]])  # (y - μ)² overflows
    with pytest.raises(NonFiniteError, match=r"change of variables failed at step t=20: "
                                             r".*overflowed"):
        flow_log_density(make_design("ddim", two_phase(20)), far, num_samples=5,
                         rng=np.random.default_rng(0))
    eta[-1] = -1e308   # det(1 + η s') = 1 + 1e308 > 0, but y + η s = (1 + 1e308) y overflows
    wild = custom_design(two_phase(20), eta=eta, sigma_sq=np.zeros(20))
    with pytest.raises(NonFiniteError, match=r"non-finite state .* at t=20"):
        flow_log_density(wild, SubspaceGaussianMixture.create([1.0], [[0.0]], [[[1.0]]]),
                         num_samples=500, rng=np.random.default_rng(0))


def test_same_seed_same_result_any_chunking() -> None:
    design = make_design("ddim", two_phase(25))
    target = ProductMixture.create([(WEIGHTS, MEANS, VARIANCES), ([1.0], [0.5], [0.2])],
                                   ambient_dim=7, basis_seed=2)
    runs = [deterministic_divergences(design, target, num_samples=300,
                                      rng=np.random.default_rng(SEED)) for _ in range(2)]
    assert {k: v.value for k, v in runs[0].items()} == {k: v.value for k, v in runs[1].items()}
    flows = [flow_log_density(design, target.subspace_part(), num_samples=300,
                              rng=np.random.default_rng(SEED), chunk_size=cs, workers=w)
             for cs, w in ((None, 1), (7, 1), (64, 3))]
    for other in flows[1:]:
        np.testing.assert_array_equal(other.y1, flows[0].y1)
        np.testing.assert_array_equal(other.log_q, flows[0].log_q)
    other_seed = flow_log_density(design, target.subspace_part(), num_samples=300,
                                  rng=np.random.default_rng(SEED + 1))
    assert not np.array_equal(other_seed.log_q, flows[0].log_q)


def test_product_and_full_jacobian_paths_agree() -> None:
    """The diagonal fast path for product targets equals slogdet on the expanded mixture."""
    design = make_design("ddim", two_phase(25))
    product = ProductMixture.create([(WEIGHTS, MEANS, VARIANCES), ([0.5, 0.5], [0.0, 2.0],
                                                                   [0.1, 0.05])])
    # the same law as one mixture of 4 components in R^2
    w = np.outer([0.5, 0.5], WEIGHTS).ravel()
    means = np.array([[m1, m2] for m2 in (0.0, 2.0) for m1 in MEANS])
    covs = np.array([np.diag([v1, v2]) for v2 in (0.1, 0.05) for v1 in VARIANCES])
    expanded = SubspaceGaussianMixture.create(w, means, covs)
    a = flow_log_density(design, product, num_samples=400, rng=np.random.default_rng(SEED))
    b = flow_log_density(design, expanded, num_samples=400, rng=np.random.default_rng(SEED))
    np.testing.assert_allclose(a.y1, b.y1, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.log_q, b.log_q, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.log_p, b.log_p, rtol=0, atol=1e-9)


def test_bracket_violation_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong orthogonal factor (g = 0, so TV = 0 < TV_k) breaks the bracket loudly."""
    from theorycheck.divergences import gaussian

    monkeypatch.setattr(gaussian, "orthogonal_tv_factor",
                        lambda log_ratio_k, m, eps: np.zeros_like(log_ratio_k))
    with pytest.raises(TheorycheckError, match=r"breaks max\(TV_k, TV_⊥\) <= TV"):
        deterministic_divergences(make_design("ddim", two_phase(20)), _subspace_target(50),
                                  num_samples=200, rng=np.random.default_rng(0))
