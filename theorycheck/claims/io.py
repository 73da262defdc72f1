"""Reading and validating ``verify`` result files (the baseline schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from theorycheck.claims.types import PROFILES
from theorycheck.errors import SpecError

__all__ = ["load_results"]

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
