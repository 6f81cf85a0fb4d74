"""``inrzoo compress`` (checkpoint -> .inrz) and ``inrzoo decompress`` (.inrz -> mp4 / PNG frames)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inrzoo.cli_errors import one_line_parser
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


def compress_main(argv: Sequence[str]) -> int:
    from inrzoo.compression.pipeline import compress_run

    parser = one_line_parser(
        "inrzoo compress", "Write a fitted video as one .inrz file (quantised, entropy-coded).", argv
    )
    parser.add_argument("--config", action="config", help="a YAML file with any of these options (run, output, ...)")
    parser.add_argument("run", help="a run folder or .ckpt written by `inrzoo fit`")
    parser.add_argument("-o", "--output", required=True, help="the .inrz file to write")
    parser.add_argument("--weight-bits", "--weight_bits", type=int, default=8, dest="weight_bits")
    parser.add_argument("--latent-bits", "--latent_bits", type=int, default=6, dest="latent_bits")
    parser.add_argument("--prune", type=float, default=0.0, help="fraction of smallest weights zeroed first")
    parser.add_argument(
        "--drop-alignment", "--drop_alignment", action="store_true", dest="drop_alignment",
        help="leave out the alignment head (smaller; the file then cannot serve retrieval)",
    )  # fmt: skip
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    parser.add_argument(
        "--qat-epochs", "--qat_epochs", type=int, default=0, dest="qat_epochs",
        help="quantisation-aware fine-tuning epochs before writing (0: none)",
    )  # fmt: skip
    parser.add_argument("--qat-lr", "--qat_lr", type=float, default=None, dest="qat_lr",
                        help="its learning rate (default: the model's / 10)")  # fmt: skip
    parser.add_argument("--stage-dir", "--stage_dir", default=None, dest="stage_dir",
                        help="its checkpoints and logs (default: RUN/compress_stage)")  # fmt: skip
    parser.add_argument("--resume", action="store_true", help="continue a stopped fine-tuning stage")
    parser.add_argument("--accelerator", default="auto", help="Lightning accelerator of the fine-tuning stage")
    args = parser.parse_args(list(argv))
    report = compress_run(
        args.run, args.output, weight_bits=args.weight_bits, latent_bits=args.latent_bits, prune=args.prune,
        keep_alignment=not args.drop_alignment, overwrite=args.overwrite, qat_epochs=args.qat_epochs,
        qat_learning_rate=args.qat_lr, stage_dir=args.stage_dir, resume=args.resume, accelerator=args.accelerator,
    )  # fmt: skip
    print(_format_report(report))
    return 0


def _format_report(report: dict[str, Any]) -> str:
    geometry = f"{report['frames']} frames {report['height']}x{report['width']}"
    line = f"wrote {report['path']}: {report['bytes']:,} bytes, {report['bpp']:.4f} bpp ({geometry})"
    if report.get("psnr") is not None:
        line += f"; decoded from the file: PSNR {report['psnr']:.2f} dB"
        if report.get("ms_ssim") is not None:
            line += f", MS-SSIM {report['ms_ssim']:.4f}"
        line += f", {report['decode_fps']:.1f} frames/s"
    else:
        line += f"; {report.get('note', '')}"
    return line


def decompress_main(argv: Sequence[str]) -> int:
    from inrzoo.compression.bitstream import Bitstream
    from inrzoo.compression.codec import decode_model
    from inrzoo.compression.pipeline import decode_frames
    from inrzoo.io.files import claim_output
    from inrzoo.io.video_io import write_mp4, write_png_frames

    parser = one_line_parser(
        "inrzoo decompress", "Decode a .inrz file (alone) to an mp4 or a folder of PNG frames.", argv
    )
    parser.add_argument("bitstream", help="a .inrz file")
    parser.add_argument("-o", "--output", required=True, help="out.mp4, or a folder (PNG frames)")
    parser.add_argument("--frames", default=None, help="a frame (7) or a range (10:20); default: all")
    parser.add_argument("--batch-size", "--batch_size", type=int, default=8, dest="batch_size")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    args = parser.parse_args(list(argv))
    stream = Bitstream.read(args.bitstream)
    video = stream.header["video"]
    indices = parse_frames(args.frames, int(video["num_frames"]))
    output = Path(args.output)
    as_video = output.suffix.lower() == ".mp4"
    if as_video:
        claim_output(output, args.overwrite)
    elif output.exists() and any(output.iterdir()) and not args.overwrite:
        raise InrzooError(f"{output} is not empty; choose another folder or pass --overwrite")
    model = decode_model(stream)
    start = time.perf_counter()
    frames = decode_frames(model, indices, args.batch_size)
    fps = len(indices) / max(time.perf_counter() - start, 1e-9)
    if as_video:
        write_mp4(frames, output, fps=float(video.get("fps") or 25.0), overwrite=args.overwrite)
    else:
        write_png_frames(frames, output, indices, overwrite=args.overwrite)
    print(f"decoded {len(indices)} frames ({video['height']}x{video['width']}) at {fps:.1f} frames/s into {output}")
    return 0


__all__ = ["compress_main", "decompress_main", "parse_frames"]
