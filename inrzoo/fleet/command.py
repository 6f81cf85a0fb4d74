"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.fit_many import main as fit_many_main

warnings.warn(
    "inrzoo.fleet.command is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["fit_many_main"]
