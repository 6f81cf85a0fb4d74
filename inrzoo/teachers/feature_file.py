"""Per-frame target features read from a file: align to any model without inrzoo depending on it.

This is how latents are aligned to a video-language model's visual-token space (the paper
uses VideoLLaMA): export its per-frame features to ``.safetensors`` or ``.npy`` and point
this teacher at the file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.options import NON_NEGATIVE_COUNT, check_options
from inrzoo.teachers.base import Teacher
from inrzoo.teachers.fingerprint import fingerprint_file
from inrzoo.teachers.registry import register_teacher


@register_teacher("feature-file")
class FeatureFileTeacher(Teacher):
    """Row t of a (frames, D) array is frame t's target feature.

    Args:
        path: a ``.safetensors`` file (tensor ``key``, or its only tensor) or a ``.npy`` file.
        key: the tensor's name inside a ``.safetensors`` file with several.
        first_row: the row of the video's first frame (set it with ``data.first_frame`` for segments).
    """

    option_ranges = {"first_row": NON_NEGATIVE_COUNT}

    def __init__(self, path: str, key: str | None = None, first_row: int = 0) -> None:
        check_options(self, locals())
        super().__init__()
        self.path = Path(path).expanduser()
        self.key = key
        self.first_row = first_row
        if not self.path.is_file():
            raise InrzooError(f"feature file {self.path} does not exist; give a .safetensors or .npy file")
        if self.path.suffix not in {".safetensors", ".npy"}:
            raise InrzooError(f"feature file {self.path} is not .safetensors or .npy; export the features as one")
        self._features: Tensor | None = None

    @property
    def features(self) -> Tensor:
        if self._features is None:
            self._features = self._read()
        return self._features

    def _read(self) -> Tensor:
        try:
            if self.path.suffix == ".npy":
                import numpy as np

                features = torch.from_numpy(np.load(self.path, allow_pickle=False))
            else:
                from safetensors.torch import load_file

                tensors = load_file(str(self.path))
                if self.key is None and len(tensors) != 1:
                    raise InrzooError(
                        f"{self.path} holds tensors {sorted(tensors)}; say which with FeatureFileTeacher key=..."
                    )
                if self.key is not None and self.key not in tensors:
                    raise InrzooError(f"{self.path} has no tensor {self.key!r}; it holds {sorted(tensors)}")
                features = tensors[self.key] if self.key is not None else next(iter(tensors.values()))
        except InrzooError:
            raise
        except Exception as err:
            raise InrzooError(f"cannot read features from {self.path} ({type(err).__name__}: {err})") from err
        if features.dim() != 2 or not features.is_floating_point():
            raise InrzooError(
                f"{self.path} holds a {tuple(features.shape)} {features.dtype} array; expected float (frames, dim)"
            )
        return features.float()

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    def encode_frames(self, frames: Tensor) -> Tensor:
        raise InrzooError(
            "FeatureFileTeacher reads features from its file and cannot encode new frames; "
            "export features for those frames too"
        )

    def features_for_video(self, frames: Tensor, batch_size: int = 32, progress: bool = True) -> Tensor:
        rows = self.features[self.first_row : self.first_row + frames.shape[0]]
        if rows.shape[0] != frames.shape[0]:
            raise InrzooError(
                f"{self.path} has {self.features.shape[0]} rows; the video needs rows {self.first_row} to "
                f"{self.first_row + frames.shape[0] - 1} (one per frame); export features for every frame"
            )
        return rows.clone()

    def cache_key(self) -> str:
        return f"feature-file:{fingerprint_file(self.path)}:{self.key}:{self.first_row}"
