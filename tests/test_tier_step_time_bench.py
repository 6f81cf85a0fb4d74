"""``benchmarks/tier_step_time.py`` times a real sized fit and appends one record per run, so rounds of an A/B
between two trees accumulate in one file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import REPO_ROOT, load_benchmark


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    yield from load_benchmark("tier_step_time")


TINY = ["--backbone", "nerv-conv", "--budget", "80000", "--video", "sample:carphone", "--resize", "40x48"]


def test_each_run_appends_its_record(bench: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "steps.jsonl"
    for _ in range(2):
        assert bench.main([*TINY, "--steps", "60", "--out", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        assert record["combination"] == "nerv-conv+film" and record["steps"] == 60
        assert 0 < record["median_step_ms"] < 10_000
        assert record["inrzoo"] == str(REPO_ROOT / "inrzoo")  # which tree ran: the A/B's two sides
        assert "git_commit" in record and "hardware" in record


def test_too_few_steps_to_time_is_refused(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.main([*TINY, "--steps", str(bench.SKIPPED_STEPS), "--out", str(tmp_path / "x.jsonl")])
    assert exit_info.value.code == 2
    assert "--steps must be above" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
