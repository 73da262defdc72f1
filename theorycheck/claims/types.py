"""Frozen records of the claim framework: sources, predictions, measured points, outcomes."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theorycheck.results import Estimate, Verdict

__all__ = [
    "PROFILES",
    "Variant",
    "Source",
    "Prediction",
    "MeasuredPoint",
    "CheckContext",
    "CheckOutcome",
    "Claim",
    "ClaimResult",
]

#: Experiment profiles: ``quick`` for CI (seconds per claim), ``full`` for reports.
PROFILES = ("quick", "full")


class Variant(str, enum.Enum):
    """Which side of a claim is run: the claimed setting, its deliberately (grossly) wrong
    control, or its boundary control (wrong just barely: the check's power at its resolution).
    """

    CLAIM = "claim"
    CONTROL = "negative_control"
    BOUNDARY = "boundary_control"


#: Index of each variant in the seed of its grid points (CLAIM and CONTROL keep their old seeds).
_VARIANT_SEED = {Variant.CLAIM: 0, Variant.CONTROL: 1, Variant.BOUNDARY: 2}


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a claim comes from: paper, arXiv id(s) and the theorem or equation.

    The claim's entry in ``docs/theory.md`` (what is and is not verified) is
    :attr:`Claim.docs`, derived from the claim id.
    """

    paper: str
    arxiv: str
    location: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict."""
        return {"paper": self.paper, "arxiv": self.arxiv, "location": self.location}

    def short(self) -> str:
        """``"Li & Yan 2405.14861, Thm 1"``."""
        return f"{self.paper} {self.arxiv}, {self.location}"


@dataclass(frozen=True, kw_only=True)
class Prediction:
    """The predicted behaviour and how it is judged.

    ``kind`` is ``"upper"`` (one-sided: measured ≤ predicted + tolerance, for upper bounds),
    ``"two_sided"`` (identities and exact rates) or ``"lower"``.
    """

    kind: str
    value: float
    tolerance: float
    rationale: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"kind": self.kind, "value": self.value, "tolerance": self.tolerance,
                "rationale": self.rationale, "description": self.description}


@dataclass(frozen=True, kw_only=True)
class MeasuredPoint:
    """One grid point: its parameters and the measured estimates."""

    params: Mapping[str, Any]
    estimates: Mapping[str, Estimate]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"params": dict(self.params),
                "estimates": {k: v.to_dict() for k, v in self.estimates.items()}}


@dataclass(frozen=True, kw_only=True)
class CheckContext:
    """What a claim's check receives: profile, variant, and the seed for its randomness.

    ``point_rng(index)`` gives the generator of grid point ``index``; it depends only on the run
    seed, the claim id, the variant and ``index``, so results do not depend on evaluation order
    or on the number of worker processes.
    """

    claim_id: str
    profile: str
    variant: Variant
    seed: int

    def point_rng(self, index: int) -> np.random.Generator:
        """Independent generator for grid point ``index``."""
        import zlib

        key = zlib.crc32(self.claim_id.encode("utf-8"))
        variant = _VARIANT_SEED[self.variant]
        return np.random.default_rng(np.random.SeedSequence([self.seed, key, variant, index]))


@dataclass(frozen=True, kw_only=True)
class CheckOutcome:
    """Result of running a claim's check on one variant.

    Attributes
    ----------
    verdict : Verdict
    summary : str
        One line: what was measured against what was predicted.
    measured : str
        The headline number with its uncertainty (e.g. ``"slope -1.03 [-1.10, -0.96]"``).
    points : tuple of MeasuredPoint
    fits : dict
        JSON-ready fit records by name.
    details : dict
        Any other JSON-ready evidence.
    """

    verdict: Verdict
    summary: str
    measured: str
    points: tuple[MeasuredPoint, ...] = ()
    fits: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"verdict": self.verdict.value, "summary": self.summary, "measured": self.measured,
                "points": [p.to_dict() for p in self.points], "fits": dict(self.fits),
                "details": dict(self.details)}


CheckFunction = Callable[[CheckContext], CheckOutcome]


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A registered, falsifiable claim.

    Attributes
    ----------
    id : str
        Stable id (``"RATE-TV"``).
    title : str
    source : Source
    statement : str
        The claim in words.
    latex : str
        The claim in LaTeX.
    quantity : str
        What is measured, with metric, direction and end points.
    prediction : Prediction
    grids : dict
        Human-readable experiment grid per profile.
    negative_control : str
        What the deliberately wrong variant is (it must come out FAIL).
    check : callable
        ``check(ctx: CheckContext) -> CheckOutcome``; the same function runs every variant.
    boundary_control : str
        What the boundary control is (a sampler, target or score that violates the claim just
        barely; it must come out FAIL), or ``""`` when the claim has none yet.
    """

    id: str
    title: str
    source: Source
    statement: str
    latex: str
    quantity: str
    prediction: Prediction
    grids: Mapping[str, str]
    negative_control: str
    check: CheckFunction = field(repr=False, compare=False)
    boundary_control: str = ""

    @property
    def variants(self) -> tuple[Variant, ...]:
        """The variants the runner runs: claim, control and (when declared) boundary."""
        if self.boundary_control:
            return (Variant.CLAIM, Variant.CONTROL, Variant.BOUNDARY)
        return (Variant.CLAIM, Variant.CONTROL)

    @property
    def docs(self) -> str:
        """Anchor of the claim's entry in ``docs/theory.md`` (``"docs/theory.md#rate-tv"``)."""
        return f"docs/theory.md#{self.id.lower()}"

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (no results; ``boundary_control`` only when declared)."""
        out = {"id": self.id, "title": self.title,
               "source": {**self.source.to_dict(), "docs": self.docs},
               "statement": self.statement, "latex": self.latex, "quantity": self.quantity,
               "prediction": self.prediction.to_dict(), "grids": dict(self.grids),
               "negative_control": self.negative_control}
        if self.boundary_control:
            out["boundary_control"] = self.boundary_control
        return out


@dataclass(frozen=True, kw_only=True)
class ClaimResult:
    """Outcome of a claim, of its negative control and (when declared) of its boundary control.

    The claim's final ``verdict`` is its own check's verdict when the negative control FAILs
    and the boundary control, if any, FAILs too; otherwise the check could not tell right from
    wrong (grossly or just barely), and the final verdict is INCONCLUSIVE (a check that cannot
    fail verifies nothing).
    """

    claim: Claim
    outcome: CheckOutcome
    control: CheckOutcome
    runtime_seconds: float
    boundary: CheckOutcome | None = None

    @property
    def verdict(self) -> Verdict:
        """Final verdict (see class docstring)."""
        if self.control.verdict is not Verdict.FAIL:
            return Verdict.INCONCLUSIVE
        if self.boundary is not None and self.boundary.verdict is not Verdict.FAIL:
            return Verdict.INCONCLUSIVE
        return self.outcome.verdict

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (schema of ``theorycheck verify --json``; timing is kept apart)."""
        out = self.claim.describe()
        out.update({"verdict": self.verdict.value, "claim_verdict": self.outcome.verdict.value,
                    "negative_control_verdict": self.control.verdict.value,
                    "result": self.outcome.to_dict(), "negative_control_result":
                    self.control.to_dict()})
        if self.boundary is not None:
            out.update({"boundary_control_verdict": self.boundary.verdict.value,
                        "boundary_control_result": self.boundary.to_dict()})
        return out
