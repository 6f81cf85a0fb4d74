"""CPU training speed: what each option costs or saves per epoch, and how close a fit runs to the hardware.

For one model config (the quickstart by default) on its video, each option trains the same model
from the same seed for ``--epochs`` epochs through Lightning, timing the steps after the first
epoch, and reports s/epoch, PSNR after the fit, and the achieved training GFLOP/s (forward FLOPs
per frame x 3 for forward + backward, counted by ``torch.utils.flop_counter``, over the step time).
In the same run a large fp32 and bf16 matmul measure the machine's own peak, so the ratio
"training GFLOP/s / peak" says how much of the hardware the fit uses. Every figure is measured
in the same process, one option after another: compare within one run only (this VM throttles).

    .venv/bin/python benchmarks/cpu_speed.py --out benchmarks/results/cpu_speed.json
    .venv/bin/python benchmarks/cpu_speed.py --options fp32,log-every-step --epochs 3 --rounds 4 \
        --out benchmarks/results/cpu_speed_logging.json
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
import yaml
from lightning.pytorch.cli import instantiate_class
from torch.utils.flop_counter import FlopCounterMode

from inrzoo.bench.environment import provenance
from inrzoo.bench.report import write_json
from inrzoo.bench.runner import quiet_lightning
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.io.files import claim_output
from inrzoo.models import VideoINR

REPO = Path(__file__).resolve().parents[1]


def matmul_peak(dtype: torch.dtype, size: int = 2048, seconds: float = 1.0) -> float:
    """GFLOP/s of a large square matmul: the practical peak of this machine for ``dtype``. The matrix grows
    from 256 to ``size`` while one product takes under 50 ms, and the products are timed for ``seconds``: a CPU
    without native bf16 (1 GFLOP/s, 18 s per 2048^2 product) is measured in seconds, not minutes."""
    n = 256
    while n < size:
        a = torch.randn(n, n, dtype=dtype)
        start = time.perf_counter()
        a @ a
        if time.perf_counter() - start > 0.05:
            break
        n *= 2
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    repeats, start = 0, time.perf_counter()
    while repeats < 2 or time.perf_counter() - start < seconds:
        a @ b
        repeats += 1
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


class StepTimer(pl.Callback):
    """Wall time of every training step after the first epoch (warm-up, allocator, compile)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.current_epoch >= 1:
            self.seconds.append(time.perf_counter() - self._start)


def build_model(config: dict[str, Any], data: VideoDataModule, channels_last: bool, compile_backbone: bool) -> VideoINR:
    """The config's model (every plugin in it, the frame encoder too) for the data's geometry."""
    init = {
        key: instantiate_class((), value) if isinstance(value, dict) and "class_path" in value else value
        for key, value in config["model"]["init_args"].items()
    }
    init.update(num_frames=data.num_frames, frame_size=data.frame_size, compile_backbone=compile_backbone)
    model = VideoINR(**init)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def forward_flops_per_frame(model: VideoINR) -> int:
    with FlopCounterMode(display=False) as counter:
        model(torch.tensor([0]))
    return counter.get_total_flops()


def measure(config: dict[str, Any], option: dict[str, Any], epochs: int, max_frames: int | None) -> dict[str, Any]:
    pl.seed_everything(0, verbose=False)
    init = config["data"]["init_args"]
    data = VideoDataModule(init["path"], resize=init.get("resize"), batch_size=init.get("batch_size", 4),
                           max_frames=max_frames)  # fmt: skip
    torch.set_num_threads(option.get("threads", 2))
    model = build_model(config, data, option.get("channels_last", False), option.get("compile", False))
    if option.get("log_every_step"):  # what VideoINR did before it skipped the steps Lightning does not write
        model._logs_this_step = lambda: True
    flops = forward_flops_per_frame(model)
    timer = StepTimer()
    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=epochs, precision=option.get("precision", "32-true"), logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        limit_val_batches=0 if not option.get("validate") else 1.0, check_val_every_n_epoch=1,
        num_sanity_val_steps=0, callbacks=[timer],
    )  # fmt: skip
    start = time.perf_counter()
    trainer.fit(model, data)
    wall = time.perf_counter() - start
    step = sum(timer.seconds) / max(1, len(timer.seconds))
    steps_per_epoch = trainer.num_training_batches
    result, _ = evaluate_reconstruction(model, data.frames)
    return {
        "option": option["name"],
        "settings": {k: v for k, v in option.items() if k != "name"},
        "s_per_epoch_steps": step * steps_per_epoch,
        "s_per_epoch_wall": wall / epochs,
        "psnr": result.psnr,
        "forward_mflops_per_frame": flops / 1e6,
        "train_gflops_per_s": 3 * flops * data.batch_size / step / 1e9,
    }


OPTIONS = [
    {"name": "fp32"},
    {"name": "one-thread", "threads": 1},
    {"name": "channels-last", "channels_last": True},
    {"name": "bf16-mixed", "precision": "bf16-mixed"},
    {"name": "compile", "compile": True},
    {"name": "validate-every-epoch", "validate": True},
    {"name": "log-every-step", "log_every_step": True},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "quickstart.yaml")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max_frames", type=int, default=None, help="use only the first N frames")
    parser.add_argument("--options", default="all", help="comma-separated option names (default: all)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the options this many times, the order reversed every other round; the summary "
                        "gives each option's median (this VM's speed drifts: one round says little)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = parser.parse_args()
    # An earlier result is kept unless asked: refuse before minutes of fitting, not after.
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: steps are timed after the first epoch")
    try:
        out = claim_output(args.out, args.overwrite) if args.out is not None else None
    except InrzooError as err:
        parser.error(str(err))
    quiet_lightning()
    config = yaml.safe_load(args.config.read_text())
    chosen = OPTIONS if args.options == "all" else [o for o in OPTIONS if o["name"] in args.options.split(",")]
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"matmul peak: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s", flush=True)
    rows = []
    for round_index in range(args.rounds):
        for option in chosen if round_index % 2 == 0 else chosen[::-1]:
            row = measure(config, option, args.epochs, args.max_frames) | {"round": round_index}
            row["share_of_fp32_peak"] = row["train_gflops_per_s"] / peaks["fp32"]
            rows.append(row)
            speed = f"{row['train_gflops_per_s']:6.1f} GFLOP/s ({row['share_of_fp32_peak']:.0%} of fp32 peak)"
            line = f"{row['option']:20s} {row['s_per_epoch_steps']:7.2f} s/epoch  {row['psnr']:6.2f} dB  {speed}"
            print(line, flush=True)
    summary = {
        option["name"]: {
            key: statistics.median(r[key] for r in rows if r["option"] == option["name"])
            for key in ("s_per_epoch_steps", "s_per_epoch_wall", "train_gflops_per_s")
        }
        for option in chosen
    }
    peaks_after = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    report = {"name": "cpu_speed", "config": str(args.config.relative_to(REPO)), "epochs": args.epochs,
              "rounds": args.rounds, "matmul_peak_gflops": peaks, "matmul_peak_gflops_after": peaks_after,
              "median_over_rounds": summary, "results": rows,
              **provenance("cpu")}  # fmt: skip
    if out is not None:
        write_json(report, out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
