"""Writing results: the mp4 writer at any rate and content, chunk by chunk, and a fit report that keeps every
file it can when one writer fails."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from helpers import REPO_ROOT

from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError, InrzooWarning
from inrzoo.io.video_io import Mp4Writer, write_mp4


def decoded(path: Path) -> VideoDataModule:
    return VideoDataModule(str(path), cache_dir=None)


def test_static_frames_at_a_low_fractional_rate(tmp_path: Path) -> None:
    """68 identical 120x160 frames at 2.297 fps (what a miscounted header once led to) make a playable mp4."""
    frames = torch.full((68, 3, 120, 160), 90, dtype=torch.uint8)
    frames[:, 0, 40:80, 50:110] = 200
    path = write_mp4(frames, tmp_path / "static.mp4", fps=2.297)
    back = decoded(path)
    assert back.num_frames == 68 and back.fps == pytest.approx(2.297, rel=1e-3)
    assert (back.frames[33].float() - frames[33].float()).abs().mean() < 2, "4:2:0 chroma blurs the edges only"


def test_chunks_are_written_as_they_come(tmp_path: Path) -> None:
    frames = torch.randint(0, 256, (1, 3, 47, 63), dtype=torch.uint8).repeat(10, 1, 1, 1)
    path = write_mp4((frames[i : i + 3] for i in range(0, 10, 3)), tmp_path / "odd.mp4", fps=0.5)
    back = decoded(path)
    assert back.num_frames == 10 and back.frame_size == (48, 64), "odd sides get one edge pixel repeated"


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with pytest.raises(InrzooError, match="sizes must agree"):
        with Mp4Writer(target, fps=25) as writer:
            writer.write(torch.zeros(2, 3, 16, 16, dtype=torch.uint8))
            writer.write(torch.zeros(2, 3, 32, 32, dtype=torch.uint8))
    assert list(tmp_path.iterdir()) == [], "no half-written mp4, under its name or another"
    with pytest.raises(InrzooError, match="positive number"):
        Mp4Writer(target, fps=float("nan"))


def test_an_existing_mp4_is_never_replaced_silently(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"mine")
    with pytest.raises(InrzooError, match="already exists"):
        write_mp4(torch.zeros(2, 3, 16, 16, dtype=torch.uint8), target, fps=25)
    assert target.read_bytes() == b"mine"


def test_one_failing_report_writer_loses_nothing_else(
    shared_clip_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison image fails (a full disk, say): metrics.json and the mp4 are still written, one warning."""
    import inrzoo.io.video_io as video_io
    from inrzoo.cli import main

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(video_io, "write_side_by_side_png", disk_full)  # the PNG encoder under comparison.png
    monkeypatch.chdir(tmp_path)
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"), "--trainer.accelerator=cpu",
        "--trainer.max_epochs=1", "--trainer.limit_train_batches=1", "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
        f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}",
        f"--data.init_args.path={shared_clip_path}", "--data.init_args.resize=[30,50]",
    ]  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(args) == 0
    [run_dir] = (tmp_path / "runs").glob("*/version_0")
    assert json.loads((run_dir / "metrics.json").read_text())["num_frames"] == 12
    assert decoded(run_dir / "reconstruction.mp4").num_frames == 12
    assert not (run_dir / "comparison.png").exists()
    lines = [str(w.message) for w in caught if issubclass(w.category, InrzooWarning)]
    assert lines == ["could not write comparison.png ([Errno 28] No space left on device); the fit's other outputs "
                     "are kept"]  # fmt: skip
    assert shutil.which("ffmpeg") is None or not list(run_dir.glob(".*partial*"))


def test_without_the_ffmpeg_binary_torchcodec_reads_and_writes(
    clip_path: Path, clip_frames: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_ffmpeg = decoded(clip_path).frames[:]
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)  # as on a machine without ffmpeg
    data = decoded(clip_path)
    assert tuple(data.frames.shape) == tuple(clip_frames.shape) and data.fps == pytest.approx(25.0)
    assert torch.equal(data.frames[:], through_ffmpeg), "the same RGB conversion either way"
    path = write_mp4((data.frames[i : i + 5] for i in range(0, len(data.frames), 5)), tmp_path / "out.mp4", fps=25)
    assert decoded(path).num_frames == len(data.frames)
