"""The one batched uint8 decode of a fitted model (every command, score and file writer goes through it)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import torch
from torch import Tensor

from inrzoo.data.memory import bound_allocator_for
from inrzoo.models.video_inr import VideoINR

#: Pixels decoded (or scored) at once: one 1080p frame. A batch of large frames is cut to this, so memory
#: follows the frame size, not ``batch_size`` x it (small frames keep their batch).
PIXELS_PER_BATCH = 1920 * 1088


def frames_per_batch(frame_size: tuple[int, int], batch_size: int) -> int:
    """``batch_size``, lowered so that a batch holds about :data:`PIXELS_PER_BATCH` pixels (at least 1 frame)."""
    return max(1, min(batch_size, PIXELS_PER_BATCH // max(1, frame_size[0] * frame_size[1])))


@torch.no_grad()
def to_uint8(frames: Tensor) -> Tensor:
    """Frames in [0, 1] -> uint8 on the CPU, as a viewer (and every score) sees them."""
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).cpu()


def decode_uint8(model: VideoINR, indices: Iterable[int] | Tensor | None = None, batch_size: int = 8) -> Tensor:
    """uint8 (N, 3, H, W) frames ``indices`` (default: every frame) from :meth:`VideoINR.decode_frames`,
    ``batch_size`` at a time, in eval mode, on the model's device (any subset: random access)."""
    return torch.cat(list(iter_decode_uint8(model, indices, batch_size)))


def iter_decode_uint8(
    model: VideoINR, indices: Iterable[int] | Tensor | None = None, batch_size: int = 8
) -> Iterator[Tensor]:
    """:func:`decode_uint8` as a stream of uint8 (n <= batch_size, 3, H, W) chunks, in order: a writer can
    take each as it comes, so memory holds one chunk, not the video."""
    if indices is None:
        indices = range(model.latents.num_frames)
    wanted = indices.long().flatten() if isinstance(indices, Tensor) else torch.tensor(list(indices), dtype=torch.long)
    device = next(model.parameters()).device
    bound_allocator_for(model.frame_size)  # large frames: freed batches go back to the OS
    was_training = model.training
    model.eval()
    try:
        for chunk in wanted.split(frames_per_batch(model.frame_size, batch_size)):
            with torch.no_grad():
                yield to_uint8(model.decode_frames(chunk.to(device)))
    finally:
        model.train(was_training)


class TimedChunks:
    """Iterate ``chunks`` and add up the seconds spent producing them (decode speed apart from what the
    consumer does with each chunk)."""

    def __init__(self, chunks: Iterable[Tensor]) -> None:
        self._chunks = iter(chunks)
        self.seconds = 0.0

    def __iter__(self) -> Iterator[Tensor]:
        return self

    def __next__(self) -> Tensor:
        start = time.perf_counter()
        try:
            return next(self._chunks)
        finally:
            self.seconds += time.perf_counter() - start
