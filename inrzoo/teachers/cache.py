"""Teacher features computed once per (teacher + weights, video + geometry) and kept on disk.

A big teacher over a long video costs minutes; the second fit of the same video (another
backbone, another seed, alignment weight...) should not pay them again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from torch import Tensor

from inrzoo.teachers.base import Teacher


def default_feature_cache_dir() -> Path:
    return Path(os.environ.get("INRZOO_CACHE_DIR", Path.home() / ".cache" / "inrzoo")) / "teacher-features"


def feature_cache_file(teacher: Teacher, video_key: str, num_frames: int, cache_dir: Path) -> Path:
    key = hashlib.sha256(f"{teacher.cache_key()}|{video_key}|{num_frames}".encode()).hexdigest()[:32]
    return cache_dir / f"{key}.safetensors"


def teacher_features(
    teacher: Teacher,
    frames: Tensor,
    video_key: str | None,
    cache_dir: Path | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> Tensor:
    """(T, feature_dim) features of uint8 (T, 3, H, W) frames, from the cache when the keys match.

    ``video_key`` identifies the frames (``VideoDataModule.video_key``); None disables the cache.
    """
    from safetensors.torch import load_file, save_file

    if video_key is None:
        return teacher.features_for_video(frames, batch_size=batch_size, progress=progress)
    cache_dir = cache_dir or default_feature_cache_dir()
    cache_file = feature_cache_file(teacher, video_key, frames.shape[0], cache_dir)
    if cache_file.is_file():
        try:
            return load_file(str(cache_file))["features"]
        except Exception:  # a torn cache file is recomputed, never trusted
            cache_file.unlink(missing_ok=True)
    features = teacher.features_for_video(frames, batch_size=batch_size, progress=progress).contiguous()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(f".tmp{os.getpid()}")
    save_file({"features": features}, str(tmp), metadata={"teacher": teacher.cache_key()[:500], "video": video_key})
    os.replace(tmp, cache_file)
    return features
