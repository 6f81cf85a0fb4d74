"""``benchmarks/ray_overhead.py`` interleaves its backends and reports medians and paired overheads (no fits)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import REPO_ROOT


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # it imports its neighbour packing.py
    spec = importlib.util.spec_from_file_location("ray_overhead", REPO_ROOT / "benchmarks" / "ray_overhead.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(REPO_ROOT / "benchmarks"))


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
