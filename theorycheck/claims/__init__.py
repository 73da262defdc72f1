"""The claim catalogue: a registry of falsifiable checks, each with a negative control."""

from __future__ import annotations

from theorycheck.claims.registry import Registry, default_registry
from theorycheck.claims.types import (
    PROFILES,
    CheckContext,
    CheckOutcome,
    Claim,
    ClaimResult,
    MeasuredPoint,
    Prediction,
    Source,
    Variant,
)

__all__ = [
    "PROFILES",
    "CheckContext",
    "CheckOutcome",
    "Claim",
    "ClaimResult",
    "MeasuredPoint",
    "Prediction",
    "Registry",
    "Source",
    "Variant",
    "default_registry",
]
