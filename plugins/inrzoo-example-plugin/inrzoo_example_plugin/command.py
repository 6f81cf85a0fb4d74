"""``inrzoo color-stats VIDEO``: a third-party command, found through the ``inrzoo.commands`` entry point."""

from __future__ import annotations

from collections.abc import Sequence

from inrzoo.cli import Command, one_line_parser
from inrzoo.errors import InrzooError
from inrzoo_example_plugin.color_stats import ColorStatsTeacher


def color_stats_main(argv: Sequence[str]) -> int:
    """Print the mean colour and spread of each of the first frames (the teacher's whole-frame features)."""
    parser = one_line_parser(
        "inrzoo color-stats", "Print the mean RGB colour and its spread of each of a video's first frames.", argv
    )
    parser.add_argument("video", help="a video file, or sample:bunny|bikes|carphone")
    parser.add_argument("--frames", type=int, default=4, help="how many frames, from the first")
    args = parser.parse_args(list(argv))
    if args.frames < 1:
        raise InrzooError(f"--frames must be >= 1, got {args.frames}")
    from inrzoo.data import VideoDataModule

    frames = VideoDataModule(path=args.video, max_frames=args.frames).frames
    features = ColorStatsTeacher(grid=1).encode_frames(frames.float() / 255)
    for index, (r, g, b, sr, sg, sb) in enumerate(features.tolist()):
        print(f"frame {index}: mean RGB {r:.3f} {g:.3f} {b:.3f}, spread {sr:.3f} {sg:.3f} {sb:.3f}")
    return 0


command = Command(help="print each frame's mean colour and spread (inrzoo-example-plugin)", handler=color_stats_main)
