"""Reconstruction loss: a weighted mix of L1, L2 and (1 - SSIM)."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor
from torchmetrics.functional.image import structural_similarity_index_measure

from inrzoo.errors import InrzooError
from inrzoo.options import WEIGHT, check_options
from inrzoo.stored_config import trust_stored_class


@trust_stored_class
@dataclass
class ReconstructionLoss:
    """Weights of each term; the loss is ``l1 * L1 + l2 * MSE + ssim * (1 - SSIM)``.

    Args:
        l1: weight of the mean absolute error.
        l2: weight of the mean squared error (what PSNR measures).
        ssim: weight of 1 - SSIM (perceptual structure; slower).
    """

    l1: float = 0.0
    l2: float = 1.0
    ssim: float = 0.0

    option_ranges = {"l1": WEIGHT, "l2": WEIGHT, "ssim": WEIGHT}

    def __post_init__(self) -> None:
        check_options(self, vars(self))
        if min(self.l1, self.l2, self.ssim) < 0 or self.l1 + self.l2 + self.ssim <= 0:
            raise InrzooError(
                f"loss weights must be >= 0 and not all zero, got l1={self.l1} l2={self.l2} ssim={self.ssim}"
            )

    def __call__(self, prediction: Tensor, target: Tensor) -> dict[str, Tensor]:
        """prediction/target: (B, 3, H, W) in [0, 1] -> {"loss": total, and each active term}."""
        terms: dict[str, Tensor] = {}
        if self.l1:
            terms["l1"] = F.l1_loss(prediction, target)
        if self.l2:
            terms["l2"] = F.mse_loss(prediction, target)
        if self.ssim:
            ssim = structural_similarity_index_measure(prediction, target, data_range=1.0)
            terms["ssim"] = 1 - ssim
        weights = {"l1": self.l1, "l2": self.l2, "ssim": self.ssim}
        terms["loss"] = sum(weights[name] * value for name, value in terms.items())
        return terms
