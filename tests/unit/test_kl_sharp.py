"""KL-SHARP's building blocks (cheap Gaussian factors only; the claim runs in the regression test).

Tensorisation through the product method, the boundary control's calibration (per-coordinate
KL ∝ k^-0.2 at T = 100) and the literature rows of the claim.
"""

from __future__ import annotations

import pytest

from theorycheck.claims.kl_sharp import _BOUNDARY_SD, _product_kls, gaussian_factor
from theorycheck.claims.types import CheckContext, Variant
from theorycheck.fitting import fit_slope, judge_slope
from theorycheck.results import Verdict

CTX = CheckContext(claim_id="KL-SHARP", profile="quick", variant=Variant.CLAIM, seed=0)


def test_product_kl_is_k_times_factor_kl() -> None:
    kls = _product_kls([gaussian_factor(1.0)] * 4, (1, 2, 4), 100, CTX, 0)
    assert kls[0].value > 0.0
    for k, kl in zip((1, 2, 4), kls, strict=True):
        assert kl.value == pytest.approx(k * kls[0].value, rel=1e-9)
        assert kl.stderr <= 1e-6 * kl.value


def test_boundary_calibration_gives_k_power_0_8() -> None:
    ks = (1, 2, 4)
    kls = [_product_kls([gaussian_factor(_BOUNDARY_SD[k])] * k, (k,), 100, CTX, k)[0]
           for k in ks]
    fit = fit_slope(ks, [e.value for e in kls], [e.stderr for e in kls]).raw
    assert fit.slope == pytest.approx(0.8, abs=2e-3)
    assert judge_slope(fit, predicted=1.0, kind="lower", tolerance=0.1) is Verdict.FAIL


def test_literature_rows_split_k_and_T() -> None:
    from theorycheck.literature import agreement_section

    claim = {"id": "KL-SHARP", "verdict": "PASS",
             "result": {"measured": "k-exponent +1.0000", "details": {"paper_verdicts": {
                 "Potaptchik et al. (k)": "linear in k sharp: agreed (tensorisation)",
                 "Potaptchik et al. (T)": "1/T rate attained in KL: not observed"}}}}
    rows = [line for line in agreement_section({"claims": [claim]}) if "2410.09046" in line]
    assert len(rows) == 2
    assert "**PASS** (KL-SHARP): linear in k sharp: agreed (tensorisation)" in rows[0]
    assert "not judged (context from KL-SHARP, verdict PASS): 1/T rate attained" in rows[1]


def test_boundary_control_is_its_own_variant_and_fails() -> None:
    """The k^0.8 family is the boundary variant (not folded into the negative control)."""
    from theorycheck.claims import default_registry

    claim = default_registry().get("KL-SHARP")
    assert claim.variants == (Variant.CLAIM, Variant.CONTROL, Variant.BOUNDARY)
    assert "k^0.8" in claim.boundary_control and "k^0.8" not in claim.negative_control
    ctx = CheckContext(claim_id="KL-SHARP", profile="quick", variant=Variant.BOUNDARY, seed=0)
    out = claim.check(ctx)
    assert out.verdict is Verdict.FAIL, out.summary
    (family,) = out.details["k_families"]
    assert family["fit"]["slope"] == pytest.approx(0.8, abs=2e-3)
    assert family["fit"]["ci_high"] < 0.9
