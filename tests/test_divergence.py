"""Divergence: an injected NaN stops the run with the last good weights, or rewinds it with a lower rate."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from helpers import REPO_ROOT
from test_cli import error_line, run

from inrzoo.callbacks import DivergenceGuard, TrainingDiverged
from inrzoo.callbacks.divergence import copied_state
from inrzoo.data import VideoDataModule
from inrzoo.models import VideoINR
from inrzoo.testing import tiny_backbone, tiny_hypernet


class InjectNaN(pl.Callback):
    """The fault: at one step, a backbone weight becomes NaN (as an exploding update would leave it)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # noqa: ANN001
        if trainer.global_step == self.step:
            with torch.no_grad():
                next(pl_module.backbone.parameters()).fill_(float("nan"))


def _fit(clip: Path, root: Path, guard: DivergenceGuard, steps: int = 40) -> tuple[VideoINR, pl.Trainer]:
    pl.seed_everything(0, verbose=False)
    dm = VideoDataModule(path=str(clip), batch_size=2, cache_dir=None)
    model = VideoINR(
        backbone=tiny_backbone("nerv-conv"),
        hypernet=tiny_hypernet("film"),
        num_frames=dm.num_frames,
        frame_size=dm.frame_size,
        learning_rate=5e-3,
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=steps,
        callbacks=[InjectNaN(15), guard],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        default_root_dir=str(root),
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, datamodule=dm)
    return model, trainer


def test_a_nan_stops_the_run_with_the_last_good_weights(shared_clip_path: Path, tmp_path: Path) -> None:
    message = r"diverged at step 16 \(the loss became nan\); the last good weights \(step 11\) are in .*last_good.ckpt"
    with pytest.raises(TrainingDiverged, match=message):
        _fit(shared_clip_path, tmp_path, DivergenceGuard(check_every=5))
    saved = torch.load(tmp_path / "checkpoints" / "last_good.ckpt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values() if v.is_floating_point())


def test_restart_rewinds_with_a_lower_learning_rate(shared_clip_path: Path, tmp_path: Path) -> None:
    guard = DivergenceGuard(check_every=5, action="restart", lr_factor=0.5)
    model, trainer = _fit(shared_clip_path, tmp_path, guard)
    assert guard.restarts == 1 and trainer.global_step == 40
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert trainer.lr_scheduler_configs[0].scheduler.base_lrs[0] == pytest.approx(2.5e-3)


def test_restart_rewinds_to_a_recycled_snapshot(shared_clip_path: Path, tmp_path: Path) -> None:
    """A snapshot every step: the deque is full from the fourth step on, so every snapshot the rewind can pick was
    written into the tensors of an older one."""
    guard = DivergenceGuard(check_every=1, window=1, action="restart")
    model, trainer = _fit(shared_clip_path, tmp_path, guard)
    assert guard.restarts == 1 and trainer.global_step == 40
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_copied_state_shares_nothing_and_reuses_the_old_copys_tensors() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    live = {"model": model.state_dict(), "optimizers": [optimizer.state_dict()]}
    first = copied_state(live)
    torch.testing.assert_close(first, live)
    assert first["model"]._metadata == live["model"]._metadata, "the state dict's version metadata is kept"
    pointers = {t.data_ptr() for t in first["model"].values()} | {
        t.data_ptr() for state in first["optimizers"][0]["state"].values() for t in state.values()
    }
    assert pointers.isdisjoint(
        {t.data_ptr() for t in live["model"].values()}
        | {t.data_ptr() for state in live["optimizers"][0]["state"].values() for t in state.values()}
    )
    weight_copy = first["model"]["0.weight"]
    optimizer.step()  # the live state moves on; the copy does not
    assert not torch.equal(weight_copy, model[0].weight)
    second = copied_state({"model": model.state_dict(), "optimizers": [optimizer.state_dict()]}, first)
    assert second["model"]["0.weight"] is weight_copy, "the old copy's tensor took the new values"
    torch.testing.assert_close(weight_copy, model[0].weight.detach())
    resized = copied_state({"w": torch.ones(2, 2)}, {"w": torch.zeros(3)})
    assert resized["w"].shape == (2, 2), "a tensor of another shape is not reused"


class _Metrics:
    """The one trainer attribute the guard's check reads."""

    def __init__(self) -> None:
        self.callback_metrics: dict[str, torch.Tensor] = {}

    def step(self, guard: DivergenceGuard, psnr: float) -> str | None:
        self.callback_metrics = {"train/psnr": torch.tensor(psnr)}
        return guard._problem(self, {"loss": torch.tensor(0.1)})


def test_a_lasting_psnr_collapse_is_caught() -> None:
    guard, trainer = DivergenceGuard(psnr_drop_db=10.0, window=4), _Metrics()
    assert all(trainer.step(guard, 30.0) is None for _ in range(6))
    problems = [trainer.step(guard, 15.0) for _ in range(3)]
    assert problems[:2] == [None, None], "one or two low steps of four are not yet a collapse"
    assert "collapsed to 15.00 dB (median of the last 4 steps) from a best of 30.00 dB" in problems[2]


def test_the_collapse_is_judged_on_each_steps_own_psnr() -> None:
    """VideoINR logs its scalars only every ``log_every_n_steps``; the guard reads the PSNR each step returns,
    not the last logged value, which stays at a healthy 30 dB here while the steps collapse."""
    guard, trainer = DivergenceGuard(psnr_drop_db=10.0, window=4), _Metrics()
    assert all(trainer.step(guard, 30.0) is None for _ in range(6))
    problems = [guard._problem(trainer, {"loss": torch.tensor(0.1), "psnr": torch.tensor(15.0)}) for _ in range(3)]
    assert trainer.callback_metrics["train/psnr"] == 30.0
    assert problems[2] is not None and "collapsed to 15.00 dB" in problems[2]


def test_a_batch_of_hard_frames_is_not_a_collapse() -> None:
    # A video whose frames differ in difficulty: easy batches at 30 dB, now and then a hard one at 17.
    guard, trainer = DivergenceGuard(psnr_drop_db=10.0, window=8), _Metrics()
    readings = [30.0, 30.5, 17.0, 29.0, 31.0, 30.0, 16.5, 30.0] * 4
    assert [trainer.step(guard, value) for value in readings] == [None] * len(readings)
    single_step = DivergenceGuard(psnr_drop_db=10.0, window=1)  # what the guard did before 0.2
    flagger = _Metrics()
    assert any(flagger.step(single_step, value) for value in readings), "the test must be able to fail"


def test_the_cli_reports_divergence_in_one_line(clip_path: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    args = [
        "fit",
        "--config",
        str(REPO_ROOT / "configs" / "quickstart.yaml"),
        f"--data.init_args.path={clip_path}",
        "--data.init_args.resize=null",
        "--model.init_args.learning_rate=1e6",
        "--trainer.max_epochs=20",
        "--trainer.max_time=null",
        "--trainer.enable_progress_bar=false",
        "--divergence.check_every=1",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
    ]
    assert run(args) == 2
    line = error_line(capsys)
    assert "training diverged at step" in line and "lower model.init_args.learning_rate" in line
