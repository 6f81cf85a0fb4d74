"""Divergence handling: a NaN/Inf loss or a PSNR collapse stops the run with the last good weights
(or rewinds to them with a lower learning rate), instead of logging NaNs to the end."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
import torch

from inrzoo.errors import InrzooError


class TrainingDiverged(InrzooError):
    """The loss became NaN/Inf or the PSNR collapsed (the message names the step and the fix)."""


class DivergenceGuard(pl.Callback):
    """Watch every training step; on divergence stop with the last good weights, or rewind.

    Args:
        psnr_drop_db: a collapse is the training PSNR falling this far below its best so far.
        check_every: steps between snapshots of the (healthy) weights and optimiser state.
        action: ``stop`` (write ``last_good.ckpt`` and end with a clear error) or ``restart``
            (rewind to the snapshot with the learning rate scaled by ``lr_factor``).
        lr_factor: learning-rate multiplier of each restart.
        max_restarts: restarts before giving up as ``stop`` does.
    """

    def __init__(
        self,
        psnr_drop_db: float = 10.0,
        check_every: int = 10,
        action: Literal["stop", "restart"] = "stop",
        lr_factor: float = 0.5,
        max_restarts: int = 2,
    ) -> None:
        super().__init__()
        self.psnr_drop_db = psnr_drop_db
        self.check_every = max(1, check_every)
        self.action = action
        self.lr_factor = lr_factor
        self.max_restarts = max_restarts
        self.restarts = 0
        self._best_psnr = -math.inf
        self._snapshot: dict[str, Any] | None = None

    def _take_snapshot(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._snapshot = {
            "step": trainer.global_step,
            "model": copy.deepcopy(pl_module.state_dict()),
            "optimizers": [copy.deepcopy(o.state_dict()) for o in trainer.optimizers],
        }

    def _problem(self, trainer: pl.Trainer, outputs: Any) -> str | None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            return f"the loss became {float(loss.detach().float().mean())}"
        psnr = trainer.callback_metrics.get("train/psnr")
        if psnr is not None:
            value = float(psnr)
            if not math.isfinite(value):
                return f"the training PSNR became {value}"
            if value < self._best_psnr - self.psnr_drop_db:
                return f"the training PSNR collapsed to {value:.2f} dB from a best of {self._best_psnr:.2f} dB"
            self._best_psnr = max(self._best_psnr, value)
        return None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        problem = self._problem(trainer, outputs)
        if problem is None:
            if self._snapshot is None or trainer.global_step - self._snapshot["step"] >= self.check_every:
                self._take_snapshot(trainer, pl_module)
            return
        if self._snapshot is None:
            raise TrainingDiverged(
                f"training diverged at step {trainer.global_step} ({problem}) before any healthy step; "
                "lower model.init_args.learning_rate"
            )
        pl_module.load_state_dict(self._snapshot["model"])
        for optimizer, state in zip(trainer.optimizers, self._snapshot["optimizers"], strict=True):
            optimizer.load_state_dict(state)
        if self.action == "restart" and self.restarts < self.max_restarts:
            self.restarts += 1
            for optimizer in trainer.optimizers:
                for group in optimizer.param_groups:
                    group["lr"] *= self.lr_factor
            for config in trainer.lr_scheduler_configs:
                scheduler = config.scheduler
                scheduler.base_lrs = [lr * self.lr_factor for lr in scheduler.base_lrs]
            self._best_psnr = -math.inf
            print(
                f"inrzoo: training diverged at step {trainer.global_step} ({problem}); rewound to step "
                f"{self._snapshot['step']} with the learning rate x{self.lr_factor} (restart {self.restarts})"
            )
            return
        path = Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints" / "last_good.ckpt"
        if trainer.is_global_zero:
            path.parent.mkdir(parents=True, exist_ok=True)
        trainer.save_checkpoint(path)
        hint = (
            f"after {self.restarts} restarts; lower model.init_args.learning_rate"
            if self.action == "restart"
            else "lower model.init_args.learning_rate, or add DivergenceGuard(action=restart)"
        )
        raise TrainingDiverged(
            f"training diverged at step {trainer.global_step} ({problem}); the last good weights (step "
            f"{self._snapshot['step']}) are in {path}; {hint}"
        )
