"""Decode a video once into a uint8 tensor, resized/cropped as declared, with an on-disk cache."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.errors import InrzooError

CACHE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class VideoInfo:
    """What the header of a video says, checked before any decoding."""

    num_frames: int
    height: int
    width: int
    fps: float


@dataclass(frozen=True)
class FrameGeometry:
    """The declared preprocessing, applied in this order: resize to ``resize`` (H, W),
    then centre-crop to ``center_crop`` (H, W); frames start at ``first_frame`` and
    ``max_frames`` keeps that many (a segment of a longer video)."""

    resize: tuple[int, int] | None = None
    center_crop: tuple[int, int] | None = None
    max_frames: int | None = None
    first_frame: int = 0

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        if self.resize is not None:
            height, width = self.resize
        if self.center_crop is not None:
            crop_h, crop_w = self.center_crop
            if crop_h > height or crop_w > width:
                raise InrzooError(
                    f"center_crop {crop_h}x{crop_w} is larger than the {height}x{width} frame; "
                    "lower data.center_crop or raise data.resize"
                )
            height, width = crop_h, crop_w
        return height, width


def _decoder(path: Path):  # noqa: ANN202 - torchcodec is imported lazily
    from torchcodec.decoders import VideoDecoder

    try:
        return VideoDecoder(str(path), dimension_order="NCHW", seek_mode="exact")
    except Exception as err:  # torchcodec raises RuntimeError/ValueError with FFmpeg's words
        if "best video stream" in str(err).lower():
            raise InrzooError(f"{path} has no video stream; give a file with video frames") from err
        reason = re.sub(r"^.*\.cpp:\d+,\s*", "", str(err).splitlines()[0] if str(err) else type(err).__name__)
        raise InrzooError(f"{path} is not a readable video ({reason}); give an mp4/mkv/webm file") from err


def probe_video(path: Path) -> VideoInfo:
    meta = _decoder(path).metadata
    num_frames = int(meta.num_frames or 0)
    if num_frames <= 0 or not meta.height or not meta.width:
        raise InrzooError(f"{path} has no video frames; give a video with at least one frame")
    return VideoInfo(num_frames, int(meta.height), int(meta.width), float(meta.average_fps or 25.0))


def resize_frames(frames: Tensor, size: tuple[int, int]) -> Tensor:
    """uint8 (T, 3, H, W) -> uint8 (T, 3, *size), antialiased bicubic, in chunks to bound memory."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    out = []
    for chunk in frames.split(16):
        resized = F.interpolate(chunk.float(), size=size, mode="bicubic", antialias=True, align_corners=False)
        out.append(resized.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


def center_crop_frames(frames: Tensor, size: tuple[int, int]) -> Tensor:
    height, width = frames.shape[-2:]
    top, left = (height - size[0]) // 2, (width - size[1]) // 2
    return frames[..., top : top + size[0], left : left + size[1]].contiguous()


def decode_video(path: Path, geometry: FrameGeometry) -> Tensor:
    """Decode frames ``first_frame`` onwards (at most ``max_frames``) -> uint8 (T, 3, H, W) after the geometry."""
    decoder = _decoder(path)
    first = geometry.first_frame
    count = len(decoder) - first
    if geometry.max_frames is not None:
        count = min(count, geometry.max_frames)
    if count <= 0:
        raise InrzooError(f"{path} has no video frames; give a video with at least one frame")
    chunks = []
    for start in range(0, count, 32):
        batch = decoder.get_frames_in_range(first + start, first + min(start + 32, count)).data
        if geometry.resize is not None:
            batch = resize_frames(batch, geometry.resize)
        if geometry.center_crop is not None:
            batch = center_crop_frames(batch, geometry.center_crop)
        chunks.append(batch)
    frames = torch.cat(chunks)
    if frames.shape[0] == 0:
        raise InrzooError(f"{path} decoded to zero frames; give a video with at least one frame")
    return frames


def cache_key(path: Path, geometry: FrameGeometry) -> str:
    """Changes whenever the file (path, size, mtime) or the declared geometry changes."""
    stat = path.stat()
    payload = {
        "version": CACHE_FORMAT_VERSION,
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "geometry": asdict(geometry),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def default_cache_dir() -> Path:
    return Path(os.environ.get("INRZOO_CACHE_DIR", Path.home() / ".cache" / "inrzoo")) / "frames"


def load_frames(path: Path, geometry: FrameGeometry, cache_dir: Path | None) -> Tensor:
    """Decoded frames, from the cache when its key matches (written atomically otherwise)."""
    if cache_dir is None:
        return decode_video(path, geometry)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / f"{path.stem}-{cache_key(path, geometry)}.pt"
    if cache_file.is_file():
        try:
            return torch.load(cache_file, weights_only=True)
        except Exception:  # a torn cache file is rebuilt, never trusted
            cache_file.unlink(missing_ok=True)
    frames = decode_video(path, geometry)
    tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
    torch.save(frames, tmp)
    os.replace(tmp, cache_file)
    return frames
