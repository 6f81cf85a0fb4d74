"""``benchmarks/ray_task_timeline.py`` finds every process below the driver and refuses unknown modes (no Ray)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from helpers import REPO_ROOT


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # it imports its neighbour packing.py
    path = REPO_ROOT / "benchmarks" / "ray_task_timeline.py"
    spec = importlib.util.spec_from_file_location("ray_task_timeline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(REPO_ROOT / "benchmarks"))


def test_descendants_are_every_generation_below_the_root(bench: ModuleType) -> None:
    table = {1: (0, 0.0, "init"), 10: (1, 0.0, "driver"), 11: (10, 1.0, "raylet"), 12: (11, 2.0, "worker"),
             13: (12, 3.0, "fit"), 20: (1, 0.0, "someone else")}  # fmt: skip
    assert bench.descendants(10, table) == [11, 12, 13]
    assert bench.descendants(13, table) == []


def test_the_process_table_holds_this_process_under_its_parent(bench: ModuleType) -> None:
    table = bench.process_table()
    parent, cpu, command = table[os.getpid()]
    assert parent == os.getppid() and cpu > 0 and "python" in command


def test_an_unknown_mode_is_refused(bench: ModuleType, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--out", str(tmp_path / "t.json"), "--modes", "lean,fast"])
    assert exit_info.value.code == 2
