"""Decode a whole fitted video and score it against the ground truth."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from inrzoo.data.frame_store import FrameStore
from inrzoo.errors import InrzooError
from inrzoo.models.metrics import frame_psnr, frame_psnr_summary, score_frame_chunks, score_frames
from inrzoo.models.video_inr import VideoINR
from inrzoo.runs.decoding import TimedChunks, decode_uint8, iter_decode_uint8

__all__ = [
    "ReconstructionResult",
    "decode_all",
    "evaluate_reconstruction",
    "frame_psnr",
    "frame_psnr_summary",
    "score_frames",
]


@dataclass
class ReconstructionResult:
    """Scores of one decoded video (frames averaged), plus what it costs to store.

    A mean hides the frames a viewer notices: the worst frame and the 5th percentile of the
    per-frame PSNR are reported beside it, and ``frame_psnr`` keeps every frame's score.
    """

    psnr: float
    ms_ssim: float | None
    params: int
    bpp_16bit: float
    bpp_8bit: float
    decode_fps: float
    num_frames: int
    height: int
    width: int
    psnr_worst: float = float("nan")
    psnr_p5: float = float("nan")
    worst_frame: int = 0
    frame_psnr: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float | int | None | list[float]]:
        return asdict(self)


def decode_all(model: VideoINR, num_frames: int, batch_size: int = 8) -> tuple[Tensor, float]:
    """Every frame as uint8 (T, 3, H, W) and the decode speed in frames/second."""
    start = time.perf_counter()
    frames = decode_uint8(model, range(num_frames), batch_size)
    return frames, num_frames / max(time.perf_counter() - start, 1e-9)


@torch.no_grad()
def evaluate_reconstruction(
    model: VideoINR,
    ground_truth: Tensor | FrameStore,
    batch_size: int = 8,
    sink: Callable[[Tensor], None] | None = None,
    keep_decoded: bool = True,
    ms_ssim: bool | None = None,
) -> tuple[ReconstructionResult, Tensor | None]:
    """ground_truth: uint8 (T, 3, H, W), a tensor or a lazy frame store. Returns the scores and the decoded
    uint8 frames (None with ``keep_decoded=False``: then memory holds one batch, whatever the length).

    Frames are decoded and scored ``batch_size`` at a time; ``sink`` gets each decoded batch in order (an mp4
    writer). Scores use the 8-bit decoded frames, as a viewer would see them; ``ms_ssim``: see
    :func:`~inrzoo.models.metrics.score_frame_chunks` (None: not above 720p).
    """
    num_frames = int(ground_truth.shape[0])
    height, width = (int(v) for v in ground_truth.shape[-2:])
    if tuple(model.frame_size) != (height, width):
        shape = (num_frames, 3, *model.frame_size)
        raise InrzooError(f"decoded video has shape {shape}, expected {tuple(ground_truth.shape)}")
    kept: list[Tensor] = []
    chunks = TimedChunks(iter_decode_uint8(model, range(num_frames), batch_size))

    def passed_on() -> Iterator[Tensor]:
        for chunk in chunks:
            if sink is not None:
                sink(chunk)
            if keep_decoded:
                kept.append(chunk)
            yield chunk

    scores, frame_scores = score_frame_chunks(passed_on(), ground_truth, ms_ssim)
    decode_seconds = chunks.seconds
    result = ReconstructionResult(
        psnr=scores["psnr"],
        ms_ssim=scores.get("ms_ssim"),
        params=model.parameter_count(),
        bpp_16bit=model.bits_per_pixel(16),
        bpp_8bit=model.bits_per_pixel(8),
        decode_fps=num_frames / max(decode_seconds, 1e-9),
        num_frames=num_frames,
        height=height,
        width=width,
        psnr_worst=scores["psnr_worst"],
        psnr_p5=scores["psnr_p5"],
        worst_frame=int(scores["worst_frame"]),
        frame_psnr=[round(float(v), 4) for v in frame_scores],
    )
    return result, torch.cat(kept) if keep_decoded else None
