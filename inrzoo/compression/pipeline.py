"""Compress a fitted run into a file, decode frames from a file, and score what the file gives."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from inrzoo.compression.bitstream import Bitstream
from inrzoo.compression.codec import CompressionSettings, decode_model, encode_model
from inrzoo.errors import InrzooError
from inrzoo.io.files import claim_output


@torch.no_grad()
def decode_frames(model: torch.nn.Module, indices: list[int], batch_size: int = 8) -> Tensor:
    """uint8 (N, 3, H, W) frames ``indices``, decoded in batches (any subset: random access)."""
    chunks = []
    for first in range(0, len(indices), batch_size):
        batch = torch.tensor(indices[first : first + batch_size])
        chunks.append((model.decode_frames(batch).clamp(0, 1) * 255).round().to(torch.uint8).cpu())
    return torch.cat(chunks)


def _source_frames(datamodule_config: dict[str, Any] | None) -> tuple[Tensor | None, float | None, str | None]:
    """The run's ground-truth frames and frame rate, when its source video is still there."""
    if not datamodule_config:
        return None, None, "the checkpoint records no data settings, so quality was not measured"
    from inrzoo.data import VideoDataModule

    settings = {k: v for k, v in datamodule_config.items() if not k.startswith("_")}
    try:
        dm = VideoDataModule(**settings)
        return dm.frames, dm.fps, None
    except InrzooError as err:
        return None, None, f"quality not measured: the source video is not readable ({err})"


def quality_stage(
    model: torch.nn.Module,
    datamodule_config: dict[str, Any] | None,
    settings: CompressionSettings,
    epochs: int,
    stage_dir: Path,
    learning_rate: float | None,
    resume: bool,
    accelerator: str = "auto",
) -> torch.nn.Module:
    """Prune + quantisation-aware fine-tuning as a Lightning fit with its own checkpoints in ``stage_dir``.

    A stopped stage continues from ``stage_dir/checkpoints/last.ckpt`` with ``resume``; without it an
    existing stage is never overwritten.
    """
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import TensorBoardLogger

    from inrzoo.compression.qat import QuantizationAwareTraining
    from inrzoo.data import VideoDataModule

    last = stage_dir / "checkpoints" / "last.ckpt"
    if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
        raise InrzooError(
            f"{stage_dir} already holds a quality stage; pass --resume to continue it, or --stage-dir elsewhere"
        )
    if not datamodule_config:
        raise InrzooError("quantisation-aware fine-tuning needs the run's video, and the checkpoint records no data")
    dm = VideoDataModule(**{k: v for k, v in datamodule_config.items() if not k.startswith("_")})
    model.learning_rate = learning_rate if learning_rate is not None else model.learning_rate * 0.1
    model.lr_schedule = "steps"
    qat = QuantizationAwareTraining(settings.weight_bits, settings.latent_bits, settings.prune)
    trainer = pl.Trainer(
        accelerator=accelerator, max_epochs=epochs, default_root_dir=str(stage_dir),
        logger=TensorBoardLogger(str(stage_dir), name="", version=""),
        callbacks=[qat, ModelCheckpoint(dirpath=str(stage_dir / "checkpoints"), save_last=True)],
        check_val_every_n_epoch=max(1, epochs), enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm, ckpt_path=str(last) if resume and last.is_file() else None)
    return model.eval()


def compress_run(
    run: str | Path,
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
) -> dict[str, Any]:
    """Write ``run``'s model as a .inrz file; report its size and the quality of decoding *that file*.

    With ``qat_epochs`` > 0 the model is first fine-tuned under the file's pruning and quantisation
    (:func:`quality_stage`, checkpoints in ``stage_dir``, default ``RUN/compress_stage``).
    """
    from inrzoo.evaluation import score_frames
    from inrzoo.models.loading import find_checkpoint, load_fitted

    settings = CompressionSettings(weight_bits, latent_bits, prune, keep_alignment)
    if qat_epochs < 0:
        raise InrzooError(f"--qat-epochs must be >= 0, got {qat_epochs}")
    output = claim_output(output, overwrite)  # refuse before any work
    checkpoint = find_checkpoint(run)
    fitted = load_fitted(checkpoint)
    model, model_config = fitted.model, fitted.config
    if not isinstance(model_config.get("backbone"), dict):
        raise InrzooError(
            f"{checkpoint} does not record its model config; compress a checkpoint written by `inrzoo fit`"
        )
    if qat_epochs:
        default_stage = (Path(run) if Path(run).is_dir() else checkpoint.parent.parent) / "compress_stage"
        model = quality_stage(
            model, fitted.data, settings, qat_epochs,
            Path(stage_dir) if stage_dir else default_stage, qat_learning_rate, resume, accelerator,
        )  # fmt: skip
    frames, fps, note = _source_frames(fitted.data)
    height, width = model.frame_size
    num_frames = model.latents.num_frames
    video = {"name": model.video_name, "num_frames": num_frames, "height": height, "width": width, "fps": fps or 25.0}
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
    if frames is None:
        report["note"] = note
        return report
    decoded_model = decode_model(Bitstream.read(output))  # the file alone, as a receiver would
    start = time.perf_counter()
    decoded = decode_frames(decoded_model, list(range(num_frames)))
    report["decode_fps"] = num_frames / max(time.perf_counter() - start, 1e-9)
    scores = score_frames(decoded, frames)
    report.update(psnr=scores["psnr"], ms_ssim=scores.get("ms_ssim"))
    return report
