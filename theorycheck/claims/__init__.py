"""The claim catalogue: a registry of falsifiable checks (filled by the claims modules)."""

from __future__ import annotations

from theorycheck.claims.registry import Claim, Registry, default_registry

__all__ = ["Claim", "Registry", "default_registry"]
