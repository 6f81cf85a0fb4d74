"""A run's checkpoint callback: saved every few epochs, and always holding the fit's final state."""

from __future__ import annotations

import os
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint


class RunCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` whose ``last.ckpt`` is the fit's final state whenever the fit ends.

    A checkpoint of a fit with a frame encoder must decode from its latent dictionary alone, so every save
    runs the encoder over the whole video: saving every epoch cost the quickstart about a tenth of its
    training time on a 2-core CPU. Saving every ``every_n_epochs`` instead would leave ``last.ckpt`` (what
    ``compress``, ``view`` and ``--resume`` read) up to N-1 epochs behind the printed result whenever the
    fit ends between two saves (an epoch count that is not a multiple of N, a ``max_time`` stop), and
    Lightning's own end-of-training save only happens when ``last.ckpt`` was never written. This one saves
    it once more at the end when the newest save is older than the final step.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._newest_saved_step: int | None = None

    def on_save_checkpoint(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # Called for every checkpoint the trainer writes, this callback's own saves among them.
        self._newest_saved_step = checkpoint.get("global_step", trainer.global_step)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._is_final_epoch(trainer):  # saved as an ordinary end-of-epoch checkpoint, resumable as one
            self._save_last_if_stale(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # In place of Lightning's own end-of-training save (made only when last.ckpt was never written, and then
        # again after this class's final save): a fit that ended some other way still gets its final state.
        self._save_last_if_stale(trainer)

    @staticmethod
    def _is_final_epoch(trainer: pl.Trainer) -> bool:
        """True in the last epoch's end: its count reached, a step limit reached, or a stop asked (max_time)."""
        last_epoch = trainer.max_epochs not in (None, -1) and trainer.current_epoch + 1 >= trainer.max_epochs
        last_step = trainer.max_steps not in (None, -1) and trainer.global_step >= trainer.max_steps
        return bool(trainer.should_stop or last_epoch or last_step)

    def _save_last_if_stale(self, trainer: pl.Trainer) -> None:
        if not self.save_last or trainer.fast_dev_run or self.dirpath is None:
            return
        if self._newest_saved_step == trainer.global_step:
            return
        path = os.path.join(self.dirpath, f"{self.CHECKPOINT_NAME_LAST}{self.FILE_EXTENSION}")
        trainer.save_checkpoint(path)
        self.last_model_path = path
