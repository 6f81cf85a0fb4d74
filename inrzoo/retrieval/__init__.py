"""Retrieval from aligned latents: video embeddings, an on-disk index, text/video queries, metrics.

Indexing fitted runs on disk is :func:`inrzoo.runs.build_index`.
"""

import warnings
from typing import Any

from inrzoo.retrieval.evaluate import evaluate_text_to_video, evaluate_video_to_video
from inrzoo.retrieval.index import RetrievalIndex, VideoEntry, expand_corpus_folders
from inrzoo.retrieval.metrics import ranks_of_targets, retrieval_metrics
from inrzoo.retrieval.msrvtt import CaptionQuery, load_msrvtt_queries
from inrzoo.retrieval.pooling import pool_frames

__all__ = [
    "CaptionQuery",
    "RetrievalIndex",
    "VideoEntry",
    "evaluate_text_to_video",
    "evaluate_video_to_video",
    "expand_corpus_folders",
    "load_msrvtt_queries",
    "pool_frames",
    "ranks_of_targets",
    "retrieval_metrics",
]


def __getattr__(name: str) -> Any:
    """``build_index`` (it opens runs on disk) moved to :mod:`inrzoo.runs` (deprecated alias, removed in 0.3)."""
    if name == "build_index":
        from inrzoo.runs import build_index

        warnings.warn("inrzoo.retrieval.build_index is deprecated: use inrzoo.runs.build_index", DeprecationWarning,
                      stacklevel=2)  # fmt: skip
        return build_index
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
