"""Divergence handling: a NaN/Inf loss or a PSNR collapse stops the run with the last good weights
(or rewinds to them with a lower learning rate), instead of logging NaNs to the end."""

from __future__ import annotations

import copy
import math
import statistics
from collections import deque
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
import torch

from inrzoo.errors import InrzooError
from inrzoo.options import check_options, integers, numbers


class TrainingDiverged(InrzooError):
    """The loss became NaN/Inf or the PSNR collapsed (the message names the step and the fix)."""


def copied_state(state: Any, into: Any = None) -> Any:
    """A copy of a (nested) state dict that shares no tensor with it, written into ``into``'s tensors where they
    match in shape, dtype and device: a guard snapshots every few steps, and a deepcopy of a small model's state
    costs ~10x the bytes it copies (new storages, Python bookkeeping)."""
    if isinstance(state, torch.Tensor):
        same = (
            isinstance(into, torch.Tensor)
            and into.shape == state.shape
            and into.dtype == state.dtype
            and into.device == state.device
        )
        return into.copy_(state) if same else state.detach().clone()
    if isinstance(state, dict):
        old = into if isinstance(into, dict) else {}
        copied = type(state)()  # an OrderedDict state dict stays one, with its version metadata
        copied.update((key, copied_state(value, old.get(key))) for key, value in state.items())
        if hasattr(state, "_metadata"):
            copied._metadata = copy.deepcopy(state._metadata)
        return copied
    if isinstance(state, list | tuple):
        old = into if isinstance(into, list | tuple) and len(into) == len(state) else [None] * len(state)
        return type(state)(copied_state(value, prior) for value, prior in zip(state, old, strict=True))
    return copy.deepcopy(state)


class DivergenceGuard(pl.Callback):
    """Watch every training step; on divergence stop with the last good weights, or rewind.

    A collapse is judged on the median training PSNR of the last ``window`` steps, not on one step: in a
    video whose frames differ in difficulty (a cut, fast motion) a batch of hard frames can sit 10 dB
    below an easy one without anything being wrong, while a real collapse lasts.

    Args:
        psnr_drop_db: a collapse is the median training PSNR of the last ``window`` steps falling this far
            below the best such median so far.
        window: steps in that median (1: judge every step on its own).
        check_every: steps between snapshots of the (healthy) weights and optimiser state; a collapse
            rewinds to a snapshot taken before the steps that showed it.
        action: ``stop`` (write ``last_good.ckpt`` and end with a clear error) or ``restart``
            (rewind to the snapshot with the learning rate scaled by ``lr_factor``).
        lr_factor: learning-rate multiplier of each restart.
        max_restarts: restarts before giving up as ``stop`` does.
    """

    option_ranges = {
        "psnr_drop_db": numbers(0, 1000, low_open=True),
        "window": integers(1, 100_000),
        "check_every": integers(1, 100_000),
        "lr_factor": numbers(0, 1, low_open=True),
        "max_restarts": integers(0, 1000),
    }

    def __init__(
        self,
        psnr_drop_db: float = 10.0,
        window: int = 8,
        check_every: int = 10,
        action: Literal["stop", "restart"] = "stop",
        lr_factor: float = 0.5,
        max_restarts: int = 2,
    ) -> None:
        check_options(self, locals())
        super().__init__()
        self.psnr_drop_db = psnr_drop_db
        self.window = window
        self.check_every = check_every
        self.action = action
        self.lr_factor = lr_factor
        self.max_restarts = max_restarts
        self.restarts = 0
        self._best_psnr = -math.inf
        self._recent: deque[float] = deque(maxlen=self.window)
        # Enough snapshots that one always predates the window of steps a collapse is judged on.
        self._snapshots: deque[dict[str, Any]] = deque(maxlen=-(-self.window // self.check_every) + 2)

    @property
    def _snapshot(self) -> dict[str, Any] | None:
        return self._snapshots[-1] if self._snapshots else None

    def _take_snapshot(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        full = len(self._snapshots) == self._snapshots.maxlen
        # The oldest snapshot is about to leave the deque: its tensors take the new copy.
        recycled = self._snapshots.popleft() if full else {}
        live = {"model": pl_module.state_dict(), "optimizers": [o.state_dict() for o in trainer.optimizers]}
        snapshot = copied_state(live, recycled)
        snapshot["step"] = trainer.global_step
        self._snapshots.append(snapshot)

    def _rewind_point(self, step: int, lasting: bool) -> dict[str, Any] | None:
        """A NaN is caught at the step it appears: the newest snapshot is good. A ``lasting`` collapse shows
        in the median of the last ``window`` steps: the newest snapshot taken before them."""
        if not lasting:
            return self._snapshot
        before = [s for s in self._snapshots if s["step"] <= step - self.window]
        return before[-1] if before else (self._snapshots[0] if self._snapshots else None)

    def _problem(self, trainer: pl.Trainer, outputs: Any) -> str | None:
        """What is wrong at this step (a non-finite loss or PSNR, or a lasting collapse), or None."""
        return self._instant_problem(trainer, outputs) or self._collapse(trainer, outputs)

    def _instant_problem(self, trainer: pl.Trainer, outputs: Any) -> str | None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not torch.isfinite(loss).all():
            return f"the loss became {float(loss.detach().float().mean())}"
        psnr = self._step_psnr(trainer, outputs)
        if psnr is not None and not math.isfinite(float(psnr)):
            return f"the training PSNR became {float(psnr)}"
        return None

    @staticmethod
    def _step_psnr(trainer: pl.Trainer, outputs: Any) -> Any:
        """This step's training PSNR: from the step's outputs (``VideoINR`` returns it at every step, and logs
        it only on the steps Lightning writes), else the last logged ``train/psnr`` (another module's)."""
        if isinstance(outputs, dict) and "psnr" in outputs:
            return outputs["psnr"]
        return trainer.callback_metrics.get("train/psnr")

    def _collapse(self, trainer: pl.Trainer, outputs: Any = None) -> str | None:
        psnr = self._step_psnr(trainer, outputs)
        if psnr is None:
            return None
        self._recent.append(float(psnr))
        median = statistics.median(self._recent)
        if median < self._best_psnr - self.psnr_drop_db:
            return (
                f"the training PSNR collapsed to {median:.2f} dB (median of the last {len(self._recent)} "
                f"steps) from a best of {self._best_psnr:.2f} dB"
            )
        if len(self._recent) == self.window:
            self._best_psnr = max(self._best_psnr, median)
        return None

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        problem = self._instant_problem(trainer, outputs)
        lasting = problem is None
        problem = problem or self._collapse(trainer, outputs)
        if problem is None:
            if self._snapshot is None or trainer.global_step - self._snapshot["step"] >= self.check_every:
                self._take_snapshot(trainer, pl_module)
            return
        snapshot = self._rewind_point(trainer.global_step, lasting)
        if snapshot is None:
            raise TrainingDiverged(
                f"training diverged at step {trainer.global_step} ({problem}) before any healthy step; "
                "lower model.init_args.learning_rate"
            )
        pl_module.load_state_dict(snapshot["model"])
        for optimizer, state in zip(trainer.optimizers, snapshot["optimizers"], strict=True):
            optimizer.load_state_dict(state)
        # Snapshots after the rewind point saw the collapse coming; the window starts afresh.
        while self._snapshots and self._snapshots[-1]["step"] > snapshot["step"]:
            self._snapshots.pop()
        self._recent.clear()
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
                f"{snapshot['step']} with the learning rate x{self.lr_factor} (restart {self.restarts})"
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
            f"{snapshot['step']}) are in {path}; {hint}"
        )
