"""Writing results without ever clobbering earlier ones."""

from __future__ import annotations

from pathlib import Path

from inrzoo.errors import InrzooError


def claim_output(path: str | Path, overwrite: bool = False) -> Path:
    """Return ``path`` ready to write: parent made; an existing file is an error unless ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise InrzooError(f"{path} already exists; choose another output or pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
