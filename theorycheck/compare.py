"""Regression comparison of two ``verify`` result files (``theorycheck compare``).

A regression is any verdict change, any measured value leaving its recorded uncertainty band,
or any fitted slope leaving its recorded confidence interval.

Bands: for a Monte Carlo value ``|new - old| ≤ 4·sqrt(se_old² + se_new²)`` (4 standard errors:
false alarms below 1e-4 per value); for a tolerance-bounded value ``|new - old| ≤ tol_old +
tol_new``; for an exact value a relative ``1e-9`` (rounding and library-version noise only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from theorycheck.errors import SpecError

__all__ = ["Delta", "Comparison", "compare_results"]

_MC_SIGMAS = 4.0
_EXACT_RTOL = 1e-9


@dataclass(frozen=True, kw_only=True)
class Delta:
    """One compared quantity."""

    claim: str
    quantity: str
    old: str
    new: str
    band: str
    ok: bool


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """All deltas; ``ok`` when nothing regressed."""

    deltas: tuple[Delta, ...]

    @property
    def ok(self) -> bool:
        """True when every delta is inside its band."""
        return all(d.ok for d in self.deltas)

    def table(self, *, only_failures: bool = False) -> str:
        """Plain-text table of deltas."""
        rows = [d for d in self.deltas if not (only_failures and d.ok)]
        lines = [f"{'claim':<10} {'quantity':<58} {'baseline':>14} {'new':>14} {'band':>12}  ok"]
        for d in rows:
            lines.append(f"{d.claim:<10} {d.quantity[:58]:<58} {d.old:>14} {d.new:>14} "
                         f"{d.band:>12}  {'yes' if d.ok else 'NO'}")
        return "\n".join(lines)


def _value_delta(claim: str, label: str, old: dict[str, Any], new: dict[str, Any]) -> Delta:
    a, b = float(old["value"]), float(new["value"])
    sa, sb = float(old.get("stderr", 0.0)), float(new.get("stderr", 0.0))
    kind = old.get("error_kind", "exact")
    if kind == "stderr":
        band = _MC_SIGMAS * math.hypot(sa, sb)
    elif kind == "tolerance":
        band = sa + sb
    else:
        band = 0.0
    band = max(band, _EXACT_RTOL * max(abs(a), abs(b)))
    return Delta(claim=claim, quantity=label, old=f"{a:.6g}", new=f"{b:.6g}", band=f"{band:.3g}",
                 ok=abs(a - b) <= band)


def _walk_fits(prefix: str, obj: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    if isinstance(obj, dict):
        if {"slope", "ci_low", "ci_high"} <= obj.keys():
            found[prefix] = obj
        for key, value in obj.items():
            found.update(_walk_fits(f"{prefix}.{key}" if prefix else str(key), value))
    return found


def _point_key(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={params[k]}" for k in sorted(params))


def compare_results(baseline: dict[str, Any], new: dict[str, Any]) -> Comparison:
    """Compare two validated result dicts (see :func:`theorycheck.claims.io.load_results`).

    Raises
    ------
    SpecError
        If the files come from different profiles.
    """
    p_old, p_new = baseline["environment"]["profile"], new["environment"]["profile"]
    if p_old != p_new:
        raise SpecError(f"`baseline` is from profile {p_old!r} but `new` from {p_new!r}; "
                        "compare runs of the same profile")
    deltas: list[Delta] = []
    old_claims = {c["id"]: c for c in baseline["claims"]}
    new_claims = {c["id"]: c for c in new["claims"]}
    for claim_id, old in old_claims.items():
        if claim_id not in new_claims:
            deltas.append(Delta(claim=claim_id, quantity="present", old="yes", new="missing",
                                band="-", ok=False))
            continue
        cur = new_claims[claim_id]
        fields = ["verdict", "negative_control_verdict"]
        sections = ["result", "negative_control_result"]
        if "boundary_control_result" in old:  # compared when the baseline has one
            fields.append("boundary_control_verdict")
            sections.append("boundary_control_result")
            if "boundary_control_result" not in cur:
                deltas.append(Delta(claim=claim_id, quantity="boundary_control_result",
                                    old="present", new="missing", band="-", ok=False))
                sections.pop()
                fields.pop()
        for field in fields:
            deltas.append(Delta(claim=claim_id, quantity=field, old=old[field], new=cur[field],
                                band="equal", ok=old[field] == cur[field]))
        for section in sections:
            old_pts = {_point_key(p["params"]): p for p in old[section]["points"]}
            new_pts = {_point_key(p["params"]): p for p in cur[section]["points"]}
            for key, point in old_pts.items():
                if key not in new_pts:
                    deltas.append(Delta(claim=claim_id, quantity=f"{section}[{key}]", old="present",
                                        new="missing", band="-", ok=False))
                    continue
                for name, est in point["estimates"].items():
                    other = new_pts[key]["estimates"].get(name)
                    label = f"{section}[{key}].{name}"
                    if other is None:
                        deltas.append(Delta(claim=claim_id, quantity=label, old="present",
                                            new="missing", band="-", ok=False))
                    else:
                        deltas.append(_value_delta(claim_id, label, est, other))
            old_fits = _walk_fits("", old[section]["fits"])
            new_fits = _walk_fits("", cur[section]["fits"])
            for key, fit in old_fits.items():
                other_fit = new_fits.get(key)
                label = f"{section}.fits.{key}.slope"
                if other_fit is None:
                    deltas.append(Delta(claim=claim_id, quantity=label, old="present",
                                        new="missing", band="-", ok=False))
                    continue
                lo, hi, slope = fit["ci_low"], fit["ci_high"], other_fit["slope"]
                if lo is None or hi is None or slope is None:
                    ok = fit["slope"] == other_fit["slope"]
                    band = "n/a"
                else:
                    pad = 1e-9 * max(1.0, abs(hi - lo))
                    ok = lo - pad <= slope <= hi + pad
                    band = f"[{lo:.3g},{hi:.3g}]"
                deltas.append(Delta(claim=claim_id, quantity=label, old=f"{fit['slope']}",
                                    new=f"{slope}", band=band, ok=ok))
    for claim_id in new_claims.keys() - old_claims.keys():
        deltas.append(Delta(claim=claim_id, quantity="present", old="missing", new="yes",
                            band="-", ok=True))
    return Comparison(deltas=tuple(deltas))
