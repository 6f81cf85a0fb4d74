"""Throughput of ``fit-many --pack K`` against K separate fits (issue 17), measured in one run.

For each K, the same K synthetic clips are fitted from empty folders: by the local pool (one ``inrzoo fit``
process per video, ``--parallel min(K, cores)``), by ``--pack K`` (one process, one batched computation), and,
when K >= 2 x cores, by one pack per core (``--pack K/cores --parallel cores``). Every process runs one thread
(``OMP_NUM_THREADS=1``): on a machine shared with other work a process of several OpenMP threads stalls
whenever one of them is descheduled (a 4-video pack on 2 threads beside one busy process took 107 s, on one
thread 17 s), which would measure the neighbours rather than packing. Both use the quickstart model (frame
encoder, FiLM head, HNeRV decoder) with the same epochs; videos per hour are over the whole command's wall
clock, start-up included, since that is what a corpus pays. The PSNRs of the two are reported too (a pack
must end where the separate fits do).

    .venv/bin/python benchmarks/packing.py --out benchmarks/results/packing_cpu.json
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from inrzoo.bench.environment import provenance
from inrzoo.io.files import claim_output

REPO = Path(__file__).resolve().parent.parent


def clip(seed: int, frames: int, height: int, width: int) -> torch.Tensor:
    """uint8 (T, 3, H, W): a drifting colour field with a moving bright block, different for each seed."""
    generator = torch.Generator().manual_seed(seed)
    phase = torch.rand(3, generator=generator) * 2 * math.pi
    ys = torch.linspace(0, 1, height).view(height, 1)
    xs = torch.linspace(0, 1, width).view(1, width)
    video = torch.empty(frames, 3, height, width)
    for t in range(frames):
        for c in range(3):
            video[t, c] = 127 + 100 * torch.sin(3 * xs + 2 * ys + phase[c] + 0.2 * t)
        top, left = (5 + 2 * t + seed) % (height - 10), (7 + 3 * t + 2 * seed) % (width - 12)
        video[t, :, top : top + 10, left : left + 12] = 245
    return video.round().clamp(0, 255).to(torch.uint8)


def write_manifest(root: Path, count: int, frames: int, height: int, width: int) -> Path:
    from torchcodec.encoders import VideoEncoder

    lines = []
    for seed in range(count):
        path = root / f"clip{seed:02d}.mp4"
        if not path.exists():
            VideoEncoder(clip(seed, frames, height, width), frame_rate=25).to_file(
                str(path), codec="libx264", pixel_format="yuv420p", crf=0
            )
        lines.append(path.name)
    manifest = root / f"videos_{count}.txt"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def timed_fit_many(manifest: Path, out: Path, options: list[str], fit_args: list[str]) -> tuple[float, list[float]]:
    """Wall seconds of one ``inrzoo fit-many`` and the PSNR of each video."""
    env = dict(os.environ) | {"OMP_NUM_THREADS": "1"}
    config = str(REPO / "configs" / "quickstart.yaml")
    command = [sys.executable, "-m", "inrzoo", "fit-many", "--manifest", str(manifest), "--config", config,
               "--out", str(out), *options, "--", *fit_args]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, fitted_psnrs(out)


def fitted_psnrs(out: Path) -> list[float]:
    """Each video's PSNR from a ``fit-many`` folder's table, which must show every video fitted."""
    rows = list(csv.DictReader((out / "results.csv").open()))
    if any(r["status"] != "done" for r in rows):
        raise RuntimeError(f"{out}: not every video was fitted")
    return [float(r["psnr"]) for r in rows]


def add_clip_options(parser: argparse.ArgumentParser) -> None:
    """The synthetic clips' length and size, and the epochs of every fit."""
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="72x128", help="HxW of the clips")
    parser.add_argument("--epochs", type=int, default=4)


def short_fit_args(epochs: int) -> list[str]:
    """``inrzoo fit`` arguments of a fit bounded by epochs only, at the clips' own size, with no video out."""
    return [
        "--data.init_args.resize=null", "--trainer.max_time=null", f"--trainer.max_epochs={epochs}",
        "--trainer.check_val_every_n_epoch=1000", "--report.write_video=false",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "packing_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--packs", default="1,4", help="the K values (16 takes ~10 more minutes on 2 cores)")
    add_clip_options(parser)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    height, width = map(int, args.size.split("x"))
    fit_args = short_fit_args(args.epochs)
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="inrzoo-packing-"))
    records = []
    for k in map(int, args.packs.split(",")):
        manifest = write_manifest(work, k, args.frames, height, width)
        parallel = min(k, cores)
        separate_s, separate_psnr = timed_fit_many(
            manifest, work / f"separate_{k}", ["--parallel", str(parallel)], fit_args
        )
        packed_s, packed_psnr = timed_fit_many(manifest, work / f"packed_{k}", ["--pack", str(k)], fit_args)
        per_core = None
        if k >= 2 * cores:  # one pack per core, as --parallel splits the threads: the CPU's best use of packing
            options = ["--pack", str(k // cores), "--parallel", str(cores)]
            per_core_s, _ = timed_fit_many(manifest, work / f"per_core_{k}", options, fit_args)
            per_core = {"processes": cores, "pack": k // cores, "seconds": per_core_s,
                        "videos_per_hour": 3600 * k / per_core_s,
                        "throughput_ratio": separate_s / per_core_s}  # fmt: skip
        record = {
            "k": k,
            "separate": {"processes": k, "parallel": parallel, "seconds": separate_s,
                         "videos_per_hour": 3600 * k / separate_s, "mean_psnr": sum(separate_psnr) / k},
            "packed": {"processes": 1, "seconds": packed_s, "videos_per_hour": 3600 * k / packed_s,
                       "mean_psnr": sum(packed_psnr) / k},
            "throughput_ratio": separate_s / packed_s,
            "packs_per_core": per_core,
            "max_psnr_difference_db": max(abs(a - b) for a, b in zip(separate_psnr, packed_psnr, strict=True)),
        }  # fmt: skip
        records.append(record)
        print(json.dumps(record), flush=True)
    report = {
        "name": "packing_throughput", "model": "configs/quickstart.yaml (frame encoder, FiLM head, HNeRV decoder)",
        "clips": {"frames": args.frames, "size": [height, width], "synthetic": True}, "epochs": args.epochs,
        "cores": cores, "results": records,
    }  # fmt: skip
    report.update(provenance())
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
