"""Load a fitted model from a run folder or a checkpoint, without the config or the source video.

A run's other parts (its data, fps, source frames, a ``.inrz`` file) are opened by
:class:`inrzoo.runs.FittedRun`.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.core.saving import CHECKPOINT_PAST_HPARAMS_KEYS

from inrzoo.errors import InrzooError
from inrzoo.models.video_inr import VideoINR
from inrzoo.stored_config import check_stored_config


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


def public_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A saved config without Lightning's private keys (``_instantiator``, ``_class_path``)."""
    return {k: v for k, v in config.items() if not k.startswith("_")} if config else None


def _read(checkpoint: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and its contents (``weights_only=True``: a checkpoint can never run code on load)."""
    raw = checkpoint.read_bytes()
    try:
        saved = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as err:
        raise InrzooError(
            f"cannot load {checkpoint} as an inrzoo model ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "give a checkpoint written by `inrzoo fit`"
        ) from err
    if not isinstance(saved, dict):
        raise InrzooError(f"{checkpoint} is not an inrzoo checkpoint; give a checkpoint written by `inrzoo fit`")
    # Lightning builds the model from these (the old keys too): check them before it imports what they name.
    for key in (*CHECKPOINT_PAST_HPARAMS_KEYS, VideoINR.CHECKPOINT_HYPER_PARAMS_KEY):
        if saved.get(key) is not None:
            check_stored_config(saved[key], VideoINR, f"checkpoint {checkpoint}", key)
    return raw, saved


def _model_from(raw: bytes, checkpoint: Path, map_location: str) -> VideoINR:
    try:
        model = VideoINR.load_from_checkpoint(io.BytesIO(raw), map_location=map_location, weights_only=True)
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


def load_video_inr(path: str | Path, map_location: str = "cpu") -> VideoINR:
    """The model of a run made with ``inrzoo fit`` (its config travels inside the checkpoint).

    Loaded with ``weights_only=True``: a checkpoint can never run code on load; and its config may name
    only registered plugin classes (checked before anything it names is imported).
    """
    return read_checkpoint(path, map_location)[1]


def read_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[Path, VideoINR, dict[str, Any]]:
    """The checkpoint file, its model and everything saved with it (``hyper_parameters``,
    ``datamodule_hyper_parameters``, ...), from one read of the file (``weights_only=True``)."""
    checkpoint = find_checkpoint(path)
    raw, saved = _read(checkpoint)
    return checkpoint, _model_from(raw, checkpoint, map_location), saved


def __getattr__(name: str) -> Any:
    """``load_fitted`` and ``FittedModel``: deprecated aliases of :class:`inrzoo.runs.FittedRun` (removed in 0.3)."""
    if name in {"load_fitted", "FittedModel"}:
        from inrzoo.runs import FittedRun

        warnings.warn(
            f"inrzoo.models.loading.{name} is deprecated: use inrzoo.runs.FittedRun"
            + (".open(path)" if name == "load_fitted" else ""),
            DeprecationWarning,
            stacklevel=2,
        )
        return FittedRun.open if name == "load_fitted" else FittedRun
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
