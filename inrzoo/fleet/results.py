"""A corpus's results: each video's outcome, and the ``results.csv``/``results.md`` tables of an ``--out``.

What a table says is read back from the folder, not from one process's memory: ``OUT/<name>/done.json``
(finished) or ``failed.json`` (the last attempt failed), and ``OUT/manifest.json`` (the videos and their
order, written by every ``fit-many`` on that folder). So shards of a job array, or machines sharing the
disk, each write what they did, and ``fit-many --out OUT --report`` (or the last shard to finish) merges
them into one table.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TextIO

from inrzoo.errors import InrzooError
from inrzoo.fleet.lock import lock_video
from inrzoo.fleet.manifest import ManifestEntry

DONE_FILE, FAILED_FILE, MANIFEST_FILE = "done.json", "failed.json", "manifest.json"
#: Held while a merged table is computed and written, so the last one written saw every finished video.
TABLE_LOCK = ".table"


@dataclass
class VideoOutcome:
    name: str
    video: str
    # done | skipped (already done) | failed | busy (another process is fitting it; not final);
    # in a merged report also: running (locked by a fit now) | pending (not started, or interrupted)
    status: str
    run_dir: str | None = None
    resumed_from: str | None = None
    psnr: float | None = None
    ms_ssim: float | None = None
    params: int | None = None
    bpp_16bit: float | None = None
    seconds: float | None = None
    error: str | None = None


def read_outcome(path: Path) -> VideoOutcome:
    known = {f.name for f in fields(VideoOutcome)}
    return VideoOutcome(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})


def write_outcome(outcome: VideoOutcome, video_dir: Path) -> None:
    """``done.json`` (and no ``failed.json``) or ``failed.json``, each written in one step."""
    finished = outcome.status == "done"
    with _replacing(video_dir / (DONE_FILE if finished else FAILED_FILE)) as handle:
        handle.write(json.dumps(asdict(outcome), indent=2) + "\n")
    if finished:
        (video_dir / FAILED_FILE).unlink(missing_ok=True)


def record_manifest(out: Path, entries: list[ManifestEntry]) -> None:
    """``OUT/manifest.json``: every video of the manifest (all shards'), in order, for a merged report."""
    with _replacing(out / MANIFEST_FILE) as handle:
        handle.write(json.dumps({"videos": [asdict(e) for e in entries]}, indent=2) + "\n")


def collect_outcomes(out: Path) -> list[VideoOutcome]:
    """Every video's state under ``out``: the recorded manifest's videos in order, then any other finished one."""
    record = out / MANIFEST_FILE
    if not record.is_file():
        raise InrzooError(f"{out} holds no {MANIFEST_FILE}: it is not a fit-many --out folder (run fit-many into it)")
    entries = [ManifestEntry(**v) for v in json.loads(record.read_text())["videos"]]
    listed = {e.name for e in entries}
    others = sorted(p.parent.name for p in out.glob(f"*/{DONE_FILE}") if p.parent.name not in listed)
    outcomes = [_state(out / e.name, e) for e in entries]
    return outcomes + [read_outcome(out / name / DONE_FILE) for name in others]


def _state(video_dir: Path, entry: ManifestEntry) -> VideoOutcome:
    if (video_dir / DONE_FILE).is_file():
        return read_outcome(video_dir / DONE_FILE)
    if video_dir.is_dir():
        lock = lock_video(video_dir, wait=False)
        if lock is None:
            return VideoOutcome(entry.name, entry.video, "running")
        lock.release()
    if (video_dir / FAILED_FILE).is_file():
        return read_outcome(video_dir / FAILED_FILE)
    return VideoOutcome(entry.name, entry.video, "pending")


def write_report(out: Path) -> list[VideoOutcome]:
    """Merge every video's state into ``results.csv``/``results.md``; the outcomes, in table order."""
    lock = lock_video(out / TABLE_LOCK, wait=True)
    assert lock is not None
    with lock:
        outcomes = collect_outcomes(out)
        write_table(outcomes, out)
    return outcomes


def write_table(outcomes: list[VideoOutcome], out: Path) -> None:
    """``results.csv`` and ``results.md`` of ``outcomes``, each replaced in one step."""
    names = [f.name for f in fields(VideoOutcome)]
    # Written aside and renamed: another fit-many on this --out may be reading or writing them too.
    with _replacing(out / "results.csv", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for outcome in outcomes:
            writer.writerow(asdict(outcome))
    lines = [
        "| video | status | PSNR | MS-SSIM | params | bpp 16-bit | seconds | run |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        cells = [
            o.name,
            o.status + (" (resumed)" if o.resumed_from else ""),
            f"{o.psnr:.2f}" if o.psnr is not None else "",
            f"{o.ms_ssim:.4f}" if o.ms_ssim is not None else "",
            f"{o.params:,}" if o.params else "",
            f"{o.bpp_16bit:.4f}" if o.bpp_16bit else "",
            f"{o.seconds:.0f}" if o.seconds else "",
            o.run_dir or (o.error or ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    with _replacing(out / "results.md") as handle:
        handle.write("\n".join(lines) + "\n")


@contextmanager
def _replacing(path: Path, newline: str | None = None) -> Iterator[TextIO]:
    """A file to write that replaces ``path`` in one step when it is complete (never a torn file)."""
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False, newline=newline)
    try:
        with handle:
            yield handle
        os.chmod(handle.name, 0o644)  # a temporary file is private; the table is not
        os.replace(handle.name, path)
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
