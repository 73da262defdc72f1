"""Executors: the Dask cluster gives byte-identical claim results to ``--jobs 1``; bad input.

One module-scoped ``LocalCluster`` (2 single-threaded worker processes) serves every Dask test;
the CLI is pointed at it with ``--dask-address``, so no test starts a second cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from theorycheck.claims.false_alarms import count_false_alarms
from theorycheck.claims.runner import run_claims
from theorycheck.cli import main
from theorycheck.executors import (
    DaskExecutor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    open_executor,
)

distributed = pytest.importorskip("distributed")

# Cheap claims (a few seconds in all); DECOMP draws random points, so it depends on the seed.
CHEAP = ["DECOMP", "ONESTEP"]


def _strip(run: Any) -> str:
    return json.dumps({k: v for k, v in run.to_dict().items() if k != "timing"})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as local:
        yield local


@pytest.fixture(scope="module")
def serial_run() -> Any:
    return run_claims(ids=CHEAP, profile="quick", seed=3, jobs=1)


def test_dask_results_are_byte_identical_to_jobs_1(cluster: Any, serial_run: Any) -> None:
    with open_executor("dask", address=cluster.scheduler_address) as ex:
        assert isinstance(ex, DaskExecutor) and ex.workers == 2
        dask_run = run_claims(ids=CHEAP, profile="quick", seed=3, executor=ex)
    assert _strip(dask_run) == _strip(serial_run)
    with open_executor("dask", address=cluster.scheduler_address) as ex:  # the seed does matter
        other_seed = run_claims(ids=CHEAP, profile="quick", seed=4, executor=ex)
    assert _strip(other_seed) != _strip(serial_run)


def test_cli_verify_on_the_cluster_writes_identical_json(cluster: Any, serial_run: Any,
                                                         tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "dask.json"
    status = main(["verify", "--claims", "DECOMP", "--seed", "3", "--executor", "dask",
                   "--dask-address", cluster.scheduler_address, "--json", str(out)])
    assert status == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    expected = serial_run.to_dict()
    assert doc["environment"] == expected["environment"]
    assert json.dumps(doc["claims"]) == json.dumps(
        [c for c in expected["claims"] if c["id"] == "DECOMP"])
    assert "1 claims" in capsys.readouterr().out


def test_identical_tasks_are_not_merged(cluster: Any) -> None:
    # pure=False and per-task keys: two equal tasks run twice and come back twice
    with open_executor("dask", address=cluster.scheduler_address) as ex:
        got = list(ex.map(abs, [-1, -1, 2]))
    assert sorted(got) == [(-1, 1), (-1, 1), (2, 2)]


def test_false_alarm_counts_do_not_depend_on_the_executor(cluster: Any) -> None:
    local = count_false_alarms(seeds=[0, 1, 2], ids=["DECOMP"])
    with open_executor("dask", address=cluster.scheduler_address) as ex:
        remote = count_false_alarms(seeds=[0, 1, 2], ids=["DECOMP"], executor=ex)
    strip = [{k: v for k, v in c.to_dict().items() if k != "seconds"} for c in local]
    assert strip == [{k: v for k, v in c.to_dict().items() if k != "seconds"} for c in remote]
    assert not local[0].seed_independent


def test_local_executors() -> None:
    with open_executor("local", jobs=1) as ex:
        assert isinstance(ex, SerialExecutor)
        assert list(ex.map(abs, [-2, 3])) == [(-2, 2), (3, 3)]
    with open_executor("local", jobs=2) as ex:
        assert isinstance(ex, ProcessExecutor)
        assert sorted(ex.map(abs, range(-5, 0))) == [(-5, 5), (-4, 4), (-3, 3), (-2, 2),
                                                       (-1, 1)]


def test_unreachable_address_is_one_line_exit_2_within_10_s(capsys: Any) -> None:
    start = time.perf_counter()
    status = main(["verify", "--claims", "SCHED", "--executor", "dask", "--dask-address",
                   "tcp://127.0.0.1:9"])
    assert time.perf_counter() - start < 10
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "--dask-address" in err and "no Dask scheduler" in err


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kind": "ray"}, "`executor` must be one of"),
    ({"kind": "local", "address": "tcp://127.0.0.1:8786"}, "requires `--executor dask`"),
    ({"kind": "dask", "address": "tcp://127.0.0.1:99999"}, "bad port"),
    ({"kind": "dask", "address": "foo://x"}, "not a scheduler address"),
    ({"kind": "local", "jobs": 0}, "`jobs`"),
])
def test_bad_executor_options(kwargs: dict[str, Any], match: str) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(ExecutorError if "executor" not in match and "jobs" not in match
                       else ValueError, match=match), open_executor(kind, **kwargs):
        pass


def test_missing_extra_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ExecutorError, match=r"pip install 'theorycheck\[distributed\]'"), \
            open_executor("dask", jobs=1):
        pass
    assert main(["verify", "--claims", "SCHED", "--executor", "dask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "theorycheck[distributed]" in err
