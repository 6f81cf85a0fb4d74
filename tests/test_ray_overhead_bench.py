"""``benchmarks/ray_overhead.py`` interleaves its backends and reports medians and paired overheads;
``ray_task_timeline.py`` finds every process below the driver and refuses unknown modes (no fits, no Ray)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import REPO_ROOT


def _load(name: str) -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # both import their neighbour packing.py
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(REPO_ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    yield from _load("ray_overhead")


@pytest.fixture(scope="module")
def timeline() -> Iterator[ModuleType]:
    yield from _load("ray_task_timeline")


def test_every_backend_takes_every_place_in_three_rounds(bench: ModuleType) -> None:
    orders = [bench.round_order(i) for i in range(3)]
    assert all(sorted(order) == sorted(bench.BACKENDS) for order in orders)
    for place in range(3):
        assert {order[place] for order in orders} == set(bench.BACKENDS)
    assert bench.round_order(3) == orders[0]  # a fourth round (a later hold) continues the rotation


def test_overheads_are_medians_and_paired_ratios(bench: ModuleType) -> None:
    rounds = [
        {"seconds": {"pool": 100.0, "ray_warm": 104.0, "ray_cold": 130.0}},
        {"seconds": {"pool": 60.0, "ray_warm": 63.0, "ray_cold": 65.0}},  # a quiet phase of the machine
        {"seconds": {"pool": 80.0, "ray_warm": 96.0, "ray_cold": 84.0}},
    ]
    summary = bench.summarise(rounds)
    assert summary["median_seconds"] == {"pool": 80.0, "ray_warm": 96.0, "ray_cold": 84.0}
    assert summary["spread"]["pool"] == pytest.approx(40 / 80)
    warm = summary["overhead"]["ray_warm"]
    assert warm["median_over_median_pool"] == pytest.approx(0.2)
    assert warm["paired_median"] == pytest.approx(0.05)  # pairs: +4%, +5%, +20%
    assert (warm["paired_min"], warm["paired_max"]) == (pytest.approx(0.04), pytest.approx(0.2))
    assert summary["goal_met"] is False  # the warm median is 20% over the pool's
    rounds[2]["seconds"]["ray_warm"] = 84.0
    assert bench.summarise(rounds)["goal_met"] is True


def test_adding_rounds_of_another_setting_is_refused(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "ray.json"
    out.write_text(json.dumps({"epochs": 4, "clips": {"count": 8}, "rounds": []}))
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--out", str(out), "--add", "--epochs", "5"])
    assert exit_info.value.code == 2


def test_descendants_are_every_generation_below_the_root(timeline: ModuleType) -> None:
    table = {1: (0, 0.0, "init"), 10: (1, 0.0, "driver"), 11: (10, 1.0, "raylet"), 12: (11, 2.0, "worker"),
             13: (12, 3.0, "fit"), 20: (1, 0.0, "someone else")}  # fmt: skip
    assert timeline.descendants(10, table) == [11, 12, 13]
    assert timeline.descendants(13, table) == []


def test_the_process_table_holds_this_process_under_its_parent(timeline: ModuleType) -> None:
    table = timeline.process_table()
    parent, cpu, command = table[os.getpid()]
    assert parent == os.getppid() and cpu > 0 and "python" in command


def test_an_unknown_mode_is_refused(timeline: ModuleType, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        timeline.main(["--out", str(tmp_path / "t.json"), "--modes", "lean,fast"])
    assert exit_info.value.code == 2
