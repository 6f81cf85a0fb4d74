"""Writing results without ever clobbering earlier ones."""

from __future__ import annotations

from pathlib import Path

from inrzoo.errors import InrzooError


def claim_output(path: str | Path, overwrite: bool = False, overwrite_hint: str = "--overwrite") -> Path:
    """Return ``path`` ready to write: parent made; an existing file is an error unless ``overwrite``.

    ``overwrite_hint`` names the switch the caller's user has (a CLI flag or config key).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise InrzooError(f"{path} already exists; choose another output or pass {overwrite_hint} to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
