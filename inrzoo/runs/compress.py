"""A fitted run -> one .inrz file, with the quality of decoding *that file* (``inrzoo compress``)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import Tensor

from inrzoo.compression import CompressionSettings, encode_model
from inrzoo.compression.codec import coded_parameter_count, file_split
from inrzoo.compression.qat import quality_stage
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output
from inrzoo.models.metrics import score_frame_chunks
from inrzoo.runs.decoding import TimedChunks
from inrzoo.runs.fitted import FALLBACK_FPS, FittedRun


def _source_frames(run: FittedRun) -> tuple[Tensor | None, float | None, str | None]:
    """The run's ground-truth frames and frame rate, when its source video is still there."""
    if not run.data:
        return None, None, "the checkpoint records no data settings, so quality was not measured"
    try:
        datamodule = run.datamodule
        return datamodule.frames, datamodule.fps, None
    except InrzooError as err:
        return None, None, f"quality not measured: the source video is not readable ({err})"


def compress_run(
    run: str | Path | FittedRun,
    output: str | Path,
    weight_bits: int = 8,
    latent_bits: int = 6,
    prune: float = 0.0,
    keep_alignment: bool = True,
    overwrite: bool = False,
    qat_epochs: int = 0,
    qat_learning_rate: float | None = None,
    stage_dir: str | Path | None = None,
    resume: bool = False,
    accelerator: str = "auto",
    gop: int | None = None,
) -> dict[str, Any]:
    """Write ``run``'s model as a .inrz file; report its size and the quality of decoding *that file*.

    The run is opened once (one read of its checkpoint, one data module for the fine-tuning and the
    scores). With ``qat_epochs`` > 0 the model is first fine-tuned under the file's pruning and
    quantisation (:func:`~inrzoo.compression.qat.quality_stage`, checkpoints in ``stage_dir``,
    default ``RUN/compress_stage``).
    """
    if qat_epochs < 0:
        raise InrzooError(f"--qat-epochs must be >= 0, got {qat_epochs}")
    if gop is not None:
        CompressionSettings(gop=gop)  # a bad --gop is refused before any work
    output = claim_output(output, overwrite)  # refuse before any work
    fitted = run if isinstance(run, FittedRun) else FittedRun.open(run)
    model, model_config = fitted.model, fitted.config
    settings = CompressionSettings.for_model(
        model, gop, weight_bits=weight_bits, latent_bits=latent_bits, prune=prune, keep_alignment=keep_alignment
    )
    if not isinstance(model_config.get("backbone"), dict):
        raise InrzooError(
            f"{fitted.path} does not record its model config; compress a checkpoint written by `inrzoo fit`"
        )
    if qat_epochs and model.rate is not None:
        raise InrzooError(
            f"{fitted.path} was fitted with a rate term: it already trained through its quantisation and the file "
            "codes its own learned steps; --qat-epochs is for models fitted without one"
        )
    if qat_epochs:
        default_stage = (fitted.run_dir or fitted.path.parent) / "compress_stage"
        model = quality_stage(
            model, fitted.datamodule, settings, qat_epochs,
            Path(stage_dir) if stage_dir else default_stage, qat_learning_rate, resume, accelerator,
        )  # fmt: skip
    frames, fps, note = _source_frames(fitted)
    height, width = model.frame_size
    num_frames = model.latents.num_frames
    video = {"name": model.video_name, "num_frames": num_frames, "height": height, "width": width,
             "fps": fps or FALLBACK_FPS}  # fmt: skip
    stream = encode_model(model, model_config, video, settings)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(fd)
    try:
        size = stream.write(tmp)
        output = claim_output(output, overwrite)  # checked again: it may have appeared meanwhile
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    report: dict[str, Any] = {
        "path": str(output), "bytes": size, "bpp": size * 8 / (num_frames * height * width),
        "frames": num_frames, "height": height, "width": width, "settings": asdict(settings), "qat_epochs": qat_epochs,
    }  # fmt: skip
    shares = None
    if model.rate is not None:  # what the fit estimated the coded part at (the file adds its header and buffers)
        tensors = model.rate_tensors()
        report["rate_estimate_bytes"] = model.rate.file_bits(tensors) / 8
        report["rate_gop"] = model.rate.gop  # how the estimate coded the latents (the file: settings.gop)
        # The one rate stream is shared by what each of its tensors costs in *this* file.
        shares = {name: model.rate.file_bits({name: t}, across_time=bool(settings.gop)) for name, t in tensors.items()}
    report["split"] = file_split(stream, size, shares)
    coded_bytes = report["split"]["latents"] + report["split"]["weights"]
    report["bits_per_parameter"] = coded_bytes * 8 / max(coded_parameter_count(stream), 1)
    if frames is None:
        report["note"] = note
        return report
    received = FittedRun.from_bitstream(output)  # the file alone, as a receiver would
    chunks = TimedChunks(received.iter_decode())
    scores, _ = score_frame_chunks(chunks, frames)  # a batch at a time: any length fits
    report["decode_fps"] = num_frames / max(chunks.seconds, 1e-9)
    report.update(psnr=scores["psnr"], ms_ssim=scores.get("ms_ssim"))
    return report
