"""The method table of ``measure``: choice, forcing, labels, and agreement between methods.

Agreement tolerances are the methods' own stated errors: ``|a - b| <= z·(err_a + err_b) + floor``
with z = 1 for deterministic tolerances, z = 4 when a Monte Carlo standard error is involved.
"""

from __future__ import annotations

import numpy as np
import pytest

from theorycheck.designs import make_design
from theorycheck.divergences import gaussian
from theorycheck.errors import InvalidParameterError
from theorycheck.experiments import measure
from theorycheck.measure_methods import METHOD_NAMES
from theorycheck.results import ErrorKind, Estimate
from theorycheck.schedules import two_phase
from theorycheck.split import orthogonal_variance
from theorycheck.targets import ProductMixture, SubspaceGaussianMixture

SEED = 20261202


def _agree(a: Estimate, b: Estimate, floor: float = 1e-12) -> bool:
    z = 4.0 if ErrorKind.STDERR in (a.error_kind, b.error_kind) else 1.0
    return abs(a.value - b.value) <= z * (a.stderr + b.stderr) + floor


def _rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


# --- choice -------------------------------------------------------------------------------------

def test_method_order_and_reason() -> None:
    design = make_design("ddpm_beta", two_phase(30))
    gauss = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0, 0.0]], [np.eye(3)], ambient_dim=9)
    res = measure(gauss, design, rng=_rng())
    assert res.method_name == "closed_form" and "closed_form chosen" in res.method_reason
    assert res.values["kl"].error_kind is ErrorKind.EXACT
    assert "kl_model_to_target" in res.extra
    mix = SubspaceGaussianMixture.create([0.5, 0.5], [[-1.0, 0, 0], [1.0, 0, 0]],
                                         [np.eye(3), np.eye(3)], ambient_dim=9)
    res = measure(mix, design, rng=_rng(), metrics=["kl"], num_samples=400)
    assert res.method_name == "path_kl"
    assert "skipped closed_form" in res.method_reason and "grid2d (needs k = 2" in res.method_reason
    assert METHOD_NAMES == ("closed_form", "grid", "grid2d", "change_of_variables", "path_kl")


def test_forced_method_that_does_not_apply_lists_the_applicable_ones() -> None:
    design = make_design("ddpm_beta", two_phase(30))
    mix = SubspaceGaussianMixture.create([0.5, 0.5], [[-1.0, 0, 0], [1.0, 0, 0]],
                                         [np.eye(3), np.eye(3)], ambient_dim=9)
    with pytest.raises(InvalidParameterError,
                       match=r"`method` 'grid' does not apply .* applicable methods: path_kl"):
        measure(mix, design, rng=_rng(), metrics=["kl"], method="grid")
    with pytest.raises(InvalidParameterError, match=r"`method` must be one of"):
        measure(mix, design, rng=_rng(), metrics=["kl"], method="magic")
    with pytest.raises(InvalidParameterError, match=r"`method` must be a string or None"):
        measure(mix, design, rng=_rng(), metrics=["kl"], method=3)  # type: ignore[arg-type]


def test_stochastic_tv_for_k3_mixture_says_what_is_available() -> None:
    design = make_design("ddpm_posterior", two_phase(30))
    mix = SubspaceGaussianMixture.create([0.5, 0.5], [[-1.0, 0, 0], [1.0, 0, 0]],
                                         [np.eye(3), np.eye(3)], ambient_dim=9)
    with pytest.raises(InvalidParameterError,
                       match=r"`metrics`: TV is not available .*k = 3 > 2.* available: metrics "
                             r"\['kl'\]"):
        measure(mix, design, rng=_rng(), metrics=["tv"])


def test_path_kl_total_is_subspace_bound_plus_exact_orthogonal_marginal() -> None:
    design = make_design("ddpm_beta", two_phase(40))
    mix = SubspaceGaussianMixture.create([0.4, 0.6], [[-1.0, 0.5, 0.0], [1.0, -0.3, 0.2]],
                                         [0.3 * np.eye(3), 0.5 * np.eye(3)], ambient_dim=512,
                                         basis_seed=0)
    res = measure(mix, design, rng=_rng(), metrics=["kl"], num_samples=400)
    kl = res.values["kl"]
    assert kl.error_kind is ErrorKind.UPPER_BOUND and "UPPER BOUND" in kl.method
    assert "upper bound" in res.kl_direction
    exact_perp = gaussian.kl_isotropic(509, orthogonal_variance(design).relative_error_mp)
    assert res.parts["orthogonal"]["kl"].value == exact_perp.value
    assert kl.value == pytest.approx(res.parts["subspace"]["kl"].value + exact_perp.value,
                                     rel=1e-14)


def test_path_kl_bound_is_above_the_exact_gaussian_kl() -> None:
    design = make_design("ddpm_beta", two_phase(40))
    gauss = SubspaceGaussianMixture.create([1.0], [[0.5, -0.5]], [[[0.4, 0.1], [0.1, 0.8]]],
                                           ambient_dim=50, basis_seed=2)
    exact = measure(gauss, design, rng=_rng(), metrics=["kl"])
    bound = measure(gauss, design, rng=_rng(), metrics=["kl"], method="path_kl")
    assert bound.values["kl"].value >= exact.values["kl"].value - 4 * bound.values["kl"].stderr
    assert bound.parts["orthogonal"]["kl"].value == exact.parts["orthogonal"]["kl"].value


# --- agreement between methods ------------------------------------------------------------------

def test_closed_form_agrees_with_the_k1_grid() -> None:
    design = make_design("ddpm_beta", two_phase(60))
    gauss = SubspaceGaussianMixture.create([1.0], [[0.8]], [[[0.3]]], ambient_dim=40,
                                           basis_seed=0)
    exact = measure(gauss, design, rng=_rng())
    grid = measure(gauss, design, rng=_rng(), method="grid")
    for key in ("tv", "kl"):
        assert _agree(exact.values[key], grid.values[key]), key
        assert _agree(exact.parts["subspace"][key], grid.parts["subspace"][key]), key


def test_closed_form_agrees_with_change_of_variables() -> None:
    design = make_design("ddim", two_phase(30))
    gauss = SubspaceGaussianMixture.create([1.0], [[0.5, -0.5]], [[[0.4, 0.1], [0.1, 0.8]]],
                                           ambient_dim=30, basis_seed=2)
    exact = measure(gauss, design, rng=_rng())
    flow = measure(gauss, design, rng=_rng(), num_samples=4000, method="change_of_variables")
    assert _agree(exact.values["tv"], flow.values["tv"])
    # change of variables reports KL(p_Y1 ‖ p_X1): compare with the closed form's other direction
    assert _agree(exact.extra["kl_model_to_target"], flow.values["kl"])


def test_grid2d_reproduces_the_product_and_is_rotation_invariant() -> None:
    # broad factors keep the grid small for CI; the sharp T = 1000 case is a benchmark
    broad = [([0.4, 0.6], [-1.0, 0.8], [0.4, 0.5]), ([0.5, 0.5], [-0.6, 0.6], [0.45, 0.45])]
    design = make_design("ddpm_beta", two_phase(20))
    per_coordinate = measure(ProductMixture.create(broad), design, rng=_rng(), metrics=["kl"])
    rot = np.array([[np.cos(0.5), -np.sin(0.5)], [np.sin(0.5), np.cos(0.5)]])
    w, mu, cov = [], [], []
    for wa, ma, va in zip(*broad[0], strict=True):
        for wb, mb, vb in zip(*broad[1], strict=True):
            w.append(wa * wb)
            mu.append(rot @ [ma, mb])
            cov.append(rot @ np.diag([va, vb]) @ rot.T)
    rotated = measure(SubspaceGaussianMixture.create(w, mu, cov, ambient_dim=30, basis_seed=1),
                      design, rng=_rng())
    assert rotated.method_name == "grid2d"
    assert rotated.values["kl"].error_kind is ErrorKind.TOLERANCE
    # T = 20 takes large steps: the semi-Lagrangian mass drift (~5e-4) dominates the stated
    # error here; at T = 1000 it is ~5e-8 (benchmark)
    assert rotated.values["kl"].stderr < 1e-2 * rotated.parts["subspace"]["kl"].value
    assert _agree(rotated.parts["subspace"]["kl"], per_coordinate.values["kl"], floor=1e-9)


def test_grid2d_agrees_with_the_closed_form_including_orthogonal_tv() -> None:
    design = make_design("ddpm_posterior", two_phase(25))
    gauss = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [[[0.4, 0.15], [0.15, 0.8]]],
                                           ambient_dim=12, basis_seed=4)
    exact = measure(gauss, design, rng=_rng())
    grid = measure(gauss, design, rng=_rng(), method="grid2d")
    for key in ("tv", "kl"):
        assert _agree(exact.values[key], grid.values[key], floor=1e-9), key
    assert _agree(exact.extra["kl_model_to_target"], grid.extra["kl_model_to_target"],
                  floor=1e-9)


def test_gaussian_closed_form_at_huge_dimension_never_negative_or_nan() -> None:
    design = make_design("ddpm_beta", two_phase(100))
    gauss = SubspaceGaussianMixture.create([1.0], [np.zeros(8)], [np.eye(8)],
                                           ambient_dim=10**9, basis_seed=0)
    res = measure(gauss, design, rng=_rng())
    assert res.values["tv"].value == pytest.approx(1.0, abs=1e-12)
    assert res.values["kl"].value > 1e6
    post = measure(gauss, make_design("ddpm_posterior", two_phase(100)), rng=_rng())
    assert 0.0 < post.values["kl"].value < 0.1
    assert post.values["kl"].value == pytest.approx(
        measure(SubspaceGaussianMixture.create([1.0], [np.zeros(8)], [np.eye(8)],
                                               ambient_dim=64, basis_seed=0),
                make_design("ddpm_posterior", two_phase(100)), rng=_rng()).values["kl"].value,
        rel=1e-9)  # adaptive: flat in d


def test_grid2d_agrees_with_change_of_variables_for_a_deterministic_design() -> None:
    design = make_design("ddim", two_phase(20))
    mix = SubspaceGaussianMixture.create([0.4, 0.6], [[-0.8, 0.3], [0.7, -0.2]],
                                         [[[0.4, 0.1], [0.1, 0.5]], [[0.5, -0.1], [-0.1, 0.4]]],
                                         ambient_dim=16, basis_seed=0)
    grid = measure(mix, design, rng=_rng())
    flow = measure(mix, design, rng=_rng(), num_samples=4000, method="change_of_variables")
    assert grid.method_name == "grid2d"
    assert _agree(grid.values["tv"], flow.values["tv"])
    assert _agree(grid.extra["kl_model_to_target"], flow.values["kl"])
