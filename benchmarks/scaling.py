"""How one fit's cost grows with the work (issue 17): seconds per video against frame count and resolution.

The quickstart model (configs/quickstart.yaml: frame encoder, FiLM head, HNeRV decoder, batch 1) fitted on
Big Buck Bunny for the same few epochs at 66 / 132 / 264 frames (180x320) and at 90x160 / 180x320 / 360x640
(132 frames). The sample clip has 132 frames, so the 264-frame video is the clip played twice (written
losslessly once). Each point is one ``inrzoo fit`` process; its ``train_seconds`` (``metrics.json``: the fit
itself, without start-up and the final scoring) over the epochs gives seconds per epoch. The growth exponent
b of ``seconds = a * work^b`` is a least-squares line through the log-log points of each sweep (b = 1: cost
proportional to frames or pixels). Each fit runs on one thread (see ``main``). Writes JSON and a log-log plot.

    flock -x /work/cpu.lock .venv/bin/python benchmarks/scaling.py --out benchmarks/results/scaling_cpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from inrzoo.bench.environment import provenance
from inrzoo.data.samples import resolve_video_path
from inrzoo.io.files import claim_output

REPO = Path(__file__).resolve().parent.parent
FRAME_SWEEP = (66, 132, 264)  # at 180x320
SIZE_SWEEP = ((90, 160), (180, 320), (360, 640))  # at 132 frames


def doubled_bunny(work: Path) -> Path:
    """Bunny's 132 frames twice over (264 frames), lossless, so the long point has real frames too."""
    path = work / "bunny_x2.mp4"
    source = resolve_video_path("sample:bunny")
    command = ["ffmpeg", "-v", "error", "-y", "-stream_loop", "1", "-i", str(source), "-c:v", "libx264",
               "-qp", "0", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    return path


def timed_fit(video: str, frames: int, size: tuple[int, int], epochs: int, work: Path) -> dict[str, Any]:
    """One ``inrzoo fit`` of ``frames`` frames of ``video`` at ``size``; its metrics and wall seconds."""
    name = f"f{frames}_{size[0]}x{size[1]}"
    command = [
        sys.executable, "-m", "inrzoo", "fit", "--config", str(REPO / "configs" / "quickstart.yaml"),
        f"--data.init_args.path={video}", f"--data.init_args.max_frames={frames}",
        f"--data.init_args.resize=[{size[0]},{size[1]}]", f"--trainer.max_epochs={epochs}",
        "--trainer.max_time=null", "--trainer.check_val_every_n_epoch=1000", "--report.write_video=false",
        f"--trainer.logger.init_args.save_dir={work}", f"--trainer.logger.init_args.name={name}",
        "--trainer.enable_progress_bar=false", "--trainer.log_every_n_steps=5",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    run_dir = next((work / name).glob("version_*"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    step = step_seconds(run_dir, frames)
    return {
        "frames": frames, "height": size[0], "width": size[1], "pixels_per_frame": size[0] * size[1],
        "epochs": epochs, "train_seconds": metrics["train_seconds"], "wall_seconds": wall,
        "seconds_per_epoch": metrics["train_seconds"] / epochs, "median_step_seconds": step,
        "steady_seconds_per_epoch": step * frames, "psnr": metrics["psnr"],
    }  # fmt: skip


def step_seconds(run_dir: Path, steps_per_epoch: int) -> float:
    """Median seconds per optimiser step, from the wall times of the logged training losses, between logged
    steps of one epoch only: what a longer fit pays per step, without start-up, the end-of-epoch work (data
    loader, checkpoint) or a moment another session took the CPU."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    logged = [(e.step, e.wall_time) for e in events.Scalars("train/loss")]
    rates = [(t1 - t0) / (s1 - s0) for (s0, t0), (s1, t1) in zip(logged, logged[1:], strict=False)
             if s0 // steps_per_epoch == s1 // steps_per_epoch]  # fmt: skip
    return statistics.median(rates)


def exponent(xs: list[float], ys: list[float]) -> float:
    """Slope of the least-squares line through (log x, log y)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    sweeps = (("frames", "frames", report["frame_sweep"], report["frame_exponent"]),
              ("pixels per frame", "pixels_per_frame", report["size_sweep"], report["size_exponent"]))  # fmt: skip
    for ax, (label, key, points, slope) in zip(axes, sweeps, strict=True):
        xs = [p[key] for p in points]
        ax.loglog(xs, [p["steady_seconds_per_epoch"] for p in points], "o-", base=2)
        for p in points:
            ax.annotate(f"{p['height']}x{p['width']}, {p['frames']} f", (p[key], p["steady_seconds_per_epoch"]),
                        fontsize=7, textcoords="offset points", xytext=(4, -10))  # fmt: skip
        ax.set_xlabel(f"{label} (log)")
        ax.set_ylabel("seconds per epoch, steady (log)")
        ax.set_title(f"exponent {slope:.2f}")
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("quickstart model, Big Buck Bunny, CPU: fit cost against the work")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "scaling_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    out = claim_output(args.out, args.overwrite)
    png = claim_output(args.out.with_suffix(".png"), args.overwrite)
    work = Path(tempfile.mkdtemp(prefix="inrzoo-scaling-"))
    # One thread: on this shared machine other sessions' unlocked work takes a core now and then, and a
    # 2-thread fit then stalls at every barrier (6x slower, seen in a first try of this script); one thread
    # measures the model, not the neighbours. The exponent is what matters here, not the absolute speed.
    os.environ["OMP_NUM_THREADS"] = "1"
    long_video = str(doubled_bunny(work))
    points: dict[tuple[int, int, int], dict[str, Any]] = {}
    for frames in FRAME_SWEEP:
        video = long_video if frames > 132 else "sample:bunny"
        points[(frames, 180, 320)] = timed_fit(video, frames, (180, 320), args.epochs, work)
        print(json.dumps(points[(frames, 180, 320)]), flush=True)
    for size in SIZE_SWEEP:
        if (132, *size) not in points:
            points[(132, *size)] = timed_fit("sample:bunny", 132, size, args.epochs, work)
            print(json.dumps(points[(132, *size)]), flush=True)
    frame_sweep = [points[(f, 180, 320)] for f in FRAME_SWEEP]
    size_sweep = [points[(132, *s)] for s in SIZE_SWEEP]
    report = {
        "name": "fit_cost_scaling", "model": "configs/quickstart.yaml (batch 1)", "video": "sample:bunny",
        "epochs": args.epochs, "threads": 1, "frame_sweep": frame_sweep, "size_sweep": size_sweep,
        "frame_exponent": exponent([p["frames"] for p in frame_sweep],
                                   [p["steady_seconds_per_epoch"] for p in frame_sweep]),
        "size_exponent": exponent([p["pixels_per_frame"] for p in size_sweep],
                                  [p["steady_seconds_per_epoch"] for p in size_sweep]),
        "note": "264 frames = the 132-frame clip twice; exponents from steady_seconds_per_epoch (median logged "
                "step time within an epoch x frames); seconds_per_epoch = metrics.json train_seconds / epochs",
    }  # fmt: skip
    report.update(provenance())
    out.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, png)
    print(f"frame exponent {report['frame_exponent']:.3f}, size exponent {report['size_exponent']:.3f}")
    print(f"wrote {out} and {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
