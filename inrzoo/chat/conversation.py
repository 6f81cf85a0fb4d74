"""A conversation with a language model about one video: turns spliced in order, answers decoded greedily."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from inrzoo.chat.language_model import import_transformers
from inrzoo.chat.prompt import DEFAULT_TEMPLATE, PLACEHOLDER, SplicedPrompt, fill_template, splice
from inrzoo.errors import InrzooError


class VideoChat:
    """One video's tokens (K, D), a causal language model and its tokenizer; every turn sees all earlier turns.

    Args:
        model: a ``transformers`` causal language model.
        tokenizer: its tokenizer.
        video_tokens: (K, D) tokens in the model's input-embedding space (the LLM bridge's).
        template: each turn's text, ``{prompt}`` the user's words; the video goes in at the placeholder, first
            turn only.
        placeholder: where the video goes.
        llm_name: the model's name, for errors.
    """

    def __init__(
        self, model: Any, tokenizer: Any, video_tokens: Tensor, template: str = DEFAULT_TEMPLATE,
        placeholder: str = PLACEHOLDER, llm_name: str = "the language model",
    ) -> None:  # fmt: skip
        self.model, self.tokenizer = model, tokenizer
        self.embedding = model.get_input_embeddings()
        width = self.embedding.weight.shape[1]
        if video_tokens.dim() != 2 or video_tokens.shape[1] != width:
            raise InrzooError(
                f"the video's bridge makes {video_tokens.shape[-1]}-wide tokens and {llm_name} takes {width}-wide "
                "embeddings; fit the bridge against tokens exported for this language model"
            )
        self.video_tokens = video_tokens.detach()
        self.template, self.placeholder = template, placeholder
        fill_template(template, "", placeholder, with_video=False)  # a template without {prompt}: one error now
        #: (L, D) embeddings of the conversation so far (None before the first turn).
        self.history: Tensor | None = None

    def turn(self, prompt: str) -> SplicedPrompt:
        """The next turn as the model reads it (the video goes in with the first)."""
        first = self.history is None
        text = fill_template(self.template, prompt, self.placeholder, with_video=first)
        return splice(text, self.video_tokens, self.tokenizer, self.embedding, self.placeholder, first=first)

    def _context(self, prompt: str) -> Tensor:
        """(1, L, D): the conversation so far and this turn."""
        spliced = self.turn(prompt).embeddings
        return (spliced if self.history is None else torch.cat([self.history, spliced]))[None]

    @torch.no_grad()
    def next_token_probabilities(self, prompt: str) -> Tensor:
        """(vocab,) the model's distribution over the first token of its answer to ``prompt`` (nothing is kept)."""
        context = self._context(prompt)
        logits = self.model(inputs_embeds=context, attention_mask=self._mask(context)).logits[0, -1]
        return torch.softmax(logits.float(), dim=-1)

    def _mask(self, context: Tensor) -> Tensor:
        return torch.ones(context.shape[:2], dtype=torch.long, device=context.device)

    @torch.no_grad()
    def ask(self, prompt: str, max_new_tokens: int = 64) -> str:
        """The model's greedy answer to ``prompt``; the turn and the answer join the conversation."""
        if max_new_tokens < 1:
            raise InrzooError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
        transformers = import_transformers()
        context = self._context(prompt)
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else eos
        # Its own generation settings: a chat model's saved ones often sample; answers here are greedy.
        settings = transformers.GenerationConfig(
            max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, eos_token_id=eos, pad_token_id=pad
        )
        output = self.model.generate(
            inputs_embeds=context, attention_mask=self._mask(context), generation_config=settings
        )
        answer_ids = output[0].tolist()  # given embeddings only, generate returns the new tokens only
        if eos is not None and eos in answer_ids:
            answer_ids = answer_ids[: answer_ids.index(eos)]
        self.history = context[0]
        if answer_ids:
            ids = torch.tensor(answer_ids, dtype=torch.long, device=context.device)
            self.history = torch.cat([self.history, self.embedding(ids)])
        return self.tokenizer.decode(answer_ids, skip_special_tokens=True).strip()
