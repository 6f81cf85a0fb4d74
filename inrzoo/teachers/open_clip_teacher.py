"""OpenCLIP image and text towers as a frozen teacher (any open_clip model, pretrained tag or local file)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.teachers.fingerprint import fingerprint_file
from inrzoo.teachers.lazy import LazyTeacher
from inrzoo.teachers.loading import (
    is_network_failure,
    looks_like_a_local_file,
    null_text_to_none,
    require_file,
    weights_unavailable,
)
from inrzoo.teachers.preprocess import ImagePreprocess
from inrzoo.teachers.registry import register_teacher


@register_teacher("open-clip")
class OpenClipTeacher(LazyTeacher):
    """A CLIP model from open_clip: L2-normalised image embeddings per frame, text embeddings for queries.

    The model is loaded on first use (a config can be parsed without loading weights) and is
    frozen. Frames are preprocessed with the model's own recipe (``preprocess_cfg``: size,
    mean, std, interpolation, resize mode).

    Args:
        model_name: an open_clip model name (``open_clip.list_models()``), e.g. ``"ViT-B-32"``.
        pretrained: an open_clip pretrained tag (``open_clip.list_pretrained_tags_by_model(name)``;
            downloaded once when there is a network), a local checkpoint file, or None for random
            weights (tests only: the features then mean nothing).
        cache_dir: where open_clip keeps downloads (None: its default).
    """

    module_name = "clip"

    def __init__(self, model_name: str = "ViT-B-32", pretrained: str | None = "laion2b_s34b_b79k",
                 cache_dir: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.model_name = model_name
        self.pretrained = null_text_to_none(pretrained)
        self.cache_dir = cache_dir
        self._preprocess: ImagePreprocess | None = None

    # -- loading --------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        import open_clip

        config = open_clip.get_model_config(self.model_name)
        if config is None:
            known = [m for m in open_clip.list_models() if self.model_name.lower()[:4] in m.lower()][:8]
            raise InrzooError(
                f"open_clip has no model {self.model_name!r}; e.g. {', '.join(known or open_clip.list_models()[:8])} "
                "(open_clip.list_models() lists them all)"
            )
        return config

    @property
    def feature_dim(self) -> int:  # from the config: known before any weight is loaded
        return int(self._config()["embed_dim"])

    def _load(self) -> Any:
        import open_clip

        self._config()
        pretrained = self.pretrained
        if looks_like_a_local_file(pretrained):
            pretrained = str(require_file(pretrained, "OpenClipTeacher pretrained"))
        elif pretrained is not None:
            tags = open_clip.list_pretrained_tags_by_model(self.model_name)
            if pretrained not in tags:
                raise InrzooError(
                    f"open_clip has no pretrained tag {pretrained!r} for {self.model_name}; its tags: "
                    f"{', '.join(tags) or 'none'} (or give a local checkpoint file)"
                )
        try:
            model = open_clip.create_model(self.model_name, pretrained=pretrained, cache_dir=self.cache_dir)
        except Exception as err:
            if pretrained is not None and not looks_like_a_local_file(pretrained) and is_network_failure(err):
                raise weights_unavailable(
                    f"open_clip {self.model_name} ({pretrained})", err, "OpenClipTeacher pretrained=/path/to/file"
                ) from err
            raise
        cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
        size = cfg.get("size", getattr(model.visual, "image_size", 224))
        size = (size, size) if isinstance(size, int) else tuple(size)
        self._preprocess = ImagePreprocess(
            size=tuple(int(s) for s in size),
            mean=tuple(cfg.get("mean", open_clip.OPENAI_DATASET_MEAN)),
            std=tuple(cfg.get("std", open_clip.OPENAI_DATASET_STD)),
            interpolation=cfg.get("interpolation", "bicubic"),
            resize_mode=cfg.get("resize_mode", "shortest"),
        )
        return model

    def cache_key(self) -> str:
        if self.pretrained is None:
            _ = self.model  # random weights: fingerprint them, so load them first
            return super().cache_key()
        weights = fingerprint_file(self.pretrained) if looks_like_a_local_file(self.pretrained) else self.pretrained
        return f"open-clip:{self.model_name}:{weights}"

    # -- features -------------------------------------------------------------------------
    @torch.no_grad()
    def encode_frames(self, frames: Tensor) -> Tensor:
        model = self.model
        assert self._preprocess is not None
        return F.normalize(model.encode_image(self._preprocess(frames)).float(), dim=-1)

    @torch.no_grad()
    def encode_text(self, texts: list[str]) -> Tensor:
        import open_clip

        model = self.model
        tokenizer = open_clip.get_tokenizer(self.model_name)
        device = next(model.parameters()).device
        return F.normalize(model.encode_text(tokenizer(list(texts)).to(device)).float(), dim=-1)
