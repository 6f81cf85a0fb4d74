"""RunCheckpoint: checkpoints every few epochs, and last.ckpt always the fit's final model."""

from __future__ import annotations

from pathlib import Path

import torch
from helpers import REPO_ROOT
from test_cli import run


def test_saves_every_n_epochs_and_last_is_the_final_epoch(shared_clip_path: Path, tmp_path: Path) -> None:
    """3 epochs saved every 2: epoch 2's file is the only periodic save, and last.ckpt is still epoch 3's model
    (Lightning's ModelCheckpoint leaves it at epoch 2: it saves last at the end only when it never saved it)."""
    callbacks = tmp_path / "callbacks.yaml"
    callbacks.write_text(
        "trainer:\n"
        "  callbacks:\n"
        "    - class_path: inrzoo.callbacks.RunCheckpoint\n"
        "      init_args: {save_last: true, save_on_train_epoch_end: true, every_n_epochs: 2, save_top_k: -1}\n"
    )
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"), "--config", str(callbacks),
        f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=null", "--trainer.max_epochs=3",
        "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
    ]  # fmt: skip
    assert run(args) == 0
    folder = tmp_path / "quickstart" / "version_0" / "checkpoints"
    assert sorted(p.name for p in folder.glob("epoch=*.ckpt")) == [f"epoch=1-step={2 * _steps_per_epoch(folder)}.ckpt"]
    last = torch.load(folder / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["epoch"] == 2 and last["global_step"] == 3 * _steps_per_epoch(folder)


def _steps_per_epoch(folder: Path) -> int:
    """Read from the periodic save's own record, so the test does not restate the clip's length."""
    saved = torch.load(next(folder.glob("epoch=*.ckpt")), map_location="cpu", weights_only=False)
    return saved["global_step"] // (saved["epoch"] + 1)
