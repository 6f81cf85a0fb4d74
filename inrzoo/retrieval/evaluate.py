"""Text-to-video and video-to-video retrieval evaluation against an index."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from inrzoo.errors import InrzooError
from inrzoo.retrieval.index import RetrievalIndex
from inrzoo.retrieval.metrics import retrieval_metrics
from inrzoo.retrieval.msrvtt import CaptionQuery
from inrzoo.teachers.base import Teacher


def target_indices(index: RetrievalIndex, video_ids: Sequence[str]) -> Tensor:
    """Position of each query's ground-truth video in the index; every one must be there."""
    position = {name: i for i, name in enumerate(index.names)}
    missing = [v for v in video_ids if v not in position]
    if missing:
        raise InrzooError(
            f"{len(missing)} queried videos are not in the index (e.g. {', '.join(missing[:3])}); "
            "fit and index every test video (index names are the videos' file stems)"
        )
    return torch.tensor([position[v] for v in video_ids])


def evaluate_text_to_video(
    index: RetrievalIndex, teacher: Teacher, queries: Sequence[CaptionQuery], batch_size: int = 256
) -> dict[str, float]:
    targets = target_indices(index, [q.video_id for q in queries])
    embeddings = torch.cat(
        [
            teacher.encode_text([q.caption for q in queries[i : i + batch_size]]).cpu()
            for i in range(0, len(queries), batch_size)
        ]
    )
    return retrieval_metrics(index.similarity(embeddings), targets)


def evaluate_video_to_video(
    index: RetrievalIndex, query_embeddings: Tensor, video_ids: Sequence[str]
) -> dict[str, float]:
    """Queries given as embeddings in the teacher space (e.g. pooled embeddings of other fits of the same videos)."""
    return retrieval_metrics(index.similarity(query_embeddings), target_indices(index, video_ids))
