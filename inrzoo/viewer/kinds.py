"""Which kind of thing ``inrzoo view`` was given, told from what is on disk (never from a flag)."""

from __future__ import annotations

from pathlib import Path

from inrzoo.errors import InrzooError
from inrzoo.viewer.bench import ViewedBench
from inrzoo.viewer.search import ViewedIndex
from inrzoo.viewer.session import ViewedRun

Viewed = ViewedRun | ViewedIndex | ViewedBench

_SHOWN = "a run folder, a .ckpt or .inrz file, an `inrzoo index` folder or an `inrzoo bench` folder"


def open_viewed(path: str | Path) -> Viewed:
    """A run folder / checkpoint / ``.inrz`` -> :class:`ViewedRun`; a folder with ``index.json`` ->
    :class:`ViewedIndex`; with ``bench.json`` -> :class:`ViewedBench`; anything else is one error line."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InrzooError(f"{path} does not exist; give {_SHOWN}")
    if path.is_file():
        if path.suffix in (".inrz", ".ckpt"):
            return ViewedRun.open(str(path))
        if path.name in ("index.json", "bench.json"):  # the folder's own file, named directly
            return open_viewed(path.parent)
        raise InrzooError(f"{path} is not a file inrzoo view shows (.ckpt or .inrz); give {_SHOWN}")
    if (path / "index.json").is_file():
        return ViewedIndex.open(path)
    if (path / "bench.json").is_file():
        return ViewedBench.open(path)
    if (path / "checkpoints" / "last.ckpt").is_file() or (path / "last.ckpt").is_file():
        return ViewedRun.open(str(path))
    raise InrzooError(
        f"{path} holds none of checkpoints/last.ckpt, index.json or bench.json, so inrzoo view cannot show it; "
        f"give {_SHOWN}"
    )
