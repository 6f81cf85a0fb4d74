"""The one table of ``inrzoo`` commands: name -> one-line help and handler.

``inrzoo --help`` and dispatch both read it, so adding a command is one row here and one module
in ``inrzoo/cli/``. Third-party packages add rows through the ``inrzoo.commands`` entry-point group,
pointing at a :class:`Command`::

    [project.entry-points."inrzoo.commands"]
    color-stats = "inrzoo_example_plugin.command:command"

A command that fails to load is reported by ``inrzoo plugins`` and skipped, like any plugin
(``INRZOO_STRICT_PLUGINS=1`` makes it fatal); a name that is already taken is refused.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inrzoo.registry import Registry

Handler = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class Command:
    """One ``inrzoo NAME`` command.

    Args:
        help: one line for ``inrzoo --help`` and ``inrzoo plugins``.
        handler: ``main(argv) -> exit status`` (argv: the arguments after the command's name), or its
            ``"module:function"`` path, imported on first use so that ``inrzoo --help`` stays fast.
        lightning: a LightningCLI subcommand (fit, validate, test, predict): it gets the whole command
            line, and LightningCLI's own help lists it.
    """

    help: str
    handler: Handler | str
    lightning: bool = False

    @property
    def qualname(self) -> str:
        """The handler's dotted path, without importing it (``inrzoo plugins`` shows it)."""
        if isinstance(self.handler, str):
            return self.handler.replace(":", ".")
        return f"{self.handler.__module__}.{self.handler.__qualname__}"

    def load(self) -> Handler:
        if not isinstance(self.handler, str):
            return self.handler
        module, _, name = self.handler.partition(":")
        return getattr(importlib.import_module(module), name)


COMMANDS: Registry[Command] = Registry("command", "inrzoo.commands", Command, instances=True, publish=True)


def register_command(name: str, command: Command) -> Command:
    """Add a row to the table (built-ins, and tests); third-party packages use the entry-point group."""
    return COMMANDS.register(name)(command)


_LIGHTNING = "inrzoo.cli.lightning:main"
for _name, _command in {
    "fit": Command("fit a model to a video (`inrzoo fit --help`)", _LIGHTNING, lightning=True),
    "validate": Command("score a fitted model on the fit's frames", _LIGHTNING, lightning=True),
    "test": Command("score a fitted model on held-out frames", _LIGHTNING, lightning=True),
    "predict": Command("decode a fitted model to mp4 and PNG frames", _LIGHTNING, lightning=True),
    "plugins": Command("list registered plugins and any that failed to load", "inrzoo.cli.plugins:main"),
    "bench": Command(
        "benchmark backbone x hypernetwork-head combinations against x264/x265 (`inrzoo bench --help`)",
        "inrzoo.cli.bench:main",
    ),
    "index": Command("build a retrieval index from aligned fits (`inrzoo index --help`)", "inrzoo.cli.index:main"),
    "retrieve": Command(
        "query a retrieval index by text or video, or evaluate it (`inrzoo retrieve --help`)",
        "inrzoo.cli.retrieve:main",
    ),
    "compress": Command("write a fitted run as one .inrz file (`inrzoo compress --help`)", "inrzoo.cli.compress:main"),
    "decompress": Command(
        "decode a .inrz file to mp4 or PNG frames (`inrzoo decompress --help`)", "inrzoo.cli.decompress:main"
    ),
    "interpolate": Command(
        "write the video at a multiple of its frame rate (`inrzoo interpolate --help`)", "inrzoo.cli.interpolate:main"
    ),
    "upscale": Command("write the video at a higher resolution (`inrzoo upscale --help`)", "inrzoo.cli.upscale:main"),
    "eval-interpolation": Command(
        "score held-out frames against neighbour averaging and minterpolate", "inrzoo.cli.eval_interpolation:main"
    ),
    "eval-sr": Command("score super-resolution against real frames, bicubic and lanczos", "inrzoo.cli.eval_sr:main"),
    "chat": Command(
        "ask a language model about a video fitted with an LLM bridge (`inrzoo chat --help`)", "inrzoo.cli.chat:main"
    ),
    "view": Command(
        "serve a run, a retrieval index or a bench folder to a local web page (`inrzoo view --help`)",
        "inrzoo.cli.view:main",
    ),
    "fit-many": Command(
        "fit every video of a manifest, resumable (`inrzoo fit-many --help`)", "inrzoo.cli.fit_many:main"
    ),
}.items():
    register_command(_name, _command)
