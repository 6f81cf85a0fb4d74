"""The ``inrzoo`` command line: one module per command, one table (:mod:`inrzoo.cli.table`) that
``inrzoo --help`` and dispatch both read, and the ``inrzoo.commands`` entry-point group for
third-party commands.

For a command's author: :class:`Command` (a row of the table) and :func:`one_line_parser`
(a parser whose errors are one ``inrzoo: error:`` line and exit status 2).
"""

from inrzoo.cli.app import find_user_error, main
from inrzoo.cli.parsing import one_line_parser
from inrzoo.cli.table import COMMANDS, Command, register_command

__all__ = ["COMMANDS", "Command", "find_user_error", "main", "one_line_parser", "register_command"]
