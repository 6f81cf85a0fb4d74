"""Retrieval from aligned latents: video embeddings, an on-disk index, text/video queries, metrics."""

from inrzoo.retrieval.evaluate import evaluate_text_to_video, evaluate_video_to_video
from inrzoo.retrieval.index import RetrievalIndex, VideoEntry, build_index
from inrzoo.retrieval.metrics import ranks_of_targets, retrieval_metrics
from inrzoo.retrieval.msrvtt import CaptionQuery, load_msrvtt_queries
from inrzoo.retrieval.pooling import pool_frames

__all__ = [
    "CaptionQuery",
    "RetrievalIndex",
    "VideoEntry",
    "build_index",
    "evaluate_text_to_video",
    "evaluate_video_to_video",
    "load_msrvtt_queries",
    "pool_frames",
    "ranks_of_targets",
    "retrieval_metrics",
]
