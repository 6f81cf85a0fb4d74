"""Talk to a language model about a video stored as latents: the LLM bridge's tokens spliced into the prompt.

``transformers`` is an optional dependency (``pip install 'inrzoo[chat]'``), imported only when a model is
loaded.
"""

from inrzoo.chat.conversation import VideoChat
from inrzoo.chat.language_model import import_transformers, load_language_model
from inrzoo.chat.prompt import DEFAULT_TEMPLATE, PLACEHOLDER, SplicedPrompt, fill_template, splice

__all__ = [
    "DEFAULT_TEMPLATE",
    "PLACEHOLDER",
    "SplicedPrompt",
    "VideoChat",
    "fill_template",
    "import_transformers",
    "load_language_model",
    "splice",
]
