"""Real-world files: each odd container, codec or damage decodes to what FFmpeg itself decodes, or gives
one clear line. Fixtures are a few KB, made with the ffmpeg binary here (skipped when an encoder is missing)."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError, InrzooWarning

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="needs the ffmpeg binary to make the fixtures")
SIZE = "64x48"


def ffmpeg(*args: str) -> None:
    done = subprocess.run([FFMPEG, "-v", "error", "-y", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.skip(f"this ffmpeg cannot make the fixture: {done.stderr.strip().splitlines()[-1:]}")


def source(size: str = SIZE, rate: int = 25, seconds: float = 0.8) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]


def encoded(path: Path, *codec: str, size: str = SIZE, rate: int = 25, seconds: float = 0.8) -> Path:
    ffmpeg(*source(size, rate, seconds), *codec, str(path))
    return path


def ffmpeg_frames(path: Path) -> torch.Tensor:
    """FFmpeg's own decode: uint8 (T, 3, H, W), the displayed size read from ffprobe."""
    probe = subprocess.run(
        [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-select_streams", "V:0", "-show_entries",
         "stream=width,height:stream_side_data=rotation", "-of", "default=nw=1", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    fields = dict(line.split("=", 1) for line in probe.stdout.splitlines() if "=" in line)
    width, height = int(fields["width"]), int(fields["height"])
    if abs(int(float(fields.get("rotation", 0)))) % 180 == 90:
        width, height = height, width
    raw = subprocess.run(
        [FFMPEG, "-v", "quiet", "-i", str(path), "-map", "0:V:0", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=120,
    ).stdout  # fmt: skip
    count = len(raw) // (width * height * 3)
    frames = torch.frombuffer(bytearray(raw[: count * width * height * 3]), dtype=torch.uint8)
    return frames.view(count, height, width, 3).permute(0, 3, 1, 2)


# -- fixtures: name -> maker(tmp_path) -> path ---------------------------------------------------
def mpeg4_packed_avi(tmp: Path) -> Path:
    """MPEG-4 Part 2 with B-frames in packed bitstream: the AVI header counts more frames than decode."""
    return encoded(tmp / "packed.avi", "-c:v", "libxvid", "-bf", "2", "-vtag", "XVID")


def mjpeg_avi(tmp: Path) -> Path:
    return encoded(tmp / "mjpeg.avi", "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p")


def vp9_mkv(tmp: Path) -> Path:
    return encoded(tmp / "vp9.mkv", "-c:v", "libvpx-vp9", "-crf", "45", "-b:v", "0", "-deadline", "realtime")


def av1_webm(tmp: Path) -> Path:
    return encoded(tmp / "av1.webm", "-c:v", "libsvtav1", "-preset", "12", "-crf", "50", size="64x64")


def prores_mov(tmp: Path) -> Path:
    return encoded(tmp / "prores.mov", "-c:v", "prores_ks", "-profile:v", "0")


def h264_vfr(tmp: Path) -> Path:
    """Ten frames 1/25 s apart, then ten 1/5 s apart."""
    timing = "setpts='if(lt(N,10),N/25,10/25+(N-10)/5)/TB'"
    return encoded(tmp / "vfr.mp4", "-vf", timing, "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p")


def rotation_tag(tmp: Path) -> Path:
    plain = encoded(tmp / "plain.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(tmp / "rotated.mp4"))
    return tmp / "rotated.mp4"


def odd_size(tmp: Path) -> Path:
    return encoded(tmp / "odd.mp4", "-vf", "scale=63:47", "-c:v", "libx264", "-pix_fmt", "yuv444p")


def ten_bit_420(tmp: Path) -> Path:
    return encoded(tmp / "10bit.mkv", "-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-x265-params", "log-level=0")


def yuv444(tmp: Path) -> Path:
    return encoded(tmp / "444.mp4", "-c:v", "libx264", "-pix_fmt", "yuv444p")


def grayscale(tmp: Path) -> Path:
    return encoded(tmp / "gray.mkv", "-c:v", "ffv1", "-pix_fmt", "gray")


def audio_first(tmp: Path) -> Path:
    path = tmp / "audio_first.mkv"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:r=8000:d=0.8", *source(), "-map", "0:a", "-map", "1:v",
           "-c:a", "libopus", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path))  # fmt: skip
    return path


def truncated_faststart_mp4(tmp: Path) -> Path:
    """The index up front, the last 40% of the bytes gone: the header promises frames that are not there."""
    whole = encoded(tmp / "whole.mp4", "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                    rate=15, seconds=4)  # fmt: skip
    data = whole.read_bytes()
    (tmp / "truncated.mp4").write_bytes(data[: int(len(data) * 0.6)])
    return tmp / "truncated.mp4"


def flipped_bytes(tmp: Path) -> Path:
    """MPEG-4 Part 2 in AVI with 200 bytes inverted in the middle of the stream."""
    whole = encoded(tmp / "whole.avi", "-c:v", "mpeg4", "-g", "100", "-q:v", "4")
    data = bytearray(whole.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 200] = bytes(b ^ 0xFF for b in data[middle : middle + 200])
    (tmp / "flipped.avi").write_bytes(bytes(data))
    return tmp / "flipped.avi"


def spaces_and_non_ascii(tmp: Path) -> Path:
    folder = tmp / "mes vidéos 東京"
    folder.mkdir()
    return encoded(folder / "clip ä ü.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")


DECODES: dict[str, Callable[[Path], Path]] = {
    f.__name__: f
    for f in (
        mpeg4_packed_avi, mjpeg_avi, vp9_mkv, av1_webm, prores_mov, h264_vfr, rotation_tag, odd_size,
        ten_bit_420, yuv444, grayscale, audio_first, truncated_faststart_mp4, flipped_bytes, spaces_and_non_ascii,
    )
}  # fmt: skip


def truncated_mp4(tmp: Path) -> Path:
    """The index at the end (the default): cut at 60%, the file has no index at all."""
    whole = encoded(tmp / "whole.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
    (tmp / "cut.mp4").write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    return tmp / "cut.mp4"


def zero_bytes(tmp: Path) -> Path:
    (tmp / "empty.mp4").write_bytes(b"")
    return tmp / "empty.mp4"


def a_directory(tmp: Path) -> Path:
    (tmp / "videos.mp4").mkdir()
    return tmp / "videos.mp4"


FAILS = {f.__name__: f for f in (truncated_mp4, zero_bytes, a_directory)}


@pytest.mark.parametrize("make", list(DECODES.values()), ids=list(DECODES))
def test_decodes_what_ffmpeg_decodes(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path)
    expected = ffmpeg_frames(path)
    assert expected.shape[0] > 0, "the fixture itself must decode"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = VideoDataModule(str(path), cache_dir=str(tmp_path / "cache"))
    assert data.num_frames == expected.shape[0] and tuple(data.frames.shape) == tuple(expected.shape)
    middle = expected.shape[0] // 2
    assert (data.frames[middle].int() - expected[middle].int()).abs().max() <= 2
    lines = [str(w.message) for w in caught if issubclass(w.category, InrzooWarning)]
    assert all("\n" not in line for line in lines)
    header = data.info.num_frames
    if header != expected.shape[0]:  # a miscounting header is named, with both counts
        assert any(f"{header} frames but {expected.shape[0]} decode" in line for line in lines), lines


@pytest.mark.parametrize("make", list(FAILS.values()), ids=list(FAILS))
def test_an_undecodable_file_is_one_line(make: Callable[[Path], Path], tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(InrzooError) as info:
        VideoDataModule(str(path), cache_dir=str(tmp_path / "cache"))
    message = str(info.value)
    assert "\n" not in message and path.name in message
    assert not list((tmp_path / "cache").glob("*")), "nothing half-written is left in the cache"


def test_the_packed_avi_header_over_count_is_a_warning(tmp_path: Path) -> None:
    path = mpeg4_packed_avi(tmp_path)
    count = ffmpeg_frames(path).shape[0]
    with pytest.warns(InrzooWarning, match=rf"header says \d+ frames but {count} decode"):
        data = VideoDataModule(str(path), cache_dir=None)
    assert data.info.num_frames > data.num_frames == count


def test_first_frame_seeks_in_an_over_counted_file(tmp_path: Path) -> None:
    path = mpeg4_packed_avi(tmp_path)
    expected = ffmpeg_frames(path)
    last = expected.shape[0] - 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InrzooWarning)
        tail = VideoDataModule(str(path), first_frame=last - 2, cache_dir=None)
        assert tail.num_frames == 3
        assert (tail.frames[:].int() - expected[last - 2 :].int()).abs().max() <= 2
        with pytest.raises(InrzooError, match=rf"outside the {last + 1} frames .* that decode; use 0 to {last}"):
            VideoDataModule(str(path), first_frame=last + 1, cache_dir=None)


def test_the_frame_rate_comes_from_the_timestamps(tmp_path: Path) -> None:
    """A truncated 15 fps file: duration / header count would say less; the decoded frames say 15."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InrzooWarning)
        data = VideoDataModule(str(truncated_faststart_mp4(tmp_path)), cache_dir=None)
    assert data.fps == pytest.approx(15.0, rel=1e-3)


def test_a_variable_rate_keeps_its_length(tmp_path: Path) -> None:
    """Ten frames 1/25 s apart then ten 1/5 s apart span 2.2 s: 19 intervals over 2.2 s, and no lost frames."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", InrzooWarning)
        data = VideoDataModule(str(h264_vfr(tmp_path)), cache_dir=None)
    assert data.fps == pytest.approx(19 / 2.2, rel=1e-3)


def test_frames_lost_to_damage_are_counted_and_placed(tmp_path: Path) -> None:
    """Frames whose packets are gone leave a gap in the timestamps: how many, and after which frame."""
    whole = encoded(tmp_path / "whole.mkv", "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p")
    # Drop frames 8-10 (an intra-only codec: the rest still decode) by keeping their timestamps' gap.
    ffmpeg("-i", str(whole), "-vf", "select='not(between(n,8,10))'", "-fps_mode", "passthrough",
           "-c:v", "mjpeg", "-q:v", "5", str(tmp_path / "gappy.mkv"))  # fmt: skip
    with pytest.warns(InrzooWarning, match=r"3 frames lost to damaged data \(3 after frame 7\)"):
        data = VideoDataModule(str(tmp_path / "gappy.mkv"), cache_dir=None)
    assert data.num_frames == 17
