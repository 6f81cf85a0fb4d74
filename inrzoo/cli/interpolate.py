"""``inrzoo interpolate``: the video at a multiple of its frame rate, from new latents."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from inrzoo.cli.task_heads import iter_interpolated_frames, run_parser, task_head
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output
from inrzoo.io.video_io import write_mp4
from inrzoo.runs import FittedRun
from inrzoo.tasks.interpolation import LatentInterpolator


def main(argv: Sequence[str]) -> int:
    parser = run_parser("inrzoo interpolate", "Write the video at a multiple of its frame rate from new latents.",
                        argv, run_help="a run folder, .ckpt or .inrz", output="mp4")  # fmt: skip
    parser.add_argument("--factor", type=int, required=True, help="frame-rate multiple (2, 4, ...)")
    parser.add_argument(
        "--interpolator", default=None,
        help="linear, slerp, temporal-mlp or a plugin's (default: the model's configured one, else linear)",
    )  # fmt: skip
    args = parser.parse_args(list(argv))
    if args.factor < 2:
        raise InrzooError(f"--factor must be an integer >= 2 (e.g. 2 or 4), got {args.factor}")
    interpolator = task_head(args.interpolator, LatentInterpolator, "--interpolator") if args.interpolator else None
    output = claim_output(args.output, args.overwrite)
    video = FittedRun.open(args.run)
    if interpolator is None:
        interpolator = video.model.interpolator or task_head("linear", LatentInterpolator, "--interpolator")
    count = (video.model.latents.num_frames - 1) * args.factor + 1
    times = torch.arange(count, dtype=torch.float32) / args.factor
    frames = iter_interpolated_frames(video, interpolator, times)  # written as decoded
    write_mp4(frames, output, fps=video.fps * args.factor, overwrite=args.overwrite)
    print(f"wrote {output}: {count} frames at {video.fps * args.factor:g} fps ({type(interpolator).__name__})")
    return 0
