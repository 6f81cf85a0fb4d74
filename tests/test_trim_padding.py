"""hnerv's ``trim_padding``: each stage renders only the rows and columns the frame needs."""

from __future__ import annotations

import math
from pathlib import Path

import lightning.pytorch as pl
import torch
from helpers import block_gradients_channels_last
from hypothesis import given, settings
from hypothesis import strategies as st

from inrzoo.backbones.hnerv import HNeRVBackbone
from inrzoo.backbones.layers import crop_to
from inrzoo.data import VideoDataModule
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.hypernets import FiLMHyperHead
from inrzoo.models import VideoINR
from inrzoo.testing.factories import random_latents


def hnerv(
    trim: bool, frame_size: tuple[int, int], strides: tuple[int, ...] = (5, 2), head_stride: int = 2
) -> HNeRVBackbone:
    channels = tuple(8 for _ in strides)
    backbone = HNeRVBackbone(channels=channels, strides=strides, head_stride=head_stride, trim_padding=trim)
    return backbone.build(4, frame_size)


def stage_sizes(backbone: HNeRVBackbone, latents: torch.Tensor) -> list[tuple[int, int]]:
    """(h, w) of what each conv after the first reads (the blocks' outputs as rendered): what those convs pay for."""
    sizes: list[tuple[int, int]] = []
    convs = [block.conv for block in backbone.blocks[1:]] + [backbone.head]
    hooks = [conv.register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:]))) for conv in convs]
    try:
        backbone(latents, {})
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


@settings(max_examples=60, deadline=None)
@given(
    strides=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    head_stride=st.integers(1, 4),
    height=st.integers(1, 400),
    width=st.integers(1, 400),
)
def test_trimmed_sizes_are_the_fewest_that_cover_the_frame(
    strides: list[int], head_stride: int, height: int, width: int
) -> None:
    multiple = math.prod(strides) * head_stride
    backbone = HNeRVBackbone(channels=[2] * len(strides), strides=strides, head_stride=head_stride, trim_padding=True)
    backbone.frame_size = (max(height, multiple), max(width, multiple))
    frame_h, frame_w = backbone.frame_size
    grid_h, grid_w = -(-frame_h // multiple), -(-frame_w // multiple)
    remaining = multiple
    for stride, (h, w) in zip(strides, backbone.trimmed_sizes(), strict=True):
        remaining //= stride
        grid_h, grid_w = grid_h * stride, grid_w * stride  # the untrimmed stage's size
        assert h * remaining >= frame_h and w * remaining >= frame_w, "the stage covers the frame"
        assert (h - 1) * remaining < frame_h and (w - 1) * remaining < frame_w, "and has no row or column to spare"
        assert h <= grid_h and w <= grid_w


def test_trimming_renders_smaller_stages_and_the_whole_frame() -> None:
    frame = (30, 50)  # the strides' product is 20: the untrimmed stages render 40x60
    latents = random_latents(2, hnerv(True, frame).latent_size)
    trimmed, padded = hnerv(True, frame), hnerv(False, frame)
    assert stage_sizes(trimmed, latents) == [(8, 13), (15, 25)]
    assert stage_sizes(padded, latents) == [(10, 15), (20, 30)]
    model = VideoINR(trimmed, FiLMHyperHead(hidden=8, layers=["head"]), latent_dim=4, num_frames=2, frame_size=frame)
    assert tuple(model(torch.arange(2)).shape) == (2, 3, *frame)


def test_trimming_changes_nothing_when_the_frame_needs_no_padding() -> None:
    frame = (40, 60)
    torch.manual_seed(0)
    trimmed = hnerv(True, frame)
    padded = hnerv(False, frame)
    padded.load_state_dict(trimmed.state_dict())
    latents = random_latents(3, trimmed.latent_size)
    with torch.no_grad():
        torch.testing.assert_close(trimmed(latents, {}), padded(latents, {}))


def test_a_crop_keeps_the_values_and_its_gradient_keeps_the_memory_order() -> None:
    x = torch.randn(2, 5, 11, 13).contiguous(memory_format=torch.channels_last).requires_grad_()
    cropped = crop_to(x, 9, 12)
    torch.testing.assert_close(cropped, x[..., :9, :12], rtol=0, atol=0)
    (grad,) = torch.autograd.grad(cropped, x, torch.ones_like(cropped))
    assert grad.is_contiguous(memory_format=torch.channels_last)  # an indexed slice's gradient comes back NCHW
    assert grad[..., :9, :12].eq(1).all() and grad[..., 9:, :].eq(0).all() and grad[..., 12:].eq(0).all()
    assert crop_to(x, 11, 13) is x
    assert crop_to(x, 20, 12).shape == x[..., :20, :12].shape == (2, 5, 11, 12)  # never pads a short side


def test_a_channels_last_trimmed_decoder_gets_channels_last_gradients() -> None:
    """Each block's output, trimmed, gets its gradient in the activations' own order: on mixed orders every backward
    op of the block behind it ran slower (an indexed slice cost the cpu tier's hnerv ~10% a step)."""
    assert block_gradients_channels_last(hnerv(True, (30, 50))) == [True, True]


def test_the_size_family_trims_and_a_trimmed_model_learns(shared_clip_path: Path, tmp_path: Path) -> None:
    """Every member of hnerv's size family trims; a fit with it on frames that need padding still learns."""
    for scale in (1.0, 3.4, HNeRVBackbone.FINE_LATENT_SCALE + 2):
        assert HNeRVBackbone.scaled_kwargs(scale)["trim_padding"] is True
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=2, cache_dir=None, resize=(36, 52))
    backbone = HNeRVBackbone(channels=(16, 8), strides=(5, 2), head_stride=2, trim_padding=True)
    model = VideoINR(backbone, FiLMHyperHead(hidden=8, layers=["head"]), latent_dim=4, num_frames=data.num_frames,
                     frame_size=data.frame_size, learning_rate=5e-3)  # fmt: skip
    data.setup("fit")
    before, _ = evaluate_reconstruction(model, data.frames)
    trainer = pl.Trainer(max_epochs=30, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                         default_root_dir=tmp_path)  # fmt: skip
    trainer.fit(model, data)
    after, _ = evaluate_reconstruction(model, data.frames)
    assert after.psnr > before.psnr + 3, (before.psnr, after.psnr)
