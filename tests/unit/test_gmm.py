"""K-component isotropic mixtures, grid TV with a model score, and helpers of the issue-11 claims."""

from __future__ import annotations

import math

import numpy as np
import pytest

from theorycheck.claims.coef_class import off_curve_constant
from theorycheck.claims.gmm_k import log_slope
from theorycheck.designs import make_design
from theorycheck.error_propagation import interpolated_crossing
from theorycheck.errors import InvalidParameterError
from theorycheck.experiments import measure
from theorycheck.gmm import grid_tv_1d, isotropic_mixture_1d
from theorycheck.schedules import two_phase
from theorycheck.targets import SubspaceGaussianMixture


def test_isotropic_mixture_layout() -> None:
    mix = isotropic_mixture_1d(5, component_sd=0.1, half_width=2.0)
    assert np.allclose(mix.means[:, 0], [-2, -1, 0, 1, 2])
    assert np.allclose(mix.weights, 0.2) and np.allclose(mix.covariances, 0.01)
    tilted = isotropic_mixture_1d(4, component_sd=0.1, weight_tilt=0.5)
    assert tilted.weights.sum() == pytest.approx(1.0)
    assert tilted.weights[-1] / tilted.weights[0] == pytest.approx(3.0)
    assert isotropic_mixture_1d(1, component_sd=0.0).means[0, 0] == 0.0


def test_grid_tv_matches_measure_and_sees_a_model_error() -> None:
    design = make_design("ddpm_posterior", two_phase(30))
    target = isotropic_mixture_1d(3, component_sd=0.2)
    tv = grid_tv_1d(target, design)
    ref = measure(target, design, rng=np.random.default_rng(0), metrics=("tv",)).values["tv"]
    assert tv.value == pytest.approx(ref.value, abs=10 * (tv.stderr + ref.stderr) + 1e-9)
    biased = grid_tv_1d(target, design,
                        model=isotropic_mixture_1d(3, component_sd=0.2, weight_tilt=0.4))
    assert biased.value > tv.value + 0.05  # tilt 0.4: model law off by TV ≈ 0.1


def test_bad_input() -> None:
    with pytest.raises(InvalidParameterError, match="`num_components` must be >= 1"):
        isotropic_mixture_1d(0, component_sd=0.1)
    with pytest.raises(InvalidParameterError, match="`component_sd` must be >= 0"):
        isotropic_mixture_1d(2, component_sd=-0.1)
    with pytest.raises(InvalidParameterError, match="`weight_tilt` must be <"):
        isotropic_mixture_1d(2, component_sd=0.1, weight_tilt=1.0)
    design = make_design("ddpm_posterior", two_phase(10))
    plane = SubspaceGaussianMixture.create([1.0], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(InvalidParameterError, match="`target` must be a k = 1"):
        grid_tv_1d(plane, design)
    with pytest.raises(InvalidParameterError, match="`design` must be a CoefficientDesign"):
        grid_tv_1d(isotropic_mixture_1d(2, component_sd=0.1), "ddpm")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="`reference_tv`, `bracket_sum` must be > 0"):
        off_curve_constant(0.0, 1.0, 1e3)


def test_claim_helpers() -> None:
    assert log_slope([2, 4, 8], [3.0, 6.0, 12.0]) == pytest.approx(1.0)
    assert log_slope([2, 4, 8], [1.0, 1.0, 1.0]) == pytest.approx(0.0, abs=1e-12)
    # c = TV sqrt(4π/d*)/S rounded to one significant figure
    assert off_curve_constant(0.02, 1e-3, 1e3) == pytest.approx(2.0)
    dims = [10, 100, 1000]
    orth = [0.01 * math.sqrt(d) for d in dims]
    assert interpolated_crossing(dims, orth, 0.2) == pytest.approx(400.0, rel=1e-9)  # sqrt law
    assert interpolated_crossing(dims, orth, 5.0) is None
    with pytest.raises(InvalidParameterError, match="must have the same length >= 2"):
        interpolated_crossing([10], [0.1], 0.2)


def test_agreement_section_reads_claim_json() -> None:
    from theorycheck.literature import ROWS, agreement_section

    claim = {"id": "GMM-K", "verdict": "PASS",
             "result": {"measured": "K-slope +0.04",
                        "details": {"paper_verdicts": {"Li, Cai & Wei": "confirmed | at k = 1"}}}}
    lines = agreement_section({"claims": [claim]})
    assert lines[1] == "## Where the papers agree and disagree"
    table = [line for line in lines if line.startswith("| ")][1:]
    assert len(table) == len(ROWS)
    gmm = next(line for line in table if "2504.05300" in line)
    assert "**PASS** (GMM-K): confirmed \\| at k = 1" in gmm  # cell text escaped
    assert "KL-SHARP not in these results" in next(line for line in table if "2410.09046" in line)


def _boundary(claim_id: str):  # type: ignore[no-untyped-def]
    from theorycheck.claims import default_registry
    from theorycheck.claims.types import CheckContext, Variant

    claim = default_registry().get(claim_id)
    assert claim.variants == (Variant.CLAIM, Variant.CONTROL, Variant.BOUNDARY)
    ctx = CheckContext(claim_id=claim_id, profile="quick", variant=Variant.BOUNDARY, seed=0)
    return claim, claim.check(ctx)


def test_gmm_k_boundary_control_is_its_own_variant_and_fails() -> None:
    """Score error ∝ 0.03·log2 K: K-slope ≈ +0.24 on the quick grid, outside ±0.1."""
    from theorycheck.results import Verdict

    claim, out = _boundary("GMM-K")
    assert "log2 K" in claim.boundary_control and "log2 K" not in claim.negative_control
    assert out.verdict is Verdict.FAIL, out.summary
    assert {pt.params["family"] for pt in out.points} == {"tilt 0.03·log2 K (boundary)"}
    assert out.measured.startswith("K-slope +0.23")


def test_coef_class_boundary_control_is_its_own_variant_and_fails() -> None:
    """Off-curve design with d* ≈ 1e10: TV changes by 4.5 % from d = 2 to 1e9 (1 % allowed)."""
    from theorycheck.results import Verdict

    claim, out = _boundary("COEF-CLASS")
    assert "1e10" in claim.boundary_control and "1e10" not in claim.negative_control
    assert out.verdict is Verdict.FAIL, out.summary
    (point,) = out.points
    assert point.estimates["relative_change_in_d"].value == pytest.approx(0.0451, abs=5e-4)
    assert point.params["max_abs_R_minus_one"] == pytest.approx(1.29e-4, rel=1e-2)
