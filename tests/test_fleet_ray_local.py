"""The Ray instance ``fit-many --backend ray`` starts itself runs its tasks as the local pool runs its fits: at
this process's priority, without importing torch first; a cluster that is joined gets no start-up options."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_the_ray_backend_imports_no_torch() -> None:
    """A Ray worker imports these to run a task: torch there cost each worker ~2.5 s of CPU before its fit."""
    code = "import sys, inrzoo.fleet.ray_backend; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_only_a_new_local_instance_gets_start_up_options(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    from inrzoo.fleet.ray_backend import init_options

    joined = {"log_to_driver": False}
    for address in ("ray://127.0.0.1:10001", "127.0.0.1:6379"):
        assert init_options(address) == {"address": address, **joined}
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")  # ray.init(address=None) joins this one
    assert init_options(None) == {"address": None, **joined}
    assert init_options("local") == {  # "local" always starts one
        "address": "local", **joined, "include_dashboard": False, "_system_config": {"worker_niceness": 0},
    }  # fmt: skip


def test_a_local_instance_runs_tasks_at_this_process_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray nices its workers (and the fits they start) by 15 unless told otherwise; the pool's fits are not."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("another test left Ray running in this process")
    from inrzoo.fleet.manifest import ManifestEntry
    from inrzoo.fleet.ray_backend import RayOptions, connected

    def in_worker(entry: ManifestEntry) -> tuple[int, bool]:  # its argument unpickled as a fit task's are
        import os
        import sys

        return os.getpriority(os.PRIO_PROCESS, 0), "torch" in sys.modules

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with connected(RayOptions(address="local")) as started:
        task = started.remote(in_worker).options(num_cpus=1)
        priority, torch_loaded = started.get(task.remote(ManifestEntry("a", "a.mp4")))
    assert not ray.is_initialized()  # the instance it started is stopped
    assert priority == os.getpriority(os.PRIO_PROCESS, 0)
    assert not torch_loaded
