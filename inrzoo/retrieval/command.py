"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.index import main as index_main
from inrzoo.cli.retrieve import main as retrieve_main

warnings.warn(
    "inrzoo.retrieval.command is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["index_main", "retrieve_main"]
