"""A retrieval index from fitted runs on disk (``inrzoo index``): each run opened once, its aligned latents kept."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from inrzoo.errors import InrzooError
from inrzoo.retrieval.index import RetrievalIndex, VideoEntry, expand_corpus_folders
from inrzoo.retrieval.pooling import Pooling
from inrzoo.runs.fitted import FittedRun


def build_index(checkpoints: Sequence[str | Path], pooling: Pooling = "mean") -> RetrievalIndex:
    """Load each fitted model (run, checkpoint, .inrz, or every finished run of a ``fit-many`` folder),
    keep its aligned latents, pool them per video."""
    checkpoints = expand_corpus_folders(checkpoints)
    if not checkpoints:
        raise InrzooError("give at least one checkpoint or run folder to index")
    entries: list[VideoEntry] = []
    teacher: dict[str, Any] | None = None
    for i, path in enumerate(checkpoints):
        fitted = FittedRun.open(path)
        model, config = fitted.model, fitted.teacher_config
        if model.alignment is None:
            raise InrzooError(
                f"{path} holds no alignment (fitted without it, or compressed with --drop-alignment); "
                "fit it with model.init_args.alignment set"
            )
        if i == 0:
            teacher = config
        elif config != teacher:
            raise InrzooError(
                f"{path} was aligned to a different teacher ({config}) than {checkpoints[0]} ({teacher}); "
                "an index needs one teacher space"
            )
        with torch.no_grad():
            frames = model.aligned_embeddings().cpu()
        name = model.video_name or fitted.name
        entries.append(VideoEntry(str(name), str(path), frames))
    return RetrievalIndex(entries, teacher, pooling)
