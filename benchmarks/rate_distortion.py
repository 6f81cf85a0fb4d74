"""Rate-distortion of real .inrz files against x264 / x265 / AV1 on the same frames, in one run.

Fits one backbone + head of the bench's size families (default hnerv + FiLM, the cpu tier's best) at
several parameter budgets for the same wall clock each, writes every fit as .inrz files at several bit depths (``inrzoo
compress``: bpp = file bytes x 8 / (T x H x W), PSNR of decoding that file alone), encodes the
same frames with x264/x265 (-preset veryslow) and SVT-AV1 over a CRF sweep, and reports the
Bjontegaard delta rate (PSNR) of each inrzoo curve against x264 and x265, plus decode frames/s of
inrzoo and of ffmpeg (torchcodec) at similar PSNR. Writes JSON and an RD plot.

    .venv/bin/python benchmarks/rate_distortion.py --out benchmarks/results/rate_distortion_cpu.json
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import yaml

from inrzoo.backbones import BACKBONES
from inrzoo.baselines import encode_with_ffmpeg, ffmpeg_version
from inrzoo.bench.environment import provenance
from inrzoo.bench.sizing import recipe_model_kwargs, size_to_budget, training_recipe
from inrzoo.cli import main as inrzoo_main
from inrzoo.data import VideoDataModule
from inrzoo.hypernets import HYPERNETS
from inrzoo.io.files import claim_output
from inrzoo.runs import compress_run

REPO = Path(__file__).resolve().parent.parent
VIDEO, RESIZE = "sample:bunny", (180, 320)
BUDGETS = (100_000, 200_000, 400_000)
BIT_DEPTHS = ((5, 5), (6, 6), (8, 6))  # (weight bits, latent bits)
CODECS = {"x264": ("libx264", "veryslow"), "x265": ("libx265", "veryslow"), "av1": ("libsvtav1", "4")}
CRFS = {"x264": (26, 30, 34, 38, 42, 46, 51), "x265": (26, 30, 34, 38, 42, 46, 51), "av1": (35, 42, 49, 56, 63)}


def sized_config(
    backbone: str,
    hypernet: str,
    budget: int,
    num_frames: int,
    lmbda: float | None = None,
    resize: tuple[int, int] = RESIZE,
    rate_gop: int = 0,
) -> dict[str, Any]:
    """The override of the quickstart config that makes it the bench's ``backbone`` + ``hypernet`` member
    at ``budget`` with that backbone's recommended recipe, its schedule following the wall clock; with
    ``lmbda``, fitted under the rate term (distortion + lmbda x estimated bpp, issue 15), its latents
    estimated as coded across time when ``rate_gop`` > 0."""
    sized = size_to_budget(backbone, budget, num_frames, resize, hypernet=hypernet)
    backbone_cls, head_cls = BACKBONES.get(backbone), HYPERNETS.get(hypernet)
    training = training_recipe(backbone)
    encoder = backbone_cls.recommended_frame_encoder
    head_args: dict[str, Any] = dict(sized.hypernet_kwargs)
    if "layers" in inspect.signature(head_cls).parameters:
        # the layers the sizing counted: the backbone's recommended ones, else every layer (not the quickstart's)
        head_args.setdefault("layers", None)
    return {
        "model": {
            "class_path": "inrzoo.models.VideoINR",
            "init_args": {
                "latent_dim": sized.latent_dim,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in recipe_model_kwargs(training).items()},
                "learning_rate": float(training["learning_rate"]),
                "lr_schedule": "time",
                "backbone": {
                    "class_path": f"{backbone_cls.__module__}.{backbone_cls.__qualname__}",
                    "init_args": {k: list(v) if isinstance(v, tuple) else v for k, v in sized.backbone_kwargs.items()},
                },
                "hypernet": {"class_path": f"{head_cls.__module__}.{head_cls.__qualname__}", "init_args": head_args},
                "frame_encoder": (
                    {"class_path": "inrzoo.models.FrameEncoder", "init_args": dict(encoder)} if encoder else None
                ),
                "rate": None
                if lmbda is None
                else {"class_path": "inrzoo.models.RateTerm", "init_args": {"lmbda": lmbda, "gop": rate_gop}},
                # a coordinate MLP's recommended pixel sample (a rate term decodes whole frames, so not with one)
                "sampled_pixels": training.get("sampled_pixels") if lmbda is None else None,
            },
        },
        "data": {"init_args": {"batch_size": int(training["batch_size"])}},
    }


def fit(
    backbone: str,
    hypernet: str,
    budget: int,
    seconds: float,
    root: Path,
    num_frames: int,
    lmbda: float | None = None,
    video: str = VIDEO,
    resize: tuple[int, int] = RESIZE,
    rate_gop: int = 0,
) -> Path:
    name = f"rd_{budget // 1000}k" + ("" if lmbda is None else f"_lmbda{lmbda:g}")
    override = root / f"{name}.yaml"
    override.parent.mkdir(parents=True, exist_ok=True)
    config = sized_config(backbone, hypernet, budget, num_frames, lmbda, resize, rate_gop)
    config["data"]["init_args"].update(path=video, resize=list(resize))
    override.write_text(yaml.safe_dump(config, sort_keys=False))
    args = [
        "fit",
        "--config",
        str(REPO / "configs" / "quickstart.yaml"),
        "--config",
        str(override),
        f"--trainer.max_time=00:00:{int(seconds) // 60:02d}:{int(seconds) % 60:02d}",
        "--trainer.max_epochs=100000",
        "--trainer.check_val_every_n_epoch=100000",
        "--trainer.enable_progress_bar=false",
        f"--trainer.logger.init_args.save_dir={root}",
        f"--trainer.logger.init_args.name={name}",
    ]
    if inrzoo_main(args) != 0:
        raise RuntimeError(f"fit {name} failed")
    return root / name / "version_0"


def frontier(points: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """The (bpp, PSNR) points no cheaper point beats: an RD curve must rise with the rate."""
    kept: list[tuple[float, float]] = []
    for bpp, psnr in sorted((r["bpp"], r["psnr"]) for r in points):
        if not kept or psnr > kept[-1][1]:
            kept.append((bpp, psnr))
    return kept


#: A curve's points further than this below (or above) the other curve's PSNR range do not shape the
#: interpolation: a fit the rate term collapsed (carphone at lmbda 0.3: 11.5 dB against x264's lowest 20.9)
#: would otherwise bend the curve over the whole overlap (+11.5% BD-rate with it, +45.7% without).
SHAPE_MARGIN_DB = 3.0


def _near(curve: list[tuple[float, float]], other: list[tuple[float, float]]) -> list[tuple[float, float]]:
    low, high = other[0][1] - SHAPE_MARGIN_DB, other[-1][1] + SHAPE_MARGIN_DB
    return [p for p in curve if low <= p[1] <= high]


def bd_rate(anchor: list[dict[str, Any]], test: list[dict[str, Any]]) -> float | None:
    """Bjontegaard delta rate (%) of ``test`` against ``anchor`` in PSNR, over the PSNR range both cover
    (each curve reduced to its frontier, without points :data:`SHAPE_MARGIN_DB` outside the other's range);
    None where they do not overlap or a curve has < 2 points."""
    import math

    import bjontegaard

    a, t = frontier(anchor), frontier(test)
    if a and t:
        a, t = _near(a, t), _near(t, a)
    if len(a) < 2 or len(t) < 2 or min(a[-1][1], t[-1][1]) <= max(a[0][1], t[0][1]):
        return None
    try:
        value = float(
            bjontegaard.bd_rate(
                [p[0] for p in a],
                [p[1] for p in a],
                [p[0] for p in t],
                [p[1] for p in t],
                method="pchip",
                require_matching_points=False,
                min_overlap=0.0,
            )
        )
    except Exception as err:
        print(f"BD-rate not computable: {err}", file=sys.stderr)
        return None
    return value if math.isfinite(value) else None


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    for codec in CODECS:
        pts = sorted((r["bpp"], r["psnr"]) for r in report["codecs"] if r["codec"] == codec)
        if pts:
            ax.plot(*zip(*pts, strict=True), "-o", markersize=3, label=f"{codec}")
    for bits in BIT_DEPTHS:
        pts = sorted((r["bpp"], r["psnr"]) for r in report["inrzoo"] if (r["weight_bits"], r["latent_bits"]) == bits)
        if pts:
            ax.plot(*zip(*pts, strict=True), "--s", label=f"inrzoo .inrz w{bits[0]}/l{bits[1]}")
    pts = sorted((r["bpp"], r["psnr"]) for r in report.get("rate", []))
    if pts:
        ax.plot(*zip(*pts, strict=True), "-D", label="inrzoo .inrz, fitted under the rate term")
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (file bytes x 8 / pixels)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(
        f"{report['video']} {report['resolution'][0]}x{report['resolution'][1]}, {report['frames']} frames: real files"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "rate_distortion_cpu.json")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--fit-seconds", type=float, default=120.0)
    parser.add_argument("--backbone", default="hnerv", help="a backbone with a size family (inrzoo list backbones)")
    parser.add_argument("--hypernet", default="film")
    parser.add_argument("--budgets", default=",".join(str(b) for b in BUDGETS), help="comma-separated; '' for none")
    parser.add_argument(
        "--lambdas", default="", help="comma-separated rate weights: fits under the rate term at --rate-budget"
    )
    parser.add_argument("--rate-budget", type=int, default=400_000)
    parser.add_argument("--video", default=VIDEO, help="any video inrzoo reads (sample:bikes, sample:carphone, a file)")
    parser.add_argument("--resize", default=f"{RESIZE[0]}x{RESIZE[1]}", help="HxW the clip is fitted and coded at")
    parser.add_argument(
        "--gop",
        type=int,
        default=0,
        help="also compress each fit with latents coded across time (inrzoo compress --gop)",
    )
    parser.add_argument(
        "--rate-gop", type=int, default=None,
        help="rate.gop of the --lambdas fits: their latents' bits estimated as coded across time (default: --gop)",
    )  # fmt: skip
    parser.add_argument("--summarize", type=Path, default=None, help="recompute BD-rates of an existing result")
    args = parser.parse_args(argv)
    if args.summarize is not None:
        report = json.loads(args.summarize.read_text())
        summarize(report)
        args.summarize.write_text(json.dumps(report, indent=2) + "\n")
        print(json.dumps(report["bd_rate_percent"], indent=1))
        return 0
    out = claim_output(args.out, args.overwrite)
    plot_path = claim_output(out.with_suffix(".png"), args.overwrite)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    resize = tuple(int(v) for v in args.resize.lower().split("x"))
    rate_gop = args.gop if args.rate_gop is None else args.rate_gop
    dm = VideoDataModule(path=args.video, resize=resize)
    frames = dm.frames[:]  # in memory: the codecs encode the clip whole
    work = Path(tempfile.mkdtemp(prefix="inrzoo-rd-"))
    report: dict[str, Any] = {
        "name": "rate_distortion",
        "tier": "cpu",
        "video": args.video,
        "resolution": list(resize),
        "gop": args.gop,
        "rate_gop": rate_gop,
        "frames": int(frames.shape[0]),
        "fit_seconds": args.fit_seconds,
        "backbone": args.backbone,
        "hypernet": args.hypernet,
        "inrzoo": [],
        "codecs": [],
    }
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    lambdas = [float(v) for v in args.lambdas.split(",") if v.strip()]
    report["rate"] = []
    for lmbda in lambdas:
        run_dir = fit(
            args.backbone, args.hypernet, args.rate_budget, args.fit_seconds, work / "runs", dm.num_frames, lmbda,
            args.video, resize, rate_gop,
        )  # fmt: skip
        result = compress_run(run_dir, work / f"rate_{lmbda:g}.inrz", gop=args.gop)
        record = {
            "gop": args.gop,
            "split": result["split"],
            "bits_per_parameter": result["bits_per_parameter"],
            "budget": args.rate_budget,
            "lmbda": lmbda,
            "bytes": result["bytes"],
            "estimate_bytes": result.get("rate_estimate_bytes"),
            "bpp": result["bpp"],
            "psnr": result["psnr"],
            "ms_ssim": result["ms_ssim"],
            "decode_fps": result["decode_fps"],
        }
        report["rate"].append(record)
        print(f"inrzoo rate lmbda {lmbda:g}: {result['bpp']:.4f} bpp, {result['psnr']:.2f} dB", flush=True)
    for budget in budgets:
        run_dir = fit(
            args.backbone,
            args.hypernet,
            budget,
            args.fit_seconds,
            work / "runs",
            dm.num_frames,
            None,
            args.video,
            resize,
        )
        for weight_bits, latent_bits in BIT_DEPTHS:
            result = compress_run(
                run_dir,
                work / f"{budget}_{weight_bits}_{latent_bits}.inrz",
                weight_bits=weight_bits,
                latent_bits=latent_bits,
                gop=args.gop,
            )
            record = {
                "gop": args.gop,
                "split": result["split"],
                "bits_per_parameter": result["bits_per_parameter"],
                "budget": budget,
                "weight_bits": weight_bits,
                "latent_bits": latent_bits,
                "bytes": result["bytes"],
                "bpp": result["bpp"],
                "psnr": result["psnr"],
                "ms_ssim": result["ms_ssim"],
                "decode_fps": result["decode_fps"],
            }
            report["inrzoo"].append(record)
            print(
                f"inrzoo {budget // 1000}k w{weight_bits}/l{latent_bits}: {result['bpp']:.4f} bpp, "
                f"{result['psnr']:.2f} dB, decode {result['decode_fps']:.0f} fps",
                flush=True,
            )
    for codec, (encoder, preset) in CODECS.items():
        for crf in CRFS[codec]:
            try:
                result = encode_with_ffmpeg(frames, work / "codecs", encoder, crf=crf, preset=preset, fps=dm.fps)
            except Exception as err:  # e.g. an ffmpeg build without this encoder
                print(f"{codec} crf {crf}: skipped ({err})", file=sys.stderr)
                break
            report["codecs"].append(
                {
                    "codec": codec,
                    "crf": crf,
                    "preset": preset,
                    "bytes": result.bytes,
                    "bpp": result.bpp,
                    "psnr": result.psnr,
                    "ms_ssim": result.ms_ssim,
                    "decode_fps": result.decode_fps,
                }
            )
            print(f"{codec} crf {crf}: {result.bpp:.4f} bpp, {result.psnr:.2f} dB", flush=True)
    summarize(report)
    report.update(provenance(), ffmpeg=ffmpeg_version(), run_seconds=time.perf_counter() - start)
    out.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, plot_path)
    print(json.dumps({"bd_rate_percent": report["bd_rate_percent"], "decode_speed": report["decode_speed"]}, indent=1))
    print(f"wrote {out} and {plot_path}")
    return 0


def summarize(report: dict[str, Any]) -> None:
    """BD-rates of every inrzoo curve (each bit depth, and all files together) and decode speeds."""
    report["bd_rate_percent"] = {}
    curves = {
        f"w{b[0]}l{b[1]}": [r for r in report["inrzoo"] if (r["weight_bits"], r["latent_bits"]) == b]
        for b in BIT_DEPTHS
    }
    curves["all files"] = report["inrzoo"]
    if report.get("rate"):
        curves["rate term"] = report["rate"]
    for label, curve in curves.items():
        for codec in CODECS:
            anchor = [r for r in report["codecs"] if r["codec"] == codec]
            if anchor:
                report["bd_rate_percent"][f"{label} vs {codec}"] = bd_rate(anchor, curve)
    best = max(report["inrzoo"] + report.get("rate", []), key=lambda r: r["psnr"])
    report["decode_speed"] = {"inrzoo": {"psnr": best["psnr"], "decode_fps": best["decode_fps"]}}
    for codec in CODECS:
        points = [r for r in report["codecs"] if r["codec"] == codec]
        if points:
            near = min(points, key=lambda r: abs(r["psnr"] - best["psnr"]))
            report["decode_speed"][codec] = {"psnr": near["psnr"], "crf": near["crf"], "decode_fps": near["decode_fps"]}


if __name__ == "__main__":
    sys.exit(main())
