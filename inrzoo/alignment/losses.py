"""Alignment losses between projected latents and teacher features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def cosine_alignment_loss(projected: Tensor, targets: Tensor) -> Tensor:
    """Mean of 1 - cos(projection, teacher feature): the Latent-INR paper's alignment term."""
    return (1 - F.cosine_similarity(projected, targets, dim=-1)).mean()


def info_nce_loss(projected: Tensor, targets: Tensor, temperature: float = 0.07) -> Tensor:
    """Symmetric InfoNCE over the batch: each projection must pick its own teacher feature among
    the others in the batch (other frames, and other videos when a batch mixes them).

    With one sample there is nothing to contrast against; the cosine term is used instead.
    """
    if projected.shape[0] < 2:
        return cosine_alignment_loss(projected, targets)
    logits = F.normalize(projected, dim=-1) @ F.normalize(targets, dim=-1).T / temperature
    labels = torch.arange(projected.shape[0], device=projected.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def mean_cosine(projected: Tensor, targets: Tensor) -> Tensor:
    """Agreement between aligned latents and teacher features (1: identical directions)."""
    return F.cosine_similarity(projected, targets, dim=-1).mean()
