"""The cpu tier's step time: milliseconds per optimiser step of one sized combination, as ``inrzoo bench`` trains it.

The cpu tier bounds each fit by the wall clock, so a change that makes a step dearer costs steps, and a slower
hold of this VM does the same. This script fits the combination for a fixed number of steps under the bench's
own Trainer settings (the divergence guard, no validation, no logger) and records the median step time after
the first 50 steps, with the commit it ran. It reads only APIs older code has too, so one file serves an A/B
between two trees: run it from each tree's root through stdin, alternating, and compare the rounds' medians.

    .venv/bin/python benchmarks/tier_step_time.py --out benchmarks/results/tier_step_time_cpu.jsonl
    cd OLD_TREE && $REPO/.venv/bin/python - --out $REPO/benchmarks/results/tier_step_time_cpu.jsonl \\
        < $REPO/benchmarks/tier_step_time.py      # stdin: the old tree's inrzoo is the one imported
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

import inrzoo
from inrzoo.bench.environment import provenance
from inrzoo.bench.runner import quiet_lightning
from inrzoo.bench.sizing import recipe_model_kwargs, size_to_budget, training_recipe
from inrzoo.callbacks import DivergenceGuard
from inrzoo.data import VideoDataModule

#: Steps not counted: the first ones pay allocation and the thread pool's start.
SKIPPED_STEPS = 50


class StepClock(pl.Callback):
    """The wall clock at the start of every training step."""

    def __init__(self) -> None:
        self.starts: list[float] = []

    def on_train_batch_start(self, *args: Any) -> None:
        self.starts.append(time.perf_counter())


def median_step_ms(backbone: str, hypernet: str, budget: int, video: str, resize: tuple[int, int], steps: int) -> float:
    """Median milliseconds per step of ``backbone+hypernet`` at ``budget``, fitted as the bench fits it."""
    quiet_lightning()
    dm = VideoDataModule(path=video, resize=resize)
    sized = size_to_budget(backbone, budget, dm.num_frames, dm.frame_size, hypernet=hypernet)
    training = training_recipe(backbone)
    dm.batch_size = int(training["batch_size"])
    pl.seed_everything(0, verbose=False)
    model = sized.build(dm.num_frames, dm.frame_size, **recipe_model_kwargs(training), lr_schedule="steps")
    clock = StepClock()
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, callbacks=[DivergenceGuard(action="restart"), clock], max_steps=steps,
        max_epochs=-1, limit_val_batches=0, num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    counted = clock.starts[SKIPPED_STEPS:]
    intervals = [later - earlier for earlier, later in zip(counted, counted[1:], strict=False)]
    return statistics.median(intervals) * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a JSON-lines file; each run appends one record")
    parser.add_argument("--backbone", default="hnerv")
    parser.add_argument("--hypernet", default="film")
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--video", default="sample:bunny")
    parser.add_argument("--resize", default="180x320", help="HxW")
    parser.add_argument("--steps", type=int, default=600)
    args = parser.parse_args(argv)
    if args.steps <= SKIPPED_STEPS + 1:
        parser.error(f"--steps must be above {SKIPPED_STEPS + 1}: the first {SKIPPED_STEPS} are not counted")
    height, width = map(int, args.resize.split("x"))
    ms = median_step_ms(args.backbone, args.hypernet, args.budget, args.video, (height, width), args.steps)
    record = {
        "name": "tier_step_time", "combination": f"{args.backbone}+{args.hypernet}", "budget": args.budget,
        "video": args.video, "resize": [height, width], "steps": args.steps, "median_step_ms": ms,
        "inrzoo": str(Path(inrzoo.__file__).parent), **provenance(),
    }  # fmt: skip
    with args.out.open("a") as file:
        file.write(json.dumps(record) + "\n")
    print(f"{record['combination']} at {args.budget:,}: {ms:.2f} ms a step (commit {record['git_commit'][:7]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
