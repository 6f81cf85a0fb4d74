"""Interpolation and super-resolution: task heads, commands and their evaluation protocols."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from helpers import REPO_ROOT
from test_cli import decode, error_line, run
from torch import Tensor

from inrzoo.data import VideoDataModule
from inrzoo.models import VideoINR
from inrzoo.models.loading import load_video_inr
from inrzoo.tasks import (
    TASKS,
    BicubicUpsampleSR,
    CoordinateGridSR,
    LatentInterpolator,
    LinearInterpolator,
    SlerpInterpolator,
    TemporalMLPInterpolator,
    fit_interpolator,
)
from inrzoo.testing import tiny_backbone, tiny_hypernet


def _fit(root: Path, name: str, clip: Path, extra: list[str]) -> Path:
    args = [
        "fit", "--config", str(REPO_ROOT / "configs" / "quickstart.yaml"), f"--data.init_args.path={clip}",
        "--data.init_args.batch_size=2", "--trainer.max_epochs=30", "--trainer.max_time=null",
        "--trainer.enable_progress_bar=false", f"--trainer.logger.init_args.save_dir={root}",
        f"--trainer.logger.init_args.name={name}", *extra,
    ]  # fmt: skip
    assert run(args) == 0
    return root / name / "version_0"


@pytest.fixture(scope="module")
def runs(shared_clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("task_runs")
    even = _fit(root, "even", shared_clip_path, ["--data.init_args.resize=null", "--data.init_args.train_every=2"])
    siren = [
        "--data.init_args.resize=[20,30]", "--model.init_args.backbone=SirenBackbone",
        "--model.init_args.backbone.init_args.width=32", "--model.init_args.learning_rate=0.002",
    ]  # fmt: skip
    low_res = _fit(root, "siren_lowres", shared_clip_path, siren)
    return SimpleNamespace(even=even, low_res=low_res, root=root)


# -- the protocol's data split -------------------------------------------------------------------
def test_the_even_frame_fit_never_receives_an_odd_frame(shared_clip_path: Path) -> None:
    dm = VideoDataModule(path=str(shared_clip_path), train_every=2, batch_size=3, cache_dir=None)
    for loader in (dm.train_dataloader(), dm.val_dataloader()):
        seen = torch.cat([batch["index"] for batch in loader]).tolist()
        assert seen and all(t % 2 == 0 for t in seen), seen
        frames = torch.cat([batch["frame"] for batch in loader])
        odd = dm.frames[1::2].float() / 255
        assert not any(torch.equal(f, o) for f in frames for o in odd), "an odd frame's pixels reached the fit"


def test_the_fitted_model_marks_only_even_frames_trained(runs: SimpleNamespace) -> None:
    trained = load_video_inr(runs.even).latents.trained
    assert torch.nonzero(trained).flatten().tolist() == list(range(0, 12, 2))


# -- interpolators --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["linear", "slerp", "temporal-mlp"])
def test_an_integer_time_gives_that_frames_own_decode(runs: SimpleNamespace, name: str) -> None:
    model = load_video_inr(runs.even)
    interpolator = fit_interpolator(TASKS.create(name), model.latents)
    trained = torch.nonzero(model.latents.trained).flatten()
    latents = interpolator.latents_at(model.latents, trained.float())
    assert torch.equal(latents, model.latents.weight[trained].detach())
    with torch.no_grad():
        assert torch.equal(model.decode_latents(latents), model.decode_frames(trained))


def test_the_model_decodes_held_out_frames_through_its_configured_interpolator(runs: SimpleNamespace) -> None:
    from inrzoo.models import VideoINR

    plain = load_video_inr(runs.even)
    model = VideoINR.load_from_checkpoint(
        runs.even / "checkpoints" / "last.ckpt", weights_only=True, interpolator=SlerpInterpolator()
    ).eval()
    odd = torch.arange(1, 11, 2)
    with torch.no_grad():
        expected = model.decode_latents(SlerpInterpolator().latents_at(model.latents, odd.float()))
        assert torch.equal(model.decode_frames(odd), expected)
        assert not torch.equal(model.decode_frames(odd), plain.decode_frames(odd)), "slerp and linear agree?"
        assert torch.equal(model.decode_frames(torch.tensor([0, 2])), plain.decode_frames(torch.tensor([0, 2])))


def _even_frame_model(interpolator: LatentInterpolator | None = None) -> VideoINR:
    torch.manual_seed(0)
    model = VideoINR(tiny_backbone("nerv-conv"), tiny_hypernet("film"), latent_dim=8, num_frames=6,
                     frame_size=(20, 40), interpolator=interpolator)  # fmt: skip
    model.latents.mark_trained([0, 2, 4])
    return model


def test_interpolators_take_the_latent_dictionary_and_a_model_only_with_a_deprecation() -> None:
    model = _even_frame_model()
    times = torch.tensor([1.0, 2.5, 4.0])
    expected = SlerpInterpolator().latents_at(model.latents, times)
    assert not torch.equal(expected[0], model.latents.weight[1]), "the held-out entry is never read"
    with pytest.warns(DeprecationWarning, match=r"latents_at\(model, \.\.\.\) is deprecated"):
        torch.testing.assert_close(SlerpInterpolator().latents_at(model, times), expected, rtol=0, atol=0)
    learned = fit_interpolator(TemporalMLPInterpolator(steps=3), model.latents)
    with pytest.warns(DeprecationWarning, match=r"fit_interpolator\(model, \.\.\.\) is deprecated"):
        again = fit_interpolator(TemporalMLPInterpolator(steps=3), model)
    assert again.train_span == learned.train_span
    with pytest.raises(TypeError, match="takes a LatentDictionary"):
        SlerpInterpolator().latents_at(model.latents.weight, times)


class _InterpolatorWrittenForTheModel(LinearInterpolator):
    """A plugin written before 0.2: it overrides latents_at(model, times) and reads model.latents."""

    def latents_at(self, model: VideoINR, times: Tensor) -> Tensor:
        left, right, alpha = model.latents.neighbours(times)
        return torch.lerp(model.latents.weight[left], model.latents.weight[right], alpha[:, None])


def test_an_interpolator_written_for_the_model_still_decodes_with_a_deprecation() -> None:
    model = _even_frame_model(_InterpolatorWrittenForTheModel())
    odd = torch.tensor([1, 3])
    with torch.no_grad(), pytest.warns(DeprecationWarning, match="receives the LatentDictionary"):
        frames = model.decode_frames(odd)
    with torch.no_grad():
        torch.testing.assert_close(frames, model.decode_latents(LinearInterpolator().latents_at(model.latents, odd)))


def test_blends() -> None:
    left, right = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    half = torch.tensor([0.5])
    torch.testing.assert_close(LinearInterpolator().blend(left, right, half), torch.tensor([[1.0, 1.0]]))
    slerped = SlerpInterpolator().blend(left, right, half)
    torch.testing.assert_close(slerped.norm(), torch.tensor(2.0))  # the norm is kept, not shrunk to sqrt(2)
    torch.testing.assert_close(SlerpInterpolator().blend(left, right, torch.tensor([0.0])), left)


def test_the_learned_interpolator_beats_linear_on_a_curved_path() -> None:
    times = torch.arange(0, 40, 2, dtype=torch.float32)
    circle = lambda t: torch.stack([torch.cos(t / 6), torch.sin(t / 6), 0.1 * t / 40], dim=-1)  # noqa: E731
    learned = TemporalMLPInterpolator(steps=800).fit(circle(times), times)
    middle = times[:-1] + 1
    left, right, alpha = circle(times[:-1]), circle(times[1:]), torch.full((len(middle),), 0.5)
    span = torch.full((len(middle),), 2.0)  # the held-out frames' neighbours are 2 apart (training pairs: 4)
    truth = circle(middle)
    with torch.no_grad():
        linear_error = (LinearInterpolator().blend(left, right, alpha) - truth).pow(2).mean()
        learned_error = (learned.blend(left, right, alpha, span) - truth).pow(2).mean()
    assert learned_error < 0.5 * linear_error, (float(learned_error), float(linear_error))


# -- super-resolution -----------------------------------------------------------------------------
def test_scale_one_equals_the_normal_decode(runs: SimpleNamespace) -> None:
    for run_dir, head in ((runs.low_res, CoordinateGridSR()), (runs.even, BicubicUpsampleSR())):
        model = load_video_inr(run_dir)
        indices = torch.arange(4)
        with torch.no_grad():
            torch.testing.assert_close(head.render(model, indices, model.frame_size), model.decode_frames(indices))


def test_the_coordinate_head_refuses_a_conv_backbone(runs: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert (
        run(["upscale", str(runs.even), "--scale", "2", "--head", "coordinate-grid", "-o", str(tmp_path / "x.mp4")])
        == 2
    )
    assert "cannot be combined" in error_line(capsys) and not (tmp_path / "x.mp4").exists()


# -- commands -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("factor", "frames"), [(2, 23), (4, 45)])
def test_interpolate_writes_the_requested_frame_count(
    runs: SimpleNamespace, tmp_path: Path, factor: int, frames: int
) -> None:
    out = tmp_path / "fast.mp4"
    assert run(["interpolate", str(runs.even), "--factor", str(factor), "-o", str(out), "--interpolator", "slerp"]) == 0
    video = decode(out)
    assert video.shape == (frames, 3, 40, 60)


@pytest.mark.parametrize(("scale", "size"), [("2", (40, 60)), ("1.6", (32, 48))])
def test_upscale_writes_the_requested_size(runs: SimpleNamespace, tmp_path: Path, scale: str, size: tuple) -> None:
    out = tmp_path / "big.mp4"
    assert run(["upscale", str(runs.low_res), "--scale", scale, "-o", str(out)]) == 0
    assert decode(out).shape == (12, 3, *size)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["interpolate", "--factor", "1"], "--factor must be an integer >= 2"),
        (["interpolate", "--factor", "2.5"], "factor"),
        (["interpolate", "--factor", "2", "--interpolator", "cubic"], "known tasks"),
        (["interpolate", "--factor", "2", "--interpolator", "bicubic-upsample"], "is not a interpolation head"),
        (["upscale", "--scale", "0"], "--scale must be a positive number"),
        (["upscale", "--scale", "-2"], "--scale must be a positive number"),
        (["upscale", "--scale", "nan"], "config key scale"),
    ],
)
def test_bad_factors_and_scales(runs: SimpleNamespace, tmp_path: Path, args: list[str], message: str, capsys) -> None:  # noqa: ANN001
    command, *rest = args
    assert run([command, str(runs.low_res), *rest, "-o", str(tmp_path / "x.mp4")]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "x.mp4").exists()


def test_eval_interpolation(runs: SimpleNamespace, tmp_path: Path) -> None:
    assert run(["eval-interpolation", str(runs.even), "--out", str(tmp_path / "eval")]) == 0
    report = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert report["frames_scored"] == [1, 3, 5, 7, 9] and report["fitted_frames"] == [0, 2, 4, 6, 8, 10]
    expected = {"linear", "slerp", "temporal-mlp", "neighbour-average", "ffmpeg-minterpolate"}
    assert set(report["results"]) == expected
    assert all(math.isfinite(r["psnr"]) and r["psnr"] > 10 for r in report["results"].values())
    assert (tmp_path / "eval" / "comparison.png").stat().st_size > 1000


def test_eval_interpolation_needs_held_out_frames(runs: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert run(["eval-interpolation", str(runs.low_res), "--out", str(tmp_path / "e")]) == 2
    assert "train_every=2" in error_line(capsys)


def test_eval_sr(runs: SimpleNamespace, tmp_path: Path) -> None:
    assert run(["eval-sr", str(runs.low_res), "--scale", "2", "--out", str(tmp_path / "sr")]) == 0
    report = json.loads((tmp_path / "sr" / "results.json").read_text())
    assert report["fitted_size"] == [20, 30] and report["size"] == [40, 60]
    assert {"bicubic", "lanczos"} <= set(report["results"]) and len(report["results"]) == 3
    assert all(math.isfinite(r["psnr"]) for r in report["results"].values())


def test_eval_sr_needs_a_downscaled_fit(runs: SimpleNamespace, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    assert run(["eval-sr", str(runs.even), "--out", str(tmp_path / "sr")]) == 2
    assert "downscaled copy" in error_line(capsys)
