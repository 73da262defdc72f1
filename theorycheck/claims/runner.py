"""Run claims, their negative controls and boundary controls; collect a deterministic record.

Each (claim, variant) pair is an independent task whose randomness comes only from
``CheckContext.point_rng``, so ``jobs=2`` gives results identical to ``jobs=1``.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from theorycheck._validation import check_choice, check_int
from theorycheck.claims.registry import Registry, default_registry
from theorycheck.claims.types import PROFILES, CheckContext, CheckOutcome, ClaimResult, Variant
from theorycheck.results import Verdict

if TYPE_CHECKING:
    from theorycheck.executors import Executor

__all__ = ["VerificationRun", "run_claims", "environment"]

SCHEMA_VERSION = 1


def environment(*, seed: int, profile: str, dps: int) -> dict[str, Any]:
    """Versions and settings that determine the results (no timing, no host names)."""
    import mpmath
    import numpy
    import scipy

    from theorycheck import __version__

    return {"theorycheck": __version__, "python": platform.python_version(),
            "numpy": numpy.__version__, "scipy": scipy.__version__,
            "mpmath": mpmath.__version__, "seed": seed, "profile": profile, "dps": dps,
            "schema_version": SCHEMA_VERSION}


@dataclass(frozen=True, kw_only=True)
class VerificationRun:
    """All claim results of one ``verify`` run, plus environment and timing."""

    results: tuple[ClaimResult, ...]
    environment: dict[str, Any]
    timing: dict[str, float]

    @property
    def exit_code(self) -> int:
        """0 all PASS, 1 any FAIL, 3 none FAIL but some INCONCLUSIVE."""
        verdicts = [r.verdict for r in self.results]
        if any(v is Verdict.FAIL for v in verdicts):
            return 1
        if any(v is Verdict.INCONCLUSIVE for v in verdicts):
            return 3
        return 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record; identical for identical seeds except the ``timing`` object."""
        return {"schema_version": SCHEMA_VERSION, "environment": self.environment,
                "claims": [r.to_dict() for r in self.results], "timing": dict(self.timing)}


def _run_task(task: tuple[str, str, str, int]) -> tuple[str, str, CheckOutcome, float]:
    claim_id, variant_name, profile, seed = task
    claim = default_registry().get(claim_id)
    ctx = CheckContext(claim_id=claim_id, profile=profile, variant=Variant(variant_name),
                       seed=seed)
    start = time.perf_counter()
    outcome = claim.check(ctx)
    return claim_id, variant_name, outcome, time.perf_counter() - start


def run_claims(*, ids: Iterable[str] | None = None, profile: str = "quick", seed: int = 0,
               jobs: int = 1, registry: Registry | None = None,
               progress: Callable[[str], None] | None = None,
               executor: Executor | None = None) -> VerificationRun:
    """Run the selected claims and their negative controls.

    Parameters
    ----------
    ids : iterable of str, optional
        Claim ids (all when omitted); unknown ids raise ``InvalidParameterError``.
    profile : {"quick", "full"}
    seed : int
        Root seed; every grid point derives its own generator from it.
    jobs : int
        Worker processes (1 runs in this process).  Results do not depend on it.
    registry : Registry, optional
        Defaults to :func:`default_registry`.  With ``jobs > 1`` only the default registry
        can be used (workers rebuild it).
    progress : callable, optional
        Called with a short message as each task finishes; a
        :class:`theorycheck._progress.CountedProgress` is first told the number of tasks.
    executor : Executor, optional
        Where the (claim, variant) tasks run (:func:`theorycheck.executors.open_executor`, e.g.
        a Dask cluster); overrides ``jobs``.  Results do not depend on it.
    """
    profile = check_choice("profile", profile, PROFILES)
    seed = check_int("seed", seed, minimum=0)
    jobs = check_int("jobs", jobs, minimum=1, maximum=64)
    use_default = registry is None
    reg = default_registry() if registry is None else registry
    claims = reg.select(ids)
    if (jobs > 1 or executor is not None) and not use_default:
        from theorycheck.errors import InvalidParameterError

        raise InvalidParameterError("`jobs` > 1 and `executor` require the default registry")
    # Boundary controls go last: claims and negative controls keep the order (and the sharing of
    # memoised points between claims within a worker) they had before boundary controls existed.
    tasks = [(c.id, v.value, profile, seed) for c in claims for v in c.variants
             if v is not Variant.BOUNDARY]
    tasks += [(c.id, Variant.BOUNDARY.value, profile, seed) for c in claims
              if Variant.BOUNDARY in c.variants]
    start = time.perf_counter()
    outcomes: dict[tuple[str, str], tuple[CheckOutcome, float]] = {}
    from theorycheck._progress import CountedProgress

    if isinstance(progress, CountedProgress):
        progress.expect(len(tasks))

    def record(item: tuple[str, str, CheckOutcome, float]) -> None:
        claim_id, variant_name, outcome, seconds = item
        outcomes[(claim_id, variant_name)] = (outcome, seconds)
        if progress is not None:
            progress(f"[{len(outcomes)}/{len(tasks)}] {claim_id} {variant_name}: "
                     f"{outcome.verdict.value} ({seconds:.1f} s)")

    if executor is not None:
        for _, item in executor.map(_run_task, tasks):
            record(item)
    elif jobs == 1:
        for task in tasks:
            claim = reg.get(task[0])
            ctx = CheckContext(claim_id=task[0], profile=profile, variant=Variant(task[1]),
                               seed=seed)
            t0 = time.perf_counter()
            record((task[0], task[1], claim.check(ctx), time.perf_counter() - t0))
    else:
        from theorycheck.executors import open_executor

        with open_executor("local", jobs=jobs) as pool:
            for _, item in pool.map(_run_task, tasks):
                record(item)
    results = []
    timing: dict[str, float] = {}
    for claim in claims:
        outcome, t_claim = outcomes[(claim.id, Variant.CLAIM.value)]
        control, t_control = outcomes[(claim.id, Variant.CONTROL.value)]
        boundary, t_boundary = outcomes.get((claim.id, Variant.BOUNDARY.value), (None, 0.0))
        seconds = t_claim + t_control + t_boundary
        results.append(ClaimResult(claim=claim, outcome=outcome, control=control,
                                   runtime_seconds=seconds, boundary=boundary))
        timing[claim.id] = round(seconds, 3)
    timing["total_wall_seconds"] = round(time.perf_counter() - start, 3)
    from theorycheck.schedules import DEFAULT_DPS

    return VerificationRun(results=tuple(results),
                           environment=environment(seed=seed, profile=profile, dps=DEFAULT_DPS),
                           timing=timing)


def ids_from_args(values: Sequence[str] | None) -> list[str] | None:
    """Flatten ``--claims A B`` / ``--claims A,B`` into a list (``None`` for all)."""
    if not values:
        return None
    out: list[str] = []
    for value in values:
        out.extend(part for part in value.split(",") if part)
    return out
