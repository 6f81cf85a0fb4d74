"""What hnerv's trim costs a step with each way of cropping, measured in one process (issue 12).

Separate processes of this VM differ by ±15% in speed, more than the effect; models that alternate in short
chunks inside one process share every slow and fast phase. Four fresh models of the cpu tier's hnerv+film
(sized as ``inrzoo bench`` sizes them, seed 0) each train in 20-step chunks, in rotated order, for the rounds
asked: trimmed with :func:`inrzoo.backbones.layers.crop_to` (twice: the spread between identical models), trimmed
with an indexed slice (what hnerv did before), and not trimmed. A step is the training step, backward, the
recipe's gradient clipping and Adam's update; the figure is each model's median ms a step over its chunks.

    .venv/bin/python benchmarks/crop_layout.py --out benchmarks/results/crop_layout_bunny_cpu.json
    .venv/bin/python benchmarks/crop_layout.py --video sample:carphone --resize 144x176 \\
        --out benchmarks/results/crop_layout_carphone_cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

import inrzoo.backbones.hnerv as hnerv_module
from inrzoo.bench.environment import provenance
from inrzoo.bench.sizing import recipe_model_kwargs, size_to_budget, training_recipe
from inrzoo.data import VideoDataModule
from inrzoo.io.files import claim_output

VARIANTS = ("crop_to", "crop_to_again", "indexed_slice", "no_trim")


@contextmanager
def indexed_slice() -> Iterator[None]:
    """hnerv's trim as it was: ``x[..., :h, :w]``, whose gradient comes back in NCHW order."""
    kept = hnerv_module.crop_to
    hnerv_module.crop_to = lambda x, height, width: x[..., :height, :width]
    try:
        yield
    finally:
        hnerv_module.crop_to = kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--video", default="sample:bunny")
    parser.add_argument("--resize", default="180x320", help="HxW")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--chunk", type=int, default=20, help="steps each model trains in a row")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.chunk < 1:
        parser.error("--rounds and --chunk must be at least 1")
    out = claim_output(args.out, args.overwrite)
    height, width = map(int, args.resize.split("x"))
    dm = VideoDataModule(path=args.video, resize=(height, width))
    sized = size_to_budget("hnerv", 100_000, dm.num_frames, dm.frame_size, hypernet="film")
    training = training_recipe("hnerv")
    dm.batch_size = int(training["batch_size"])
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    fits: dict[str, Any] = {}
    for name in VARIANTS:
        pl.seed_everything(0, verbose=False)
        model = sized.build(dm.num_frames, dm.frame_size, **recipe_model_kwargs(training), lr_schedule="steps")
        model.train()
        model.backbone.trim_padding = name != "no_trim"
        fits[name] = (model, model.configure_optimizers()["optimizer"])

    def train(name: str, steps: int, first: int) -> float:
        """Seconds a step of ``steps`` steps of model ``name`` from batch ``first`` on."""
        model, optimizer = fits[name]
        with indexed_slice() if name == "indexed_slice" else nullcontext():
            start = time.perf_counter()
            for i in range(steps):
                loss = model.training_step(batches[(first + i) % len(batches)], i)["loss"]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), model.gradient_clip_norm)
                optimizer.step()
            return (time.perf_counter() - start) / steps

    for name in VARIANTS:  # untimed: allocation and the thread pool's start
        train(name, args.chunk, 0)
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for r in range(args.rounds):
        for name in VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]:
            seconds[name].append(train(name, args.chunk, r * args.chunk))
    medians = {name: statistics.median(s) * 1e3 for name, s in seconds.items()}
    report = {
        "name": "crop_layout", "combination": "hnerv+film", "budget": 100_000, "video": args.video,
        "resize": [height, width], "rounds": args.rounds, "chunk_steps": args.chunk,
        "median_step_ms": medians, "step_ms_per_chunk": {k: [s * 1e3 for s in v] for k, v in seconds.items()},
        **provenance(),
    }  # fmt: skip
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(", ".join(f"{name} {ms:.2f} ms" for name, ms in medians.items()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
