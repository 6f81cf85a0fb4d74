"""LightningDataModule over the frames of one video."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from inrzoo.data.frame_store import FrameStore
from inrzoo.data.samples import resolve_video_path
from inrzoo.data.video import FrameGeometry, VideoInfo, cache_key, default_cache_dir, load_frames, probe_video
from inrzoo.errors import InrzooError
from inrzoo.options import COUNT, NON_NEGATIVE_COUNT, PIXELS, check_options, integers


class FrameDataset(Dataset):
    """Frames by index: ``{"index": t, "frame": (3, H, W) float in [0, 1]}``, read one at a time from the
    store (or a tensor) so memory follows the batch, not the video."""

    def __init__(self, frames: FrameStore | Tensor, indices: list[int]) -> None:
        self.frames = frames
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> dict[str, Tensor | int]:
        index = self.indices[item]
        return {"index": index, "frame": self.frames[index].float() / 255.0}


class EpochShuffleSampler(Sampler[int]):
    """A new order each epoch that depends only on (seed, epoch), not on the global RNG, so a
    fit resumed from a checkpoint sees the same frames as one never interrupted (Lightning
    calls ``set_epoch``)."""

    def __init__(self, length: int, seed: int) -> None:
        self.length = length
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed((self.seed + self.epoch) % 2**63)
        return iter(torch.randperm(self.length, generator=generator).tolist())


def split_frames(num_frames: int, train_every: int) -> tuple[list[int], list[int]]:
    """Frames with ``t % train_every == 0`` train; the others are held out and never fitted."""
    if train_every < 1:
        raise InrzooError(f"data.train_every must be >= 1, got {train_every}")
    train = [t for t in range(num_frames) if t % train_every == 0]
    heldout = [t for t in range(num_frames) if t % train_every != 0]
    return train, heldout


class VideoDataModule(pl.LightningDataModule):
    """Decodes one video (torchcodec) once, caches it, and serves its frames.

    Args:
        path: a video file (relative to the working directory) or ``sample:bunny``,
            ``sample:bikes``, ``sample:carphone``.
        resize: (H, W) to resize every frame to (antialiased bicubic), or None.
        center_crop: (H, W) centre crop applied after ``resize``, or None.
        max_frames: keep only the first frames (None: all).
        first_frame: skip the frames before this one (with ``max_frames``: a segment of the video).
        train_every: fit frames ``t % train_every == 0``; 2 holds out every odd frame.
        batch_size: frames per training step.
        num_workers: DataLoader workers (frames are read from the store; 0 is usually fastest).
        cache_dir: where decoded frames are cached; None disables the cache.
            Default: ``$INRZOO_CACHE_DIR/frames`` or ``~/.cache/inrzoo/frames``.
    """

    option_ranges = {
        "resize": PIXELS.per_item().optional(),
        "center_crop": PIXELS.per_item().optional(),
        "max_frames": COUNT.optional(),
        "first_frame": NON_NEGATIVE_COUNT,
        "train_every": integers(1, 10_000),
        "batch_size": integers(1, 65_536),
        "num_workers": integers(0, 1024),
    }

    def __init__(
        self,
        path: str = "sample:bunny",
        resize: tuple[int, int] | None = None,
        center_crop: tuple[int, int] | None = None,
        max_frames: int | None = None,
        first_frame: int = 0,
        train_every: int = 1,
        batch_size: int = 4,
        num_workers: int = 0,
        cache_dir: str | None = "default",
    ) -> None:
        check_options(self, locals())
        super().__init__()
        self.save_hyperparameters()
        self.path = resolve_video_path(path)
        self.geometry = FrameGeometry(
            resize=tuple(resize) if resize else None,
            center_crop=tuple(center_crop) if center_crop else None,
            max_frames=max_frames,
            first_frame=first_frame,
        )
        if max_frames is not None and max_frames < 1:
            raise InrzooError(f"data.max_frames must be >= 1, got {max_frames}")
        self.info: VideoInfo = probe_video(self.path)
        if not 0 <= first_frame < self.info.num_frames:
            raise InrzooError(
                f"data.first_frame {first_frame} is outside the video's {self.info.num_frames} frames; "
                f"use 0 to {self.info.num_frames - 1}"
            )
        available = self.info.num_frames - first_frame
        self._num_frames = min(available, max_frames or available)
        self._frame_size = self.geometry.output_size(self.info.height, self.info.width)
        if min(self._frame_size) < 1:
            raise InrzooError(f"frame size {self._frame_size} is empty; check data.resize/center_crop")
        self.train_indices, self.heldout_indices = split_frames(self._num_frames, train_every)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.cache_dir = default_cache_dir() if cache_dir == "default" else (Path(cache_dir) if cache_dir else None)
        # Decoded here, not on first use: the CLI links num_frames into the model right after this, and only
        # the decode knows how many frames there really are (a header may miscount).
        self._frames: FrameStore = load_frames(self.path, self.geometry, self.cache_dir)
        self._num_frames = len(self._frames)
        self.train_indices, self.heldout_indices = split_frames(self._num_frames, train_every)

    # -- geometry (linked into the model by the CLI) --------------------------------------
    @property
    def num_frames(self) -> int:
        return self._num_frames

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._frame_size

    @property
    def fps(self) -> float:
        """The stream's frame rate, from the decoded frames' timestamps (not duration / header count)."""
        return float(self._frames.meta.get("fps") or self.info.fps)

    @property
    def video_key(self) -> str:
        """Identity of the frames served (file path, size, mtime and geometry): keys derived caches."""
        return cache_key(self.path, self.geometry)

    @property
    def video_name(self) -> str:
        """A readable name: the file's stem, plus the frame range when only a segment is used."""
        first = self.geometry.first_frame
        if first == 0 and self._frames.meta.get("to_the_end", True):
            return self.path.stem
        return f"{self.path.stem}[{first}:{first + self.num_frames}]"

    @property
    def frames(self) -> FrameStore:
        """All frames as uint8 (T, 3, H, W), a store read on demand: index it (``frames[a:b]``) to get tensors."""
        return self._frames

    def setup(self, stage: str | None = None) -> None:
        """Nothing left to do: the frames were decoded (or found in the cache) when the module was built."""

    # -- loaders --------------------------------------------------------------------
    def _loader(self, indices: list[int], shuffle: bool, batch_size: int | None = None) -> DataLoader:
        # torch.initial_seed() is the run's seed (seed_everything), the same again on resume.
        return DataLoader(
            FrameDataset(self.frames, indices),
            batch_size=batch_size or self.batch_size,
            sampler=EpochShuffleSampler(len(indices), torch.initial_seed()) if shuffle else None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_indices, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        """Reconstruction quality on the fitted frames."""
        return self._loader(self.train_indices, shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """Held-out frames when there are any (decoded from neighbouring latents), else all frames."""
        return self._loader(self.heldout_indices or self.train_indices, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(list(range(self.num_frames)), shuffle=False)
