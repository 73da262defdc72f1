"""False alarms and power of the catalogue: run claims over many seeds, count non-PASS outcomes
of the checks and missed detections of the negative and boundary controls.

A claim is *seed-independent* when two different seeds give identical results (every method it
uses is exact or deterministic quadrature); its false-alarm count over any number of seeds is
then its count for one seed, and re-running it 50 times would only burn CPU.  Claims whose
results move with the seed are re-run for every seed, the (claim, variant, seed) tasks spread
over ``jobs`` worker processes (results do not depend on ``jobs``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorycheck._progress import CountedProgress
from theorycheck._validation import check_choice, check_int
from theorycheck.claims.registry import default_registry
from theorycheck.claims.runner import _run_task
from theorycheck.claims.types import PROFILES, Variant
from theorycheck.errors import InvalidParameterError
from theorycheck.executors import Executor, open_executor
from theorycheck.journal import Journal, JournalEntry, outcome_digest
from theorycheck.results import Verdict

# Keys of the per-seed records.
_CLAIM, _CONTROL, _BOUNDARY = (Variant.CLAIM.value, Variant.CONTROL.value,
                               Variant.BOUNDARY.value)

__all__ = ["FalseAlarmCount", "count_false_alarms", "false_alarm_report", "load_false_alarms",
           "merge_false_alarms"]


@dataclass(frozen=True, kw_only=True)
class FalseAlarmCount:
    """Per-claim counts over ``seeds`` seeds (claim verdicts and negative-control misses).

    Attributes
    ----------
    claim_id : str
    seeds : int
        Number of seeds the counts are over.
    seed_independent : bool
        True when two seeds gave byte-identical results (the claim was then run once).
    fail, inconclusive : int
        Seeds on which the check itself came out FAIL / INCONCLUSIVE (false alarms).
    control_not_fail : int
        Seeds on which the negative control did not FAIL (a missed detection).
    seconds : float
        CPU-process wall time spent on this claim (all variants, all seeds run).
    boundary_runs, boundary_not_fail : int
        Seeds on which a boundary control ran (0 when the claim declares none), and those on
        which it did not FAIL: power is ``boundary_runs - boundary_not_fail`` detections.
    """

    claim_id: str
    seeds: int
    seed_independent: bool
    fail: int
    inconclusive: int
    control_not_fail: int
    seconds: float = 0.0
    boundary_runs: int = 0
    boundary_not_fail: int = 0

    @property
    def alarms(self) -> int:
        """Seeds with a non-PASS check (FAIL or INCONCLUSIVE)."""
        return self.fail + self.inconclusive

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"claim": self.claim_id, "seeds": self.seeds,
                "seed_independent": self.seed_independent, "fail": self.fail,
                "inconclusive": self.inconclusive, "control_not_fail": self.control_not_fail,
                "boundary_runs": self.boundary_runs, "boundary_not_fail": self.boundary_not_fail,
                "seconds": round(self.seconds, 1)}


Task = tuple[str, str, str, int]


def _run_recorded(task: Task) -> JournalEntry:
    """Run one task in a worker; return what the campaign keeps (verdict, digest, seconds)."""
    cid, variant, outcome, secs = _run_task(task)
    return JournalEntry(claim=cid, variant=variant, seed=task[3], verdict=outcome.verdict.value,
                        digest=outcome_digest(outcome.to_dict()), seconds=secs)


def count_false_alarms(*, seeds: Sequence[int], ids: Sequence[str] | None = None,
                       profile: str = "quick", jobs: int = 1,
                       progress: Callable[[str], None] | None = None,
                       executor: Executor | None = None,
                       journal: Journal | None = None) -> list[FalseAlarmCount]:
    """Run the selected claims for every seed and count FAIL / INCONCLUSIVE per claim.

    Every claim runs (claim and negative control) on the first two seeds; a claim whose two
    outcomes are byte-identical (equal :func:`~theorycheck.journal.outcome_digest`) is
    seed-independent and counted from its first seed, the others are re-run on every seed.

    Parameters
    ----------
    seeds : sequence of int
        At least two distinct seeds (the first two decide seed-independence).
    ids : sequence of str, optional
        Claim ids (all registered claims when omitted).
    profile : {"quick", "full"}
    jobs : int
        Worker processes when no ``executor`` is given.
    progress : callable, optional
        Called with one line per finished task (told the task count first when it is a
        :class:`~theorycheck._progress.CountedProgress`).
    executor : Executor, optional
        Where tasks run (:func:`theorycheck.executors.open_executor`); overrides ``jobs``.
        Counts do not depend on it.
    journal : Journal, optional
        Tasks already in it are not run again; every task finished here is appended to it as
        it finishes (see :mod:`theorycheck.journal`).

    Returns
    -------
    list of FalseAlarmCount
        One per claim, in registry order.
    """
    seed_list = [check_int("seeds", s, minimum=0) for s in seeds]
    if len(set(seed_list)) < 2 or len(set(seed_list)) != len(seed_list):
        raise InvalidParameterError("`seeds` must hold at least two distinct seeds, no repeats")
    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    profile = check_choice("profile", profile, PROFILES)
    claims = default_registry().select(ids)
    claim_ids = [c.id for c in claims]
    # claim, negative control and (where declared) boundary control of every claim
    variants = {c.id: tuple(v.value for v in c.variants) for c in claims}
    done: dict[tuple[str, str, int], JournalEntry] = {}
    if isinstance(progress, CountedProgress):
        progress.expect(2 * sum(len(v) for v in variants.values()))

    def run(tasks: list[Task], ex: Executor) -> None:
        for task in tasks:
            entry = None if journal is None else journal.get(task[0], task[1], task[3])
            if entry is not None:
                done[entry.key] = entry
                if progress is not None:
                    progress(f"{task[0]} {task[1]} seed {task[3]}: {entry.verdict} (journal)")
        todo = [t for t in tasks if (t[0], t[1], t[3]) not in done]
        for _, entry in ex.map(_run_recorded, todo):
            if journal is not None:
                journal.append(entry)
            done[entry.key] = entry
            if progress is not None:
                progress(f"{entry.claim} {entry.variant} seed {entry.seed}: {entry.verdict} "
                         f"({entry.seconds:.1f} s)")

    with contextlib.ExitStack() as stack:
        ex = executor if executor is not None else stack.enter_context(
            open_executor("local", jobs=jobs))
        run([(cid, v, profile, seed) for seed in seed_list[:2] for cid in claim_ids
             for v in variants[cid]], ex)
        independent = {cid: all(done[(cid, v, seed_list[0])].digest
                                == done[(cid, v, seed_list[1])].digest for v in variants[cid])
                       for cid in claim_ids}
        rest = [(cid, v, profile, seed) for cid in claim_ids if not independent[cid]
                for seed in seed_list[2:] for v in variants[cid]]
        if isinstance(progress, CountedProgress):
            progress.expect(len(rest))
        run(rest, ex)
    counts = []
    for cid in claim_ids:
        used = seed_list[:1] * len(seed_list) if independent[cid] else seed_list
        runs = [{v: Verdict(done[(cid, v, seed)].verdict) for v in variants[cid]}
                for seed in used]
        seconds = sum(e.seconds for key, e in done.items() if key[0] == cid)
        counts.append(FalseAlarmCount(
            claim_id=cid, seeds=len(seed_list), seed_independent=independent[cid],
            fail=sum(r[_CLAIM] is Verdict.FAIL for r in runs),
            inconclusive=sum(r[_CLAIM] is Verdict.INCONCLUSIVE for r in runs),
            control_not_fail=sum(r[_CONTROL] is not Verdict.FAIL for r in runs),
            seconds=seconds, boundary_runs=sum(_BOUNDARY in r for r in runs),
            boundary_not_fail=sum(r[_BOUNDARY] is not Verdict.FAIL for r in runs
                                  if _BOUNDARY in r)))
    return counts


def false_alarm_report(counts: Sequence[FalseAlarmCount], *, profile: str,
                       wall_seconds: float) -> dict[str, Any]:
    """The JSON document written by ``nox -s false-alarms`` (validated by :func:`load_false_alarms`)."""
    return {"kind": "theorycheck-false-alarms", "profile": profile,
            "seeds": counts[0].seeds if counts else 0, "wall_seconds": round(wall_seconds, 1),
            "rule": "no claim may FAIL or go INCONCLUSIVE on more than 1 seed, and no negative "
                    "or boundary control may miss (not FAIL) on more than 1 seed",
            "claims": [c.to_dict() for c in counts]}


def load_false_alarms(path: str | Path) -> dict[str, Any]:
    """Read and validate a false-alarm JSON document; bad files raise ``InvalidParameterError``."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidParameterError(f"`false_alarms` file {str(path)!r} is not readable JSON "
                                    f"({exc.__class__.__name__})") from None
    keys = {"claim", "seeds", "seed_independent", "fail", "inconclusive", "control_not_fail"}
    if (not isinstance(doc, dict) or doc.get("kind") != "theorycheck-false-alarms"
            or not isinstance(doc.get("claims"), list)
            or not all(isinstance(c, dict) and keys <= c.keys() for c in doc["claims"])):
        raise InvalidParameterError(f"`false_alarms` file {str(path)!r} is not a theorycheck "
                                    "false-alarm document")
    return doc


def merge_false_alarms(documents: Sequence[dict[str, Any]], *,
                       order: Sequence[str] = ()) -> dict[str, Any]:
    """Merge false-alarm documents of disjoint claim sets (shards of one campaign).

    The shards must agree on ``profile`` and ``seeds``; a claim may occur in one shard only.
    ``wall_seconds`` is the sum over shards; claims are ordered by ``order`` (registry order).
    Raises ``InvalidParameterError`` naming the field or claim that breaks the rule.
    """
    if not documents:
        raise InvalidParameterError("`false_alarms`: at least one document is required")
    first = documents[0]
    claims: dict[str, dict[str, Any]] = {}
    for i, doc in enumerate(documents):
        for key in ("profile", "seeds"):
            if doc.get(key) != first.get(key):
                raise InvalidParameterError(f"`false_alarms` shard {i}: {key} is "
                                            f"{doc.get(key)!r}, shard 0 has {first.get(key)!r}")
        for entry in doc["claims"]:
            if entry["claim"] in claims:
                raise InvalidParameterError(f"`false_alarms` shard {i}: claim "
                                            f"{entry['claim']!r} is also in an earlier shard")
            claims[entry["claim"]] = entry
    rank = {cid: i for i, cid in enumerate(order)}
    ordered = sorted(claims, key=lambda cid: rank.get(cid, len(rank)))
    return {**first, "wall_seconds": round(sum(float(d.get("wall_seconds", 0.0))
                                               for d in documents), 1),
            "shards": len(documents), "claims": [claims[c] for c in ordered]}
