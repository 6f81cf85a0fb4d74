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


class InrzooWarning(UserWarning):
    """Something the user should know that does not stop the work (shown as one line)."""


def warn(message: str) -> None:
    """Emit ``message`` as an :class:`InrzooWarning`, printed as one ``inrzoo: warning: ...`` line."""
    import warnings

    warnings.warn(message, InrzooWarning, stacklevel=3)


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001 - the warnings hook's
    if isinstance(category, type) and issubclass(category, InrzooWarning):
        return f"inrzoo: warning: {message}\n"
    return _default_format_warning(message, category, filename, lineno, line)


def _install_one_line_format() -> None:
    import warnings

    global _default_format_warning
    if warnings.formatwarning is not _format_warning:
        _default_format_warning = warnings.formatwarning
        warnings.formatwarning = _format_warning


_default_format_warning = None
_install_one_line_format()
