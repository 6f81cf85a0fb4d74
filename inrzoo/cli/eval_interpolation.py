"""``inrzoo eval-interpolation``: held-out frames of a ``train_every=2`` fit against neighbour averaging
and ffmpeg minterpolate."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inrzoo.baselines.frames import minterpolate, neighbour_average
from inrzoo.cli.task_heads import claim_report, interpolated_frames, run_parser, task_head
from inrzoo.errors import InrzooError
from inrzoo.io.video_io import write_side_by_side_png
from inrzoo.models.metrics import score_frames
from inrzoo.runs import FittedRun
from inrzoo.tasks.interpolation import LatentInterpolator

RUN_HELP = "a run folder or .ckpt fitted with data.init_args.train_every=2"
DESCRIPTION = (
    "Score the held-out frames of a run fitted with data.train_every=2: interpolators vs neighbour "
    "averaging and ffmpeg minterpolate, on the same frames."
)


def main(argv: Sequence[str]) -> int:
    parser = run_parser("inrzoo eval-interpolation", DESCRIPTION, argv, RUN_HELP, output="report")
    parser.add_argument("--interpolators", default="linear,slerp,temporal-mlp")
    parser.add_argument("--no-minterpolate", "--no_minterpolate", action="store_true", dest="no_minterpolate")
    args = parser.parse_args(list(argv))
    names = [n.strip() for n in args.interpolators.split(",") if n.strip()]
    heads = {n: task_head(n, LatentInterpolator, "--interpolators") for n in names}
    paths = claim_report(Path(args.out), args.overwrite)
    video = FittedRun.open(args.run)
    trained = video.model.latents.trained.cpu()
    known = torch.nonzero(trained).flatten()
    held_out = [t for t in torch.nonzero(~trained).flatten().tolist() if known[0] < t < known[-1]]
    if not held_out:
        raise InrzooError(
            f"{args.run} was fitted on every frame, so no frame is held out; fit it with "
            "--data.init_args.train_every=2 for this protocol"
        )
    truth = video.source_frames("eval-interpolation")
    target = truth[held_out]
    times = torch.tensor(held_out, dtype=torch.float32)
    results: dict[str, Any] = {}
    decoded: dict[str, Tensor] = {}
    for name, head in heads.items():
        start = time.perf_counter()
        decoded[name] = interpolated_frames(video, head, times)
        results[name] = {**score_frames(decoded[name], target), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    averaged = neighbour_average(truth, known.tolist(), held_out)
    results["neighbour-average"] = {**score_frames(averaged, target), "seconds": time.perf_counter() - start}
    if not args.no_minterpolate:
        start = time.perf_counter()
        motion = minterpolate(truth, known.tolist(), held_out, video.fps)
        results["ffmpeg-minterpolate"] = {**score_frames(motion, target), "seconds": time.perf_counter() - start}
    report = {
        "task": "interpolation", "run": str(args.run), "frames_scored": held_out, "fitted_frames": known.tolist(),
        "protocol": "fit on the kept frames only; predict each held-out frame from interpolated latents; baselines "
        "use the same kept frames", "results": results,
    }  # fmt: skip
    paths["results.json"].write_text(json.dumps(report, indent=2) + "\n")
    show = torch.linspace(0, len(held_out) - 1, min(3, len(held_out))).round().long()
    first = names[0] if names else None
    columns = [target[show], averaged[show]] + ([decoded[first][show]] if first else [])
    write_side_by_side_png([c.float() / 255 for c in columns], paths["comparison.png"], args.overwrite)
    for name, scores in results.items():
        print(f"{name:>20}: PSNR {scores['psnr']:.2f} dB, MS-SSIM {scores.get('ms_ssim') or float('nan'):.4f}")
    print(f"wrote {paths['results.json']} and {paths['comparison.png']} (ground truth | neighbour average | {first})")
    return 0
