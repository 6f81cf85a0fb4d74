"""CI's quality gate: the ``ci`` bench tier against the committed results.

Every built-in (and installed plugin) combination trains for a fixed number of steps on a short
Bunny segment; with a fixed seed that is deterministic on one machine kind, so a change that makes
any combination worse than ``benchmarks/results/bench_ci/bench.json`` fails here. After an
intended change in quality, refresh the baseline explicitly (benchmarks/README.md, "Quality gate"):

    .venv/bin/inrzoo bench --tier ci --codecs none --out benchmarks/results/bench_ci --overwrite
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import REPO_ROOT, requires_samples
from test_cli import run

BASELINE = REPO_ROOT / "benchmarks" / "results" / "bench_ci" / "bench.json"


@requires_samples
def test_no_combination_falls_below_the_committed_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run(["bench", "--tier", "ci", "--codecs", "none", "--out", str(tmp_path), "--baseline", str(BASELINE)])
    captured = capsys.readouterr()
    print(captured.out)  # the delta table, for the CI log
    assert status == 0, captured.err
    report = json.loads((tmp_path / "bench.json").read_text())
    stored = {r["name"] for r in json.loads(BASELINE.read_text())["results"]}
    assert stored <= {r["name"] for r in report["results"]}, "every committed combination ran"
