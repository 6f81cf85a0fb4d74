"""Tiny plugin instances and inputs for tests: small enough to run hundreds of checks on a CPU."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from inrzoo.backbones.base import INRBackbone
from inrzoo.backbones.registry import BACKBONES
from inrzoo.hypernets.base import HyperHead
from inrzoo.hypernets.registry import HYPERNETS

#: Per-name overrides for built-ins whose generic tiny kwargs are not enough.
TINY_BACKBONE_KWARGS: dict[str, dict[str, Any]] = {
    "nerv-conv": {"channels": (8, 8, 8), "strides": (5, 2, 2), "stem_channels": 8, "latent_grid": (2, 2)},
    "hnerv": {"channels": (8, 6), "strides": (5, 2), "head_stride": 2},
    "hinerv": {"channels": (8, 6), "strides": (5, 2), "head_stride": 2, "kernel_size": 3},
    "grid-mlp": {"num_levels": 3, "base_resolution": 4, "finest_resolution": 16},
}
#: Offered to every plugin constructor; only the arguments it declares are passed.
GENERIC_TINY_KWARGS: dict[str, Any] = {"width": 16, "depth": 3, "hidden": 8, "rank": 2}


def accepted_kwargs(target: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``kwargs`` that ``target``'s signature declares (all of them with ``**kwargs``)."""
    parameters = inspect.signature(target).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return dict(kwargs)
    names = {p.name for p in parameters}
    return {k: v for k, v in kwargs.items() if k in names}


def tiny_backbone(name: str, **overrides: Any) -> INRBackbone:
    """An unbuilt registered backbone with small layers (e.g. coordinate MLPs of width 16)."""
    target = BACKBONES.get(name)
    kwargs = {**accepted_kwargs(target, GENERIC_TINY_KWARGS), **TINY_BACKBONE_KWARGS.get(name, {}), **overrides}
    return BACKBONES.create(name, **kwargs)


def tiny_hypernet(name: str, layers: Sequence[str] | None = None, **overrides: Any) -> HyperHead:
    """An unbuilt registered hypernetwork head with a small hidden layer."""
    target = HYPERNETS.get(name)
    kwargs = {**accepted_kwargs(target, GENERIC_TINY_KWARGS), **overrides}
    if layers is not None:
        kwargs["layers"] = list(layers)
    return HYPERNETS.create(name, **kwargs)


def random_latents(batch_size: int, latent_dim: int, seed: int = 0, std: float = 0.5) -> Tensor:
    """(B, D) latents from a fixed seed, scaled like trained latents rather than the tiny init."""
    generator = torch.Generator().manual_seed(seed)
    return std * torch.randn(batch_size, latent_dim, generator=generator)


def random_target(shape: Sequence[int], seed: int = 1) -> Tensor:
    """A fixed random image batch in [0, 1] to regress towards."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=generator)
