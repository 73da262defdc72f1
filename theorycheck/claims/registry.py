"""Explicit claim registry with stable ids (THEORY §7)."""

from __future__ import annotations

from dataclasses import dataclass

from theorycheck.errors import InvalidParameterError

__all__ = ["Claim", "Registry", "default_registry"]


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A registered claim: stable id, source and statement (experiments attach in later work)."""

    id: str
    source: str
    statement: str


class Registry:
    """An ordered, explicit registry of claims keyed by stable id."""

    def __init__(self, claims: tuple[Claim, ...] = ()) -> None:
        self._claims: dict[str, Claim] = {}
        for claim in claims:
            self.register(claim)

    def register(self, claim: Claim) -> None:
        """Add ``claim``; its id must be new."""
        if claim.id in self._claims:
            raise InvalidParameterError(f"claim id {claim.id!r} is already registered")
        self._claims[claim.id] = claim

    def claims(self) -> tuple[Claim, ...]:
        """All claims in registration order."""
        return tuple(self._claims.values())


def default_registry() -> Registry:
    """The registry of all built-in claims (a new object on every call: no global state)."""
    return Registry()
