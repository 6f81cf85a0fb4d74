"""MSR-VTT 1k-A test split (the "JSFusion" 1,000 video-caption pairs) in its usual published files.

Accepted: ``MSRVTT_JSFUSION_test.csv`` (columns ``key,vid_key,video_id,sentence``) or a JSON
list of ``{"video_id"|"clip_name": ..., "caption"|"sentence": ...}`` objects (a list of
captions takes the first). Videos are matched to an index by name: ``video7010`` is the
fit of ``.../videos/all/video7010.mp4`` (a run's ``video_name`` is its file stem).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from inrzoo.errors import InrzooError

_VIDEO_KEYS = ("video_id", "clip_name", "video", "vid")
_CAPTION_KEYS = ("sentence", "caption", "text")


@dataclass(frozen=True)
class CaptionQuery:
    video_id: str
    caption: str


def _pick(row: dict, keys: tuple[str, ...], path: Path) -> str:
    for key in keys:
        if key in row and row[key] not in (None, ""):
            value = row[key]
            return str(value[0] if isinstance(value, list) else value).strip()
    raise InrzooError(f"{path}: a row has none of the columns {', '.join(keys)}; is this an MSR-VTT caption file?")


def load_msrvtt_queries(path: str | Path) -> list[CaptionQuery]:
    """One text query per test video, in file order."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InrzooError(f"caption file {path} does not exist; give MSRVTT_JSFUSION_test.csv or a JSON list")
    if path.suffix.lower() == ".csv":
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    elif path.suffix.lower() == ".json":
        rows = json.loads(path.read_text())
        if isinstance(rows, dict) and "sentences" in rows:
            rows = rows["sentences"]
        if not isinstance(rows, list):
            raise InrzooError(f"{path} holds a JSON {type(rows).__name__}; expected a list of video/caption objects")
    else:
        raise InrzooError(f"{path} is neither .csv nor .json; give MSRVTT_JSFUSION_test.csv or a JSON list")
    queries = [CaptionQuery(_pick(r, _VIDEO_KEYS, path).removesuffix(".mp4"), _pick(r, _CAPTION_KEYS, path))
               for r in rows]  # fmt: skip
    if not queries:
        raise InrzooError(f"{path} holds no captions")
    return queries
