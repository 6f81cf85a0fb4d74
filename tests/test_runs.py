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
