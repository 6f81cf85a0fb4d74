"""Layers whose weights a hypernetwork can replace per sample.

A modulated layer owns a *base* weight and bias (shared by all frames). A hypernetwork
head turns a frame's latent into per-sample parameters (:class:`LayerParams`) derived
from that base; the layer then applies sample ``b``'s parameters to sample ``b``'s input.
Keeping the base inside the layer lets every head (full, low-rank, FiLM) share one
contract: ``(latent, base weight, base bias) -> per-sample weight, bias``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class LayerParams:
    """Per-sample parameters for one modulated layer.

    weight: (B, *base_weight.shape); bias: (B, out_features) or None.
    """

    weight: Tensor
    bias: Tensor | None


class ModulatedLayer(nn.Module):
    """Marker base: a layer with ``weight`` (out, in, ...) and ``bias`` (out,) that
    accepts optional per-sample :class:`LayerParams`."""

    weight: nn.Parameter
    bias: nn.Parameter | None

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    @property
    def fan_in(self) -> int:
        return int(self.weight[0].numel())


class ModulatedLinear(ModulatedLayer):
    """Linear layer over ``x: (B, N, in)`` with optional per-sample weights."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, params: LayerParams | None = None) -> Tensor:
        if params is None:
            return F.linear(x, self.weight, self.bias)
        out = torch.bmm(x, params.weight.transpose(1, 2))
        if params.bias is not None:
            out = out + params.bias[:, None, :]
        return out


class ModulatedConv2d(ModulatedLayer):
    """Conv2d over ``x: (B, C, H, W)``; per-sample weights run as one grouped conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor, params: LayerParams | None = None) -> Tensor:
        if params is None:
            return F.conv2d(x, self.weight, self.bias, padding=self.padding)
        batch, channels, height, width = x.shape
        weight = params.weight.reshape(-1, *params.weight.shape[2:])
        bias = params.bias.reshape(-1) if params.bias is not None else None
        out = F.conv2d(x.reshape(1, batch * channels, height, width), weight, bias, padding=self.padding, groups=batch)
        return out.reshape(batch, -1, height, width)
