"""Standard retrieval metrics: R@K (torchmetrics), median and mean rank of the right item."""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.retrieval import RetrievalRecall


def ranks_of_targets(similarity: Tensor, targets: Tensor) -> Tensor:
    """1-based rank of each query's target among all items. similarity: (Q, N); targets: (Q,) item indices."""
    target_scores = similarity.gather(1, targets.view(-1, 1))
    return (similarity > target_scores).sum(dim=1) + 1


def retrieval_metrics(similarity: Tensor, targets: Tensor, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """R@K in percent, median rank (MdR) and mean rank (MnR), as papers report them."""
    num_queries, num_items = similarity.shape
    relevance = torch.zeros_like(similarity, dtype=torch.bool)
    relevance[torch.arange(num_queries), targets] = True
    query_ids = torch.arange(num_queries).view(-1, 1).expand(-1, num_items)
    results: dict[str, float] = {}
    for k in ks:
        recall = RetrievalRecall(top_k=k)
        results[f"R@{k}"] = 100 * float(
            recall(similarity.flatten().float(), relevance.flatten(), indexes=query_ids.flatten())
        )
    ranks = ranks_of_targets(similarity, targets).float()
    results["MdR"] = float(torch.quantile(ranks, 0.5))  # the middle pair averaged, as numpy.median
    results["MnR"] = float(ranks.mean())
    results["queries"] = num_queries
    results["items"] = num_items
    return results
