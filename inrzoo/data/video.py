"""Decode a video once, to the frames that really decode, resized/cropped as declared, into an on-disk store."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.data.decoding import DecodeLog, iter_frames
from inrzoo.data.frame_store import FrameStore, FrameStoreWriter
from inrzoo.data.memory import bound_allocator_for
from inrzoo.errors import InrzooError, warn

CACHE_FORMAT_VERSION = 2  # 2: a frame store of the frames that decode (1: a torch .pt of the header count)


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
        reason = reason.replace(f"Could not open input file: {path} ", "FFmpeg: ")
        raise InrzooError(f"{path} is not a readable video ({reason}); give an mp4/mkv/webm file") from err


def probe_video(path: Path) -> VideoInfo:
    """The header's view (frame count, displayed size, rate): a first check; the decode has the last word."""
    if path.is_file() and path.stat().st_size == 0:
        raise InrzooError(f"{path} is not a readable video: it is empty (0 bytes); give a video file")
    meta = _decoder(path).metadata
    num_frames = int(meta.num_frames or 0)
    if num_frames <= 0 or not meta.height or not meta.width:
        raise InrzooError(f"{path} has no video frames; give a video with at least one frame")
    header_count = getattr(meta, "num_frames_from_header", None)
    return VideoInfo(
        int(header_count or num_frames), int(meta.height), int(meta.width), float(meta.average_fps or 25.0)
    )


def resize_frames(frames: Tensor, size: tuple[int, int]) -> Tensor:
    """uint8 (T, 3, H, W) -> uint8 (T, 3, *size), antialiased bicubic, a few frames at a time to bound memory."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    per_step = max(1, 2**24 // (frames.shape[-1] * frames.shape[-2] * 3))  # ~64 MB of float input
    out = []
    for chunk in frames.split(per_step):
        resized = F.interpolate(chunk.float(), size=size, mode="bicubic", antialias=True, align_corners=False)
        out.append(resized.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


def center_crop_frames(frames: Tensor, size: tuple[int, int]) -> Tensor:
    height, width = frames.shape[-2:]
    top, left = (height - size[0]) // 2, (width - size[1]) // 2
    return frames[..., top : top + size[0], left : left + size[1]].contiguous()


def apply_geometry(frames: Tensor, geometry: FrameGeometry) -> Tensor:
    """uint8 (n, 3, H, W) as declared: resize, then centre crop."""
    if geometry.resize is not None:
        frames = resize_frames(frames, geometry.resize)
    if geometry.center_crop is not None:
        frames = center_crop_frames(frames, geometry.center_crop)
    return frames


def decode_video(path: Path, geometry: FrameGeometry, target: Path) -> Path:
    """Decode frames ``first_frame`` onwards (at most ``max_frames``), after the geometry, into a frame store
    at ``target`` (written atomically), streaming: memory holds one chunk, never the video."""
    info = probe_video(path)
    bound_allocator_for((info.height, info.width))
    log = DecodeLog()
    first, wanted = geometry.first_frame, geometry.max_frames
    seen, complete = 0, True
    with FrameStoreWriter(target) as writer:
        for chunk in iter_frames(path, info.height, info.width, log):
            keep = chunk[max(first - seen, 0) :]
            seen += chunk.shape[0]
            if wanted is not None:
                keep = keep[: wanted - writer.count]
            if keep.shape[0]:
                writer.append(apply_geometry(keep, geometry))
            if wanted is not None and writer.count >= wanted:
                complete = False  # stopped early on purpose: the rest is not counted
                break
        if seen == 0:
            raise InrzooError(f"no frame of {path} decodes ({_first_error(log)}); give a playable video file")
        if writer.count == 0:
            raise InrzooError(
                f"data.first_frame {first} is outside the {seen} frames of {path} that decode; use 0 to {seen - 1}"
            )
        rate = log.frame_rate()
        times_match = len(log.times) == seen
        errors = log.errors if complete else []  # stopping early breaks ffmpeg's pipe: not the file's fault
        writer.commit({
            "format": CACHE_FORMAT_VERSION,
            "fps": rate or info.fps,
            "header_frames": info.num_frames,
            "decoded_frames": seen if complete else None,
            "to_the_end": complete,
            "gaps": log.gaps() if times_match else [],
            "errors": len(errors),
            "first_error": errors[0] if errors else None,
        })  # fmt: skip
    return target


def _first_error(log: DecodeLog) -> str:
    return log.errors[0] if log.errors else "FFmpeg found no decodable video frame"


def report_decode(path: Path, meta: dict) -> None:
    """One warning line per thing the user should know: a header that miscounts, frames lost to damage."""
    decoded, header = meta.get("decoded_frames"), meta.get("header_frames")
    if decoded is not None and header and decoded != header:
        warn(
            f"{path.name}: its header says {header} frames but {decoded} decode (a header that miscounts, or a "
            f"truncated file); using the {decoded} frames that decode"
        )
    gaps = meta.get("gaps") or []
    if gaps:
        lost = sum(n for _, n in gaps)
        where = ", ".join(f"{n} after frame {i}" for i, n in gaps[:4]) + (", ..." if len(gaps) > 4 else "")
        warn(f"{path.name}: {lost} frames lost to damaged data ({where}); the frames that decode are used")
    elif meta.get("errors"):
        warn(
            f"{path.name}: FFmpeg reported {meta['errors']} decoding errors (first: {meta['first_error']}); "
            "some frames may show damage"
        )


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


def load_frames(path: Path, geometry: FrameGeometry, cache_dir: Path | None) -> FrameStore:
    """The decoded frames as a lazy store: the cached one when its key matches, else decoded now (into the
    cache, or with ``cache_dir=None`` into a temporary file removed when the store is dropped)."""
    if cache_dir is None:
        handle, name = tempfile.mkstemp(prefix=f"inrzoo-{path.stem[:40]}-", suffix=".frames")
        os.close(handle)
        try:
            store = FrameStore(decode_video(path, geometry, Path(name)), delete_on_close=True)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        report_decode(path, store.meta)
        return store
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / f"{path.stem}-{cache_key(path, geometry)}.frames"
    if cache_file.is_file():
        try:
            store = FrameStore(cache_file)
            bound_allocator_for(tuple(store.shape[-2:]))
            report_decode(path, store.meta)
            return store
        except (OSError, ValueError):  # a torn or foreign cache file is rebuilt, never trusted
            cache_file.unlink(missing_ok=True)
    store = FrameStore(decode_video(path, geometry, cache_file))
    report_decode(path, store.meta)
    return store
