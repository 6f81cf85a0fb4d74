"""Codec baselines (ffmpeg): real files, real bpp, scored like an INR."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from inrzoo.baselines import encode_with_ffmpeg, require_ffmpeg
from inrzoo.errors import InrzooError
from inrzoo.io.video_io import write_mp4

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg binary")


@needs_ffmpeg
@pytest.mark.parametrize("codec", ["libx264", "libx265"])
def test_codec_bpp_is_file_bytes_and_quality_follows_crf(codec: str, clip_frames: torch.Tensor, tmp_path: Path) -> None:
    fine = encode_with_ffmpeg(clip_frames, tmp_path, codec=codec, crf=12, preset="ultrafast")
    coarse = encode_with_ffmpeg(clip_frames, tmp_path, codec=codec, crf=40, preset="ultrafast")
    for result in (fine, coarse):
        num_frames, _, height, width = clip_frames.shape
        assert result.bytes == Path(result.path).stat().st_size
        assert result.bpp == pytest.approx(result.bytes * 8 / (num_frames * height * width))
    assert fine.psnr > coarse.psnr + 3
    assert fine.bytes > coarse.bytes
    assert fine.psnr > 28, "4:2:0 chroma caps this clip's saturated edges near 31 dB; far below is a colour bug"


def test_codec_refuses_odd_sides_and_wrong_dtype(clip_frames: torch.Tensor, tmp_path: Path) -> None:
    with pytest.raises(InrzooError, match="even frame sides"):
        encode_with_ffmpeg(clip_frames[..., :39, :], tmp_path)
    with pytest.raises(InrzooError, match="uint8"):
        encode_with_ffmpeg(clip_frames.float(), tmp_path)


def test_missing_ffmpeg_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(InrzooError, match="need the ffmpeg binary"):
        require_ffmpeg()


@needs_ffmpeg
def test_written_mp4_decodes_to_the_frames_it_was_given(clip_frames: torch.Tensor, tmp_path: Path) -> None:
    """reconstruction.mp4 must show the decoded frames, not a colour-shifted copy: it must decode as
    close as an explicitly BT.601-tagged ffmpeg encode at a similar CRF (4:2:0 chroma limits both)."""
    from torchcodec.decoders import VideoDecoder

    from inrzoo.models.metrics import frame_metrics

    path = write_mp4(clip_frames, tmp_path / "out.mp4", fps=25)
    decoded = VideoDecoder(str(path), dimension_order="NCHW").get_frames_in_range(0, len(clip_frames)).data
    assert decoded.shape == clip_frames.shape
    metrics = frame_metrics(tuple(clip_frames.shape[-2:]))
    psnr = float(metrics(decoded.float() / 255, clip_frames.float() / 255)["psnr"])
    reference = encode_with_ffmpeg(clip_frames, tmp_path / "reference", codec="libx264", crf=10, preset="medium")
    assert psnr > reference.psnr - 1.0
    with pytest.raises(InrzooError, match="already exists"):
        write_mp4(clip_frames, path, fps=25)
