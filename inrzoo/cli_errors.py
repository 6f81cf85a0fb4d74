"""Deprecated alias: this code moved to ``inrzoo.cli`` (one module per command); removed in 0.3."""

import warnings

from inrzoo.cli.parsing import condense_parser_error, one_line_parser

warnings.warn(
    "inrzoo.cli_errors is deprecated: its code moved to inrzoo.cli (see the CHANGELOG)",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["condense_parser_error", "one_line_parser"]
