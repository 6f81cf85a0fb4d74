"""The alignment-teacher contract: a frozen model giving one target feature per frame."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

from inrzoo.compat import Pluggable
from inrzoo.errors import InrzooError


class Teacher(Pluggable, nn.Module, ABC):
    """A frozen feature extractor the latents are aligned to.

    Teachers never train: implementations should call ``requires_grad_(False)``. A model's
    checkpoint never holds its teacher's weights (they are the teacher's own, often
    hundreds of MB); a teacher is rebuilt from its config when needed (text queries).
    """

    #: Dimension of the features :meth:`encode_frames` returns.
    feature_dim: int

    @abstractmethod
    def encode_frames(self, frames: Tensor) -> Tensor:
        """frames: (B, 3, H, W) in [0, 1] -> (B, feature_dim) features."""

    def encode_text(self, texts: list[str]) -> Tensor:
        """Text queries -> (N, feature_dim); teachers without a text tower refuse."""
        raise InrzooError(
            f"{type(self).__name__} has no text tower, so it cannot embed text queries; align with an image-text "
            "teacher (OpenClipTeacher) for text search, or query by video (--video)"
        )

    def load(self) -> Teacher:
        """Load weights now (teachers that load lazily override it), so ``.to(device)`` moves them."""
        return self

    @property
    def has_text_tower(self) -> bool:
        return type(self).encode_text is not Teacher.encode_text

    def cache_key(self) -> str:
        """Identity of the teacher *and its weights*: cached features are reused only under the same key.

        The default combines the class, its simple public attributes (its settings) and a
        fingerprint of every parameter and buffer, which is exact but reads them all; teachers
        with named weights (a pretrained tag, a file) override it with something cheaper.
        """
        from inrzoo.teachers.fingerprint import fingerprint_module

        settings = {
            k: v
            for k, v in sorted(vars(self).items())
            if not k.startswith("_") and k != "training" and isinstance(v, int | float | str | bool | tuple | None)
        }
        return f"{type(self).__module__}.{type(self).__qualname__}:{settings}:{fingerprint_module(self)}"

    @torch.no_grad()
    def features_for_video(self, frames: Tensor, batch_size: int = 32, progress: bool = True) -> Tensor:
        """uint8 (T, 3, H, W) frames -> (T, feature_dim) float features, batched, without gradients."""
        from tqdm.auto import tqdm

        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        chunks = []
        starts = range(0, frames.shape[0], batch_size)
        for start in tqdm(starts, desc=f"{type(self).__name__} features", unit="batch", disable=not progress):
            batch = frames[start : start + batch_size].to(device).float() / 255
            chunks.append(self.encode_frames(batch).float().cpu())
        return torch.cat(chunks)
