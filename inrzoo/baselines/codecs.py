"""Standard video codecs (x264, x265, SVT-AV1 through the ffmpeg binary) as rate-distortion baselines.

Frames go in as raw RGB on stdin and come back through torchcodec, and are scored with the
same frame metrics as an INR, so the only difference between the two is the representation.
bpp counts the whole output file (container included), never a bitrate formula.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.models.metrics import score_frames

#: Output container per encoder (an unlisted encoder gets .mkv, which takes any codec).
CODEC_CONTAINERS = {"libx264": ".mp4", "libx265": ".mkv", "libsvtav1": ".mkv"}

# The colour matrix is written into the stream explicitly: an untagged stream leaves the
# YUV->RGB matrix to the decoder's guess, which costs dB that are no fault of the codec.
_COLOUR_ARGS = [
    "-vf", "scale=out_color_matrix=bt601:out_range=tv",
    "-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m", "-color_range", "tv",
]  # fmt: skip
# Keep the encoders quiet: their per-file statistics would flood the benchmark log.
_QUIET_ARGS = {"libx265": ["-x265-params", "log-level=error"], "libsvtav1": ["-svtav1-params", "enable-stat-report=0"]}


@dataclass
class CodecResult:
    """One encode: what it costs (file bytes, bpp, seconds) and how close it decodes (frames averaged)."""

    codec: str
    crf: int
    preset: str
    bytes: int
    bpp: float
    psnr: float
    ms_ssim: float | None
    encode_seconds: float
    decode_fps: float
    num_frames: int
    height: int
    width: int
    path: str
    psnr_worst: float = float("nan")
    psnr_p5: float = float("nan")

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


def require_ffmpeg() -> str:
    """Path of the ffmpeg binary, or an error that says how to get one."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise InrzooError(
            "the codec baselines need the ffmpeg binary on PATH (with libx264/libx265); "
            "install it, e.g. `apt-get install ffmpeg` or `conda install -c conda-forge ffmpeg`"
        )
    return path


def ffmpeg_version() -> str:
    """First line of ``ffmpeg -version``: codec results depend on the encoder build."""
    done = subprocess.run([require_ffmpeg(), "-version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0] if done.stdout else "unknown"


def decode_video(path: str | Path, num_frames: int) -> tuple[Tensor, float]:
    """The first ``num_frames`` frames as uint8 (T, 3, H, W) and the decode speed in frames/second."""
    from torchcodec.decoders import VideoDecoder

    start = time.perf_counter()
    frames = VideoDecoder(str(path), dimension_order="NCHW").get_frames_in_range(0, num_frames).data
    return frames, num_frames / max(time.perf_counter() - start, 1e-9)


def encode_with_ffmpeg(
    frames: Tensor,
    workdir: str | Path,
    codec: str = "libx264",
    crf: int = 26,
    preset: str = "veryslow",
    fps: float = 25.0,
) -> CodecResult:
    """Encode uint8 (T, 3, H, W) frames as yuv420p with ``codec`` at ``crf``, decode them back, score them.

    The file is written to ``workdir`` (made if missing) as ``{codec}_crf{crf}.{mp4|mkv}``, replacing an
    earlier one of the same name: these are scratch files, the scores are the result.
    """
    ffmpeg = require_ffmpeg()
    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[1] != 3:
        raise InrzooError(f"expected uint8 frames (T, 3, H, W), got {frames.dtype} {tuple(frames.shape)}")
    num_frames, _, height, width = frames.shape
    if height % 2 or width % 2:
        raise InrzooError(f"yuv420p needs even frame sides, got {height}x{width}; resize or crop first")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{codec}_crf{crf}{CODEC_CONTAINERS.get(codec, '.mkv')}"
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-",
        *_COLOUR_ARGS, "-c:v", codec, "-preset", str(preset), "-crf", str(crf), "-pix_fmt", "yuv420p",
        *_QUIET_ARGS.get(codec, []), str(path),
    ]  # fmt: skip
    raw = frames.permute(0, 2, 3, 1).contiguous().numpy().tobytes()
    start = time.perf_counter()
    done = subprocess.run(command, input=raw, capture_output=True)
    encode_seconds = time.perf_counter() - start
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise InrzooError(f"ffmpeg failed to encode with {codec} crf {crf}: {' | '.join(message[-3:])}")
    decoded, decode_fps = decode_video(path, num_frames)
    scores = score_frames(decoded, frames)
    size = path.stat().st_size
    return CodecResult(
        codec=codec,
        crf=crf,
        preset=str(preset),
        bytes=size,
        bpp=size * 8 / (num_frames * height * width),
        psnr=scores["psnr"],
        ms_ssim=scores.get("ms_ssim"),
        encode_seconds=encode_seconds,
        decode_fps=decode_fps,
        num_frames=int(num_frames),
        height=int(height),
        width=int(width),
        path=str(path),
        psnr_worst=scores["psnr_worst"],
        psnr_p5=scores["psnr_p5"],
    )
