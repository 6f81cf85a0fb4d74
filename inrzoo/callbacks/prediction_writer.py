"""``inrzoo predict`` output: the decoded video as mp4 and every frame as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from inrzoo.io.video_io import write_mp4, write_png_frames


class VideoPredictionWriter(BasePredictionWriter):
    """Collects predicted frames and writes ``predict/decoded.mp4`` + ``predict/frames/*.png``.

    Args:
        output_dir: where to write; default ``<run folder>/predict``.
        write_png: also write every frame as PNG.
        overwrite: replace existing files instead of refusing.
    """

    def __init__(self, output_dir: str | None = None, write_png: bool = True, overwrite: bool = False) -> None:
        super().__init__(write_interval="epoch")
        self.output_dir = output_dir
        self.write_png = write_png
        self.overwrite = overwrite
        self.written: list[Path] = []

    def write_on_epoch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        predictions: Sequence[Any],
        batch_indices: Sequence[Any],
    ) -> None:
        if not trainer.is_global_zero:
            return
        batches = predictions[0] if predictions and isinstance(predictions[0], list) else predictions
        indices = torch.cat([b["index"] for b in batches]).tolist()
        frames = torch.cat([b["frames"] for b in batches])
        order = sorted(range(len(indices)), key=indices.__getitem__)
        frames, indices = frames[order], [indices[i] for i in order]
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)
        out = Path(self.output_dir) if self.output_dir else run_dir / "predict"
        fps = getattr(trainer.datamodule, "fps", 25.0)
        hint = "--predict_writer.overwrite=true"
        self.written = [write_mp4(frames, out / "decoded.mp4", fps=fps, overwrite=self.overwrite, overwrite_hint=hint)]
        if self.write_png:
            self.written += write_png_frames(
                frames, out / "frames", indices, overwrite=self.overwrite, overwrite_hint=hint
            )
        print(f"inrzoo predict: wrote {len(indices)} frames {tuple(frames.shape[-2:])} to {out}")
