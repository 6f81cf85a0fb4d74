"""``inrzoo interpolate|upscale|eval-interpolation|eval-sr``: the task heads from the command line."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inrzoo.cli_errors import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output
from inrzoo.tasks.runs import FittedVideo, load_fitted_video, source_frames, to_uint8


def _task(name: str, family: type, option: str) -> Any:
    from inrzoo.tasks.registry import TASKS

    head = TASKS.create(name)
    if not isinstance(head, family):
        known = [n for n in TASKS.names() if isinstance(TASKS.get(n), type) and issubclass(TASKS.get(n), family)]
        raise InrzooError(f"{option} {name!r} is not a {family.task} head; choose from {', '.join(known)}")
    return head


# -- interpolation ----------------------------------------------------------------------------------
def interpolated_frames(video: FittedVideo, interpolator: Any, times: Tensor, batch_size: int = 8) -> Tensor:
    from inrzoo.tasks.interpolation import fit_interpolator

    model = video.model
    fit_interpolator(interpolator, model)
    chunks = []
    with torch.no_grad():
        for first in range(0, len(times), batch_size):
            latents = interpolator.latents_at(model, times[first : first + batch_size])
            chunks.append(to_uint8(model.decode_latents(latents)))
    return torch.cat(chunks)


def interpolate_main(argv: Sequence[str]) -> int:
    from inrzoo.io.video_io import write_mp4
    from inrzoo.tasks.interpolation import LatentInterpolator

    parser = one_line_parser(
        "inrzoo interpolate", "Write the video at a multiple of its frame rate from new latents.", argv
    )
    parser.add_argument("run", help="a run folder, .ckpt or .inrz")
    parser.add_argument("--factor", type=int, required=True, help="frame-rate multiple (2, 4, ...)")
    parser.add_argument("-o", "--output", required=True, help="the .mp4 to write")
    parser.add_argument(
        "--interpolator", default=None,
        help="linear, slerp, temporal-mlp or a plugin's (default: the model's configured one, else linear)",
    )  # fmt: skip
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv))
    if args.factor < 2:
        raise InrzooError(f"--factor must be an integer >= 2 (e.g. 2 or 4), got {args.factor}")
    interpolator = _task(args.interpolator, LatentInterpolator, "--interpolator") if args.interpolator else None
    output = claim_output(args.output, args.overwrite)
    video = load_fitted_video(args.run)
    if interpolator is None:
        interpolator = video.model.interpolator or _task("linear", LatentInterpolator, "--interpolator")
    count = (video.model.latents.num_frames - 1) * args.factor + 1
    times = torch.arange(count, dtype=torch.float32) / args.factor
    frames = interpolated_frames(video, interpolator, times)
    write_mp4(frames, output, fps=video.fps * args.factor, overwrite=args.overwrite)
    print(f"wrote {output}: {count} frames at {video.fps * args.factor:g} fps ({type(interpolator).__name__})")
    return 0


# -- super-resolution ---------------------------------------------------------------------------------
def upscaled_size(frame_size: tuple[int, int], scale: float) -> tuple[int, int]:
    if not (scale > 0 and math.isfinite(scale)):
        raise InrzooError(f"--scale must be a positive number (e.g. 2, 4 or 1.5), got {scale}")
    return max(1, round(frame_size[0] * scale)), max(1, round(frame_size[1] * scale))


def sr_head(video: FittedVideo, name: str) -> Any:
    from inrzoo.compat import check_compatible
    from inrzoo.tasks.super_resolution import SuperResolutionHead, default_sr_head

    head = default_sr_head(video.model) if name == "auto" else _task(name, SuperResolutionHead, "--head")
    check_compatible(video.model.backbone, head)
    return head


def upscaled_frames(video: FittedVideo, head: Any, size: tuple[int, int], batch_size: int = 4) -> Tensor:
    indices = torch.arange(video.model.latents.num_frames)
    return torch.cat([to_uint8(head.render(video.model, chunk, size)) for chunk in indices.split(batch_size)])


def upscale_main(argv: Sequence[str]) -> int:
    from inrzoo.io.video_io import write_mp4

    parser = one_line_parser(
        "inrzoo upscale", "Write the video at a higher resolution (a finer coordinate grid).", argv
    )
    parser.add_argument("run", help="a run folder, .ckpt or .inrz")
    parser.add_argument("--scale", type=float, required=True, help="2, 4, or any factor for coordinate backbones")
    parser.add_argument("-o", "--output", required=True, help="the .mp4 to write")
    parser.add_argument("--head", default="auto", help="auto, coordinate-grid, bicubic-upsample or a plugin's")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv))
    output = claim_output(args.output, args.overwrite)
    video = load_fitted_video(args.run)
    size = upscaled_size(video.model.frame_size, args.scale)
    frames = upscaled_frames(video, sr_head(video, args.head), size)
    write_mp4(frames, output, fps=video.fps, overwrite=args.overwrite)
    print(f"wrote {output}: {frames.shape[0]} frames at {size[0]}x{size[1]}")
    return 0


# -- evaluation ---------------------------------------------------------------------------------------
def _claim_report(out: Path, overwrite: bool) -> dict[str, Path]:
    return {name: claim_output(out / name, overwrite) for name in ("results.json", "comparison.png")}


def _score(decoded: Tensor, truth: Tensor) -> dict[str, float]:
    from inrzoo.evaluation import score_frames

    return score_frames(decoded, truth)


def eval_interpolation_main(argv: Sequence[str]) -> int:
    from inrzoo.io.video_io import write_side_by_side_png
    from inrzoo.tasks.baselines import minterpolate, neighbour_average
    from inrzoo.tasks.interpolation import LatentInterpolator

    parser = one_line_parser(
        "inrzoo eval-interpolation",
        "Score the held-out frames of a run fitted with data.train_every=2: interpolators vs neighbour "
        "averaging and ffmpeg minterpolate, on the same frames.",
        argv,
    )
    parser.add_argument("run", help="a run folder or .ckpt fitted with data.init_args.train_every=2")
    parser.add_argument("--out", required=True, help="folder for results.json and comparison.png")
    parser.add_argument("--interpolators", default="linear,slerp,temporal-mlp")
    parser.add_argument("--no-minterpolate", "--no_minterpolate", action="store_true", dest="no_minterpolate")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv))
    names = [n.strip() for n in args.interpolators.split(",") if n.strip()]
    heads = {n: _task(n, LatentInterpolator, "--interpolators") for n in names}
    paths = _claim_report(Path(args.out), args.overwrite)
    video = load_fitted_video(args.run)
    trained = video.model.latents.trained.cpu()
    known = torch.nonzero(trained).flatten()
    held_out = [t for t in torch.nonzero(~trained).flatten().tolist() if known[0] < t < known[-1]]
    if not held_out:
        raise InrzooError(
            f"{args.run} was fitted on every frame, so no frame is held out; fit it with "
            "--data.init_args.train_every=2 for this protocol"
        )
    truth = source_frames(video, "eval-interpolation")
    target = truth[held_out]
    times = torch.tensor(held_out, dtype=torch.float32)
    results: dict[str, Any] = {}
    decoded: dict[str, Tensor] = {}
    for name, head in heads.items():
        start = time.perf_counter()
        decoded[name] = interpolated_frames(video, head, times)
        results[name] = {**_score(decoded[name], target), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    averaged = neighbour_average(truth, known.tolist(), held_out)
    results["neighbour-average"] = {**_score(averaged, target), "seconds": time.perf_counter() - start}
    if not args.no_minterpolate:
        start = time.perf_counter()
        motion = minterpolate(truth, known.tolist(), held_out, video.fps)
        results["ffmpeg-minterpolate"] = {**_score(motion, target), "seconds": time.perf_counter() - start}
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


def eval_sr_main(argv: Sequence[str]) -> int:
    from inrzoo.io.video_io import write_side_by_side_png
    from inrzoo.tasks.baselines import upscale_bicubic, upscale_lanczos

    parser = one_line_parser(
        "inrzoo eval-sr",
        "Score a run fitted on a downscaled copy (data.resize) against the real frames at --scale times that "
        "size: the INR decoded on the finer grid vs bicubic and lanczos upscaling of the frames it saw.",
        argv,
    )
    parser.add_argument("run", help="a run folder or .ckpt fitted with data.init_args.resize")
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--head", default="auto")
    parser.add_argument("--out", required=True, help="folder for results.json and comparison.png")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(list(argv))
    paths = _claim_report(Path(args.out), args.overwrite)
    video = load_fitted_video(args.run)
    if video.data_config is None or not video.data_config.get("resize") or video.data_config.get("center_crop"):
        raise InrzooError(
            "eval-sr needs a run fitted on a downscaled copy (data.init_args.resize, no centre crop) so that real "
            "higher-resolution frames exist"
        )
    low = source_frames(video, "eval-sr")
    size = upscaled_size(tuple(video.data_config["resize"]), args.scale)
    from inrzoo.data import VideoDataModule

    native = VideoDataModule(**{**video.data_config, "resize": None})
    if size[0] > native.frame_size[0] or size[1] > native.frame_size[1]:
        raise InrzooError(
            f"the source is {native.frame_size[0]}x{native.frame_size[1]}; there are no real {size[0]}x{size[1]} "
            "frames to compare with: use a smaller --scale or fit on a smaller resize"
        )
    truth = source_frames(video, "eval-sr", resize=list(size))
    head = sr_head(video, args.head)
    results: dict[str, Any] = {}
    start = time.perf_counter()
    ours = upscaled_frames(video, head, size)
    results[f"inrzoo ({type(head).__name__})"] = {**_score(ours, truth), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    bicubic = upscale_bicubic(low, size)
    results["bicubic"] = {**_score(bicubic, truth), "seconds": time.perf_counter() - start}
    start = time.perf_counter()
    results["lanczos"] = {**_score(upscale_lanczos(low, size), truth), "seconds": time.perf_counter() - start}
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
