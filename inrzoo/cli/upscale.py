"""``inrzoo upscale``: the video at a higher resolution (a finer coordinate grid)."""

from __future__ import annotations

from collections.abc import Sequence

from inrzoo.cli.task_heads import iter_upscaled_frames, run_parser, sr_head
from inrzoo.io.files import claim_output
from inrzoo.io.video_io import write_mp4
from inrzoo.runs import FittedRun
from inrzoo.tasks.super_resolution import upscaled_size


def main(argv: Sequence[str]) -> int:
    parser = run_parser("inrzoo upscale", "Write the video at a higher resolution (a finer coordinate grid).",
                        argv, run_help="a run folder, .ckpt or .inrz", output="mp4")  # fmt: skip
    parser.add_argument("--scale", type=float, required=True, help="2, 4, or any factor for coordinate backbones")
    parser.add_argument("--head", default="auto", help="auto, coordinate-grid, bicubic-upsample or a plugin's")
    args = parser.parse_args(list(argv))
    output = claim_output(args.output, args.overwrite)
    video = FittedRun.open(args.run)
    size = upscaled_size(video.model.frame_size, args.scale)
    frames = iter_upscaled_frames(video, sr_head(video, args.head), size)  # written as decoded
    written = write_mp4(frames, output, fps=video.fps, overwrite=args.overwrite)
    print(f"wrote {written}: {video.model.latents.num_frames} frames at {size[0]}x{size[1]}")
    return 0
