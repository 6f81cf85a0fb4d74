"""Built-in hypernetwork heads: full weights, gated low-rank (the Latent-INR paper), FiLM."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from inrzoo.backbones.layers import LayerParams, ModulatedLayer
from inrzoo.hypernets.base import HyperHead, LayerHyperNet, latent_mlp
from inrzoo.hypernets.registry import register_hypernet
from inrzoo.options import WIDTH, check_options, integers


class FullWeightHyperNet(LayerHyperNet):
    def __init__(self, latent_dim: int, hidden: int, layer: ModulatedLayer) -> None:
        super().__init__()
        self.has_bias = layer.bias is not None
        self.mlp = latent_mlp(latent_dim, hidden, layer.weight.numel() + (layer.out_features if self.has_bias else 0))

    def forward(self, latent: Tensor, weight: Tensor, bias: Tensor | None) -> LayerParams:
        out = self.mlp(latent)
        n = weight.numel()
        new_weight = weight + out[:, :n].reshape(-1, *weight.shape)
        new_bias = bias + out[:, n:] if bias is not None else None
        return LayerParams(new_weight, new_bias)


@register_hypernet("full")
class FullWeightHyperHead(HyperHead):
    """Predicts a full per-frame weight (as a residual on the shared base).

    The most expressive head and the largest (hidden x layer size parameters per layer):
    restrict ``layers`` to small layers.
    """

    option_ranges = {"hidden": WIDTH}

    def __init__(self, hidden: int = 32, layers: Sequence[str] | None = None) -> None:
        check_options(self, locals())
        super().__init__(layers)
        self.hidden = hidden

    def make_layer_hypernet(self, latent_dim: int, layer: ModulatedLayer) -> LayerHyperNet:
        return FullWeightHyperNet(latent_dim, self.hidden, layer)


class LowRankGateHyperNet(LayerHyperNet):
    def __init__(self, latent_dim: int, hidden: int, rank: int, layer: ModulatedLayer) -> None:
        super().__init__()
        self.rank = rank
        self.out_features = layer.out_features
        self.fan_in = layer.fan_in
        self.mlp = latent_mlp(latent_dim, hidden, rank * (self.out_features + self.fan_in))
        # As in LoRA: one factor starts random, the other near zero, so the gate starts at
        # the identity yet both factors receive gradients (P = Q = 0 would be a saddle).
        with torch.no_grad():
            self.mlp[-1].bias[rank * self.out_features :].normal_(std=rank**-0.5)

    def forward(self, latent: Tensor, weight: Tensor, bias: Tensor | None) -> LayerParams:
        factors = self.mlp(latent)
        split = self.rank * self.out_features
        p = factors[:, :split].reshape(-1, self.out_features, self.rank)
        q = factors[:, split:].reshape(-1, self.fan_in, self.rank)
        # 2 * sigmoid keeps the gate at 1 (the base weight) when the factors are zero.
        gate = 2 * torch.sigmoid(torch.bmm(p, q.transpose(1, 2)))
        new_weight = gate.reshape(-1, *weight.shape) * weight
        new_bias = bias.expand(latent.shape[0], -1) if bias is not None else None
        return LayerParams(new_weight, new_bias)


@register_hypernet("lowrank-gate")
class LowRankGateHyperHead(HyperHead):
    """The Latent-INR paper's head: W_t = g(P_t Q_t^T) * W with rank-r factors from the latent.

    The elementwise gate softly selects a per-frame sub-network of the shared weight.
    ``g`` is ``2 * sigmoid`` (the paper's sigmoid, scaled so an untrained gate is the identity).

    Args:
        hidden: hidden units of each per-layer hypernetwork (paper: 128, tanh).
        rank: rank r of the gate logits; sets the size/quality trade-off.
        layers: patterns of layers to modulate (None: all).
    """

    option_ranges = {"hidden": WIDTH, "rank": integers(1, 1024)}

    def __init__(self, hidden: int = 128, rank: int = 4, layers: Sequence[str] | None = None) -> None:
        check_options(self, locals())
        super().__init__(layers)
        self.hidden = hidden
        self.rank = rank

    def make_layer_hypernet(self, latent_dim: int, layer: ModulatedLayer) -> LayerHyperNet:
        return LowRankGateHyperNet(latent_dim, self.hidden, self.rank, layer)


class FiLMHyperNet(LayerHyperNet):
    def __init__(self, latent_dim: int, hidden: int, layer: ModulatedLayer) -> None:
        super().__init__()
        self.out_features = layer.out_features
        self.mlp = latent_mlp(latent_dim, hidden, 2 * self.out_features)

    def forward(self, latent: Tensor, weight: Tensor, bias: Tensor | None) -> LayerParams:
        scale, shift = self.mlp(latent).chunk(2, dim=-1)
        base_bias = bias if bias is not None else weight.new_zeros(self.out_features)
        # Row-scaled base weight: the layer scales its output rather than building per-sample weights.
        return LayerParams(None, base_bias + shift, out_scale=1 + scale)


@register_hypernet("film")
class FiLMHyperHead(HyperHead):
    """FiLM / shift modulation (functa-style): per-channel scale and shift from the latent.

    The cheapest head: 2 x out_features outputs per layer.
    """

    option_ranges = {"hidden": WIDTH}

    def __init__(self, hidden: int = 64, layers: Sequence[str] | None = None) -> None:
        check_options(self, locals())
        super().__init__(layers)
        self.hidden = hidden

    def make_layer_hypernet(self, latent_dim: int, layer: ModulatedLayer) -> LayerHyperNet:
        return FiLMHyperNet(latent_dim, self.hidden, layer)
