"""At the end of a fit: score the whole video and leave the results in the run folder."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor

from inrzoo.data.frame_store import FrameStore
from inrzoo.errors import warn
from inrzoo.evaluation import ReconstructionResult, evaluate_reconstruction
from inrzoo.io.files import claim_output
from inrzoo.io.video_io import Mp4Writer, write_comparison_png
from inrzoo.options import check_options, integers
from inrzoo.runs.decoding import decode_uint8


class FitReport(pl.Callback):
    """Writes ``reconstruction.mp4``, ``comparison.png`` and ``metrics.json`` into the run
    folder (the logger's folder) and prints PSNR / MS-SSIM / parameters / bpp.

    Args:
        num_comparison_frames: frames shown in ``comparison.png`` (spread over the video).
        write_video: also write the decoded video as mp4.
        ms_ssim: score MS-SSIM too; None (default): only for frames up to 720p (above, on a CPU, one frame's
            MS-SSIM needs ~1.5 GB and seconds; a warning line says it was left out).
    """

    option_ranges = {"num_comparison_frames": integers(1, 64)}

    def __init__(self, num_comparison_frames: int = 4, write_video: bool = True, ms_ssim: bool | None = None) -> None:
        check_options(self, locals())
        super().__init__()
        self.ms_ssim = ms_ssim
        self.num_comparison_frames = num_comparison_frames
        self.write_video = write_video
        self.result: dict | None = None
        self._fit_start = 0.0

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._fit_start = time.perf_counter()

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Every rank asks for the folder (under DDP it is a collective); only rank 0 works and writes.
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)
        datamodule = trainer.datamodule
        if not trainer.is_global_zero or datamodule is None or not hasattr(datamodule, "frames"):
            return
        train_seconds = time.perf_counter() - self._fit_start
        ground_truth = datamodule.frames
        files = not trainer.fast_dev_run  # a smoke run has no run folder of its own: leave no files
        video = _GuardedVideo(run_dir / "reconstruction.mp4", datamodule.fps) if files and self.write_video else None
        # One pass: decode, score and stream into the mp4 a batch at a time (memory: one batch, any length).
        # A rate fit is scored as its file decodes (through the hard quantisation it trained for).
        with _coded(pl_module):
            result, _ = evaluate_reconstruction(pl_module, ground_truth, sink=video.write if video else None,
                                                keep_decoded=False, ms_ssim=self.ms_ssim)  # fmt: skip
        stopped_by_time = _stopped_by_max_time(trainer)
        record = {
            **result.as_dict(),
            "train_seconds": train_seconds,
            # Steps over steps per epoch, not the epoch counter (one step past a whole epoch is not another).
            "epochs": _epochs_trained(trainer),
            "steps": trainer.global_step,
            "stopped_by_max_time": stopped_by_time,
        }
        rate = getattr(pl_module, "rate", None)
        if rate is not None:  # what `inrzoo compress` will write of it (its coded part, without the header)
            estimate = rate.file_bits(pl_module.rate_tensors()) / 8
            record["rate_estimate_bytes"] = estimate
            record["rate_estimate_bpp"] = estimate * 8 / (result.num_frames * result.height * result.width)
            record["rate_gop"] = rate.gop
        self.result = record
        self._print(result, run_dir if files else None)
        if rate is not None:
            coding = f"latents across time, GOP {rate.gop}" if rate.gop else "each latent on its own"
            print(
                f"  rate      {record['rate_estimate_bytes']:,.0f} bytes estimated, "
                f"{record['rate_estimate_bpp']:.4f} bpp ({coding}; `inrzoo compress` writes it)"
            )
        if stopped_by_time:
            print(
                f"  note      trainer.max_time stopped the fit after {record['epochs']} epochs "
                f"({record['steps']} steps), before its planned end: this figure depends on the machine's speed"
            )
        if not files:
            return
        # metrics.json first; then each other file on its own: one that fails is a warning, not the others' loss.
        _attempt(
            "metrics.json",
            lambda: claim_output(run_dir / "metrics.json").write_text(json.dumps(record, indent=2) + "\n"),
        )
        if video is not None:
            _attempt("reconstruction.mp4", video.close)
        with _coded(pl_module):
            _attempt("comparison.png", lambda: self._write_comparison(pl_module, ground_truth, result, run_dir))

    def _write_comparison(
        self, model: pl.LightningModule, ground_truth: FrameStore, result: ReconstructionResult, run_dir: Path
    ) -> None:
        picks = comparison_frames(result.num_frames, self.num_comparison_frames, result.worst_frame)
        labels = [
            f"frame {i}{' (worst)' if i == result.worst_frame else ''}\n{result.frame_psnr[i]:.2f} dB" for i in picks
        ]
        decoded = decode_uint8(model, picks)  # random access: only the frames shown
        truth, shown = _for_display(ground_truth[picks]), _for_display(decoded)
        write_comparison_png(truth, shown, run_dir / "comparison.png", row_labels=labels)

    @staticmethod
    def _print(result: ReconstructionResult, run_dir: Path | None) -> None:
        ms_ssim = f"{result.ms_ssim:.4f}" if result.ms_ssim is not None else "n/a"
        print(
            f"\ninrzoo fit: {result.num_frames} frames {result.height}x{result.width}\n"
            f"  PSNR      {result.psnr:.2f} dB (worst frame {result.psnr_worst:.2f} dB: frame {result.worst_frame};"
            f" 5th percentile {result.psnr_p5:.2f} dB)\n"
            f"  MS-SSIM   {ms_ssim}\n"
            f"  params    {result.params:,}\n"
            f"  bpp       {result.bpp_16bit:.4f} (16-bit weights; {result.bpp_8bit:.4f} at 8-bit)\n"
            f"  decode    {result.decode_fps:.1f} frames/s\n"
            f"  run dir   {run_dir or '(none: fast_dev_run writes no files)'}"
        )


def _coded(model: pl.LightningModule) -> AbstractContextManager[object]:
    """The model with its file's values (:meth:`VideoINR.coded_values`), or as it is when it has none."""
    coded_values = getattr(model, "coded_values", None)
    return coded_values() if coded_values is not None else nullcontext(model)


#: Panels of ``comparison.png`` are at most this wide (a 1080p grid at full size held ~1 GB to draw).
COMPARISON_WIDTH = 960


def _for_display(frames: Tensor) -> Tensor:
    """uint8 (N, 3, H, W) -> float in [0, 1], scaled down (antialiased) to :data:`COMPARISON_WIDTH` if wider."""
    frames = frames.float() / 255
    height, width = frames.shape[-2:]
    if width <= COMPARISON_WIDTH:
        return frames
    size = (max(1, round(height * COMPARISON_WIDTH / width)), COMPARISON_WIDTH)
    return torch.nn.functional.interpolate(frames, size=size, mode="bilinear", antialias=True).clamp(0, 1)


def _attempt(name: str, write: Callable[[], object]) -> None:
    """Run one report writer; a failure is one warning line naming the file, and the others still get written."""
    try:
        write()
    except Exception as err:  # noqa: BLE001 - any writer's failure must not cost the run's other outputs
        warn(f"could not write {name} ({_one_line(err)}); the fit's other outputs are kept")


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[-1] if text else type(err).__name__


class _GuardedVideo:
    """An mp4 writer for the report that never stops the scoring: its first failure is kept and reported by
    :meth:`close` (as :func:`_attempt` shows it), later frames are dropped."""

    def __init__(self, path: Path, fps: float) -> None:
        self.error: BaseException | None = None
        self.writer: Mp4Writer | None = None
        try:
            self.writer = Mp4Writer(path, fps)
        except Exception as err:  # noqa: BLE001 - reported at close
            self.error = err

    def write(self, frames: Tensor) -> None:
        if self.writer is None:
            return
        try:
            self.writer.write(frames)
        except Exception as err:  # noqa: BLE001 - reported at close
            self.error = err
            self.writer.abort()
            self.writer = None

    def close(self) -> None:
        if self.error is not None:
            raise self.error
        if self.writer is not None:
            self.writer.close()


def comparison_frames(num_frames: int, count: int, worst_frame: int) -> list[int]:
    """``count`` frames spread over the video, always including the worst one (sorted, no repeats)."""
    rows = min(count, num_frames)
    spread = {round(i * (num_frames - 1) / max(1, rows - 1)) for i in range(rows)}
    if worst_frame not in spread:
        spread.discard(min(spread, key=lambda i: abs(i - worst_frame)))  # keep ``count`` rows
        spread.add(worst_frame)
    return sorted(spread)


def _epochs_trained(trainer: pl.Trainer) -> float:
    """Optimiser steps as a number of passes over the training frames (2.5: two epochs and half a third)."""
    per_epoch = trainer.num_training_batches
    if not per_epoch or per_epoch == float("inf"):
        return float(trainer.current_epoch)
    return round(trainer.global_step / per_epoch, 4)


def _stopped_by_max_time(trainer: pl.Trainer) -> bool:
    """True when ``trainer.max_time`` ended the fit (its Timer ran out) rather than the step/epoch plan."""
    from lightning.pytorch.callbacks import Timer

    timer = next((cb for cb in trainer.callbacks if isinstance(cb, Timer)), None)
    if timer is None:
        return False
    remaining = timer.time_remaining("train")
    return remaining is not None and remaining <= 0
