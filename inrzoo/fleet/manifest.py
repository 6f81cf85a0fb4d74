"""A corpus manifest: one video per line (``#`` comments and blank lines ignored), named by file stem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inrzoo.errors import InrzooError


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    video: str


def read_manifest(path: str | Path) -> list[ManifestEntry]:
    path = Path(path)
    if not path.is_file():
        raise InrzooError(f"manifest {path} does not exist; give a text file with one video path per line")
    entries: list[ManifestEntry] = []
    seen: dict[str, int] = {}
    for line in path.read_text().splitlines():
        video = line.split("#", 1)[0].strip()
        if not video:
            continue
        if not video.startswith("sample:") and not Path(video).is_absolute():
            video = str((path.parent / video).resolve())  # relative to the manifest, as a user expects
        stem = video.split(":", 1)[1] if video.startswith("sample:") else Path(video).stem
        seen[stem] = seen.get(stem, 0) + 1
        name = stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"
        entries.append(ManifestEntry(name, video))
    if not entries:
        raise InrzooError(f"manifest {path} lists no video")
    return entries
