"""nox sessions for theorycheck.

``nox`` (no arguments) runs the test suite.  Every session installs the package from this
checkout into its own virtualenv, so they work on a fresh machine with only python3 and pip.
Extra arguments after ``--`` are forwarded (``nox -s tests -- -k schedules``).
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"
# Our parallelism is across processes (--jobs, pytest workers); BLAS threads on top of it only
# oversubscribe a 2-core machine (measured: RECOVER quick 11 s CPU single-threaded, 25-44 s with
# default OpenBLAS threading under load).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the unit, symbolic, claim and regression tests (benchmarks are skipped)."""
    session.install("-e", ".[test]")
    session.run("pytest", *(session.posargs or ["-q"]), env=ONE_THREAD)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint the package and tests with ruff."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "theorycheck", "tests", "noxfile.py", *session.posargs)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check the package with mypy."""
    session.install("-e", ".[test]", "mypy>=1.10")
    session.run("mypy", *(session.posargs or ["theorycheck"]))


@nox.session(python=PYTHON)
def verify(session: nox.Session) -> None:
    """Main job: verify every claim (quick profile) and write reports/quick.md from the results."""
    session.install("-e", ".[test]")
    session.run("theorycheck", "verify", "--profile", "quick", "--jobs", "2",
                "--json", "reports/quick.json", *session.posargs, success_codes=[0, 1, 3],
                env=ONE_THREAD)
    session.run("theorycheck", "report", "reports/quick.json", "-o", "reports/quick.md")
    session.run("theorycheck", "compare", "reports/baseline.json", "reports/quick.json")


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Full profile: verify every claim and write the committed reports/verification.md."""
    session.install("-e", ".[test]")
    session.run("theorycheck", "verify", "--profile", "full", "--jobs", "2",
                "--json", "reports/full.json", *session.posargs, success_codes=[0, 1, 3],
                env=ONE_THREAD)
    alarms = ["--false-alarms", "reports/false-alarms.json"] if Path(
        "reports/false-alarms.json").exists() else []
    session.run("theorycheck", "report", "reports/full.json", "-o", "reports/verification.md",
                *alarms)


@nox.session(name="false-alarms", python=PYTHON)
def false_alarms(session: nox.Session) -> None:
    """Run the quick profile over 50 seeds (2 workers); write reports/false-alarms.json.

    Counts false alarms (check FAIL / INCONCLUSIVE) and power (boundary-control detections).
    Exits non-zero if any claim FAILs or goes INCONCLUSIVE on more than 1 seed, or its negative
    or boundary control misses on more than 1.  Seed-independent claims are run once (see the
    module).  Every finished task is appended to reports/false-alarms.journal.jsonl; after a
    crash, ``nox -s false-alarms -- --resume reports/false-alarms.journal.jsonl`` finishes the
    rest.  Other arguments are forwarded too, e.g. ``-- --executor dask --dask-address tcp://h:8786``.
    """
    session.install("-e", ".[test]")
    journal = [] if "--resume" in session.posargs else [
        "--journal", "reports/false-alarms.journal.jsonl"]
    session.run("theorycheck", "false-alarms", "--seeds", "50", "--jobs", "2",
                "-o", "reports/false-alarms.json", *journal, *session.posargs, env=ONE_THREAD)


def _install_cpu_torch(session: nox.Session) -> None:
    """torch's CPU build with pip (never uv: it would pull a multi-GB CUDA build)."""
    try:
        session.run("python", "-m", "pip", "install", "--timeout", "20", "torch==2.13.0",
                    "--index-url", "https://download.pytorch.org/whl/cpu")
    except nox.command.CommandFailed:
        session.run("python", "-m", "pip", "install", "torch==2.13.0")


@nox.session(name="audit-diffusers", python=PYTHON)
def audit_diffusers(session: nox.Session) -> None:
    """Audit every applicable diffusers scheduler as shipped; write reports/diffusers-audit.md.

    Installs the CPU build of torch with pip, first from PyTorch's CPU index and, if that index
    is unreachable, by version from the configured indexes; then diffusers.  The table
    (theorycheck/audit/diffusers_table.py): per-cause verdicts in float32 and float64, d*(1e-3),
    measured orders on k = 1 targets, the LMS/PNDM/DEIS checks and a figure (about 9 minutes on
    a loaded 2-core machine).  Exits non-zero if a float64 run fails mid-chain.
    """
    session.install("-e", ".[report]")
    _install_cpu_torch(session)
    session.install("diffusers")
    session.run("python", "-m", "theorycheck.audit.diffusers_table",
                "--report", "reports/diffusers-audit.md", "--json", "reports/diffusers-audit.json",
                *session.posargs, env=ONE_THREAD)


@nox.session(name="audit-kdiffusion", python=PYTHON)
def audit_kdiffusion(session: nox.Session) -> None:
    """Audit k-diffusion's samplers; write reports/kdiffusion-audit.md (its own virtualenv).

    k-diffusion 0.1.1.post1 depends on clip-anytorch, whose import needs pkg_resources (gone
    from setuptools >= 81), and on dctorch, which pins numpy < 2: both pinned here, in this
    session only.  It also needs torchvision, whose compiled ops must match torch's build: the
    CPU pair torch 2.13.0 / torchvision 0.28.0 comes from PyTorch's CPU index; if that index is
    unreachable, the matching pair from the configured indexes is used instead (torch 2.14.1 /
    torchvision 0.29.1, a large CUDA build that runs on the CPU).  An unpinned torchvision would
    upgrade torch, and a PyPI torchvision next to a CPU torch fails to load its ops.
    """
    pair = ("torch==2.13.0", "torchvision==0.28.0")
    try:
        session.run("python", "-m", "pip", "install", "--timeout", "20", *pair,
                    "--index-url", "https://download.pytorch.org/whl/cpu")
    except nox.command.CommandFailed:
        pair = ("torch==2.14.1", "torchvision==0.29.1")
        session.run("python", "-m", "pip", "install", *pair)
    session.install("setuptools<81", "numpy<2", "k-diffusion==0.1.1.post1", *pair)
    session.install("-e", ".")
    session.run("python", "-m", "theorycheck.audit.kdiffusion_adapters",
                "--report", "reports/kdiffusion-audit.md",
                "--json", "reports/kdiffusion-audit.json", *session.posargs, env=ONE_THREAD)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the pytest-benchmark benchmarks (each also asserts its result)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/benchmarks", "--benchmark-only", "-q", *session.posargs)


@nox.session(python=PYTHON)
def rough(session: nox.Session) -> None:
    """Rough targets: TV·T/log T of the two-point mixture as its component sd goes 1e-2 → 1e-6.

    Writes reports/rough-targets.json atomically (per sd: ratios over T, growth, asymptotic
    start); posargs go to ``python -m theorycheck.rough_targets`` (e.g. ``--sds 1e-2 1e-3``).
    """
    session.install("-e", ".[test]")
    session.run("python", "-m", "theorycheck.rough_targets", "--out", "reports/rough-targets.json",
                *session.posargs, env=ONE_THREAD)


@nox.session(name="li-yan-figure", python=PYTHON)
def li_yan_figure(session: nox.Session) -> None:
    """Regenerate reports/li-yan-figure.{md,json,png} from examples/li-yan-figure.json (~20 s)."""
    session.install("-e", ".[test]")
    session.run("theorycheck", "measure", "examples/li-yan-figure.json",
                "--table", "reports/li-yan-figure.md", "--json", "reports/li-yan-figure.json",
                "--plot", "reports/li-yan-figure.png", *session.posargs, env=ONE_THREAD)


@nox.session(name="order-k2", python=PYTHON)
def order_k2(session: nox.Session) -> None:
    """Measured order of DDIM and probability-flow Euler on k = 2 targets; reports/order-k2.md.

    Exact k = 2 output density on the tensor grid (theorycheck/audit/order2d.py) for
    N in (10, 20, 50, 100, 200) on the two-phase and linear schedules, with the k = 1 order of
    the same design for comparison (measured: 375 s CPU, 8.7 min wall, 1.7 GB peak memory on a
    loaded 2-core machine; the rough sd-0.1 grids dominate).
    """
    session.install("-e", ".")
    session.run("python", "-m", "theorycheck.audit.order2d", "--report", "reports/order-k2.md",
                "--json", "reports/order-k2.json", *session.posargs, env=ONE_THREAD)
