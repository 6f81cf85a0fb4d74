"""Run a benchmark matrix: size every combination to each budget, fit each for the same wall clock
(or steps), score it on every frame, and encode the same frames with x264/x265 in the same run."""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl

from inrzoo.baselines import CodecResult, encode_with_ffmpeg, ffmpeg_version, require_ffmpeg
from inrzoo.bench.environment import provenance
from inrzoo.bench.matrix import Combination, plan_matrix, split_patterns
from inrzoo.bench.sizing import (
    SizedModel,
    SizingError,
    can_sample_pixels,
    recipe_model_kwargs,
    size_to_budget,
    training_recipe,
)
from inrzoo.bench.tiers import TIERS, Tier
from inrzoo.callbacks.divergence import DivergenceGuard, TrainingDiverged
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.options import COUNT, LEARNING_RATE, NON_NEGATIVE_COUNT, PIXELS, check_options, integers, numbers

#: Short codec names a user types -> ffmpeg encoders.
CODECS = {"x264": "libx264", "x265": "libx265", "av1": "libsvtav1"}


@dataclass
class BenchOptions:
    """One ``inrzoo bench`` run. Unset fields take the tier's defaults.

    Args:
        backbones: comma-separated names or shell patterns of registered backbones ('siren*,nerv-conv').
        hypernets: comma-separated names or shell patterns of registered hypernetwork heads.
        tier: 'smoke' (CI, seconds per combination) or 'cpu' (Bunny 180x320, ~100k parameters, 35 s each).
        out: folder for bench.json, leaderboard.md and rd.png (default: runs/bench/TIER).
        overwrite: replace the results of an earlier run in ``out``.
        video: a video path or sample:bunny|bikes|carphone.
        resize: (H, W) the frames are resized to.
        max_frames: use only the first N frames.
        budgets: total parameters (latents + head + backbone) every combination is sized to,
            comma-separated ('25000,100000'); several budgets give each combination a rate-distortion curve.
        fit_seconds: wall clock each combination trains for.
        fit_steps: optimiser steps each combination trains for (instead of fit_seconds).
        codecs: comma-separated baselines from x264, x265, av1; 'none' for none.
        seed: seed of every fit.
        accelerator: Lightning accelerator ('cpu', 'gpu', 'auto').
        learning_rate: peak learning rate of every fit (None: each backbone's ``recommended_training``);
            the training-recipe scan in benchmarks/recipe_scan.py sets it.
        batch_size: frames per step of every fit (None: each backbone's ``recommended_training``).
        sampled_pixels: pixels of each frame a training step scores, for the backbones that can render a sample
            of them (the coordinate MLPs; ignored for the others, which render whole frames); 0: whole frames.
            None: each backbone's ``recommended_training``.
        baseline: a bench.json of an earlier run with the same settings: print each combination's PSNR
            change and exit 1 when one falls more than ``tolerance`` dB below it (or is missing).
        tolerance: dB a combination may fall below ``baseline`` (runs with fit_steps are deterministic
            on one machine kind; timed runs are not, so give them a wider tolerance).
    """

    backbones: str = "*"
    hypernets: str = "*"
    tier: Literal["smoke", "ci", "cpu"] = "smoke"
    out: Path | None = None
    overwrite: bool = False
    video: str | None = None
    resize: tuple[int, int] | None = None
    max_frames: int | None = None
    budgets: str | None = None
    fit_seconds: float | None = None
    fit_steps: int | None = None
    codecs: str = "x264,x265"
    seed: int = 0
    accelerator: str = "cpu"
    learning_rate: float | None = None
    batch_size: int | None = None
    sampled_pixels: int | None = None
    baseline: Path | None = None
    tolerance: float = 0.1

    option_ranges = {
        "resize": PIXELS.per_item().optional(),
        "max_frames": COUNT.optional(),
        "fit_seconds": numbers(0, 7 * 86_400, low_open=True).optional(),
        "fit_steps": COUNT.optional(),
        "seed": integers(0, 2**32 - 1),
        "learning_rate": LEARNING_RATE.optional(),
        "batch_size": integers(1, 65_536).optional(),
        "sampled_pixels": NON_NEGATIVE_COUNT.optional(),
        "tolerance": numbers(0, 100),
    }

    def __post_init__(self) -> None:
        check_options(self, vars(self))


@dataclass(frozen=True)
class ResolvedSettings(Tier):
    """The options with the tier's defaults filled in: what the run actually used (stored in the JSON)."""

    codecs: tuple[str, ...] = ()
    learning_rate: float | None = None
    batch_size: int | None = None
    sampled_pixels: int | None = None


def parse_budgets(text: str | int) -> tuple[int, ...]:
    """``"25000,100_000"`` -> ``(25000, 100000)``; anything else is a one-line error."""
    try:
        budgets = tuple(int(part) for part in split_patterns(str(text)))
    except ValueError:
        budgets = ()
    if not budgets or not COUNT.per_item().allows(budgets):
        raise InrzooError(
            f"--budgets: got {str(text)!r}, expected parameter counts separated by commas, each {COUNT.describe()} "
            "(e.g. 25000,100000)"
        )
    return budgets


def tier_note(options: BenchOptions, settings: ResolvedSettings) -> str | None:
    """One line saying which of the tier's caps apply to a ``--video`` the user named, or None: the smoke
    tier's 6 frames at 40x48 would otherwise size and fit a named video quietly on a sliver of it."""
    if options.video is None:
        return None
    caps, flags = [], []
    if options.max_frames is None and settings.max_frames is not None:
        caps.append(f"on its first {settings.max_frames} frames")
        flags.append("--max_frames")
    if options.resize is None and settings.resize is not None:
        caps.append(f"resized to {settings.resize[0]}x{settings.resize[1]}")
        flags.append("--resize")
    if not caps:
        return None
    return (
        f"inrzoo bench: the {options.tier} tier fits --video {options.video} {', '.join(caps)}, and sizes the "
        f"models for those frames (give {' and '.join(flags)} to change that)"
    )


def resolve(options: BenchOptions) -> ResolvedSettings:
    tier = TIERS[options.tier]
    fit_steps = options.fit_steps if options.fit_steps is not None else tier.fit_steps
    fit_seconds = options.fit_seconds if options.fit_seconds is not None else tier.fit_seconds
    if options.fit_steps is not None and options.fit_seconds is None:
        fit_seconds = None  # an explicit step count replaces the tier's time budget
    elif options.fit_seconds is not None and options.fit_steps is None:
        fit_steps = None
    if fit_seconds is None and fit_steps is None:
        raise InrzooError("give --fit_seconds or --fit_steps: each combination needs a training budget")
    budgets = parse_budgets(options.budgets) if options.budgets else tier.budgets
    codecs = tuple(c for c in split_patterns(options.codecs) if c != "none")
    unknown = [c for c in codecs if c not in CODECS]
    if unknown:
        raise InrzooError(f"unknown codec {unknown[0]!r} in --codecs; choose from {', '.join(CODECS)} or 'none'")
    return ResolvedSettings(
        video=options.video or tier.video,
        resize=tuple(options.resize) if options.resize is not None else tier.resize,
        max_frames=options.max_frames if options.max_frames is not None else tier.max_frames,
        budgets=budgets,
        fit_seconds=fit_seconds,
        fit_steps=fit_steps,
        crfs=tier.crfs,
        codecs=codecs,
        learning_rate=options.learning_rate,
        batch_size=options.batch_size,
        sampled_pixels=options.sampled_pixels,
    )


def quiet_lightning() -> None:
    """Many fits' worth of Lightning banners and dataloader hints would bury the results."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    logging.getLogger("lightning.fabric").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")


def fit_combination(
    sized: SizedModel, dm: VideoDataModule, settings: ResolvedSettings, seed: int, accelerator: str
) -> dict[str, Any]:
    """Train one sized combination within the budget, then score it on every frame."""
    training = training_recipe(sized.backbone)
    overrides = {"batch_size": settings.batch_size, "learning_rate": settings.learning_rate}
    if can_sample_pixels(sized.backbone):  # the others render whole frames: the option does not apply to them
        overrides["sampled_pixels"] = settings.sampled_pixels
    training.update({k: v for k, v in overrides.items() if v is not None})
    sampled_pixels = int(training.get("sampled_pixels") or 0) or None
    dm.batch_size = int(training["batch_size"])
    pl.seed_everything(seed, verbose=False)
    timed = settings.fit_seconds is not None and settings.fit_steps is None
    # Under a time budget the warm-up and decay run over the wall clock (VideoINR.lr_schedule="time").
    learning_rate = float(training["learning_rate"])
    model = sized.build(
        dm.num_frames,
        dm.frame_size,
        **{**recipe_model_kwargs(training), "learning_rate": learning_rate, "sampled_pixels": sampled_pixels},
        lr_schedule="time" if timed else "steps",
    )
    # A collapse (hnerv at its lr on a clip like bikes, above 100k) rewinds to the last good weights at half the
    # learning rate, as `inrzoo fit` does with the quickstart's config; a fit that does not collapse is unchanged.
    guard = DivergenceGuard(action="restart")
    with tempfile.TemporaryDirectory(prefix="inrzoo-bench-fit-") as root:  # where a guard that gives up writes
        trainer = pl.Trainer(
            accelerator=accelerator,
            devices=1,
            default_root_dir=root,
            callbacks=[guard],
            max_time={"seconds": settings.fit_seconds} if settings.fit_seconds is not None else None,
            max_steps=settings.fit_steps if settings.fit_steps is not None else -1,
            max_epochs=-1,
            limit_val_batches=0,
            num_sanity_val_steps=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        start = time.perf_counter()
        try:
            trainer.fit(model, datamodule=dm)
        except TrainingDiverged as err:
            raise TrainingDiverged(
                f"training diverged {guard.restarts + 1} times (the last at step {trainer.global_step}), each time "
                f"rewound at half the learning rate; give a lower --learning_rate than {learning_rate:g}"
            ) from err
        train_seconds = time.perf_counter() - start
    result, _ = evaluate_reconstruction(model, dm.frames)
    return {
        "name": f"{sized.backbone}+{sized.hypernet}@{_thousands(sized.budget)}",
        "kind": "inrzoo",
        "backbone": sized.backbone,
        "hypernet": sized.hypernet,
        "budget": sized.budget,
        "params": result.params,
        "bpp": result.bpp_16bit,
        "bpp_16bit": result.bpp_16bit,
        "bpp_8bit": result.bpp_8bit,
        "psnr": result.psnr,
        "psnr_worst": result.psnr_worst,
        "psnr_p5": result.psnr_p5,
        "ms_ssim": result.ms_ssim,
        "train_seconds": train_seconds,
        "steps": trainer.global_step,
        "restarts": guard.restarts,
        "epochs": trainer.global_step * dm.batch_size / dm.num_frames,
        "decode_fps": result.decode_fps,
        "batch_size": dm.batch_size,
        "learning_rate": learning_rate,
        "adam_betas": list(model.adam_betas),
        "warmup_fraction": model.warmup_fraction,
        "lr_decay": model.lr_decay,
        "decay_fraction": model.decay_fraction,
        "gradient_clip_norm": model.gradient_clip_norm,
        "frame_encoder": (
            {
                "channels": model.frame_encoder.channels,
                "handoff": model.frame_encoder.handoff,
                "init": model.frame_encoder.init,
            }
            if model.frame_encoder is not None
            else None
        ),
        "sampled_pixels": sampled_pixels,
        "latent_dim": sized.latent_dim,
        "backbone_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in sized.backbone_kwargs.items()},
        "hypernet_kwargs": sized.hypernet_kwargs,
    }


def codec_record(result: CodecResult) -> dict[str, Any]:
    short = next((k for k, v in CODECS.items() if v == result.codec), result.codec)
    return {
        "name": f"{short} crf {result.crf}",
        "kind": "codec",
        "codec": short,
        "encoder": result.codec,
        "crf": result.crf,
        "preset": result.preset,
        "bytes": result.bytes,
        "bpp": result.bpp,
        "psnr": result.psnr,
        "psnr_worst": result.psnr_worst,
        "psnr_p5": result.psnr_p5,
        "ms_ssim": result.ms_ssim,
        "encode_seconds": result.encode_seconds,
        "decode_fps": result.decode_fps,
    }


def run_bench(options: BenchOptions, on_update: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the matrix; ``on_update(report)`` is called after each result (to save progress)."""
    settings = resolve(options)
    runnable, skipped = plan_matrix(options.backbones, options.hypernets)
    if settings.codecs:
        require_ffmpeg()  # fail now, not after the fits
    quiet_lightning()
    run_start = time.perf_counter()
    dm = VideoDataModule(path=settings.video, resize=settings.resize, max_frames=settings.max_frames)
    frames = dm.frames[:]  # in memory: the codec baselines encode the clip whole (tiers keep it short)
    report: dict[str, Any] = {
        "name": "bench",
        "status": "running",
        "tier": options.tier,
        "video": settings.video,
        "resolution": list(dm.frame_size),
        "frames": int(frames.shape[0]),
        "budgets": list(settings.budgets),
        "fit_seconds": settings.fit_seconds,
        "fit_steps": settings.fit_steps,
        "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "sampled_pixels": settings.sampled_pixels,
        "backbones": options.backbones,
        "hypernets": options.hypernets,
        "seed": options.seed,
        **provenance(options.accelerator),
        "ffmpeg": ffmpeg_version() if settings.codecs else None,
        "results": [],
        "skipped": [{"name": f"{s.backbone}+{s.hypernet}", "reason": s.reason} for s in skipped],
        "failed": [],
    }
    for combo in runnable:
        for budget in settings.budgets:
            _run_combination(combo, budget, dm, settings, options, report)
            if on_update is not None:
                on_update(report)
    if settings.codecs:
        with tempfile.TemporaryDirectory(prefix="inrzoo-codecs-") as workdir:
            for codec in settings.codecs:
                for crf in settings.crfs:
                    result = encode_with_ffmpeg(frames, workdir, CODECS[codec], crf=crf, preset="veryslow", fps=dm.fps)
                    report["results"].append(codec_record(result))
                    print(f"{codec} crf {crf}: {result.bpp:.4f} bpp, {result.psnr:.2f} dB", flush=True)
    report["run_seconds"] = time.perf_counter() - run_start
    report["status"] = "complete"
    return report


def _thousands(budget: int) -> str:
    return f"{budget / 1000:g}k"


def _run_combination(
    combo: Combination,
    budget: int,
    dm: VideoDataModule,
    settings: ResolvedSettings,
    options: BenchOptions,
    report: dict[str, Any],
) -> None:
    """Fit one combination; a combination that cannot be sized is skipped, one that crashes is recorded."""
    try:
        sized = size_to_budget(combo.backbone, budget, dm.num_frames, dm.frame_size, hypernet=combo.hypernet)
    except SizingError as err:
        name = f"{combo.name}@{_thousands(budget)}"
        report["skipped"].append({"name": name, "reason": str(err)})
        print(f"{name}: skipped ({err})", flush=True)
        return
    try:
        record = fit_combination(sized, dm, settings, options.seed, options.accelerator)
    except (InrzooError, RuntimeError, ValueError, TypeError) as err:
        # One broken plugin must not cost the rest of the matrix; the run still fails at the end.
        name = f"{combo.name}@{_thousands(budget)}"
        report["failed"].append({"name": name, "error": f"{type(err).__name__}: {err}"})
        print(f"{name}: FAILED ({type(err).__name__}: {err})", flush=True)
        return
    report["results"].append(record)
    print(
        f"{record['name']}: {record['params']:,} params, {record['psnr']:.2f} dB "
        f"(worst frame {record['psnr_worst']:.2f}, 5th percentile {record['psnr_p5']:.2f}), "
        f"{record['steps']} steps in {record['train_seconds']:.0f} s"
        + (f", rewound {record['restarts']}x after a collapse" if record["restarts"] else ""),
        flush=True,
    )


__all__ = ["BenchOptions", "run_bench"]
