"""Quantisation-aware fine-tuning: train with the weights the file will hold.

Forward and backward run on the quantised (and pruned) weights; the optimiser then updates
the full-precision copies (a straight-through estimator), so the model learns to live with
its quantisation. The module's state stays full precision, so checkpoints are ordinary ones
and a stopped stage resumes with Lightning's ``ckpt_path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning.pytorch as pl
import torch
from torch import Tensor

from inrzoo.compression.codec import LATENT_TENSORS, CompressionSettings, _is, _prunable
from inrzoo.compression.quantize import best_quantization, prune_smallest
from inrzoo.errors import InrzooError

if TYPE_CHECKING:
    from inrzoo.data import VideoDataModule
    from inrzoo.models.video_inr import VideoINR


class QuantizationAwareTraining(pl.Callback):
    """Fine-tune a fitted model under the file's quantisation and pruning.

    Args:
        weight_bits: bits per weight (as ``inrzoo compress --weight-bits``).
        latent_bits: bits per latent entry.
        prune: fraction of each weight matrix's smallest entries held at zero.
        quantize_validation: validate with quantised weights, so logged metrics are the file's.
    """

    def __init__(self, weight_bits: int = 8, latent_bits: int = 6, prune: float = 0.0,
                 quantize_validation: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.weight_bits = weight_bits
        self.latent_bits = latent_bits
        self.prune = prune
        self.quantize_validation = quantize_validation
        self._masks: dict[str, Tensor] = {}
        self._full_precision: dict[str, Tensor] = {}

    def _parameters(self, module: pl.LightningModule) -> dict[str, torch.nn.Parameter]:
        return {name: p for name, p in module.named_parameters() if p.numel() >= 2}

    def _bits(self, name: str) -> int:
        return self.latent_bits if _is(name, LATENT_TENSORS) else self.weight_bits

    # -- pruning ------------------------------------------------------------------------------
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        """Masks from the current magnitudes (on resume the pruned entries are the zeros: the same masks)."""
        if not self.prune:
            return
        with torch.no_grad():
            for name, param in self._parameters(pl_module).items():
                if _prunable(name, param):
                    pruned = prune_smallest(param.data, self.prune)
                    self._masks[name] = pruned != 0
                    param.data.copy_(pruned)

    # -- straight-through quantisation ----------------------------------------------------------
    @torch.no_grad()
    def _quantize_in(self, module: pl.LightningModule) -> None:
        self._full_precision = {}
        for name, param in self._parameters(module).items():
            self._full_precision[name] = param.data.clone()
            quantized = best_quantization(param.data, self._bits(name)).dequantize().to(param.device, param.dtype)
            param.data.copy_(quantized)

    @torch.no_grad()
    def _restore(self, module: pl.LightningModule) -> None:
        params = self._parameters(module)
        for name, full in self._full_precision.items():
            params[name].data.copy_(full)
        self._full_precision = {}

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._quantize_in(pl_module)

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        self._restore(pl_module)  # the gradients came from the quantised weights; update the full ones
        params = self._parameters(pl_module)
        for name, mask in self._masks.items():
            if params[name].grad is not None:
                params[name].grad.mul_(mask)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:  # fmt: skip
        if self._full_precision:  # no optimizer step happened (e.g. skipped): put the weights back anyway
            self._restore(pl_module)
        params = self._parameters(pl_module)
        with torch.no_grad():
            for name, mask in self._masks.items():
                params[name].data.mul_(mask)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.quantize_validation:
            self._quantize_in(pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._full_precision:
            self._restore(pl_module)


def quality_stage(
    model: VideoINR,
    datamodule: VideoDataModule | None,
    settings: CompressionSettings,
    epochs: int,
    stage_dir: Path,
    learning_rate: float | None,
    resume: bool,
    accelerator: str = "auto",
) -> VideoINR:
    """Prune + quantisation-aware fine-tuning on ``datamodule``'s frames, as a Lightning fit with its own
    checkpoints in ``stage_dir``.

    A stopped stage continues from ``stage_dir/checkpoints/last.ckpt`` with ``resume``; without it an
    existing stage is never overwritten.
    """
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import TensorBoardLogger

    last = stage_dir / "checkpoints" / "last.ckpt"
    if stage_dir.exists() and any(stage_dir.iterdir()) and not resume:
        raise InrzooError(
            f"{stage_dir} already holds a quality stage; pass --resume to continue it, or --stage-dir elsewhere"
        )
    if datamodule is None:
        raise InrzooError("quantisation-aware fine-tuning needs the run's video, and the checkpoint records no data")
    model.learning_rate = learning_rate if learning_rate is not None else model.learning_rate * 0.1
    model.lr_schedule = "steps"
    qat = QuantizationAwareTraining(settings.weight_bits, settings.latent_bits, settings.prune)
    trainer = pl.Trainer(
        accelerator=accelerator, max_epochs=epochs, default_root_dir=str(stage_dir),
        logger=TensorBoardLogger(str(stage_dir), name="", version=""),
        callbacks=[qat, ModelCheckpoint(dirpath=str(stage_dir / "checkpoints"), save_last=True)],
        check_val_every_n_epoch=max(1, epochs), enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(model, datamodule=datamodule, ckpt_path=str(last) if resume and last.is_file() else None)
    return model.eval()
