"""Where a 100k-parameter budget goes: which layers the heads modulate, the rate, the latent, the encoder.

The cpu tier's model (``inrzoo bench``'s sizing: each cell is sized again to 100k parameters, so what a
head does not take goes to the decoder), fitted for a fixed number of steps on Bunny 180x320 (``--video``,
``--resize``: another clip) from seed 0:
deterministic for a thread count on one machine kind, so cells compare whatever the machine's load. The
wall clock is recorded, never ranked (``benchmarks/README.md``, "The cpu tier: heads on the RGB conv").

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/modulation_scan.py --out benchmarks/results/modulation_scan_cpu.jsonl
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/modulation_scan.py --cells head_lr8,head_lr12 --out OUT.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

import inrzoo.bench.sizing as sizing
from inrzoo.backbones import BACKBONES
from inrzoo.bench.runner import quiet_lightning
from inrzoo.data import VideoDataModule
from inrzoo.evaluation import evaluate_reconstruction

EVERY = None  # the head on every modulated layer (what the bench did before)
HEAD = ["head"]
LAST2 = ["blocks.2.conv", "head"]
LAST3 = ["blocks.1.conv", "blocks.2.conv", "head"]

#: The frame encoder of a cell that names none (``encoder``): 16 channels serving the whole fit. A cell's encoder
#: starts from PyTorch's initialisation unless it names ``init`` (the scan was made before He's became the default).
SCAN_ENCODER = {"channels": 16}

#: name -> overrides of the sized fit: layers (head patterns), lr, latent_dim, encoder (FrameEncoder kwargs or
#: None), family (backbone kwargs over the size family's), channels (ratios of the family's channels), batch,
#: warmup, betas (Adam's; default PyTorch's 0.9, 0.999), decay (VideoINR's lr_decay and decay_fraction; default
#: cosine from the warm-up on), clip (VideoINR's gradient_clip_norm; default none), backbone.
CELLS: dict[str, dict[str, Any]] = {
    "every_lr3": {"layers": EVERY, "lr": 3e-3},
    "last2_lr3": {"layers": LAST2, "lr": 3e-3},
    "last3_lr3": {"layers": LAST3, "lr": 3e-3},
    "last2_lr5": {"layers": LAST2, "lr": 5e-3},
    "last2_lr8": {"layers": LAST2, "lr": 8e-3},
    "last2_lr3_latent8": {"layers": LAST2, "lr": 3e-3, "latent_dim": 8},
    "last2_lr3_encoder32": {"layers": LAST2, "lr": 3e-3, "encoder": {"channels": 32}},
    "last2_lr5_kernels335": {"layers": LAST2, "lr": 5e-3, "family": {"kernel_sizes": (3, 3, 5)}},
    "last2_lr5_kernels133": {"layers": LAST2, "lr": 5e-3, "family": {"kernel_sizes": (1, 3, 3)}},
    "last2_lr5_channels12_8_4": {"layers": LAST2, "lr": 5e-3, "channels": (12, 8, 4)},
    "last2_lr5_hidden16": {"layers": LAST2, "lr": 5e-3, "hidden": 16},
    "head_lr5": {"layers": HEAD, "lr": 5e-3},
    "head_lr6_warmup10": {"layers": HEAD, "lr": 6e-3, "warmup": 0.1},
    "head_lr8": {"layers": HEAD, "lr": 8e-3},
    "head_lr12": {"layers": HEAD, "lr": 1.2e-2},
    "head_lr8_warmup2": {"layers": HEAD, "lr": 8e-3, "warmup": 0.02},
    "head_lr8_latent2": {"layers": HEAD, "lr": 8e-3, "latent_dim": 2},
    "head_lr8_latent6": {"layers": HEAD, "lr": 8e-3, "latent_dim": 6},
    "head_lr8_channels16_4_2": {"layers": HEAD, "lr": 8e-3, "channels": (16, 4, 2)},
    "head_lr8_encoder8": {"layers": HEAD, "lr": 8e-3, "encoder": {"channels": 8}},
    "head_lr8_no_encoder": {"layers": HEAD, "lr": 8e-3, "encoder": None},
    "head_lr8_shared_grid": {"layers": HEAD, "lr": 8e-3, "family": {"shared_grid": True}},
    "head_lr8_whole_latent": {"layers": HEAD, "lr": 8e-3, "family": {"modulation_grid": None}},
    "head_lr8_batch2": {"layers": HEAD, "lr": 8e-3, "batch": 2, "steps": 0.5},
    "nerv-conv_every_lr10": {"backbone": "nerv-conv", "layers": EVERY, "lr": 1e-2, "encoder": None},
    "nerv-conv_last2_lr10": {"backbone": "nerv-conv", "layers": LAST2, "lr": 1e-2, "encoder": None},
    "nerv-conv_head_lr10": {"backbone": "nerv-conv", "layers": HEAD, "lr": 1e-2, "encoder": None},
    "hinerv_every_lr3": {"backbone": "hinerv", "layers": EVERY, "lr": 3e-3},
    "hinerv_head_lr3": {"backbone": "hinerv", "layers": HEAD, "lr": 3e-3},
    # Adam's beta2 (benchmarks/README.md, "Adam's beta2")
    "head_lr5_beta2_99": {"layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.99)},
    "head_lr5_beta2_95": {"layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95)},
    "head_lr5_beta2_90": {"layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.9)},
    "head_lr3_beta2_95": {"layers": HEAD, "lr": 3e-3, "betas": (0.9, 0.95)},
    "nerv-conv_head_lr10_beta2_95": {
        "backbone": "nerv-conv",
        "layers": HEAD,
        "lr": 1e-2,
        "encoder": None,
        "betas": (0.9, 0.95),
    },
    "hinerv_every_lr3_beta2_95": {"backbone": "hinerv", "layers": EVERY, "lr": 3e-3, "betas": (0.9, 0.95)},
    # The held-peak schedule and the encoder's handoff (benchmarks/README.md, "A stable stretch before the decay",
    # "The frame encoder's handoff"): hnerv's recipe before both, with the schedule, and with both.
    "head_lr5_beta2_95_warmup10": {"layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1},
    "head_lr5_beta2_95_warmup10_held_half": {
        "layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1, "decay": ("linear", 0.5),
    },
    "head_lr5_beta2_95_warmup10_held_half_handoff60": {
        "layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1, "decay": ("linear", 0.5),
        "encoder": {"channels": 16, "handoff": 0.6},
    },
    # hnerv's recipe now ("Trimmed padding", "The frame encoder's initialisation", "Clipped gradients"): each change
    # added to the one before.
    "head_lr5_beta2_95_warmup10_held_half_handoff60_trim": {
        "layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1, "decay": ("linear", 0.5),
        "encoder": {"channels": 16, "handoff": 0.6}, "family": {"trim_padding": True},
    },
    "head_lr5_beta2_95_warmup10_held_half_handoff60_trim_kaiming": {
        "layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1, "decay": ("linear", 0.5),
        "encoder": {"channels": 16, "handoff": 0.6, "init": "kaiming"}, "family": {"trim_padding": True},
    },
    "head_lr5_beta2_95_warmup10_held_half_handoff60_trim_kaiming_clip": {
        "layers": HEAD, "lr": 5e-3, "betas": (0.9, 0.95), "warmup": 0.1, "decay": ("linear", 0.5),
        "encoder": {"channels": 16, "handoff": 0.6, "init": "kaiming"}, "family": {"trim_padding": True},
        "clip": 0.1,
    },
}  # fmt: skip


def run_cell(
    name: str, cell: dict[str, Any], steps: int, budget: int, dm: VideoDataModule, seed: int = 0
) -> dict[str, Any]:
    """Size the cell's model to ``budget`` with its overrides in place, fit it, score every frame."""
    backbone = cell.get("backbone", "hnerv")
    target = BACKBONES.get(backbone)
    keys = ("recommended_latent_dim", "recommended_frame_encoder", "scaled_kwargs", "scaled_latent_dim")
    own = {k: vars(target)[k] for k in keys if k in vars(target)}  # restored as they were; inherited ones deleted
    family = dict(cell.get("family", {}))
    ratios = cell.get("channels")
    # hnerv's cells are the three-block form at every size (its family turns two-block above ~170k parameters)
    base_family = getattr(target, "three_block_kwargs", target.scaled_kwargs)

    def scaled(scale: float) -> dict[str, Any]:
        kwargs = base_family(scale)
        if "trim_padding" in kwargs:  # the scan's cells render the padded grid unless they say otherwise
            kwargs["trim_padding"] = False
        kwargs.update(family)
        if ratios is not None:
            kwargs["channels"] = tuple(max(2, round(r * scale)) for r in ratios)
        return kwargs

    head_kwargs = {"layers": cell["layers"], **({"hidden": cell["hidden"]} if "hidden" in cell else {})}
    try:
        target.scaled_kwargs = staticmethod(scaled)
        target.scaled_latent_dim = classmethod(lambda cls, scale: cls.recommended_latent_dim)
        if "latent_dim" in cell:
            target.recommended_latent_dim = cell["latent_dim"]
        # Every cell has its own encoder: the one the scan was made with unless it names one, so a cell's figure
        # does not move when a backbone's recommendation does (hnerv's now hands over at 60%).
        encoder = cell.get("encoder", SCAN_ENCODER)
        target.recommended_frame_encoder = None if encoder is None else {"init": "torch", **encoder}
        plain = sizing.bench_hypernet_kwargs
        sizing.bench_hypernet_kwargs = lambda hypernet, backbone=None: {**plain(hypernet), **head_kwargs}
        try:
            sized = sizing.size_to_budget(backbone, budget, dm.num_frames, dm.frame_size, hypernet="film")
            dm.batch_size = int(cell.get("batch", 1))
            pl.seed_everything(seed, verbose=False)
            lr_decay, decay_fraction = cell.get("decay", ("cosine", 1.0))
            model = sized.build(
                dm.num_frames, dm.frame_size, learning_rate=cell["lr"], lr_schedule="steps",
                warmup_fraction=cell.get("warmup", 0.05), channels_last=False,
                adam_betas=cell.get("betas", (0.9, 0.999)), lr_decay=lr_decay, decay_fraction=decay_fraction,
                gradient_clip_norm=cell.get("clip"),
            )  # fmt: skip
        finally:
            sizing.bench_hypernet_kwargs = plain
    finally:
        for key in keys:
            if key in own:
                setattr(target, key, own[key])
            elif key in vars(target):
                delattr(target, key)
    cell_steps = round(steps * cell.get("steps", 1.0))
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, max_steps=cell_steps, max_epochs=-1, limit_val_batches=0, num_sanity_val_steps=0,
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    seconds = time.perf_counter() - start
    result, _ = evaluate_reconstruction(model, dm.frames)
    return {
        "cell": name, "video": str(dm.path), "resize": list(dm.frame_size), "seed": seed,
        **{k: v for k, v in cell.items() if k != "family"}, "family": family,
        "steps": cell_steps, "params": result.params, "psnr": result.psnr, "psnr_worst": result.psnr_worst,
        "psnr_p5": result.psnr_p5, "backbone_kwargs": {k: v for k, v in sized.backbone_kwargs.items()},
        "modulated": model.hypernet.layer_names, "train_seconds": seconds, "threads": torch.get_num_threads(),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSONL file; each cell appends one line")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated cell names (default: all)")
    parser.add_argument("--steps", type=int, default=1500, help="steps per cell (the cpu tier's 35 s is ~1,500)")
    parser.add_argument("--budget", type=int, default=100_000)
    parser.add_argument("--video", default="sample:bunny", help="any video inrzoo reads (sample:bikes, a file)")
    parser.add_argument("--resize", default="180x320", help="HxW the clip is fitted at")
    parser.add_argument("--seed", type=int, default=0, help="seed of every cell's fit")
    args = parser.parse_args(argv)
    names = [n for n in args.cells.split(",") if n]
    unknown = [n for n in names if n not in CELLS]
    if unknown:
        parser.error(f"unknown cell {unknown[0]!r}; choose from {', '.join(CELLS)}")
    quiet_lightning()
    height, width = map(int, args.resize.split("x"))
    dm = VideoDataModule(path=args.video, resize=(height, width))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        record = run_cell(name, CELLS[name], args.steps, args.budget, dm, args.seed)
        with args.out.open("a") as handle:
            handle.write(json.dumps(record, default=list) + "\n")
        print(f"{name}: {record['psnr']:.2f} dB (worst {record['psnr_worst']:.2f}), {record['params']:,} params")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
