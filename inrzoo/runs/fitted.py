"""One fitted video, opened once: a run folder, a checkpoint or a ``.inrz`` file."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from torch import Tensor

from inrzoo.compression import Bitstream, CompressionSettings, decode_model, quantized_state
from inrzoo.data import VideoDataModule
from inrzoo.errors import InrzooError
from inrzoo.models.loading import public_config, read_checkpoint
from inrzoo.models.video_inr import VideoINR
from inrzoo.runs.decoding import decode_uint8, iter_decode_uint8

#: The frame rate of a run whose source video is gone (decoding still works).
FALLBACK_FPS = 25.0


@dataclass
class FittedRun:
    """A fitted model and what was saved beside it, read from disk once (:meth:`open`).

    The data module, and so the source frames, is built on first use, once.
    """

    model: VideoINR
    #: The model's hyperparameters as saved (backbone, head, alignment, ... with class paths).
    config: dict[str, Any]
    #: The ``VideoDataModule`` arguments of the fit (None for a .inrz file: it names no source).
    data: dict[str, Any] | None
    #: A .inrz header's video section (name, frames, size, fps); None for checkpoints.
    video: dict[str, Any] | None
    #: A name when the model has no ``video_name``: the run folder's or the file's.
    name: str
    #: The file that was read: the checkpoint or the .inrz file.
    path: Path
    #: The run folder (None for a .inrz file).
    run_dir: Path | None = None

    @classmethod
    def open(cls, path: str | Path) -> FittedRun:
        """A run folder (its ``checkpoints/last.ckpt``), a ``.ckpt`` file, or a ``.inrz`` file."""
        if str(path).endswith(".inrz"):
            return cls.from_bitstream(path)
        checkpoint, model, saved = read_checkpoint(path)
        model.use_coded_values_()  # a rate fit decodes as its file does
        run_dir = Path(path) if Path(path).is_dir() else checkpoint.parent.parent
        return cls(
            model=model,
            config=public_config(saved.get("hyper_parameters")) or {},
            data=public_config(saved.get("datamodule_hyper_parameters")),
            video=None,
            name=checkpoint.parent.parent.name,
            path=checkpoint,
            run_dir=run_dir,
        )

    @classmethod
    def from_bitstream(cls, path: str | Path, frames: list[int] | None = None) -> FittedRun:
        """A ``.inrz`` file (any name), decoded from the file alone.

        ``frames``: random access: latents coded across time are decoded only for these frames (the
        others are NaN), so the run decodes those frames and costs at most a GOP per frame."""
        return cls.from_stream(Bitstream.read(path), path, frames)

    @classmethod
    def from_stream(cls, stream: Bitstream, path: str | Path, frames: list[int] | None = None) -> FittedRun:
        """:meth:`from_bitstream` of a file already read (``path`` names it)."""
        config = public_config(stream.header["model"]) or {}
        model = decode_model(stream, frames)
        return cls(model, config, None, stream.header["video"], Path(path).stem, Path(path))

    @property
    def is_file(self) -> bool:
        """Read from a ``.inrz`` file: its model holds the file's (quantised) values already."""
        return self.video is not None

    def file_model(self, settings: CompressionSettings | None = None) -> VideoINR:
        """The model with the values its ``.inrz`` file decodes to (a copy; a file's own model as it is).

        ``settings``: the file's (default: what ``inrzoo compress`` writes this run with). The values are
        :func:`~inrzoo.compression.quantized_state`'s, the export's own quantiser, which a written file's
        decoding is tested to equal bit for bit."""
        if self.is_file:
            return self.model
        model = copy.deepcopy(self.model)
        model.load_state_dict(quantized_state(model, settings or CompressionSettings.for_model(model)), strict=False)
        return model

    def video_tokens(self, full_precision: bool = False) -> Tensor:
        """The LLM bridge's tokens of this video (K, D), as its ``.inrz`` file gives them.

        ``inrzoo chat`` on a run folder and on the file ``inrzoo compress`` writes from it (default settings) is
        one conversation: the language model reads the same tokens, so its next-token distribution is the
        same bit for bit, whichever of the two a user kept. Storing what the bridge reads losslessly instead
        would cost every file full-precision latents and bridge weights (the bridge alone 4x its 8-bit size)
        for a difference the language model barely sees. ``full_precision``: the run's trained values (a
        run folder or checkpoint only: a ``.inrz`` holds no others)."""
        if full_precision and self.is_file:
            raise InrzooError(
                f"{self.path} is a .inrz file, which holds only its quantised values; give the run folder for the "
                "full-precision tokens"
            )
        return (self.model if full_precision else self.file_model()).video_tokens()

    @property
    def teacher_config(self) -> dict[str, Any] | None:
        """The alignment teacher's ``class_path`` + ``init_args`` (None without alignment)."""
        alignment = self.config.get("alignment")
        teacher = alignment.get("teacher") if isinstance(alignment, dict) else None
        return json.loads(json.dumps(teacher, default=str)) if isinstance(teacher, dict) else None  # JSON-safe

    @cached_property
    def datamodule(self) -> VideoDataModule | None:
        """The fit's data module, built on first use and kept (None for a .inrz file, which names no source).

        Raises :class:`InrzooError` when the source video is no longer readable.
        """
        return VideoDataModule(**self.data) if self.data else None

    def source(self, what: str, **overrides: Any) -> VideoDataModule:
        """The fit's data module, or with ``overrides`` (``resize=...``) a new one over the same video;
        ``what`` names who needs it, for the error when there is no source."""
        if not self.data:
            raise InrzooError(f"{what} needs the source video, which a .inrz file does not name; give the run folder")
        if overrides:
            return VideoDataModule(**{**self.data, **overrides})
        return self.datamodule

    def source_frames(self, what: str, **overrides: Any) -> Tensor:
        """The fit's own uint8 (T, 3, H, W) frames (or, with ``overrides``, the same video under another geometry)."""
        return self.source(what, **overrides).frames

    @cached_property
    def fps(self) -> float:
        """A .inrz header's frame rate, else the source video's, else 25 (the source is gone)."""
        if self.video is not None:
            return float(self.video.get("fps") or FALLBACK_FPS)
        try:
            datamodule = self.datamodule
        except InrzooError:
            return FALLBACK_FPS  # the source is gone: decoding still works
        return float(datamodule.fps) if datamodule is not None else FALLBACK_FPS

    def decode(self, indices: Iterable[int] | Tensor | None = None, batch_size: int = 8) -> Tensor:
        """uint8 (N, 3, H, W) frames ``indices`` (default: all), decoded in batches."""
        return decode_uint8(self.model, indices, batch_size)

    def iter_decode(self, indices: Iterable[int] | Tensor | None = None, batch_size: int = 8) -> Iterator[Tensor]:
        """:meth:`decode` as uint8 (n <= batch_size, 3, H, W) chunks, in order (to write as they come)."""
        return iter_decode_uint8(self.model, indices, batch_size)
