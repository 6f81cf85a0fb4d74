"""FittedRun: a run folder, a checkpoint or a .inrz file, opened once."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from test_compression import fitted  # noqa: F401 - the module-scoped fit and its .inrz file

from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.models.loading import load_video_inr
from inrzoo.runs import FALLBACK_FPS, FittedRun, compress_run, decode_uint8


def test_a_run_folder_and_its_checkpoint_open_the_same_run(fitted: SimpleNamespace) -> None:  # noqa: F811
    by_folder = FittedRun.open(fitted.run)
    by_file = FittedRun.open(fitted.run / "checkpoints" / "last.ckpt")
    assert by_folder.path == by_file.path == fitted.run / "checkpoints" / "last.ckpt"
    assert by_folder.run_dir == by_file.run_dir == fitted.run
    assert by_folder.config == by_file.config and isinstance(by_folder.config["backbone"], dict)
    assert not any(key.startswith("_") for key in [*by_folder.config, *by_folder.data]), "private keys kept"
    assert by_folder.data["train_every"] == 2 and by_folder.video is None
    datamodule = VideoDataModule(**by_folder.data)
    assert by_folder.fps == datamodule.fps
    assert torch.equal(by_folder.source_frames("test"), datamodule.frames)
    assert by_folder.source_frames("test") is by_folder.datamodule.frames, "the data module is built once"
    reference = load_video_inr(fitted.run)
    assert torch.equal(by_folder.decode(), decode_uint8(reference))
    # Another batch size may pick another conv kernel (the quickstart keeps channels_last): at most a
    # rounding flip of one level, never a different frame.
    picked = by_folder.decode([3, 1], batch_size=1).int() - decode_uint8(reference)[[3, 1]].int()
    assert picked.abs().max() <= 1


def test_a_bitstream_opens_without_its_source(fitted: SimpleNamespace) -> None:  # noqa: F811
    run = FittedRun.open(fitted.path)
    assert run.data is None and run.datamodule is None and run.run_dir is None
    assert run.video["num_frames"] == 12 and run.fps == run.video["fps"]
    assert run.name == fitted.path.stem and isinstance(run.config["backbone"], dict)
    assert run.decode().shape == (12, 3, 40, 60)
    with pytest.raises(InrzooError, match="eval-sr needs the source video, which a .inrz file does not name"):
        run.source_frames("eval-sr")


def test_a_run_whose_source_is_gone_still_decodes(fitted: SimpleNamespace, tmp_path: Path) -> None:  # noqa: F811
    run = FittedRun.open(fitted.run)
    run.data = {**run.data, "path": str(tmp_path / "gone.mp4")}
    assert run.fps == FALLBACK_FPS
    with pytest.raises(InrzooError, match="not found"):
        run.source_frames("eval-interpolation")
    assert run.decode([0]).dtype == torch.uint8


def test_compress_reads_the_checkpoint_once(fitted: SimpleNamespace, tmp_path: Path) -> None:  # noqa: F811
    """One read of last.ckpt for the model and its settings (an audit hook sees every open)."""
    opened: list[str] = []
    watching = [True]

    def hook(event: str, args: tuple) -> None:
        if watching[0] and event == "open" and str(args[0]).endswith(".ckpt"):
            opened.append(str(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed: this one stops listening below
    try:
        report = compress_run(fitted.run, tmp_path / "once.inrz")
    finally:
        watching[0] = False
    assert opened == [str(fitted.run / "checkpoints" / "last.ckpt")]
    assert report["psnr"] == pytest.approx(fitted.report["psnr"])


def test_the_run_folder_holds_the_fits_final_model(shared_clip_path: Path, tmp_path: Path) -> None:
    """The quickstart validates every 50 epochs: its last.ckpt must still be the last epoch's model (it was
    the last *validated* one, 30 epochs behind the printed result), so what reopens the run decodes what
    the fit reported."""
    import json

    from helpers import REPO_ROOT
    from test_cli import run

    from inrzoo.evaluation import evaluate_reconstruction

    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"), f"--data.init_args.path={shared_clip_path}",
        "--data.init_args.resize=null", "--trainer.max_epochs=3", "--trainer.check_val_every_n_epoch=2",
        "--trainer.max_time=null", "--trainer.enable_progress_bar=false",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
    ]  # fmt: skip
    assert run(args) == 0
    run_dir = tmp_path / "quickstart" / "version_0"
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["epoch"] == 2, checkpoint["epoch"]
    reopened = FittedRun.open(run_dir)
    result, _ = evaluate_reconstruction(reopened.model, reopened.datamodule.frames, keep_decoded=False, ms_ssim=False)
    assert result.psnr == pytest.approx(json.loads((run_dir / "metrics.json").read_text())["psnr"], abs=1e-3)
