"""Load a fitted model from a run folder, a checkpoint or a .inrz file, without the config or the source video."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from inrzoo.errors import InrzooError
from inrzoo.models.video_inr import VideoINR


def find_checkpoint(path: str | Path) -> Path:
    """A ``.ckpt`` file as given, or a run folder's ``checkpoints/last.ckpt``."""
    path = Path(path).expanduser()
    if path.is_dir():
        for candidate in (path / "checkpoints" / "last.ckpt", path / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise InrzooError(f"run folder {path} has no checkpoints/last.ckpt; give a .ckpt file or a finished run")
    if not path.is_file():
        raise InrzooError(f"checkpoint {path} does not exist; give a .ckpt file or a run folder")
    return path


def load_video_inr(path: str | Path, map_location: str = "cpu") -> VideoINR:
    """The model of a run made with ``inrzoo fit`` (its config travels inside the checkpoint).

    Loaded with ``weights_only=True``: a checkpoint can never run code on load.
    """
    checkpoint = find_checkpoint(path)
    try:
        model = VideoINR.load_from_checkpoint(checkpoint, map_location=map_location, weights_only=True)
    except InrzooError:
        raise
    except Exception as err:
        cause = err.__cause__ or err.__context__
        if isinstance(cause, InrzooError):
            raise cause from err
        raise InrzooError(
            f"cannot load {checkpoint} as an inrzoo model ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "give a checkpoint written by `inrzoo fit`"
        ) from err
    return model.eval()


@dataclass
class FittedModel:
    """A fitted model and what was saved beside it."""

    model: VideoINR
    #: The model's hyperparameters as saved (backbone, head, alignment, ... with class paths).
    config: dict[str, Any]
    #: The ``VideoDataModule`` arguments of the fit (None for a .inrz file: it names no source).
    data: dict[str, Any] | None
    #: A .inrz header's video section (name, frames, size, fps); None for checkpoints.
    video: dict[str, Any] | None
    #: A name when the model has no ``video_name``: the run folder's or the file's.
    name: str

    @property
    def teacher_config(self) -> dict[str, Any] | None:
        """The alignment teacher's ``class_path`` + ``init_args`` (None without alignment)."""
        alignment = self.config.get("alignment")
        teacher = alignment.get("teacher") if isinstance(alignment, dict) else None
        return json.loads(json.dumps(teacher, default=str)) if isinstance(teacher, dict) else None  # JSON-safe


def _public(config: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in config.items() if not k.startswith("_")} if config else None


def load_fitted(path: str | Path) -> FittedModel:
    """A run folder, a checkpoint, or a .inrz file (decoded from the file alone)."""
    if str(path).endswith(".inrz"):
        from inrzoo.compression import Bitstream, decode_model

        stream = Bitstream.read(path)
        config = _public(stream.header["model"]) or {}
        return FittedModel(decode_model(stream), config, None, stream.header["video"], Path(path).stem)
    checkpoint = find_checkpoint(path)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = _public(saved.get("hyper_parameters")) or {}
    data = _public(saved.get("datamodule_hyper_parameters"))
    return FittedModel(load_video_inr(checkpoint), config, data, None, checkpoint.parent.parent.name)
