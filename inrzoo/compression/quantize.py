"""Uniform quantisation of tensors, per tensor or per channel, whichever reconstructs better.

Asymmetric min-max quantisation: ``q = round((x - low) / step)`` in ``[0, 2^bits - 1]``,
``x_hat = low + q * step``; ``low`` and ``step`` are float32 per group (the whole tensor, or each
slice along one axis) and are stored in the file, so their overhead counts in the bpp.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class QuantizedTensor:
    """Integer symbols plus what turns them back into floats."""

    symbols: Tensor  # int32, the tensor's shape
    low: Tensor  # float32, one per group
    step: Tensor  # float32, one per group
    bits: int
    axis: int | None  # None: one group; else groups are slices along this axis

    def dequantize(self) -> Tensor:
        if self.axis is None:
            return self.low + self.symbols.float() * self.step
        shape = [1] * self.symbols.dim()
        shape[self.axis] = -1
        return self.low.view(shape) + self.symbols.float() * self.step.view(shape)


def quantize(tensor: Tensor, bits: int, axis: int | None) -> QuantizedTensor:
    """Quantise with one (low, step) per tensor (``axis=None``) or per slice along ``axis``."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    x = tensor.detach().float().cpu()
    levels = 2**bits - 1
    if axis is None:
        low, high = x.min().reshape(1), x.max().reshape(1)
        view = x
    else:
        moved = x.movedim(axis, 0).reshape(x.shape[axis], -1)
        low, high = moved.min(dim=1).values, moved.max(dim=1).values
        view = None
    step = (high - low) / levels
    step = torch.where(step > 0, step, torch.ones_like(step))
    if axis is None:
        symbols = torch.round((view - low) / step).clamp(0, levels)
    else:
        shape = [1] * x.dim()
        shape[axis] = -1
        symbols = torch.round((x - low.view(shape)) / step.view(shape)).clamp(0, levels)
    return QuantizedTensor(symbols.to(torch.int32), low.contiguous(), step.contiguous(), bits, axis)


#: Per-channel groups are allowed while their (low, step) pairs cost at most this share of the
#: tensor's raw symbol bits: a bias quantised per element would be lossless and cost 64 bits each.
MAX_GROUP_OVERHEAD = 1 / 8


def candidate_axes(tensor: Tensor, bits: int = 8, whole_axis: int | None = None) -> list[int | None]:
    """Per tensor, and per channel along the first or last axis where the groups' overhead stays small;
    never groups along ``whole_axis`` (latents coded across time need one quantiser for every frame)."""
    budget = MAX_GROUP_OVERHEAD * tensor.numel() * bits / 64  # how many (low, step) float32 pairs are affordable
    axes: list[int | None] = [None]
    if tensor.dim() >= 2:
        for axis in (0, tensor.dim() - 1):
            if 1 < tensor.shape[axis] <= budget and axis != whole_axis:
                axes.append(axis)
    return axes


def best_quantization(tensor: Tensor, bits: int, whole_axis: int | None = None) -> QuantizedTensor:
    """The affordable candidate (:func:`candidate_axes`) with the lowest squared error
    (ties: the fewest groups)."""
    best: tuple[float, int, QuantizedTensor] | None = None
    for axis in candidate_axes(tensor, bits, whole_axis):
        q = quantize(tensor, bits, axis)
        error = float(((q.dequantize() - tensor.detach().float().cpu()) ** 2).sum())
        key = (error, q.low.numel())
        if best is None or key < best[:2]:
            best = (error, q.low.numel(), q)
    assert best is not None
    return best[2]


def prune_smallest(tensor: Tensor, fraction: float) -> Tensor:
    """Zero the ``fraction`` of entries with the smallest magnitude (magnitude pruning)."""
    if fraction <= 0 or tensor.numel() < 2:
        return tensor
    count = int(fraction * tensor.numel())
    if count == 0:
        return tensor
    threshold = tensor.detach().abs().flatten().kthvalue(count).values
    return torch.where(tensor.abs() <= threshold, torch.zeros_like(tensor), tensor)
