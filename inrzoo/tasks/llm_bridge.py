"""The LLM bridge: a video's latent dictionary -> K tokens in a language model's input-embedding space.

The seed paper feeds its latents to VideoLLaMA in place of the video tokens. The bridge is a small
Q-Former: K learned queries attend to each other and cross-attend over the video's latents (T x d, any T),
then a linear map takes them to the language model's embedding width D. It is fitted jointly with the
reconstruction against the tokens the video-language model's own visual side makes for that video
(exported once to a ``.safetensors`` file, K x D), and stored with the video, counted apart from the
decoder (which never needs it).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from inrzoo.errors import InrzooError
from inrzoo.options import WEIGHT, WIDTH, check_options, integers
from inrzoo.tasks.base import TaskHead
from inrzoo.tasks.registry import register_task


class _QueryBlock(nn.Module):
    """Queries attend to each other, then to the latents, then an MLP (pre-norm residuals)."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(width)
        self.self_attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_cross = nn.LayerNorm(width)
        self.cross_attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, queries: Tensor, memory: Tensor) -> Tensor:
        """queries (B, K, width), memory (B, T, width) -> (B, K, width)."""
        x = self.norm_self(queries)
        queries = queries + self.self_attention(x, x, x, need_weights=False)[0]
        queries = queries + self.cross_attention(self.norm_cross(queries), memory, memory, need_weights=False)[0]
        return queries + self.mlp(self.norm_mlp(queries))


def time_encoding(frames: int, width: int, device: torch.device) -> Tensor:
    """(frames, width) sinusoids of each frame's place in the video (0 first, 1 last): the order of the
    latents, for a video of any length."""
    place = torch.linspace(0, 1, frames, device=device)[:, None] if frames > 1 else torch.zeros(1, 1, device=device)
    half = width // 2
    frequencies = math.pi * torch.exp2(torch.arange(half, device=device, dtype=torch.float32) * (8 / max(half, 1)))
    angles = place * frequencies
    encoding = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    return F.pad(encoding, (0, width - 2 * half))


def read_target_tokens(path: Path, key: str | None) -> Tensor:
    """The float (K, D) tensor of a ``.safetensors`` file (its only tensor, or ``key``; a leading batch of one
    is dropped, as a model's own export writes it)."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise InrzooError(f"target tokens file {path} does not exist; export the video's tokens (README: Chat)")
    try:
        tensors = load_file(str(path))
    except Exception as err:
        raise InrzooError(f"cannot read {path} as .safetensors ({type(err).__name__}: {err})") from err
    if key is None and len(tensors) != 1:
        raise InrzooError(f"{path} holds tensors {sorted(tensors)}; say which with llm_bridge key=...")
    if key is not None and key not in tensors:
        raise InrzooError(f"{path} has no tensor {key!r}; it holds {sorted(tensors)}")
    tokens = tensors[key] if key is not None else next(iter(tensors.values()))
    if tokens.dim() == 3 and tokens.shape[0] == 1:
        tokens = tokens[0]
    if tokens.dim() != 2 or not tokens.is_floating_point():
        raise InrzooError(f"{path} holds a {tuple(tokens.shape)} {tokens.dtype} tensor; expected float (tokens, width)")
    return tokens.float()


@register_task("llm-bridge")
class LLMBridge(TaskHead):
    """Latents (T, d) -> ``num_tokens`` x ``token_dim`` tokens a language model reads in place of its video tokens.

    The tokens' count and width are given, not read from the file: a stored run rebuilds its bridge without
    the file (which stays on the machine that fitted it). The output is scaled by the targets' RMS (a saved
    number) so the layers train at unit scale whatever the language model's embedding scale.

    Args:
        tokens: the ``.safetensors`` file of this video's target tokens (K x D; read when fitting only).
        num_tokens: K (VideoLLaMA's video Q-Former: 32).
        token_dim: D, the language model's embedding width (a 7B LLaMA: 4096).
        weight: weight of the bridge loss next to the reconstruction loss; 0 trains the bridge as a probe on
            latents it never moves.
        width: the queries' width inside the bridge.
        heads: attention heads (dividing ``width``).
        layers: query blocks (self-attention, cross-attention over the latents, MLP).
        key: the tensor's name in a file that holds several.
    """

    task = "llm-bridge"
    option_ranges = {
        "num_tokens": integers(1, 4096),
        "token_dim": integers(1, 65_536),
        "weight": WEIGHT,
        "width": WIDTH,
        "heads": integers(1, 64),
        "layers": integers(1, 16),
    }

    def __init__(
        self,
        tokens: str,
        num_tokens: int,
        token_dim: int,
        weight: float = 1.0,
        width: int = 64,
        heads: int = 4,
        layers: int = 1,
        key: str | None = None,
    ) -> None:
        check_options(self, locals())
        if width % heads:
            raise InrzooError(f"llm_bridge: width {width} is not divisible by heads {heads}; pick heads dividing it")
        super().__init__()
        self.tokens = Path(tokens).expanduser()
        self.num_tokens, self.token_dim, self.weight = num_tokens, token_dim, weight
        self.width, self.heads, self.layers, self.key = width, heads, layers, key
        self.latent_size: int | None = None
        # The targets are read from the file when fitting and never saved; the scale is saved.
        self.register_buffer("targets", torch.zeros(0), persistent=False)
        self.register_buffer("scale", torch.ones(()))

    @property
    def is_built(self) -> bool:
        return self.latent_size is not None

    def build(self, latent_size: int) -> LLMBridge:
        """Create the layers for latents of ``latent_size`` numbers per frame (the model calls it)."""
        self.latent_size = latent_size
        self.embed = nn.Sequential(nn.LayerNorm(latent_size), nn.Linear(latent_size, self.width))
        self.queries = nn.Parameter(0.02 * torch.randn(self.num_tokens, self.width))
        self.blocks = nn.ModuleList(_QueryBlock(self.width, self.heads) for _ in range(self.layers))
        self.out = nn.Sequential(nn.LayerNorm(self.width), nn.Linear(self.width, self.token_dim))
        return self

    def forward(self, latents: Tensor) -> Tensor:
        """latents (T, d) or (B, T, d) -> tokens (K, D) or (B, K, D)."""
        if not self.is_built:
            raise InrzooError("the LLM bridge is not built; it is built by the model it belongs to")
        batched = latents.dim() == 3
        memory = latents if batched else latents[None]
        memory = self.embed(memory) + time_encoding(memory.shape[1], self.width, memory.device)
        queries = self.queries.expand(memory.shape[0], -1, -1)
        for block in self.blocks:
            queries = block(queries, memory)
        tokens = self.scale * self.out(queries)
        return tokens if batched else tokens[0]

    @torch.no_grad()
    def null_cosine(self, latents: Tensor, seed: int = 0) -> Tensor:
        """How little the tokens depend on the latents: the mean cosine, token by token, between the tokens read from
        ``latents`` (T, d) and from *null* latents (noise with each channel's mean and spread over the video, a fixed
        seed). Near 1 the bridge holds the tokens in its queries and biases rather than reading the latents, which
        a bridge fitted on one video's one set of tokens may do (README "Chat"); it needs no target tokens, so it
        measures a stored run or file too."""
        generator = torch.Generator(device="cpu").manual_seed(seed)
        noise = torch.randn(latents.shape, generator=generator).to(latents.device, latents.dtype)
        spread = latents.std(dim=0, keepdim=True) if latents.shape[0] > 1 else latents.abs()
        null = latents.mean(dim=0, keepdim=True) + spread * noise
        return F.cosine_similarity(self(latents), self(null), dim=-1).mean()

    @property
    def is_prepared(self) -> bool:
        """True once :meth:`prepare` has read the targets."""
        return self.targets.numel() > 0

    def prepare(self) -> None:
        """Read the target tokens (once per fit) and set the output scale from them."""
        targets = read_target_tokens(self.tokens, self.key)
        if tuple(targets.shape) != (self.num_tokens, self.token_dim):
            raise InrzooError(
                f"{self.tokens} holds {targets.shape[0]} tokens x {targets.shape[1]}, the bridge is set to "
                f"num_tokens={self.num_tokens} x token_dim={self.token_dim}; set llm_bridge's num_tokens and "
                "token_dim to the file's"
            )
        self.targets = targets.to(self.scale.device)
        self.scale = targets.pow(2).mean().sqrt().clamp(min=1e-8).to(self.scale.device)

    @property
    def loss_weight(self) -> float:
        """Weight of :meth:`terms`' loss (a probe, weight 0, trains at 1: its gradient never reaches the latents)."""
        return self.weight or 1.0

    def terms(self, latents: Tensor) -> tuple[Tensor, Tensor]:
        """(loss, mean cosine) of the video's latents (T, d) against the target tokens.

        The loss is the squared error relative to the targets' energy: the language model reads the tokens as
        they are, so their length matters as much as their direction."""
        if not self.is_prepared:
            raise InrzooError("the LLM bridge has no target tokens; they are read when fitting")
        tokens = self(latents.detach() if self.weight == 0 else latents)
        loss = (tokens - self.targets).pow(2).sum(-1).mean() / self.targets.pow(2).sum(-1).mean().clamp(min=1e-12)
        return loss, F.cosine_similarity(tokens.detach(), self.targets, dim=-1).mean()
