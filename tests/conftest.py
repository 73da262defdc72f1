"""Shared fixtures: fail any test that leaks a global mpmath precision change."""

from __future__ import annotations

from collections.abc import Iterator

import mpmath
import pytest


@pytest.fixture(autouse=True)
def _no_mpmath_precision_leak() -> Iterator[None]:
    before = mpmath.mp.prec
    yield
    after = mpmath.mp.prec
    mpmath.mp.prec = before
    assert after == before, f"test leaked an mpmath precision change ({before} -> {after} bits)"
