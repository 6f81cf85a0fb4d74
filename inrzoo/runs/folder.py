"""Claim a run folder atomically, so that two fits started at once never share one.

Lightning's loggers pick ``version_N`` by listing the folder: two processes that list it before
either writes both take the same N and mix their files. Here a version is taken by creating its
folder (``mkdir`` succeeds for one process only) and a folder is claimed by creating a marker in it
with ``O_EXCL`` (one process only, on a local file system).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from inrzoo.errors import InrzooError

#: The marker a run leaves in its folder: who claimed it, and when.
CLAIM_FILE = ".inrzoo-run.json"


def next_free_version(root: str | Path) -> int:
    """Create ``root/version_N`` for the lowest N above every existing version; that N is this caller's alone."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    existing = [int(p.name[8:]) for p in root.glob("version_*") if p.name[8:].isdigit()]
    version = max(existing, default=-1) + 1
    while True:
        try:
            (root / f"version_{version}").mkdir()
            return version
        except FileExistsError:  # another process took it between the listing and here
            version += 1


def claim_run_folder(run_dir: str | Path, fix: str) -> Path:
    """Mark ``run_dir`` as this process's run; one that already holds a run (its marker, or a
    ``config.yaml`` from before markers) is refused with ``fix`` as the way out."""
    run_dir = Path(run_dir)
    if (run_dir / "config.yaml").exists():
        raise InrzooError(f"run folder {run_dir} already holds a run (config.yaml); nothing was overwritten: {fix}")
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        handle = os.open(run_dir / CLAIM_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise InrzooError(
            f"run folder {run_dir} already holds a run (or one started at the same moment); nothing was "
            f"overwritten: {fix}"
        ) from None
    with os.fdopen(handle, "w") as marker:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}, marker)
    return run_dir
