"""Any timm image model as a frozen teacher: pooled features per frame (no text tower)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.teachers.fingerprint import fingerprint_file
from inrzoo.teachers.lazy import LazyTeacher
from inrzoo.teachers.loading import is_network_failure, null_text_to_none, require_file, weights_unavailable
from inrzoo.teachers.preprocess import ImagePreprocess
from inrzoo.teachers.registry import register_teacher


@register_teacher("timm")
class TimmTeacher(LazyTeacher):
    """A timm model without its classifier (``num_classes=0``): its pooled features, L2-normalised.

    Loaded on first use and frozen; frames get the model's own data config (input size,
    crop fraction, interpolation, mean, std).

    Args:
        model_name: a timm model name, optionally with its pretrained tag
            (``"vit_small_patch16_224.augreg_in21k"``).
        pretrained: download the model's pretrained weights from the hub (once, when there is a
            network); False for random weights (tests only).
        checkpoint: a local weights file (timm / safetensors state dict) instead of a download.
        model_kwargs: extra arguments for ``timm.create_model`` (e.g. a tiny ``embed_dim`` in tests).
    """

    def __init__(self, model_name: str = "vit_small_patch16_224.augreg_in21k", pretrained: bool = True,
                 checkpoint: str | None = None, model_kwargs: dict[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.model_name = model_name
        self.pretrained = pretrained
        self.checkpoint = null_text_to_none(checkpoint)
        self.model_kwargs = dict(model_kwargs or {})
        self._preprocess: ImagePreprocess | None = None

    @property
    def feature_dim(self) -> int:
        return int(self.model.num_features)

    def _load(self) -> Any:
        import timm
        from timm.data import resolve_model_data_config

        base_name = self.model_name.split(".", 1)[0]
        if not timm.list_models(base_name):
            close = timm.list_models(f"*{base_name.split('_')[0]}*")[:8]
            raise InrzooError(f"timm has no model {self.model_name!r}; e.g. {', '.join(close)} (timm.list_models())")
        kwargs: dict[str, Any] = {"num_classes": 0, **self.model_kwargs}
        if self.checkpoint is not None:
            path = require_file(self.checkpoint, "TimmTeacher checkpoint")
            kwargs.update(pretrained=True, pretrained_cfg_overlay={"file": str(path)})
        else:
            kwargs["pretrained"] = self.pretrained
        try:
            model = timm.create_model(self.model_name, **kwargs)
        except Exception as err:
            if self.checkpoint is None and self.pretrained and is_network_failure(err):
                raise weights_unavailable(
                    f"timm {self.model_name}", err, "TimmTeacher checkpoint=/path/to/file"
                ) from err
            raise
        config = resolve_model_data_config(model)
        size = tuple(int(s) for s in config["input_size"][-2:])
        fixed = getattr(getattr(model, "patch_embed", None), "img_size", None)
        if fixed is not None and not getattr(model.patch_embed, "dynamic_img_size", False):
            size = tuple(int(s) for s in fixed)  # fixed-size models (ViTs): the size they were built for
        self._preprocess = ImagePreprocess(
            size=size,  # type: ignore[arg-type]
            mean=tuple(config["mean"]),
            std=tuple(config["std"]),
            interpolation=config.get("interpolation", "bicubic"),
            crop_pct=float(config.get("crop_pct", 1.0)),
        )
        return model

    def cache_key(self) -> str:
        if self.checkpoint is not None:
            return f"timm:{self.model_name}:{fingerprint_file(self.checkpoint)}:{sorted(self.model_kwargs.items())}"
        if self.pretrained:
            return f"timm:{self.model_name}:pretrained:{sorted(self.model_kwargs.items())}"
        _ = self.model  # random weights: fingerprint them, so load them first
        return super().cache_key()

    @torch.no_grad()
    def encode_frames(self, frames: Tensor) -> Tensor:
        model = self.model
        assert self._preprocess is not None
        return F.normalize(model(self._preprocess(frames)).float(), dim=-1)
