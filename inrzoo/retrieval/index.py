"""A retrieval index over fitted videos, built from their aligned latents only (never their pixels)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.retrieval.pooling import Pooling, pool_frames

INDEX_FORMAT_VERSION = 1
INDEX_FILES = ("index.json", "embeddings.safetensors")


@dataclass
class VideoEntry:
    """One fitted video: its name, where it came from, and its per-frame aligned embeddings."""

    name: str
    source: str
    frame_embeddings: Tensor  # (T, D), L2-normalised


@dataclass
class RetrievalIndex:
    """Pooled video embeddings plus what is needed to embed a text query into the same space.

    ``teacher`` is the teacher's config (``class_path`` + ``init_args``) the latents were aligned
    to; every video in an index shares it. It is stored data: :func:`inrzoo.teachers.from_config.teacher_from_config`
    rebuilds it only if it names a registered teacher (a query by video never needs it).
    """

    entries: list[VideoEntry]
    teacher: dict[str, Any] | None
    pooling: Pooling = "mean"
    embeddings: Tensor = field(init=False)

    def __post_init__(self) -> None:
        if not self.entries:
            raise InrzooError("a retrieval index needs at least one video")
        dims = {e.frame_embeddings.shape[1] for e in self.entries}
        if len(dims) != 1:
            raise InrzooError(f"videos were aligned to spaces of different sizes {sorted(dims)}; index them apart")
        self.embeddings = torch.stack([pool_frames(e.frame_embeddings, self.pooling) for e in self.entries])

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    @property
    def feature_dim(self) -> int:
        return int(self.embeddings.shape[1])

    def similarity(self, queries: Tensor) -> Tensor:
        """(Q, D) query embeddings -> (Q, N) cosine similarities with every video."""
        if queries.dim() == 1:
            queries = queries.unsqueeze(0)
        if queries.shape[1] != self.feature_dim:
            raise InrzooError(
                f"query embeddings have {queries.shape[1]} dims, the index {self.feature_dim}; "
                "query with the teacher the videos were aligned to"
            )
        return F.normalize(queries.float(), dim=-1) @ self.embeddings.T

    def rank(self, query: Tensor, top_k: int | None = None) -> list[tuple[str, float]]:
        scores = self.similarity(query)[0]
        order = torch.argsort(scores, descending=True)[: top_k or len(self.entries)]
        return [(self.entries[i].name, float(scores[i])) for i in order.tolist()]

    # -- files ----------------------------------------------------------------------------
    def save(self, directory: str | Path, overwrite: bool = False) -> Path:
        """Write ``index.json`` + ``embeddings.safetensors`` into ``directory`` (atomically, never over an index)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        if directory.exists() and any((directory / f).exists() for f in INDEX_FILES) and not overwrite:
            raise InrzooError(f"{directory} already holds an index; choose another --out or pass --overwrite")
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
        try:
            tensors = {f"frames.{i}": e.frame_embeddings.contiguous() for i, e in enumerate(self.entries)}
            save_file(tensors, str(staging / "embeddings.safetensors"))
            meta = {
                "format_version": INDEX_FORMAT_VERSION,
                "pooling": self.pooling,
                "feature_dim": self.feature_dim,
                "teacher": self.teacher,
                "videos": [{"name": e.name, "source": e.source, "frames": int(e.frame_embeddings.shape[0])}
                           for e in self.entries],
            }  # fmt: skip
            (staging / "index.json").write_text(json.dumps(meta, indent=2) + "\n")
            directory.mkdir(exist_ok=True)
            for name in INDEX_FILES:
                os.replace(staging / name, directory / name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return directory

    @classmethod
    def load(cls, directory: str | Path, pooling: Pooling | None = None) -> RetrievalIndex:
        from safetensors.torch import load_file

        directory = Path(directory)
        meta_file = directory / "index.json"
        if not meta_file.is_file():
            raise InrzooError(f"{directory} is not a retrieval index (no index.json); build one with `inrzoo index`")
        try:
            meta = json.loads(meta_file.read_text())
            tensors = load_file(str(directory / "embeddings.safetensors"))
        except Exception as err:
            raise InrzooError(f"retrieval index {directory} is unreadable ({type(err).__name__}); rebuild it") from err
        if meta.get("format_version", 0) > INDEX_FORMAT_VERSION:
            raise InrzooError(
                f"index {directory} has format version {meta['format_version']}; this inrzoo reads up to "
                f"{INDEX_FORMAT_VERSION}: upgrade inrzoo"
            )
        entries = [VideoEntry(v["name"], v["source"], tensors[f"frames.{i}"]) for i, v in enumerate(meta["videos"])]
        return cls(entries, meta.get("teacher"), pooling or meta.get("pooling", "mean"))


def expand_corpus_folders(paths: Sequence[str | Path]) -> list[str]:
    """A ``fit-many`` output folder stands for the finished run of each of its videos (its results.csv)."""
    import csv

    expanded: list[str] = []
    for path in paths:
        table = Path(path) / "results.csv"
        if not table.is_file():
            expanded.append(str(path))
            continue
        with table.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        unfinished = [r["name"] for r in rows if r["status"] not in {"done", "skipped"} or not r["run_dir"]]
        if unfinished:
            raise InrzooError(
                f"{path} has unfinished videos ({', '.join(unfinished[:3])}); rerun `inrzoo fit-many` to finish them"
            )
        expanded += [r["run_dir"] for r in rows]
    return expanded
