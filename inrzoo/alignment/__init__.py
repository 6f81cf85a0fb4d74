"""Semantic alignment of the latents with a frozen teacher (CLIP, timm, feature files)."""

from inrzoo.alignment.config import Alignment
from inrzoo.alignment.heads import AlignmentHead
from inrzoo.alignment.losses import cosine_alignment_loss, info_nce_loss, mean_cosine
from inrzoo.alignment.objective import AlignmentObjective

__all__ = ["Alignment", "AlignmentHead", "AlignmentObjective", "cosine_alignment_loss", "info_nce_loss", "mean_cosine"]
