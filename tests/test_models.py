"""The video model: latent dictionary, losses, metrics, size accounting, and a fit that learns."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchmetrics.functional.image import structural_similarity_index_measure
from torchmetrics.image import MultiScaleStructuralSimilarityIndexMeasure

from inrzoo.alignment import Alignment
from inrzoo.backbones import NeRVBackbone, SirenBackbone, list_backbones
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.hypernets import FiLMHyperHead, LowRankGateHyperHead, list_hypernets
from inrzoo.models import FrameEncoder, LatentDictionary, ReconstructionLoss, VideoINR
from inrzoo.models.metrics import MS_SSIM_BETAS, frame_metrics, ms_ssim_scales
from inrzoo.models.video_inr import PLUGIN_ARGUMENTS
from inrzoo.tasks import SlerpInterpolator
from inrzoo.teachers import FeatureFileTeacher
from inrzoo.testing import tiny_backbone, tiny_hypernet


# -- LatentDictionary ---------------------------------------------------------------------
@pytest.fixture
def dictionary() -> LatentDictionary:
    torch.manual_seed(0)
    latents = LatentDictionary(num_frames=9, dim=4)
    latents.mark_trained([0, 2, 4, 6, 8])
    return latents


def test_forward_looks_up_rows(dictionary: LatentDictionary) -> None:
    indices = torch.tensor([3, 0, 8])
    assert torch.equal(dictionary(indices), dictionary.weight[indices])
    assert (dictionary.num_frames, dictionary.dim) == (9, 4)


def test_init_std_sets_the_spread() -> None:
    torch.manual_seed(0)
    latents = LatentDictionary(num_frames=2000, dim=8, init_std=0.01)
    assert latents.weight.std().item() == pytest.approx(0.01, rel=0.05)


def test_at_trained_integer_times_gives_the_row(dictionary: LatentDictionary) -> None:
    times = torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0])
    assert torch.equal(dictionary.at_times(times), dictionary.weight[[0, 2, 4, 6, 8]])


def test_halfway_blends_the_neighbours(dictionary: LatentDictionary) -> None:
    w = dictionary.weight.detach()
    out = dictionary.at_times(torch.tensor([1.0, 5.0, 2.5])).detach()
    torch.testing.assert_close(out[0], (w[0] + w[2]) / 2)
    torch.testing.assert_close(out[1], (w[4] + w[6]) / 2)
    torch.testing.assert_close(out[2], 0.75 * w[2] + 0.25 * w[4])


def test_times_outside_the_trained_range_clamp_to_the_nearest_entry() -> None:
    latents = LatentDictionary(num_frames=6, dim=3)
    latents.mark_trained([1, 3])
    out = latents.at_times(torch.tensor([0.0, 5.0])).detach()
    assert torch.equal(out[0], latents.weight[1].detach())
    assert torch.equal(out[1], latents.weight[3].detach())


def test_held_out_rows_are_never_used(dictionary: LatentDictionary) -> None:
    times = torch.linspace(0, 8, 33)  # every quarter frame, held-out integers included
    dictionary.at_times(times).sum().backward()
    held_out_grad = dictionary.weight.grad[[1, 3, 5, 7]]
    assert torch.equal(held_out_grad, torch.zeros_like(held_out_grad))
    before = dictionary.at_times(times).detach()
    with torch.no_grad():
        dictionary.weight[[1, 3, 5, 7]] = 1e6
    assert torch.equal(dictionary.at_times(times).detach(), before)


def test_everything_trained_by_default() -> None:
    latents = LatentDictionary(num_frames=5, dim=2)
    out = latents.at_times(torch.arange(5).float())
    assert torch.equal(out, latents.weight)


# -- losses ------------------------------------------------------------------------------
@pytest.fixture
def image_pair() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 24, 24, generator=generator)
    prediction = (target + 0.1 * torch.randn(2, 3, 24, 24, generator=generator)).clamp(0, 1)
    return prediction, target


def test_default_loss_is_mse(image_pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    prediction, target = image_pair
    terms = ReconstructionLoss()(prediction, target)
    assert set(terms) == {"l2", "loss"}
    torch.testing.assert_close(terms["loss"], F.mse_loss(prediction, target))


def test_loss_mix_is_the_weighted_sum(image_pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    prediction, target = image_pair
    terms = ReconstructionLoss(l1=0.5, l2=2.0, ssim=0.25)(prediction, target)
    l1 = (prediction - target).abs().mean()
    l2 = ((prediction - target) ** 2).mean()
    ssim = structural_similarity_index_measure(prediction, target, data_range=1.0)
    torch.testing.assert_close(terms["l1"], l1)
    torch.testing.assert_close(terms["l2"], l2)
    torch.testing.assert_close(terms["ssim"], 1 - ssim)
    torch.testing.assert_close(terms["loss"], 0.5 * l1 + 2.0 * l2 + 0.25 * (1 - ssim))


def test_loss_is_zero_for_a_perfect_reconstruction(image_pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    _, target = image_pair
    terms = ReconstructionLoss(l1=1, l2=1, ssim=1)(target.clone(), target)
    assert terms["loss"].item() == pytest.approx(0.0, abs=1e-5)


def test_loss_gradient_flows(image_pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    prediction, target = image_pair
    prediction = prediction.clone().requires_grad_(True)
    ReconstructionLoss(l1=1, l2=1, ssim=1)(prediction, target)["loss"].backward()
    assert prediction.grad is not None and prediction.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"l1": -1.0}, "ReconstructionLoss l1: got -1.0, expected a finite number from 0 to"),
        ({"l2": 0.0}, "loss weights must be >= 0 and not all zero"),
        ({"l1": 0.0, "l2": 0.0, "ssim": 0.0}, "loss weights must be >= 0 and not all zero"),
        ({"ssim": -0.5}, "ReconstructionLoss ssim: got -0.5"),
        ({"l2": float("nan")}, "ReconstructionLoss l2: got nan"),
    ],
)
def test_invalid_loss_weights_are_user_errors(weights: dict[str, float], message: str) -> None:
    with pytest.raises(InrzooError, match=message):
        ReconstructionLoss(**weights)


# -- metrics ------------------------------------------------------------------------------
def test_ms_ssim_scales_are_accepted_by_torchmetrics() -> None:
    # Every small side, so the boundaries of each scale count are all exercised.
    previous = 0
    for side in range(1, 200):
        size = (side, side + 3)
        scales = ms_ssim_scales(size)
        assert previous <= scales <= len(MS_SSIM_BETAS), "larger frames never get fewer scales"
        previous = scales
        if scales:
            frames = torch.rand(1, 3, *size, generator=torch.Generator().manual_seed(side))
            metric = MultiScaleStructuralSimilarityIndexMeasure(
                data_range=1.0, betas=MS_SSIM_BETAS[:scales], normalize="relu"
            )
            assert float(metric(frames, frames)) == pytest.approx(1.0, abs=1e-4), size
    assert ms_ssim_scales((10, 400)) == 0, "the 11-pixel window does not fit a 10-pixel side"
    assert ms_ssim_scales((720, 1280)) == len(MS_SSIM_BETAS)


@pytest.mark.parametrize("size", [(40, 60), (90, 160), (96, 96), (170, 300)])
def test_frame_metrics_run_at_common_sizes(size: tuple[int, int]) -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, *size, generator=generator)
    scores = frame_metrics(size)(target.flip(0), target)
    assert set(scores) == {"psnr", "ms_ssim"}
    assert all(torch.isfinite(v) for v in scores.values())


def test_frame_metrics_on_small_frames() -> None:
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(3, 3, 40, 60, generator=generator)
    noisy = (target + 0.05 * torch.randn(3, 3, 40, 60, generator=generator)).clamp(0, 1)
    metrics = frame_metrics((40, 60), prefix="val/")
    scores = metrics(noisy, target)
    assert set(scores) == {"val/psnr", "val/ms_ssim"}
    per_frame_mse = ((noisy - target) ** 2).mean(dim=(1, 2, 3))
    expected_psnr = (-10 * torch.log10(per_frame_mse)).mean()  # averaged over frames, not pooled
    torch.testing.assert_close(scores["val/psnr"], expected_psnr)
    assert 0 < scores["val/ms_ssim"] < 1
    assert set(frame_metrics((8, 8))) == {"psnr"}, "frames too small for any MS-SSIM scale report PSNR only"


# -- the model --------------------------------------------------------------------------
def tiny_model(num_frames: int = 12, frame_size: tuple[int, int] = (40, 60), **kwargs) -> VideoINR:  # noqa: ANN003
    torch.manual_seed(0)
    backbone = NeRVBackbone(channels=(16, 12, 8), strides=(5, 2, 2), stem_channels=16)
    return VideoINR(
        backbone, FiLMHyperHead(hidden=16), latent_dim=16, num_frames=num_frames, frame_size=frame_size, **kwargs
    )


def test_model_crops_back_to_the_native_frame_size() -> None:
    model = tiny_model(num_frames=3, frame_size=(30, 45))
    assert model.backbone.render_size() == (40, 60)
    frames = model(torch.tensor([0, 2]))
    assert tuple(frames.shape) == (2, 3, 30, 45)
    assert tuple(model.decode_frames(torch.tensor([1])).shape) == (1, 3, 30, 45)


def test_different_frames_decode_differently() -> None:
    model = tiny_model(num_frames=4)
    with torch.no_grad():
        frames = model(torch.arange(4))
    assert not torch.allclose(frames[0], frames[1]), "time must enter through the latent"


def test_bits_per_pixel_counts_every_stored_parameter() -> None:
    model = tiny_model(num_frames=6, frame_size=(30, 45))
    latents = 6 * 16
    backbone = sum(p.numel() for p in model.backbone.parameters())
    hypernet = sum(p.numel() for p in model.hypernet.parameters())
    assert model.parameter_count() == latents + backbone + hypernet
    for bits in (8, 16, 32):
        assert model.bits_per_pixel(bits) == pytest.approx((latents + backbone + hypernet) * bits / (6 * 30 * 45))
    bigger = VideoINR(
        NeRVBackbone(channels=(16, 12, 8), strides=(5, 2, 2), stem_channels=16),
        FiLMHyperHead(hidden=16),
        latent_dim=16,
        num_frames=12,
        frame_size=(30, 45),
    )
    assert bigger.parameter_count() - model.parameter_count() == 6 * 16, "each extra frame costs one latent"


@pytest.mark.parametrize("backbone_name", ["nerv-conv", "hnerv", "hinerv"])
def test_channels_last_renders_the_same_frames(backbone_name: str) -> None:
    def make(channels_last: bool) -> VideoINR:
        torch.manual_seed(0)
        encoder = FrameEncoder(channels=4)
        return VideoINR(tiny_backbone(backbone_name), FiLMHyperHead(hidden=8), latent_dim=4, num_frames=3,
                        frame_size=(40, 60), frame_encoder=encoder, channels_last=channels_last)  # fmt: skip

    plain, nhwc = make(False), make(True)
    convs = [p for p in nhwc.backbone.parameters() if p.dim() == 4] + [
        p for p in nhwc.frame_encoder.parameters() if p.dim() == 4
    ]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    nhwc.load_state_dict(plain.state_dict())  # the same weights load into either memory order
    frames = torch.rand(2, 3, 40, 60)
    with torch.no_grad():
        assert torch.allclose(nhwc(torch.arange(3)), plain(torch.arange(3)), atol=1e-5)
        assert torch.allclose(nhwc.frame_encoder(frames), plain.frame_encoder(frames), atol=1e-5)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in convs), "loading kept the order"


def test_a_prebuilt_backbone_is_used_as_is() -> None:
    backbone = SirenBackbone(width=16, depth=2).build(8, (10, 12))
    model = VideoINR(backbone, LowRankGateHyperHead(hidden=8, rank=2), latent_dim=8, num_frames=2, frame_size=(10, 12))
    assert model.backbone is backbone
    assert tuple(model(torch.tensor([0, 1])).shape) == (2, 3, 10, 12)


def test_a_model_built_in_python_saves_only_plain_hyperparameters(shared_clip_path: Path, tmp_path: Path) -> None:
    """Live plugins stay out of the hyperparameters (Lightning neither warns about nor keeps them), so the
    checkpoint loads with weights_only=True; the plain arguments are kept."""
    features = tmp_path / "features.npy"
    np.save(features, np.random.default_rng(0).standard_normal((12, 8)).astype(np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = tiny_model(
            loss=ReconstructionLoss(l1=0.5), interpolator=SlerpInterpolator(), frame_encoder=FrameEncoder(channels=4),
            alignment=Alignment(teacher=FeatureFileTeacher(str(features)), cache_dir=str(tmp_path / "cache")),
        )  # fmt: skip
    assert not [w for w in caught if "nn.Module" in str(w.message)], [str(w.message) for w in caught]
    for hparams in (model.hparams, model.hparams_initial):
        assert set(hparams).isdisjoint(PLUGIN_ARGUMENTS), sorted(hparams)
        assert hparams["latent_dim"] == 16 and hparams["num_frames"] == 12
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    trainer = pl.Trainer(
        max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, data)
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    saved = torch.load(tmp_path / "model.ckpt", weights_only=True)
    assert saved["hyper_parameters"]["frame_size"] == (40, 60)
    loaded = VideoINR.load_from_checkpoint(
        tmp_path / "model.ckpt", weights_only=True, backbone=NeRVBackbone(channels=(16, 12, 8), stem_channels=16),
        hypernet=FiLMHyperHead(hidden=16), alignment=model.alignment, frame_encoder=FrameEncoder(channels=4),
    )  # fmt: skip
    with torch.no_grad():
        torch.testing.assert_close(loaded(torch.arange(3)), model(torch.arange(3)))


def test_a_short_fit_learns(shared_clip_path: Path, tmp_path: Path) -> None:
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    model = tiny_model(num_frames=data.num_frames, frame_size=data.frame_size, learning_rate=5e-3)
    data.setup("fit")
    before, _ = evaluate_reconstruction(model, data.frames)
    trainer = pl.Trainer(
        max_epochs=40,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, data)
    after, decoded = evaluate_reconstruction(model, data.frames)
    assert after.psnr > before.psnr + 5, f"PSNR {before.psnr:.2f} -> {after.psnr:.2f} dB: the fit did not learn"
    assert tuple(decoded.shape) == tuple(data.frames.shape) and decoded.dtype == torch.uint8
    assert after.ms_ssim is not None and after.ms_ssim > before.ms_ssim
    mse = ((decoded.float() - data.frames.float()) / 255).pow(2).mean(dim=(1, 2, 3))
    assert after.psnr == pytest.approx(float((-10 * torch.log10(mse)).mean()), abs=1e-3)
    assert after.bpp_8bit == pytest.approx(after.bpp_16bit / 2)
    assert math.isfinite(after.decode_fps) and after.decode_fps > 0


def _logged_rows(shared_clip_path: Path, tmp_path: Path, every_step: bool) -> tuple[list[dict], dict]:
    """A 25-step fit logging every 10 steps to a CSV: its rows, and the callback metrics at the end."""
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    model = tiny_model(num_frames=data.num_frames, frame_size=data.frame_size, learning_rate=5e-3)
    if every_step:  # what VideoINR did before it skipped the steps Lightning does not write
        model._logs_this_step = lambda: True
    logger = pl.loggers.CSVLogger(tmp_path, name="every" if every_step else "written")
    trainer = pl.Trainer(max_steps=25, log_every_n_steps=10, accelerator="cpu", logger=logger, limit_val_batches=0,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)  # fmt: skip
    trainer.fit(model, data)
    rows = [row for row in csv.DictReader(Path(logger.log_dir, "metrics.csv").open()) if row.get("train/psnr")]
    return rows, {k: float(v) for k, v in trainer.callback_metrics.items()}


def test_scalars_logged_only_on_written_steps_lose_nothing(shared_clip_path: Path, tmp_path: Path) -> None:
    """Each step's scalars go to Lightning only on the steps its logger writes (and the first and last): the
    logger gets the same rows, and the last step's values, as when every step logs them."""
    written, written_last = _logged_rows(shared_clip_path, tmp_path, every_step=False)
    every, every_last = _logged_rows(shared_clip_path, tmp_path, every_step=True)
    assert [r["step"] for r in written] == [r["step"] for r in every] and len(written) >= 2
    assert written == every
    assert written_last == pytest.approx(every_last)


def test_each_training_step_returns_its_psnr(clip_frames: torch.Tensor) -> None:
    """The divergence guard watches every step's PSNR; the step returns it whether or not it logs it."""
    model = tiny_model(num_frames=clip_frames.shape[0], frame_size=tuple(clip_frames.shape[-2:]))
    frames = clip_frames[:2].float() / 255
    out = model.training_step({"index": torch.tensor([0, 1]), "frame": frames}, 0)
    mse = ((model(torch.tensor([0, 1])).detach().clamp(0, 1) - frames) ** 2).mean()
    assert float(out["psnr"]) == pytest.approx(float(-10 * torch.log10(mse)), abs=1e-4)
    assert out["loss"].requires_grad and not out["psnr"].requires_grad


def test_held_out_frames_are_decoded_from_trained_neighbours(shared_clip_path: Path, tmp_path: Path) -> None:
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=2, train_every=2, cache_dir=None)
    model = tiny_model(num_frames=data.num_frames, frame_size=data.frame_size)
    trainer = pl.Trainer(
        max_epochs=1,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=tmp_path,
    )
    heldout = model.latents.weight[1::2].detach().clone()
    trainer.fit(model, data)
    assert model.latents.trained.tolist() == [t % 2 == 0 for t in range(data.num_frames)]
    assert torch.equal(model.latents.weight[1::2].detach(), heldout), "held-out latents must never be fitted"
    with torch.no_grad():
        model.latents.weight[1::2] = 1e3  # poison: a held-out row that is read would show
        odd = model.decode_frames(torch.tensor([1, 3]))
        blend = model.decode_latents((model.latents.weight[[0, 2]] + model.latents.weight[[2, 4]]) / 2)
    torch.testing.assert_close(odd, blend)


@pytest.mark.parametrize("hypernet", list_hypernets())
@pytest.mark.parametrize("backbone", list_backbones())
def test_every_combination_fits_a_batch(backbone: str, hypernet: str, clip_frames: torch.Tensor) -> None:
    """Every registered backbone x head trains inside VideoINR: 25 steps on one batch lower the loss."""
    torch.manual_seed(0)
    frames = clip_frames[:4, :, :20, :40].float() / 255
    model = VideoINR(tiny_backbone(backbone), tiny_hypernet(hypernet), latent_dim=8, num_frames=4, frame_size=(20, 40))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    indices = torch.arange(4)
    losses = []
    for _ in range(25):
        optimizer.zero_grad()
        loss = model.loss_fn(model(indices), frames)["loss"]
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.75 * losses[0], f"{backbone} + {hypernet}: loss {losses[0]:.4f} -> {losses[-1]:.4f}"


def _final_lr_factor(shared_clip_path: Path, tmp_path: Path, lr_schedule: str, **trainer_kwargs) -> float:  # noqa: ANN003
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    model = tiny_model(
        num_frames=data.num_frames, frame_size=data.frame_size, learning_rate=1e-2, lr_schedule=lr_schedule
    )
    trainer = pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=tmp_path,
        **trainer_kwargs,
    )
    trainer.fit(model, data)
    return trainer.optimizers[0].param_groups[0]["lr"] / 1e-2


def test_step_schedule_decays_to_the_floor_by_the_last_epoch(shared_clip_path: Path, tmp_path: Path) -> None:
    assert _final_lr_factor(shared_clip_path, tmp_path, "steps", max_epochs=6) < 0.05


def test_time_schedule_decays_within_a_wall_clock_budget(shared_clip_path: Path, tmp_path: Path) -> None:
    """With only max_time, a step schedule cannot know its end and holds the peak rate; the time
    schedule reaches the bottom of its cosine when the budget runs out."""
    held = _final_lr_factor(shared_clip_path, tmp_path, "steps", max_time={"seconds": 2}, max_epochs=-1)
    decayed = _final_lr_factor(shared_clip_path, tmp_path, "time", max_time={"seconds": 2}, max_epochs=-1)
    assert held == pytest.approx(1.0)
    assert decayed < 0.1


def _recorded_fit(clip: Path, root: Path, recorder: pl.Callback, steps: int, **kwargs: Any) -> None:  # noqa: ANN401
    """A tiny model's fit of ``steps`` steps (batch 4, seed 0) with ``recorder`` watching it."""
    pl.seed_everything(0)
    data = VideoDataModule(str(clip), batch_size=4, cache_dir=None)
    model = tiny_model(num_frames=data.num_frames, frame_size=data.frame_size, **kwargs)
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, default_root_dir=root, callbacks=[recorder],
    )  # fmt: skip
    trainer.fit(model, data)


class _RateRecorder(pl.Callback):
    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


def test_a_fit_holds_the_peak_rate_then_decays_linearly_when_told(shared_clip_path: Path, tmp_path: Path) -> None:
    """lr_decay="linear", decay_fraction=0.5 (the conv backbones' recipe): the fit's own scheduler holds the peak
    for the first half after the warm-up and falls in a straight line to 1% of it."""
    recorder = _RateRecorder()
    _recorded_fit(shared_clip_path, tmp_path, recorder, 40, learning_rate=1e-2, warmup_fraction=0.1,
                  lr_decay="linear", decay_fraction=0.5)  # fmt: skip
    factors = [rate / 1e-2 for rate in recorder.rates]  # after step k the scheduler has stepped to k + 1
    assert factors[4:21] == pytest.approx([1.0] * 17)  # steps 5 to 22 of 40: past the warm-up, not yet halfway on
    falls = [a - b for a, b in zip(factors[22:-1], factors[23:], strict=True)]
    assert falls == pytest.approx([falls[0]] * len(falls)) and falls[0] > 0  # a straight line down
    assert factors[-1] == pytest.approx(0.01, abs=0.03)


@pytest.mark.parametrize(("option", "value"), [("lr_decay", "step"), ("lr_schedule", "weekly")])
def test_an_unknown_schedule_is_a_user_error(option: str, value: str) -> None:
    with pytest.raises(InrzooError, match=f"{option}: got '{value}', expected one of"):
        tiny_model(**{option: value})


class _GradientNormRecorder(pl.Callback):
    """The norm of every parameter's gradient together, after the step (Lightning zeroes them at the next one)."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: object) -> None:
        grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))


def _gradient_norms(clip: Path, root: Path, **kwargs: Any) -> list[float]:  # noqa: ANN401
    recorder = _GradientNormRecorder()
    _recorded_fit(clip, root, recorder, 6, **kwargs)
    return recorder.norms


def test_gradient_clip_norm_bounds_every_step(shared_clip_path: Path, tmp_path: Path) -> None:
    """The model's own clip norm applies when the Trainer names none (the recipe travels with the model)."""
    free = _gradient_norms(shared_clip_path, tmp_path)
    limit = min(free) / 4
    clipped = _gradient_norms(shared_clip_path, tmp_path, gradient_clip_norm=limit)
    assert all(norm == pytest.approx(limit, rel=1e-3) for norm in clipped), (limit, clipped)


def test_adam_betas_reach_the_optimizer() -> None:
    """The fit's Adam uses the model's betas (PyTorch's (0.9, 0.999) unless told otherwise)."""
    default = tiny_model().configure_optimizers()["optimizer"]
    chosen = tiny_model(adam_betas=(0.8, 0.99)).configure_optimizers()["optimizer"]
    assert all(group["betas"] == (0.9, 0.999) for group in default.param_groups)
    assert all(group["betas"] == (0.8, 0.99) for group in chosen.param_groups)


@pytest.mark.parametrize("betas", [(0.9, 1.0), (-0.1, 0.99), (0.9, 0.99, 0.5), (0.9,)])
def test_bad_adam_betas_are_user_errors(betas: tuple[float, ...]) -> None:
    with pytest.raises(InrzooError, match="adam_betas"):
        tiny_model(adam_betas=betas)
