"""inrzoo eval-sr: score a run fitted on a downscaled copy (data.resize) against the real frames at --scale times
that size, the INR decoded on the finer grid vs bicubic and lanczos upscaling of the frames it saw."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inrzoo.baselines.frames import upscale_bicubic, upscale_lanczos
from inrzoo.cli.task_heads import TaskReport, run_parser, sr_head, upscaled_frames
from inrzoo.errors import InrzooError
from inrzoo.runs import FittedRun
from inrzoo.tasks.super_resolution import upscaled_size


def main(argv: Sequence[str]) -> int:
    # The module's docstring is the command's --help description.
    parser = run_parser("inrzoo eval-sr", __doc__, argv, output="report",
                        run_help="a run folder or .ckpt fitted with data.init_args.resize")  # fmt: skip
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--head", default="auto")
    args = parser.parse_args(list(argv))
    report = TaskReport(Path(args.out), args.overwrite)
    video = FittedRun.open(args.run)
    if not video.data or not video.data.get("resize") or video.data.get("center_crop"):
        raise InrzooError(
            "eval-sr needs a run fitted on a downscaled copy (data.init_args.resize, no centre crop) so that real "
            "higher-resolution frames exist"
        )
    low = video.source_frames("eval-sr")[:]  # in memory: the baselines take whole tensors
    size = upscaled_size(tuple(video.data["resize"]), args.scale)
    native = video.source("eval-sr", resize=None)
    if size[0] > native.frame_size[0] or size[1] > native.frame_size[1]:
        raise InrzooError(
            f"the source is {native.frame_size[0]}x{native.frame_size[1]}; there are no real {size[0]}x{size[1]} "
            "frames to compare with: use a smaller --scale or fit on a smaller resize"
        )
    truth = video.source_frames("eval-sr", resize=list(size))[:]
    head = sr_head(video, args.head)
    ours = report.score(f"inrzoo ({type(head).__name__})", truth, lambda: upscaled_frames(video, head, size))
    bicubic = report.score("bicubic", truth, lambda: upscale_bicubic(low, size))
    report.score("lanczos", truth, lambda: upscale_lanczos(low, size))
    protocol = {
        "task": "super-resolution", "run": str(args.run), "fitted_size": list(low.shape[-2:]), "size": list(size),
        "protocol": "fit on the downscaled frames; decode at the larger size; compare with the real frames at that "
        "size; baselines upscale the same downscaled frames",
    }  # fmt: skip
    report.write(protocol, {"ground truth": truth, "bicubic": bicubic, "inrzoo": ours})
    return 0
