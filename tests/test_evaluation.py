"""Per-frame truth: every frame's PSNR, the worst frame and the 5th percentile beside the mean."""

from __future__ import annotations

import math

import pytest
import torch

from inrzoo.callbacks.fit_report import comparison_frames
from inrzoo.evaluation import frame_psnr, frame_psnr_summary, score_frames


def _video(seed: int = 0, frames: int = 12) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (frames, 3, 32, 40), generator=generator, dtype=torch.uint8)


def _with_noise(video: torch.Tensor, amplitude: list[int]) -> torch.Tensor:
    """Each frame shifted by its own amplitude (so its MSE is known exactly)."""
    out = video.clone().to(torch.int16)
    for t, a in enumerate(amplitude):
        out[t] = (out[t] + a).clamp(0, 255)
    return out.to(torch.uint8)


def test_frame_psnr_is_each_frames_own_score() -> None:
    truth = _video()
    decoded = _with_noise(truth, [2] * 12)
    decoded[7] = truth[7] // 2  # one visibly wrong frame
    scores = frame_psnr(decoded, truth, batch_size=5)  # batches must not change the answer
    assert scores.shape == (12,)
    for t in (0, 7):
        mse = ((decoded[t].float() - truth[t].float()) / 255).pow(2).mean()
        assert scores[t].item() == pytest.approx(-10 * math.log10(mse.item()), abs=1e-3)
    summary = frame_psnr_summary(scores)
    assert summary["worst_frame"] == 7
    assert summary["psnr_worst"] == pytest.approx(scores[7].item())
    assert summary["psnr_worst"] <= summary["psnr_p5"] <= scores.mean().item()


def test_score_frames_reports_the_worst_frame_beside_the_mean() -> None:
    truth = _video(frames=20)
    decoded = _with_noise(truth, [1] * 19 + [40])
    scores = score_frames(decoded, truth)
    assert scores["worst_frame"] == 19
    assert scores["psnr_worst"] < scores["psnr_p5"] < scores["psnr"]
    # The mean is the frame average (torchmetrics' PSNR over (C, H, W), averaged): the same per-frame scores.
    assert scores["psnr"] == pytest.approx(frame_psnr(decoded, truth).mean().item(), abs=1e-3)


def test_a_perfect_frame_is_capped_not_infinite() -> None:
    truth = _video(frames=3)
    assert torch.isfinite(frame_psnr(truth, truth)).all()


@pytest.mark.parametrize(
    ("frames", "count", "worst", "expected"),
    [
        (10, 4, 3, [0, 3, 6, 9]),  # already among the spread: unchanged
        (10, 4, 4, [0, 4, 6, 9]),  # replaces its nearest pick, still 4 rows
        (10, 4, 9, [0, 3, 6, 9]),
        (3, 4, 1, [0, 1, 2]),  # fewer frames than rows
        (1, 4, 0, [0]),
    ],
)
def test_the_comparison_always_shows_the_worst_frame(frames: int, count: int, worst: int, expected: list[int]) -> None:
    assert comparison_frames(frames, count, worst) == expected
