"""Lightning's DDP strategy (2 CPU processes, gloo) gives the quality of one process; rank 0 alone writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO_ROOT
from test_cli import run

FIT = [
    "fit",
    "--config",
    str(REPO_ROOT / "configs" / "quickstart.yaml"),
    "--data.init_args.resize=null",
    "--trainer.max_time=null",
    "--trainer.max_epochs=30",
    "--model.init_args.lr_schedule=steps",
    "--trainer.check_val_every_n_epoch=10",
    "--trainer.enable_progress_bar=false",
]


def test_ddp_on_two_cpu_processes_matches_one_process(shared_clip_path: Path, tmp_path: Path) -> None:
    single = tmp_path / "single"
    assert (
        run(
            [
                *FIT,
                f"--data.init_args.path={shared_clip_path}",
                "--data.init_args.batch_size=4",
                f"--trainer.logger.init_args.save_dir={single}",
            ]
        )
        == 0
    )
    ddp = tmp_path / "ddp"
    env = {k: v for k, v in os.environ.items() if k != "INRZOO_STRICT_PLUGINS"} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inrzoo",
            *FIT,
            f"--data.init_args.path={shared_clip_path}",
            "--data.init_args.batch_size=2",
            "--trainer.strategy=ddp",
            "--trainer.devices=2",
            "--trainer.accelerator=cpu",
            f"--trainer.logger.init_args.save_dir={ddp}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    runs = sorted((ddp / "quickstart").glob("version_*"))
    assert [r.name for r in runs] == ["version_0"], "rank 1 must not open a run folder of its own"
    assert done.stdout.count("inrzoo fit:") == 1, "only rank 0 reports"
    one = json.loads((single / "quickstart" / "version_0" / "metrics.json").read_text())
    two = json.loads((runs[0] / "metrics.json").read_text())
    # Same global batch (2 processes x 2 = 4), same epochs: the same quality up to sampling order.
    assert abs(two["psnr"] - one["psnr"]) < 1.5, (one["psnr"], two["psnr"])
    assert two["params"] == one["params"]
