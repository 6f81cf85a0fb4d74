"""The prompt a language model reads: text embeddings with the video's tokens at the placeholder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from inrzoo.errors import InrzooError

#: Where the video's tokens go in a prompt.
PLACEHOLDER = "<video>"
#: A turn's text: ``{prompt}`` is the user's words; the video goes in at the placeholder (first turn only).
DEFAULT_TEMPLATE = "<video> {prompt}"


@dataclass
class SplicedPrompt:
    """A turn as the language model reads it."""

    #: (L, D) input embeddings: the text before the placeholder, the K video tokens, the text after.
    embeddings: Tensor
    #: Where the video tokens start in ``embeddings`` (None: this turn has no video).
    video_start: int | None
    #: The token ids of the text, None at the video's positions (for inspection and tests).
    token_ids: list[int | None]


def fill_template(template: str, prompt: str, placeholder: str = PLACEHOLDER, with_video: bool = True) -> str:
    """The turn's text; with ``with_video`` it holds the placeholder exactly once (from the template or the
    prompt), without it none (later turns of a conversation: the video is already in it)."""
    if "{prompt}" not in template:
        raise InrzooError(
            f"--template {template!r} has no {{prompt}}; write where the question goes, e.g. {DEFAULT_TEMPLATE!r}"
        )
    if not with_video:
        if placeholder in prompt:
            raise InrzooError(f"the video is already in this conversation; ask without {placeholder}")
        return template.replace(placeholder, "").replace("{prompt}", prompt)
    text = template.replace("{prompt}", prompt)
    count = text.count(placeholder)
    if count == 0:
        raise InrzooError(
            f"the prompt has no {placeholder} and the template {template!r} has none either; put {placeholder} where "
            "the video goes"
        )
    if count > 1:
        raise InrzooError(f"{placeholder} appears {count} times in the prompt and template; the video goes in once")
    return text


def _prefix_ids(tokenizer: Any) -> list[int]:
    """The beginning-of-text token this tokenizer starts a text with (none for GPT-2-like tokenizers)."""
    bos = tokenizer.bos_token_id
    return [bos] if bos is not None and bos in tokenizer("", add_special_tokens=True)["input_ids"] else []


def splice(
    text: str, video_tokens: Tensor | None, tokenizer: Any, embedding: torch.nn.Module, placeholder: str = PLACEHOLDER,
    first: bool = True,
) -> SplicedPrompt:  # fmt: skip
    """Embed ``text`` with ``video_tokens`` (K, D) in place of its placeholder (a text without one has no video).

    The text either side is tokenized on its own, so the placeholder never reaches the tokenizer; ``first``:
    this text opens the conversation (it gets the tokenizer's beginning-of-text token)."""
    before, *rest = text.split(placeholder)
    if len(rest) > 1:
        raise InrzooError(f"{placeholder} appears {len(rest)} times; the video goes in once")
    ids_before = (_prefix_ids(tokenizer) if first else []) + tokenizer(before, add_special_tokens=False)["input_ids"]
    ids_after = tokenizer(rest[0], add_special_tokens=False)["input_ids"] if rest else []
    weight = embedding.weight
    parts = [embedding(torch.tensor(ids_before, dtype=torch.long, device=weight.device))]
    token_ids: list[int | None] = list(ids_before)
    if rest:
        if video_tokens is None:
            raise InrzooError(f"the prompt has {placeholder} but there is no video to put there")
        parts.append(video_tokens.to(weight.device, weight.dtype))
        token_ids += [None] * video_tokens.shape[0]
        parts.append(embedding(torch.tensor(ids_after, dtype=torch.long, device=weight.device)))
        token_ids += ids_after
    return SplicedPrompt(torch.cat(parts), len(ids_before) if rest else None, token_ids)
