"""False-alarm rate of the catalogue: run claims over many seeds and count non-PASS outcomes.

A claim is *seed-independent* when two different seeds give identical results (every method it
uses is exact or deterministic quadrature); its false-alarm count over any number of seeds is
then its count for one seed, and re-running it 50 times would only burn CPU.  Claims whose
results move with the seed are re-run for every seed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from theorycheck.claims.runner import run_claims
from theorycheck.results import Verdict

__all__ = ["FalseAlarmCount", "count_false_alarms"]


@dataclass(frozen=True, kw_only=True)
class FalseAlarmCount:
    """Per-claim counts over ``seeds`` seeds (claim verdicts and negative-control misses)."""

    claim_id: str
    seeds: int
    seed_independent: bool
    fail: int
    inconclusive: int
    control_not_fail: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"claim": self.claim_id, "seeds": self.seeds,
                "seed_independent": self.seed_independent, "fail": self.fail,
                "inconclusive": self.inconclusive, "control_not_fail": self.control_not_fail}


def _strip(result: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in result.items() if k != "timing"}, sort_keys=True)


def count_false_alarms(*, seeds: Sequence[int], ids: Sequence[str] | None = None,
                       profile: str = "quick", jobs: int = 1,
                       progress: Callable[[str], None] | None = None) -> list[FalseAlarmCount]:
    """Run the selected claims for every seed and count FAIL / INCONCLUSIVE per claim."""
    seed_list = list(seeds)
    first = run_claims(ids=ids, profile=profile, seed=seed_list[0], jobs=jobs)
    second = run_claims(ids=ids, profile=profile, seed=seed_list[1], jobs=jobs)
    counts: list[FalseAlarmCount] = []
    for a, b in zip(first.results, second.results, strict=True):
        independent = _strip(a.to_dict()) == _strip(b.to_dict())
        verdicts = [(a.outcome.verdict, a.control.verdict), (b.outcome.verdict, b.control.verdict)]
        if independent:
            verdicts = [verdicts[0]] * len(seed_list)
        else:
            for seed in seed_list[2:]:
                run = run_claims(ids=[a.claim.id], profile=profile, seed=seed, jobs=1)
                r = run.results[0]
                verdicts.append((r.outcome.verdict, r.control.verdict))
                if progress is not None:
                    progress(f"{a.claim.id} seed {seed}: {r.outcome.verdict.value} / "
                             f"control {r.control.verdict.value}")
        counts.append(FalseAlarmCount(
            claim_id=a.claim.id, seeds=len(seed_list), seed_independent=independent,
            fail=sum(v is Verdict.FAIL for v, _ in verdicts),
            inconclusive=sum(v is Verdict.INCONCLUSIVE for v, _ in verdicts),
            control_not_fail=sum(c is not Verdict.FAIL for _, c in verdicts)))
    return counts
