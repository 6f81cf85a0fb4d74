"""Loading a causal language model and its tokenizer with Hugging Face ``transformers`` (imported lazily)."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from inrzoo.errors import InrzooError

#: What ``--dtype`` accepts: ``auto`` keeps the dtype the weights were saved in.
DTYPES = ("auto", "float32", "bfloat16", "float16")


def import_transformers() -> ModuleType:
    """The ``transformers`` module, or one line saying how to install it."""
    try:
        import transformers
    except ImportError:
        raise InrzooError("`inrzoo chat` needs Hugging Face transformers: pip install 'inrzoo[chat]'") from None
    return transformers


def hub_is_offline() -> bool:
    """Whether the Hugging Face hub is switched off (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``), read now: the
    hub library reads them once, at import, and would otherwise retry a network that is not there."""
    return any(
        os.environ.get(name, "").upper() in {"1", "ON", "YES", "TRUE"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def load_language_model(name: str, device: str = "cpu", dtype: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer) from a local folder (``save_pretrained``'s) or a hub id (where a network exists).

    A hub id that cannot be fetched (offline, unknown, gated) is one line saying to pass a local folder."""
    if dtype not in DTYPES:
        raise InrzooError(f"--dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    transformers = import_transformers()
    import torch

    folder = Path(name).expanduser()
    local = folder.exists()
    if local and not folder.is_dir():
        raise InrzooError(f"--llm {name} is a file; give the folder a model was saved to (save_pretrained) or a hub id")
    source = str(folder) if local else name
    cached_only = local or hub_is_offline()  # offline, a hub id can still be in the local cache
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=cached_only)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            source, local_files_only=cached_only, dtype=dtype if dtype == "auto" else getattr(torch, dtype)
        )
    except (OSError, ValueError, KeyError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        if local:
            raise InrzooError(
                f"cannot load a causal language model from {folder} ({reason}); give a folder written by "
                "save_pretrained (config.json, weights and tokenizer files)"
            ) from None
        raise InrzooError(
            f"cannot fetch {name!r} from the Hugging Face hub ({reason}); without a network, download it where "
            "one exists and pass its local folder to --llm"
        ) from None
    return model.to(device).eval(), tokenizer
