"""Command-line interface: argparse → library calls → files.

Every subcommand returns an exit status: 0 success, 1 a check failed, 2 bad input (one line on
stderr, no traceback), 3 inconclusive.  ``main(argv=None) -> int`` never calls ``sys.exit``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from theorycheck import __version__
from theorycheck.errors import TheorycheckError

__all__ = ["main", "UsageError"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3


class UsageError(TheorycheckError):
    """Bad command-line usage (reported as one line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _write_text(path: str, text: str, option: str) -> None:
    """Write atomically (temporary file + rename): an interrupted write keeps the old file."""
    from theorycheck._atomic import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write `{option}` file {path!r}: {exc.strerror}") from None


def _write_json(path: str, payload: dict[str, Any], option: str = "--json") -> None:
    _write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n", option)


def _schedule_from_args(args: argparse.Namespace) -> Any:
    from theorycheck import schedules

    if args.kind == "two_phase":
        return schedules.two_phase(args.steps, c0=args.c0, c1=args.c1, index=args.index,
                                   dps=args.dps)
    if args.kind == "linear":
        return schedules.linear(args.steps, beta_start=args.beta_start, beta_end=args.beta_end,
                                rescale=args.rescale, dps=args.dps)
    return schedules.cosine(args.steps, dps=args.dps)


#: From this many steps on, ``schedule`` first prints an estimate of its run time.
ESTIMATE_FROM_STEPS = 100_000


def _schedule_estimate(args: argparse.Namespace) -> str:
    """Extrapolate the run time of ``schedule`` from two small runs (T = 1000, 4000)."""
    import time

    small = []
    for steps in (1000, 4000):
        start = time.perf_counter()
        _schedule_pipeline(argparse.Namespace(**{**vars(args), "steps": steps}))
        small.append(time.perf_counter() - start)
    import math

    power = max(1.0, math.log(small[1] / small[0]) / math.log(4.0))
    seconds = small[1] * (args.steps / 4000) ** power
    shown = (f"{seconds / 3600:.1f} h" if seconds > 5400 else f"{seconds / 60:.0f} min"
             if seconds > 90 else f"{seconds:.0f} s")
    return (f"schedule with T = {args.steps:,} steps at {args.dps} digits: estimated {shown} "
            f"(time ~ T^{power:.2f}, extrapolated from T = 1000 and 4000; Ctrl-C stops it)")


def _cmd_schedule(args: argparse.Namespace) -> int:
    if args.steps >= ESTIMATE_FROM_STEPS:
        print(f"theorycheck: {_schedule_estimate(args)}", file=sys.stderr, flush=True)
    lines, payload, passed = _schedule_pipeline(args, announce=args.steps >= ESTIMATE_FROM_STEPS)
    print("\n".join(lines))
    if args.json:
        _write_json(args.json, payload)
    return EXIT_OK if passed else EXIT_FAIL


def _schedule_pipeline(args: argparse.Namespace, *, announce: bool = False
                       ) -> tuple[list[str], dict[str, Any], bool]:
    from theorycheck._progress import progress
    from theorycheck.designs import DESIGN_NAMES, make_design
    from theorycheck.precision import precision_audit
    from theorycheck.schedule_checks import schedule_properties

    stages = iter(progress(["schedule", "properties", "precision audit",
                            *(f"one-step condition: {n}" for n in DESIGN_NAMES)],
                           desc=f"schedule T={args.steps:,}") if announce else [])
    next(stages, None)
    schedule = _schedule_from_args(args)
    next(stages, None)
    props = schedule_properties(schedule, c2=args.c2)
    next(stages, None)
    audit = precision_audit(schedule)
    conditions = {}
    for name in DESIGN_NAMES:
        next(stages, None)
        design = make_design(name, schedule, eta=args.eta if name == "ddim_eta" else None)
        cond = design.one_step_condition()
        conditions[design.describe()] = {"max_abs_R_minus_one": cond.max_abs,
                                         "worst_step": cond.worst_step, "dps": cond.dps}
    lines = [f"schedule: {schedule.describe()}", "",
             f"{'t':>8} {'1-α_t':>12} {'ᾱ_t':>12} {'1-ᾱ_t':>12} {'α_t-ᾱ_t':>12}"]
    T = schedule.num_steps
    rows = sorted({1, 2, 3, T // 4, T // 2, (3 * T) // 4, T - 1, T} - {0})
    for t in rows:
        lines.append(f"{t:>8} {schedule.one_minus_alpha[t - 1]:12.5e} "
                     f"{schedule.alpha_bar[t - 1]:12.5e} {schedule.one_minus_alpha_bar[t - 1]:12.5e}"
                     f" {schedule.alpha_minus_alpha_bar[t - 1]:12.5e}")
    lines += ["", f"properties (c1={props.c1:g}, {props.c1_source}; c2={props.c2:g}):"]
    for check in props.checks:
        mark = "PASS" if check.passed else "FAIL"
        lines.append(f"  [{mark}] {check.statement}: {check.value:.4g} at t={check.worst_step}"
                     f"  ({check.source})")
    if not props.passed:
        lines.append("  warning: these constants break a property the convergence proofs use")
    lines += ["", "precision of the naive computation (against mpmath):"]
    lines += [f"  {a.summary()}" for a in audit.audits]
    lines += ["", f"one-step condition max_t |R_t - 1| (mpmath, {schedule.dps} digits):"]
    for label, info in conditions.items():
        lines.append(f"  {label:<22} {info['max_abs_R_minus_one']:.3e} at t={info['worst_step']}")
    next(stages, None)
    payload = {"schedule": schedule.to_dict(), "properties": props.to_dict(),
               "precision": audit.to_dict(), "one_step_condition": conditions}
    return lines, payload, props.passed


def _cmd_list(args: argparse.Namespace) -> int:
    from theorycheck.claims import default_registry

    claims = default_registry().claims()
    if not claims:
        print("no claims registered")
    for claim in claims:
        print(f"{claim.id:<10} {claim.source.short():<48} {claim.title}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace) -> int:
    from theorycheck._progress import task_progress
    from theorycheck.claims.runner import ids_from_args, run_claims
    from theorycheck.executors import open_executor

    ids = ids_from_args(args.claims)
    if ids is not None:  # unknown ids are reported before any cluster starts
        from theorycheck.claims import default_registry

        default_registry().select(ids)
    registry, jobs, kind = None, args.jobs, args.executor
    if args.sampler is not None:
        from theorycheck.claims.rates import sampler_registry
        from theorycheck.claims.user_sampler import UserSampler

        if args.executor != "local" or args.dask_address is not None:
            raise UsageError("`--sampler` runs in this process: it cannot be combined with "
                             "`--executor dask` or `--dask-address`")
        # Workers rebuild only the default registry, so a user's sampler runs in-process.
        registry, jobs = sampler_registry(UserSampler.load(args.sampler)), 1
    bar = task_progress("verify")
    try:
        with open_executor(kind, jobs=jobs, address=args.dask_address) as ex:
            run = run_claims(ids=ids, profile=args.profile, seed=args.seed, jobs=jobs,
                             registry=registry, progress=bar,
                             executor=None if registry is not None else ex)
    finally:
        if bar is not None:
            bar.close()
    if args.sampler is not None:
        run.environment["sampler"] = args.sampler
    width = max((len(r.claim.id) for r in run.results), default=5)
    for result in run.results:
        boundary = "—" if result.boundary is None else result.boundary.verdict.value
        print(f"{result.claim.id:<{width}}  {result.verdict.value:<12}  "
              f"control: {result.control.verdict.value:<12}  boundary: {boundary:<12}  "
              f"{result.outcome.measured}")
    print(f"{len(run.results)} claims, profile {args.profile}, seed {args.seed}: "
          f"{run.timing['total_wall_seconds']:.1f} s")
    if args.json:
        _write_json(args.json, run.to_dict())
    return run.exit_code


def _cmd_false_alarms(args: argparse.Namespace) -> int:
    import time

    from theorycheck._progress import task_progress
    from theorycheck.claims import default_registry
    from theorycheck.claims.false_alarms import count_false_alarms, false_alarm_report
    from theorycheck.claims.runner import ids_from_args
    from theorycheck.executors import open_executor
    from theorycheck.journal import Journal

    if args.journal and args.resume:
        raise UsageError("give either `--journal` (start a new journal) or `--resume` "
                         "(continue one), not both")
    if args.seeds < 2:
        raise UsageError(f"`--seeds` must be at least 2 (got {args.seeds})")
    seeds = list(range(args.seeds))
    ids = [c.id for c in default_registry().select(ids_from_args(args.claims))]
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        journal = None
        if args.resume:
            journal = stack.enter_context(Journal.resume(args.resume, profile=args.profile,
                                                         seeds=seeds, claims=ids))
            print(f"resuming {args.resume}: {len(journal)} tasks already done", file=sys.stderr)
        elif args.journal:
            journal = stack.enter_context(Journal.create(args.journal, profile=args.profile,
                                                         seeds=seeds, claims=ids))
        ex = stack.enter_context(open_executor(args.executor, jobs=args.jobs,
                                               address=args.dask_address))
        bar = task_progress("false alarms")
        if bar is not None:
            stack.enter_context(bar)
        counts = count_false_alarms(seeds=seeds, ids=ids, profile=args.profile, jobs=args.jobs,
                                    progress=bar if bar is not None else print, executor=ex,
                                    journal=journal)
    doc = false_alarm_report(counts, profile=args.profile,
                             wall_seconds=time.perf_counter() - start)
    _write_json(args.output, doc, "--output")
    for c in counts:
        boundary = (f"boundary detected {c.boundary_runs - c.boundary_not_fail:>3}/"
                    f"{c.boundary_runs}" if c.boundary_runs else "no boundary control")
        print(f"{c.claim_id:<10} fail {c.fail:>3}  inconclusive {c.inconclusive:>3}  control "
              f"missed {c.control_not_fail:>3}  {boundary}  "
              f"{'(seed-independent)' if c.seed_independent else ''}")
    bad = [c.claim_id for c in counts
           if c.alarms > 1 or c.control_not_fail > 1 or c.boundary_not_fail > 1]
    print(f"{args.seeds} seeds, {doc['wall_seconds']:.0f} s; over the limit: "
          f"{', '.join(bad) or 'none'}; written to {args.output}")
    return EXIT_FAIL if bad else EXIT_OK


def _cmd_compare(args: argparse.Namespace) -> int:
    from theorycheck.claims.io import load_results
    from theorycheck.compare import compare_results

    baseline = load_results(args.baseline, argument="BASELINE")
    new = load_results(args.new, argument="NEW")
    comparison = compare_results(baseline, new)
    print(comparison.table(only_failures=not args.all))
    bad = sum(not d.ok for d in comparison.deltas)
    print(f"{len(comparison.deltas)} quantities compared, {bad} outside their band")
    return EXIT_OK if comparison.ok else EXIT_FAIL


def _cmd_report(args: argparse.Namespace) -> int:
    from theorycheck.claims.io import load_results
    from theorycheck.report import write_report

    docs = [load_results(path, argument="RESULTS") for path in args.results]
    if len(docs) == 1:
        results = docs[0]
    else:
        from theorycheck.claims.io import merge_results
        from theorycheck.claims.registry import default_registry

        results = merge_results(docs, order=[c.id for c in default_registry().select(None)])
    alarms = None
    if args.false_alarms:
        from theorycheck.claims.false_alarms import load_false_alarms

        alarm_docs = [load_false_alarms(path) for path in args.false_alarms]
        if len(alarm_docs) == 1:
            alarms = alarm_docs[0]
        else:
            from theorycheck.claims.false_alarms import merge_false_alarms
            from theorycheck.claims.registry import default_registry

            alarms = merge_false_alarms(
                alarm_docs, order=[c.id for c in default_registry().select(None)])
    try:
        path = write_report(results, args.output, false_alarms=alarms)
    except OSError as exc:
        raise UsageError(f"cannot write report {args.output!r}: {exc.strerror}") from None
    print(f"report written to {path}")
    return EXIT_OK


def _print_measurement(result: Any, metrics: Sequence[str]) -> None:
    print(f"method: {result.method_name or result.method}")
    if result.method_reason:
        print(f"  why: {result.method_reason}")
    for name in metrics:
        label = "TV" if name == "tv" else result.kl_direction
        est = result.values[name]
        bound = "  (UPPER BOUND)" if est.error_kind.value == "upper_bound" else ""
        print(f"{label}: {est.value:.6e} ± {est.stderr:.2e} ({est.error_kind.value}){bound}  "
              f"[{est.method}]")
        for part in ("subspace", "orthogonal"):
            p = result.parts[part].get(name)
            if p is not None:
                print(f"  {part:<10}: {p.value:.6e} ± {p.stderr:.2e} ({p.error_kind.value})  "
                      f"[{p.method}]")
    for name, est in result.extra.items():
        print(f"{name}: {est.value:.6e} ± {est.stderr:.2e} ({est.error_kind.value})  "
              f"[{est.method}]")
    print(f"orthogonal relative variance error e_1 = {result.orthogonal_relative_error:.6e}")
    for note in result.notes:
        print(f"note: {note}")


def _cmd_measure_sweep(args: argparse.Namespace, raw: dict[str, Any]) -> int:
    from theorycheck.sweep import plot_sweep, run_sweep, sweep_markdown, sweep_to_dict

    result = run_sweep(raw, method=args.method)
    table = sweep_markdown(result)
    print(table, end="")
    if args.table:
        header = (f"# Sweep of `{args.spec}`\n\nGenerated by `python -m theorycheck measure "
                  f"{args.spec} --table {args.table}" + (f" --json {args.json}" if args.json else "")
                  + (f" --plot {args.plot}" if args.plot else "") + "` "
                  f"({len(result.cases)} cases; values ± stated error, the error kind says "
                  "whether that is exact rounding, a quadrature tolerance, a Monte Carlo "
                  "standard error or an upper bound).\n\n"
                  + (f"![sweep figure]({Path(args.plot).name})\n\n" if args.plot else ""))
        _write_text(args.table, header + table, "--table")
    if args.json:
        _write_json(args.json, sweep_to_dict(result))
    if args.plot:
        if not args.plot.endswith(".png"):
            raise UsageError(f"`--plot` must name a .png file (got {args.plot!r})")
        print(f"figure written to {plot_sweep(result, args.plot)}")
    return EXIT_OK


def _cmd_measure(args: argparse.Namespace) -> int:
    import numpy as np

    from theorycheck.spec import load_raw_spec, parse_spec
    from theorycheck.sweep import is_sweep

    raw = load_raw_spec(args.spec)
    if is_sweep(raw):
        return _cmd_measure_sweep(args, raw)
    if args.plot or args.table:
        raise UsageError("`--plot` and `--table` need a sweep spec (a list in a sweepable "
                         "field, e.g. target.ambient_dim)")
    spec = parse_spec(raw)
    from theorycheck.experiments import measure

    result = measure(spec.target, spec.design, rng=np.random.default_rng(spec.seed),
                     metrics=spec.metrics, num_samples=spec.num_samples, method=args.method)
    print(f"target: d={result.ambient_dim}, k={result.intrinsic_dim}; sampler: "
          f"{spec.design.describe()} on {spec.design.schedule.describe()}")
    _print_measurement(result, spec.metrics)
    if args.json:
        payload = result.to_dict()
        payload["spec"] = spec.raw
        _write_json(args.json, payload)
    return EXIT_OK


def _write_audit_report(path_text: str, text: str) -> None:
    _write_text(path_text, text, "--report")


def _cmd_audit_loop(args: argparse.Namespace) -> int:
    import numpy as np

    from theorycheck.audit.causes import cause_breakdown
    from theorycheck.audit.diffusers_build import load_config, make_diffusers_loop
    from theorycheck.audit.report import breakdown_markdown, breakdown_summary_lines

    class_name = args.target.partition(":")[2]
    config = load_config(args.config)
    step_kwargs = {} if args.eta is None else {"eta": args.eta}
    loop = make_diffusers_loop(class_name, config, steps=args.steps, spacing=args.spacing,
                               dtype=args.dtype, step_kwargs=step_kwargs)
    result = cause_breakdown(loop, rng=np.random.default_rng(args.seed), eps=args.eps,
                             max_ambient_dim=args.max_dim)
    print("\n".join(breakdown_summary_lines(result)))
    if args.json:
        payload = result.to_dict()
        payload.update(seed=args.seed, config=config, spacing=args.spacing, eta=args.eta)
        _write_json(args.json, payload)
    if args.report:
        _write_audit_report(args.report, breakdown_markdown(result))
    return result.exit_code


def _cmd_audit_memory(args: argparse.Namespace, sampler: Any) -> int:
    """A step-protocol sampler with ``reset()`` (memory): the whole-chain per-cause audit."""
    import numpy as np

    from theorycheck.audit.causes import cause_breakdown
    from theorycheck.audit.report import breakdown_markdown, breakdown_summary_lines
    from theorycheck.audit.step_chain import step_sampler_chain

    chain = step_sampler_chain(sampler, name=args.target)
    result = cause_breakdown(chain, rng=np.random.default_rng(args.seed), eps=args.eps,
                             max_ambient_dim=args.max_dim)
    print("\n".join(breakdown_summary_lines(result)))
    if args.json:
        payload = result.to_dict()
        payload["seed"] = args.seed
        _write_json(args.json, payload)
    if args.report:
        _write_audit_report(args.report, breakdown_markdown(result))
    return result.exit_code


def _cmd_audit(args: argparse.Namespace) -> int:
    import numpy as np

    from theorycheck.audit import audit_sampler, load_sampler
    from theorycheck.audit.report import audit_markdown, audit_summary_lines

    if isinstance(args.target, str) and args.target.startswith("diffusers:"):
        return _cmd_audit_loop(args)
    sampler = load_sampler(args.target)
    if callable(getattr(sampler, "reset", None)):
        return _cmd_audit_memory(args, sampler)
    result = audit_sampler(sampler, rng=np.random.default_rng(args.seed), name=args.target)
    print("\n".join(audit_summary_lines(result)))
    if args.json:
        payload = result.to_dict()
        payload["seed"] = args.seed
        _write_json(args.json, payload)
    if args.report:
        _write_text(args.report, audit_markdown(result), "--report")
    return result.exit_code


def _executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local: --jobs processes here; dask: a Dask cluster (needs "
                             "theorycheck[distributed])")
    parser.add_argument("--dask-address", metavar="ADDRESS",
                        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster "
                             "of --jobs single-threaded workers)")


def _build_parser() -> _Parser:
    parser = _Parser(prog="theorycheck", description=(
        "Executable, falsifiable checks of diffusion-model convergence theory."))
    parser.add_argument("--version", action="version", version=f"theorycheck {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    sched = sub.add_parser("schedule", help="schedule table, proof properties, precision audit")
    sched.add_argument("--kind", choices=("two_phase", "linear", "cosine"), default="two_phase")
    sched.add_argument("--steps", type=int, default=1000, help="T (default 1000)")
    sched.add_argument("--c0", type=float, default=2.0)
    sched.add_argument("--c1", type=float, default=4.0)
    sched.add_argument("--c2", type=float, default=2.0, help="required ᾱ_T ≤ T^-c2")
    sched.add_argument("--index", choices=("seed", "li_yan"), default="seed")
    sched.add_argument("--beta-start", type=float, default=1e-4)
    sched.add_argument("--beta-end", type=float, default=0.02)
    sched.add_argument("--rescale", action="store_true", help="linear: scale end points by 1000/T")
    sched.add_argument("--eta", type=float, default=0.5, help="η of the ddim_eta design")
    sched.add_argument("--dps", type=int, default=50, help="mpmath digits (default 50)")
    sched.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    sched.set_defaults(handler=_cmd_schedule)

    ver = sub.add_parser("verify", help="run the claims, their negative and boundary controls")
    ver.add_argument("--profile", choices=("quick", "full"), default="quick")
    ver.add_argument("--claims", nargs="+", metavar="ID", help="claim ids (default: all)")
    ver.add_argument("--seed", type=int, default=0)
    ver.add_argument("--jobs", type=int, default=1, help="worker processes (same results)")
    ver.add_argument("--json", metavar="OUT", help="write the results as JSON")
    ver.add_argument("--sampler", metavar="TARGET",
                     help="FILE.py:ATTR or module:attr; ATTR(alpha_bar) returns a sampler (the "
                          "audit's protocol) run in place of the built-in designs by RATE-TV, "
                          "RATE-LY and RATE-KL (controls stay built in; runs in one process)")
    _executor_options(ver)
    ver.set_defaults(handler=_cmd_verify)

    fa = sub.add_parser("false-alarms", help="count FAIL/INCONCLUSIVE of every claim over many "
                                             "seeds (exit 1 if a claim is over the limit)")
    fa.add_argument("--seeds", type=int, default=50, help="seeds 0..N-1 (default 50)")
    fa.add_argument("--claims", nargs="+", metavar="ID", help="claim ids (default: all)")
    fa.add_argument("--profile", choices=("quick", "full"), default="quick")
    fa.add_argument("--jobs", type=int, default=1, help="worker processes (same results)")
    fa.add_argument("-o", "--output", default="reports/false-alarms.json", metavar="OUT.json")
    fa.add_argument("--journal", metavar="JOURNAL.jsonl",
                    help="record every finished task in a new journal (for --resume)")
    fa.add_argument("--resume", metavar="JOURNAL.jsonl",
                    help="continue the campaign in this journal, skipping finished tasks")
    _executor_options(fa)
    fa.set_defaults(handler=_cmd_false_alarms)

    cmp_ = sub.add_parser("compare", help="regression-check results against a baseline")
    cmp_.add_argument("baseline", metavar="BASELINE.json")
    cmp_.add_argument("new", metavar="NEW.json")
    cmp_.add_argument("--all", action="store_true", help="show every delta, not only failures")
    cmp_.set_defaults(handler=_cmd_compare)

    mea = sub.add_parser("measure", help="TV and KL of one experiment (or a sweep) from a JSON "
                                         "spec")
    mea.add_argument("spec", metavar="SPEC.json")
    mea.add_argument("--json", metavar="OUT", help="write the results as JSON")
    mea.add_argument("--method", metavar="NAME", default=None,
                     help="force a method: closed_form, grid, change_of_variables, path_kl "
                          "(default: the first that applies)")
    mea.add_argument("--table", metavar="OUT.md", help="sweeps: write the markdown table")
    mea.add_argument("--plot", metavar="OUT.png", help="sweeps: write a log-log figure")
    mea.set_defaults(handler=_cmd_measure)

    aud = sub.add_parser("audit", help="audit a sampler's adaptivity (exit 0 adaptive, 1 not, "
                                       "3 inconclusive, 2 bad input)")
    aud.add_argument("target", metavar="TARGET",
                     help="module:attr or path/to/file.py:attr (a sampler or a zero-arg factory), "
                          "or diffusers:CLASS (a diffusers scheduler's own loop)")
    aud.add_argument("--json", metavar="OUT", help="write the audit as JSON (field `verdict`)")
    aud.add_argument("--report", metavar="OUT.md", help="write the audit as markdown")
    aud.add_argument("--seed", type=int, default=0, help="seed of the numpy Generator (default 0)")
    aud.add_argument("--config", metavar="JSON|FILE",
                     help="diffusers: scheduler config as JSON or a scheduler_config.json path")
    aud.add_argument("--steps", type=int, default=50, help="diffusers: N inference steps (50)")
    aud.add_argument("--spacing", choices=("leading", "trailing", "linspace"),
                     help="diffusers: timestep_spacing (default: the config's)")
    aud.add_argument("--dtype", choices=("float32", "float64", "float16"), default="float32",
                     help="diffusers: sample/model-output dtype of the shipped run (float32)")
    aud.add_argument("--eta", type=float, help="diffusers: `eta` passed to step (DDIM)")
    aud.add_argument("--eps", type=float, default=1e-3,
                     help="diffusers: ε of d*(ε), where TV_⊥ (or W2_⊥) reaches ε (1e-3)")
    aud.add_argument("--max-dim", type=float, default=1e9,
                     help="diffusers: d_max of the verdict (1e9)")
    aud.set_defaults(handler=_cmd_audit)

    rep = sub.add_parser("report", help="markdown report (with figures) from verify results")
    rep.add_argument("results", metavar="RESULTS.json", nargs="+",
                     help="verify results; several files are shards of one run (disjoint "
                          "claims, identical environment) and are merged")
    rep.add_argument("-o", "--output", default="reports/verification.md", metavar="OUT.md")
    rep.add_argument("--false-alarms", metavar="COUNTS.json", nargs="+",
                     help="add the per-claim false-alarm counts (from `nox -s false-alarms`; "
                          "several files are shards of one campaign and are merged)")
    rep.set_defaults(handler=_cmd_report)

    lst = sub.add_parser("list", help="list the registered claims")
    lst.set_defaults(handler=_cmd_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 fail, 2 bad input, 3 inconclusive)."""
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version print, then exit inside argparse
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("a subcommand is required; see `theorycheck --help`")
        return handler(args)
    except TheorycheckError as exc:
        message = " ".join(str(exc).split())
        print(f"theorycheck: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("theorycheck: interrupted", file=sys.stderr)
        return 130
