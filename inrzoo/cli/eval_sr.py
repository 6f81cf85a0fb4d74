"""``inrzoo eval-sr``: super-resolution against the real higher-resolution frames, bicubic and lanczos."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from inrzoo.baselines.frames import upscale_bicubic, upscale_lanczos
from inrzoo.cli.task_heads import claim_report, run_parser, sr_head, upscaled_frames, upscaled_size
from inrzoo.errors import InrzooError
from inrzoo.io.video_io import write_side_by_side_png
from inrzoo.models.metrics import score_frames
from inrzoo.runs import FittedRun

RUN_HELP = "a run folder or .ckpt fitted with data.init_args.resize"
DESCRIPTION = (
    "Score a run fitted on a downscaled copy (data.resize) against the real frames at --scale times that "
    "size: the INR decoded on the finer grid vs bicubic and lanczos upscaling of the frames it saw."
)


def main(argv: Sequence[str]) -> int:
    parser = run_parser("inrzoo eval-sr", DESCRIPTION, argv, RUN_HELP, output="report")
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--head", default="auto")
    args = parser.parse_args(list(argv))
    paths = claim_report(Path(args.out), args.overwrite)
    video = FittedRun.open(args.run)
    if not video.data or not video.data.get("resize") or video.data.get("center_crop"):
        raise InrzooError(
            "eval-sr needs a run fitted on a downscaled copy (data.init_args.resize, no centre crop) so that real "
            "higher-resolution frames exist"
        )
    low = video.source_frames("eval-sr")
    size = upscaled_size(tuple(video.data["resize"]), args.scale)
    native = video.source("eval-sr", resize=None)
    if size[0] > native.frame_size[0] or size[1] > native.frame_size[1]:
        raise InrzooError(
            f"the source is {native.frame_size[0]}x{native.frame_size[1]}; there are no real {size[0]}x{size[1]} "
            "frames to compare with: use a smaller --scale or fit on a smaller resize"
        )
    truth = video.source_frames("eval-sr", resize=list(size))
    head = sr_head(video, args.head)
    results: dict[str, Any] = {}
    start = time.perf_counter()
    ours = upscaled_frames(video, head, size)
    results[f"inrzoo ({type(head).__name__})"] = {**score_frames(ours, truth), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    bicubic = upscale_bicubic(low, size)
    results["bicubic"] = {**score_frames(bicubic, truth), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    results["lanczos"] = {**score_frames(upscale_lanczos(low, size), truth), "seconds": time.perf_counter() - start}
    report = {
        "task": "super-resolution", "run": str(args.run), "fitted_size": list(low.shape[-2:]), "size": list(size),
        "protocol": "fit on the downscaled frames; decode at the larger size; compare with the real frames at that "
        "size; baselines upscale the same downscaled frames", "results": results,
    }  # fmt: skip
    paths["results.json"].write_text(json.dumps(report, indent=2) + "\n")
    show = torch.linspace(0, truth.shape[0] - 1, min(3, truth.shape[0])).round().long()
    write_side_by_side_png([truth[show] / 255, bicubic[show] / 255, ours[show] / 255], paths["comparison.png"],
                           args.overwrite)  # fmt: skip
    for name, scores in results.items():
        print(f"{name:>32}: PSNR {scores['psnr']:.2f} dB, MS-SSIM {scores.get('ms_ssim') or float('nan'):.4f}")
    print(f"wrote {paths['results.json']} and {paths['comparison.png']} (ground truth | bicubic | inrzoo)")
    return 0
