"""Spatial latents (hnerv) and content-adaptive latents (a frame encoder that only trains)."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from inrzoo.backbones import HiNeRVBackbone, HNeRVBackbone, NeRVBackbone
from inrzoo.backbones.hinerv import GridUpsampleStage
from inrzoo.compression.codec import CompressionSettings, decode_model, encode_model
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.hypernets import FiLMHyperHead
from inrzoo.models import VideoINR
from inrzoo.models.frame_encoder import FrameEncoder, downsampling_factors


def spatial_model(num_frames: int, frame_size: tuple[int, int], encoder: FrameEncoder | None = None, **kw) -> VideoINR:  # noqa: ANN003
    torch.manual_seed(0)
    backbone = HNeRVBackbone(channels=(16, 8), strides=(5, 2), head_stride=2)
    return VideoINR(backbone, FiLMHyperHead(hidden=8, layers=["blocks.*"]), latent_dim=4, num_frames=num_frames,
                    frame_size=frame_size, frame_encoder=encoder, **kw)  # fmt: skip


def _trainer(tmp_path: Path, **kwargs) -> pl.Trainer:  # noqa: ANN003
    defaults = dict(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                    enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path)  # fmt: skip
    return pl.Trainer(**{**defaults, **kwargs})


def test_a_spatial_latent_is_a_small_feature_map() -> None:
    model = spatial_model(num_frames=3, frame_size=(30, 45))  # padded to 40x60: a 2x3 grid of 4 channels
    assert model.backbone.latent_shape(4, (30, 45)) == (4, 2, 3)
    assert model.backbone.latent_size == 24 and model.latents.dim == 24
    assert tuple(model(torch.tensor([0, 2])).shape) == (2, 3, 30, 45)
    # Each grid cell drives its own part of the frame: changing one cell changes nearby pixels (far ones
    # only through the head's global modulation, a hundred times less).
    with torch.no_grad():
        latent = model.latents.weight[:1].clone()
        changed = latent.clone().reshape(1, 4, 2, 3)
        changed[0, :, 0, 0] += 3.0
        diff = (model.decode_latents(changed.reshape(1, -1)) - model.decode_latents(latent)).abs()[0].amax(0)
    assert diff[:10, :10].max() > 1e-2 and diff[:, 40:].max() < 0.01 * diff[:10, :10].max()


def _head_size(backbone: HNeRVBackbone, frame_size: tuple[int, int]) -> int:
    model = VideoINR(backbone, FiLMHyperHead(hidden=8), latent_dim=4, num_frames=2, frame_size=frame_size)
    return sum(p.numel() for p in model.hypernet.parameters())


def test_a_pooled_modulation_input_keeps_the_head_size_whatever_the_grid() -> None:
    def pooled() -> HNeRVBackbone:
        return HNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2, modulation_grid=(1, 1))

    def whole() -> HNeRVBackbone:
        return HNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2)

    assert _head_size(pooled(), (40, 60)) == _head_size(pooled(), (80, 120))  # 2x3 and 4x6 latent grids
    assert _head_size(whole(), (80, 120)) > _head_size(whole(), (40, 60)) > _head_size(pooled(), (40, 60))
    backbone = pooled().build(4, (40, 60))
    latents = torch.randn(2, backbone.latent_size)
    summary = backbone.modulation_input(latents)
    assert summary.shape == (2, 4)  # one number per channel: the mean over the grid
    assert torch.allclose(summary, latents.reshape(2, 4, 6).mean(-1))


def test_the_modulation_grid_must_be_two_positive_sizes() -> None:
    with pytest.raises(InrzooError, match=r"HNeRVBackbone modulation_grid: got \[0, 2\], expected a non-empty list"):
        HNeRVBackbone(channels=(8, 8), strides=(5, 2), modulation_grid=(0, 2))
    with pytest.raises(InrzooError, match="modulation_grid must be two positive sizes"):
        HiNeRVBackbone(channels=(8, 8), strides=(5, 2), modulation_grid=(2,))


def test_hinerv_rejects_mismatched_settings() -> None:
    with pytest.raises(InrzooError, match="one channel count per stride"):
        HiNeRVBackbone(channels=(8,), strides=(5, 2))
    with pytest.raises(InrzooError, match="odd kernel_size"):
        HiNeRVBackbone(channels=(8, 8), strides=(5, 2), kernel_size=4)
    with pytest.raises(InrzooError, match="cannot produce 10x10 frames"):
        HiNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2).build(4, (10, 10))


def test_hinerv_position_grids_tell_apart_the_pixels_of_a_cell() -> None:
    # A constant map upsampled bilinearly stays constant; the stage's learned grid makes the pixels of one
    # coarse cell differ (what a PixelShuffle conv does with per-position weights).
    torch.manual_seed(0)
    stage = GridUpsampleStage(4, 8, stride=5, kernel_size=3, expansion=2)
    constant = torch.ones(1, 4, 6, 6)
    interior = (slice(None), slice(None), slice(10, 20), slice(10, 20))  # away from the zero-padded borders
    with torch.no_grad():
        with_grid = stage(constant, None)[interior]
        stage.position_grid.zero_()
        without_grid = stage(constant, None)[interior]
    spread = {name: x.std(dim=(-2, -1)).max() for name, x in [("with", with_grid), ("without", without_grid)]}
    assert spread["without"] < 1e-5 < 1e-2 < spread["with"]


def test_vector_backbones_keep_vector_latents() -> None:
    backbone = NeRVBackbone(channels=(8, 8), strides=(5, 2), stem_channels=8).build(16, (20, 20))
    assert backbone.latent_shape(16, (20, 20)) == (16,) and backbone.latent_size == 16


def test_hnerv_rejects_mismatched_settings() -> None:
    with pytest.raises(InrzooError, match="one channel count per stride"):
        HNeRVBackbone(channels=(8,), strides=(5, 2))
    with pytest.raises(InrzooError, match="one odd kernel size per stride"):
        HNeRVBackbone(channels=(8, 8), strides=(5, 2), kernel_sizes=(3, 4))
    with pytest.raises(InrzooError, match="cannot produce 10x10 frames"):
        HNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2).build(4, (10, 10))


@pytest.mark.parametrize(
    ("total", "factors"), [(20, [5, 2, 2]), (40, [5, 2, 2, 2]), (1, []), (9, [3, 3]), (14, [2, 7])]
)
def test_downsampling_factors_multiply_back(total: int, factors: list[int]) -> None:
    assert downsampling_factors(total) == factors


@pytest.mark.parametrize("spatial", [True, False])
def test_the_encoder_maps_frames_onto_the_latent(spatial: bool) -> None:
    torch.manual_seed(0)
    if spatial:
        backbone = HNeRVBackbone(channels=(8, 8), strides=(5, 2), head_stride=2).build(4, (30, 45))
    else:
        backbone = NeRVBackbone(channels=(8, 8), strides=(5, 2), stem_channels=8).build(16, (30, 45))
    encoder = FrameEncoder(channels=8).build(
        backbone.latent_shape(backbone.latent_dim, (30, 45)), backbone.render_size()
    )
    latents = encoder(torch.rand(3, 3, 30, 45))
    assert tuple(latents.shape) == (3, backbone.latent_size)


def _spread_across_frames(init: str) -> tuple[float, float]:
    """(how far apart the latents of four frames of different brightness are, their mean magnitude) for a fresh
    encoder over four downsampling stages (the cpu tier's frame / 40 grid)."""
    torch.manual_seed(0)
    encoder = FrameEncoder(channels=16, init=init).build((4, 2, 4), (80, 160))
    frames = torch.linspace(0.1, 0.9, 4).view(4, 1, 1, 1) + 0.1 * torch.rand(4, 3, 80, 160)
    with torch.no_grad():
        latents = encoder(frames)
    return float(latents.std(0).mean()), float(latents.abs().mean())


def test_a_fresh_encoder_tells_frames_apart() -> None:
    """Under PyTorch's default initialisation the signal shrinks ~3x a layer: a fresh encoder gives every frame the
    same latent (its biases), so a fit starts by drawing one picture for all; He's initialisation (the default)
    carries the frame into the latent from the first step."""
    spread, magnitude = _spread_across_frames("kaiming")
    torch_spread, _ = _spread_across_frames("torch")
    assert spread > 0.3 * magnitude
    assert spread > 100 * torch_spread


def test_an_unknown_encoder_init_is_a_user_error() -> None:
    with pytest.raises(InrzooError, match="FrameEncoder init: got 'xavier', expected one of 'kaiming', 'torch'"):
        FrameEncoder(init="xavier")


def test_the_encoder_refuses_a_grid_that_does_not_divide_the_frame() -> None:
    with pytest.raises(InrzooError, match="cannot map 40x60 frames onto a 3x3 latent grid"):
        FrameEncoder().build((4, 3, 3), (40, 60))
    with pytest.raises(InrzooError, match="FrameEncoder handoff: got 0.0, expected a finite number in \\(0, 1\\]"):
        FrameEncoder(handoff=0.0)


@pytest.fixture(scope="module")
def encoded_fit(
    shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[VideoINR, VideoDataModule, torch.Tensor, float]:
    """A fit with a frame encoder on even frames only; odd frames are held out."""
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=2, train_every=2, cache_dir=None)
    model = spatial_model(data.num_frames, data.frame_size, FrameEncoder(channels=8), learning_rate=1e-2)
    data.setup("fit")
    before, _ = evaluate_reconstruction(model, data.frames)
    initial = model.latents.weight.detach().clone()
    _trainer(tmp_path_factory.mktemp("encoded"), max_epochs=30).fit(model, data)
    return model, data, initial, before.psnr


def test_the_encoder_fit_learns_and_leaves_its_latents_in_the_dictionary(encoded_fit) -> None:  # noqa: ANN001
    model, data, initial, psnr_before = encoded_fit
    assert not bool(model.encoder_retired), "without a handoff the encoder serves the whole fit"
    after, _ = evaluate_reconstruction(model, data.frames)
    assert after.psnr > psnr_before + 5, f"PSNR {psnr_before:.2f} -> {after.psnr:.2f} dB"
    trained = torch.arange(0, data.num_frames, 2)
    with torch.no_grad():
        encoded = model.frame_encoder(data.frames[trained].float() / 255)
    torch.testing.assert_close(model.latents.weight[trained].detach(), encoded)


def test_held_out_frames_never_pass_through_the_encoder(encoded_fit) -> None:  # noqa: ANN001
    model, data, initial, _ = encoded_fit
    assert torch.equal(model.latents.weight[1::2].detach(), initial[1::2]), "held-out rows must stay untrained"
    with torch.no_grad():
        odd = model.decode_frames(torch.tensor([1, 3]))
        blend = model.decode_latents((model.latents.weight[[0, 2]] + model.latents.weight[[2, 4]]) / 2)
    torch.testing.assert_close(odd, blend)


def test_the_encoder_is_neither_counted_nor_stored(encoded_fit) -> None:  # noqa: ANN001
    model, data, _, _ = encoded_fit
    decoder = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("frame_encoder."))
    assert model.parameter_count() == decoder < sum(p.numel() for p in model.parameters())
    config = {"backbone": {"class_path": "inrzoo.backbones.HNeRVBackbone",
                           "init_args": {"channels": [16, 8], "strides": [5, 2], "head_stride": 2}},
              "hypernet": {"class_path": "inrzoo.hypernets.FiLMHyperHead",
                           "init_args": {"hidden": 8, "layers": ["blocks.*"]}},
              "latent_dim": 4, "num_frames": data.num_frames, "frame_size": list(data.frame_size),
              "frame_encoder": {"class_path": "inrzoo.models.FrameEncoder", "init_args": {"channels": 8}}}  # fmt: skip
    stream = encode_model(model, config, {}, CompressionSettings(weight_bits=16, latent_bits=16))
    names = [entry["name"] for entry in stream.header["tensors"]]
    assert not [n for n in names if n.startswith("frame_encoder") or n == "encoder_retired"]
    assert stream.header["model"]["frame_encoder"] is None
    rebuilt = decode_model(stream)
    assert rebuilt.frame_encoder is None
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(torch.arange(4)), model(torch.arange(4)), atol=2e-3, rtol=0)


def test_a_checkpoint_holds_the_encoders_current_latents(shared_clip_path: Path, tmp_path: Path) -> None:
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    model = spatial_model(data.num_frames, data.frame_size, FrameEncoder(channels=8))
    trainer = _trainer(tmp_path, max_epochs=2)
    trainer.fit(model, data)
    model.encoder_retired.fill_(False)  # as during training: the dictionary is stale until saved
    with torch.no_grad():
        model.latents.weight.zero_()
    trainer.save_checkpoint(tmp_path / "mid.ckpt")
    state = torch.load(tmp_path / "mid.ckpt", weights_only=True)["state_dict"]
    with torch.no_grad():
        encoded = model.frame_encoder(data.frames.float() / 255)
    torch.testing.assert_close(state["latents.weight"], encoded)


def test_a_handoff_trains_the_latents_directly_afterwards(shared_clip_path: Path, tmp_path: Path) -> None:
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    model = spatial_model(data.num_frames, data.frame_size, FrameEncoder(channels=8, handoff=0.5))
    _trainer(tmp_path, max_epochs=6).fit(model, data)
    assert bool(model.encoder_retired)
    with torch.no_grad():
        encoded = model.frame_encoder(data.frames.float() / 255)
    # After the handoff the encoder stops learning and the latents move on their own.
    assert not torch.allclose(model.latents.weight.detach(), encoded, atol=1e-4)
