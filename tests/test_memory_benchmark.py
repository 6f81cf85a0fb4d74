"""The slow lane's memory bar (issue 14): 1,800 frames of 1080p through cache, fit, compress and decompress
in under 2 GB of resident memory. About half an hour on 2 cores: ``pytest -m slow tests/test_memory_benchmark.py``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary")
def test_a_long_1080p_video_fits_in_2_gb(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    script = REPO_ROOT / "benchmarks" / "memory.py"
    done = subprocess.run([sys.executable, str(script), "--work", str(tmp_path / "work"), "--out", str(out)],
                          capture_output=True, text=True)  # fmt: skip
    assert out.is_file(), done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["decoded_mp4_frames"] == report["frames"] == 1800
    assert report["peak_rss_mb"] < 2048, report["steps"]
    assert report["passed"] and done.returncode == 0
