"""Reading and validating ``verify`` result files (the baseline schema)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from theorycheck.claims.types import PROFILES
from theorycheck.errors import SpecError

__all__ = ["load_results", "merge_results"]

_VERDICTS = ("PASS", "FAIL", "INCONCLUSIVE")


def _require(mapping: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise SpecError(f"{where}: missing key `{key}`")
    value = mapping[key]
    if not isinstance(value, kind):
        raise SpecError(f"{where}: `{key}` must be {getattr(kind, '__name__', kind)}")
    return value


def load_results(path: str | Path, *, argument: str = "results") -> dict[str, Any]:
    """Load a ``theorycheck verify --json`` file and validate its schema.

    Raises
    ------
    SpecError
        Naming ``argument`` and the file when it is unreadable, not JSON, or misses a required
        field (``environment.profile``, ``claims[].id``, ``claims[].verdict``...).
    """
    where = f"`{argument}` file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{where} cannot be read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where} must hold a JSON object")
    env = _require(data, "environment", dict, where)
    profile = _require(env, "profile", str, where + " environment")
    if profile not in PROFILES:
        raise SpecError(f"{where}: environment.profile must be one of {PROFILES} (got {profile!r})")
    claims = _require(data, "claims", list, where)
    for i, claim in enumerate(claims):
        label = f"{where} claims[{i}]"
        _require(claim, "id", str, label)
        verdict = _require(claim, "verdict", str, label)
        if verdict not in _VERDICTS:
            raise SpecError(f"{label}: `verdict` must be one of {_VERDICTS} (got {verdict!r})")
        _require(claim, "negative_control_verdict", str, label)
        if "boundary_control_result" in claim:  # optional: claims with a boundary control
            boundary = _require(claim, "boundary_control_verdict", str, label)
            if boundary not in _VERDICTS:
                raise SpecError(f"{label}: `boundary_control_verdict` must be one of "
                                f"{_VERDICTS} (got {boundary!r})")
            section = _require(claim, "boundary_control_result", dict, label)
            _require(section, "points", list, label + " boundary_control_result")
        result = _require(claim, "result", dict, label)
        _require(result, "points", list, label + " result")
        _require(result, "fits", dict, label + " result")
    return data


def merge_results(documents: Sequence[Mapping[str, Any]], *,
                  order: Sequence[str] = ()) -> dict[str, Any]:
    """Merge ``verify`` results of disjoint claim sets (shards of one run) into one document.

    A long profile can be run as shards (``verify --claims A B`` on one machine, ``--claims C``
    on another); the shards must agree on the whole ``environment`` (versions, seed, profile,
    precision), so the merged document is what one run would have produced, up to ``timing``.

    Parameters
    ----------
    documents : sequence of dict
        Validated results (:func:`load_results`), at least one.
    order : sequence of str, optional
        Claim ids in report order (the registry's); claims not named keep their shard order
        after those named.

    Returns
    -------
    dict
        ``environment`` of the shards, ``claims`` ordered by ``order``, and ``timing`` with
        every per-claim entry, ``total_wall_seconds`` the sum over shards and ``shards`` their
        number.

    Raises
    ------
    SpecError
        If there are no documents, two shards disagree on an ``environment`` field (named), or
        a claim id occurs in more than one shard (named).
    """
    if not documents:
        raise SpecError("`results`: at least one results document is required")
    env = dict(documents[0]["environment"])
    for i, doc in enumerate(documents[1:], start=1):
        other = doc["environment"]
        for key in sorted(set(env) | set(other)):
            if env.get(key) != other.get(key):
                raise SpecError(f"`results` shard {i}: environment.{key} is "
                                f"{other.get(key)!r}, shard 0 has {env.get(key)!r} (shards of "
                                "one run must agree)")
    claims: dict[str, Any] = {}
    for i, doc in enumerate(documents):
        for claim in doc["claims"]:
            if claim["id"] in claims:
                raise SpecError(f"`results` shard {i}: claim {claim['id']!r} is also in an "
                                "earlier shard")
            claims[claim["id"]] = claim
    rank = {cid: i for i, cid in enumerate(order)}
    ordered = sorted(claims, key=lambda cid: rank.get(cid, len(rank)))
    timing: dict[str, Any] = {}
    wall = 0.0
    for doc in documents:
        shard_timing = doc.get("timing", {})
        wall += float(shard_timing.get("total_wall_seconds", 0.0))
        timing.update({k: v for k, v in shard_timing.items()
                       if k not in ("total_wall_seconds", "shards")})
    timing.update(total_wall_seconds=round(wall, 3), shards=len(documents))
    merged = {key: value for key, value in documents[0].items()
              if key not in ("claims", "timing", "environment")}
    return {**merged, "environment": env, "claims": [claims[c] for c in ordered],
            "timing": timing}
