"""The alignment objective: the part of a model that pulls its latents towards a frozen teacher's features."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.alignment.config import Alignment
from inrzoo.alignment.heads import AlignmentHead
from inrzoo.alignment.losses import cosine_alignment_loss, info_nce_loss, mean_cosine
from inrzoo.errors import InrzooError
from inrzoo.teachers.base import Teacher

#: Where models before 0.2 kept the objective's tensors (at their own top level) -> the name inside the objective.
LEGACY_NAMES = {"alignment_head.": "head.", "teacher_mean": "teacher_mean", "teacher_spread": "teacher_spread"}


class AlignmentObjective(nn.Module):
    """Everything alignment adds to a model: the head from latent to teacher space, the video's teacher
    features (the targets: computed once, never saved), with standardised targets their mean and spread
    (saved: 2 x D + 1 numbers, for retrieval; zeros and one with the plain cosine) and the loss.

    The teacher stays outside the module tree: its weights are never saved or optimised.

    Args:
        config: the model's ``alignment`` section.
        latent_size: numbers per frame latent (the head's input).
    """

    teacher: Teacher

    def __init__(self, config: Alignment, latent_size: int) -> None:
        super().__init__()
        self.config = config
        self.__dict__["teacher"] = config.teacher
        self.feature_dim = int(config.teacher.feature_dim)
        self.head = AlignmentHead(latent_size, self.feature_dim, config.head, config.hidden)
        self.register_buffer("teacher_features", torch.zeros(0), persistent=False)
        # With standardised targets the head predicts what tells frames apart; the mean and typical
        # distance from it put its output back into the teacher's space for retrieval.
        self.register_buffer("teacher_mean", torch.zeros(self.feature_dim))
        self.register_buffer("teacher_spread", torch.ones(()))

    @property
    def is_prepared(self) -> bool:
        """True once :meth:`prepare` has computed the targets."""
        return self.teacher_features.numel() > 0

    def prepare(self, frames: Tensor, video_key: str | None) -> None:
        """Compute (or read from the cache) the teacher's feature of every frame (T, 3, H, W), once, without
        gradients, on the device the objective lives on."""
        from inrzoo.teachers.cache import teacher_features

        device = self.teacher_mean.device
        cache_dir = Path(self.config.cache_dir) if self.config.cache_dir else None
        teacher = self.teacher.load().to(device)
        features = teacher_features(teacher, frames, video_key, cache_dir, self.config.feature_batch_size)
        if features.shape != (frames.shape[0], self.feature_dim):
            raise InrzooError(
                f"teacher features have shape {tuple(features.shape)}, expected "
                f"({frames.shape[0]}, {self.feature_dim}); check the teacher's feature_dim"
            )
        self.teacher_features = features.to(device)
        if self.config.standardize:  # the plain cosine stores nothing of the teacher: the latents carry it all
            self.teacher_mean = self.teacher_features.mean(dim=0)
            self.teacher_spread = (self.teacher_features - self.teacher_mean).norm(dim=-1).mean()

    @property
    def loss_weight(self) -> float:
        """Weight of :meth:`terms`' loss next to the reconstruction loss (a probe, weight 0, trains at 1: its
        gradient never reaches the latents)."""
        return self.config.weight or 1.0

    def terms(self, indices: Tensor, latents: Tensor) -> tuple[Tensor, Tensor]:
        """(alignment loss, mean cosine) of frames ``indices`` (B,) whose latents are ``latents`` (B, latent_size)."""
        # Weight 0: the head is trained as a probe on the latents, which alignment then never moves.
        projected = self.head(latents.detach() if self.config.weight == 0 else latents)
        targets = self.teacher_features[indices]
        if self.config.standardize:
            targets = targets - self.teacher_mean
        if self.config.loss == "infonce":
            loss = info_nce_loss(projected, targets, self.config.temperature)
        else:
            loss = cosine_alignment_loss(projected, targets)
        return loss, mean_cosine(projected.detach(), targets)

    def forward(self, indices: Tensor, latents: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`terms`, as a module call: ``fit-many --pack`` runs it through ``torch.func.functional_call``
        on each member's own head and teacher features."""
        return self.terms(indices, latents)

    def embed(self, latents: Tensor) -> Tensor:
        """latents (B, latent_size) -> L2-normalised embeddings in the teacher's space (B, feature_dim)."""
        projected = self.head(latents)
        if self.config.standardize:
            projected = self.teacher_mean + self.teacher_spread * F.normalize(projected, dim=-1)
        return F.normalize(projected, dim=-1)


def upgrade_legacy_names(state_dict: MutableMapping[str, Any], model_prefix: str, objective_prefix: str) -> None:
    """Rename, in place, a model's alignment tensors saved before 0.2 (``alignment_head.*``, ``teacher_mean``,
    ``teacher_spread`` under ``model_prefix``) to their names in the objective (under ``objective_prefix``)."""
    for name in [n for n in state_dict if n.startswith(model_prefix)]:
        local = name[len(model_prefix) :]
        for old, new in LEGACY_NAMES.items():
            if local == old or (old.endswith(".") and local.startswith(old)):
                state_dict[objective_prefix + new + local[len(old) :]] = state_dict.pop(name)
                break
