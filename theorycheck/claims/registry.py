"""Explicit claim registry with stable ids (docs/theory.md §7).

The registry is data: claims are registered explicitly by the claim modules'
``register(registry)`` functions, listed in :func:`default_registry`.  Adding a claim never
changes the framework: write a module with a check function and register it.
"""

from __future__ import annotations

from collections.abc import Iterable

from theorycheck.claims.types import Claim
from theorycheck.errors import InvalidParameterError

__all__ = ["Registry", "default_registry"]


class Registry:
    """An ordered registry of :class:`~theorycheck.claims.types.Claim` keyed by stable id."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._claims: dict[str, Claim] = {}
        for claim in claims:
            self.register(claim)

    def register(self, claim: Claim) -> None:
        """Add ``claim``; its id must be new."""
        if not isinstance(claim, Claim):
            raise InvalidParameterError(f"`claim` must be a Claim (got {type(claim).__name__})")
        if claim.id in self._claims:
            raise InvalidParameterError(f"claim id {claim.id!r} is already registered")
        self._claims[claim.id] = claim

    def claims(self) -> tuple[Claim, ...]:
        """All claims in registration order."""
        return tuple(self._claims.values())

    def ids(self) -> tuple[str, ...]:
        """All ids in registration order."""
        return tuple(self._claims)

    def get(self, claim_id: str) -> Claim:
        """The claim with ``claim_id``."""
        try:
            return self._claims[claim_id]
        except KeyError:
            raise InvalidParameterError(
                f"unknown claim id {claim_id!r}; registered: {', '.join(self._claims)}") from None

    def select(self, ids: Iterable[str] | None) -> tuple[Claim, ...]:
        """Claims for ``ids`` (all when ``None``), in registry order, validated."""
        if ids is None:
            return self.claims()
        wanted = list(ids)
        for claim_id in wanted:
            self.get(claim_id)
        return tuple(c for c in self._claims.values() if c.id in wanted)


def default_registry() -> Registry:
    """The registry of all built-in claims (a new object on every call: no global state)."""
    from theorycheck.claims import catalogue

    registry = Registry()
    for register in catalogue.REGISTRARS:
        register(registry)
    return registry
