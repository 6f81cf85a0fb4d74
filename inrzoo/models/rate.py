"""The rate term: train a model for the bits its file will hold, not only for its pixels.

Every stored tensor (weights, biases, latents) is quantised as ``symbols = round(x / step)``,
``x_hat = symbols * step``, with one learned ``step`` per tensor. Its symbols are coded with a
discretised Laplace (one learned location and scale per tensor): a symbol ``k`` costs
``-log2(F(k + 1/2) - F(k - 1/2))`` bits. Training sees the decoder's exact values through a
straight-through rounding (the distortion) and estimates the bits on additive uniform noise
(the rate; rounding has no gradient); the file (``inrzoo compress``) codes the hard-rounded
symbols with these very models, so the estimate is the file's size.

With ``gop`` > 0 the latent table is estimated as ``inrzoo compress --gop`` codes it
(:mod:`inrzoo.compression.temporal`): a key row every ``gop`` frames under the latents' own model,
each other row as its symbols' change from the previous frame under a second learned Laplace, so
the fit learns latents that change little from frame to frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from inrzoo.options import check_options, integers, numbers
from inrzoo.stored_config import trust_stored_class

#: Bits of one tensor's model in the file: step, location, scale (float32) and the symbol range (int32 x 2).
TABLE_BITS = 5 * 32
#: Bits of a temporally coded latent table's models and step in the file (the temporal table, 32 bytes, and
#: the float32 step).
TEMPORAL_TABLE_BITS = 32 * 8 + 32
#: The tensor a rate term with ``gop`` codes across time.
TEMPORAL_TENSOR = "latents.weight"
#: The least probability a symbol is estimated at: constriction's fixed-point models (24 bits) give every
#: symbol in range at least 2^-24, so a far outlier costs at most 24 bits in the file.
_MIN_PROBABILITY = 2.0**-24


def _laplace_cdf(x: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
    z = (x - loc) / scale
    return torch.where(z < 0, 0.5 * torch.exp(z.clamp(max=0)), 1 - 0.5 * torch.exp(-z.clamp(min=0)))


def laplace_bits(symbols: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
    """Code length in bits of each (real-valued) ``symbols`` under a Laplace(loc, scale) discretised to integers
    over the symbols' range, the tails' mass on its two end symbols (as the file's coder, constriction's
    ``QuantizedLaplace``, models it: it knows the lowest and highest symbol)."""
    low, high = torch.round(symbols.detach().min()), torch.round(symbols.detach().max())
    # Reflect onto the lower side, where the CDF is small and exact in float32 (1 - F(x) = F(2 loc - x)).
    lower_side = loc - (symbols - loc).abs()
    interior = _laplace_cdf(lower_side + 0.5, loc, scale) - _laplace_cdf(lower_side - 0.5, loc, scale)
    at_low = _laplace_cdf(symbols + 0.5, loc, scale)
    at_high = _laplace_cdf(2 * loc - symbols + 0.5, loc, scale)
    rounded = torch.round(symbols.detach())
    probability = torch.where(rounded <= low, at_low, torch.where(rounded >= high, at_high, interior))
    return -torch.log2(probability.clamp(min=_MIN_PROBABILITY))


def straight_through_round(x: Tensor) -> Tensor:
    """round(x) forward, identity backward (so ``step`` and ``x`` both get gradients, as in LSQ)."""
    return x + (torch.round(x) - x).detach()


def _rounded(scaled: Tensor, noise: bool) -> Tensor:
    """The symbols of ``scaled`` values: straight-through rounded while training, hard-rounded without noise."""
    return straight_through_round(scaled) if noise else torch.round(scaled)


@trust_stored_class  # stored model configs name it
class RateTerm(nn.Module):
    """loss = distortion + ``lmbda`` x estimated bits per pixel of the quantised model.

    Args:
        lmbda: weight of the rate (bits per pixel) against the distortion; larger: a smaller file.
        init_step: each tensor's first step size, as a share of its root mean square at build time (at least
            0.01: a zero-initialised bias grows).
        learning_rate: Adam learning rate of the steps and the entropy models' locations and scales (their
            own, higher than the model's: they must follow the weights within a short fit).
        gop: estimate the latents as coded across time with a key every ``gop`` frames (the default of
            ``inrzoo compress --gop`` for this fit); 0: each latent on its own.
    """

    option_ranges = {
        "lmbda": numbers(0, 1e6),
        "init_step": numbers(0, 10, low_open=True),
        "learning_rate": numbers(0, 1e6, low_open=True),
        "gop": integers(0, 2**31 - 1),
    }

    def __init__(self, lmbda: float = 0.01, init_step: float = 0.1, learning_rate: float = 0.02, gop: int = 0) -> None:
        check_options(self, locals())
        super().__init__()
        self.lmbda = lmbda
        self.init_step = init_step
        self.learning_rate = learning_rate
        self.gop = gop
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def build(self, tensors: Mapping[str, Tensor]) -> RateTerm:
        """One step, location and scale per tensor in ``tensors`` (name -> its initial values)."""
        self.names = list(tensors)
        spreads = torch.tensor([float(t.detach().float().square().mean().sqrt()) for t in tensors.values()])
        steps = self.init_step * spreads.clamp(min=1e-2)
        self.log_step = nn.Parameter(steps.log())
        self.loc = nn.Parameter(torch.zeros(len(self.names)))
        # Symbols x / step have a spread of about 1 / init_step: a Laplace of that spread.
        initial_scale = math.log(1 / (self.init_step * math.sqrt(2)))
        self.log_scale = nn.Parameter(torch.full((len(self.names),), initial_scale))
        if self.gop:  # the changes' model (the keys share the latents' own)
            self.change_loc = nn.Parameter(torch.zeros(()))
            self.change_log_scale = nn.Parameter(torch.full((), initial_scale))
        self._index = {name: i for i, name in enumerate(self.names)}
        return self

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def step(self, name: str) -> Tensor:
        """The float32 step of tensor ``name`` (a 0-d tensor; the file stores exactly this value)."""
        return self.log_step[self._index[name]].exp()

    def is_temporal(self, name: str) -> bool:
        """Whether ``name`` is estimated (and by default coded) across time."""
        return self.gop > 0 and name == TEMPORAL_TENSOR and name in self._index

    def change_model(self) -> tuple[float, float]:
        """The (location, scale) of the changes' symbol model, as float32 values the file stores."""
        return float(self.change_loc.detach().float()), float(self.change_log_scale.detach().exp().float())

    def model(self, name: str) -> tuple[float, float]:
        """The (location, scale) of ``name``'s symbol model, as float32 values the file stores."""
        i = self._index[name]
        return float(self.loc[i].detach().float()), float(self.log_scale[i].detach().exp().float())

    @torch.no_grad()
    def symbols(self, name: str, tensor: Tensor) -> Tensor:
        """The integer symbols (int32, ``tensor``'s shape) the file holds for ``tensor``."""
        return torch.round(tensor.detach().float() / self.step(name).detach()).to(torch.int32)

    @torch.no_grad()
    def dequantize(self, name: str, symbols: Tensor) -> Tensor:
        """symbols -> the decoder's values (float32), exactly as decoding the file computes them."""
        return symbols.float() * self.step(name).detach().float().to(symbols.device)

    def quantized(self, name: str, tensor: Tensor, noise: bool = True) -> Tensor:
        """The decoder's values of ``tensor``: straight-through rounded (training) or hard-rounded (``noise=False``,
        no gradient to the values)."""
        step = self.log_step[self._index[name]].exp().to(tensor.dtype)
        return _rounded(tensor / step, noise) * step

    def relaxed(self, name: str, tensor: Tensor, noise: bool = True) -> tuple[Tensor, Tensor]:
        """Training: (the decoder's values with a straight-through gradient, the estimated bits of ``tensor``
        coded on its own).

        ``noise=False``: the hard-rounded values and their bits, exactly as the file holds them (for validation)."""
        i = self._index[name]
        step = self.log_step[i].exp().to(tensor.dtype)
        scaled = tensor / step  # once per tensor and step: the values and the bits both start from it
        coded = torch.round(scaled) if not noise else scaled + (torch.rand_like(scaled) - 0.5)
        return _rounded(scaled, noise) * step, laplace_bits(coded, self.loc[i], self.log_scale[i].exp()).sum()

    def temporal_bits(self, name: str, table: Tensor, noise: bool = True) -> Tensor:
        """Estimated bits of a (T, D) latent ``table`` coded across time: key rows under the tensor's model,
        the others' symbol changes from the previous row under the changes' model. The relaxation adds
        uniform noise to the straight-through-rounded keys and changes, so both rows of a change get its
        gradient; ``noise=False``: the file's exact code lengths."""
        i = self._index[name]
        symbols = _rounded(table / self.log_step[i].exp().to(table.dtype), noise)
        keys = torch.arange(len(table), device=table.device) % self.gop == 0
        changes = symbols[1:][~keys[1:]] - symbols[:-1][~keys[1:]]
        coded_keys = symbols[keys]
        if noise:
            coded_keys = coded_keys + (torch.rand_like(coded_keys) - 0.5)
            changes = changes + (torch.rand_like(changes) - 0.5)
        bits = laplace_bits(coded_keys, self.loc[i], self.log_scale[i].exp()).sum()
        if changes.numel():
            bits = bits + laplace_bits(changes, self.change_loc, self.change_log_scale.exp()).sum()
        return bits

    @torch.no_grad()
    def file_bits(self, tensors: Mapping[str, Tensor], across_time: bool = True) -> float:
        """The estimate of the file's coded part: the hard-rounded symbols' code lengths plus each tensor's model.

        ``across_time=False``: a temporal tensor as a file without ``--gop`` codes it (each latent on its own
        under the keys' model)."""
        total = 0.0
        for name, tensor in tensors.items():
            if across_time and self.is_temporal(name):
                total += float(self.temporal_bits(name, tensor.detach().float(), noise=False)) + TEMPORAL_TABLE_BITS
                continue
            i = self._index[name]
            symbols = self.symbols(name, tensor).float()
            total += float(laplace_bits(symbols, self.loc[i], self.log_scale[i].exp()).double().sum()) + TABLE_BITS
        return total
