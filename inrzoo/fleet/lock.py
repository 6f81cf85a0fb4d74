"""A per-video lock, so that two ``fit-many`` processes on one ``--out`` never fit a video twice.

``flock`` on ``OUT/<name>/.lock``: the kernel drops the lock when the last process holding it
ends, however it ends (a SIGKILL included), so a killed run never leaves a video stuck. The fit
that a holder starts inherits the lock: a ``fit-many`` killed on its own does not free a video
whose fit is still running.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from inrzoo.errors import InrzooError

LOCK_FILE = ".lock"


@dataclass
class VideoLock:
    """A held lock; ``fd`` is passed to the fit (``pass_fds``) so that it holds the lock too."""

    path: Path
    fd: int

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing our descriptor is the unlock (a child's copy still holds it)
            self.fd = -1

    def __enter__(self) -> VideoLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def lock_video(video_dir: str | Path, wait: bool) -> VideoLock | None:
    """The lock of ``video_dir``, or None when another process holds it and ``wait`` is False."""
    try:
        import fcntl
    except ImportError:  # Windows
        raise InrzooError("fit-many locks each video with flock, which needs Linux or macOS") from None
    path = Path(video_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return VideoLock(path, fd)
