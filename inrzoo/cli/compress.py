"""``inrzoo compress``: a fitted run (folder or checkpoint) -> one .inrz file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inrzoo.cli.parsing import one_line_parser


def main(argv: Sequence[str]) -> int:
    from inrzoo.compression.codec import CompressionSettings
    from inrzoo.options import LEARNING_RATE, check_option, integers, option_ranges
    from inrzoo.runs import compress_run

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
    parser.add_argument(
        "--gop", type=int, default=None,
        help="code the latents across time: a key latent every GOP frames, the rest as changes (0: off; "
        "default: the fit's rate.gop, else 0); `inrzoo decompress --frames k` then decodes at most GOP latents",
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
    ranges = {
        **option_ranges(CompressionSettings),
        "gop": option_ranges(CompressionSettings)["gop"].optional(),
        "qat_epochs": integers(0, 100_000),
        "qat_lr": LEARNING_RATE.optional(),
    }
    for key, allowed in ranges.items():  # before the run is opened, and by the flag the user typed
        check_option(f"--{key.replace('_', '-')}", getattr(args, key), allowed)
    report = compress_run(
        args.run, args.output, weight_bits=args.weight_bits, latent_bits=args.latent_bits, prune=args.prune,
        keep_alignment=not args.drop_alignment, overwrite=args.overwrite, qat_epochs=args.qat_epochs,
        qat_learning_rate=args.qat_lr, stage_dir=args.stage_dir, resume=args.resume, accelerator=args.accelerator,
        gop=args.gop,
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
    split = report.get("split")
    if split:
        shares = ", ".join(f"{part} {100 * size / report['bytes']:.0f}%" for part, size in split.items() if size)
        line += f"; {report['bits_per_parameter']:.2f} bits/parameter ({shares})"
    if report.get("rate_estimate_bytes") is not None:
        line += f"; the fit estimated its coded part at {report['rate_estimate_bytes']:,.0f} bytes"
        estimated, written = report.get("rate_gop", 0), report["settings"].get("gop", 0)
        if estimated != written:  # the estimate is for another coding of the latents than the file's
            line += f" with {_latent_coding(estimated)} (this file: {_latent_coding(written)})"
    return line


def _latent_coding(gop: int) -> str:
    return f"latents coded across time (GOP {gop})" if gop else "each latent coded on its own"
