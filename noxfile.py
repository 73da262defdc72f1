"""nox sessions for theorycheck.

``nox`` (no arguments) runs the test suite.  Every session installs the package from this
checkout into its own virtualenv, so they work on a fresh machine with only python3 and pip.
Extra arguments after ``--`` are forwarded (``nox -s tests -- -k schedules``).
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the unit, symbolic, claim and regression tests (benchmarks are skipped)."""
    session.install("-e", ".[test]")
    session.run("pytest", *(session.posargs or ["-q"]))


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
    """Main job: verify the registered claims (quick profile) and write a report under reports/."""
    session.install("-e", ".[test]")
    session.run("theorycheck", "schedule", "--steps", "1000", "--c0", "2", "--c1", "4",
                "--json", "reports/schedule-2-4.json")
    # The (4, 4) constants must be flagged: exit status 1 is the expected outcome.
    session.run("theorycheck", "schedule", "--steps", "1000", "--c0", "4", "--c1", "4",
                "--json", "reports/schedule-4-4.json", success_codes=[1])
    session.run("theorycheck", "list")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the pytest-benchmark benchmarks (each also asserts its result)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/benchmarks", "--benchmark-enable", "-q", *session.posargs)
