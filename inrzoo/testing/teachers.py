"""Tiny random teachers for tests: real open_clip / timm code paths, no downloads."""

from __future__ import annotations

import json
from pathlib import Path

#: A CLIP small enough for a CPU test (random weights; the text tower keeps CLIP's tokenizer).
TINY_OPEN_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}

#: A timm ViT of the same spirit (random weights).
TINY_TIMM_KWARGS = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}
TINY_TIMM_MODEL = "vit_tiny_patch16_224"


def register_tiny_open_clip(config_dir: str | Path, name: str = "inrzoo-tiny-clip") -> str:
    """Write a model config JSON into ``config_dir`` and register it with open_clip; returns the model name."""
    import open_clip

    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / f"{name}.json"
    path.write_text(json.dumps(TINY_OPEN_CLIP_CONFIG))
    open_clip.add_model_config(path)
    return name
