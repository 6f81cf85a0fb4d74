"""Semantic alignment: latents trained jointly for reconstruction and agreement with a teacher."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import name_before_0_2

from inrzoo.alignment import Alignment, info_nce_loss
from inrzoo.data import VideoDataModule
from inrzoo.evaluation import evaluate_reconstruction
from inrzoo.models import VideoINR
from inrzoo.teachers import FeatureFileTeacher, OpenClipTeacher
from inrzoo.teachers.cache import teacher_features
from inrzoo.testing import tiny_backbone, tiny_hypernet

LATENT_DIM = 8


def fit(
    dm: VideoDataModule, alignment: Alignment | None, steps: int = 150, seed: int = 0
) -> tuple[VideoINR, pl.Trainer]:
    pl.seed_everything(seed, verbose=False)
    model = VideoINR(
        backbone=tiny_backbone("nerv-conv"), hypernet=tiny_hypernet("film"), latent_dim=LATENT_DIM,
        num_frames=dm.num_frames, frame_size=dm.frame_size, learning_rate=1e-2, alignment=alignment,
    )  # fmt: skip
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    return model, trainer


def centred_agreement(embeddings: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean cosine of each frame's embedding with its target, both centred on their own means:
    what tells the frames apart, not the direction they all share."""
    return float(F.cosine_similarity(embeddings - embeddings.mean(0), targets - targets.mean(0), dim=-1).mean())


def own_frame_accuracy(embeddings: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of frames whose (centred) embedding is closest to their own (centred) target among all frames'."""
    embeddings, targets = embeddings - embeddings.mean(0), targets - targets.mean(0)
    similarity = F.normalize(embeddings, dim=-1) @ F.normalize(targets, dim=-1).T
    return float((similarity.argmax(dim=1) == torch.arange(len(targets))).float().mean())


def test_alignment_puts_the_teacher_into_the_latents(shared_clip_path: Path, tmp_path: Path) -> None:
    """Targets the reconstruction cannot explain (a random feature per frame, from a feature file):
    aligned latents carry them; the alignment-off model (weight 0: the same head trained as a probe on
    latents that alignment never moves) cannot get them out of reconstruction-only latents."""
    targets = F.normalize(torch.randn(12, 16, generator=torch.Generator().manual_seed(0)), dim=-1)
    np.save(tmp_path / "features.npy", targets.numpy())
    dm = VideoDataModule(path=str(shared_clip_path), batch_size=4, cache_dir=None)
    scores = {}
    for weight in (1.0, 0.0):
        teacher = FeatureFileTeacher(str(tmp_path / "features.npy"))
        model, _ = fit(dm, Alignment(teacher=teacher, weight=weight, cache_dir=str(tmp_path)))
        with torch.no_grad():
            embeddings = model.aligned_embeddings()
        scores[weight] = (centred_agreement(embeddings, targets), own_frame_accuracy(embeddings, targets))
    (aligned, aligned_acc), (off, off_acc) = scores[1.0], scores[0.0]
    assert aligned > 0.8 and aligned > off + 0.2, scores
    assert aligned_acc >= 0.9 and aligned_acc > off_acc, scores


@pytest.fixture(scope="module")
def fits(shared_clip_path: Path, tiny_clip: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    cache = tmp_path_factory.mktemp("features")
    dm = VideoDataModule(path=str(shared_clip_path), batch_size=4, cache_dir=None)
    torch.manual_seed(0)
    teacher = OpenClipTeacher(tiny_clip, pretrained=None)
    aligned, trainer = fit(dm, Alignment(teacher=teacher, weight=1.0, cache_dir=str(cache)))
    plain, _ = fit(dm, None)
    targets = teacher_features(teacher, dm.frames, dm.video_key, cache, progress=False)
    return dm, aligned, plain, trainer, targets


def test_clip_alignment_agrees_with_the_teacher(fits) -> None:  # noqa: ANN001
    _, aligned, _, _, targets = fits
    with torch.no_grad():
        embeddings = aligned.aligned_embeddings()
    assert float(F.cosine_similarity(embeddings, targets).mean()) > 0.99
    assert centred_agreement(embeddings, targets) > 0.8


def test_alignment_still_reconstructs(fits) -> None:  # noqa: ANN001
    dm, aligned, plain, _, _ = fits
    with_alignment, _ = evaluate_reconstruction(aligned, dm.frames)
    without, _ = evaluate_reconstruction(plain, dm.frames)
    assert with_alignment.psnr > without.psnr - 3.0, (with_alignment.psnr, without.psnr)
    assert with_alignment.params == without.params, "the alignment head is not part of what a decoder stores"


def test_losses_are_logged_separately(fits) -> None:  # noqa: ANN001
    _, _, _, trainer, _ = fits
    logged = trainer.callback_metrics
    for key in ("train/recon_loss", "train/align_loss", "train/align_cosine", "train/loss"):
        assert key in logged, f"{key} not logged"
    expected = logged["train/recon_loss"] + 1.0 * logged["train/align_loss"]
    torch.testing.assert_close(logged["train/loss"], expected)


def test_teacher_weights_stay_out_of_the_checkpoint(fits) -> None:  # noqa: ANN001
    _, aligned, _, _, _ = fits
    state = aligned.state_dict()
    assert any(k.startswith("alignment_objective.head.") for k in state)
    # 2 x D + 1 numbers, for retrieval
    assert "alignment_objective.teacher_mean" in state and "alignment_objective.teacher_spread" in state
    teacher_size = sum(p.numel() for p in aligned.teacher.parameters())
    assert sum(v.numel() for v in state.values()) < teacher_size, "the teacher's weights leaked into the state"
    assert not any(k.startswith(("teacher.", "clip.")) for k in state)


def test_a_state_dict_from_before_the_alignment_objective_still_loads(fits) -> None:  # noqa: ANN001
    """Checkpoints and bitstreams before 0.2 kept the head, mean and spread at the model's top level."""
    dm, aligned, _, _, _ = fits
    legacy = {name_before_0_2(name): tensor for name, tensor in aligned.state_dict().items()}
    assert {"alignment_head.net.weight", "alignment_head.net.bias", "teacher_mean", "teacher_spread"} <= set(legacy)
    fresh = VideoINR(
        backbone=tiny_backbone("nerv-conv"), hypernet=tiny_hypernet("film"), latent_dim=LATENT_DIM,
        num_frames=dm.num_frames, frame_size=dm.frame_size, alignment=aligned.alignment,
    )  # fmt: skip
    fresh.load_state_dict(legacy)  # strict: every old name found its new home
    with torch.no_grad():
        torch.testing.assert_close(fresh.aligned_embeddings(), aligned.aligned_embeddings(), rtol=0, atol=0)
    assert set(legacy) != set(fresh.state_dict()) and set(aligned.state_dict()) == set(fresh.state_dict())


def test_infonce_picks_the_right_pair() -> None:
    targets = F.normalize(torch.randn(6, 16), dim=-1)
    assert info_nce_loss(targets * 5, targets, 0.1) < info_nce_loss(targets.roll(1, dims=0) * 5, targets, 0.1)
    projected = torch.randn(6, 16, requires_grad=True)
    info_nce_loss(projected, targets).backward()
    assert projected.grad is not None and projected.grad.abs().sum() > 0


def test_infonce_alignment_trains(shared_clip_path: Path, tiny_clip: str, tmp_path: Path) -> None:
    dm = VideoDataModule(path=str(shared_clip_path), batch_size=4, cache_dir=None)
    torch.manual_seed(0)
    teacher = OpenClipTeacher(tiny_clip, pretrained=None)
    alignment = Alignment(teacher=teacher, weight=1.0, loss="infonce", head="mlp", hidden=32, cache_dir=str(tmp_path))
    model, trainer = fit(dm, alignment, steps=60)
    assert torch.isfinite(trainer.callback_metrics["train/align_loss"])
    targets = teacher_features(teacher, dm.frames, dm.video_key, tmp_path, progress=False)
    with torch.no_grad():
        embeddings = model.aligned_embeddings()
    # Frames are told apart far above chance (1/12) after 60 steps.
    assert own_frame_accuracy(embeddings, targets) >= 0.4 and centred_agreement(embeddings, targets) > 0.5


@pytest.mark.parametrize("standardize", [True, False])
def test_only_standardised_targets_store_the_teacher_mean(tmp_path: Path, standardize: bool) -> None:
    """The plain cosine keeps nothing of the teacher in the model: a retrieval index over such fits reads
    what the latents (through the head) carry, never the video's own pooled teacher feature."""
    from inrzoo.alignment import AlignmentObjective

    features = torch.randn(6, 16, generator=torch.Generator().manual_seed(0)) + 3.0
    np.save(tmp_path / "features.npy", features.numpy())
    teacher = FeatureFileTeacher(str(tmp_path / "features.npy"))
    objective = AlignmentObjective(Alignment(teacher=teacher, standardize=standardize, cache_dir=None), 8)
    objective.prepare(torch.rand(6, 3, 8, 8), video_key=None)
    state = objective.state_dict()
    if standardize:
        torch.testing.assert_close(state["teacher_mean"], features.mean(dim=0))
        assert float(state["teacher_spread"]) > 0.5
    else:
        assert torch.equal(state["teacher_mean"], torch.zeros(16)) and float(state["teacher_spread"]) == 1.0
