"""``inrzoo chat``: ask a language model about a video stored as latents (the LLM bridge's tokens in the prompt)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch

from inrzoo.chat import DEFAULT_TEMPLATE, PLACEHOLDER, VideoChat, import_transformers, load_language_model
from inrzoo.chat.language_model import DTYPES
from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.runs import FittedRun


def main(argv: Sequence[str]) -> int:
    parser = one_line_parser(
        "inrzoo chat", "Ask a language model about a video stored as latents (fitted with an LLM bridge).", argv
    )
    parser.add_argument("run", help="a run folder, .ckpt or .inrz file fitted with model.init_args.llm_bridge")
    parser.add_argument("--llm", required=True, help="the language model: a local folder (save_pretrained) or hub id")
    parser.add_argument("--prompt", default=None, help=f"the question (the template puts the video at {PLACEHOLDER})")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="the longest answer, in tokens")
    parser.add_argument("--interactive", action="store_true", help="keep the conversation going: one question a line")
    parser.add_argument("--template", default=DEFAULT_TEMPLATE, help="each turn's text; {prompt} is the question")
    parser.add_argument("--placeholder", default=PLACEHOLDER, help="where the video goes in the template or prompt")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when there is one)")
    parser.add_argument("--dtype", default="auto", help=f"the language model's dtype: {', '.join(DTYPES)}")
    parser.add_argument(
        "--full-precision", action="store_true",
        help="a run folder's trained latents and bridge as they are (default: the values its .inrz file stores, "
        "so the run and its file give the same answers)",
    )  # fmt: skip
    args = parser.parse_args(list(argv))
    if args.prompt is None and not args.interactive:
        raise InrzooError("give a question with --prompt, or --interactive to ask on standard input")
    if args.max_new_tokens < 1:
        raise InrzooError(f"--max-new-tokens must be at least 1, got {args.max_new_tokens}")
    import_transformers()  # before any loading: a missing extra is the first thing to say
    run = FittedRun.open(args.run)
    if run.model.llm_bridge is None:
        raise InrzooError(
            f"{args.run} has no LLM bridge (fitted without model.init_args.llm_bridge); fit it with one, e.g. "
            "configs/chat_videollama.yaml"
        )
    device = _device(args.device)
    tokens = run.video_tokens(full_precision=args.full_precision)
    model, tokenizer = load_language_model(args.llm, device, args.dtype)
    chat = VideoChat(model, tokenizer, tokens, args.template, args.placeholder, llm_name=f"--llm {args.llm}")
    if args.prompt is not None:
        print(chat.ask(args.prompt, args.max_new_tokens), flush=True)
    if args.interactive:
        converse(chat, args.max_new_tokens)
    return 0


def _device(name: str | None) -> str:
    """``--device`` checked (a CUDA device on a machine without one is one line, not torch's traceback)."""
    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise InrzooError(f"--device {name!r} is not a device; give cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InrzooError(f"--device {name}: this machine has no CUDA device; give --device cpu")
    return name


def converse(chat: VideoChat, max_new_tokens: int) -> None:
    """Questions from standard input, one a line, each answered in turn; an empty line or end of input stops."""
    while True:
        print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line.strip():
            print(flush=True)
            return
        print(chat.ask(line.strip(), max_new_tokens), flush=True)
