"""``inrzoo decompress``: a .inrz file (alone) -> mp4 or PNG frames."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError


def parse_frames(text: str | None, num_frames: int) -> list[int]:
    """``None`` -> all; ``"7"`` -> [7]; ``"10:20"`` -> 10..19 (Python slice rules, no step)."""
    if text is None:
        return list(range(num_frames))
    try:
        if ":" in text:
            start_text, stop_text = text.split(":", 1)
            start = int(start_text) if start_text else 0
            stop = int(stop_text) if stop_text else num_frames
            frames = list(range(num_frames))[start:stop]
        else:
            index = int(text)
            frames = [list(range(num_frames))[index]]
    except (ValueError, IndexError):
        raise InrzooError(
            f"--frames {text!r} is not a frame or range of the video's {num_frames} frames; use e.g. 5 or 10:20"
        ) from None
    if not frames:
        raise InrzooError(f"--frames {text!r} selects no frame of the video's {num_frames} frames")
    return frames


def main(argv: Sequence[str]) -> int:
    from inrzoo.compression.bitstream import Bitstream, recorded_video
    from inrzoo.io.files import claim_output
    from inrzoo.io.video_io import write_mp4, write_png_frames
    from inrzoo.runs import FittedRun

    parser = one_line_parser(
        "inrzoo decompress", "Decode a .inrz file (alone) to an mp4 or a folder of PNG frames.", argv
    )
    parser.add_argument("bitstream", help="a .inrz file")
    parser.add_argument("-o", "--output", required=True, help="out.mp4, or a folder (PNG frames)")
    parser.add_argument("--frames", default=None, help="a frame (7) or a range (10:20); default: all")
    parser.add_argument("--batch-size", "--batch_size", type=int, default=8, dest="batch_size")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    args = parser.parse_args(list(argv))
    stream = Bitstream.read(args.bitstream)  # read once: the frame count, then the model
    video = recorded_video(stream, args.bitstream)
    indices = parse_frames(args.frames, int(video["num_frames"]))
    # The file alone; with --frames, latents coded across time are decoded only for those frames.
    run = FittedRun.from_stream(stream, args.bitstream, frames=None if args.frames is None else indices)
    output = Path(args.output)
    as_video = output.suffix.lower() == ".mp4"
    if as_video:
        claim_output(output, args.overwrite)
    elif output.exists() and any(output.iterdir()) and not args.overwrite:
        raise InrzooError(f"{output} is not empty; choose another folder or pass --overwrite")
    start = time.perf_counter()
    chunks = run.iter_decode(indices, args.batch_size)  # written as decoded: memory holds one batch
    if as_video:
        write_mp4(chunks, output, fps=run.fps, overwrite=args.overwrite)
    else:
        for first, frames in zip(range(0, len(indices), args.batch_size), chunks, strict=False):
            write_png_frames(frames, output, indices[first : first + len(frames)], overwrite=args.overwrite)
    fps = len(indices) / max(time.perf_counter() - start, 1e-9)
    print(f"decoded {len(indices)} frames ({video['height']}x{video['width']}) at {fps:.1f} frames/s into {output}")
    return 0
