"""Reconstruction benchmark: every backbone (+ FiLM head) at several parameter budgets, same wall clock,
against x264/x265 on the same frames, in one run. Writes CompressAI-like JSON and prints Markdown tables.

    .venv/bin/python benchmarks/reconstruct.py --tier cpu --out benchmarks/results/reconstruct_cpu.json
    .venv/bin/python benchmarks/reconstruct.py --tier smoke --out /tmp/smoke.json --overwrite
    .venv/bin/python benchmarks/reconstruct.py --table benchmarks/results/reconstruct_cpu.json

Each fit gets the same wall-clock budget (Lightning ``max_time``). By default the learning rate follows
the model's warm-up + cosine shape over that time (``VideoINR(lr_schedule="time")``); ``--schedule constant``
leaves the model's own schedule, which under a time limit alone holds the rate after warm-up.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: sizing.py lives beside us

from sizing import SizedModel, family_for, size_to_budget  # noqa: E402

from inrzoo.backbones import BACKBONES  # noqa: E402
from inrzoo.baselines import CodecResult, encode_with_ffmpeg, ffmpeg_version, require_ffmpeg  # noqa: E402
from inrzoo.data import VideoDataModule  # noqa: E402
from inrzoo.errors import InrzooError  # noqa: E402
from inrzoo.evaluation import evaluate_reconstruction  # noqa: E402
from inrzoo.io.files import claim_output  # noqa: E402

VIDEO = "sample:bunny"
RESOLUTION = (180, 320)
SEED = 0
HYPERNET = "film"
CODECS = {"libx264": "x264", "libx265": "x265"}


@dataclass(frozen=True)
class Tier:
    """How much of everything a run uses."""

    max_frames: int | None
    budgets: tuple[int, ...]
    fit_seconds: float
    crfs: tuple[int, ...]


TIERS = {
    # CI: checks the pipeline end to end; the numbers mean nothing.
    "smoke": Tier(max_frames=8, budgets=(25_000,), fit_seconds=2.0, crfs=(30,)),
    # This 2-core machine, whole run <= ~15 min.
    "cpu": Tier(
        max_frames=None, budgets=(25_000, 50_000, 100_000, 200_000), fit_seconds=35.0, crfs=(18, 22, 26, 30, 34, 38, 42)
    ),
}

#: Per-backbone training settings, each the best of a short scan at 40-60 s fits (README: tuning).
#: Coordinate MLPs render every pixel of a full frame per sample, so they take single-frame batches.
TRAINING: dict[str, dict[str, float | int]] = {
    "nerv-conv": {"batch_size": 4, "learning_rate": 1e-2},
    "fourier-mlp": {"batch_size": 1, "learning_rate": 5e-3},
    "siren": {"batch_size": 1, "learning_rate": 1e-3},
    # Not scanned: the Instant-NGP default rate for feature grids.
    "grid-mlp": {"batch_size": 1, "learning_rate": 1e-2},
}
DEFAULT_TRAINING: dict[str, float | int] = {"batch_size": 1, "learning_rate": 1e-3}


def fit_one(sized: SizedModel, dm: VideoDataModule, seconds: float, schedule: str) -> dict[str, Any]:
    """Train one combo for ``seconds`` of wall clock and score it on every frame."""
    settings = {**DEFAULT_TRAINING, **TRAINING.get(sized.backbone, {})}
    dm.batch_size = int(settings["batch_size"])
    pl.seed_everything(SEED, verbose=False)
    # "time": the model's warm-up + cosine runs over the wall-clock budget (VideoINR.lr_schedule);
    # "constant": with no planned end the model holds the peak rate after warm-up.
    model = sized.build(
        dm.num_frames,
        dm.frame_size,
        learning_rate=float(settings["learning_rate"]),
        lr_schedule="time" if schedule == "cosine" else "steps",
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_time={"seconds": seconds},
        max_epochs=-1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=dm)
    train_seconds = time.perf_counter() - start
    result, _ = evaluate_reconstruction(model, dm.frames)
    steps = trainer.global_step
    return {
        "name": f"{sized.backbone}+{sized.hypernet}@{sized.budget // 1000}k",
        "kind": "inrzoo",
        "backbone": sized.backbone,
        "hypernet": sized.hypernet,
        "budget": sized.budget,
        "params": result.params,
        "bpp_8bit": result.bpp_8bit,
        "bpp_16bit": result.bpp_16bit,
        "psnr": result.psnr,
        "ms_ssim": result.ms_ssim,
        "train_seconds": train_seconds,
        "steps": steps,
        "epochs": steps * dm.batch_size / dm.num_frames,
        "decode_fps": result.decode_fps,
        "schedule": schedule,
        "batch_size": dm.batch_size,
        "learning_rate": float(settings["learning_rate"]),
        "latent_dim": sized.latent_dim,
        "backbone_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in sized.backbone_kwargs.items()},
        "hypernet_kwargs": sized.hypernet_kwargs,
    }


def codec_record(result: CodecResult) -> dict[str, Any]:
    return {
        "name": f"{CODECS.get(result.codec, result.codec)} crf {result.crf}",
        "kind": "codec",
        "codec": result.codec,
        "crf": result.crf,
        "preset": result.preset,
        "bytes": result.bytes,
        "bpp": result.bpp,
        "psnr": result.psnr,
        "ms_ssim": result.ms_ssim,
        "encode_seconds": result.encode_seconds,
        "decode_fps": result.decode_fps,
    }


def hardware() -> dict[str, Any]:
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "accelerator": "cpu",
    }


def git_commit() -> tuple[str | None, bool | None]:
    """HEAD and whether the work tree differs from it (results from uncommitted code say so)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head.stdout.strip(), bool(status.stdout.strip())


def _fmt(value: Any, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def markdown_tables(report: dict[str, Any]) -> str:
    """The INR results and the codec results, one Markdown table each."""
    lines = [
        "| model | params | bpp 8-bit | bpp 16-bit | PSNR (dB) | MS-SSIM | train s | epochs | decode fps |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (r for r in report["results"] if r["kind"] == "inrzoo"):
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['bpp_8bit']:.4f} | {r['bpp_16bit']:.4f} | {r['psnr']:.2f} "
            f"| {_fmt(r['ms_ssim'], 4)} | {r['train_seconds']:.0f} | {r['epochs']:.1f} | {r['decode_fps']:.1f} |"
        )
    lines += [
        "",
        "| codec | bytes | bpp | PSNR (dB) | MS-SSIM | encode s | decode fps |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (r for r in report["results"] if r["kind"] == "codec"):
        lines.append(
            f"| {r['name']} | {r['bytes']:,} | {r['bpp']:.4f} | {r['psnr']:.2f} | {_fmt(r['ms_ssim'], 4)} "
            f"| {r['encode_seconds']:.1f} | {r['decode_fps']:.0f} |"
        )
    return "\n".join(lines)


def write_json(report: dict[str, Any], out: Path, overwrite: bool) -> None:
    """Write through a temp file + rename, so a crash never leaves half a results file."""
    out = claim_output(out, overwrite)  # checked again: the file may have appeared during the run
    with tempfile.NamedTemporaryFile("w", dir=out.parent, prefix=f".{out.name}.", delete=False) as tmp:
        json.dump(report, tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, out)


def quiet_lightning() -> None:
    """Twelve fits of Lightning banners and dataloader hints would bury the results."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\)` is deprecated.*")


def run(args: argparse.Namespace) -> dict[str, Any]:
    tier = TIERS[args.tier]
    seconds = args.budget_seconds if args.budget_seconds is not None else tier.fit_seconds
    require_ffmpeg()  # fail now, not after the fits
    run_start = time.perf_counter()
    dm = VideoDataModule(path=VIDEO, resize=RESOLUTION, max_frames=tier.max_frames)
    frames = dm.frames
    # Built-ins by default; third-party backbones only when named (their cost is unknown).
    backbones = args.backbones or [e.name for e in BACKBONES.entries() if e.package == "inrzoo"]
    commit, dirty = git_commit()
    report: dict[str, Any] = {
        "name": "reconstruct",
        "tier": args.tier,
        "video": VIDEO,
        "resolution": list(RESOLUTION),
        "frames": int(frames.shape[0]),
        "hardware": hardware(),
        "torch": torch.__version__,
        "lightning": pl.__version__,
        "ffmpeg": ffmpeg_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "seed": SEED,
        "budget_seconds": seconds,
        "schedule": args.schedule,
        "results": [],
    }
    for backbone in backbones:
        if family_for(backbone) is None:
            print(f"skipping backbone {backbone!r}: benchmarks/sizing.py has no size family for it", file=sys.stderr)
            continue
        for budget in tier.budgets:
            sized = size_to_budget(backbone, budget, dm.num_frames, dm.frame_size, hypernet=HYPERNET)
            record = fit_one(sized, dm, seconds, args.schedule)
            report["results"].append(record)
            print(
                f"{record['name']}: {record['params']} params, {record['psnr']:.2f} dB, "
                f"{record['steps']} steps in {record['train_seconds']:.0f} s",
                flush=True,
            )
    with tempfile.TemporaryDirectory(prefix="inrzoo-codecs-") as workdir:
        for codec in CODECS:
            for crf in tier.crfs:
                result = encode_with_ffmpeg(frames, workdir, codec=codec, crf=crf, preset="veryslow", fps=dm.fps)
                report["results"].append(codec_record(result))
                print(f"{codec} crf {crf}: {result.bpp:.4f} bpp, {result.psnr:.2f} dB", flush=True)
    report["run_seconds"] = time.perf_counter() - run_start
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tier", choices=sorted(TIERS), default="cpu")
    parser.add_argument("--budget-seconds", type=float, default=None, help="wall clock per fit (default: the tier's)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default: results/reconstruct_TIER.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing results file")
    parser.add_argument("--backbones", nargs="+", default=None, help="registered backbones (default: the built-ins)")
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine", help="see the module docstring")
    parser.add_argument("--table", type=Path, default=None, help="only print the tables of an existing results file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.table is not None:
        print(markdown_tables(json.loads(args.table.read_text())))
        return 0
    out = args.out or Path(__file__).resolve().parent / "results" / f"reconstruct_{args.tier}.json"
    try:
        claim_output(out, args.overwrite)  # refuse before spending minutes, not after
        quiet_lightning()
        report = run(args)
        write_json(report, out, args.overwrite)
    except InrzooError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(markdown_tables(report))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
