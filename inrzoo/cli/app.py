"""``inrzoo COMMAND ...``: discover plugins, look the command up in the table, run it.

``main(args=None)`` runs in-process so tests call it directly.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

# The plugin kinds inrzoo ships: importing one publishes its registry (and registers its built-ins).
from inrzoo import backbones, hypernets, registry, tasks, teachers  # noqa: F401
from inrzoo.cli.table import COMMANDS
from inrzoo.errors import InrzooError


def discover_plugins() -> None:
    """Every published registry's entry points, commands included (a broken one warns, or is fatal when strict)."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        registry.discover_all()


def main(args: Sequence[str] | None = None) -> int:
    """Entry point of the ``inrzoo`` console script; returns (or exits with) the status."""
    argv = list(sys.argv[1:] if args is None else args)
    try:
        discover_plugins()
        name = argv[0] if argv and not argv[0].startswith("-") else None
        command = COMMANDS.info(name).target if name is not None and name in COMMANDS else None
        if command is None or command.lightning:  # LightningCLI also answers --help and unknown subcommands
            from inrzoo.cli.lightning import main as lightning_main

            return lightning_main(argv, from_sys_argv=args is None)
        return command.load()(argv[1:])
    except Exception as err:
        user_error = find_user_error(err)
        if user_error is None:
            raise
        print(f"inrzoo: error: {user_error}", file=sys.stderr)
        raise SystemExit(2) from None


def find_user_error(err: BaseException) -> InrzooError | None:
    """Our user-facing error, also when jsonargparse or Lightning wrapped it on the way up.

    Lightning's own MisconfigurationException (an invalid combination of trainer settings)
    is a config problem too, so it is reported the same way.
    """
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, InrzooError):
            return current
        if isinstance(current, MisconfigurationException):
            return InrzooError(f"{str(current).splitlines()[0]} (check the trainer settings in your config)")
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
