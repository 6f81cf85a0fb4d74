"""Video embedding = pooled per-frame aligned embeddings."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Pooling = Literal["mean", "attention"]


def pool_frames(frame_embeddings: Tensor, method: Pooling = "mean", temperature: float = 0.1) -> Tensor:
    """(T, D) -> (D,), L2-normalised.

    ``mean``: the average direction. ``attention``: frames weighted by softmax(cos(frame, mean) / T),
    so frames typical of the video count more than transitions and outliers (no parameters:
    the weights come from the video's own embeddings).
    """
    frames = F.normalize(frame_embeddings.float(), dim=-1)
    mean = F.normalize(frames.mean(dim=0), dim=-1)
    if method == "mean":
        return mean
    if method == "attention":
        weights = torch.softmax(frames @ mean / temperature, dim=0)
        return F.normalize((weights.unsqueeze(-1) * frames).sum(dim=0), dim=-1)
    raise ValueError(f"pooling must be 'mean' or 'attention', got {method!r}")
