"""False alarms and power of the catalogue: run claims over many seeds, count non-PASS outcomes
of the checks and missed detections of the negative and boundary controls.

A claim is *seed-independent* when two different seeds give identical results (every method it
uses is exact or deterministic quadrature); its false-alarm count over any number of seeds is
then its count for one seed, and re-running it 50 times would only burn CPU.  Claims whose
results move with the seed are re-run for every seed, the (claim, variant, seed) tasks spread
over ``jobs`` worker processes (results do not depend on ``jobs``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from theorycheck._validation import check_int
from theorycheck.claims.runner import _run_task, run_claims
from theorycheck.claims.types import CheckOutcome, Variant
from theorycheck.errors import InvalidParameterError
from theorycheck.results import Verdict

# Keys of the per-seed records.
_CLAIM, _CONTROL, _BOUNDARY = (Variant.CLAIM.value, Variant.CONTROL.value,
                               Variant.BOUNDARY.value)

__all__ = ["FalseAlarmCount", "count_false_alarms", "false_alarm_report", "load_false_alarms"]


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


def _strip(result: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "timing"}, sort_keys=True)


def count_false_alarms(*, seeds: Sequence[int], ids: Sequence[str] | None = None,
                       profile: str = "quick", jobs: int = 1,
                       progress: Callable[[str], None] | None = None) -> list[FalseAlarmCount]:
    """Run the selected claims for every seed and count FAIL / INCONCLUSIVE per claim.

    Parameters
    ----------
    seeds : sequence of int
        At least two distinct seeds (the first two decide seed-independence).
    ids : sequence of str, optional
        Claim ids (all registered claims when omitted).
    profile : {"quick", "full"}
    jobs : int
        Worker processes for the per-seed re-runs.
    progress : callable, optional
        Called with one line per finished task.

    Returns
    -------
    list of FalseAlarmCount
        One per claim, in registry order.
    """
    seed_list = [check_int("seeds", s, minimum=0) for s in seeds]
    if len(set(seed_list)) < 2 or len(set(seed_list)) != len(seed_list):
        raise InvalidParameterError("`seeds` must hold at least two distinct seeds, no repeats")
    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    first = run_claims(ids=ids, profile=profile, seed=seed_list[0], jobs=jobs)
    second = run_claims(ids=ids, profile=profile, seed=seed_list[1], jobs=jobs)
    verdicts: dict[str, dict[int, dict[str, Verdict]]] = {}
    seconds: dict[str, float] = {}
    independent: dict[str, bool] = {}
    tasks: list[tuple[str, str, str, int]] = []
    for a, b in zip(first.results, second.results, strict=True):
        cid = a.claim.id
        independent[cid] = _strip(a.to_dict()) == _strip(b.to_dict())
        seconds[cid] = first.timing[cid] + second.timing[cid]
        verdicts[cid] = {seed: {_CLAIM: r.outcome.verdict, _CONTROL: r.control.verdict,
                                **({_BOUNDARY: r.boundary.verdict} if r.boundary else {})}
                         for seed, r in ((seed_list[0], a), (seed_list[1], b))}
        if not independent[cid]:
            tasks += [(cid, v.value, profile, seed) for seed in seed_list[2:]
                      for v in a.claim.variants]

    def record(task: tuple[str, str, str, int], item: tuple[str, str, CheckOutcome, float]) -> None:
        cid, variant, outcome, secs = item
        verdicts[cid].setdefault(task[3], {})[variant] = outcome.verdict
        seconds[cid] += secs
        if progress is not None:
            progress(f"{cid} {variant} seed {task[3]}: {outcome.verdict.value} ({secs:.1f} s)")

    if jobs == 1:
        for task in tasks:
            record(task, _run_task(task))
    elif tasks:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for task, item in zip(tasks, pool.map(_run_task, tasks), strict=True):
                record(task, item)
    counts = []
    for cid, per_seed in verdicts.items():
        runs = list(per_seed.values())
        if independent[cid]:
            runs = [runs[0]] * len(seed_list)
        counts.append(FalseAlarmCount(
            claim_id=cid, seeds=len(seed_list), seed_independent=independent[cid],
            fail=sum(r[_CLAIM] is Verdict.FAIL for r in runs),
            inconclusive=sum(r[_CLAIM] is Verdict.INCONCLUSIVE for r in runs),
            control_not_fail=sum(r[_CONTROL] is not Verdict.FAIL for r in runs),
            seconds=seconds[cid], boundary_runs=sum(_BOUNDARY in r for r in runs),
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


def main(seeds: int = 50, jobs: int = 2, output: str = "reports/false-alarms.json") -> int:
    """Entry point of the nox session: count over ``seeds`` seeds, write ``output``."""
    start = time.perf_counter()
    counts = count_false_alarms(seeds=range(seeds), jobs=jobs, progress=print)
    doc = false_alarm_report(counts, profile="quick", wall_seconds=time.perf_counter() - start)
    Path(output).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    for c in counts:
        boundary = (f"boundary detected {c.boundary_runs - c.boundary_not_fail:>2}/"
                    f"{c.boundary_runs}" if c.boundary_runs else "no boundary control")
        print(f"{c.claim_id:<8} fail {c.fail:>2}  inconclusive {c.inconclusive:>2}  control "
              f"missed {c.control_not_fail:>2}  {boundary}  "
              f"{'(seed-independent)' if c.seed_independent else ''}")
    bad = [c.claim_id for c in counts
           if c.alarms > 1 or c.control_not_fail > 1 or c.boundary_not_fail > 1]
    print(f"{seeds} seeds, {doc['wall_seconds']:.0f} s; over the limit: {bad or 'none'}")
    return 1 if bad else 0

