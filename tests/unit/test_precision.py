"""Tests of theorycheck.precision: digits lost by the naive ``1 - cumprod(1-β)`` computation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from theorycheck.errors import InvalidParameterError
from theorycheck.precision import precision_audit
from theorycheck.schedules import from_alphas, two_phase


@pytest.fixture(scope="module")
def audit_1000():
    return precision_audit(two_phase(1000))


def quantity(dtype_audit, name):
    (found,) = [q for q in dtype_audit.quantities if q.quantity == name]
    return found


def test_float32_loses_beta_2_and_almost_all_digits(audit_1000):
    assert [a.dtype for a in audit_1000.audits] == ["float64", "float32"]
    f32 = audit_1000.audits[1]
    assert f32.first_lost_step == 2 and f32.lost_betas >= 1
    one_minus = quantity(f32, "1-ᾱ_t")
    assert one_minus.digits_at_step_1 < 2
    assert one_minus.min_digits < 1
    # Independent check of the t = 1 figure: 1 - fl32(1 - fl32(1e-6)) against 1e-6.
    naive = np.float32(1) - (np.float32(1) - np.float32(1e-6))
    want = -math.log10(abs(float(naive) - 1e-6) / 1e-6)
    assert one_minus.digits_at_step_1 == pytest.approx(want, abs=1e-6)
    # β_2 ≈ 2.9e-8 is below half an ulp of 1 in float32 (2^-25 ≈ 3.0e-8).
    assert np.float32(1) - np.float32(two_phase(1000).one_minus_alpha[1]) == np.float32(1)
    assert "β_2 rounds to 0" in f32.summary()


def test_float64_keeps_at_least_nine_digits(audit_1000):
    f64 = audit_1000.audits[0]
    assert f64.lost_betas == 0 and f64.first_lost_step == 0
    for name in ("1-ᾱ_t", "α_t-ᾱ_t"):
        q = quantity(f64, name)
        assert 9 <= q.min_digits < 12  # about 16 - 6 digits: 1-ᾱ_t ≥ 1e-6
    assert quantity(f64, "ᾱ_t").min_digits >= 13
    # α_1 - ᾱ_1 = 0 and the naive computation gets it exactly.
    assert quantity(f64, "α_t-ᾱ_t").digits_at_step_1 == 15.95
    assert "no β_t lost" in f64.summary()


def test_exactly_representable_schedule_is_fully_correct():
    audit = precision_audit(from_alphas([0.5, 0.75, 0.5]), dtypes=("float64", "float32",
                                                                   "float16"))
    for dtype_audit in audit.audits:
        assert dtype_audit.lost_betas == 0
        for q in dtype_audit.quantities:
            assert q.min_digits == 15.95, (dtype_audit.dtype, q.quantity)


def test_audit_to_dict_is_json_ready(audit_1000):
    payload = json.loads(json.dumps(audit_1000.to_dict()))
    assert payload["schedule"] == two_phase(1000).describe()
    assert [a["dtype"] for a in payload["audits"]] == ["float64", "float32"]
    assert payload["audits"][1]["first_lost_step"] == 2
    assert {q["quantity"] for q in payload["audits"][0]["quantities"]} == {
        "1-ᾱ_t", "α_t-ᾱ_t", "ᾱ_t"}


def test_precision_audit_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match="`schedule` must be a theorycheck Schedule"):
        precision_audit(np.linspace(1e-4, 0.02, 10))
    with pytest.raises(InvalidParameterError, match=r"`dtypes` entries must be one of .*'bf16'"):
        precision_audit(two_phase(10), dtypes=("float64", "bf16"))
