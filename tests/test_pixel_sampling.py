"""Training coordinate MLPs on a random sample of each frame's pixels (``VideoINR(sampled_pixels=...)``).

The sampled colours are the whole frame's colours at those pixels, the loss is the whole frame's loss restricted
to them, a fit on samples learns, bad values are one clear error, and conv decoders refuse the option.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from helpers import REPO_ROOT

from inrzoo.backbones import BACKBONES
from inrzoo.bench.runner import BenchOptions, run_bench
from inrzoo.bench.sizing import can_sample_pixels, training_recipe
from inrzoo.cli import main
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.models import RateTerm, ReconstructionLoss, VideoINR
from inrzoo.models.pixel_sampling import pixels_of
from inrzoo.options import OptionError
from inrzoo.testing import random_latents, tiny_backbone, tiny_hypernet

FRAME = (12, 16)
COORDINATE = ["siren", "fourier-mlp", "grid-mlp"]


def model_of(backbone: str, frame_size: tuple[int, int] = FRAME, **kwargs: object) -> VideoINR:
    torch.manual_seed(0)
    return VideoINR(
        tiny_backbone(backbone, **kwargs.pop("backbone_kwargs", {})),  # type: ignore[arg-type]
        tiny_hypernet("film"),
        latent_dim=8,
        num_frames=3,
        frame_size=frame_size,
        latent_init_std=0.5,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("patch_size", [1, 2])
@pytest.mark.parametrize("backbone", COORDINATE)
def test_sampled_colours_are_the_whole_frame_at_those_pixels(backbone: str, patch_size: int) -> None:
    model = model_of(backbone, backbone_kwargs={"patch_size": patch_size})
    latents = random_latents(2, 8)
    params = model.modulation(latents)
    with torch.no_grad():
        whole = model.backbone(latents, params)
        torch.manual_seed(3)
        colours, pixels = model.backbone.render_sampled(latents, params, 30)
    queries = -(-30 // patch_size**2)
    assert colours.shape == (2, 3, queries * patch_size**2) and pixels.shape == (2, queries * patch_size**2)
    for row in pixels:  # no pixel twice, all inside the frame
        assert len(set(row.tolist())) == row.numel() and 0 <= int(row.min()) and int(row.max()) < FRAME[0] * FRAME[1]
    assert not torch.equal(pixels[0], pixels[1]), "each frame draws its own pixels"
    torch.testing.assert_close(colours, pixels_of(whole, pixels), rtol=1e-5, atol=1e-6)


def test_the_sampled_loss_is_the_whole_frame_loss_on_those_pixels(clip_frames: torch.Tensor) -> None:
    model = model_of("siren", sampled_pixels=40)
    frames = torch.nn.functional.interpolate(clip_frames[:2].float() / 255, size=FRAME, mode="area")
    latents = random_latents(2, 8)
    torch.manual_seed(5)
    prediction, target = model.decode_sampled_pixels(latents, frames)
    torch.manual_seed(5)  # the same draw again, for the pixels it took
    _, pixels = model.backbone.render_sampled(latents, model.modulation(latents), 40)
    whole = model.decode_latents(latents).detach()
    by_hand = torch.stack([
        torch.stack([(whole[b, c].flatten()[pixels[b]] - frames[b, c].flatten()[pixels[b]]) ** 2 for c in range(3)])
        for b in range(2)
    ]).mean()  # fmt: skip
    loss = model.loss_fn(prediction, target)["loss"].detach()
    assert prediction.shape == target.shape == (2, 3, 1, 40)
    assert float(loss) == pytest.approx(float(by_hand), rel=1e-5)
    full_loss = float(model.loss_fn(whole, frames)["loss"])
    assert float(loss) != pytest.approx(full_loss, rel=1e-3), "40 of 192 pixels should not give the whole loss"


def test_asking_for_every_pixel_gives_the_whole_frame_loss(clip_frames: torch.Tensor) -> None:
    model = model_of("grid-mlp", sampled_pixels=10_000)
    frames = torch.nn.functional.interpolate(clip_frames[:2].float() / 255, size=FRAME, mode="area")
    latents = random_latents(2, 8)
    prediction, target = model.decode_sampled_pixels(latents, frames)
    sampled = model.loss_fn(prediction, target)["loss"]
    whole = model.loss_fn(model.decode_latents(latents), frames)["loss"]
    assert prediction.shape[-1] == FRAME[0] * FRAME[1]
    torch.testing.assert_close(sampled, whole)


def test_a_fit_on_sampled_pixels_learns(shared_clip_path: Path, tmp_path: Path) -> None:
    pl.seed_everything(0)
    data = VideoDataModule(str(shared_clip_path), batch_size=4, cache_dir=None)
    data.setup("fit")
    torch.manual_seed(0)
    model = VideoINR(
        tiny_backbone("grid-mlp"), tiny_hypernet("film"), latent_dim=8, num_frames=data.num_frames,
        frame_size=data.frame_size, learning_rate=1e-2, sampled_pixels=300,
    )  # fmt: skip
    before, _ = evaluate_reconstruction(model, data.frames)
    trainer = pl.Trainer(
        max_epochs=30, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, data)
    after, _ = evaluate_reconstruction(model, data.frames)  # scored on every pixel of every frame
    assert after.psnr > before.psnr + 5, f"PSNR {before.psnr:.2f} -> {after.psnr:.2f} dB: the fit did not learn"


@pytest.mark.parametrize("value", [0, -5, 2.5, True, float("nan")])
def test_bad_counts_are_option_errors(value: object) -> None:
    with pytest.raises(OptionError, match="sampled_pixels: got"):
        model_of("siren", sampled_pixels=value)


@pytest.mark.parametrize("backbone", ["nerv-conv", "hnerv", "hinerv"])
def test_conv_decoders_refuse_it(backbone: str) -> None:
    assert not can_sample_pixels(backbone)
    with pytest.raises(InrzooError, match="renders whole frames only"):
        model_of(backbone, frame_size=(40, 60), sampled_pixels=64)
    model_of(backbone, frame_size=(40, 60))  # unset, they build as before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": ReconstructionLoss(l2=1.0, ssim=0.5)}, "SSIM loss term needs whole frames"),
        ({"rate": RateTerm()}, "rate term decodes whole frames"),
        ({"frame_size": (13, 16), "backbone_kwargs": {"patch_size": 2}}, "patch_size that divides"),
    ],
)
def test_what_needs_whole_frames_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(InrzooError, match=message):
        model_of("siren", sampled_pixels=64, **kwargs)


def test_every_coordinate_backbone_can_sample_and_declares_a_count() -> None:
    for name in COORDINATE:
        assert can_sample_pixels(name)
        assert training_recipe(name)["sampled_pixels"] >= 1
    for name in BACKBONES.names():
        if not can_sample_pixels(name):
            assert "sampled_pixels" not in training_recipe(name), name


def test_the_bench_samples_coordinate_mlps_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = BenchOptions(backbones="siren,nerv-conv", hypernets="film", tier="smoke", codecs="none", out=tmp_path)
    records = {r["backbone"]: r for r in run_bench(options)["results"]}
    assert records["siren"]["sampled_pixels"] == training_recipe("siren")["sampled_pixels"]
    assert records["nerv-conv"]["sampled_pixels"] is None
    whole = BenchOptions(backbones="siren", hypernets="film", tier="smoke", codecs="none", sampled_pixels=0)
    [record] = run_bench(whole)["results"]
    assert record["sampled_pixels"] is None, "--sampled_pixels 0 fits whole frames"


@pytest.mark.parametrize(("config", "refused"), [("carphone_siren.yaml", False), ("quickstart.yaml", True)])
def test_the_cli_fits_on_samples_and_refuses_them_for_a_conv_decoder(
    config: str, refused: bool, clip_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / config), "--trainer.fast_dev_run=true",
        "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp_path}",
        f"--data.init_args.path={clip_path}",
        "--data.init_args.resize=[40,60]", "--data.init_args.center_crop=null", "--data.init_args.max_frames=4",
        "--model.init_args.sampled_pixels=64",
    ]  # fmt: skip
    try:
        code = main(args)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if not refused:
        assert code in (0, None), err
        return
    errors = [line for line in err.splitlines() if line.startswith("inrzoo: error:")]
    assert code == 2 and len(errors) == 1, err
    assert "renders whole frames only" in errors[0]
