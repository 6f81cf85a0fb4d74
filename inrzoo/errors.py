"""User-facing errors.

Anything a user can cause by a bad config, path or name raises :class:`InrzooError`.
The CLI turns it into one line on stderr and exit code 2 instead of a traceback, so
the message itself must name the problem *and* the fix.
"""

from __future__ import annotations


class InrzooError(Exception):
    """A problem with the user's input; its message is shown as-is by the CLI."""


class UnknownPluginError(InrzooError, KeyError):
    """A plugin name that no registry knows (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class PluginLoadError(InrzooError):
    """A third-party entry point failed to load (fatal only when strict)."""
