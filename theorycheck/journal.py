"""Append-only JSONL journal of finished (claim, variant, seed) tasks, so campaigns can resume.

Line 1 is a header naming what the journal belongs to; every further line is one finished task::

    {"kind": "theorycheck-journal", "format": 1, "theorycheck": "0.1.0", "profile": "quick",
     "seeds": [0, 1, 2], "claims": ["SCHED", "DECOMP"]}
    {"claim": "DECOMP", "variant": "claim", "seed": 2, "verdict": "PASS",
     "digest": "3f1a…", "seconds": 0.071}

``digest`` is the SHA-256 of the task's outcome as canonical JSON (the claim's evidence minus
timing): two tasks with equal digests produced byte-identical results.  Each line is flushed
and fsync-ed as its task finishes, so a crash, Ctrl-C or SIGKILL loses at most the tasks in
flight.  Resuming (:meth:`Journal.resume`) refuses a journal written for another profile, seed
set or theorycheck version (saying which), skips a corrupt line with a :class:`JournalWarning`
naming it (a torn last line after a kill is the usual case), and compacts the file atomically
(header + valid lines) before appending to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from theorycheck._atomic import atomic_write_text
from theorycheck.errors import InvalidParameterError

__all__ = ["Journal", "JournalEntry", "JournalError", "JournalWarning", "outcome_digest"]

KIND = "theorycheck-journal"
FORMAT = 1

TaskKey = tuple[str, str, int]


class JournalError(InvalidParameterError):
    """A journal cannot be used: unreadable, not a journal, or written for another run."""


class JournalWarning(UserWarning):
    """A journal line was skipped (the message names the file and the line number)."""


def outcome_digest(outcome: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``outcome`` as canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(outcome, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class JournalEntry:
    """One finished task.

    Attributes
    ----------
    claim, variant : str
    seed : int
    verdict : str
        ``"PASS"``, ``"FAIL"`` or ``"INCONCLUSIVE"``.
    digest : str
        :func:`outcome_digest` of the outcome's JSON.
    seconds : float
        Wall time of the task (informational; never compared).
    """

    claim: str
    variant: str
    seed: int
    verdict: str
    digest: str
    seconds: float

    @property
    def key(self) -> TaskKey:
        """``(claim, variant, seed)``."""
        return (self.claim, self.variant, self.seed)

    def to_dict(self) -> dict[str, Any]:
        """The JSON line's fields."""
        return {"claim": self.claim, "variant": self.variant, "seed": self.seed,
                "verdict": self.verdict, "digest": self.digest,
                "seconds": round(self.seconds, 3)}

    @classmethod
    def from_dict(cls, data: Any) -> JournalEntry:
        """Parse a JSON line's object; ``ValueError`` describing the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        types: dict[str, type | tuple[type, ...]] = {"claim": str, "variant": str, "seed": int,
                                                      "verdict": str, "digest": str,
                                                      "seconds": (int, float)}
        for name, kind in types.items():
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ValueError(f"field `{name}` missing or of the wrong type")
        if data["verdict"] not in ("PASS", "FAIL", "INCONCLUSIVE"):
            raise ValueError(f"field `verdict` is {data['verdict']!r}")
        return cls(claim=data["claim"], variant=data["variant"], seed=data["seed"],
                   verdict=data["verdict"], digest=data["digest"],
                   seconds=float(data["seconds"]))


def _header(*, profile: str, seeds: Sequence[int], claims: Sequence[str]) -> dict[str, Any]:
    from theorycheck import __version__

    return {"kind": KIND, "format": FORMAT, "theorycheck": __version__, "profile": profile,
            "seeds": [int(s) for s in seeds], "claims": list(claims)}


class Journal:
    """An open journal: the entries already done plus an append handle.

    Create with :meth:`create` (a new journal, replacing any file at ``path``) or
    :meth:`resume`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, path: Path, header: dict[str, Any],
                 entries: dict[TaskKey, JournalEntry]) -> None:
        self.path = path
        self.header = header
        self._entries = entries
        self._handle: IO[str] | None = open(path, "a", encoding="utf-8")  # noqa: SIM115

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | Path, *, profile: str, seeds: Sequence[int],
               claims: Sequence[str]) -> Journal:
        """Start a new journal at ``path`` (written atomically: header only)."""
        target = Path(path)
        header = _header(profile=profile, seeds=seeds, claims=claims)
        try:
            atomic_write_text(target, json.dumps(header) + "\n")
        except OSError as exc:
            raise JournalError(f"cannot write journal {str(path)!r}: {exc.strerror}") from None
        return cls(target, header, {})

    @classmethod
    def resume(cls, path: str | Path, *, profile: str, seeds: Sequence[int],
               claims: Sequence[str]) -> Journal:
        """Open an existing journal, check it belongs to this run, compact it, append to it.

        Raises
        ------
        JournalError
            Unreadable file, no valid header, or a header whose profile, seed set or
            theorycheck version differs from this run's (the message names which).

        Warns
        -----
        JournalWarning
            For every corrupt line (named by number) and every entry of a seed outside the
            header's seed set; those lines are dropped.  Entries of claims this run does not
            select are kept (a later run may want them) but not used.
        """
        target = Path(path)
        try:
            lines = target.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc.__class__.__name__
            raise JournalError(f"`--resume` journal {str(path)!r} cannot be read ({reason})"
                               ) from None
        expected = _header(profile=profile, seeds=seeds, claims=claims)
        try:
            header = json.loads(lines[0]) if lines else None
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("kind") != KIND:
            raise JournalError(f"`--resume` file {str(path)!r} is not a theorycheck journal "
                               "(line 1 is not a journal header)")
        for field, label in (("theorycheck", "theorycheck version"), ("profile", "profile"),
                             ("seeds", "seed set"), ("format", "journal format")):
            if header.get(field) != expected[field]:
                raise JournalError(
                    f"`--resume` journal {str(path)!r} was written for {label} "
                    f"{_brief(header.get(field))}, this run has {_brief(expected[field])}; "
                    "start a new journal")
        wanted_seeds = set(expected["seeds"])
        entries: dict[TaskKey, JournalEntry] = {}
        for number, line in enumerate(lines[1:], start=2):
            try:
                entry = JournalEntry.from_dict(json.loads(line))
            except ValueError as exc:
                warnings.warn(f"journal {str(path)!r} line {number} is corrupt ({exc}); "
                              "skipped, its task will be run again", JournalWarning, stacklevel=2)
                continue
            if entry.seed not in wanted_seeds:
                warnings.warn(f"journal {str(path)!r} line {number}: seed {entry.seed} is not "
                              "in the journal's seed set; skipped", JournalWarning, stacklevel=2)
                continue
            entries[entry.key] = entry
        known = [c for c in header.get("claims", []) if isinstance(c, str)]
        header = dict(header, claims=known + [c for c in claims if c not in known])
        text = "".join(json.dumps(x) + "\n" for x in
                       [header, *(e.to_dict() for e in entries.values())])
        try:
            atomic_write_text(target, text)  # compaction: torn or corrupt lines are gone
        except OSError as exc:
            raise JournalError(f"cannot write journal {str(path)!r}: {exc.strerror}") from None
        return cls(target, header, entries)

    # -- use --------------------------------------------------------------------------------
    def get(self, claim: str, variant: str, seed: int) -> JournalEntry | None:
        """The finished entry for this task, or ``None``."""
        return self._entries.get((claim, variant, seed))

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, entry: JournalEntry) -> None:
        """Record a finished task: one line, flushed and fsync-ed before returning."""
        if self._handle is None:
            raise JournalError(f"journal {str(self.path)!r} is closed")
        self._handle.write(json.dumps(entry.to_dict()) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._entries[entry.key] = entry

    def close(self) -> None:
        """Close the append handle (idempotent)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _brief(value: Any) -> str:
    if isinstance(value, list) and len(value) > 6:
        return f"[{', '.join(map(str, value[:3]))}, …, {value[-1]}] ({len(value)} seeds)"
    return repr(value)
