"""The alignment-teacher contract: a frozen model giving one target feature per frame."""

from __future__ import annotations

from abc import ABC, abstractmethod

from torch import Tensor, nn

from inrzoo.compat import Pluggable


class Teacher(Pluggable, nn.Module, ABC):
    """A frozen feature extractor the latents are aligned to.

    Teachers never train: implementations should call ``requires_grad_(False)``.
    """

    #: Dimension of the features :meth:`encode_frames` returns.
    feature_dim: int

    @abstractmethod
    def encode_frames(self, frames: Tensor) -> Tensor:
        """frames: (B, 3, H, W) in [0, 1] -> (B, feature_dim) features."""

    def encode_text(self, texts: list[str]) -> Tensor:
        """Text queries -> (N, feature_dim); teachers without a text tower refuse."""
        raise NotImplementedError(
            f"{type(self).__name__} has no text tower; use an image-text teacher for text queries"
        )
