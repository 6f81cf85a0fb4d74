"""``inrzoo predict`` output: the decoded video as mp4 and every frame as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import BasePredictionWriter

from inrzoo.io.video_io import Mp4Writer, write_png_frames


class VideoPredictionWriter(BasePredictionWriter):
    """Writes ``predict/decoded.mp4`` + ``predict/frames/*.png`` batch by batch, as frames are predicted, so
    memory holds one batch, not the video (the predictions are not also kept: ``trainer.predict`` returns
    None with this writer).

    Args:
        output_dir: where to write; default ``<run folder>/predict``.
        write_png: also write every frame as PNG.
        overwrite: replace existing files instead of refusing.
    """

    def __init__(self, output_dir: str | None = None, write_png: bool = True, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = output_dir
        self.write_png = write_png
        self.overwrite = overwrite
        self.written: list[Path] = []
        self._video: Mp4Writer | None = None
        self._count = 0
        self._size: tuple[int, int] | None = None

    def _out(self, trainer: pl.Trainer) -> Path:
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)
        return Path(self.output_dir) if self.output_dir else run_dir / "predict"

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        trainer.predict_loop.return_predictions = False  # the frames go to files, not to a list in memory
        if not trainer.is_global_zero:
            return
        fps = getattr(trainer.datamodule, "fps", 25.0)
        self._video = Mp4Writer(self._out(trainer) / "decoded.mp4", fps, overwrite=self.overwrite, overwrite_hint=HINT)
        self.written, self._count = [], 0

    def write_on_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        prediction: Any,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        if self._video is None:
            return
        frames, indices = prediction["frames"].cpu(), prediction["index"].tolist()
        self._video.write(frames)
        self._count += len(indices)
        self._size = tuple(frames.shape[-2:])
        if self.write_png:
            out = self._out(trainer) / "frames"
            self.written += write_png_frames(frames, out, indices, overwrite=self.overwrite, overwrite_hint=HINT)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._video is None:
            return
        video, self._video = self._video, None
        self.written.insert(0, video.close())
        print(f"inrzoo predict: wrote {self._count} frames {self._size} to {self._out(trainer)}")

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if self._video is not None:  # no half-written mp4 under the final name
            self._video.abort()
            self._video = None


HINT = "--predict_writer.overwrite=true"
